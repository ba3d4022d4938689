/* Conversation memory of one agent: SQLite in the agent's private state directory (the only
 * writable path corral-agent has; corral-jail binds it at /state). What is kept is the
 * exchange a run had with its caller — the input and the final answer — not tool results:
 * those came from systems whose state moves on, and the agent asks again.
 *
 * Library code: returns errors, never logs. One connection per process (corral-agent serves
 * one agent). */
#ifndef CORRAL_AGENTS_MEMORY_H
#define CORRAL_AGENTS_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct agent_mem;

/* Open (creating) <state_dir>/<agent>.db through dirfd, the state directory opened before
 * lock-down: SQLite's opens and unlinks beneath state_dir are redirected to openat/unlinkat
 * on dirfd, the only writes the agent's seccomp filter allows. agent must be a plain name
 * ([A-Za-z0-9][A-Za-z0-9._-]*, at most LIM_NAME_MAX). On failure why gets one line for the
 * run's result ("no state directory", "cannot open ...") and the error is returned:
 * -ENOENT when there is no state directory (dirfd < 0), ERR_CONFIG for a bad name, -EIO for a database
 * SQLite refuses. */
int agent_mem_open(int dirfd, const char *state_dir, const char *agent, struct agent_mem **out,
    char *why, size_t whylen);
void agent_mem_close(struct agent_mem *m);	/* NULL-safe */

/* Append the last max exchanges, oldest first, to messages as {"role": "user", "content"},
 * {"role": "assistant", "content"} pairs. Returns the number of exchanges appended (>= 0). */
int agent_mem_load(struct agent_mem *m, int max, json_t *messages);
/* Keep one exchange (texts cut to LIM_AGENT_MEMORY_TEXT_MAX on a UTF-8 boundary) and drop
 * all but the newest LIM_AGENT_MEMORY_ROWS. */
int agent_mem_store(struct agent_mem *m, uint64_t run, const char *input, const char *answer);
/* Exchanges stored (for results and tests). */
int agent_mem_count(struct agent_mem *m);

#endif
