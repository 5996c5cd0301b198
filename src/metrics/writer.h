/* The Prometheus text exposition format (version 0.0.4), written into a
 * GString: a family's HELP and TYPE lines, then its samples, each a metric
 * name, optional labels and a value. Label values and HELP texts are
 * escaped as the format asks (backslash, double quote in label values,
 * newline); values are printed so that they read back exactly, with NaN,
 * +Inf and -Inf spelled the way Prometheus spells them. Pure. */
#pragma once

#include <glib.h>

typedef enum {
	VS_METRICS_COUNTER,
	VS_METRICS_GAUGE,
	VS_METRICS_HISTOGRAM,
} VsMetricsType;

/* Appends the HELP and TYPE lines of the family @name. */
void vs_metrics_writer_family(GString *out, const char *name, VsMetricsType type,
			      const char *help);
/* Appends one sample line: @name, the labels (a NULL-terminated list of
 * name, value pairs; NULL for none) and @value. A pair whose value is NULL
 * is left out. */
void vs_metrics_writer_sample(GString *out, const char *name, const char *const *labels,
			      double value);
/* Appends @value escaped for a label value (without the quotes). */
void vs_metrics_writer_escape_label(GString *out, const char *value);
/* Appends @value as the format writes numbers: an integer without a
 * fraction when it is one, else the shortest text that reads back as the
 * same double; NaN, +Inf, -Inf. */
void vs_metrics_writer_value(GString *out, double value);
