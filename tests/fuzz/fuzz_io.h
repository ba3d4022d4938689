/* Shared by the fuzz targets that drive a tool family's run hook (fuzz_shapers, fuzz_prom): a
 * tool_io whose http and exec hooks answer every request with the fuzz input, the way the
 * worker's libcurl client and exec runner would hand a remote answer to the family.
 *
 * Input format: a first line "family.op[ STATUS[ VARIANT]]" and the response body after it.
 * STATUS is the HTTP status (default 200) or, for exec families, the program's exit status
 * (default 0); VARIANT picks one of a target's argument sets (default 0). */
#ifndef CORRAL_TESTS_FUZZ_IO_H
#define CORRAL_TESTS_FUZZ_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tools/io.h"
#include "tools/tool.h"

/* The credential put in every call context: it must never come back in a result or an error
 * text unless the input itself holds it. */
#define FZ_SECRET	"fz-Secr3t-credential-0123456789"

struct fz_io {
	struct tool_io io;
	const char *body;
	size_t len;
	long status;
	unsigned calls;		/* http/exec exchanges so far in this run */
};

/* Split the header line. Returns 0 with family/op set, or -1 (input not for us). */
int fz_split(const uint8_t *data, size_t size, const struct tool_family **fam,
    const struct tool_op **op, long *status, long *variant, const char **body, size_t *blen);

/* Arguments that pass the op's schema (only required parameters, defaults filled in), built
 * once per op from candidate values; NULL when none were found. Borrowed (cached). */
json_t *fz_args_for(const struct tool_op *op);

/* Run op with args (copied) against the input body; aborts when an invariant breaks:
 * rc 0 <=> a result; an error has a code and a text; nothing holds FZ_SECRET unless the input
 * does; the result serialises. Returns the hook's rc. */
int fz_run(const struct tool_family *f, const struct tool_op *op, const json_t *args,
    const char *body, size_t blen, long status, bool dry_run, const uint8_t *input,
    size_t insize);

/* One-time setup (schema patterns). */
void fz_init(void);

#define FZ_CHECK(c) do { if (!(c)) fz_fail(#c, __FILE__, __LINE__); } while (0)
void fz_fail(const char *what, const char *file, int line) __attribute__((noreturn));

#endif
