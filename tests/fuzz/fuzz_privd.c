/* libFuzzer target: corral-privd's reading of a SPAWN request (supervisor/privd_vet.c), the
 * one decoder the root monitor runs on what the unprivileged corrald sends. The first byte is
 * the argument count, the rest the payload of NUL-terminated strings.
 * Invariants: a payload splits only into exactly that many strings covering it; a vetted
 * vector names the jail first, a uid and gid inside the range (never 0), and a /ipc bind under
 * the runtime directory; a refusal always says why. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/err.h"
#include "ipc/limits.h"
#include "supervisor/privd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_privd: %s (line %d)\n", #c, \
	__LINE__); abort(); } } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct privd_rules rules = { .jail_path = "/x/corral-jail",
		.runtime_dir = "/r", .state_dir = "/s", .uid_min = 41000, .uid_max = 41999 };
	char *argv[LIM_PRIVD_ARGS_MAX + 1], *buf, why[300];
	struct privd_vetted v;
	size_t argc, len, total = 0;
	int r;

	if (size < 1 || size > LIM_PRIVD_MSG)
		return 0;
	argc = data[0];
	len = size - 1;
	if ((buf = malloc(len + 1)) == NULL)
		return 0;
	memcpy(buf, data + 1, len);
	if (privd_split_argv(buf, len, argc, argv) == 0) {
		CHECK(argc >= 1 && argc <= LIM_PRIVD_ARGS_MAX && argv[argc] == NULL);
		for (size_t i = 0; i < argc; i++)
			total += strlen(argv[i]) + 1;
		CHECK(total == len);
		r = privd_vet(&rules, argv, argc, &v, why, sizeof(why));
		if (r == 0) {
			CHECK(strcmp(argv[0], rules.jail_path) == 0);
			CHECK(v.uid >= 41000 && v.uid <= 41999 && v.gid >= 41000 && v.gid <= 41999);
			CHECK(v.nkeep <= 1);
			CHECK(v.state_src == NULL || strncmp(v.state_src, "/s/agents/", 10) == 0);
		} else {
			CHECK(r == ERR_DENIED && why[0] != '\0');
		}
	}
	free(buf);
	return 0;
}
