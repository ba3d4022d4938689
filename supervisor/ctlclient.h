/* The control socket's client side: one request, its progress events, its answer.
 * Used by corralctl and its MCP adapter. */
#ifndef CORRAL_SUPERVISOR_CTLCLIENT_H
#define CORRAL_SUPERVISOR_CTLCLIENT_H

#include <stdbool.h>

/* Send CALL{tool, op, args} to corrald at sock_path and wait for its answer. EVENTs go to
 * on_event (may be NULL). Returns 0 with *result (JSON text, malloc'd), or the error code with
 * *errtext (malloc'd, may be NULL). */
int ctl_request(const char *sock_path, const char *tool, const char *op, const char *args,
    bool dry, void (*on_event)(void *arg, const char *text), void *arg, char **result,
    char **errtext);

#endif
