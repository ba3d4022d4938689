/* The script provider: replays a YAML file of model turns, for tests and demos.
 *
 *   turns:
 *     - say: "Looking at the application."
 *       tool_calls:
 *         - name: argocd__get_application
 *           arguments: { app_name: guestbook }
 *     - expect: { tool: argocd__get_application, tool_result_contains: "Synced" }
 *       say: "guestbook is Synced."
 *       usage: { input_tokens: 120, output_tokens: 8 }
 *
 * Stateless, so one gateway serves any number of runs: the turn is the number of assistant
 * messages after the conversation's last user message (earlier exchanges that an agent's
 * memory put in front do not count). "expect" (one map, or a list of maps that must all hold)
 * is checked against the tool results since the last assistant message (tool,
 * tool_result_contains) or every earlier message (history_contains); a miss fails the call
 * naming what was missing. Call ids are
 * "call_<turn>_<k>". Without "usage", tokens are estimated as bytes / 4. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "ipc/ydoc.h"
#include "tools/model.h"

struct script {
	struct ydoc *doc;
	struct ydoc_errs errs;
	const struct ydoc_node *turns;
};

/* A YAML value as JSON: plain scalars become null, booleans and numbers when they read so. */
static json_t *
yaml_json(const struct ydoc_node *n, int depth)
{
	json_t *o;

	if (depth > (int)LIM_JSON_DEPTH_MAX)
		return NULL;
	if (n->type == YDOC_MAP) {
		o = json_object();
		for (size_t i = 0; o && i < n->n; i++)
			if (json_object_set_new(o, n->keys[i]->str,
			    yaml_json(n->items[i], depth + 1)) < 0) {
				json_decref(o);
				return NULL;
			}
		return o;
	}
	if (n->type == YDOC_SEQ) {
		o = json_array();
		for (size_t i = 0; o && i < n->n; i++)
			if (json_array_append_new(o, yaml_json(n->items[i], depth + 1)) < 0) {
				json_decref(o);
				return NULL;
			}
		return o;
	}
	if (!n->quoted) {
		char *end;
		long long v;
		double d;

		if (ydoc_is_null(n))
			return json_null();
		if (strcmp(n->str, "true") == 0 || strcmp(n->str, "false") == 0)
			return json_boolean(n->str[0] == 't');
		v = strtoll(n->str, &end, 10);
		if (*end == '\0')
			return json_integer(v);
		d = strtod(n->str, &end);
		if (*end == '\0')
			return json_real(d);
	}
	return json_stringn(n->str, n->len);
}

static int
script_fail(struct script *s, struct tool_err *err)
{
	http_err_set(err, ERR_CONFIG, 0, false, "%s", s->errs.n ? s->errs.msg[0] :
	    "script: cannot be read");
	return ERR_CONFIG;
}

static int
script_load(struct script *s, const struct model_ep *ep, struct tool_err *err)
{
	static const char *const top[] = { "turns", NULL };
	const char *name = ep->name ? ep->name : "script";
	size_t len = strlen(ep->script);

	memset(s, 0, sizeof(*s));
	if (len > LIM_MODEL_SCRIPT_MAX) {
		http_err_set(err, ERR_CONFIG, 0, false, "%s: the script is larger than %u bytes",
		    name, LIM_MODEL_SCRIPT_MAX);
		return ERR_CONFIG;
	}
	if (ydoc_load_mem(name, ep->script, len, &s->doc, &s->errs) < 0)
		return script_fail(s, err);
	if (s->doc->root == NULL || ydoc_want(&s->errs, s->doc, s->doc->root, YDOC_MAP) < 0 ||
	    ydoc_check_keys(&s->errs, s->doc, s->doc->root, top) < 0)
		return script_fail(s, err);
	s->turns = ydoc_get(s->doc->root, "turns");
	if (s->turns == NULL || ydoc_want(&s->errs, s->doc, s->turns, YDOC_SEQ) < 0 ||
	    s->turns->n > LIM_MODEL_SCRIPT_TURNS) {
		if (s->turns == NULL || s->turns->type == YDOC_SEQ)
			ydoc_errf(&s->errs, s->doc, s->doc->root, "expected 'turns:' with at most %u "
			    "entries", LIM_MODEL_SCRIPT_TURNS);
		return script_fail(s, err);
	}
	return 0;
}

static void
script_free(struct script *s)
{
	ydoc_free(s->doc);
	ydoc_errs_free(&s->errs);
}

/* ---------------------------------------------------------------- expectations */

/* Index just after the last message with this role, 0 when none. */
static size_t
after_last(const json_t *msgs, const char *role)
{
	for (size_t i = json_array_size(msgs); i-- > 0;)
		if (strcmp(json_string_value(json_object_get(json_array_get(msgs, i), "role")),
		    role) == 0)
			return i + 1;
	return 0;
}

/* "name: text; name: text" of the tool results from `from` on, for the error message. */
static void
results_summary(const json_t *msgs, size_t from, char *out, size_t len)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = from; i < json_array_size(msgs) && off + 1 < len; i++) {
		const json_t *m = json_array_get(msgs, i);
		const char *id = json_string_value(json_object_get(m, "tool_call_id"));
		const json_t *tc;
		int n;

		if (id == NULL)
			continue;
		tc = model_call_find(msgs, i, id);
		n = snprintf(out + off, len - off, "%s%s: %.80s", off ? "; " : "",
		    tc ? json_string_value(json_object_get(tc, "name")) : "?", model_msg_text(m));
		off += n > 0 ? (size_t)n : 0;
	}
	if (off == 0)
		snprintf(out, len, "none");
}

static bool
result_matches(const json_t *msgs, size_t from, const char *tool, const char *contains)
{
	for (size_t i = from; i < json_array_size(msgs); i++) {
		const json_t *m = json_array_get(msgs, i);
		const char *id = json_string_value(json_object_get(m, "tool_call_id"));
		const json_t *tc = id ? model_call_find(msgs, i, id) : NULL;

		if (tc == NULL)
			continue;
		if (tool && strcmp(json_string_value(json_object_get(tc, "name")), tool) != 0)
			continue;
		if (contains && strstr(model_msg_text(m), contains) == NULL)
			continue;
		return true;
	}
	return false;
}

static bool
history_has(const json_t *msgs, const char *text)
{
	for (size_t i = 0; i < json_array_size(msgs); i++) {
		const json_t *m = json_array_get(msgs, i);

		if (strcmp(json_string_value(json_object_get(m, "role")), "system") != 0 &&
		    strstr(model_msg_text(m), text) != NULL)
			return true;
	}
	return false;
}

static int
check_one(struct script *s, const struct ydoc_node *ex, const json_t *msgs, size_t turn,
    struct tool_err *err)
{
	static const char *const keys[] = { "tool", "tool_result_contains", "history_contains",
		NULL };
	const struct ydoc_node *nt = ydoc_get(ex, "tool"), *nc = ydoc_get(ex, "tool_result_contains");
	const struct ydoc_node *nh = ydoc_get(ex, "history_contains");
	const char *tool = NULL, *contains = NULL, *hist = NULL;
	size_t from = after_last(msgs, "assistant");
	char got[600];

	if (ydoc_want(&s->errs, s->doc, ex, YDOC_MAP) < 0 ||
	    ydoc_check_keys(&s->errs, s->doc, ex, keys) < 0 ||
	    (nt && ydoc_str(&s->errs, s->doc, nt, &tool) < 0) ||
	    (nc && ydoc_str(&s->errs, s->doc, nc, &contains) < 0) ||
	    (nh && ydoc_str(&s->errs, s->doc, nh, &hist) < 0))
		return script_fail(s, err);
	if ((tool || contains) && (from == 0 || !result_matches(msgs, from, tool, contains))) {
		results_summary(msgs, from ? from : json_array_size(msgs), got, sizeof(got));
		http_err_set(err, ERR_PROTO, 0, false, "script turn %zu (line %d) expected a tool "
		    "result%s%s%s%s%s; the results were: %s", turn, ex->line, tool ? " from " : "",
		    tool ? tool : "", contains ? " containing \"" : "", contains ? contains : "",
		    contains ? "\"" : "", got);
		return ERR_PROTO;
	}
	if (hist && !history_has(msgs, hist)) {
		http_err_set(err, ERR_PROTO, 0, false, "script turn %zu (line %d) expected the "
		    "conversation to contain \"%.200s\"", turn, ex->line, hist);
		return ERR_PROTO;
	}
	return 0;
}

/* One expectation, or a list of them that must all hold (a turn after several calls checks
 * each result: an allowed one and a denied one). */
static int
check_expect(struct script *s, const struct ydoc_node *ex, const json_t *msgs, size_t turn,
    struct tool_err *err)
{
	int r;

	if (ex->type != YDOC_SEQ)
		return check_one(s, ex, msgs, turn, err);
	if (ex->n > LIM_MODEL_CALLS_MAX) {
		ydoc_errf(&s->errs, s->doc, ex, "at most %u expectations per turn",
		    LIM_MODEL_CALLS_MAX);
		return script_fail(s, err);
	}
	for (size_t i = 0; i < ex->n; i++)
		if ((r = check_one(s, ex->items[i], msgs, turn, err)) < 0)
			return r;
	return 0;
}

/* ---------------------------------------------------------------- the reply */

static int
turn_calls(struct script *s, const struct ydoc_node *n, size_t turn, json_t **out,
    struct tool_err *err)
{
	static const char *const keys[] = { "name", "arguments", NULL };
	json_t *calls = json_array();

	if (ydoc_want(&s->errs, s->doc, n, YDOC_SEQ) < 0 || n->n > LIM_MODEL_CALLS_MAX) {
		if (n->type == YDOC_SEQ)
			ydoc_errf(&s->errs, s->doc, n, "at most %u tool calls per turn",
			    LIM_MODEL_CALLS_MAX);
		json_decref(calls);
		return script_fail(s, err);
	}
	for (size_t k = 0; k < n->n; k++) {
		const struct ydoc_node *c = n->items[k], *a;
		const char *name = NULL;
		char id[48];

		if (ydoc_want(&s->errs, s->doc, c, YDOC_MAP) < 0 ||
		    ydoc_check_keys(&s->errs, s->doc, c, keys) < 0 ||
		    ydoc_str(&s->errs, s->doc, ydoc_get(c, "name"), &name) < 0 ||
		    ((a = ydoc_get(c, "arguments")) != NULL && a->type != YDOC_MAP &&
		    ydoc_want(&s->errs, s->doc, a, YDOC_MAP) < 0)) {
			json_decref(calls);
			return script_fail(s, err);
		}
		if (!model_name_ok(name)) {
			ydoc_errf(&s->errs, s->doc, ydoc_get(c, "name"), "tool name '%s' must match "
			    "^[a-zA-Z0-9_-]{1,64}$ (FAMILY__OP)", name);
			json_decref(calls);
			return script_fail(s, err);
		}
		snprintf(id, sizeof(id), "call_%zu_%zu", turn, k);
		json_array_append_new(calls, model_call_new(id, name, a ? yaml_json(a, 0) :
		    json_object(), NULL));
	}
	*out = calls;
	return 0;
}

static size_t
msgs_bytes(const json_t *msgs)
{
	size_t n = 0;

	for (size_t i = 0; i < json_array_size(msgs); i++)
		n += strlen(model_msg_text(json_array_get(msgs, i)));
	return n;
}

static int
turn_reply(struct script *s, const struct ydoc_node *t, const struct model_chat *c,
    size_t turn, json_t **result, struct tool_err *err)
{
	static const char *const keys[] = { "expect", "say", "tool_calls", "usage", NULL };
	static const char *const ukeys[] = { "input_tokens", "output_tokens", NULL };
	const struct ydoc_node *n, *u = NULL;
	const char *say = NULL;
	json_t *calls = NULL;
	int64_t in = (int64_t)msgs_bytes(c->messages) / 4 + 1, out = 1;
	int r;

	if (ydoc_want(&s->errs, s->doc, t, YDOC_MAP) < 0 ||
	    ydoc_check_keys(&s->errs, s->doc, t, keys) < 0 ||
	    ((n = ydoc_get(t, "say")) != NULL && ydoc_str(&s->errs, s->doc, n, &say) < 0) ||
	    ((u = ydoc_get(t, "usage")) != NULL && (ydoc_want(&s->errs, s->doc, u, YDOC_MAP) < 0 ||
	    ydoc_check_keys(&s->errs, s->doc, u, ukeys) < 0)))
		return script_fail(s, err);
	if ((n = ydoc_get(t, "expect")) != NULL &&
	    (r = check_expect(s, n, c->messages, turn, err)) < 0)
		return r;
	if ((n = ydoc_get(t, "tool_calls")) != NULL && (r = turn_calls(s, n, turn, &calls, err)) < 0)
		return r;
	out += (int64_t)(say ? strlen(say) : 0) / 4 + (int64_t)json_array_size(calls) * 8;
	if (u && (((n = ydoc_get(u, "input_tokens")) &&
	    ydoc_int(&s->errs, s->doc, n, 0, INT32_MAX, &in) < 0) ||
	    ((n = ydoc_get(u, "output_tokens")) &&
	    ydoc_int(&s->errs, s->doc, n, 0, INT32_MAX, &out) < 0))) {
		json_decref(calls);
		return script_fail(s, err);
	}
	*result = model_result_new(say, say ? strlen(say) : 0, calls,
	    json_array_size(calls) ? "tool_calls" : "stop", in, out);
	return *result ? 0 : -ENOMEM;
}

int
model_script_reply(const struct model_chat *c, const struct model_ep *ep, json_t **result,
    struct tool_err *err)
{
	struct script s;
	size_t from = after_last(c->messages, "user");
	size_t turn = model_assistant_count(c->messages, json_array_size(c->messages)) -
	    model_assistant_count(c->messages, from);
	int r;

	*result = NULL;
	if ((r = script_load(&s, ep, err)) < 0)
		goto out;
	if (turn >= s.turns->n) {
		http_err_set(err, ERR_PROTO, 0, false, "script '%s' has %zu turns; the conversation "
		    "asks for turn %zu", ep->name ? ep->name : "script", s.turns->n, turn);
		r = ERR_PROTO;
		goto out;
	}
	r = turn_reply(&s, s.turns->items[turn], c, turn, result, err);
out:
	script_free(&s);
	return r;
}
