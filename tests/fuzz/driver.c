/* A libFuzzer stand-in for builds without clang: runs LLVMFuzzerTestOneInput on every file of
 * a corpus directory, then on N mutations of them from a fixed-seed PRNG (so a failure
 * reproduces: the iteration number is printed). Linked with a fuzz_*.c target as a normal test.
 *   fuzzdrv_X CORPUS_DIR [ITERATIONS] [MIN_FILES]
 * Fails if the directory holds fewer than MIN_FILES inputs (a misplaced corpus must not pass).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INPUT_MAX	(1u << 20)	/* corpus files larger than this are skipped */
#define FILES_MAX	4096
#define GROW		64		/* room for insertions */

struct input {
	uint8_t *b;
	size_t n;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

/* The input being run, for the crash handler. */
static const uint8_t *cur;
static size_t cur_len;

/* On abort or a fault: save the input as ./fuzz-crash.bin (async-signal-safe calls only). */
static void
on_crash(int sig)
{
	static const char msg[] = "fuzz driver: crashed; input saved to ./fuzz-crash.bin\n";
	int fd = open("fuzz-crash.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ssize_t w;

	if (fd >= 0) {
		w = write(fd, cur, cur_len);
		close(fd);
	}
	w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)w;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
run(const uint8_t *b, size_t n)
{
	cur = b;
	cur_len = n;
	LLVMFuzzerTestOneInput(b, n);
}

static uint64_t
next(void)
{
	/* xorshift64*: deterministic, good enough to pick mutations */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static size_t
below(size_t n)
{
	return n ? (size_t)(next() % n) : 0;
}

static int
load(const char *dir, struct input *in, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	if (d == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL && *n < FILES_MAX) {
		FILE *f;
		long sz;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 && sz <= (long)INPUT_MAX) {
			rewind(f);
			in[*n].b = malloc((size_t)sz + 1);
			in[*n].n = fread(in[*n].b, 1, (size_t)sz, f);
			(*n)++;
		}
		fclose(f);
	}
	closedir(d);
	return 0;
}

/* Bytes msgpack decoders trip on: type bytes of big containers/strings, 0xc1, edges. */
static const uint8_t interesting[] = {
	0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4,
	0xcc, 0xcf, 0xd0, 0xd3, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff,
};

static size_t
mutate(uint8_t *b, size_t n, size_t cap, const struct input *other)
{
	unsigned k = 1 + (unsigned)below(4);

	while (k--) {
		size_t i = below(n ? n : 1), j;

		switch (below(8)) {
		case 0:	/* flip a bit */
			if (n)
				b[i] ^= (uint8_t)(1u << below(8));
			break;
		case 1:	/* random byte */
			if (n)
				b[i] = (uint8_t)next();
			break;
		case 2:	/* interesting byte */
			if (n)
				b[i] = interesting[below(sizeof(interesting))];
			break;
		case 3:	/* insert a byte */
			if (n < cap) {
				memmove(b + i + 1, b + i, n - i);
				b[i] = (uint8_t)next();
				n++;
			}
			break;
		case 4:	/* delete a byte */
			if (n) {
				memmove(b + i, b + i + 1, n - i - 1);
				n--;
			}
			break;
		case 5:	/* truncate */
			n = i;
			break;
		case 6:	/* a big-endian length field of all ones */
			for (j = i; j < n && j < i + 4; j++)
				b[j] = 0xff;
			break;
		default:	/* splice in the tail of another input */
			j = below(other->n);
			if (i + (other->n - j) <= cap) {
				memcpy(b + i, other->b + j, other->n - j);
				n = i + (other->n - j);
			}
		}
	}
	return n;
}

int
main(int argc, char **argv)
{
	static struct input in[FILES_MAX];
	size_t n = 0, iters = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000;
	size_t min_files = argc > 3 ? strtoul(argv[3], NULL, 10) : 1;
	uint8_t *buf;
	int r;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR [ITERATIONS] [MIN_FILES]\n", argv[0]);
		return 64;
	}
	if ((r = load(argv[1], in, &n)) < 0 || n < min_files) {
		fprintf(stderr, "%s: %zu inputs in %s (need %zu): %s\n", argv[0], n, argv[1],
		    min_files, r < 0 ? strerror(-r) : "too few");
		return 1;
	}
	signal(SIGABRT, on_crash);
	signal(SIGSEGV, on_crash);
	for (size_t i = 0; i < n; i++)
		run(in[i].b, in[i].n);
	buf = malloc(INPUT_MAX + GROW);
	for (size_t it = 0; it < iters; it++) {
		const struct input *s = &in[below(n)];
		size_t len;

		memcpy(buf, s->b, s->n);
		len = mutate(buf, s->n, s->n + GROW, &in[below(n)]);
		/* an exact-size heap copy, so ASan sees any read past the end */
		{
			uint8_t *exact = malloc(len ? len : 1);

			memcpy(exact, buf, len);
			run(exact, len);
			free(exact);
		}
	}
	printf("%s: %zu corpus inputs, %zu mutations\n", argv[0], n, iters);
	free(buf);
	for (size_t i = 0; i < n; i++)
		free(in[i].b);
	return 0;
}
