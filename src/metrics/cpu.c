/* Metrics of the CPU plan: admitted SCHED_DEADLINE reservations, actions
 * the last plan holds by kind, and the CPU settings vsched changed (which
 * a clean stop restores). */
#include "config.h"

#include "metrics/metrics.h"
#include "metrics/writer.h"

void vs_metrics_cpu_write(const VsMetricsInput *in, GString *out)
{
	static const char *const kinds[] = {
		[VS_CPU_ACTION_DEADLINE_CLEAR] = "deadline_clear",
		[VS_CPU_ACTION_CGROUP] = "cgroup",
		[VS_CPU_ACTION_AFFINITY] = "affinity",
		[VS_CPU_ACTION_DEADLINE] = "deadline",
	};
	guint counts[G_N_ELEMENTS(kinds)] = { 0 };

	for (size_t k = 0; in->cpu_plan && k < G_N_ELEMENTS(kinds); k++)
		counts[k] = vs_cpu_plan_count(in->cpu_plan, (VsCpuActionKind)k);
	/* Every reserved vCPU has one DEADLINE action in each plan. */
	vs_metrics_writer_family(out, "vsched_reservations", VS_METRICS_GAUGE,
				 "vCPUs with an admitted SCHED_DEADLINE reservation in the last "
				 "CPU plan.");
	vs_metrics_writer_sample(out, "vsched_reservations", NULL,
				 counts[VS_CPU_ACTION_DEADLINE]);
	vs_metrics_writer_family(out, "vsched_cpu_plan_actions", VS_METRICS_GAUGE,
				 "Actions of the last CPU plan by kind (those already in place "
				 "are skipped when acting).");
	for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++) {
		const char *labels[] = { "kind", kinds[k], NULL };
		vs_metrics_writer_sample(out, "vsched_cpu_plan_actions", labels, counts[k]);
	}
	vs_metrics_writer_family(out, "vsched_applied_settings", VS_METRICS_GAUGE,
				 "CPU settings vschedd changed and restores at a clean stop.");
	vs_metrics_writer_sample(out, "vsched_applied_settings", NULL, in->applied_settings);
}
