/* The service manager's readiness protocol (sd_notify(3)), written directly: no libsystemd.
 *
 * A notification is one datagram of "KEY=VALUE\n" lines sent to the AF_UNIX socket named by
 * $NOTIFY_SOCKET: a filesystem path ("/run/systemd/notify") or, with a leading '@', an abstract
 * name. Without $NOTIFY_SOCKET (not started by systemd with Type=notify) every call is a no-op
 * that returns 0, so callers never need to know how they were started. systemd reads the
 * sender's pid from the socket's credentials, so the datagram must come from corrald itself
 * (NotifyAccess=main).
 *
 * Values are sanitised: a STATUS text loses its newlines and control characters and is cut to
 * LIM_NOTIFY_STATUS_MAX. Returns 0, -EINVAL (malformed $NOTIFY_SOCKET), -EAFNOSUPPORT (a socket
 * kind we do not speak, e.g. vsock:), -ENAMETOOLONG or the -errno of socket/sendmsg.
 */
#ifndef CORRAL_SUPERVISOR_NOTIFY_H
#define CORRAL_SUPERVISOR_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* Send the lines in state as they are ("READY=1\nSTATUS=up"); a trailing newline is optional. */
int notify_send(const char *state);
/* READY=1, MAINPID and STATUS (status may be NULL). */
int notify_ready(const char *status);
/* RELOADING=1 with MONOTONIC_USEC (the timestamp systemd >= 253 wants) and STATUS. A READY=1
 * must follow when the reload is over, whether it worked or not. */
int notify_reloading(const char *status);
/* STOPPING=1 and STATUS. */
int notify_stopping(const char *status);
/* STATUS only. */
int notify_status(const char *status);

/* Watchdog: the interval systemd expects a WATCHDOG=1 in (half of $WATCHDOG_USEC, in ms), 0
 * when no watchdog is set for this process ($WATCHDOG_PID names another one). */
int64_t notify_watchdog_ms(void);
int notify_watchdog(void);

/* Is $NOTIFY_SOCKET set (we were started with Type=notify)? */
bool notify_enabled(void);

#endif
