/* A canary report as an SVG chart: the result of prometheus.canary_analyze called with
 * include_series: true, drawn as one panel per metric with the baseline's and the canary's
 * samples over the window, their means, the metric's classification, and a header with the
 * verdict and score. Pure: no I/O, no clock; the same analysis gives the same bytes.
 *
 * Errors: ERR_SCHEMA (not such a result, or without its series; err names what is missing),
 * ERR_TOOBIG (the SVG would pass LIM_CANARY_OUTPUT_MAX), -ENOMEM. */
#ifndef CORRAL_TOOLS_CANARY_SVG_H
#define CORRAL_TOOLS_CANARY_SVG_H

#include <stddef.h>

#include <jansson.h>

#define CANARY_SVG_WIDTH	900	/* px; the height grows with the number of metrics */
#define CANARY_SVG_PANEL	230	/* px per metric */

/* *out is malloc'd and NUL-terminated (free() it); *len its length. */
int canary_svg_render(const json_t *analysis, char **out, size_t *len, char *err,
    size_t errlen);

#endif
