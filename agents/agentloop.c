/* The model loop of a run (see agentrt.h): the conversation, model turns through
 * model.chat, parallel tool calls, what the model is told about each outcome, the size cap
 * of the conversation, memory, and the DONE result. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/agentrt_int.h"
#include "ipc/err.h"
#include "tools/tool.h"

/* Room left in a CALL's args for everything but the messages. */
#define ARGS_SLACK	1024u
/* A cut result keeps this much of its text. */
#define CUT_KEEP	256u

struct loop {
	struct art *a;
	uint64_t run;
	json_t *agent;
	json_t *msgs;			/* the conversation (neutral format) */
	size_t hist_from, hist_to;	/* messages [from, to) came from memory */
	json_t *tools;			/* neutral tool definitions */
	int64_t deadline;
	int max_iter, iter;
	int64_t max_tokens;
	json_t *temperature;		/* borrowed from agent, or NULL */
	json_int_t in_tok, out_tok;
	json_t *log;			/* [{tool, op, outcome, ms}] */
	json_t *notes;			/* one-line remarks for the caller */
	json_t *memory;			/* {"provider", "enabled", ...} */
	char *answer;
	const char *stopped;
};

/* Length of s cut to at most max bytes, never inside a UTF-8 sequence. */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* ---------------------------------------------------------------- setup */

/* {"name": FAMILY__OP, "description", "parameters"} for every op the agent was granted that
 * this build knows; the gateway itself is not a tool. */
static json_t *
tool_defs(const json_t *agent)
{
	json_t *defs = json_array(), *t, *o;
	size_t i, k;

	json_array_foreach(json_object_get(agent, "tools"), i, t) {
		const struct tool_family *f = tool_family_find(json_string_value(
		    json_object_get(t, "family")));

		if (f == NULL || f->kind == TOOL_KIND_MODEL || f->kind == TOOL_KIND_AGENT)
			continue;
		json_array_foreach(json_object_get(t, "ops"), k, o) {
			const struct tool_op *op = tool_op_find(f, json_string_value(o));
			char name[2 * LIM_NAME_MAX + 3];

			if (op == NULL || json_array_size(defs) >= LIM_MODEL_TOOLS_MAX)
				continue;
			snprintf(name, sizeof(name), "%s__%s", f->name, op->name);
			json_array_append_new(defs, json_pack("{s:s, s:s, s:o}", "name", name,
			    "description", op->desc ? op->desc : name, "parameters",
			    tool_op_json_schema(op)));
		}
	}
	return defs;
}

/* Open the agent's memory once per process; a reason when it is off. */
static struct agent_mem *
memory_open(struct loop *l, const char *name)
{
	struct art *a = l->a;

	if (a->mem != NULL && strcmp(a->mem_agent, name) == 0)
		return a->mem;
	agent_mem_close(a->mem);
	a->mem = NULL;
	snprintf(a->mem_agent, sizeof(a->mem_agent), "%s", name);
	if (agent_mem_open(a->o.state_fd, a->o.state_dir, name, &a->mem, a->mem_why,
	    sizeof(a->mem_why)) < 0)
		return NULL;
	a->mem_why[0] = '\0';
	return a->mem;
}

static void
memory_load(struct loop *l)
{
	const char *prov = json_string_value(json_object_get(json_object_get(l->agent,
	    "memory"), "provider"));
	const char *name = json_string_value(json_object_get(l->agent, "name"));
	struct agent_mem *m;
	int n;

	if (prov == NULL || (strcmp(prov, "sqlite") != 0 && strcmp(prov, "file") != 0)) {
		l->memory = json_pack("{s:s, s:b}", "provider", prov ? prov : "in_memory",
		    "enabled", 0);
		return;
	}
	if ((m = memory_open(l, name ? name : "")) == NULL) {
		l->memory = json_pack("{s:s, s:b, s:s}", "provider", prov, "enabled", 0, "reason",
		    l->a->mem_why);
		json_array_append_new(l->notes, json_pack("s+", "memory is off: ", l->a->mem_why));
		return;
	}
	l->hist_from = json_array_size(l->msgs);
	n = agent_mem_load(m, LIM_AGENT_MEMORY_TURNS, l->msgs);
	l->hist_to = json_array_size(l->msgs);
	l->memory = json_pack("{s:s, s:b, s:i}", "provider", prov, "enabled", 1, "loaded",
	    n > 0 ? n : 0);
}

static int
loop_init(struct loop *l, struct art *a, uint64_t run, const char *input, json_t *agent)
{
	const char *prompt = json_string_value(json_object_get(agent, "system_prompt"));
	json_t *model = json_object_get(agent, "model");
	json_int_t v;

	memset(l, 0, sizeof(*l));
	l->a = a;
	l->run = run;
	l->agent = agent;
	l->msgs = json_array();
	l->log = json_array();
	l->notes = json_array();
	v = json_integer_value(json_object_get(agent, "deadline_ms"));
	l->deadline = art_now() + (v > 0 && v <= 24 * 3600 * 1000 ? v : LIM_AGENT_RUN_MS);
	v = json_integer_value(json_object_get(agent, "max_iterations"));
	l->max_iter = v > 0 && v <= LIM_AGENT_ITER_MAX ? (int)v : LIM_AGENT_ITER_DEFAULT;
	l->max_tokens = json_integer_value(json_object_get(model, "max_tokens"));
	l->temperature = json_is_number(json_object_get(model, "temperature")) ?
	    json_object_get(model, "temperature") : NULL;
	if (l->msgs == NULL || l->log == NULL || l->notes == NULL)
		return -ENOMEM;
	if (prompt && prompt[0])
		json_array_append_new(l->msgs, json_pack("{s:s, s:s}", "role", "system", "content",
		    prompt));
	memory_load(l);
	json_array_append_new(l->msgs, json_pack("{s:s, s:s}", "role", "user", "content", input));
	l->tools = tool_defs(agent);
	return 0;
}

static void
loop_free(struct loop *l)
{
	json_decref(l->msgs);
	json_decref(l->tools);
	json_decref(l->log);
	json_decref(l->notes);
	json_decref(l->memory);
	free(l->answer);
}

/* ---------------------------------------------------------------- the size cap */

/* Shorten the oldest long tool result or assistant text; false when none is left. */
static bool
cut_oldest(struct loop *l)
{
	size_t i;
	json_t *m;

	json_array_foreach(l->msgs, i, m) {
		const char *role = json_string_value(json_object_get(m, "role"));
		const char *text = json_string_value(json_object_get(m, "content"));
		size_t len = text ? strlen(text) : 0;

		if (len <= 2 * CUT_KEEP || (strcmp(role, "tool") != 0 && strcmp(role, "assistant")))
			continue;
		json_object_set_new(m, "content", json_sprintf("%.*s ... [cut: %zu bytes dropped to "
		    "keep the conversation under its cap]", (int)utf8_cut(text, len, CUT_KEEP), text,
		    len - utf8_cut(text, len, CUT_KEEP)));
		return true;
	}
	return false;
}

/* Make args fit in one CALL: first forget remembered exchanges, then cut old texts. */
static int
fit(struct loop *l, json_t *args, char *why, size_t whylen)
{
	for (;;) {
		if (json_dumpb(args, NULL, 0, JSON_COMPACT) <= LIM_ARGS_MAX - ARGS_SLACK)
			return 0;
		if (l->hist_to >= l->hist_from + 2) {
			json_array_remove(l->msgs, l->hist_from);
			json_array_remove(l->msgs, l->hist_from);
			l->hist_to -= 2;
			continue;
		}
		if (!cut_oldest(l)) {
			snprintf(why, whylen, "the conversation does not fit in %u bytes",
			    LIM_ARGS_MAX - ARGS_SLACK);
			return ERR_TOOBIG;
		}
	}
}

/* ---------------------------------------------------------------- a model turn */

static int
model_turn(struct loop *l, json_t **msg, char *why, size_t whylen)
{
	json_t *args = json_pack("{s:O}", "messages", l->msgs), *usage;
	struct art_call c, *cp = &c;
	int r;

	*msg = NULL;
	if (json_array_size(l->tools))
		json_object_set(args, "tools", l->tools);
	if (l->max_tokens > 0)
		json_object_set_new(args, "max_tokens", json_integer(l->max_tokens));
	if (l->temperature)
		json_object_set(args, "temperature", l->temperature);
	if ((r = fit(l, args, why, whylen)) < 0) {
		json_decref(args);
		return r;
	}
	art_call_start(l->a, &c, "model", "chat", args, LIM_MODEL_CHAT_MS +
	    LIM_AGENT_CALL_GRACE_MS, 0);
	json_decref(args);
	if ((r = art_calls_wait(l->a, &cp, 1, l->deadline)) < 0) {
		snprintf(why, whylen, "the run was cancelled");
	} else if (c.code != 0) {
		snprintf(why, whylen, "model: %s", c.text ? c.text : err_str(c.code));
		r = c.code;
	} else if (!json_is_object(json_object_get(c.result, "message"))) {
		snprintf(why, whylen, "model: the gateway's answer has no message");
		r = ERR_PROTO;
	} else {
		usage = json_object_get(c.result, "usage");
		l->in_tok += json_integer_value(json_object_get(usage, "input_tokens"));
		l->out_tok += json_integer_value(json_object_get(usage, "output_tokens"));
		*msg = json_incref(json_object_get(c.result, "message"));
	}
	art_call_clear(&c);
	return r;
}

/* ---------------------------------------------------------------- tool calls */

static void
local_refusal(struct art_call *c, const char *name, int code, const char *text)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->tool, sizeof(c->tool), "%s", name ? name : "?");
	c->st = CS_DONE;
	c->code = code;
	c->text = strdup(text);
}

/* FAMILY__OP -> family and op. */
static bool
split_name(const char *name, char *fam, char *op)
{
	const char *sep = name ? strstr(name, "__") : NULL;

	if (sep == NULL || sep == name || sep[2] == '\0' || (size_t)(sep - name) > LIM_NAME_MAX ||
	    strlen(sep + 2) > LIM_NAME_MAX)
		return false;
	memcpy(fam, name, (size_t)(sep - name));
	fam[sep - name] = '\0';
	strcpy(op, sep + 2);
	return true;
}

static void
start_tool(struct loop *l, const json_t *tc, struct art_call *c)
{
	const char *name = json_string_value(json_object_get(tc, "name"));
	const char *bad = json_string_value(json_object_get(tc, "invalid_arguments"));
	char fam[LIM_NAME_MAX + 1], op[LIM_NAME_MAX + 1];
	const struct tool_op *o;
	char text[400];

	if (!split_name(name, fam, op) || strcmp(fam, "model") == 0) {
		snprintf(text, sizeof(text), "'%.64s' is not one of this agent's tools (they are "
		    "named FAMILY__OP)", name ? name : "");
		local_refusal(c, name, ERR_UNKNOWN, text);
		return;
	}
	if (bad != NULL) {
		snprintf(text, sizeof(text), "the arguments are not a JSON object: %.300s", bad);
		local_refusal(c, name, ERR_SCHEMA, text);
		snprintf(c->tool, sizeof(c->tool), "%s", fam);
		snprintf(c->op, sizeof(c->op), "%s", op);
		return;
	}
	o = tool_op_find(tool_family_find(fam), op);
	art_call_start(l->a, c, fam, op, json_object_get(tc, "arguments"),
	    (o && o->timeout_ms ? o->timeout_ms : LIM_CALL_DEADLINE_MS) + LIM_AGENT_CALL_GRACE_MS,
	    LIM_AGENT_PENDING_MS);
}

/* What the model is told, and the outcome's name for the log. */
static json_t *
outcome_text(const struct art_call *c, const char **outcome)
{
	const char *t = c->text ? c->text : err_str(c->code);
	char *res;
	json_t *out;
	size_t len;

	switch (c->code) {
	case 0:
		*outcome = "ok";
		res = json_dumps(c->result ? c->result : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
		len = res ? strlen(res) : 0;
		if (len > LIM_AGENT_TOOL_RESULT_MAX)
			out = json_sprintf("%.*s ... [truncated: %zu of %zu bytes shown]",
			    (int)utf8_cut(res, len, LIM_AGENT_TOOL_RESULT_MAX), res,
			    utf8_cut(res, len, LIM_AGENT_TOOL_RESULT_MAX), len);
		else
			out = json_string(res ? res : "null");
		free(res);
		return out;
	case ERR_DENIED:
		*outcome = "denied";
		return json_sprintf("DENIED by policy: %s", t);
	case ERR_SCHEMA:
		*outcome = "invalid";
		return json_sprintf("INVALID ARGUMENTS: %s", t);
	case ERR_PENDING:
		*outcome = "pending";
		return json_sprintf("PENDING APPROVAL: %s (no decision yet; the call was not made)",
		    t);
	case ERR_TIMEOUT:
		*outcome = "timeout";
		return json_sprintf("TIMEOUT: %s", t);
	case ERR_UNKNOWN:
		*outcome = "unknown";
		return json_sprintf("UNKNOWN TOOL: %s", t);
	default:
		*outcome = "error";
		return json_sprintf("ERROR %s: %s", err_name(c->code), t);
	}
}

static void
finish_tool(struct loop *l, const json_t *tc, const struct art_call *c)
{
	const char *outcome;
	json_t *content = outcome_text(c, &outcome);
	const char *name = json_string_value(json_object_get(tc, "name"));
	json_t *m = json_pack("{s:s, s:O, s:o}", "role", "tool", "tool_call_id",
	    json_object_get(tc, "id"), "content", content ? content : json_string(""));

	if (m && name && strlen(name) <= 64)
		json_object_set_new(m, "name", json_string(name));
	if (m && c->code != 0)
		json_object_set_new(m, "is_error", json_true());
	json_array_append_new(l->msgs, m);
	json_array_append_new(l->log, json_pack("{s:s, s:s, s:s, s:I}", "tool", c->tool, "op",
	    c->op, "outcome", outcome, "ms", (json_int_t)(c->started ? art_now() - c->started :
	    0)));
	if (c->code == 0)
		art_event(l->a, "tool %s.%s -> ok", c->tool, c->op);
	else
		art_event(l->a, "tool %s.%s -> %s: %.300s", c->tool, c->op,
		    c->code == ERR_DENIED ? "DENIED" : c->code == ERR_PENDING ? "PENDING" :
		    c->code == ERR_SCHEMA ? "INVALID" : err_name(c->code),
		    c->text ? c->text : err_str(c->code));
}

/* All the turn's calls at once, then their outcomes in the model's order. */
static int
tool_round(struct loop *l, const json_t *calls)
{
	size_t n = json_array_size(calls);
	struct art_call *cs = calloc(n, sizeof(*cs));
	struct art_call **ps = calloc(n, sizeof(*ps));
	int r;

	if (cs == NULL || ps == NULL) {
		free(cs);
		free(ps);
		return -ENOMEM;
	}
	for (size_t k = 0; k < n; k++) {
		ps[k] = &cs[k];
		start_tool(l, json_array_get(calls, k), &cs[k]);
	}
	r = art_calls_wait(l->a, ps, n, l->deadline);
	for (size_t k = 0; k < n; k++) {
		finish_tool(l, json_array_get(calls, k), &cs[k]);
		art_call_clear(&cs[k]);
	}
	free(cs);
	free(ps);
	return r;
}

/* ---------------------------------------------------------------- the run */

static const char *
last_text(const json_t *msgs)
{
	for (size_t i = json_array_size(msgs); i-- > 0;) {
		const json_t *m = json_array_get(msgs, i);

		if (strcmp(json_string_value(json_object_get(m, "role")), "assistant") == 0)
			return json_string_value(json_object_get(m, "content"));
	}
	return NULL;
}

/* Turns until an answer; 0 with l->stopped set, or the error that ends the run. */
static int
turns(struct loop *l, char *why, size_t whylen)
{
	for (l->iter = 0; l->iter < l->max_iter;) {
		json_t *msg, *calls;
		int r;

		if (art_now() >= l->deadline) {
			l->stopped = "deadline";
			return 0;
		}
		l->iter++;
		if ((r = model_turn(l, &msg, why, whylen)) < 0) {
			if (r == ERR_TIMEOUT && art_now() >= l->deadline && !l->a->cancel) {
				l->stopped = "deadline";
				return 0;
			}
			return r;
		}
		json_array_append(l->msgs, msg);
		calls = json_object_get(msg, "tool_calls");
		art_event(l->a, "model turn %d -> %zu tool call%s", l->iter, json_array_size(calls),
		    json_array_size(calls) == 1 ? "" : "s");
		if (json_array_size(calls) == 0) {
			json_decref(msg);
			l->stopped = "answer";
			return 0;
		}
		r = tool_round(l, calls);
		json_decref(msg);
		if (r < 0) {
			snprintf(why, whylen, "the run was cancelled");
			return r;
		}
	}
	l->stopped = "max_iterations";
	return 0;
}

static json_t *
progress(const struct loop *l)
{
	return json_pack("{s:i, s:O, s:{s:I, s:I}}", "iterations", l->iter, "calls", l->log,
	    "usage", "input_tokens", l->in_tok, "output_tokens", l->out_tok);
}

int
art_run_model(struct art *a, uint64_t run, const char *input, json_t *agent, json_t **done,
    char *text, size_t textlen, json_t **detail)
{
	struct loop l;
	const char *ans;
	int r;

	*done = NULL;
	*detail = NULL;
	if ((r = loop_init(&l, a, run, input, agent)) < 0 || (r = turns(&l, text, textlen)) < 0) {
		*detail = progress(&l);
		loop_free(&l);
		return r;
	}
	ans = last_text(l.msgs);
	l.answer = strdup(ans ? ans : "");
	if (strcmp(l.stopped, "answer") == 0 && a->mem && json_is_true(json_object_get(l.memory,
	    "enabled")))
		json_object_set_new(l.memory, "stored", json_boolean(agent_mem_store(a->mem, run,
		    input, l.answer) == 0));
	*done = progress(&l);
	json_object_set_new(*done, "answer", json_string(l.answer ? l.answer : ""));
	json_object_set_new(*done, "stopped", json_string(l.stopped));
	json_object_set(*done, "model", json_object_get(agent, "gateway_model"));
	json_object_set(*done, "memory", l.memory);
	json_object_set(*done, "notes", l.notes);
	loop_free(&l);
	return 0;
}
