/* What the agent-runtime tests (suite 'agentrt') share around the fake supervisor of
 * tests/model/fsup.h: a private state directory, the real corral-agent spawned on one, and
 * reading its messages past the EVENTs it interleaves. JSON parsing and printing for the
 * tests come from tests/model/mfx.h (mfx_json, mfx_str). */
#ifndef CORRAL_TESTS_AGENTRT_ARTFX_H
#define CORRAL_TESTS_AGENTRT_ARTFX_H

#include <stddef.h>

#include <jansson.h>

#include "tests/model/fsup.h"

/* A fresh directory "$TMPDIR/<tag>-XXXXXX" (/tmp without TMPDIR) into buf; aborts the test
 * when it cannot be made or its name does not fit. */
void artfx_state_make(char *buf, size_t size, const char *tag);
/* Remove dir and all below it; aborts the test when that fails. */
void artfx_state_remove(const char *dir);
/* Spawn $CORRAL_AGENT --state-dir dir as an "agent" peer (no broker); aborts the test when
 * CORRAL_AGENT is not set. */
void artfx_spawn(struct fsup_peer *a, const char *dir);
/* The next message of a that is not an EVENT, each receive within timeout_ms (aborts on
 * silence). The EVENTs' texts are appended to events, or dropped when events is NULL. */
void artfx_next(struct fsup_peer *a, struct msg *m, int timeout_ms, json_t *events);

#endif
