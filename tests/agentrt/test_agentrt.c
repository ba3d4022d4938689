/* The real corral-agent binary (seccomp and Landlock on, no jail) against a scripted fake
 * supervisor: the test plays corrald, answers the agent's model.chat CALLs with scripted
 * model turns and its tool CALLs with canned results, denials, schema errors and pending
 * approvals, and asserts the exact sequence of messages the agent sends. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "tests/agentrt/artfx.h"
#include "tests/model/fsup.h"
#include "tests/model/mfx.h"
#include "tools/http.h"
#include "tools/tool.h"

static struct fsup_peer A;
static json_t *events;		/* EVENT texts of the run, in order */
static char state[160];

static int64_t
art_test_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
spawn(const char *dir)
{
	artfx_spawn(&A, dir);
	json_decref(events);
	events = json_array();
}

static void
setup(void)
{
	artfx_state_make(state, sizeof(state), "corral-agentrt");
	spawn(state);
}

static void
teardown(void)
{
	fsup_stop(&A);
	json_decref(events);
	events = NULL;
	artfx_state_remove(state);
}

TestSuite(agentrt, .init = setup, .fini = teardown, .timeout = 30);

/* ---------------------------------------------------------------- playing corrald */

#define AGENT_BASE "\"name\":\"watcher\",\"description\":null,\"system_prompt\":\"You watch.\"," \
	"\"model\":{\"provider\":\"google\",\"name\":\"gemini-2.5-flash\",\"temperature\":0.2," \
	"\"max_tokens\":800},\"memory\":{\"provider\":\"in_memory\"},\"config\":{}," \
	"\"labels\":{},\"missing_tools\":[],\"gateway_model\":\"default\"," \
	"\"tools\":[{\"family\":\"echo\",\"ops\":[\"echo\",\"fail\"],\"from\":[\"echo\"]}," \
	"{\"family\":\"argocd\",\"ops\":[\"get_application\"],\"from\":[\"argocd\"]}]"

static void
send_run(uint64_t id, const char *input, const char *agent_extra)
{
	struct msg m = { .type = MSG_RUN, .id = id, .input = (char *)input };
	char *agent;

	cr_assert(asprintf(&agent, "{" AGENT_BASE "%s%s}", agent_extra ? "," : "",
	    agent_extra ? agent_extra : "") > 0);
	m.agent = agent;
	cr_assert_eq(fsup_send(&A, &m), 0);
	free(agent);
}

/* Expect a CALL of tool.op; returns its id, *args its parsed arguments. */
static uint64_t
expect_call(const char *tool, const char *op, json_t **args)
{
	struct msg m;
	uint64_t id;

	artfx_next(&A, &m, 10000, events);
	cr_assert_eq(m.type, MSG_CALL, "expected CALL %s.%s, got %s (%s)", tool, op,
	    msg_type_name(m.type), m.text ? m.text : "");
	cr_assert_str_eq(m.tool, tool);
	cr_assert_str_eq(m.op, op);
	if (args)
		*args = mfx_json(m.args);
	id = m.id;
	msg_clear(&m);
	return id;
}

static void
answer(uint64_t id, json_t *result)
{
	struct msg m = { .type = MSG_RESULT, .id = id };

	m.result = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
	cr_assert_eq(fsup_send(&A, &m), 0);
	free(m.result);
	json_decref(result);
}

static void
answer_err(uint64_t id, int code, const char *text, const char *detail)
{
	struct msg m = { .type = MSG_ERROR, .id = id, .code = code, .text = (char *)text,
		.detail = (char *)detail };

	cr_assert_eq(fsup_send(&A, &m), 0);
}

/* A gateway result: content (NULL: null) and calls (JSON text, NULL: none). */
static json_t *
turn(const char *content, const char *calls, int in, int out)
{
	return json_pack("{s:{s:s, s:s?, s:o}, s:s, s:{s:i, s:i}, s:s, s:s}", "message", "role",
	    "assistant", "content", content, "tool_calls", calls ? mfx_json(calls) : json_array(),
	    "finish", calls ? "tool_calls" : "stop", "usage", "input_tokens", in,
	    "output_tokens", out, "provider", "script", "model", "m1");
}

/* Expect DONE for run; returns the parsed result. */
static json_t *
expect_done(uint64_t run)
{
	struct msg m;
	json_t *r;

	artfx_next(&A, &m, 10000, events);
	cr_assert_eq(m.type, MSG_DONE, "expected DONE, got %s: %d %s", msg_type_name(m.type),
	    m.code, m.text ? m.text : "");
	cr_assert_eq(m.id, run);
	r = mfx_json(m.result);
	msg_clear(&m);
	return r;
}

static const char *
str_at(const json_t *j, const char *path)
{
	return json_string_value(http_json_get(j, path));
}

static bool
event_seen(const char *text)
{
	size_t i;
	json_t *e;

	json_array_foreach(events, i, e)
		if (strcmp(json_string_value(e), text) == 0)
			return true;
	return false;
}

/* ---------------------------------------------------------------- the model loop */

/* Two parallel calls (one denied, one answered, out of order), then an answer. */
Test(agentrt, model_loop_parallel_calls)
{
	json_t *args, *msgs, *tools, *done, *want;
	uint64_t m1, c1, c2, m2;
	const struct tool_family *echo = tool_family_find("echo");

	send_run(41, "Is guestbook healthy?", NULL);
	m1 = expect_call("model", "chat", &args);
	msgs = json_object_get(args, "messages");
	want = mfx_json("[{\"role\":\"system\",\"content\":\"You watch.\"},"
	    "{\"role\":\"user\",\"content\":\"Is guestbook healthy?\"}]");
	cr_assert(json_equal(msgs, want), "first messages: %s", mfx_str(msgs));
	json_decref(want);
	tools = json_object_get(args, "tools");
	cr_assert_eq(json_array_size(tools), 3, "%s", mfx_str(tools));
	cr_assert_str_eq(str_at(json_array_get(tools, 0), "name"), "echo__echo");
	cr_assert_str_eq(str_at(json_array_get(tools, 1), "name"), "echo__fail");
	cr_assert_str_eq(str_at(json_array_get(tools, 2), "name"), "argocd__get_application");
	want = tool_op_json_schema(tool_op_find(echo, "echo"));
	cr_assert(json_equal(json_object_get(json_array_get(tools, 0), "parameters"), want));
	json_decref(want);
	cr_assert_eq(json_integer_value(json_object_get(args, "max_tokens")), 800);
	cr_assert_float_eq(json_number_value(json_object_get(args, "temperature")), 0.2, 1e-9);
	json_decref(args);

	answer(m1, turn("Looking.", "[{\"id\":\"k1\",\"name\":\"argocd__get_application\","
	    "\"arguments\":{\"app_name\":\"guestbook\"}},{\"id\":\"k2\",\"name\":\"echo__echo\","
	    "\"arguments\":{\"msg\":\"hi\"}}]", 100, 20));
	/* both calls go out before either is answered */
	c1 = expect_call("argocd", "get_application", &args);
	cr_assert_str_eq(str_at(args, "app_name"), "guestbook");
	json_decref(args);
	c2 = expect_call("echo", "echo", &args);
	cr_assert_str_eq(str_at(args, "msg"), "hi");
	json_decref(args);
	answer(c2, mfx_json("{\"msg\":\"hi\",\"dry_run\":false}"));
	answer_err(c1, ERR_DENIED, "rule deny-argocd: argocd is off limits", NULL);

	m2 = expect_call("model", "chat", &args);
	msgs = json_object_get(args, "messages");
	cr_assert_eq(json_array_size(msgs), 5, "%s", mfx_str(msgs));
	want = mfx_json("[{\"role\":\"assistant\",\"content\":\"Looking.\","
	    "\"tool_calls\":[{\"id\":\"k1\","
	    "\"name\":\"argocd__get_application\",\"arguments\":{\"app_name\":\"guestbook\"}},"
	    "{\"id\":\"k2\",\"name\":\"echo__echo\",\"arguments\":{\"msg\":\"hi\"}}]},"
	    "{\"role\":\"tool\",\"tool_call_id\":\"k1\",\"name\":\"argocd__get_application\","
	    "\"content\":\"DENIED by policy: rule deny-argocd: argocd is off limits\","
	    "\"is_error\":true},{\"role\":\"tool\",\"tool_call_id\":\"k2\",\"name\":\"echo__echo\","
	    "\"content\":\"{\\\"msg\\\":\\\"hi\\\",\\\"dry_run\\\":false}\"}]");
	for (size_t i = 0; i < 3; i++)
		cr_assert(json_equal(json_array_get(msgs, 2 + i), json_array_get(want, i)),
		    "message %zu: %s", 2 + i, mfx_str(json_array_get(msgs, 2 + i)));
	json_decref(want);
	json_decref(args);
	answer(m2, turn("guestbook: could not look (denied).", NULL, 150, 9));

	done = expect_done(41);
	cr_assert_str_eq(str_at(done, "answer"), "guestbook: could not look (denied).");
	cr_assert_str_eq(str_at(done, "stopped"), "answer");
	cr_assert_eq(json_integer_value(json_object_get(done, "iterations")), 2);
	cr_assert_eq(json_integer_value(http_json_get(done, "usage.input_tokens")), 250);
	cr_assert_eq(json_integer_value(http_json_get(done, "usage.output_tokens")), 29);
	cr_assert_str_eq(str_at(json_array_get(json_object_get(done, "calls"), 0), "outcome"),
	    "denied");
	cr_assert_str_eq(str_at(json_array_get(json_object_get(done, "calls"), 1), "outcome"),
	    "ok");
	cr_assert_str_eq(str_at(done, "model"), "default");
	cr_assert(event_seen("model turn 1 -> 2 tool calls"), "%s", mfx_str(events));
	cr_assert(event_seen("tool argocd.get_application -> DENIED: rule deny-argocd: argocd is "
	    "off limits"), "%s", mfx_str(events));
	cr_assert(event_seen("tool echo.echo -> ok"), "%s", mfx_str(events));
	cr_assert(event_seen("model turn 2 -> 0 tool calls"), "%s", mfx_str(events));
	cr_assert_eq(fsup_seccomp(A.pid), 2, "the agent runs under its seccomp filter");
	json_decref(done);
}

/* Calls the agent refuses itself, and a schema error from the supervisor: all reach the
 * model as tool results; only the well-formed call crosses the supervisor. */
Test(agentrt, refusals_become_tool_results)
{
	json_t *args, *msgs, *done;
	uint64_t m1, c1, m2;
	struct msg m;

	send_run(42, "go", NULL);
	m1 = expect_call("model", "chat", NULL);
	answer(m1, turn(NULL, "[{\"id\":\"a\",\"name\":\"echo__echo\",\"arguments\":{}},"
	    "{\"id\":\"b\",\"name\":\"bogus\",\"arguments\":{}},"
	    "{\"id\":\"c\",\"name\":\"model__chat\",\"arguments\":{}},"
	    "{\"id\":\"d\",\"name\":\"echo__fail\",\"arguments\":{},\"invalid_arguments\":\"{x\"}]",
	    1, 1));
	c1 = expect_call("echo", "echo", NULL);
	answer_err(c1, ERR_SCHEMA, "msg: required argument missing", NULL);
	m2 = expect_call("model", "chat", &args);
	msgs = json_object_get(args, "messages");
	cr_assert_str_eq(str_at(json_array_get(msgs, 3), "content"),
	    "INVALID ARGUMENTS: msg: required argument missing");
	cr_assert_str_eq(str_at(json_array_get(msgs, 4), "content"),
	    "UNKNOWN TOOL: 'bogus' is not one of this agent's tools (they are named FAMILY__OP)");
	cr_assert(strncmp(str_at(json_array_get(msgs, 5), "content"), "UNKNOWN TOOL: "
	    "'model__chat'", 27) == 0, "%s", mfx_str(json_array_get(msgs, 5)));
	cr_assert_str_eq(str_at(json_array_get(msgs, 6), "content"),
	    "INVALID ARGUMENTS: the arguments are not a JSON object: {x");
	for (size_t i = 3; i < 7; i++)
		cr_assert(json_is_true(json_object_get(json_array_get(msgs, i), "is_error")));
	json_decref(args);
	answer(m2, turn("ok", NULL, 1, 1));
	done = expect_done(42);
	cr_assert_str_eq(str_at(json_array_get(json_object_get(done, "calls"), 0), "outcome"),
	    "invalid");
	cr_assert_str_eq(str_at(json_array_get(json_object_get(done, "calls"), 1), "outcome"),
	    "unknown");
	json_decref(done);
	/* nothing else was sent */
	cr_assert_eq(fsup_recv(&A, &m, 200), -ETIMEDOUT);
}

/* A pending approval is asked again every second until it is decided. */
Test(agentrt, pending_approval_waited_for)
{
	json_t *args, *msgs, *done;
	uint64_t m1, c1, c2, c3, m2;
	int64_t t0;

	send_run(43, "sync it", NULL);
	m1 = expect_call("model", "chat", NULL);
	answer(m1, turn(NULL, "[{\"id\":\"s\",\"name\":\"echo__echo\",\"arguments\":{\"msg\":"
	    "\"sync\"}}]", 1, 1));
	c1 = expect_call("echo", "echo", NULL);
	t0 = art_test_now();
	answer_err(c1, ERR_PENDING, "approval ap-7 needed", "{\"id\":\"ap-7\"}");
	c2 = expect_call("echo", "echo", &args);
	cr_assert_str_eq(str_at(args, "msg"), "sync", "the same call again");
	json_decref(args);
	cr_assert(c2 != c1);
	cr_assert_geq(art_test_now() - t0, 900, "asked again after about a second");
	answer_err(c2, ERR_PENDING, "approval ap-7 needed", "{\"id\":\"ap-7\"}");
	c3 = expect_call("echo", "echo", NULL);
	answer(c3, mfx_json("{\"msg\":\"sync\",\"dry_run\":false}"));
	m2 = expect_call("model", "chat", &args);
	msgs = json_object_get(args, "messages");
	cr_assert_str_eq(str_at(json_array_get(msgs, 3), "content"),
	    "{\"msg\":\"sync\",\"dry_run\":false}");
	json_decref(args);
	answer(m2, turn("synced", NULL, 1, 1));
	done = expect_done(43);
	cr_assert_str_eq(str_at(json_array_get(json_object_get(done, "calls"), 0), "outcome"),
	    "ok");
	json_decref(done);
}

/* An approval that does not come within the run's deadline: reported, the run stops. */
Test(agentrt, pending_bounded_by_the_run_deadline)
{
	json_t *done;
	uint64_t m1, c;
	struct msg m;

	send_run(44, "sync it", "\"deadline_ms\":2500");
	m1 = expect_call("model", "chat", NULL);
	answer(m1, turn(NULL, "[{\"id\":\"s\",\"name\":\"echo__echo\",\"arguments\":{\"msg\":"
	    "\"x\"}}]", 1, 1));
	for (;;) {
		artfx_next(&A, &m, 5000, events);
		if (m.type != MSG_CALL)
			break;
		cr_assert_str_eq(m.tool, "echo");
		c = m.id;
		msg_clear(&m);
		answer_err(c, ERR_PENDING, "approval ap-9 needed", NULL);
	}
	cr_assert_eq(m.type, MSG_DONE, "%s", msg_type_name(m.type));
	done = mfx_json(m.result);
	msg_clear(&m);
	cr_assert_str_eq(str_at(done, "stopped"), "deadline");
	cr_assert_str_eq(str_at(json_array_get(json_object_get(done, "calls"), 0), "outcome"),
	    "pending");
	cr_assert(event_seen("tool echo.echo -> PENDING: approval ap-9 needed"), "%s",
	    mfx_str(events));
	json_decref(done);
}

/* A call nobody answers is given up at the run's deadline. */
Test(agentrt, unanswered_call_times_out)
{
	json_t *done;
	uint64_t m1;

	send_run(45, "go", "\"deadline_ms\":1200");
	m1 = expect_call("model", "chat", NULL);
	answer(m1, turn(NULL, "[{\"id\":\"s\",\"name\":\"echo__echo\",\"arguments\":{\"msg\":"
	    "\"x\"}}]", 1, 1));
	expect_call("echo", "echo", NULL);
	done = expect_done(45);
	cr_assert_str_eq(str_at(done, "stopped"), "deadline");
	cr_assert_str_eq(str_at(json_array_get(json_object_get(done, "calls"), 0), "outcome"),
	    "timeout");
	json_decref(done);
}

Test(agentrt, max_iterations)
{
	json_t *done;

	send_run(46, "loop", "\"max_iterations\":2");
	for (int i = 0; i < 2; i++) {
		uint64_t m = expect_call("model", "chat", NULL), c;

		answer(m, turn("again", "[{\"id\":\"x\",\"name\":\"echo__echo\",\"arguments\":"
		    "{\"msg\":\"x\"}}]", 1, 1));
		c = expect_call("echo", "echo", NULL);
		answer(c, mfx_json("{}"));
	}
	done = expect_done(46);
	cr_assert_str_eq(str_at(done, "stopped"), "max_iterations");
	cr_assert_eq(json_integer_value(json_object_get(done, "iterations")), 2);
	cr_assert_str_eq(str_at(done, "answer"), "again");
	json_decref(done);
}

/* The gateway refuses (budget): the run fails with that code and what it did so far. */
Test(agentrt, model_error_ends_the_run)
{
	struct msg m;
	json_t *detail;
	uint64_t m1;

	send_run(47, "go", NULL);
	m1 = expect_call("model", "chat", NULL);
	answer_err(m1, ERR_BUDGET, "tenant payments: token budget exhausted", NULL);
	artfx_next(&A, &m, 5000, events);
	cr_assert_eq(m.type, MSG_ERROR);
	cr_assert_eq(m.id, 47);
	cr_assert_eq(m.code, ERR_BUDGET);
	cr_assert_str_eq(m.text, "model: tenant payments: token budget exhausted");
	detail = mfx_json(m.detail);
	cr_assert_eq(json_integer_value(json_object_get(detail, "iterations")), 1);
	json_decref(detail);
	msg_clear(&m);
}

/* While a run waits: PING is answered, a second RUN waits its turn, CANCEL ends the run. */
Test(agentrt, ping_queue_cancel)
{
	struct msg m = { .type = MSG_PING, .id = 900 }, c = { .type = MSG_CANCEL, .id = 48 };
	json_t *done;
	uint64_t m1;

	send_run(48, "first", NULL);
	m1 = expect_call("model", "chat", NULL);
	cr_assert_eq(fsup_send(&A, &m), 0);
	artfx_next(&A, &m, 5000, events);
	cr_assert_eq(m.type, MSG_PONG);
	cr_assert_eq(m.id, 900);
	msg_clear(&m);
	send_run(49, "second", NULL);
	cr_assert_eq(fsup_send(&A, &c), 0);
	artfx_next(&A, &m, 5000, events);
	cr_assert_eq(m.type, MSG_ERROR);
	cr_assert_eq(m.id, 48);
	cr_assert_eq(m.code, ERR_TIMEOUT);
	msg_clear(&m);
	answer(m1, turn("late", NULL, 1, 1));	/* dropped: the run is over */
	m1 = expect_call("model", "chat", NULL);
	answer(m1, turn("second answer", NULL, 1, 1));
	done = expect_done(49);
	cr_assert_str_eq(str_at(done, "answer"), "second answer");
	json_decref(done);
}

/* A tool result over LIM_AGENT_TOOL_RESULT_MAX reaches the model cut, and says so. */
Test(agentrt, big_result_cut)
{
	json_t *args, *done, *big;
	uint64_t m1, c1, m2;
	char *pad = malloc(40000);
	const char *content;

	memset(pad, 'x', 39999);
	pad[39999] = '\0';
	big = json_pack("{s:s}", "msg", pad);
	free(pad);
	send_run(50, "go", NULL);
	m1 = expect_call("model", "chat", NULL);
	answer(m1, turn(NULL, "[{\"id\":\"s\",\"name\":\"echo__echo\",\"arguments\":{\"msg\":"
	    "\"x\"}}]", 1, 1));
	c1 = expect_call("echo", "echo", NULL);
	answer(c1, big);
	m2 = expect_call("model", "chat", &args);
	content = str_at(json_array_get(json_object_get(args, "messages"), 3), "content");
	cr_assert(strstr(content, "[truncated: 32768 of 40009 bytes shown]") != NULL, "%.100s",
	    content + 32768);
	cr_assert_lt(strlen(content), LIM_AGENT_TOOL_RESULT_MAX + 100);
	json_decref(args);
	answer(m2, turn("ok", NULL, 1, 1));
	done = expect_done(50);
	json_decref(done);
}

/* ---------------------------------------------------------------- relay mode */

Test(agentrt, relay_calls)
{
	json_t *done, *want;
	uint64_t c1;

	send_run(51, "{\"calls\":[{\"tool\":\"echo\",\"op\":\"echo\",\"args\":{\"msg\":\"hi\"}},"
	    "{\"tool\":\"echo\"},{\"tool\":\"echo\",\"op\":\"fail\"}]}", NULL);
	c1 = expect_call("echo", "echo", NULL);
	answer(c1, mfx_json("{\"msg\":\"hi\"}"));
	c1 = expect_call("echo", "fail", NULL);
	answer_err(c1, ERR_DENIED, "no", NULL);
	done = expect_done(51);
	want = mfx_json("{\"results\":[{\"ok\":true,\"result\":{\"msg\":\"hi\"}},"
	    "{\"ok\":false,\"error\":"
	    "\"call needs tool and op\"},{\"ok\":false,\"code\":-4986,\"error\":\"ERR_DENIED\","
	    "\"message\":\"no\"}]}");
	json_object_set_new(json_array_get(json_object_get(want, "results"), 2), "code",
	    json_integer(ERR_DENIED));
	cr_assert(json_equal(done, want), "%s", mfx_str(done));
	json_decref(want);
	json_decref(done);
}

/* Without a model the input must be a relay. */
Test(agentrt, no_model_no_loop)
{
	struct msg m = { .type = MSG_RUN, .id = 52, .input = "hello",
		.agent = "{\"name\":\"x\",\"tools\":[]}" };

	cr_assert_eq(fsup_send(&A, &m), 0);
	artfx_next(&A, &m, 5000, events);
	cr_assert_eq(m.type, MSG_ERROR);
	cr_assert_eq(m.code, ERR_SCHEMA);
	cr_assert(strstr(m.text, "no model configured") != NULL, "%s", m.text);
	msg_clear(&m);
}

/* corral-agent links neither libcurl nor any credential code. */
Test(agentrt, no_curl_in_the_binary)
{
	FILE *f = fopen(getenv("CORRAL_AGENT"), "rb");
	char *buf;
	size_t n;
	long len;

	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len);
	n = fread(buf, 1, (size_t)len, f);
	fclose(f);
	cr_assert_eq(n, (size_t)len);
	cr_assert_null(memmem(buf, n, "libcurl", 7), "corral-agent links libcurl");
	cr_assert_null(memmem(buf, n, "curl_easy_perform", 17));
	cr_assert_null(memmem(buf, n, "http_client_do", 14));
	cr_assert_null(memmem(buf, n, "sup_cred_get", 12));
	free(buf);
}
