/* agents/aofmap.c against the real schema registry: the loader keeps corral's families and ops
 * by name (so it builds without the schemas); every family the registry has must list exactly
 * the same operations, and every AOF mapping must point at operations that exist. */
#include <string.h>

#include <criterion/criterion.h>

#include "agents/aofmap.h"
#include "tools/tool.h"

Test(aofmap, families_match_the_registry)
{
	const struct agent_fam *fams;
	size_t nf, checked = 0;

	fams = agent_fams(&nf);
	for (size_t i = 0; i < nf; i++) {
		const struct tool_family *tf = tool_family_find(fams[i].name);
		size_t nreg = 0;

		if (tf == NULL) {
			cr_log_warn("family '%s' is not in the registry yet", fams[i].name);
			continue;
		}
		checked++;
		for (const struct tool_op *op = tf->ops; op->name != NULL; op++) {
			nreg++;
			cr_expect(agent_fam_op_index(&fams[i], op->name) >= 0,
			    "registry has %s.%s, agents/aofmap.c does not", fams[i].name, op->name);
		}
		for (size_t k = 0; fams[i].ops[k] != NULL; k++)
			cr_expect_not_null(tool_op_find(tf, fams[i].ops[k]),
			    "agents/aofmap.c has %s.%s, the registry does not", fams[i].name,
			    fams[i].ops[k]);
		cr_expect_eq(nreg, agent_fam_nops(&fams[i]), "%s", fams[i].name);
	}
	cr_expect_geq(checked, 1, "not even echo is registered");
}

Test(aofmap, aof_names_point_at_real_ops)
{
	const struct agent_aof *a;
	size_t n;

	a = agent_aofs(&n);
	cr_expect_geq(n, 30);
	for (size_t i = 0; i < n; i++) {
		const struct agent_fam *f = agent_fam_find(a[i].family);

		cr_assert_not_null(f, "%s -> unknown family %s", a[i].name, a[i].family);
		cr_expect_null(agent_fam_find(a[i].name), "%s is also a family name", a[i].name);
		cr_expect_not_null(a[i].ops[0], "%s maps to no op", a[i].name);
		for (size_t k = 0; a[i].ops[k] != NULL; k++)
			cr_expect_geq(agent_fam_op_index(f, a[i].ops[k]), 0, "%s -> %s.%s", a[i].name,
			    a[i].family, a[i].ops[k]);
		for (size_t j = 0; j < i; j++)
			cr_expect_neq(strcmp(a[i].name, a[j].name), 0, "%s twice", a[i].name);
	}
}
