/* corrald's operations face (docs/OPERATIONS.md):
 *   - readiness and state for the service manager (notify.h): READY=1 once the control socket
 *     listens and the workers are spawned, RELOADING=1/READY=1 around a reload (SIGHUP or
 *     corralctl reload), STOPPING=1,
 *     a STATUS line, WATCHDOG=1 when a watchdog is set;
 *   - metrics (metrics.h), fed from the audit records every call and worker event produces
 *     (sup_ops_record, called by sup_audit) and from state read at render time, written as a
 *     node_exporter textfile every metrics.interval;
 *   - one log line per call, and the forwarding of worker log lines: per-worker rate cap,
 *     level clamped to err..debug, credentials redacted, tagged with worker and tenant.
 * Label values and log fields come from the configuration and the schema tables only: a name
 * a caller made up is reported as "unknown".
 */
#ifndef CORRAL_SUPERVISOR_OPS_H
#define CORRAL_SUPERVISOR_OPS_H

#include <stdint.h>

#include <jansson.h>

struct sup;
struct worker;

/* An audit record was appended (rc 0) or refused (rc < 0). */
void sup_ops_record(struct sup *s, const json_t *rec, int rc);
/* From the event loop, at least every 200 ms: textfile, watchdog, STATUS. */
void sup_ops_tick(struct sup *s, int64_t now);

void sup_ops_ready(struct sup *s);
/* sup_reload() between RELOADING=1 and READY=1, counted; returns sup_reload()'s result. */
int sup_ops_reload(struct sup *s);
void sup_ops_stopping(struct sup *s);
/* The loop is over: a last textfile, the registry freed. */
void sup_ops_stopped(struct sup *s);

/* One line a worker wrote on stderr ("stderr") or sent as a LOG message ("log"). */
void sup_ops_worker_log(struct sup *s, struct worker *w, int level, const char *text,
    const char *stream);

#endif
