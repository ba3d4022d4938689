/* Helpers for the audit/credential/approval tests (suite 'audit'). */
#ifndef CORRAL_TESTS_AUDIT_FX_H
#define CORRAL_TESTS_AUDIT_FX_H

#include <stddef.h>
#include <stdint.h>

#include "supervisor/audit.h"

extern const uint8_t fx_key[AUDIT_KEY_LEN];	/* bytes 0x00..0x1f */

char *fx_tmpdir(void);				/* mkdtemp under /tmp; malloc'd */
/* A fresh fx_tmpdir() per test, for suites that take these as .init and .fini. */
extern char *fx_dir;
void fx_dir_init(void);
void fx_dir_fini(void);
void fx_rmrf(const char *dir);
char *fx_path(const char *dir, const char *name);	/* malloc'd "dir/name" */
char *fx_read(const char *path, size_t *len);	/* whole file, NUL-terminated; NULL if absent */
void fx_write(const char *path, const void *buf, size_t len, unsigned mode);
/* Write fx_key as hex into dir/audit.key (0600) and return its path. */
char *fx_keyfile(const char *dir);

/* Open dir/audit.jsonl with fx_key. rotate 0 = default; no syslog. */
struct audit *fx_open(const char *dir, enum audit_fsync mode, unsigned ckpt, uint64_t rotate);
/* n decision records for tenant, with args {"app_name": "app-<i>", "n": i}. */
void fx_append(struct audit *a, int n, const char *tenant);

/* Line `no` (1-based) of buf: start and length without the newline; NULL if absent. */
char *fx_line(char *buf, int no, size_t *len);
size_t fx_count_lines(const char *buf);

/* Run an auditcli function with argv (NULL-terminated), capturing out and err. */
int fx_cli(int (*fn)(int, char **, FILE *, FILE *), char **out, char **err, ...);
/* `audit verify --key kf target` must exit 0 (its stderr is the failure message); returns its
 * stdout (malloc'd). */
char *fx_verify_ok(const char *kf, const char *target);

#endif
