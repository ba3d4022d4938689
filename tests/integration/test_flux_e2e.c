/* Flux through corrald: a real corrald spawns the exec worker (kubectl pinned through
 * corral-jail's exec slot), the worker reaches the fake Kubernetes API only through the
 * broker, and the caller picks a configured cluster by name, never a URL or a file. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/integration/agentsfx.h"

static struct hx h;
static pid_t fake = -1;
static char fakelog[400];

static void
teardown(void)
{
	if (fake > 0) {
		kill(fake, SIGTERM);
		waitpid(fake, NULL, 0);
	}
	hx_cleanup(&h);
}

TestSuite(flux_e2e, .timeout = 120, .fini = teardown);

static int
start_fake(void)
{
	char script[512], line[64];
	int p[2], port = 0;
	FILE *f;

	snprintf(script, sizeof(script), "%s/tests/fakes/fake_kube.py", getenv("CORRAL_SRCROOT"));
	snprintf(fakelog, sizeof(fakelog), "%s/kube.log", h.dir);
	cr_assert_eq(pipe(p), 0);
	if ((fake = fork()) == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execlp("python3", "python3", script, fakelog, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "PORT %d", &port) == 1)
			break;
	fclose(f);
	cr_assert_gt(port, 0, "fake_kube did not start");
	return port;
}

Test(flux_e2e, ops_through_corrald)
{
	const char *get[] = { "-o", "json", "call", "flux", "get_kustomization", "--args",
		"{\"name\":\"apps\",\"cluster\":\"dev\"}", NULL };
	const char *sus[] = { "-o", "json", "call", "flux", "suspend_kustomization", "--args",
		"{\"name\":\"apps\",\"cluster\":\"dev\"}", NULL };
	const char *other[] = { "call", "flux", "get_kustomizations", "--args",
		"{\"cluster\":\"prod\"}", NULL };
	const char *inj[] = { "call", "flux", "get_kustomization", "--args",
		"{\"name\":\"--kubeconfig=/etc/shadow\",\"cluster\":\"dev\"}", NULL };
	char cfg[1024], *out = NULL, *log;
	int port;

	hx_config(&h, "tenants: {}\n");
	port = start_fake();
	snprintf(cfg, sizeof(cfg),
	    "runtime_dir: %s/run\nstate_dir: %s/state\nlibexec_dir: %s\n"
	    "binaries: { kubectl: %s }\n"
	    "tenants:\n  demo: { uid: 41020 }\n"
	    "endpoints:\n  flux:\n"
	    "    - { name: dev, tenant: demo, url: \"http://127.0.0.1:%d\", allow_private: true }\n",
	    h.dir, h.dir, getenv("CORRAL_LIBEXEC"), afx_kubectl_path(), port);
	hx_file(&h, "corral.yaml", cfg, 0600);
	hx_start(&h, 1);

	cr_assert_eq(hx_ctl(&h, &out, get), 0, "%s", out);
	free(out);
	{
		/* status shows what the exec worker pins and proxies */
		const char *stv[] = { "status", NULL };

		cr_assert_eq(hx_ctl(&h, &out, stv), 0, "%s", out);
		cr_assert(strstr(out, "exec: kubectl pinned at fd 1001"), "%s", out);
		free(out);
	}
	cr_assert_eq(hx_ctl(&h, &out, get), 0, "%s", out);
	cr_assert(strstr(out, "\"name\": \"apps\""), "%s", out);
	cr_assert(strstr(out, "\"ready\": true"), "%s", out);
	free(out);
	cr_assert_eq(hx_ctl(&h, &out, sus), 0, "%s", out);
	free(out);
	log = hx_read(fakelog);
	cr_assert(strstr(log, "\"method\": \"PATCH\"") || strstr(log, "\"method\":\"PATCH\""),
	    "no PATCH reached the API server: %s", log);
	cr_assert(strstr(log, "merge-patch+json"), "%s", log);
	free(log);
	/* a cluster the tenant does not have, and a name that is an option: refused */
	cr_assert_neq(hx_ctl(&h, &out, other), 0, "%s", out);
	free(out);
	cr_assert_eq(hx_ctl(&h, &out, inj), 1, "%s", out);
	cr_assert(strstr(out, "name"), "%s", out);
	free(out);
	cr_assert_eq(hx_stop(&h), 0);
}
