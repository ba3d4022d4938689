/* libFuzzer target: the supervisor's configuration loader (supervisor/config.c). The input is
 * written over one file in a private temporary directory that also holds an agent file and a
 * policy file, so references to agent.yaml and policy.yaml resolve and the reference checks run;
 * config_load() reads it back.
 * Invariants: success <=> a config and no error entries; a failure leaves no config and, unless
 * it is -ENOMEM, at least one "file:..." message; a loaded config is internally consistent (every
 * tenant found by name, endpoints name a known family and tenant, agents a known tenant, paths
 * absolute, defaults set). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/err.h"
#include "supervisor/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_config: %s (line %d)\n", #c, \
	__LINE__); abort(); } } while (0)

static char dir[64], path[96];
static int fd = -1;

static void
put(const char *name, const char *text)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	CHECK((f = fopen(p, "w")) != NULL);
	fputs(text, f);
	fclose(f);
}

static void
cleanup(void)
{
	char p[128];

	for (const char *const *n = (const char *const[]){ "corral.yaml", "agent.yaml",
	    "policy.yaml", NULL }; *n; n++) {
		snprintf(p, sizeof(p), "%s/%s", dir, *n);
		unlink(p);
	}
	rmdir(dir);
}

static void
setup(void)
{
	/* tmpfs when there is one: the file is rewritten for every input */
	snprintf(dir, sizeof(dir), "/dev/shm/corral-fuzz-config-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		snprintf(dir, sizeof(dir), "/tmp/corral-fuzz-config-XXXXXX");
		CHECK(mkdtemp(dir) != NULL);
	}
	snprintf(path, sizeof(path), "%s/corral.yaml", dir);
	CHECK((fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0);
	put("agent.yaml", "name: a\nmodel: script:x\ntools: [echo]\n");
	put("policy.yaml", "apiVersion: corral.dev/v1\nkind: Policy\nmetadata: { name: p }\n"
	    "spec:\n  tenant: demo\n  rules: []\n");
	atexit(cleanup);
}

static void
consistent(const struct config *c)
{
	CHECK(c->ntenants >= 1);
	CHECK(c->runtime_dir && c->state_dir && c->libexec_dir && c->control_socket &&
	    c->audit_path);
	CHECK(c->runtime_dir[0] == '/' && c->state_dir[0] == '/');
	CHECK(c->call_deadline_ms > 0 && c->drain_ms > 0);
	CHECK(c->audit_fsync <= CFG_FSYNC_NONE);
	for (size_t i = 0; i < c->ntenants; i++) {
		CHECK(c->tenants[i].name != NULL);
		CHECK(config_tenant(c, c->tenants[i].name) == &c->tenants[i]);
		for (size_t k = 0; k < c->tenants[i].nfamilies; k++)
			CHECK(tool_family_find(c->tenants[i].families[k]) != NULL);
	}
	for (size_t i = 0; i < c->nendpoints; i++) {
		const struct cfg_endpoint *ep = &c->endpoints[i];

		CHECK(ep->family && tool_family_find(ep->family) != NULL);
		CHECK(ep->tenant == NULL || config_tenant(c, ep->tenant) != NULL);
		CHECK(config_endpoint(c, ep->family, ep->tenant, NULL) != NULL);
	}
	for (size_t i = 0; i < c->nagents; i++) {
		CHECK(c->agents[i].tenant && config_tenant(c, c->agents[i].tenant) != NULL);
		CHECK(c->agents[i].file || c->agents[i].exec);
		CHECK(c->agents[i].file == NULL || c->agents[i].file[0] == '/');
	}
	for (size_t i = 0; i < c->npolicies; i++)
		CHECK(c->policies[i] && c->policies[i][0] == '/');
	for (size_t i = 0; i < c->nroles; i++)
		CHECK(c->roles[i].tenant == NULL || config_tenant(c, c->roles[i].tenant) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ydoc_errs errs = { 0 };
	struct config *c = (struct config *)1;
	int r;

	if (fd < 0)
		setup();
	CHECK(ftruncate(fd, 0) == 0);
	CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
	r = config_load(path, &c, &errs);
	if (r == 0) {
		CHECK(c != NULL && errs.errors == 0);
		consistent(c);
	} else {
		CHECK(r < 0 && c == NULL);
		CHECK(r == -ENOMEM || errs.errors > 0);
		for (size_t i = 0; i < errs.n; i++)
			CHECK(strncmp(errs.msg[i], path, strlen(path)) == 0);
	}
	config_free(r == 0 ? c : NULL);
	ydoc_errs_free(&errs);
	return 0;
}
