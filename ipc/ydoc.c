/* ydoc: YAML -> position-annotated tree, built from libyaml's event stream. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "ipc/ydoc.h"

/* ---------------------------------------------------------------- errors */

static void
errs_add(struct ydoc_errs *e, char *line, bool warning)
{
	if (e == NULL || line == NULL) {
		free(line);
		return;
	}
	if (e->n == e->cap) {
		size_t ncap = e->cap ? e->cap * 2 : 8;
		char **nm = realloc(e->msg, ncap * sizeof(*nm));
		if (nm == NULL) {
			free(line);
			return;
		}
		e->msg = nm;
		e->cap = ncap;
	}
	e->msg[e->n++] = line;
	if (warning)
		e->warnings++;
	else
		e->errors++;
}

static void vreport(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n,
    bool warning, const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void
vreport(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n, bool warning,
    const char *fmt, va_list ap)
{
	char body[1024], *line = NULL;
	const char *file = d && d->file ? d->file : "<input>";

	if (e == NULL)
		return;
	if (!warning && e->errors >= LIM_CONFIG_ERRORS_MAX)
		return;
	vsnprintf(body, sizeof(body), fmt, ap);
	if (n != NULL) {
		if (asprintf(&line, "%s:%d:%d: %s%s", file, n->line, n->col,
		    warning ? "warning: " : "", body) < 0)
			line = NULL;
	} else if (asprintf(&line, "%s: %s%s", file, warning ? "warning: " : "", body) < 0)
		line = NULL;
	errs_add(e, line, warning);
}

void
ydoc_errf(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(e, d, n, false, fmt, ap);
	va_end(ap);
}

void
ydoc_warnf(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(e, d, n, true, fmt, ap);
	va_end(ap);
}

void
ydoc_errs_print(const struct ydoc_errs *e, void *fp)
{
	for (size_t i = 0; e && i < e->n; i++)
		fprintf((FILE *)fp, "%s\n", e->msg[i]);
}

void
ydoc_errs_free(struct ydoc_errs *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	memset(e, 0, sizeof(*e));
}

/* ---------------------------------------------------------------- tree */

static void
node_free(struct ydoc_node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++) {
		node_free(n->items[i]);
		if (n->keys)
			node_free(n->keys[i]);
	}
	free(n->items);
	free(n->keys);
	free(n->str);
	free(n);
}

void
ydoc_free(struct ydoc *d)
{
	if (d == NULL)
		return;
	node_free(d->root);
	free(d->file);
	free(d);
}

struct builder {
	yaml_parser_t p;
	struct ydoc *d;
	struct ydoc_errs *errs;
};

static void build_err(struct builder *b, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
build_err(struct builder *b, int line, int col, const char *fmt, ...)
{
	struct ydoc_node at = { .line = line, .col = col };
	va_list ap;

	va_start(ap, fmt);
	vreport(b->errs, b->d, &at, false, fmt, ap);
	va_end(ap);
}

static struct ydoc_node *
node_new(struct builder *b, enum ydoc_type t, const yaml_mark_t *m)
{
	struct ydoc_node *n;

	if (++b->d->nodes > LIM_YAML_NODES_MAX) {
		build_err(b, (int)m->line + 1, (int)m->column + 1, "%s",
		    "document has too many nodes");
		return NULL;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->type = t;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	return n;
}

static int
push_child(struct ydoc_node *parent, struct ydoc_node *key, struct ydoc_node *val)
{
	struct ydoc_node **ni, **nk = NULL;

	if (parent->n % 8 == 0) {
		ni = realloc(parent->items, (parent->n + 8) * sizeof(*ni));
		if (ni == NULL)
			return -ENOMEM;
		parent->items = ni;
		if (parent->type == YDOC_MAP) {
			nk = realloc(parent->keys, (parent->n + 8) * sizeof(*nk));
			if (nk == NULL)
				return -ENOMEM;
			parent->keys = nk;
		}
	}
	parent->items[parent->n] = val;
	if (parent->type == YDOC_MAP)
		parent->keys[parent->n] = key;
	parent->n++;
	return 0;
}

static int parse_node(struct builder *b, yaml_event_t *ev, unsigned depth,
    struct ydoc_node **out);

static int
next_event(struct builder *b, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&b->p, ev)) {
		build_err(b, (int)b->p.problem_mark.line + 1, (int)b->p.problem_mark.column + 1,
		    "YAML syntax error: %s", b->p.problem ? b->p.problem : "unknown");
		return ERR_CONFIG;
	}
	return 0;
}

static int
parse_collection(struct builder *b, struct ydoc_node *n, yaml_event_type_t end, unsigned depth)
{
	yaml_event_t ev;
	int r;

	for (;;) {
		struct ydoc_node *key = NULL, *val = NULL;

		if ((r = next_event(b, &ev)) < 0)
			return r;
		if (ev.type == end) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (n->type == YDOC_MAP) {
			r = parse_node(b, &ev, depth + 1, &key);
			yaml_event_delete(&ev);
			if (r < 0)
				return r;
			if (key->type != YDOC_SCALAR) {
				ydoc_errf(b->errs, b->d, key, "mapping keys must be scalars");
				node_free(key);
				return ERR_CONFIG;
			}
			for (size_t i = 0; i < n->n; i++) {
				if (strcmp(n->keys[i]->str, key->str) == 0) {
					ydoc_errf(b->errs, b->d, key,
					    "duplicate key '%s' (first at line %d)", key->str,
					    n->keys[i]->line);
					node_free(key);
					return ERR_CONFIG;
				}
			}
			if ((r = next_event(b, &ev)) < 0) {
				node_free(key);
				return r;
			}
		}
		r = parse_node(b, &ev, depth + 1, &val);
		yaml_event_delete(&ev);
		if (r < 0 || (r = push_child(n, key, val)) < 0) {
			node_free(key);
			node_free(val);
			return r;
		}
	}
}

static int
parse_node(struct builder *b, yaml_event_t *ev, unsigned depth, struct ydoc_node **out)
{
	struct ydoc_node *n = NULL;
	int r;

	*out = NULL;
	if (depth > LIM_YAML_DEPTH_MAX) {
		build_err(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1, "%s",
		    "nesting too deep");
		return ERR_CONFIG;
	}
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		build_err(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
		    "YAML aliases (*%s) are not supported", (const char *)ev->data.alias.anchor);
		return ERR_CONFIG;
	case YAML_SCALAR_EVENT:
		if ((n = node_new(b, YDOC_SCALAR, &ev->start_mark)) == NULL)
			return ERR_CONFIG;
		n->len = ev->data.scalar.length;
		if (memchr(ev->data.scalar.value, '\0', n->len) != NULL) {
			ydoc_errf(b->errs, b->d, n, "NUL character in scalar");
			node_free(n);
			return ERR_CONFIG;
		}
		if ((n->str = strndup((const char *)ev->data.scalar.value, n->len)) == NULL) {
			node_free(n);
			return -ENOMEM;
		}
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		*out = n;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
		if ((n = node_new(b, YDOC_SEQ, &ev->start_mark)) == NULL)
			return ERR_CONFIG;
		r = parse_collection(b, n, YAML_SEQUENCE_END_EVENT, depth);
		break;
	case YAML_MAPPING_START_EVENT:
		if ((n = node_new(b, YDOC_MAP, &ev->start_mark)) == NULL)
			return ERR_CONFIG;
		r = parse_collection(b, n, YAML_MAPPING_END_EVENT, depth);
		break;
	default:
		build_err(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1, "%s",
		    "unexpected YAML event");
		return ERR_CONFIG;
	}
	if (r < 0) {
		node_free(n);
		return r;
	}
	*out = n;
	return 0;
}

static int
build(struct builder *b)
{
	yaml_event_t ev;
	int r;
	bool in_doc = false, seen_doc = false;

	for (;;) {
		if ((r = next_event(b, &ev)) < 0)
			return r;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
			break;
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			return 0;
		case YAML_DOCUMENT_START_EVENT:
			if (seen_doc) {
				build_err(b, (int)ev.start_mark.line + 1,
				    (int)ev.start_mark.column + 1, "%s",
				    "only one YAML document per file");
				yaml_event_delete(&ev);
				return ERR_CONFIG;
			}
			in_doc = seen_doc = true;
			break;
		case YAML_DOCUMENT_END_EVENT:
			in_doc = false;
			break;
		default:
			if (!in_doc || b->d->root != NULL) {
				yaml_event_delete(&ev);
				return ERR_CONFIG;
			}
			r = parse_node(b, &ev, 0, &b->d->root);
			if (r < 0) {
				yaml_event_delete(&ev);
				return r;
			}
			break;
		}
		yaml_event_delete(&ev);
	}
}

int
ydoc_load_mem(const char *name, const char *buf, size_t len, struct ydoc **out,
    struct ydoc_errs *errs)
{
	struct builder b = { .errs = errs };
	int r;

	*out = NULL;
	if ((b.d = calloc(1, sizeof(*b.d))) == NULL)
		return -ENOMEM;
	if ((b.d->file = strdup(name ? name : "<input>")) == NULL) {
		free(b.d);
		return -ENOMEM;
	}
	if (len > LIM_CONFIG_FILE_MAX) {
		ydoc_errf(errs, b.d, NULL, "file is larger than %u bytes", LIM_CONFIG_FILE_MAX);
		ydoc_free(b.d);
		return ERR_CONFIG;
	}
	if (!yaml_parser_initialize(&b.p)) {
		ydoc_free(b.d);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&b.p, (const unsigned char *)buf, len);
	r = build(&b);
	yaml_parser_delete(&b.p);
	if (r < 0) {
		ydoc_free(b.d);
		return r == -ENOMEM ? r : ERR_CONFIG;
	}
	*out = b.d;
	return 0;
}

int
ydoc_load_file(const char *path, struct ydoc **out, struct ydoc_errs *errs)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t k;
	int fd, r;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		r = -errno;
		ydoc_errf(errs, &(struct ydoc){ .file = (char *)path }, NULL, "cannot open: %s",
		    strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		ydoc_errf(errs, &(struct ydoc){ .file = (char *)path }, NULL,
		    "not a regular file");
		return ERR_CONFIG;
	}
	if ((uint64_t)st.st_size > LIM_CONFIG_FILE_MAX) {
		close(fd);
		ydoc_errf(errs, &(struct ydoc){ .file = (char *)path }, NULL,
		    "file is larger than %u bytes", LIM_CONFIG_FILE_MAX);
		return ERR_CONFIG;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size &&
	    (k = read(fd, buf + got, (size_t)st.st_size - got)) != 0) {
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			free(buf);
			close(fd);
			return r;
		}
		got += (size_t)k;
	}
	close(fd);
	r = ydoc_load_mem(path, buf, got, out, errs);
	free(buf);
	return r;
}

/* ---------------------------------------------------------------- decoding helpers */

static const char *
type_name(const struct ydoc_node *n)
{
	if (n == NULL)
		return "nothing";
	switch (n->type) {
	case YDOC_MAP:
		return "a mapping";
	case YDOC_SEQ:
		return "a sequence";
	default:
		return "a scalar";
	}
}

struct ydoc_node *
ydoc_get(const struct ydoc_node *m, const char *key)
{
	if (m == NULL || m->type != YDOC_MAP)
		return NULL;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->keys[i]->str, key) == 0)
			return m->items[i];
	return NULL;
}

int
ydoc_check_keys(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *m,
    const char *const *allowed)
{
	int r = 0;

	if (m == NULL || m->type != YDOC_MAP)
		return 0;
	for (size_t i = 0; i < m->n; i++) {
		size_t j;

		for (j = 0; allowed[j] != NULL; j++)
			if (strcmp(allowed[j], m->keys[i]->str) == 0)
				break;
		if (allowed[j] == NULL) {
			char hint[512] = "";
			size_t off = 0;

			for (j = 0; allowed[j] != NULL && off < sizeof(hint) - 1; j++)
				off += (size_t)snprintf(hint + off, sizeof(hint) - off, "%s%s",
				    j ? ", " : "", allowed[j]);
			ydoc_errf(e, d, m->keys[i], "unknown key '%s' (expected one of: %s)",
			    m->keys[i]->str, hint);
			r = ERR_UNKNOWN;
		}
	}
	return r;
}

int
ydoc_want(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n,
    enum ydoc_type t)
{
	static const char *const names[] = { "a scalar", "a sequence", "a mapping" };

	if (n != NULL && n->type == t)
		return 0;
	ydoc_errf(e, d, n, "expected %s, found %s", names[t], type_name(n));
	return ERR_TYPE;
}

bool
ydoc_is_null(const struct ydoc_node *n)
{
	if (n == NULL)
		return true;
	if (n->type != YDOC_SCALAR || n->quoted)
		return false;
	return n->len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
	    strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0;
}

int
ydoc_str(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n, const char **out)
{
	if (n == NULL || n->type != YDOC_SCALAR) {
		ydoc_errf(e, d, n, "expected a string, found %s", type_name(n));
		return ERR_TYPE;
	}
	*out = n->str;
	return 0;
}

int
ydoc_bool(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n, bool *out)
{
	static const char *const t[] = { "true", "True", "TRUE", NULL };
	static const char *const f[] = { "false", "False", "FALSE", NULL };

	if (n != NULL && n->type == YDOC_SCALAR && !n->quoted) {
		for (int i = 0; t[i]; i++)
			if (strcmp(n->str, t[i]) == 0)
				return (*out = true), 0;
		for (int i = 0; f[i]; i++)
			if (strcmp(n->str, f[i]) == 0)
				return (*out = false), 0;
	}
	ydoc_errf(e, d, n, "expected true or false, found %s%s%s%s", type_name(n),
	    n && n->type == YDOC_SCALAR ? " '" : "", n && n->type == YDOC_SCALAR ? n->str : "",
	    n && n->type == YDOC_SCALAR ? "'" : "");
	return ERR_TYPE;
}

int
ydoc_int(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n, int64_t min,
    int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (n == NULL || n->type != YDOC_SCALAR || n->quoted || n->len == 0) {
		ydoc_errf(e, d, n, "expected an integer, found %s", type_name(n));
		return ERR_TYPE;
	}
	errno = 0;
	v = strtoll(n->str, &end, 10);
	if (*end != '\0' || errno != 0) {
		ydoc_errf(e, d, n, "expected an integer, found '%s'", n->str);
		return ERR_TYPE;
	}
	if (v < min || v > max) {
		ydoc_errf(e, d, n, "%lld is out of range [%" PRId64 ", %" PRId64 "]", v, min, max);
		return ERR_TOOBIG;
	}
	*out = v;
	return 0;
}

int
ydoc_double(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n, double *out)
{
	char *end;
	double v;

	if (n == NULL || n->type != YDOC_SCALAR || n->quoted || n->len == 0) {
		ydoc_errf(e, d, n, "expected a number, found %s", type_name(n));
		return ERR_TYPE;
	}
	errno = 0;
	v = strtod(n->str, &end);
	if (*end != '\0' || errno != 0 || !isfinite(v)) {
		ydoc_errf(e, d, n, "expected a number, found '%s'", n->str);
		return ERR_TYPE;
	}
	*out = v;
	return 0;
}

int
ydoc_parse_duration_ms(const char *s, int64_t *out)
{
	int64_t total = 0;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return ERR_CONFIG;
	/* One or more <int><unit> groups ("1h30m"); a bare integer is seconds. */
	while (*p) {
		int64_t v = 0, mul;
		const char *start = p;

		while (*p >= '0' && *p <= '9') {
			if (v > INT64_MAX / 10 - 10)
				return ERR_CONFIG;
			v = v * 10 + (*p++ - '0');
		}
		if (p == start)
			return ERR_CONFIG;
		if (strncmp(p, "ms", 2) == 0)
			mul = 1, p += 2;
		else if (*p == 's')
			mul = 1000, p++;
		else if (*p == 'm')
			mul = 60000, p++;
		else if (*p == 'h')
			mul = 3600000, p++;
		else if (*p == 'd')
			mul = 86400000, p++;
		else if (*p == '\0' && start == s)
			mul = 1000;
		else
			return ERR_CONFIG;
		if (v > INT64_MAX / mul || total > INT64_MAX - v * mul)
			return ERR_CONFIG;
		total += v * mul;
	}
	*out = total;
	return 0;
}

int
ydoc_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (s == NULL || *s < '0' || *s > '9')
		return ERR_CONFIG;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return ERR_CONFIG;
	switch (*end) {
	case '\0':
		break;
	case 'K': case 'k':
		mul = 1ull << 10;
		end++;
		break;
	case 'M':
		mul = 1ull << 20;
		end++;
		break;
	case 'G':
		mul = 1ull << 30;
		end++;
		break;
	default:
		return ERR_CONFIG;
	}
	if (*end == 'i')
		end++;
	if (*end == 'B')
		end++;
	if (*end != '\0' || v > UINT64_MAX / mul)
		return ERR_CONFIG;
	*out = v * mul;
	return 0;
}

int
ydoc_duration_ms(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n,
    int64_t *out)
{
	if (n == NULL || n->type != YDOC_SCALAR || ydoc_parse_duration_ms(n->str, out) < 0) {
		ydoc_errf(e, d, n, "expected a duration like 30s, 15m or 1h, found %s%s%s%s",
		    type_name(n), n && n->type == YDOC_SCALAR ? " '" : "",
		    n && n->type == YDOC_SCALAR ? n->str : "",
		    n && n->type == YDOC_SCALAR ? "'" : "");
		return ERR_TYPE;
	}
	return 0;
}

int
ydoc_size(struct ydoc_errs *e, const struct ydoc *d, const struct ydoc_node *n, uint64_t *out)
{
	if (n == NULL || n->type != YDOC_SCALAR || ydoc_parse_size(n->str, out) < 0) {
		ydoc_errf(e, d, n, "expected a size like 256M or 1G, found %s%s%s%s", type_name(n),
		    n && n->type == YDOC_SCALAR ? " '" : "",
		    n && n->type == YDOC_SCALAR ? n->str : "",
		    n && n->type == YDOC_SCALAR ? "'" : "");
		return ERR_TYPE;
	}
	return 0;
}
