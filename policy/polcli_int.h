/* Private to policy/polcli.c and policy/polreplay.c. */
#ifndef CORRAL_POLICY_POLCLI_INT_H
#define CORRAL_POLICY_POLCLI_INT_H

#include "policy/polcli.h"

#define CLI_JSON_MAX	(LIM_RESULT_MAX + LIM_ARGS_MAX)	/* --request / --evidence input */
#define CLI_EVIDENCE_MAX	65536u			/* evidence records kept (newest) */

struct cli_args {
	const char *files[LIM_POL_FILES_MAX];
	size_t nfiles;
	const char *request, *evidence, *audit, *approval;
	bool json;
};

struct cli_ev {
	char *tenant, *tool, *op;
	json_t *args, *result;
	int64_t at_ms;
};

struct cli_evidence {
	struct cli_ev *v;
	size_t n, cap, next;		/* a ring once full */
};

int cli_parse(const char *cmd, int argc, char *const argv[], struct cli_args *a, FILE *err);
int cli_load(const struct pol_load_opts *opts, const struct cli_args *a, struct pol_set **ps,
    FILE *err);
/* Inline JSON or a file; NULL with the reason printed. */
json_t *cli_json_arg(const char *what, const char *v, FILE *err);
/* RFC 3339 string or integer Unix ms. */
int cli_json_time(const json_t *v, int64_t *ms);
/* Fill rq from {"tenant", "principal", "tool", "op", "args", "time", "dry_run"}. rq's strings
 * point into j; *args is a new reference (validated against the schema, defaults filled, when
 * validate and the op is known). Returns 0 or -EINVAL with the reason in why. */
int cli_request(const struct pol_set *ps, const json_t *j, bool validate, struct pol_request *rq,
    json_t **args, char *why, size_t whylen);

int cli_ev_add(struct cli_evidence *ev, const char *tenant, const char *tool, const char *op,
    const json_t *args, const json_t *result, int64_t at_ms);
int cli_ev_lookup(void *arg, const struct pol_evidence_query *q, int64_t *found_at);
void cli_ev_free(struct cli_evidence *ev);

int cli_replay(const struct pol_load_opts *opts, int argc, char *const argv[], FILE *out,
    FILE *err);

#endif
