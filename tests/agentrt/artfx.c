/* See artfx.h. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/agentrt/artfx.h"

void
artfx_state_make(char *buf, size_t size, const char *tag)
{
	const char *tmp = getenv("TMPDIR");
	int n = snprintf(buf, size, "%s/%s-XXXXXX", tmp ? tmp : "/tmp", tag);

	cr_assert(n > 0 && (size_t)n < size, "state dir name too long: %s", buf);
	cr_assert_not_null(mkdtemp(buf), "mkdtemp %s", buf);
}

/* By the shell: the agent's SQLite files and whatever a test left are removed alike, and
 * the directory name came from mkdtemp (no quote in it). */
void
artfx_state_remove(const char *dir)
{
	char cmd[256];

	cr_assert_lt((size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir), sizeof(cmd));
	cr_assert_eq(system(cmd), 0);
}

void
artfx_spawn(struct fsup_peer *a, const char *dir)
{
	const char *bin = getenv("CORRAL_AGENT");
	const char *argv[] = { bin, "--state-dir", dir, NULL };

	cr_assert_not_null(bin, "CORRAL_AGENT is not set");
	fsup_spawn(a, argv, "agent", false);
}

void
artfx_next(struct fsup_peer *a, struct msg *m, int timeout_ms, json_t *events)
{
	for (;;) {
		memset(m, 0, sizeof(*m));
		cr_assert_eq(fsup_recv(a, m, timeout_ms), 0, "the agent said nothing");
		if (m->type != MSG_EVENT)
			return;
		if (events != NULL)
			json_array_append_new(events, json_string(m->text));
		msg_clear(m);
	}
}
