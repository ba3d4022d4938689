/* An external agent program in C on libcorral-agent (protocol: ipc), for test_extagent.
 * corrald runs it with `exec:` under corral-jail's agent profile (the arbitrary-program
 * seccomp allow-list); its only channel is $CORRAL_SOCKET. Runs:
 *   probe      call echo.echo (allowed) and echo.crash (denied); try to read /etc/shadow and
 *              to write outside $HOME (the state dir); write inside it; answer what happened
 *   tcp PORT   open a TCP socket to 127.0.0.1:PORT (the confinement kills the program)
 *   other      fail the run with the input as the reason */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "agents/libcorral-agent.h"
#include "ipc/err.h"

static json_t *
call(struct cagent *a, const char *op, const char *args)
{
	char *res = NULL, *et = NULL;
	int r = cagent_call(a, "echo", op, args, false, 30000, &res, &et);
	json_t *j = json_pack("{s:b, s:s, s:s?, s:s?}", "ok", r == 0, "code", err_name(r),
	    "result", res, "error", et);

	free(res);
	free(et);
	return j;
}

static const char *
try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);

	if (fd < 0)
		return strerror(errno);
	close(fd);
	return "ok";
}

static json_t *
probe(struct cagent *a)
{
	char note[512];

	snprintf(note, sizeof(note), "%s/note", getenv("HOME") ? getenv("HOME") : "/state");
	return json_pack("{s:o, s:o, s:{s:s, s:s, s:s, s:s}, s:s, s:s, s:i, s:i}",
	    "echo", call(a, "echo", "{\"msg\":\"from C\"}"),
	    "crash", call(a, "crash", "{}"),
	    "files",
	    "read /etc/shadow", try_open("/etc/shadow", O_RDONLY),
	    "write /etc/passwd", try_open("/etc/passwd", O_WRONLY),
	    "write /usr/escape", try_open("/usr/escape", O_WRONLY | O_CREAT),
	    "write state", try_open(note, O_WRONLY | O_CREAT | O_TRUNC),
	    "name", cagent_name(a), "tenant", cagent_tenant(a), "uid", (int)getuid(),
	    "flush", cagent_flush(a, 5000));
}

static void
tcp(struct cagent *a, uint64_t run, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd;

	cagent_event(a, run, "opening a TCP socket");
	fd = socket(AF_INET, SOCK_STREAM, 0);	/* not allowed: SIGSYS */
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		cagent_done(a, run, "{\"tcp\":\"connected\"}");
	else
		cagent_fail(a, run, ERR_EGRESS, strerror(errno));
}

int
main(void)
{
	const char *sock = getenv("CORRAL_SOCKET");
	struct cagent *a = NULL;
	struct cagent_run run;
	int r;

	if ((r = cagent_open(sock ? sock : "/ipc/sock", 5000, &a)) < 0) {
		fprintf(stderr, "ext_agent_ipc: open: %s\n", err_str(r));
		return 1;
	}
	fprintf(stderr, "ext_agent_ipc: welcomed as %s\n", cagent_name(a));
	while ((r = cagent_next_run(a, -1, &run)) == 0) {
		if (strcmp(run.input, "probe") == 0) {
			json_t *j = probe(a);
			char *t = json_dumps(j, JSON_COMPACT);

			cagent_done(a, run.id, t);
			free(t);
			json_decref(j);
		} else if (strncmp(run.input, "tcp ", 4) == 0) {
			tcp(a, run.id, atoi(run.input + 4));
		} else if (strncmp(run.input, "sleep ", 6) == 0) {
			usleep((useconds_t)atoi(run.input + 6) * 1000);
			cagent_done(a, run.id, "{\"slept\":true}");
		} else if (strcmp(run.input, "lies") == 0) {
			/* a compromised agent: progress and answers for every run id but its own
			 * (other agents' runs), then its own answer */
			for (uint64_t id = 1; id <= 400; id++)
				if (id != run.id) {
					cagent_event(a, id, "forged");
					cagent_done(a, id, "{\"forged\":true}");
				}
			cagent_done(a, run.id, "{\"lied\":true}");
		} else if (strcmp(run.input, "bye") == 0) {
			/* the answer, then gone at once: the flush is all that gets it out */
			cagent_fail(a, run.id, ERR_EXEC, "bye: the agent's own last words");
			cagent_flush(a, 5000);
			_exit(3);
		} else {
			cagent_fail(a, run.id, ERR_EXEC, run.input);
		}
		cagent_run_clear(&run);
	}
	fprintf(stderr, "ext_agent_ipc: %s\n", err_str(r));
	cagent_close(a);
	return r == ERR_CLOSED ? 0 : 1;
}
