/* Fixtures shared by the model gateway tests (suite 'model'). */
#ifndef CORRAL_TESTS_MODEL_MFX_H
#define CORRAL_TESTS_MODEL_MFX_H

#include <jansson.h>

#include "tools/model.h"

/* Parse JSON text (aborts the test on a syntax error). New reference. */
json_t *mfx_json(const char *text);
/* The contract file (tests/tools/contracts/llm-apis.json), loaded once. Borrowed. */
json_t *mfx_contract(void);
/* providers.<prov>.examples.<ex>.<part> of the contract. Borrowed. */
json_t *mfx_example(const char *prov, const char *ex, const char *part);
/* JSON text of v (compact, sorted keys) in a static buffer, for messages. */
const char *mfx_str(const json_t *v);

#endif
