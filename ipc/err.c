#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "ipc/err.h"

static const struct {
	const char *name;
	const char *text;
} proj[] = {
	[ERR_PROTO - ERR_BASE] = { "ERR_PROTO", "malformed message" },
	[ERR_TRUNC - ERR_BASE] = { "ERR_TRUNC", "input truncated" },
	[ERR_TRAILING - ERR_BASE] = { "ERR_TRAILING", "trailing bytes after message" },
	[ERR_TYPE - ERR_BASE] = { "ERR_TYPE", "wrong type" },
	[ERR_TOOBIG - ERR_BASE] = { "ERR_TOOBIG", "length or count over limit" },
	[ERR_DEPTH - ERR_BASE] = { "ERR_DEPTH", "nesting too deep" },
	[ERR_UTF8 - ERR_BASE] = { "ERR_UTF8", "invalid UTF-8" },
	[ERR_DUPKEY - ERR_BASE] = { "ERR_DUPKEY", "duplicate key" },
	[ERR_UNKNOWN - ERR_BASE] = { "ERR_UNKNOWN", "unknown field or name" },
	[ERR_MISSING - ERR_BASE] = { "ERR_MISSING", "required field missing" },
	[ERR_VERSION - ERR_BASE] = { "ERR_VERSION", "protocol version mismatch" },
	[ERR_PEER - ERR_BASE] = { "ERR_PEER", "unexpected peer" },
	[ERR_CONFIG - ERR_BASE] = { "ERR_CONFIG", "configuration error" },
	[ERR_SCHEMA - ERR_BASE] = { "ERR_SCHEMA", "arguments do not match schema" },
	[ERR_DENIED - ERR_BASE] = { "ERR_DENIED", "denied by policy" },
	[ERR_PENDING - ERR_BASE] = { "ERR_PENDING", "pending approval" },
	[ERR_RATE - ERR_BASE] = { "ERR_RATE", "rate limit exceeded" },
	[ERR_BUDGET - ERR_BASE] = { "ERR_BUDGET", "budget exhausted" },
	[ERR_TIMEOUT - ERR_BASE] = { "ERR_TIMEOUT", "deadline exceeded" },
	[ERR_HTTP - ERR_BASE] = { "ERR_HTTP", "remote error" },
	[ERR_EXEC - ERR_BASE] = { "ERR_EXEC", "program failed" },
	[ERR_AUDIT - ERR_BASE] = { "ERR_AUDIT", "audit write failed" },
	[ERR_NOTREADY - ERR_BASE] = { "ERR_NOTREADY", "worker not ready" },
	[ERR_WORKER - ERR_BASE] = { "ERR_WORKER", "worker failed" },
	[ERR_SANDBOX - ERR_BASE] = { "ERR_SANDBOX", "sandbox failure" },
	[ERR_CLOSED - ERR_BASE] = { "ERR_CLOSED", "connection closed" },
	[ERR_NOTFOUND - ERR_BASE] = { "ERR_NOTFOUND", "not found" },
	[ERR_EGRESS - ERR_BASE] = { "ERR_EGRESS", "destination not allowed" },
	[ERR_REMOTE_STATE - ERR_BASE] = { "ERR_REMOTE_STATE", "remote state does not allow the operation" },
};

const char *
err_str(int r)
{
	if (r == 0)
		return "success";
	if (r >= ERR_BASE && r < ERR_LAST)
		return proj[r - ERR_BASE].text;
	if (r < 0 && r > -4096)
		return strerror(-r);
	return "unknown error";
}

const char *
err_name(int r)
{
	if (r == 0)
		return "OK";
	if (r >= ERR_BASE && r < ERR_LAST)
		return proj[r - ERR_BASE].name;
	if (r < 0 && r > -4096) {
		const char *n = strerrorname_np(-r);
		return n ? n : "EUNKNOWN";
	}
	return "EUNKNOWN";
}
