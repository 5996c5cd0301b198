/* A histogram of durations with fixed buckets (the Prometheus kind:
 * cumulative counts per upper bound, a count and a sum), fed by the daemon
 * once per tick and written by the metrics formatter. Pure. */
#pragma once

#include <glib.h>
#include <stdint.h>

/* Upper bounds of the buckets, in seconds; the last bucket (+Inf) is
 * implicit. From 1 ms (an idle host) to 2.5 s (past the default tick). */
#define VS_METRICS_HISTOGRAM_BOUNDS \
	{ 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5 }
#define VS_METRICS_HISTOGRAM_N_BOUNDS 11

typedef struct VsMetricsHistogram {
	uint64_t buckets[VS_METRICS_HISTOGRAM_N_BOUNDS]; /* observations <= bound, not cumulative */
	uint64_t count;
	double sum;                                       /* seconds */
} VsMetricsHistogram;

/* The bound of bucket @i, in seconds. */
double vs_metrics_histogram_bound(guint i);
/* Records one duration of @us microseconds (negative counts as 0). */
void vs_metrics_histogram_observe(VsMetricsHistogram *h, int64_t us);
/* Appends the family @name (HELP @help) with its _bucket (cumulative,
 * ending with le="+Inf"), _sum and _count lines. */
void vs_metrics_histogram_write(const VsMetricsHistogram *h, GString *out, const char *name,
				const char *help);
