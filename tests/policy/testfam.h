/* Schema tables for the policy tests: the real echo family plus fixed copies of the shapes of
 * argocd, prometheus and github_actions (names from shared/specs/CONTRACTS.md), so that the
 * case tables do not move when the real families evolve. */
#ifndef CORRAL_TESTS_POLICY_TESTFAM_H
#define CORRAL_TESTS_POLICY_TESTFAM_H

#include "policy/policy.h"

extern const struct tool_family *const test_families[];
extern const size_t test_nfamilies;
extern const struct pol_load_opts test_opts;	/* test_families, system zoneinfo */

#endif
