/* hog: a misbehaving program for the fault tests (test_faults.c), run under corral-jail with the
 * confinement corrald gives a worker. It tries to take one resource without end and reports on
 * stdout how far it got and what stopped it, as one line "MODE COUNT UNIT stopped: REASON":
 *
 *   hog fork          fork children that sleep, until fork fails
 *   hog mem           malloc 1 MiB blocks (touching each), until malloc fails
 *   hog disk DIR      write 1 MiB blocks into files in DIR (16 MiB each), until a write fails
 *   hog fds           open /dev/null, until open fails
 *
 * Every mode also stops by itself at a ceiling (HOG_CEILING units: 4096 processes, 6144 MiB,
 * 256 MiB of disk, 65536 fds) and then says "stopped: ceiling": a limit that did not hold is
 * reported instead of exhausting the test machine. No sanitizer: it must run under RLIMIT_AS. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void
report(const char *mode, long n, const char *unit, const char *why)
{
	printf("%s %ld %s stopped: %s\n", mode, n, unit, why);
	fflush(stdout);
}

static int
hog_fork(void)
{
	long n = 0;

	for (; n < 4096; n++) {
		pid_t p = fork();

		if (p < 0) {
			report("fork", n, "children", strerror(errno));
			return 0;
		}
		if (p == 0) {
			pause();
			_exit(0);
		}
	}
	report("fork", n, "children", "ceiling");
	return 0;	/* the children die with the pid namespace when we (its PID 1) exit */
}

static int
hog_mem(void)
{
	long n = 0;

	for (; n < 6144; n++) {
		char *p = malloc(1 << 20);

		if (p == NULL) {
			report("mem", n, "MiB", strerror(errno));
			return 0;
		}
		/* RSS can never pass the address space: touching one page per block shows the
		 * pages are real without spending seconds faulting in gigabytes */
		memset(p, (int)n, 4096);
	}
	report("mem", n, "MiB", "ceiling");
	return 0;
}

static int
hog_disk(const char *dir)
{
	static char block[1 << 20];
	long n = 0;
	int fd = -1;

	signal(SIGXFSZ, SIG_IGN);	/* see EFBIG rather than die of RLIMIT_FSIZE */
	memset(block, 'x', sizeof(block));
	for (; n < 256; n++) {
		if (n % 16 == 0) {
			char path[4096];

			if (fd >= 0)
				close(fd);
			snprintf(path, sizeof(path), "%s/hog-%ld", dir, n / 16);
			if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0) {
				report("disk", n, "MiB", strerror(errno));
				return 0;
			}
		}
		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block)) {
			report("disk", n, "MiB", errno ? strerror(errno) : "short write");
			return 0;
		}
	}
	report("disk", n, "MiB", "ceiling");
	return 0;
}

static int
hog_fds(void)
{
	long n = 0;

	for (; n < 65536; n++)
		if (open("/dev/null", O_RDONLY) < 0) {
			report("fds", n, "fds", strerror(errno));
			return 0;
		}
	report("fds", n, "fds", "ceiling");
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "fork") == 0)
		return hog_fork();
	if (argc >= 2 && strcmp(argv[1], "mem") == 0)
		return hog_mem();
	if (argc >= 3 && strcmp(argv[1], "disk") == 0)
		return hog_disk(argv[2]);
	if (argc >= 2 && strcmp(argv[1], "fds") == 0)
		return hog_fds();
	fprintf(stderr, "usage: hog fork | mem | disk DIR | fds\n");
	return 2;
}
