/* libFuzzer target: the response shapers of every tool family with a remote side (argocd,
 * github_actions, gitlab_ci, jenkins, prometheus over HTTP; flux over its exec runner). The
 * input's first line names family.op (and the HTTP or exit status); the rest is what the
 * remote side answers, to every request the op's run hook makes. The hook gets schema-valid
 * arguments and a call context holding a credential; see fuzz_io.h for what is checked.
 * The model family has its own target (fuzz_llm); echo has no remote side. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tests/fuzz/fuzz_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every op of a shaped family must have arguments the schema accepts, or the fuzzer would
 * silently skip it: checked once. */
static void
coverage_check(void)
{
	size_t nf, missing = 0;
	const struct tool_family *const *fams = tool_families(&nf);

	for (size_t i = 0; i < nf; i++) {
		if (fams[i]->kind == TOOL_KIND_MODEL || fams[i]->kind == TOOL_KIND_AGENT ||
		    strcmp(fams[i]->name, "echo") == 0)
			continue;
		for (const struct tool_op *op = fams[i]->ops; op->name; op++)
			if (op->run && fz_args_for(op) == NULL) {
				fprintf(stderr, "fuzz_shapers: no schema-valid arguments for %s.%s\n",
				    fams[i]->name, op->name);
				missing++;
			}
	}
	FZ_CHECK(missing == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int checked;
	const struct tool_family *f;
	const struct tool_op *op;
	const char *body;
	size_t blen;
	long status, variant;
	json_t *args;

	fz_init();
	if (!checked++)
		coverage_check();
	if (fz_split(data, size, &f, &op, &status, &variant, &body, &blen) < 0 ||
	    f->kind == TOOL_KIND_MODEL || strcmp(f->name, "echo") == 0 ||
	    (args = fz_args_for(op)) == NULL)
		return 0;
	fz_run(f, op, args, body, blen, status, (variant & 1) && (op->flags & TOOL_F_DRY_RUN),
	    data, size);
	return 0;
}
