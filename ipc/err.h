/* corral error codes.
 *
 * Every function that can fail returns int: 0 on success, -errno for a system failure,
 * or one of the project codes below (all below -4096, so they never collide with -errno).
 * err_str() names any of them. nng's positive codes are converted inside ipc/ (ipc_err_nng).
 */
#ifndef CORRAL_IPC_ERR_H
#define CORRAL_IPC_ERR_H

enum {
	ERR_BASE = -5000,
	ERR_PROTO = ERR_BASE,	/* malformed message or frame */
	ERR_TRUNC,		/* input ends inside a value */
	ERR_TRAILING,		/* bytes left after the value */
	ERR_TYPE,		/* wrong msgpack or JSON type */
	ERR_TOOBIG,		/* a declared length or count over its cap */
	ERR_DEPTH,		/* nesting over the cap */
	ERR_UTF8,		/* text is not valid UTF-8 */
	ERR_DUPKEY,		/* a map key appears twice */
	ERR_UNKNOWN,		/* unknown field, message type, tool or op */
	ERR_MISSING,		/* a required field is absent */
	ERR_VERSION,		/* protocol version mismatch */
	ERR_PEER,		/* peer is not who we expect */
	ERR_CONFIG,		/* bad configuration */
	ERR_SCHEMA,		/* arguments do not match the operation's schema */
	ERR_DENIED,		/* refused by policy */
	ERR_PENDING,		/* waiting for an approval */
	ERR_RATE,		/* rate limit */
	ERR_BUDGET,		/* token budget exhausted */
	ERR_TIMEOUT,		/* deadline passed */
	ERR_HTTP,		/* remote answered with an error status */
	ERR_EXEC,		/* a child program failed */
	ERR_AUDIT,		/* audit record could not be written */
	ERR_NOTREADY,		/* worker not ready / not verified */
	ERR_WORKER,		/* worker died or violated the protocol */
	ERR_SANDBOX,		/* confinement could not be applied or verified */
	ERR_CLOSED,		/* connection closed */
	ERR_NOTFOUND,		/* named object does not exist */
	ERR_EGRESS,		/* destination not allowed */
	ERR_REMOTE_STATE,		/* the remote object's state does not allow the operation */
	ERR_LAST
};

/* A static, human-readable string for r (0, -errno or ERR_*). Never NULL. */
const char *err_str(int r);

/* The symbolic name ("ERR_DENIED", "ENOENT", "OK") for machine output. Never NULL. */
const char *err_name(int r);

#endif
