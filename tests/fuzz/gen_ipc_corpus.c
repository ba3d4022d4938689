/* Writes the seed corpus of fuzz_ipc: one valid frame per message type with every field, one
 * with only the required fields, and a few invalid frames of the kinds the decoder refuses.
 *   gen_ipc_corpus DIR     (the checked-in copy is tests/fuzz/corpus/ipc)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/msg.h"
#include "tests/ipc/fx.h"

static const char *dir;

static void
put(const char *name, const void *b, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(b, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name, *b;
		size_t n;
	} bad[] = {
#define BAD(n, s) { n, s, sizeof(s) - 1 }
		BAD("bad-array32-2g", "\xdd\x80\0\0\0"),
		BAD("bad-map32-2g", "\xdf\x80\0\0\0"),
		BAD("bad-dupkey", "\x83\xa1t\x0d\xa2id\x01\xa2id\x02"),
		BAD("bad-unknown-key", "\x82\xa1t\x0d\xa3xid\x01"),
		BAD("bad-missing", "\x81\xa1t\x0d"),
		BAD("bad-unknown-type", "\x82\xa1t\x63\xa2id\x01"),
		BAD("bad-utf8", "\x83\xa1t\x07\xa2id\x01\xa4text\xa2\xc0\xaf"),
		BAD("bad-nul", "\x83\xa1t\x07\xa2id\x01\xa4text\xa3" "a\0b"),
		BAD("bad-trailing", "\x81\xa1t\x0c\xc0"),
		BAD("bad-nested", "\x82\xa1t\x0d\xa2id\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91"
		    "\x91\x91\x91\x91\x91\x91\x91\x01"),
		BAD("bad-str32-over", "\x82\xa1t\x0d\xa2id\xdb\x7f\xff\xff\xff"),
#undef BAD
	};
	char name[64];

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 64;
	}
	dir = argv[1];
	for (size_t i = 0; i < fx_ntypes; i++) {
		enum msg_type t = fx_types[i].type;
		struct msg m;
		uint8_t *buf, f[4096];
		size_t len;

		fx_msg_full(t, &m);
		if (msg_encode(&m, &buf, &len) < 0)
			return 1;
		snprintf(name, sizeof(name), "valid-%s", msg_type_name(t));
		lower(name);
		put(name, buf, len);
		free(buf);
		if (fx_types[i].optional[0] != NULL) {
			/* required fields only */
			len = fx_frame(t, fx_types[i].optional[0], NULL, f);
			snprintf(name, sizeof(name), "min-%s", msg_type_name(t));
			lower(name);
			put(name, f, len);
		}
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		put(bad[i].name, bad[i].b, bad[i].n);
	return 0;
}
