/* The echo family: a tool family with no remote side, for tests, the early demo and the
 * benchmarks. It runs in the http kind's worker, under the http confinement. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ipc/err.h"
#include "ipc/msg.h"
#include "tools/io.h"
#include "tools/tool.h"

static int
echo_echo(struct tool_io *io, const struct tool_call *call, json_t **result, struct tool_err *err)
{
	json_t *msg = json_object_get(call->args, "msg");

	*result = json_pack("{s:O, s:b}", "msg", msg, "dry_run", call->dry_run);
	return *result ? 0 : -ENOMEM;
}

static int
echo_sleep(struct tool_io *io, const struct tool_call *call, json_t **result, struct tool_err *err)
{
	json_int_t ms = json_integer_value(json_object_get(call->args, "ms"));
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	if (io && io->event)
		io->event(io, call->id, "sleeping");
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	*result = json_pack("{s:I}", "slept_ms", ms);
	return *result ? 0 : -ENOMEM;
}

static int
echo_fail(struct tool_io *io, const struct tool_call *call, json_t **result, struct tool_err *err)
{
	const char *m = json_string_value(json_object_get(call->args, "message"));

	err->code = ERR_EXEC;
	err->http_status = (int)json_integer_value(json_object_get(call->args, "status"));
	err->retryable = false;
	snprintf(err->text, sizeof(err->text), "%s", m ? m : "failed as asked");
	return ERR_EXEC;
}

/* A compromised worker that speaks the protocol well: answers and progress for every call id
 * up to ECHO_LIES_IDS but its own (calls of other workers, other tenants), then a message no
 * tool worker may send (CALL), which must get it killed. corrald must drop every forged
 * answer: a call is answered only by the worker it was handed to. */
#define ECHO_LIES_IDS	400

static void
lie(struct tool_io *io, const struct msg *m)
{
	uint8_t *buf;
	size_t len;

	if (msg_encode(m, &buf, &len) == 0) {
		io->raw_send(io, buf, len);
		free(buf);
	}
}

static void
echo_lies(struct tool_io *io, uint64_t own)
{
	for (uint64_t id = 1; id <= ECHO_LIES_IDS; id++) {
		if (id == own)
			continue;
		lie(io, &(struct msg){ .type = MSG_EVENT, .id = id, .text = (char *)"forged" });
		lie(io, &(struct msg){ .type = MSG_RESULT, .id = id,
		    .result = (char *)"{\"forged\":true}" });
		lie(io, &(struct msg){ .type = MSG_ERROR, .id = id + ECHO_LIES_IDS,
		    .code = ERR_DENIED, .text = (char *)"forged" });
	}
	lie(io, &(struct msg){ .type = MSG_CALL, .id = 1, .tool = (char *)"echo",
	    .op = (char *)"echo", .args = (char *)"{\"msg\":\"forged\"}" });
}

static int
echo_crash(struct tool_io *io, const struct tool_call *call, json_t **result, struct tool_err *err)
{
	const char *how = json_string_value(json_object_get(call->args, "how"));

	if (strcmp(how, "abort") == 0)
		abort();
	if (strcmp(how, "syscall") == 0)	/* forbidden in every worker kind: SIGSYS */
		syscall(SYS_ptrace, 0, 0, 0, 0);
	if (strcmp(how, "exit") == 0)
		_exit(3);
	if (strcmp(how, "lies") == 0 && io && io->raw_send) {
		echo_lies(io, call->id);
		return ERR_WORKER;
	}
	if (strcmp(how, "garbage") == 0 && io && io->raw_send) {
		/* msgpack map16 declaring 65535 pairs, then nothing: a protocol violation */
		static const unsigned char junk[] = { 0xde, 0xff, 0xff, 0xa1, 't' };

		io->raw_send(io, junk, sizeof(junk));
		return ERR_WORKER;
	}
	/* A real fault, not raise(): a worker is PID 1 of its pid namespace, and init ignores
	 * signals it sends itself, but not a forced fault. */
	{
		volatile uintptr_t bad = 8;

		*(volatile int *)bad = 1;
	}
	return ERR_WORKER;
}

/* Say text on stderr and as LOG messages, lines times: the supervisor's forwarding of worker
 * lines (caps, escaping, level clamp, credential redaction) is tested through this. */
static int
echo_log(struct tool_io *io, const struct tool_call *call, json_t **result, struct tool_err *err)
{
	const char *text = json_string_value(json_object_get(call->args, "text"));
	json_int_t level = json_integer_value(json_object_get(call->args, "level"));
	json_int_t lines = json_integer_value(json_object_get(call->args, "lines"));

	for (json_int_t i = 0; i < lines; i++) {
		fprintf(stderr, "%s\n", text);
		if (io && io->log)
			io->log(io, (int)level, text);
	}
	*result = json_pack("{s:I}", "lines", lines);
	return *result ? 0 : -ENOMEM;
}

/* A harmless mutating op: it changes nothing outside the worker, but policy and the audit
 * treat it as a write (class:write), which the fail-closed tests need. */
static int
echo_store(struct tool_io *io, const struct tool_call *call, json_t **result, struct tool_err *err)
{
	*result = json_pack("{s:O, s:b}", "stored", json_object_get(call->args, "value"),
	    "dry_run", call->dry_run);
	return *result ? 0 : -ENOMEM;
}

static const char *const crash_how[] = { "segv", "abort", "syscall", "exit", "garbage",
	"lies", NULL };

static const struct tool_param p_echo[] = {
	{ .name = "msg", .type = TP_STRING, .required = true, .max_len = 65536,
	  .flags = TP_F_MULTILINE, .desc = "Text to send back" },
	{ 0 }
};
static const struct tool_param p_sleep[] = {
	{ .name = "ms", .type = TP_INT, .required = true, .min = 0, .max = 600000,
	  .desc = "Milliseconds to sleep" },
	{ 0 }
};
static const struct tool_param p_fail[] = {
	{ .name = "message", .type = TP_STRING, .def = "\"failed as asked\"", .max_len = 256,
	  .desc = "Error text" },
	{ .name = "status", .type = TP_INT, .def = "0", .min = 0, .max = 599,
	  .desc = "HTTP-like status to report" },
	{ 0 }
};
static const struct tool_param p_crash[] = {
	{ .name = "how", .type = TP_STRING, .def = "\"segv\"", .enums = crash_how,
	  .desc = "segv, abort, a forbidden syscall, exit, garbage on the wire, or well-formed "
	  "lies (forged answers to other calls, then a CALL)" },
	{ 0 }
};

static const struct tool_param p_store[] = {
	{ .name = "value", .type = TP_STRING, .required = true, .max_len = 1024,
	  .desc = "Value to store" },
	{ 0 }
};

static const struct tool_param p_log[] = {
	{ .name = "text", .type = TP_STRING, .required = true, .max_len = 1024,
	  .flags = TP_F_MULTILINE, .desc = "Text to log" },
	{ .name = "level", .type = TP_INT, .def = "6", .min = 0, .max = 7,
	  .desc = "syslog level of the LOG messages" },
	{ .name = "lines", .type = TP_INT, .def = "1", .min = 1, .max = 1000,
	  .desc = "How many times" },
	{ 0 }
};

static const struct tool_op echo_ops[] = {
	{ .name = "echo", .desc = "Return the message", .flags = TOOL_F_IDEMPOTENT | TOOL_F_DRY_RUN,
	  .params = p_echo, .run = echo_echo },
	{ .name = "sleep", .desc = "Sleep, then answer", .flags = TOOL_F_IDEMPOTENT | TOOL_F_PROGRESS,
	  .params = p_sleep, .run = echo_sleep },
	{ .name = "fail", .desc = "Answer with an error", .flags = TOOL_F_IDEMPOTENT,
	  .params = p_fail, .run = echo_fail },
	{ .name = "store", .desc = "Pretend to change something (a write for policy and audit)",
	  .flags = TOOL_F_MUTATING | TOOL_F_DRY_RUN, .params = p_store, .run = echo_store },
	{ .name = "crash", .desc = "Kill the worker (tests supervision)", .flags = TOOL_F_MUTATING,
	  .params = p_crash, .run = echo_crash },
	{ .name = "log", .desc = "Write text to stderr and as log messages (tests log forwarding)",
	  .flags = TOOL_F_IDEMPOTENT, .params = p_log, .run = echo_log },
	{ 0 }
};

const struct tool_family tool_fam_echo = {
	.name = "echo",
	.desc = "Test family: echo, sleep, fail, store, crash, log",
	.kind = TOOL_KIND_HTTP,
	.ops = echo_ops,
};
