/* Fixed-bucket duration histograms; see histogram.h. */
#include "config.h"

#include "metrics/histogram.h"
#include "metrics/writer.h"

static const double bounds[VS_METRICS_HISTOGRAM_N_BOUNDS] = VS_METRICS_HISTOGRAM_BOUNDS;

double vs_metrics_histogram_bound(guint i)
{
	g_return_val_if_fail(i < VS_METRICS_HISTOGRAM_N_BOUNDS, 0);
	return bounds[i];
}

void vs_metrics_histogram_observe(VsMetricsHistogram *h, int64_t us)
{
	double s = us > 0 ? (double)us / 1e6 : 0;

	for (guint i = 0; i < VS_METRICS_HISTOGRAM_N_BOUNDS; i++) {
		if (s <= bounds[i]) {
			h->buckets[i]++;
			break;
		}
	}
	h->count++;
	h->sum += s;
}

void vs_metrics_histogram_write(const VsMetricsHistogram *h, GString *out, const char *name,
				const char *help)
{
	g_autofree char *bucket = g_strdup_printf("%s_bucket", name);
	g_autofree char *sum = g_strdup_printf("%s_sum", name);
	g_autofree char *count = g_strdup_printf("%s_count", name);
	uint64_t cumulative = 0;

	vs_metrics_writer_family(out, name, VS_METRICS_HISTOGRAM, help);
	for (guint i = 0; i < VS_METRICS_HISTOGRAM_N_BOUNDS; i++) {
		g_autoptr(GString) le = g_string_new(NULL);
		const char *labels[] = { "le", NULL, NULL };

		vs_metrics_writer_value(le, bounds[i]);
		labels[1] = le->str;
		cumulative += h->buckets[i];
		vs_metrics_writer_sample(out, bucket, labels, (double)cumulative);
	}
	{
		const char *labels[] = { "le", "+Inf", NULL };
		vs_metrics_writer_sample(out, bucket, labels, (double)h->count);
	}
	vs_metrics_writer_sample(out, sum, NULL, h->sum);
	vs_metrics_writer_sample(out, count, NULL, (double)h->count);
}
