/* polcli — `corralctl policy check|eval|replay` as library functions (offline: no supervisor).
 *
 * argv[0] is the subcommand name ("check", "eval", "replay"); the rest are its arguments.
 * Output goes to out, diagnostics to err. Return values are exit codes:
 *   check:  0 clean, 1 warnings only, 2 errors
 *   eval:   0 allow, 1 deny or pending, 2 error (bad policy, request or evidence)
 *   replay: 0 no decision changes, 1 some decisions change, 2 error
 *
 *   check  FILE... [-o json]
 *   eval   FILE... --request JSON|FILE [--evidence JSON|FILE] [--approval granted|rejected|none]
 *          [-o json]
 *   replay FILE... --audit AUDITFILE [-o json]
 *
 * A JSON argument starting with '{' or '[' is inline JSON, anything else a file name.
 */
#ifndef CORRAL_POLICY_POLCLI_H
#define CORRAL_POLICY_POLCLI_H

#include <stdio.h>

#include "policy/policy.h"

int pol_cli(int argc, char *const argv[], FILE *out, FILE *err);	/* dispatches on argv[0] */
int pol_cli_check(int argc, char *const argv[], FILE *out, FILE *err);
int pol_cli_eval(int argc, char *const argv[], FILE *out, FILE *err);
int pol_cli_replay(int argc, char *const argv[], FILE *out, FILE *err);

/* The same with load options (other schema tables, another zoneinfo dir); opts may be NULL. */
int pol_cli_run(const struct pol_load_opts *opts, int argc, char *const argv[], FILE *out,
    FILE *err);

void pol_cli_usage(FILE *f);

#endif
