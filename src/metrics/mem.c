/* Metrics of the memory step: the host's memory state, and per running
 * guest its balloon, the target vsched set and the lower bound it keeps
 * (Floor=, use plus Margin=). */
#include "config.h"

#include "metrics/metrics.h"
#include "metrics/writer.h"

void vs_metrics_mem_write(const VsMetricsInput *in, GString *out)
{
	const VsMemView *view = in->mem;

	if (!view || !view->pressure)
		return;
	vs_metrics_writer_family(out, "vsched_memory_pressure_state", VS_METRICS_GAUGE,
				 "The host's memory state: 1 for the state it is in, 0 for the "
				 "others.");
	for (int s = 0; s < VS_MEM_N_STATES; s++) {
		const char *labels[] = { "state", vs_mem_state_name((VsMemState)s), NULL };

		vs_metrics_writer_sample(out, "vsched_memory_pressure_state", labels,
					 view->pressure->state == (VsMemState)s);
	}
	if (view->n_guests == 0)
		return;
	vs_metrics_writer_family(out, "vsched_balloon_current_bytes", VS_METRICS_GAUGE,
				 "The memory a running guest's balloon leaves it, as libvirt "
				 "reports it.");
	for (guint i = 0; i < view->n_guests; i++) {
		const VsMemGuest *g = &view->guests[i];
		const char *labels[] = { "domain", g->name, NULL };

		vs_metrics_writer_sample(out, "vsched_balloon_current_bytes", labels,
					 (double)g->current);
	}
	if (!view->plan)
		return;
	vs_metrics_writer_family(out, "vsched_balloon_target_bytes", VS_METRICS_GAUGE,
				 "The balloon target of the last memory plan.");
	for (guint i = 0; i < view->n_guests; i++) {
		const VsMemGuest *g = &view->guests[i];
		const VsMemDecision *d = vs_mem_plan_find(view->plan, g->uuid);
		const char *labels[] = { "domain", g->name, NULL };

		if (d)
			vs_metrics_writer_sample(out, "vsched_balloon_target_bytes", labels,
						 (double)d->target);
	}
	vs_metrics_writer_family(out, "vsched_balloon_low_bytes", VS_METRICS_GAUGE,
				 "The least memory the last plan leaves a guest (Floor=, or its "
				 "use plus Margin=).");
	for (guint i = 0; i < view->n_guests; i++) {
		const VsMemGuest *g = &view->guests[i];
		const VsMemDecision *d = vs_mem_plan_find(view->plan, g->uuid);
		const char *labels[] = { "domain", g->name, NULL };

		if (d)
			vs_metrics_writer_sample(out, "vsched_balloon_low_bytes", labels,
						 (double)d->low);
	}
}
