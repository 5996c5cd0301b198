/* Metrics: what the daemon knows, as Prometheus text exposition (format
 * 0.0.4) for `vschedctl metrics` and node_exporter's textfile collector.
 *
 * vs_metrics_format() is pure: it takes the daemon's state as plain data
 * (VsMetricsInput) and runs every family writer of its table in turn; each
 * room has its own writer in this folder (daemon.c, guests.c, steal.c,
 * cpu.c), named after it. A new room adds what it has to VsMetricsInput,
 * a writer file with one vs_metrics_ROOM_write() and a line in the table
 * of metrics.c. Names follow Prometheus conventions: the vsched_ prefix,
 * base units (seconds, bytes), _total for counters, labels domain (the
 * guest's name), uuid, vcpu, cause. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "core/snapshot.h"
#include "mem/view.h"
#include "metrics/histogram.h"
#include "sched/cpuplan.h"
#include "steal/report.h"

typedef struct VsMetricsInput {
	const VsDaemonStatus *status;          /* never NULL */
	const VsSnapshot *snapshot;            /* NULL before the first tick */
	const VsStealReport *steal;            /* NULL: no steal accounting */
	const VsCpuPlan *cpu_plan;             /* NULL: no CPU plan (yet) */
	const VsMetricsHistogram *tick_durations; /* NULL: not recorded */
	guint policy_files;                    /* policy files in force */
	bool policy_reload_failed;             /* the last policy reload was refused */
	guint overrides;                       /* overrides in force */
	guint applied_settings;                /* CPU settings vsched changed and will restore */
	const VsMemView *mem;                  /* NULL: no memory step (yet) */
} VsMetricsInput;

/* One family writer: appends its families for @in to @out. */
typedef void (*VsMetricsWriterFunc)(const VsMetricsInput *in, GString *out);

/* The exposition text for @in: every family of every writer. Caller frees. */
char *vs_metrics_format(const VsMetricsInput *in);

/* The family writers, one per room (metrics/daemon.c, guests.c, steal.c,
 * cpu.c). */
void vs_metrics_daemon_write(const VsMetricsInput *in, GString *out);
void vs_metrics_guests_write(const VsMetricsInput *in, GString *out);
void vs_metrics_steal_write(const VsMetricsInput *in, GString *out);
void vs_metrics_cpu_write(const VsMetricsInput *in, GString *out);
void vs_metrics_mem_write(const VsMetricsInput *in, GString *out);

/* Writes @text to DIR/vsched.prom atomically (a temporary file in @dir,
 * which node_exporter ignores because its name does not end in .prom,
 * renamed over the old one), mode 0644. Returns 0, or -errno with @error
 * (VS_ERROR_SYSTEM) naming the file. */
int vs_metrics_textfile_write(const char *dir, const char *text, GError **error);

/* The file name vs_metrics_textfile_write() writes in its directory. */
#define VS_METRICS_TEXTFILE_NAME "vsched.prom"
