/* See memory.h. Rollback journal (no WAL: no shared-memory map), temp tables in memory (no
 * temp files outside the state directory), a busy timeout for a second process on the same
 * file. SQLite's unix VFS lets a program replace the system calls it makes: its opens and
 * unlinks of files in the state directory become openat/unlinkat on the directory's fd (the
 * agent's seccomp filter checks that fd, not names), and fchown, which it calls on a new
 * journal when running as root, does nothing (the files are the agent's own). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include <sqlite3.h>

#include "agents/memory.h"
#include "ipc/err.h"
#include "ipc/limits.h"

struct agent_mem {
	sqlite3 *db;
};

static int mem_dirfd = -1;
static char mem_dir[256];
static size_t mem_dirlen;

/* The name of path inside the state directory, or NULL when it is elsewhere. */
static const char *
in_state(const char *path)
{
	const char *name = path + mem_dirlen + 1;

	if (mem_dirfd < 0 || strncmp(path, mem_dir, mem_dirlen) != 0 || path[mem_dirlen] != '/' ||
	    name[0] == '\0' || strchr(name, '/') != NULL)
		return NULL;
	return name;
}

static int
mem_open(const char *path, int flags, int mode)
{
	const char *name = in_state(path);

	return name ? openat(mem_dirfd, name, flags, mode) : open(path, flags, mode);
}

static int
mem_unlink(const char *path)
{
	const char *name = in_state(path);

	return name ? unlinkat(mem_dirfd, name, 0) : unlink(path);
}

static int
mem_fchown(int fd, uid_t uid, gid_t gid)
{
	return 0;
}

/* Once per process, before the first database is opened. */
static int
redirect_io(int dirfd, const char *dir)
{
	sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);

	if (mem_dirfd >= 0)
		return mem_dirfd == dirfd && strcmp(dir, mem_dir) == 0 ? 0 : -EBUSY;
	if (vfs == NULL || vfs->xSetSystemCall == NULL || strlen(dir) >= sizeof(mem_dir))
		return -ENOTSUP;
	snprintf(mem_dir, sizeof(mem_dir), "%s", dir);
	mem_dirlen = strlen(mem_dir);
	while (mem_dirlen > 1 && mem_dir[mem_dirlen - 1] == '/')
		mem_dir[--mem_dirlen] = '\0';
	mem_dirfd = dirfd;
	if (vfs->xSetSystemCall(vfs, "open", (sqlite3_syscall_ptr)mem_open) != SQLITE_OK ||
	    vfs->xSetSystemCall(vfs, "unlink", (sqlite3_syscall_ptr)mem_unlink) != SQLITE_OK ||
	    vfs->xSetSystemCall(vfs, "fchown", (sqlite3_syscall_ptr)mem_fchown) != SQLITE_OK) {
		mem_dirfd = -1;
		return -ENOTSUP;
	}
	return 0;
}

static const char schema[] =
	"PRAGMA journal_mode=DELETE;"
	"PRAGMA temp_store=MEMORY;"
	"CREATE TABLE IF NOT EXISTS exchanges ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  at INTEGER NOT NULL,"
	"  run INTEGER NOT NULL,"
	"  input TEXT NOT NULL,"
	"  answer TEXT NOT NULL);";

static bool
name_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	    (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (; s[n]; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-'))
			return false;
	}
	return n <= LIM_NAME_MAX;
}

int
agent_mem_open(int dirfd, const char *state_dir, const char *agent, struct agent_mem **out,
    char *why, size_t whylen)
{
	struct agent_mem *m;
	struct stat st;
	char path[512];
	int rc;

	*out = NULL;
	if (!name_ok(agent)) {
		snprintf(why, whylen, "the agent name cannot be a file name");
		return ERR_CONFIG;
	}
	if (dirfd < 0 || state_dir == NULL || fstat(dirfd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "no state directory (%s)", state_dir ? state_dir : "none");
		return -ENOENT;
	}
	if ((rc = redirect_io(dirfd, state_dir)) < 0) {
		snprintf(why, whylen, "SQLite's file access cannot be confined: %s", strerror(-rc));
		return rc;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.db", state_dir, agent) >= sizeof(path)) {
		snprintf(why, whylen, "state path too long");
		return ERR_TOOBIG;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -ENOMEM;
	rc = sqlite3_open_v2(path, &m->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(m->db, 2000);
		rc = sqlite3_exec(m->db, schema, NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		snprintf(why, whylen, "cannot open %s.db: %s", agent,
		    m->db ? sqlite3_errmsg(m->db) : sqlite3_errstr(rc));
		agent_mem_close(m);
		return -EIO;
	}
	*out = m;
	return 0;
}

void
agent_mem_close(struct agent_mem *m)
{
	if (m == NULL)
		return;
	sqlite3_close(m->db);
	free(m);
}

int
agent_mem_load(struct agent_mem *m, int max, json_t *messages)
{
	static const char q[] = "SELECT input, answer FROM (SELECT id, input, answer FROM "
	    "exchanges ORDER BY id DESC LIMIT ?) ORDER BY id ASC";
	sqlite3_stmt *st;
	int n = 0, rc;

	if (sqlite3_prepare_v2(m->db, q, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int(st, 1, max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *in = (const char *)sqlite3_column_text(st, 0);
		const char *ans = (const char *)sqlite3_column_text(st, 1);

		json_array_append_new(messages, json_pack("{s:s, s:s}", "role", "user", "content",
		    in ? in : ""));
		json_array_append_new(messages, json_pack("{s:s, s:s}", "role", "assistant",
		    "content", ans ? ans : ""));
		n++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? n : -EIO;
}

/* Length of s cut to max bytes, never inside a UTF-8 sequence. */
static int
cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return (int)n;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return (int)max;
}

int
agent_mem_store(struct agent_mem *m, uint64_t run, const char *input, const char *answer)
{
	static const char ins[] = "INSERT INTO exchanges(at, run, input, answer) "
	    "VALUES (?, ?, ?, ?)";
	static const char prune[] = "DELETE FROM exchanges WHERE id <= (SELECT id FROM "
	    "exchanges ORDER BY id DESC LIMIT 1 OFFSET ?)";
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(m->db, ins, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)run);
	sqlite3_bind_text(st, 3, input, cut(input, LIM_AGENT_MEMORY_TEXT_MAX), SQLITE_STATIC);
	sqlite3_bind_text(st, 4, answer, cut(answer, LIM_AGENT_MEMORY_TEXT_MAX), SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	if (sqlite3_prepare_v2(m->db, prune, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int(st, 1, LIM_AGENT_MEMORY_ROWS);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
agent_mem_count(struct agent_mem *m)
{
	sqlite3_stmt *st;
	int n = -EIO;

	if (sqlite3_prepare_v2(m->db, "SELECT count(*) FROM exchanges", -1, &st, NULL) !=
	    SQLITE_OK)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}
