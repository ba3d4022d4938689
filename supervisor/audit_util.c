/* Audit primitives: HMAC/SHA-256, the MAC suffix of a line, time, the key file, the
 * checkpoint file, and the record builder. Shared by the writer, the verifier (auditcli) and
 * the approval store. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

/* OpenSSL's types.h typedefs ERR_STATE, which ipc/err.h also names (an error code): rename
 * ours for this file. */
#define ERR_STATE CORRAL_ERR_STATE
#include "ipc/err.h"
#undef ERR_STATE
#include "ipc/limits.h"
#include "supervisor/audit.h"
#include "supervisor/audit_int.h"

#define SHA_LEN		32
#define HMAC_BLOCK	64

/* HMAC-SHA256 (RFC 2104) from two precomputed digest states, so each record costs two
 * context copies instead of a key schedule. */
struct audit_mac {
	EVP_MD *md;
	EVP_MD_CTX *in, *out, *tmp;
};

static const char hexd[] = "0123456789abcdef";

static void
hex_encode(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexd[b[i] >> 4];
		out[2 * i + 1] = hexd[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
audit_mac_free(struct audit_mac *m)
{
	if (m == NULL)
		return;
	EVP_MD_CTX_free(m->in);		/* frees and cleanses the keyed states */
	EVP_MD_CTX_free(m->out);
	EVP_MD_CTX_free(m->tmp);
	EVP_MD_free(m->md);
	free(m);
}

static int
mac_pad(struct audit_mac *m, EVP_MD_CTX *c, const uint8_t *key, uint8_t x)
{
	uint8_t pad[HMAC_BLOCK];
	int ok;

	memset(pad, x, sizeof(pad));
	for (size_t i = 0; i < AUDIT_KEY_LEN; i++)
		pad[i] ^= key[i];
	ok = EVP_DigestInit_ex(c, m->md, NULL) && EVP_DigestUpdate(c, pad, sizeof(pad));
	explicit_bzero(pad, sizeof(pad));
	return ok ? 0 : -EIO;
}

int
audit_mac_new(const uint8_t key[AUDIT_KEY_LEN], struct audit_mac **out)
{
	struct audit_mac *m = calloc(1, sizeof(*m));
	int r = -ENOMEM;

	if (m == NULL)
		return -ENOMEM;
	m->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	m->in = EVP_MD_CTX_new();
	m->out = EVP_MD_CTX_new();
	m->tmp = EVP_MD_CTX_new();
	if (m->md == NULL || m->in == NULL || m->out == NULL || m->tmp == NULL)
		goto fail;
	if ((r = mac_pad(m, m->in, key, 0x36)) < 0 || (r = mac_pad(m, m->out, key, 0x5c)) < 0)
		goto fail;
	*out = m;
	return 0;
fail:
	audit_mac_free(m);
	return r;
}

static int
mac_raw(struct audit_mac *m, const void *buf, size_t len, uint8_t mac[SHA_LEN])
{
	uint8_t inner[SHA_LEN];

	if (!EVP_MD_CTX_copy_ex(m->tmp, m->in) || !EVP_DigestUpdate(m->tmp, buf, len) ||
	    !EVP_DigestFinal_ex(m->tmp, inner, NULL) || !EVP_MD_CTX_copy_ex(m->tmp, m->out) ||
	    !EVP_DigestUpdate(m->tmp, inner, sizeof(inner)) ||
	    !EVP_DigestFinal_ex(m->tmp, mac, NULL))
		return -EIO;
	return 0;
}

int
audit_mac_hex(struct audit_mac *m, const void *buf, size_t len, char hex[AUDIT_HEX_LEN + 1])
{
	uint8_t mac[SHA_LEN];
	int r;

	if ((r = mac_raw(m, buf, len, mac)) < 0)
		return r;
	hex_encode(mac, sizeof(mac), hex);
	return 0;
}

int
audit_sha256_hex(const void *buf, size_t len, char hex[AUDIT_HEX_LEN + 1])
{
	uint8_t d[SHA_LEN];

	if (!EVP_Digest(buf, len, d, NULL, EVP_sha256(), NULL))
		return -EIO;
	hex_encode(d, sizeof(d), hex);
	return 0;
}

int
audit_line_split(const char *line, size_t len, size_t *bodylen, const char **mac)
{
	static const char head[] = ",\"mac\":\"";
	const char *s;

	if (len < AUDIT_MAC_SUFFIX_LEN + 1)
		return ERR_PROTO;
	s = line + len - AUDIT_MAC_SUFFIX_LEN;
	if (memcmp(s, head, sizeof(head) - 1) != 0 || memcmp(line + len - 2, "\"}", 2) != 0)
		return ERR_PROTO;
	for (size_t i = 0; i < AUDIT_HEX_LEN; i++) {
		char c = s[sizeof(head) - 1 + i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return ERR_PROTO;
	}
	*bodylen = (size_t)(s - line);
	*mac = s + sizeof(head) - 1;
	return 0;
}

int
audit_line_check(struct audit_mac *m, const char *line, size_t len)
{
	char want[AUDIT_HEX_LEN + 1];
	const char *mac;
	size_t body;
	int r;

	if ((r = audit_line_split(line, len, &body, &mac)) < 0)
		return r;
	if ((r = audit_mac_hex(m, line, body, want)) < 0)
		return r;
	return CRYPTO_memcmp(want, mac, AUDIT_HEX_LEN) == 0 ? 0 : ERR_DENIED;
}

size_t
audit_line_seal(struct audit_mac *m, char *buf, size_t len)
{
	char hex[AUDIT_HEX_LEN + 1];
	size_t n = len - 1;		/* drop the closing brace */

	(void)audit_mac_hex(m, buf, n, hex);
	memcpy(buf + n, ",\"mac\":\"", 8);
	memcpy(buf + n + 8, hex, AUDIT_HEX_LEN);
	memcpy(buf + n + 8 + AUDIT_HEX_LEN, "\"}", 3);
	return n + AUDIT_MAC_SUFFIX_LEN;
}

int64_t
audit_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
audit_time_format(int64_t ms, char buf[32])
{
	time_t s = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);
	struct tm tm;

	if (frac < 0) {
		frac += 1000;
		s--;
	}
	if (gmtime_r(&s, &tm) == NULL || strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
		strlcpy(buf, "0000-00-00T00:00:00.000Z", 32);
		return;
	}
	snprintf(buf + 19, 32 - 19, ".%03dZ", frac % 1000);
}

int
audit_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t k = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -ENODATA;
		done += (size_t)k;
	}
	return 0;
}

/* --- key file --- */

static int
key_create(const char *path, uint8_t key[AUDIT_KEY_LEN], char *err, size_t errlen)
{
	char hex[2 * AUDIT_KEY_LEN + 2], tmp[PATH_MAX];
	int fd, r = 0;

	if (getrandom(key, AUDIT_KEY_LEN, 0) != AUDIT_KEY_LEN)
		return -EIO;
	hex_encode(key, AUDIT_KEY_LEN, hex);
	hex[2 * AUDIT_KEY_LEN] = '\n';
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(-r));
		goto out;
	}
	if (write(fd, hex, sizeof(hex) - 1) != (ssize_t)sizeof(hex) - 1 || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	close(fd);
	/* link() rather than rename(): two starting processes must not each install a key. */
	if (r == 0 && link(tmp, path) < 0)
		r = -errno;
	unlink(tmp);
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
out:
	explicit_bzero(hex, sizeof(hex));
	return r;
}

static int
key_parse(const char *buf, size_t n, uint8_t key[AUDIT_KEY_LEN])
{
	if (n == AUDIT_KEY_LEN) {
		memcpy(key, buf, AUDIT_KEY_LEN);
		return 0;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n != 2 * AUDIT_KEY_LEN)
		return ERR_CONFIG;
	for (size_t i = 0; i < AUDIT_KEY_LEN; i++) {
		int h = hex_val(buf[2 * i]), l = hex_val(buf[2 * i + 1]);

		if (h < 0 || l < 0)
			return ERR_CONFIG;
		key[i] = (uint8_t)(h << 4 | l);
	}
	return 0;
}

/* The owner of path's directory, who could replace the file anyway: a split install's
 * corrald (user corral) owns the key it writes, and root may still verify with it. */
static uid_t
dir_owner(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
	return stat(dir, &st) == 0 ? st.st_uid : (uid_t)-1;
}

int
audit_key_load(const char *path, bool create, uint8_t key[AUDIT_KEY_LEN], char *err,
    size_t errlen)
{
	char buf[2 * AUDIT_KEY_LEN + 8], dummy[1];
	struct stat st;
	ssize_t n;
	int fd, r;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		r = -errno;
		if (r == -ENOENT && create && (r = key_create(path, key, err, errlen)) != -EEXIST)
			return r;
		if (r == -EEXIST)	/* lost the race: load the winner's */
			return audit_key_load(path, false, key, err, errlen);
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	r = ERR_CONFIG;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		snprintf(err, errlen, "%s: not a regular file", path);
	else if (st.st_uid != 0 && st.st_uid != geteuid() && st.st_uid != dir_owner(path))
		snprintf(err, errlen, "%s: owned by uid %u: must be owned by root, uid %u or its "
		    "directory's owner", path, (unsigned)st.st_uid, (unsigned)geteuid());
	else if ((st.st_mode & 077) != 0)
		snprintf(err, errlen, "%s: mode %04o: must not be accessible by group or others",
		    path, (unsigned)(st.st_mode & 07777));
	else if ((n = read(fd, buf, sizeof(buf))) < 0 || key_parse(buf, (size_t)n, key) < 0)
		snprintf(err, errlen, "%s: must hold 64 hex digits or 32 bytes", path);
	else
		r = 0;
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return r;
}

/* --- checkpoint file --- */

char *
audit_ckpt_path(const char *log_path)
{
	size_t n = strlen(log_path);
	char *p;

	if (n > 6 && strcmp(log_path + n - 6, ".jsonl") == 0)
		n -= 6;
	if ((p = malloc(n + sizeof(".checkpoint"))) == NULL)
		return NULL;
	memcpy(p, log_path, n);
	memcpy(p + n, ".checkpoint", sizeof(".checkpoint"));
	return p;
}

static int
ckpt_parse(const char *buf, size_t n, uint64_t *seq, char hash[AUDIT_HEX_LEN + 1], char *file,
    size_t filelen)
{
	json_t *j = json_loadb(buf, n, JSON_REJECT_DUPLICATES, NULL), *s;
	const char *h, *f;
	int r = ERR_PROTO;

	if (j == NULL)
		return ERR_PROTO;
	s = json_object_get(j, "seq");
	h = json_string_value(json_object_get(j, "hash"));
	f = json_string_value(json_object_get(j, "file"));
	if (!json_is_integer(s) || json_integer_value(s) < 0 || h == NULL ||
	    strlen(h) != AUDIT_HEX_LEN)
		goto out;
	*seq = (uint64_t)json_integer_value(s);
	memcpy(hash, h, AUDIT_HEX_LEN + 1);
	if (file != NULL && filelen > 0)
		strlcpy(file, f ? f : "", filelen);
	r = 0;
out:
	json_decref(j);
	return r;
}

int
audit_ckpt_read(const char *path, struct audit_mac *m, uint64_t *seq,
    char hash[AUDIT_HEX_LEN + 1], char *file, size_t filelen)
{
	char buf[1024];
	ssize_t n;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return r;
	if (n == 0 || (size_t)n == sizeof(buf) || buf[n - 1] != '\n')
		return ERR_PROTO;
	n--;
	if (m != NULL && (r = audit_line_check(m, buf, (size_t)n)) < 0)
		return r;
	return ckpt_parse(buf, (size_t)n, seq, hash, file, filelen);
}

/* --- record builder --- */

/* Error texts from workers can hold any bytes: keep ASCII, '?' for the rest when the text is
 * not valid UTF-8, rather than lose the record. */
static json_t *
json_string_lossy(const char *s)
{
	json_t *j = json_string(s);
	char *c;

	if (j != NULL || (c = strdup(s)) == NULL)
		return j;
	for (char *p = c; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(c);
	free(c);
	return j;
}

static int
rec_set_str(json_t *o, const char *k, const char *v)
{
	return v == NULL ? 0 : json_object_set_new(o, k, json_string_lossy(v));
}

static int
rec_set_list(json_t *o, const char *k, const char *const *v, size_t n)
{
	json_t *a;

	if (v == NULL || n == 0)
		return 0;
	if ((a = json_array()) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (v[i] != NULL && json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return -1;
		}
	return json_object_set_new(o, k, a);
}

json_t *
audit_rec_call(const char *type, const struct audit_call *c)
{
	json_t *o = json_object();
	int bad = 0;

	if (o == NULL)
		return NULL;
	bad |= rec_set_str(o, "type", type);
	bad |= rec_set_str(o, "call_id", c->call_id);
	bad |= rec_set_str(o, "tenant", c->tenant);
	bad |= rec_set_str(o, "principal", c->principal);
	bad |= rec_set_str(o, "tool", c->tool);
	bad |= rec_set_str(o, "op", c->op);
	if (c->args != NULL)
		bad |= json_object_set(o, "args", (json_t *)c->args);
	bad |= rec_set_str(o, "decision", c->decision);
	bad |= rec_set_list(o, "rule_ids", c->rule_ids, c->nrule_ids);
	bad |= rec_set_str(o, "policy_hash", c->policy_hash);
	bad |= rec_set_list(o, "approval_ids", c->approval_ids, c->napproval_ids);
	if (c->duration_ms >= 0)
		bad |= json_object_set_new(o, "duration_ms", json_integer(c->duration_ms));
	bad |= rec_set_str(o, "outcome", c->outcome);
	if (c->http_status > 0)
		bad |= json_object_set_new(o, "http_status", json_integer(c->http_status));
	bad |= rec_set_str(o, "error", c->error);
	bad |= rec_set_str(o, "reason", c->reason);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
