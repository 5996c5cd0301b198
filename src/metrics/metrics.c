/* The metrics formatter: the table of family writers; see metrics.h. */
#include "config.h"

#include "metrics/metrics.h"

/* In this order in the output. A room adds its writer here. */
static const VsMetricsWriterFunc writers[] = {
	vs_metrics_daemon_write,
	vs_metrics_guests_write,
	vs_metrics_steal_write,
	vs_metrics_cpu_write,
	vs_metrics_mem_write,
};

char *vs_metrics_format(const VsMetricsInput *in)
{
	GString *out = g_string_sized_new(4096);

	for (size_t i = 0; i < G_N_ELEMENTS(writers); i++)
		writers[i](in, out);
	return g_string_free(out, FALSE);
}
