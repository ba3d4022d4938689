/* Conversation memory of the real corral-agent (seccomp and Landlock on): SQLite in its state
 * directory, earlier exchanges in front of the new input, kept across runs and restarts; off
 * (and said so) without a state directory. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/err.h"
#include "tests/agentrt/artfx.h"
#include "tests/model/fsup.h"
#include "tests/model/mfx.h"
#include "tools/http.h"

static struct fsup_peer A;
static char state[160];

static void
setup(void)
{
	artfx_state_make(state, sizeof(state), "corral-agentmem");
}

static void
teardown(void)
{
	fsup_stop(&A);
	artfx_state_remove(state);
}

TestSuite(agentmem, .init = setup, .fini = teardown, .timeout = 30);

/* One run: the model is asked once (its messages returned in *asked) and answers. */
static json_t *
run(uint64_t id, const char *input, const char *answer, json_t **asked)
{
	struct msg m = { .type = MSG_RUN, .id = id, .input = (char *)input,
		.agent = "{\"name\":\"watcher\",\"system_prompt\":\"You watch.\",\"model\":{},"
		"\"memory\":{\"provider\":\"sqlite\",\"path\":\"memory/watcher.db\"},"
		"\"max_iterations\":4,\"tools\":[],\"gateway_model\":\"default\"}" };
	struct msg r = { .type = MSG_RESULT };
	json_t *args, *done;

	cr_assert_eq(fsup_send(&A, &m), 0);
	artfx_next(&A, &m, 10000, NULL);
	cr_assert_eq(m.type, MSG_CALL);
	cr_assert_str_eq(m.tool, "model");
	args = mfx_json(m.args);
	*asked = json_incref(json_object_get(args, "messages"));
	json_decref(args);
	r.id = m.id;
	msg_clear(&m);
	cr_assert(asprintf(&r.result, "{\"message\":{\"role\":\"assistant\",\"content\":\"%s\","
	    "\"tool_calls\":[]},\"finish\":\"stop\",\"usage\":{\"input_tokens\":1,"
	    "\"output_tokens\":1}}", answer) > 0);
	cr_assert_eq(fsup_send(&A, &r), 0);
	free(r.result);
	artfx_next(&A, &m, 10000, NULL);
	cr_assert_eq(m.type, MSG_DONE, "%s %d %s", msg_type_name(m.type), m.code,
	    m.text ? m.text : "");
	done = mfx_json(m.result);
	msg_clear(&m);
	return done;
}

#define SYS "{\"role\":\"system\",\"content\":\"You watch.\"}"
#define U(t) "{\"role\":\"user\",\"content\":\"" t "\"}"
#define AS(t) "{\"role\":\"assistant\",\"content\":\"" t "\"}"

static void
assert_asked(json_t *asked, const char *want_text)
{
	json_t *want = mfx_json(want_text);

	cr_assert(json_equal(asked, want), "asked %s\nwant  %s", mfx_str(asked), want_text);
	json_decref(want);
	json_decref(asked);
}

Test(agentmem, kept_across_runs_and_restarts)
{
	json_t *asked, *done, *want;
	char db[256];
	struct stat st;
	DIR *d;
	struct dirent *e;

	artfx_spawn(&A, state);
	done = run(1, "first question", "first answer", &asked);
	assert_asked(asked, "[" SYS "," U("first question") "]");
	want = mfx_json("{\"provider\":\"sqlite\",\"enabled\":true,\"loaded\":0,\"stored\":true}");
	cr_assert(json_equal(json_object_get(done, "memory"), want), "%s", mfx_str(done));
	json_decref(want);
	json_decref(done);
	done = run(2, "second question", "second answer", &asked);
	assert_asked(asked, "[" SYS "," U("first question") "," AS("first answer") ","
	    U("second question") "]");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(done, "memory"),
	    "loaded")), 1);
	json_decref(done);
	cr_assert_eq(fsup_seccomp(A.pid), 2, "memory written under the agent's seccomp filter");

	fsup_stop(&A);
	artfx_spawn(&A, state);
	done = run(3, "third", "third answer", &asked);
	assert_asked(asked, "[" SYS "," U("first question") "," AS("first answer") ","
	    U("second question") "," AS("second answer") "," U("third") "]");
	json_decref(done);

	/* one file, named after the agent; no journal left behind */
	snprintf(db, sizeof(db), "%s/watcher.db", state);
	cr_assert_eq(stat(db, &st), 0);
	cr_assert_not_null(d = opendir(state));
	while ((e = readdir(d)) != NULL)
		cr_assert(e->d_name[0] == '.' || strcmp(e->d_name, "watcher.db") == 0,
		    "unexpected file %s", e->d_name);
	closedir(d);
}

/* An answer that did not come is not remembered. */
Test(agentmem, failed_runs_not_kept)
{
	struct msg m = { .type = MSG_RUN, .id = 5, .input = "lost",
		.agent = "{\"name\":\"watcher\",\"memory\":{\"provider\":\"sqlite\"},"
		"\"tools\":[],\"gateway_model\":\"default\"}" };
	struct msg e = { .type = MSG_ERROR, .code = ERR_RATE, .text = "slow down" };
	json_t *asked, *done;

	artfx_spawn(&A, state);
	cr_assert_eq(fsup_send(&A, &m), 0);
	artfx_next(&A, &m, 10000, NULL);
	e.id = m.id;
	msg_clear(&m);
	cr_assert_eq(fsup_send(&A, &e), 0);
	artfx_next(&A, &m, 10000, NULL);
	cr_assert_eq(m.type, MSG_ERROR);
	msg_clear(&m);
	done = run(6, "next", "ok", &asked);
	assert_asked(asked, "[" SYS "," U("next") "]");
	json_decref(done);
}

Test(agentmem, off_without_a_state_directory)
{
	json_t *asked, *done;
	char missing[200];

	snprintf(missing, sizeof(missing), "%s/absent", state);
	artfx_spawn(&A, missing);
	done = run(1, "q", "a", &asked);
	assert_asked(asked, "[" SYS "," U("q") "]");
	cr_assert(json_is_false(json_object_get(json_object_get(done, "memory"), "enabled")));
	cr_assert(strstr(json_string_value(json_array_get(json_object_get(done, "notes"), 0)),
	    "memory is off: no state directory") != NULL, "%s", mfx_str(done));
	json_decref(done);
	cr_assert_neq(access(missing, F_OK), 0, "nothing was created");
}
