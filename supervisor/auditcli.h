/* auditcli — what `corralctl audit verify|tail|query` run, on the log files themselves.
 *
 * Each function takes the words after "audit" (argv[0] is "verify", "tail" or "query"), writes
 * its normal output to out and problems to err, and returns the process exit status:
 * 0 ok, 1 verification failed (verify only), 2 usage or I/O error.
 *
 *   verify [--key FILE] [--checkpoint FILE | --no-checkpoint] [--anchor SEQ:HASH] [--partial]
 *          [-q] PATH...
 *       PATH: log files or directories (every *.jsonl in them). Files are put in chain order by
 *       their first record. Checks each line's MAC (with --key), seq continuity, the hash chain
 *       and, against the checkpoint file (default: <dir>/<stem>.checkpoint next to the files)
 *       and any --anchor taken from syslog, that the log was not cut short. The chain must
 *       start at seq 1 unless --partial (older rotated files removed). On failure prints
 *       "FILE:LINE: seq N: <problem>" for the first bad record and exits 1.
 *   tail [-n N] [-f] [-o table|json] PATH...
 *   query [--tenant T] [--principal P] [--tool X] [--op O] [--type T] [--since TIME]
 *         [--until TIME] [-o table|json] PATH...
 *       TIME: RFC 3339 ("2026-01-02T03:04:05Z", "2026-01-02") or an age ("90s", "15m", "2h",
 *       "7d"). -o json prints matching records as they are in the log (JSON Lines).
 */
#ifndef CORRAL_SUPERVISOR_AUDITCLI_H
#define CORRAL_SUPERVISOR_AUDITCLI_H

#include <stdio.h>

int auditcli_verify(int argc, char **argv, FILE *out, FILE *err);
int auditcli_tail(int argc, char **argv, FILE *out, FILE *err);
int auditcli_query(int argc, char **argv, FILE *out, FILE *err);
/* Dispatch on argv[0]; usage on err and 2 for anything else. */
int auditcli_main(int argc, char **argv, FILE *out, FILE *err);

#endif
