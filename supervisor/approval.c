/* Durable approval store. File format and binding: supervisor/approval.h, docs/AUDIT.md. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>
#include <openssl/evp.h>

/* OpenSSL's types.h typedefs ERR_STATE, which ipc/err.h also names (an error code): rename
 * ours for this file. */
#define ERR_STATE CORRAL_ERR_STATE
#include "ipc/err.h"
#undef ERR_STATE
#include "ipc/limits.h"
#include "supervisor/approval.h"

#define APPROVAL_FORMAT	1
#define DUMP_FLAGS	(JSON_SORT_KEYS | JSON_COMPACT)

struct approval_store {
	char *dir;
	int dirfd;
	struct audit_mac *mac;
	struct approval **v;		/* oldest first */
	size_t n, cap;
};

static const char *const state_names[] = {
	[APPROVAL_PENDING] = "pending",
	[APPROVAL_APPROVED] = "approved",
	[APPROVAL_DENIED] = "denied",
	[APPROVAL_EXPIRED] = "expired",
	[APPROVAL_CONSUMED] = "consumed",
};

const char *
approval_state_name(enum approval_state st)
{
	return (unsigned)st <= APPROVAL_CONSUMED ? state_names[st] : "unknown";
}

static int
approval_state_parse(const char *s, enum approval_state *out)
{
	for (unsigned i = 0; i <= APPROVAL_CONSUMED; i++)
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum approval_state)i;
			return 0;
		}
	return ERR_PROTO;
}

enum approval_state
approval_state(const struct approval *ap, int64_t now_ms)
{
	if ((ap->state == APPROVAL_PENDING || ap->state == APPROVAL_APPROVED) &&
	    now_ms >= ap->expires_ms)
		return APPROVAL_EXPIRED;
	return ap->state;
}

static bool
approval_live(const struct approval *ap, int64_t now_ms)
{
	enum approval_state st = approval_state(ap, now_ms);

	return st == APPROVAL_PENDING || st == APPROVAL_APPROVED;
}

static void
approval_free(struct approval *ap)
{
	if (ap == NULL)
		return;
	free(ap->tenant);
	free(ap->principal);
	free(ap->tool);
	free(ap->op);
	free(ap->args);
	free(ap->policy_hash);
	for (size_t i = 0; i < ap->napprovers; i++)
		free(ap->approvers[i]);
	free(ap->approvers);
	free(ap->reason);
	for (size_t i = 0; i < ap->nvotes; i++) {
		free(ap->votes[i].user);
		free(ap->votes[i].reason);
	}
	free(ap->votes);
	free(ap);
}

/* --- hashes: SHA-256 over length-prefixed fields, with a domain label first --- */

static void
hash_field(EVP_MD_CTX *c, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	uint8_t len[8];

	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(n >> (56 - 8 * i));
	EVP_DigestUpdate(c, len, sizeof(len));
	if (n)
		EVP_DigestUpdate(c, s, n);
}

static int
hash_fields(const char *const *f, size_t n, char out[AUDIT_HEX_LEN + 1])
{
	static const char hexd[] = "0123456789abcdef";
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t d[32];
	int ok;

	if (c == NULL)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	for (size_t i = 0; ok && i < n; i++)
		hash_field(c, f[i]);
	ok = ok && EVP_DigestFinal_ex(c, d, NULL);
	EVP_MD_CTX_free(c);
	if (!ok)
		return -EIO;
	for (size_t i = 0; i < sizeof(d); i++) {
		out[2 * i] = hexd[d[i] >> 4];
		out[2 * i + 1] = hexd[d[i] & 15];
	}
	out[AUDIT_HEX_LEN] = '\0';
	return 0;
}

static int
call_hash_of(const char *tenant, const char *principal, const char *tool, const char *op,
    const char *args, bool dry_run, const char *policy_hash, char out[AUDIT_HEX_LEN + 1])
{
	const char *f[] = { "corral-approval-call-v1", tenant, principal, tool, op, args,
		dry_run ? "1" : "0", policy_hash ? policy_hash : "" };

	return hash_fields(f, sizeof(f) / sizeof(f[0]), out);
}

static int
id_of(const struct approval *ap, char out[AUDIT_HEX_LEN + 1])
{
	char num[4][24];
	const char *f[8 + LIM_APPROVERS_MAX];
	size_t n = 0;

	snprintf(num[0], sizeof(num[0]), "%zu", ap->napprovers);
	snprintf(num[1], sizeof(num[1]), "%u", ap->quorum);
	snprintf(num[2], sizeof(num[2]), "%" PRId64, ap->created_ms);
	snprintf(num[3], sizeof(num[3]), "%" PRId64, ap->expires_ms);
	f[n++] = "corral-approval-id-v1";
	f[n++] = ap->call_hash;
	f[n++] = num[0];
	for (size_t i = 0; i < ap->napprovers && i < LIM_APPROVERS_MAX; i++)
		f[n++] = ap->approvers[i];
	f[n++] = num[1];
	f[n++] = num[2];
	f[n++] = num[3];
	return hash_fields(f, n, out);
}

static char *
args_canonical(const json_t *args)
{
	if (args == NULL)
		return strdup("{}");
	return json_dumps(args, DUMP_FLAGS | JSON_ENCODE_ANY);
}

int
approval_call_hash(const struct approval_req *rq, char out[AUDIT_HEX_LEN + 1])
{
	char *args = args_canonical(rq->args);
	int r;

	if (args == NULL)
		return -ENOMEM;
	r = call_hash_of(rq->tenant, rq->principal, rq->tool, rq->op, args, rq->dry_run,
	    rq->policy_hash, out);
	free(args);
	return r;
}

/* --- file form --- */

static json_t *
approval_file_json(const struct approval *ap)
{
	json_t *j, *appr = json_array(), *votes = json_array();

	for (size_t i = 0; appr && i < ap->napprovers; i++)
		json_array_append_new(appr, json_string(ap->approvers[i]));
	for (size_t i = 0; votes && i < ap->nvotes; i++) {
		const struct approval_vote *v = &ap->votes[i];

		json_array_append_new(votes, json_pack("{s:I, s:s?, s:b, s:s?, s:I}",
		    "uid", (json_int_t)v->uid, "user", v->user, "approve", v->approve,
		    "reason", v->reason, "at_ms", (json_int_t)v->at_ms));
	}
	j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:o, s:i, s:s?,"
	    " s:I, s:I, s:I, s:s, s:o}",
	    "v", APPROVAL_FORMAT, "id", ap->id, "call_hash", ap->call_hash, "tenant", ap->tenant,
	    "principal", ap->principal, "tool", ap->tool, "op", ap->op, "args", ap->args,
	    "dry_run", ap->dry_run, "policy_hash", ap->policy_hash, "approvers", appr,
	    "quorum", (int)ap->quorum, "reason", ap->reason,
	    "created_ms", (json_int_t)ap->created_ms, "expires_ms", (json_int_t)ap->expires_ms,
	    "decided_ms", (json_int_t)ap->decided_ms, "state", approval_state_name(ap->state),
	    "votes", votes);
	return j;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t k = write(fd, buf, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		buf += k;
		len -= (size_t)k;
	}
	return 0;
}

/* tmp + fsync + rename + fsync(dir): a crash leaves the old or the new file, never half. */
static int
approval_save(struct approval_store *s, const struct approval *ap)
{
	char name[AUDIT_HEX_LEN + 8], tmp[AUDIT_HEX_LEN + 12];
	json_t *j = approval_file_json(ap);
	char *body = j ? json_dumps(j, DUMP_FLAGS) : NULL, *buf = NULL;
	size_t len;
	int fd = -1, r = -ENOMEM;

	json_decref(j);
	if (body == NULL || (len = strlen(body)) + AUDIT_MAC_SUFFIX_LEN + 2 > LIM_APPROVAL_FILE_MAX)
		goto out;
	if ((buf = malloc(len + AUDIT_MAC_SUFFIX_LEN + 2)) == NULL)
		goto out;
	memcpy(buf, body, len + 1);
	len = audit_line_seal(s->mac, buf, len);
	buf[len++] = '\n';
	snprintf(name, sizeof(name), "%s.json", ap->id);
	snprintf(tmp, sizeof(tmp), "%s.json.tmp", ap->id);
	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if ((r = write_all(fd, buf, len)) < 0 || (fsync(fd) < 0 && (r = -errno) < 0))
		goto out;
	if (renameat(s->dirfd, tmp, s->dirfd, name) < 0 || fsync(s->dirfd) < 0) {
		r = -errno;
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (r < 0 && fd >= 0)
		unlinkat(s->dirfd, tmp, 0);
	free(body);
	free(buf);
	return r;
}

static int
dup_str(char **dst, const char *src)
{
	if (src == NULL) {
		*dst = NULL;
		return 0;
	}
	return (*dst = strdup(src)) ? 0 : -ENOMEM;
}

static int
decode_votes(struct approval *ap, json_t *votes)
{
	json_t *v;
	size_t i;

	if (!json_is_array(votes) || json_array_size(votes) > LIM_APPROVAL_VOTES_MAX)
		return ERR_PROTO;
	if ((ap->votes = calloc(json_array_size(votes) + 1, sizeof(*ap->votes))) == NULL)
		return -ENOMEM;
	json_array_foreach(votes, i, v) {
		struct approval_vote *o = &ap->votes[i];
		const char *user = NULL, *reason = NULL;
		json_int_t uid, at;
		int yes;

		if (json_unpack(v, "{s:I, s?s, s:b, s?s, s:I !}", "uid", &uid, "user", &user,
		    "approve", &yes, "reason", &reason, "at_ms", &at) < 0 || uid < 0)
			return ERR_PROTO;
		o->uid = (uid_t)uid;
		o->approve = yes;
		o->at_ms = at;
		ap->nvotes++;
		if (dup_str(&o->user, user) < 0 || dup_str(&o->reason, reason) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int
decode_approvers(struct approval *ap, json_t *appr)
{
	json_t *v;
	size_t i;

	if (!json_is_array(appr) || json_array_size(appr) == 0 ||
	    json_array_size(appr) > LIM_APPROVERS_MAX)
		return ERR_PROTO;
	if ((ap->approvers = calloc(json_array_size(appr), sizeof(char *))) == NULL)
		return -ENOMEM;
	json_array_foreach(appr, i, v) {
		if (!json_is_string(v))
			return ERR_PROTO;
		if ((ap->approvers[i] = strdup(json_string_value(v))) == NULL)
			return -ENOMEM;
		ap->napprovers++;
	}
	return 0;
}

/* Decode a file's JSON and check that both hashes match its content. */
static int
approval_decode(json_t *j, struct approval *ap)
{
	const char *id, *ch, *tenant, *principal, *tool, *op, *args, *ph, *reason = NULL, *st,
	    *mac;
	json_t *appr, *votes;
	json_int_t created, expires, decided;
	int v, dry, quorum, r;
	char want[AUDIT_HEX_LEN + 1];

	if (json_unpack(j, "{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:o, s:i, s?s,"
	    " s:I, s:I, s:I, s:s, s:o, s:s !}", "v", &v, "id", &id, "call_hash", &ch,
	    "tenant", &tenant, "principal", &principal, "tool", &tool, "op", &op, "args", &args,
	    "dry_run", &dry, "policy_hash", &ph, "approvers", &appr, "quorum", &quorum,
	    "reason", &reason, "created_ms", &created, "expires_ms", &expires,
	    "decided_ms", &decided, "state", &st, "votes", &votes, "mac", &mac) < 0)
		return ERR_PROTO;
	(void)mac;
	if (v != APPROVAL_FORMAT || quorum < 1 || strlen(id) != AUDIT_HEX_LEN ||
	    approval_state_parse(st, &ap->state) < 0)
		return ERR_PROTO;
	ap->dry_run = dry;
	ap->quorum = (unsigned)quorum;
	ap->created_ms = created;
	ap->expires_ms = expires;
	ap->decided_ms = decided;
	memcpy(ap->id, id, sizeof(ap->id));
	if (dup_str(&ap->tenant, tenant) < 0 || dup_str(&ap->principal, principal) < 0 ||
	    dup_str(&ap->tool, tool) < 0 || dup_str(&ap->op, op) < 0 ||
	    dup_str(&ap->args, args) < 0 || dup_str(&ap->policy_hash, ph) < 0 ||
	    dup_str(&ap->reason, reason) < 0)
		return -ENOMEM;
	if ((r = decode_approvers(ap, appr)) < 0 || (r = decode_votes(ap, votes)) < 0)
		return r;
	if ((r = call_hash_of(tenant, principal, tool, op, args, dry, ph, ap->call_hash)) < 0)
		return r;
	if (strcmp(ap->call_hash, ch) != 0)
		return ERR_DENIED;
	if ((r = id_of(ap, want)) < 0)
		return r;
	return strcmp(want, ap->id) == 0 ? 0 : ERR_DENIED;
}

static int
read_small(int dirfd, const char *name, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	int fd, r;

	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -errno;
	r = ERR_TOOBIG;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > LIM_APPROVAL_FILE_MAX || st.st_size < 2)
		goto out;
	r = -ENOMEM;
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto out;
	if ((r = audit_pread_all(fd, buf, (size_t)st.st_size, 0)) < 0)
		goto out;
	buf[st.st_size] = '\0';
	*out = buf;
	*len = (size_t)st.st_size;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

static int
approval_load_file(struct approval_store *s, const char *name, struct approval **out)
{
	struct approval *ap = calloc(1, sizeof(*ap));
	json_t *j = NULL;
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (ap == NULL)
		return -ENOMEM;
	if ((r = read_small(s->dirfd, name, &buf, &len)) < 0)
		goto out;
	r = ERR_PROTO;
	if (buf[len - 1] != '\n')
		goto out;
	if ((r = audit_line_check(s->mac, buf, len - 1)) < 0)
		goto out;
	r = ERR_PROTO;
	if ((j = json_loadb(buf, len - 1, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		goto out;
	if ((r = approval_decode(j, ap)) < 0)
		goto out;
	r = ERR_DENIED;
	if (strncmp(name, ap->id, AUDIT_HEX_LEN) != 0 || strcmp(name + AUDIT_HEX_LEN, ".json"))
		goto out;
	*out = ap;
	ap = NULL;
	r = 0;
out:
	json_decref(j);
	free(buf);
	approval_free(ap);
	return r;
}

static int
store_add(struct approval_store *s, struct approval *ap)
{
	if (s->n >= LIM_APPROVALS_MAX)
		return ERR_TOOBIG;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		struct approval **nv = reallocarray(s->v, ncap, sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n++] = ap;
	return 0;
}

static int
by_created(const void *pa, const void *pb)
{
	const struct approval *a = *(struct approval *const *)pa, *b = *(struct approval *const *)pb;

	if (a->created_ms != b->created_ms)
		return a->created_ms < b->created_ms ? -1 : 1;
	return strcmp(a->id, b->id);
}

static bool
is_approval_name(const char *n, const char *suffix)
{
	return strlen(n) == AUDIT_HEX_LEN + strlen(suffix) &&
	    strspn(n, "0123456789abcdef") == AUDIT_HEX_LEN && strcmp(n + AUDIT_HEX_LEN, suffix) == 0;
}

static int
approval_load_dir(struct approval_store *s, size_t *nbad, char *err, size_t errlen)
{
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	if ((fd = dup(s->dirfd)) < 0)
		return -errno;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -errno;
	}
	while (r >= 0 && (de = readdir(d)) != NULL) {
		struct approval *ap = NULL;
		int e;

		if (is_approval_name(de->d_name, ".json.tmp")) {
			unlinkat(s->dirfd, de->d_name, 0);	/* a crash before rename */
			continue;
		}
		if (!is_approval_name(de->d_name, ".json"))
			continue;
		if ((e = approval_load_file(s, de->d_name, &ap)) == 0) {
			if ((r = store_add(s, ap)) < 0)
				approval_free(ap);
			continue;
		}
		if (e == -ENOMEM)
			r = e;
		if (*nbad == 0)
			snprintf(err, errlen, "%s/%s: %s", s->dir, de->d_name,
			    e == ERR_DENIED ? "does not verify (altered?)" : err_str(e));
		(*nbad)++;
	}
	closedir(d);
	if (s->n > 0)	/* qsort(NULL, 0, ...) is undefined */
		qsort(s->v, s->n, sizeof(*s->v), by_created);
	return r;
}

void
approval_store_close(struct approval_store *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		approval_free(s->v[i]);
	free(s->v);
	if (s->dirfd >= 0)
		close(s->dirfd);
	audit_mac_free(s->mac);
	free(s->dir);
	free(s);
}

int
approval_store_open(const char *dir, const uint8_t *key, struct approval_store **out,
    size_t *nbad, char *err, size_t errlen)
{
	static const uint8_t nokey[AUDIT_KEY_LEN];
	struct approval_store *s;
	size_t bad = 0;
	char dummy[1];
	int r;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->dirfd = -1;
	r = -ENOMEM;
	if ((s->dir = strdup(dir)) == NULL || audit_mac_new(key ? key : nokey, &s->mac) < 0)
		goto fail;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(-r));
		goto fail;
	}
	if ((s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(-r));
		goto fail;
	}
	if ((r = approval_load_dir(s, &bad, err, errlen)) < 0)
		goto fail;
	if (nbad)
		*nbad = bad;
	*out = s;
	return 0;
fail:
	approval_store_close(s);
	return r;
}

/* --- creating, finding, voting --- */

static bool
utf8_ok(const char *s)
{
	json_t *j = json_string(s);

	json_decref(j);
	return j != NULL;
}

static bool
pattern_ok(const char *p)
{
	if (strncmp(p, "user:", 5) == 0)
		return p[5] != '\0';
	if (strncmp(p, "group:", 6) == 0)
		return p[6] != '\0';
	if (strncmp(p, "uid:", 4) == 0)
		return p[4] != '\0' && strspn(p + 4, "0123456789") == strlen(p + 4) &&
		    strlen(p + 4) <= 10;
	return false;
}

static bool
name_ok(const char *s, size_t max)
{
	return s != NULL && s[0] != '\0' && strlen(s) <= max && utf8_ok(s);
}

static int
req_check(const struct approval_req *rq, int64_t now_ms)
{
	if (!name_ok(rq->tenant, LIM_NAME_MAX) || !name_ok(rq->principal, 2 * LIM_NAME_MAX) ||
	    !name_ok(rq->tool, LIM_NAME_MAX) || !name_ok(rq->op, LIM_NAME_MAX))
		return ERR_CONFIG;
	if (rq->policy_hash != NULL && rq->policy_hash[0] != '\0' &&
	    !name_ok(rq->policy_hash, LIM_NAME_MAX))
		return ERR_CONFIG;
	if (rq->reason != NULL && !name_ok(rq->reason, LIM_APPROVAL_REASON_MAX))
		return ERR_CONFIG;
	if (rq->napprovers == 0 || rq->napprovers > LIM_APPROVERS_MAX || rq->quorum < 1 ||
	    rq->expires_ms <= now_ms)
		return ERR_CONFIG;
	for (size_t i = 0; i < rq->napprovers; i++)
		if (rq->approvers[i] == NULL || !pattern_ok(rq->approvers[i]) ||
		    !name_ok(rq->approvers[i], 2 * LIM_NAME_MAX))
			return ERR_CONFIG;
	return 0;
}

static int
approval_fill(struct approval *ap, const struct approval_req *rq, int64_t now_ms)
{
	if (dup_str(&ap->tenant, rq->tenant) < 0 || dup_str(&ap->principal, rq->principal) < 0 ||
	    dup_str(&ap->tool, rq->tool) < 0 || dup_str(&ap->op, rq->op) < 0 ||
	    dup_str(&ap->policy_hash, rq->policy_hash ? rq->policy_hash : "") < 0 ||
	    dup_str(&ap->reason, rq->reason) < 0)
		return -ENOMEM;
	if ((ap->approvers = calloc(rq->napprovers, sizeof(char *))) == NULL)
		return -ENOMEM;
	for (; ap->napprovers < rq->napprovers; ap->napprovers++)
		if ((ap->approvers[ap->napprovers] = strdup(rq->approvers[ap->napprovers])) == NULL)
			return -ENOMEM;
	ap->dry_run = rq->dry_run;
	ap->quorum = rq->quorum;
	ap->created_ms = now_ms;
	ap->expires_ms = rq->expires_ms;
	ap->state = APPROVAL_PENDING;
	return id_of(ap, ap->id);
}

static struct approval *
store_find_id(const struct approval_store *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i]->id, id) == 0)
			return s->v[i];
	return NULL;
}

int
approval_create(struct approval_store *s, const struct approval_req *rq, int64_t now_ms,
    const struct approval **out)
{
	struct approval *ap = NULL, *old;
	int r;

	if ((r = req_check(rq, now_ms)) < 0)
		return r;
	if ((ap = calloc(1, sizeof(*ap))) == NULL || (ap->args = args_canonical(rq->args)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = ERR_TOOBIG;
	if (strlen(ap->args) > LIM_ARGS_MAX || s->n >= LIM_APPROVALS_MAX)
		goto out;
	if ((r = approval_call_hash(rq, ap->call_hash)) < 0)
		goto out;
	for (size_t i = s->n; i-- > 0;)
		if (strcmp(s->v[i]->call_hash, ap->call_hash) == 0 && approval_live(s->v[i], now_ms)) {
			*out = s->v[i];
			r = -EEXIST;
			goto out;
		}
	if ((r = approval_fill(ap, rq, now_ms)) < 0)
		goto out;
	if ((old = store_find_id(s, ap->id)) != NULL) {
		*out = old;
		r = -EEXIST;
		goto out;
	}
	if ((r = approval_save(s, ap)) < 0 || (r = store_add(s, ap)) < 0)
		goto out;
	*out = ap;
	return 0;
out:
	approval_free(ap);
	return r;
}

const struct approval *
approval_find(const struct approval_store *s, const char *call_hash)
{
	for (size_t i = s->n; i-- > 0;)
		if (strcmp(s->v[i]->call_hash, call_hash) == 0)
			return s->v[i];
	return NULL;
}

int
approval_lookup(const struct approval_store *s, const char *id, const struct approval **out)
{
	const struct approval *found = NULL;
	size_t n = id ? strlen(id) : 0, count = 0;
	char low[AUDIT_HEX_LEN + 1];

	if (n < 8 || n > AUDIT_HEX_LEN)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		low[i] = (id[i] >= 'A' && id[i] <= 'F') ? (char)(id[i] - 'A' + 'a') : id[i];
	low[n] = '\0';
	if (strspn(low, "0123456789abcdef") != n)
		return -EINVAL;
	for (size_t i = 0; i < s->n; i++)
		if (strncmp(s->v[i]->id, low, n) == 0) {
			found = s->v[i];
			count++;
		}
	if (count == 0)
		return ERR_NOTFOUND;
	if (count > 1)
		return -ENOTUNIQ;
	*out = found;
	return 0;
}

/* The NAME of "kind:NAME", or NULL when p is another kind. */
static const char *
pattern_arg(const char *p, const char *kind)
{
	size_t n = strlen(kind);

	return strncmp(p, kind, n) == 0 && p[n] == ':' ? p + n + 1 : NULL;
}

static bool
approval_matches(const struct approval *ap, const struct approval_identity *who)
{
	for (size_t i = 0; i < ap->napprovers; i++) {
		const char *p = ap->approvers[i], *v;

		if ((v = pattern_arg(p, "user")) != NULL && who->user != NULL &&
		    strcmp(v, who->user) == 0)
			return true;
		if ((v = pattern_arg(p, "uid")) != NULL && strtoull(v, NULL, 10) == (uint64_t)who->uid)
			return true;
		if ((v = pattern_arg(p, "group")) == NULL)
			continue;
		for (size_t g = 0; g < who->ngroups; g++)
			if (who->groups[g] != NULL && strcmp(v, who->groups[g]) == 0)
				return true;
	}
	return false;
}

static int
approval_set_state(struct approval_store *s, struct approval *ap, enum approval_state st,
    int64_t decided_ms)
{
	enum approval_state ost = ap->state;
	int64_t od = ap->decided_ms;
	int r;

	ap->state = st;
	ap->decided_ms = decided_ms;
	if ((r = approval_save(s, ap)) < 0) {
		ap->state = ost;
		ap->decided_ms = od;
	}
	return r;
}

/* Pending approvals past expiry are stored as EXPIRED the first time anyone looks. */
static int
approval_expire(struct approval_store *s, struct approval *ap, int64_t now_ms)
{
	if (approval_state(ap, now_ms) != APPROVAL_EXPIRED || ap->state == APPROVAL_EXPIRED)
		return 0;
	return approval_set_state(s, ap, APPROVAL_EXPIRED, ap->expires_ms);
}

static int
vote_add(struct approval *ap, const struct approval_identity *who, bool approve,
    const char *reason, int64_t now_ms)
{
	struct approval_vote *nv = reallocarray(ap->votes, ap->nvotes + 1, sizeof(*nv)), *v;

	if (nv == NULL)
		return -ENOMEM;
	ap->votes = nv;
	v = &nv[ap->nvotes];
	memset(v, 0, sizeof(*v));
	v->uid = who->uid;
	v->approve = approve;
	v->at_ms = now_ms;
	if ((who->user && !utf8_ok(who->user)) || dup_str(&v->user, who->user) < 0 ||
	    dup_str(&v->reason, reason) < 0) {
		free(v->user);
		free(v->reason);
		return -ENOMEM;
	}
	ap->nvotes++;
	return 0;
}

static void
vote_drop_last(struct approval *ap)
{
	ap->nvotes--;
	free(ap->votes[ap->nvotes].user);
	free(ap->votes[ap->nvotes].reason);
}

int
approval_vote(struct approval_store *s, const char *id, const struct approval_identity *who,
    bool approve, const char *reason, int64_t now_ms, const struct approval **out)
{
	const struct approval *cap;
	enum approval_state ost, nst;
	struct approval *ap;
	int64_t od;
	size_t yes = 0;
	int r;

	if ((r = approval_lookup(s, id, &cap)) < 0)
		return r;
	ap = (struct approval *)cap;
	if ((r = approval_expire(s, ap, now_ms)) < 0)
		return r;
	if (ap->state != APPROVAL_PENDING)
		return -ESTALE;
	if (!approval_matches(ap, who))
		return ERR_DENIED;
	for (size_t i = 0; i < ap->nvotes; i++)
		if (ap->votes[i].uid == who->uid)
			return -EALREADY;
	if (ap->nvotes >= LIM_APPROVAL_VOTES_MAX)
		return ERR_TOOBIG;
	if (reason != NULL && !name_ok(reason, LIM_APPROVAL_REASON_MAX))
		return -EINVAL;
	if ((r = vote_add(ap, who, approve, reason, now_ms)) < 0)
		return r;
	for (size_t i = 0; i < ap->nvotes; i++)
		yes += ap->votes[i].approve;
	ost = ap->state;
	od = ap->decided_ms;
	nst = !approve ? APPROVAL_DENIED : yes >= ap->quorum ? APPROVAL_APPROVED : ost;
	if (nst != ost) {
		ap->state = nst;
		ap->decided_ms = now_ms;
	}
	if ((r = approval_save(s, ap)) < 0) {
		vote_drop_last(ap);
		ap->state = ost;
		ap->decided_ms = od;
		return r;
	}
	if (out)
		*out = ap;
	return 0;
}

int
approval_consume(struct approval_store *s, const char *id, int64_t now_ms)
{
	const struct approval *cap;
	int r;

	if ((r = approval_lookup(s, id, &cap)) < 0)
		return r;
	if (approval_state(cap, now_ms) != APPROVAL_APPROVED)
		return -ESTALE;
	return approval_set_state(s, (struct approval *)cap, APPROVAL_CONSUMED, cap->decided_ms);
}

int
approval_sweep(struct approval_store *s, int64_t now_ms,
    void (*cb)(void *arg, const struct approval *ap), void *arg)
{
	int n = 0, r;

	for (size_t i = 0; i < s->n; i++) {
		struct approval *ap = s->v[i];

		if (approval_state(ap, now_ms) != APPROVAL_EXPIRED || ap->state == APPROVAL_EXPIRED)
			continue;
		if ((r = approval_expire(s, ap, now_ms)) < 0)
			return r;
		n++;
		if (cb)
			cb(arg, ap);
	}
	return n;
}

int64_t
approval_next_expiry(const struct approval_store *s)
{
	int64_t t = -1;

	for (size_t i = 0; i < s->n; i++) {
		const struct approval *ap = s->v[i];

		if (ap->state != APPROVAL_PENDING && ap->state != APPROVAL_APPROVED)
			continue;
		if (t < 0 || ap->expires_ms < t)
			t = ap->expires_ms;
	}
	return t;
}

int
approval_gc(struct approval_store *s, int64_t now_ms, int64_t keep_ms)
{
	size_t j = 0;
	int n = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct approval *ap = s->v[i];
		enum approval_state st = approval_state(ap, now_ms);
		int64_t at = ap->decided_ms ? ap->decided_ms : ap->expires_ms;
		char name[AUDIT_HEX_LEN + 8];

		if (st == APPROVAL_PENDING || st == APPROVAL_APPROVED || at + keep_ms > now_ms) {
			s->v[j++] = ap;
			continue;
		}
		snprintf(name, sizeof(name), "%s.json", ap->id);
		if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT) {
			s->v[j++] = ap;
			continue;
		}
		approval_free(ap);
		n++;
	}
	s->n = j;
	if (n > 0)
		(void)fsync(s->dirfd);
	return n;
}

size_t
approval_list(const struct approval_store *s, const char *tenant, bool pending_only,
    int64_t now_ms, const struct approval **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct approval *ap = s->v[i];

		if (tenant != NULL && strcmp(ap->tenant, tenant) != 0)
			continue;
		if (pending_only && approval_state(ap, now_ms) != APPROVAL_PENDING)
			continue;
		if (n < max)
			out[n] = ap;
		n++;
	}
	return n;
}

/* --- output --- */

static json_t *
time_json(int64_t ms)
{
	char ts[32];

	if (ms <= 0)
		return json_null();
	audit_time_format(ms, ts);
	return json_string(ts);
}

static json_t *
votes_json(const struct approval *ap, size_t *yes)
{
	json_t *a = json_array();

	*yes = 0;
	for (size_t i = 0; a && i < ap->nvotes; i++) {
		const struct approval_vote *v = &ap->votes[i];

		*yes += v->approve;
		json_array_append_new(a, json_pack("{s:I, s:s?, s:s, s:s?, s:o}",
		    "uid", (json_int_t)v->uid, "user", v->user,
		    "vote", v->approve ? "approve" : "deny", "reason", v->reason,
		    "time", time_json(v->at_ms)));
	}
	return a;
}

json_t *
approval_to_json(const struct approval *ap, int64_t now_ms)
{
	json_t *args = json_loads(ap->args, JSON_DECODE_ANY, NULL), *appr = json_array(), *votes;
	char shortid[APPROVAL_ID_SHORT + 1];
	size_t yes;

	if (args == NULL)
		args = json_string(ap->args);
	for (size_t i = 0; appr && i < ap->napprovers; i++)
		json_array_append_new(appr, json_string(ap->approvers[i]));
	votes = votes_json(ap, &yes);
	strlcpy(shortid, ap->id, sizeof(shortid));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:s, s:o, s:i, s:I,"
	    " s:s?, s:s, s:o, s:o, s:o, s:o}",
	    "id", ap->id, "short_id", shortid, "call_hash", ap->call_hash, "tenant", ap->tenant,
	    "principal", ap->principal, "tool", ap->tool, "op", ap->op, "args", args,
	    "dry_run", ap->dry_run, "policy_hash", ap->policy_hash, "approvers", appr,
	    "quorum", (int)ap->quorum, "approvals", (json_int_t)yes, "reason", ap->reason,
	    "state", approval_state_name(approval_state(ap, now_ms)),
	    "created", time_json(ap->created_ms), "expires", time_json(ap->expires_ms),
	    "decided", time_json(ap->decided_ms), "votes", votes);
}

void
approval_print_table(FILE *f, const struct approval *const *aps, size_t n, int64_t now_ms)
{
	fprintf(f, "%-16s  %-8s  %-12s  %-20s  %-28s  %-5s  %s\n", "ID", "STATE", "TENANT",
	    "PRINCIPAL", "CALL", "VOTES", "EXPIRES");
	for (size_t i = 0; i < n; i++) {
		const struct approval *ap = aps[i];
		char call[2 * LIM_NAME_MAX + 2], votes[24], ts[32];
		size_t yes = 0;

		for (size_t v = 0; v < ap->nvotes; v++)
			yes += ap->votes[v].approve;
		snprintf(call, sizeof(call), "%s.%s", ap->tool, ap->op);
		snprintf(votes, sizeof(votes), "%zu/%u", yes, ap->quorum);
		audit_time_format(ap->expires_ms, ts);
		fprintf(f, "%-16.16s  %-8s  %-12s  %-20s  %-28s  %-5s  %s\n", ap->id,
		    approval_state_name(approval_state(ap, now_ms)), ap->tenant, ap->principal, call,
		    votes, ts);
	}
}
