/* JSON face of the canary judge: the input document of `corralctl canary judge` and of the
 * prometheus worker, the JSON result, and the text table. Format: docs/CANARY.md.
 *
 * Input errors name the field path ("metrics[2].control[5]: expected a number or \"NaN\"").
 * Errors: ERR_PROTO (not JSON), ERR_SCHEMA (a field is wrong), ERR_TOOBIG (over a cap in
 * ipc/limits.h), -ENOMEM. */
#ifndef CORRAL_TOOLS_CANARY_JSON_H
#define CORRAL_TOOLS_CANARY_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "tools/canary.h"

/* A parsed input: owns the strings and samples the canary_input points to. */
struct canary_doc;
int canary_doc_parse(const char *json, size_t len, struct canary_doc **out, char *err,
	size_t errlen);
const struct canary_input *canary_doc_input(const struct canary_doc *d);
void canary_doc_free(struct canary_doc *d);

/* Parse, judge, render: *output_json is malloc'd and NUL-terminated (free() it). On error err
 * holds the message and *output_json is untouched. */
int canary_judge_json(const char *input_json, size_t len, char **output_json, char *err,
	size_t errlen);

/* The result as JSON (numbers in shortest round-trip form; NaN and infinities as null). */
int canary_result_to_json(const struct canary_result *r, char **out);

/* Human-readable table for `corralctl canary judge` without -o json. Returns 0 or -EIO. */
int canary_result_print_table(const struct canary_result *r, FILE *f);

#endif
