/* The exec kind's io->exec itself, with a probe script pinned in kubectl's and flux's slots:
 * the environment is built from scratch, the kubeconfig is private (0600) and gone after the
 * run, the child has its own session/process group and none of the worker's descriptors, a
 * deadline kills the whole group, output is capped, and only pinned files that nobody else
 * can write are accepted. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ipc/err.h"
#include "tests/workers/flux_fx.h"
#include "tools/exec.h"
#include "workers/execkind.h"

static char dir[64], probe[128];
static struct fxh h;

static const char probe_sh[] =
    "#!/bin/sh\n"
    "kc=${1#--kubeconfig=}\n"
    "case \"$2\" in\n"
    "env) /usr/bin/env ;;\n"
    "kc) /usr/bin/stat -c '%a %u' \"$kc\"; /bin/cat \"$kc\" ;;\n"
    "ids) /bin/cat /proc/$$/stat ;;\n"
    "fds) for f in /proc/$$/fd/*; do echo \"fd ${f##*/}\"; done ;;\n"
    "sleep) /bin/sleep 30 & echo \"bg $!\"; /bin/sleep 30 ;;\n"
    "flood) /usr/bin/head -c 1000000 /dev/zero | /usr/bin/tr '\\0' 'a' ;;\n"
    "stdin) /bin/cat ;;\n"
    "lines) echo one >&2; echo two >&2; printf three >&2 ;;\n"
    "args) for a in \"$@\"; do echo \"[$a]\"; done ;;\n"
    "exit) exit 7 ;;\n"
    "esac\n";

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cr_assert_eq(chmod(path, mode), 0);
}

static void
setup(void)
{
	struct exec_kind_opts o = { 0 };

	snprintf(dir, sizeof(dir), "/tmp/flux-exec.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(probe, sizeof(probe), "%s/probe", dir);
	write_file(probe, probe_sh, 0755);
	memset(&h, 0, sizeof(h));
	o.kubectl = probe;
	o.flux = probe;
	exec_kind_configure(&o);
	cr_assert_eq(exec_kind_init(), 0);
	cr_assert_eq(exec_kind_thread_io(&h.io), 0);
	h.ctx = json_pack("{s:{s:s, s:s}, s:s}", "endpoint", "name", "test", "url",
	    "https://api.example:6443", "secret", "tok-123456");
}

static void
teardown(void)
{
	char cmd[128];

	exec_kind_thread_io_free(&h.io);
	exec_kind_fini();
	json_decref(h.ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(exec, .init = setup, .fini = teardown, .timeout = 30);

static int
run(const char *mode, struct exec_req *req, struct exec_resp *resp, struct tool_err *err)
{
	struct tool_call call = { .id = 1, .ctx = h.ctx, .deadline = fx_now_ms() + 10000 };

	memset(err, 0, sizeof(*err));
	req->bin = EXEC_BIN_FLUX;
	if (req->argc == 0)
		exec_arg(req, mode);
	return h.io.exec(&h.io, &call, req, resp, err);
}

Test(exec, environment_from_scratch)
{
	struct exec_req req = { 0 };
	struct exec_resp resp;
	struct tool_err err;
	char home[512];

	setenv("CORRAL_TEST_LEAK", "leaked", 1);
	cr_assert_eq(run("env", &req, &resp, &err), 0, "%s", err.text);
	cr_assert_eq(resp.status, 0);
	snprintf(home, sizeof(home), "HOME=%s/home\n", exec_kind_dir());
	cr_assert(strstr(resp.out, home), "%s", resp.out);
	cr_assert(strstr(resp.out, "KUBECACHEDIR="), "%s", resp.out);
	cr_assert_null(strstr(resp.out, "CORRAL_TEST_LEAK"), "inherited: %s", resp.out);
	cr_assert_null(strstr(resp.out, "\nPATH="), "%s", resp.out);
	cr_assert_null(strstr(resp.out, "KUBECONFIG="), "%s", resp.out);
	cr_assert(strstr(resp.out, "HTTPS_PROXY=http://127.0.0.1:"), "%s", resp.out);
	exec_resp_clear(&resp);
}

Test(exec, kubeconfig_private_and_removed)
{
	struct exec_req req = { 0 };
	struct exec_resp resp;
	struct tool_err err;
	char want[64], *json;
	json_t *kc;
	int n = 0;
	struct dirent *e;
	DIR *d;

	cr_assert_eq(run("kc", &req, &resp, &err), 0, "%s", err.text);
	snprintf(want, sizeof(want), "600 %u\n", (unsigned)geteuid());
	cr_assert_eq(strncmp(resp.out, want, strlen(want)), 0, "%s", resp.out);
	json = strchr(resp.out, '\n') + 1;
	kc = json_loads(json, 0, NULL);
	cr_assert_not_null(kc, "%s", json);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(
	    json_object_get(kc, "users"), 0), "user"), "token")), "tok-123456");
	snprintf(want, sizeof(want), "http://127.0.0.1:%u", exec_kind_proxy_port(&h.io));
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(
	    json_object_get(kc, "clusters"), 0), "cluster"), "proxy-url")), want);
	json_decref(kc);
	exec_resp_clear(&resp);
	d = opendir(exec_kind_dir());
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "kubeconfig", 10) == 0;
	closedir(d);
	cr_assert_eq(n, 0, "the kubeconfig is removed after the run");
}

Test(exec, own_session_and_no_inherited_fds)
{
	struct exec_req req = { 0 };
	struct exec_resp resp;
	struct tool_err err;
	int pid, pgrp, sid, leak = fcntl(2, F_DUPFD, 77);
	char line[32];

	cr_assert_eq(leak, 77);
	cr_assert_eq(run("ids", &req, &resp, &err), 0, "%s", err.text);
	cr_assert_eq(sscanf(resp.out, "%d %*s %*s %*d %d %d", &pid, &pgrp, &sid), 3, "%s",
	    resp.out);
	cr_assert_eq(pid, pgrp, "its own process group");
	cr_assert_eq(pid, sid, "its own session");
	exec_resp_clear(&resp);
	memset(&req, 0, sizeof(req));
	cr_assert_eq(run("fds", &req, &resp, &err), 0, "%s", err.text);
	cr_assert_null(strstr(resp.out, "fd 77\n"), "a worker fd leaked: %s", resp.out);
	snprintf(line, sizeof(line), "fd %d\n", FD_EXEC_SLOT + 1);
	cr_assert_null(strstr(resp.out, line), "the other exec slot leaked: %s", resp.out);
	cr_assert(strstr(resp.out, "fd 0\nfd 1\n"), "%s", resp.out);
	close(leak);
	exec_resp_clear(&resp);
}

Test(exec, deadline_kills_the_process_group)
{
	struct exec_req req = { .timeout_ms = 500 };
	struct exec_resp resp;
	struct tool_err err;
	long long t0 = fx_now_ms();
	char path[64], st[256] = "";
	int bg = 0;
	FILE *f;

	cr_assert_eq(run("sleep", &req, &resp, &err), 0, "%s", err.text);
	cr_assert(resp.timed_out);
	cr_assert_eq(resp.signal, SIGKILL);
	cr_assert_lt(fx_now_ms() - t0, 3000);
	cr_assert_eq(sscanf(resp.out, "bg %d", &bg), 1, "%s", resp.out);
	usleep(100000);
	snprintf(path, sizeof(path), "/proc/%d/stat", bg);
	if ((f = fopen(path, "r")) != NULL) {
		cr_assert_not_null(fgets(st, sizeof(st), f));
		fclose(f);
		cr_assert_not_null(strstr(st, ") Z "), "the background child survived: %s", st);
	}
	exec_resp_clear(&resp);
}

Test(exec, output_capped_stdin_lines_exit)
{
	struct exec_req req = { .stdout_max = 1000 };
	struct exec_resp resp;
	struct tool_err err;

	cr_assert_eq(run("flood", &req, &resp, &err), 0, "%s", err.text);
	cr_assert_eq(resp.out_len, 1000);
	cr_assert(resp.out_truncated);
	exec_resp_clear(&resp);

	memset(&req, 0, sizeof(req));
	req.stdin_data = "hello corral";
	req.stdin_len = 12;
	cr_assert_eq(run("stdin", &req, &resp, &err), 0);
	cr_assert_str_eq(resp.out, "hello corral");
	exec_resp_clear(&resp);

	memset(&req, 0, sizeof(req));
	cr_assert_eq(run("exit", &req, &resp, &err), 0);
	cr_assert_eq(resp.status, 7);
	exec_resp_clear(&resp);
}

static void
on_line(void *arg, const char *line)
{
	char *acc = arg;

	strcat(acc, "<");
	strcat(acc, line);
	strcat(acc, ">");
}

Test(exec, stderr_lines_reported_while_running)
{
	char acc[128] = "";
	struct exec_req req = { .on_stderr_line = on_line, .line_arg = acc };
	struct exec_resp resp;
	struct tool_err err;

	cr_assert_eq(run("lines", &req, &resp, &err), 0);
	cr_assert_str_eq(acc, "<one><two><three>");
	cr_assert_str_eq(resp.err, "one\ntwo\nthree");
	exec_resp_clear(&resp);
}

Test(exec, argv_elements_stay_whole)
{
	static const char *const args[] = { "args", "a;b", "$(id)", "x y", "--kubeconfig=/etc/x",
		"", NULL };
	struct exec_req req = { 0 };
	struct exec_resp resp;
	struct tool_err err;

	for (const char *const *a = args; *a; a++)
		exec_arg(&req, *a);
	cr_assert_eq(run(NULL, &req, &resp, &err), 0);
	cr_assert(strstr(resp.out, "[args]\n[a;b]\n[$(id)]\n[x y]\n[--kubeconfig=/etc/x]\n[]\n"),
	    "%s", resp.out);
	exec_resp_clear(&resp);
}

Test(exec, unpinned_binary_and_probe)
{
	struct tool_call call = { .id = 1, .ctx = h.ctx, .deadline = fx_now_ms() + 5000 };
	struct exec_req req = { .bin = EXEC_BIN_KUBECTL, .flags = EXEC_F_PROBE };
	struct exec_resp resp;
	struct tool_err err = { 0 };

	cr_assert_eq(h.io.exec(&h.io, &call, &req, &resp, &err), 0);
	req.bin = EXEC_BIN_COUNT;
	cr_assert_eq(h.io.exec(&h.io, &call, &req, &resp, &err), -ENOENT);
	/* a worker without flux: the probe says so, a run is refused */
	exec_kind_thread_io_free(&h.io);
	exec_kind_fini();
	exec_kind_configure(&(struct exec_kind_opts){ .kubectl = probe });
	cr_assert_eq(exec_kind_init(), 0);
	cr_assert_eq(exec_kind_thread_io(&h.io), 0);
	req = (struct exec_req){ .bin = EXEC_BIN_FLUX, .flags = EXEC_F_PROBE };
	cr_assert_eq(h.io.exec(&h.io, &call, &req, &resp, &err), -ENOENT);
	req.flags = 0;
	cr_assert_eq(h.io.exec(&h.io, &call, &req, &resp, &err), -ENOENT);
}

/* Only a regular, executable file that no group or other user can change is pinned. */
Test(exec, pinning_checks)
{
	char bad[160];

	exec_kind_thread_io_free(&h.io);
	exec_kind_fini();
	snprintf(bad, sizeof(bad), "%s/writable", dir);
	write_file(bad, probe_sh, 0775);
	exec_kind_configure(&(struct exec_kind_opts){ .kubectl = bad });
	cr_assert_eq(exec_kind_init(), ERR_CONFIG, "group-writable binary pinned");
	exec_kind_fini();
	exec_kind_configure(&(struct exec_kind_opts){ .kubectl = dir });
	cr_assert_eq(exec_kind_init(), ERR_CONFIG, "a directory pinned");
	exec_kind_fini();
	snprintf(bad, sizeof(bad), "%s/nosuch", dir);
	exec_kind_configure(&(struct exec_kind_opts){ .kubectl = bad });
	cr_assert_eq(exec_kind_init(), ERR_CONFIG);
	exec_kind_fini();
	snprintf(bad, sizeof(bad), "%s/noexec", dir);
	write_file(bad, probe_sh, 0644);
	exec_kind_configure(&(struct exec_kind_opts){ .kubectl = probe, .flux = bad });
	cr_assert_eq(exec_kind_init(), ERR_CONFIG, "a non-executable flux pinned");
	exec_kind_fini();
	exec_kind_configure(&(struct exec_kind_opts){ .kubectl = probe });
	cr_assert_eq(exec_kind_init(), 0);
	cr_assert_eq(exec_kind_thread_io(&h.io), 0);
}
