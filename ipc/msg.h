/* corral wire protocol: every message between corrald and its workers and agents.
 *
 * A message is one nng frame holding one msgpack map. Keys are short strings; the key "t" (uint)
 * names the type and every other key must be one the type permits (msg_fields in msg.c). Unknown
 * keys, duplicate keys, missing required keys, wrong types, invalid UTF-8 and trailing bytes are
 * protocol violations (ERR_PROTO family): the supervisor kills a worker that sends one.
 *
 * JSON payloads (args, result, ctx, detail, agent) travel as msgpack str holding JSON text; they
 * are parsed with ipc_json_parse() by the side that needs them, never by the codec.
 *
 * Version: HELLO carries CORRAL_PROTO_VERSION (ipc/limits.h); the supervisor refuses any other.
 *
 * Directions and fields (R = required, o = optional):
 *   HELLO    w->s   v R, kind R, family o                   first message of every worker/agent
 *   WELCOME  s->w   v R, name R, tenant R, config o(JSON)   after the supervisor verified the peer
 *   CALL     a->s   id R, tool R, op R, args R(JSON), dry o  an agent (or corralctl) asks for a call
 *   WORK     s->w   id R, tool R, op R, args R(JSON), ctx o(JSON, holds the secret), deadline R,
 *                   dry o                                   a decided call handed to a tool worker
 *   RESULT   w->s, s->a   id R, result R(JSON)
 *   ERROR    both   id R, code R(int, ERR_* or -errno), text R, detail o(JSON)
 *   EVENT    w->s, s->a   id R, text R                      progress of a running call/run
 *   LOG      w->s   level R(0..7 syslog), text R
 *   RUN      s->a   id R, input R, agent R(JSON)            start an agent run
 *   DONE     a->s   id R, result R(JSON)                    an agent run finished
 *   CANCEL   s->w   id R                                    abandon call/run id
 *   SHUTDOWN s->w   (none)                                  finish in-flight work and exit 0
 *   PING/PONG both  id R                                    liveness
 *   CONNECT  w->s   id R, text R (endpoint name)            egress: ask for a connected socket;
 *                                                           the fd arrives on the broker channel
 */
#ifndef CORRAL_IPC_MSG_H
#define CORRAL_IPC_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum msg_type {
	MSG_HELLO = 1,
	MSG_WELCOME,
	MSG_CALL,
	MSG_WORK,
	MSG_RESULT,
	MSG_ERROR,
	MSG_EVENT,
	MSG_LOG,
	MSG_RUN,
	MSG_DONE,
	MSG_CANCEL,
	MSG_SHUTDOWN,
	MSG_PING,
	MSG_PONG,
	MSG_CONNECT,
	MSG_TYPE_MAX		/* not a type */
};

/* One decoded message. Which fields are meaningful depends on type (table above); the others
 * are zero / NULL. Strings are owned, NUL-terminated, valid UTF-8 with no embedded NUL.
 * msg_clear() frees them (and wipes ctx, which may hold a credential). */
struct msg {
	enum msg_type type;
	uint64_t id;
	uint32_t version;	/* HELLO, WELCOME */
	uint32_t deadline_ms;	/* WORK */
	int32_t code;		/* ERROR */
	uint8_t level;		/* LOG */
	bool dry_run;		/* CALL, WORK */
	char *kind;		/* HELLO: "http", "exec", "model", "agent" */
	char *family;		/* HELLO */
	char *name;		/* WELCOME: worker name */
	char *tenant;		/* WELCOME */
	char *tool, *op;	/* CALL, WORK */
	char *args;		/* CALL, WORK: JSON object text */
	char *ctx;		/* WORK: JSON object text (endpoint, credential) */
	char *result;		/* RESULT, DONE: JSON text */
	char *text;		/* ERROR, EVENT, LOG, CONNECT */
	char *detail;		/* ERROR: JSON text */
	char *input;		/* RUN */
	char *agent;		/* RUN: JSON text (resolved agent definition) */
	char *config;		/* WELCOME: JSON text */
};

const char *msg_type_name(enum msg_type t);	/* "HELLO", ...; "?" for others */

/* Encode m into a freshly malloc'd buffer (*out, *outlen). Fails with ERR_MISSING when a required
 * field is NULL, ERR_TOOBIG when the frame would exceed LIM_MSG_MAX or a string its cap,
 * ERR_UTF8 for a string that is not UTF-8, ERR_TYPE for a LOG level over 7, ERR_UNKNOWN for a
 * bad type. Only the type's fields are looked at; optional strings are sent when non-NULL and
 * dry when true. A WORK frame holds ctx: wipe the buffer (explicit_bzero) before free().
 *
 * String caps (bytes): kind, family, name, tenant, tool, op and CONNECT's text LIM_NAME_MAX;
 * args and ctx LIM_ARGS_MAX; result LIM_RESULT_MAX; ERROR's text LIM_ERRMSG_MAX; LOG's text
 * LIM_LOG_LINE_MAX; the rest LIM_STR_MAX. Senders truncate texts themselves. */
int msg_encode(const struct msg *m, uint8_t **out, size_t *outlen);

/* Strictly decode one frame. On success *m owns its strings; on failure *m is left cleared.
 * Never allocates more than ~2x len, whatever the input declares (in fact: the string bytes
 * plus one NUL each, and only after the whole frame was validated). Errors: ERR_TRUNC,
 * ERR_TRAILING, ERR_TYPE (also an int out of its field's range), ERR_TOOBIG, ERR_DEPTH, ERR_UTF8
 * (also an embedded NUL), ERR_DUPKEY, ERR_UNKNOWN (key, or key not permitted for the type, or
 * type), ERR_MISSING (also no "t"), ERR_PROTO (byte 0xc1), -ENOMEM. */
int msg_decode(const uint8_t *buf, size_t len, struct msg *m);

/* Free strings, explicit_bzero ctx, zero the struct. NULL-safe. */
void msg_clear(struct msg *m);

#endif
