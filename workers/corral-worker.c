/* corral-worker: the confined tool worker. corrald starts it through corral-jail:
 *   corral-worker --kind http --family argocd --socket /ipc/sock
 * One process serves exactly one family for one tenant. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workers/execkind.h"
#include "workers/kinds.h"
#include "workers/runtime.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: corral-worker --kind http|exec|model --family NAME --socket PATH "
	    "[--threads N] [--kubectl PATH] [--flux PATH]\n"
	    "Runs one tool family for corrald inside its confinement. Not for direct use:\n"
	    "corrald starts it through corral-jail and talks to it over PATH.\n");
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "family", required_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "kubectl", required_argument, NULL, 'K' },
		{ "flux", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct wrk_opts o = { .kind = TOOL_KIND_HTTP, .threads = 4 };
	const struct wrk_kind_ops *kops = &wrk_kind_http;
	struct exec_kind_opts xo = { 0 };
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (tool_kind_parse(optarg, &o.kind) < 0 || o.kind == TOOL_KIND_AGENT) {
				fprintf(stderr, "corral-worker: bad kind '%s'\n", optarg);
				return 2;
			}
			break;
		case 'f':
			o.family = optarg;
			break;
		case 's':
			o.socket_path = optarg;
			break;
		case 't':
			o.threads = atoi(optarg);
			break;
		case 'K':
			xo.kubectl = optarg;
			break;
		case 'F':
			xo.flux = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (o.family == NULL || o.socket_path == NULL) {
		usage(stderr);
		return 2;
	}
	if (o.kind == TOOL_KIND_MODEL)
		kops = &wrk_kind_model;
	if (o.kind == TOOL_KIND_EXEC) {
		exec_kind_configure(&xo);
		kops = &wrk_kind_exec;
	}
	return wrk_main(&o, kops);
}
