/* Regenerates the seed corpora of fuzz_shapers and fuzz_prom from the loopback fakes:
 *
 *	BUILD/tests/fuzz/gen_shapers_corpus tests/fuzz/corpus
 *
 * Every op of every family with a fake runs, with the same schema-valid arguments the fuzz
 * target uses, through the real HTTP client against its contract-checking fake; each answer
 * the op's run hook receives is written as a seed "family.op STATUS\n<body>" into
 * shapers/ (and prometheus' into prom/ as well). Answers are spec-shaped: the fakes build them
 * from the upstream contracts (tests/tools/contracts). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz_io.h"
#include "tests/tools/harness.h"
#include "tools/http.h"

static const struct { const char *family, *fake; } fakes[] = {
	{ "argocd", "fake_argocd.py" },
	{ "prometheus", "fake_prometheus.py" },
	{ "github_actions", "fake_github.py" },
	{ "gitlab_ci", "fake_gitlab.py" },
	{ "jenkins", "fake_jenkins.py" },
};

static const char *outdir;
static const char *cur_family, *cur_op;
static int (*real_http)(struct tool_io *, const struct tool_call *, const struct http_req *,
    struct http_resp *, struct tool_err *);
static unsigned nexchange, nwritten;

static void
write_seed(const char *sub, long status, const char *body, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s.%s-%u", outdir, sub, cur_family, cur_op, nexchange);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fprintf(f, "%s.%s %ld\n", cur_family, cur_op, status);
	fwrite(body, 1, len, f);
	fclose(f);
	nwritten++;
}

static int
rec_http(struct tool_io *io, const struct tool_call *call, const struct http_req *req,
    struct http_resp *resp, struct tool_err *err)
{
	int r = real_http(io, call, req, resp, err);

	if (resp->body != NULL && resp->status > 0) {
		write_seed("shapers", resp->status, resp->body, resp->len);
		if (strcmp(cur_family, "prometheus") == 0)
			write_seed("prom", resp->status, resp->body, resp->len);
		nexchange++;
	}
	return r;
}

int
main(int argc, char **argv)
{
	char sub[1024];

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR (tests/fuzz/corpus)\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	fz_init();
	for (int k = 0; k < 2; k++) {
		snprintf(sub, sizeof(sub), "%s/%s", outdir, k ? "prom" : "shapers");
		mkdir(sub, 0755);
	}
	for (size_t i = 0; i < sizeof(fakes) / sizeof(fakes[0]); i++) {
		const struct tool_family *f = tool_family_find(fakes[i].family);
		struct fake fk;
		struct harness h;

		if (f == NULL || fake_start(&fk, fakes[i].fake, NULL) < 0) {
			fprintf(stderr, "cannot start %s\n", fakes[i].fake);
			return 1;
		}
		harness_init(&h, &fk, "gen-token-0123456789");
		h.endpoint_extra = json_pack("{s:s}", "user", "bot");	/* jenkins */
		real_http = h.io.http;
		h.io.http = rec_http;
		cur_family = f->name;
		for (const struct tool_op *op = f->ops; op->name; op++) {
			json_t *args = fz_args_for(op), *res = NULL;
			struct tool_err err;
			char *txt;

			if (op->run == NULL || args == NULL)
				continue;
			cur_op = op->name;
			nexchange = 0;
			txt = json_dumps(args, JSON_COMPACT);
			memset(&err, 0, sizeof(err));
			harness_call_unchecked(&h, f, op->name, args, &res, &err);
			printf("%s.%s %s: %u answers%s%s\n", f->name, op->name, txt, nexchange,
			    res ? "" : ", error: ", res ? "" : err.text);
			free(txt);
			json_decref(res);
		}
		json_decref(h.endpoint_extra);
		h.endpoint_extra = NULL;
		harness_fini(&h);
		fake_stop(&fk);
	}
	printf("%u seeds written\n", nwritten);
	return 0;
}
