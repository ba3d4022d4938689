/* The pre-built agents end to end (test_agents_e2e.c, test_agents_e2e_more.c): the loopback
 * fakes of tests/fakes/ behind a real corrald (tests/integration/harness.h), an agent run
 * through `corralctl -o json run`, and the checks every case makes on what came of it: the
 * run's calls and answer, the audit's decisions, what each fake received and that no token
 * leaked. Each test file keeps its own corral.yaml, fakes table and scenarios; this fixture is
 * handed the file's corrald and fakes through a struct afx.
 *
 * Needs CORRAL_SRCROOT (set by meson test) for the source tree's files. */
#ifndef CORRAL_TESTS_INTEGRATION_AGENTSFX_H
#define CORRAL_TESTS_INTEGRATION_AGENTSFX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "tests/integration/harness.h"
#include "tests/tools/harness.h"

struct afx_fam {
	const char *script;	/* tests/fakes/<script> */
	const char *family;	/* tool family; names the credential c-<family>, <family>.token */
	const char *token;	/* the fake's --token and the endpoint's credential; NULL: none */
	const char *extra;	/* more endpoint fields (YAML flow, ", key: value"), or "" */
};

/* One test file's corrald and fakes: fk[i] runs fams[i] while on[i]. */
struct afx {
	struct hx *h;
	struct fake *fk;
	bool *on;
	const struct afx_fam *fams;
	int n;
};

/* Criterion .fini: corrald and the fakes that run stopped, the temp dir removed. */
void afx_teardown(struct afx *x);
/* CORRAL_SRCROOT/rel, whole (malloc'd); asserts it is readable. */
char *afx_src_read(const char *rel);
/* kubectl found on PATH (static buffer); asserts there is one. */
const char *afx_kubectl_path(void);
/* Start fake i with its --token (if any) and --data data_path (absolute, or NULL). */
void afx_fake_start(struct afx *x, int i, const char *data_path);

/* corralctl -o json run AGENT INPUT in the background, stdout into h->dir/<tag>.json. */
pid_t afx_run_bg(struct hx *h, const char *agent, const char *input, const char *tag);
/* Wait for the run; its exit status must be 0 and its output a finished run (new ref). */
json_t *afx_run_wait(struct hx *h, pid_t pid, const char *tag);
/* Both in a row, tag "run". */
json_t *afx_run(struct hx *h, const char *agent, const char *input);

struct afx_call {
	const char *tool, *op, *outcome;
};
/* The run's calls (tool, op, outcome) are exactly these, in order. */
void afx_check_calls(const json_t *res, const struct afx_call *w, size_t n);
/* The run's answer contains part. */
void afx_check_answer(const json_t *res, const char *part);

/* The audit's records of `type` by agent:NAME (any principal when agent is NULL) about tool
 * calls (the model's excluded), in order (new ref). */
json_t *afx_audit_of(struct hx *h, const char *agent, const char *type);

struct afx_dec {
	const char *tool, *op, *decision;
	const char *rule;		/* among those named; NULL: none named (a default denial) */
	const char *arg, *value;	/* an argument that tells the call apart, as JSON or "(none)" */
};
/* Every decision agent:NAME met, in order (a pending call asked again while it waits counts
 * once): tool, op, outcome, the deciding rule and an argument as the audit keeps it. */
void afx_check_decisions(struct hx *h, const char *agent, const struct afx_dec *w, size_t n);

/* Requests fake i got with this method whose path contains part. */
size_t afx_fake_hits(struct afx *x, int i, const char *method, const char *part);
/* No contract violation in fake i's log, and its token never in the audit or corrald's log. */
void afx_check_clean(struct afx *x, int i);

#endif
