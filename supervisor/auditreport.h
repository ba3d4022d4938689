/* corralctl audit report: an audit log as a page a person can open.
 *
 *   audit report [--html | --svg] [-o FILE] [--tenant T] [--principal P] PATH...
 *
 * PATH: log files or directories (every *.jsonl in them); records are put in seq order.
 * --html (default): one self-contained page (inline CSS and SVG, no script, nothing fetched):
 * a header with the counts, an SVG timeline with one row per principal (tenant/principal) —
 * each call a mark colored by its decision (allow, deny, pending), ringed when its outcome
 * was an error (timeout, worker died, remote error), agent runs and worker deaths as ticks on
 * the agent's row — and a table of every call: time, principal, tool.op, decision, rules,
 * reason, outcome, duration. --svg: the timeline alone, as a standalone SVG document.
 * Every text from the log is escaped. At most LIM_REPORT_CALLS calls are drawn and listed
 * (the newest); the header says when some were left out.
 *
 * argv[0] is "report". Returns the exit status: 0, or 2 (usage, unreadable input).
 */
#ifndef CORRAL_SUPERVISOR_AUDITREPORT_H
#define CORRAL_SUPERVISOR_AUDITREPORT_H

#include <stdio.h>

int auditreport_main(int argc, char **argv, FILE *out, FILE *err);

#endif
