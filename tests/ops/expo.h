/* Test helpers for Prometheus text exposition (format 0.0.4). */
#ifndef CORRAL_TESTS_OPS_EXPO_H
#define CORRAL_TESTS_OPS_EXPO_H

#include <stdbool.h>

/* Assert that every line of text is a HELP/TYPE comment or a well-formed sample of the family
 * its TYPE line declared (histograms: _bucket, _sum, _count; le ascending, +Inf last and equal
 * to _count). Returns the number of samples. */
int expo_check(const char *text);
/* The value of the sample whose name and labels are exactly series ("name{a=\"x\"}"). */
bool expo_value(const char *text, const char *series, double *v);

#endif
