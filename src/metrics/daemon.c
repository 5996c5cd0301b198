/* Metrics of the daemon itself: build, uptime, ticks and their cost, the
 * libvirt connection, policies and overrides. */
#include "config.h"

#include "metrics/metrics.h"
#include "metrics/writer.h"

/* One family with one sample without labels. */
static void single(GString *out, const char *name, VsMetricsType type, const char *help,
		   double value)
{
	vs_metrics_writer_family(out, name, type, help);
	vs_metrics_writer_sample(out, name, NULL, value);
}

void vs_metrics_daemon_write(const VsMetricsInput *in, GString *out)
{
	const VsDaemonStatus *st = in->status;

	vs_metrics_writer_family(out, "vsched_build_info", VS_METRICS_GAUGE,
				 "Always 1; the version of vschedd in the label.");
	{
		const char *labels[] = { "version", st->version, NULL };
		vs_metrics_writer_sample(out, "vsched_build_info", labels, 1);
	}
	single(out, "vsched_uptime_seconds", VS_METRICS_GAUGE, "Time since vschedd started.",
	       (double)st->uptime_us / 1e6);
	single(out, "vsched_dry_run", VS_METRICS_GAUGE,
	       "1 when vschedd was started with --dry-run (plans, logs, changes nothing).",
	       st->dry_run ? 1 : 0);
	single(out, "vsched_ticks_total", VS_METRICS_COUNTER,
	       "Ticks (collect, plan, act) run since vschedd started.", (double)st->ticks);
	if (in->tick_durations)
		vs_metrics_histogram_write(in->tick_durations, out, "vsched_tick_duration_seconds",
					   "Wall time of each tick: collect, plan and act.");
	single(out, "vsched_last_collect_duration_seconds", VS_METRICS_GAUGE,
	       "Wall time of the collect step of the last tick.",
	       (double)st->last_collect_us / 1e6);
	single(out, "vsched_tick_interval_seconds", VS_METRICS_GAUGE,
	       "The configured time between periodic ticks (TickInterval=).",
	       (double)st->tick_interval_us / 1e6);
	vs_metrics_writer_family(out, "vsched_libvirt_connected", VS_METRICS_GAUGE,
				 "1 while vschedd is connected to libvirt, else 0.");
	{
		const char *labels[] = { "uri", st->libvirt_uri, NULL };
		vs_metrics_writer_sample(out, "vsched_libvirt_connected", labels,
					 st->libvirt_connected ? 1 : 0);
	}
	single(out, "vsched_libvirt_reconnects_total", VS_METRICS_COUNTER,
	       "Times vschedd connected to libvirt again after losing it.",
	       (double)st->libvirt_reconnects);
	single(out, "vsched_policy_files", VS_METRICS_GAUGE, "Policy files in force.",
	       in->policy_files);
	single(out, "vsched_policy_reload_failed", VS_METRICS_GAUGE,
	       "1 when the last policy reload was refused (the previous set stays in force).",
	       in->policy_reload_failed ? 1 : 0);
	single(out, "vsched_overrides", VS_METRICS_GAUGE,
	       "Overrides from vschedctl in force.", in->overrides);
}
