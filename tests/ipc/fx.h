/* Test fixtures shared by the ipc tests and the fuzz corpus generator: the protocol table of
 * ipc/msg.h written out independently of msg.c (so a drift in either shows), and one message of
 * each type with every field set. */
#ifndef CORRAL_TESTS_IPC_FX_H
#define CORRAL_TESTS_IPC_FX_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/msg.h"

struct fx_type {
	enum msg_type type;
	const char *required[8];	/* keys, NULL-terminated */
	const char *optional[4];
};

extern const struct fx_type fx_types[];	/* one per type, MSG_HELLO..MSG_CONNECT */
extern const size_t fx_ntypes;
extern const char *const fx_keys[];	/* every key of the protocol, NULL-terminated */

/* Is key an integer-valued key ("t", "id", "v", "deadline", "code", "level")? "dry" is bool. */
int fx_key_is_int(const char *key);

/* m gets every field of every type set (static strings: do not msg_clear it). */
void fx_msg_full(enum msg_type t, struct msg *m);

/* Compare the fields type t carries; returns the first differing key or NULL. */
const char *fx_msg_diff(enum msg_type t, const struct msg *a, const struct msg *b);

/* Build a frame for type t holding its required and optional keys with fx_msg_full's values,
 * minus `omit` (may be NULL), plus `extra` (may be NULL: any key, given a value of its kind).
 * Returns the length; out must hold 4096 bytes. */
size_t fx_frame(enum msg_type t, const char *omit, const char *extra, uint8_t *out);

#endif
