/* Metrics of steal accounting (steal/report.h): per vCPU the steal since
 * vschedd first sampled it, split by cause, as counters; per guest the
 * share of its vCPUs' time stolen over each window, and whether its
 * [Steal] Alert= condition holds. */
#include "config.h"

#include "metrics/metrics.h"
#include "metrics/writer.h"
#include "steal/account.h"

void vs_metrics_steal_write(const VsMetricsInput *in, GString *out)
{
	const VsStealReport *r = in->steal;

	if (!r)
		return;
	vs_metrics_writer_family(out, "vsched_vcpu_steal_seconds_total", VS_METRICS_COUNTER,
				 "Time a vCPU was runnable but not running (what the guest "
				 "sees as steal), by cause: contention (other threads had the "
				 "CPU), cap (a cgroup CPU limit), reservation (its "
				 "SCHED_DEADLINE budget was spent). Counted since vschedd "
				 "first sampled the vCPU.");
	for (guint i = 0; i < r->guests->len; i++) {
		const VsStealGuestReport *g = g_ptr_array_index(r->guests, i);

		for (guint j = 0; j < g->vcpus->len; j++) {
			const VsStealVcpuReport *v = &g_array_index(g->vcpus, VsStealVcpuReport, j);
			const struct {
				const char *cause;
				uint64_t ns;
			} causes[] = {
				{ "contention", v->total.contention_ns },
				{ "cap", v->total.cap_ns },
				{ "reservation", v->total.reservation_ns },
			};
			char index[16];

			g_snprintf(index, sizeof(index), "%u", v->index);
			for (size_t c = 0; c < G_N_ELEMENTS(causes); c++) {
				const char *labels[] = { "domain", g->name, "vcpu", index,
							 "cause", causes[c].cause, NULL };

				vs_metrics_writer_sample(out, "vsched_vcpu_steal_seconds_total",
							 labels, (double)causes[c].ns / 1e9);
			}
		}
	}
	vs_metrics_writer_family(out, "vsched_guest_steal_ratio", VS_METRICS_GAUGE,
				 "Share of a guest's vCPU time stolen over the window (0 to 1).");
	for (guint i = 0; i < r->guests->len; i++) {
		const VsStealGuestReport *g = g_ptr_array_index(r->guests, i);

		for (guint w = 0; w < VS_STEAL_N_WINDOWS; w++) {
			const char *labels[] = { "domain", g->name, "window",
						 vs_steal_window_name(w), NULL };

			if (g->windows[w].wall_ns == 0)
				continue;
			vs_metrics_writer_sample(out, "vsched_guest_steal_ratio", labels,
						 vs_steal_pct(g->windows[w].steal_ns, &g->windows[w]) /
							 100.0);
		}
	}
	vs_metrics_writer_family(out, "vsched_guest_steal_alert", VS_METRICS_GAUGE,
				 "1 while the guest's [Steal] Alert= condition holds.");
	for (guint i = 0; i < r->guests->len; i++) {
		const VsStealGuestReport *g = g_ptr_array_index(r->guests, i);
		const char *labels[] = { "domain", g->name, NULL };

		vs_metrics_writer_sample(out, "vsched_guest_steal_alert", labels, g->alert ? 1 : 0);
	}
}
