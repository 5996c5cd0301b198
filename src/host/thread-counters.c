/* One interface over taskstats and schedstat; see thread-counters.h. */
#include "config.h"

#include "host/thread-counters.h"

#include "host/schedstat.h"

#include <errno.h>

struct VsThreadCounters {
	const VsSys *sys;
	VsCountersSource source;
	VsTaskstats *taskstats;    /* when source is TASKSTATS */
	VsSchedstat *schedstat;    /* always: the fallback */
	char *why;
};

const char *vs_counters_source_name(VsCountersSource source)
{
	return source == VS_COUNTERS_TASKSTATS ? "taskstats" : "schedstat";
}

VsThreadCounters *vs_thread_counters_new(const VsSys *sys, VsCountersSource want)
{
	VsThreadCounters *c = g_new0(VsThreadCounters, 1);

	c->sys = sys;
	c->schedstat = vs_schedstat_new(sys);
	c->source = VS_COUNTERS_SCHEDSTAT;
	if (want == VS_COUNTERS_TASKSTATS) {
		int r;

		if (!vs_sys_is_real(sys)) {
			c->why = g_strdup("taskstats not used: fixture root (netlink reads the live kernel)");
		} else if ((r = vs_taskstats_open(&c->taskstats)) < 0) {
			c->why = g_strdup_printf("taskstats unavailable (%s); reading schedstat instead",
						 g_strerror(-r));
		} else {
			c->source = VS_COUNTERS_TASKSTATS;
		}
	}
	return c;
}

void vs_thread_counters_free(VsThreadCounters *c)
{
	if (!c)
		return;
	vs_taskstats_free(c->taskstats);
	vs_schedstat_free(c->schedstat);
	g_free(c->why);
	g_free(c);
}

void vs_thread_counters_set_keep(VsThreadCounters *c, guint reads)
{
	vs_schedstat_set_keep(c->schedstat, reads);
}

void vs_thread_counters_forget(VsThreadCounters *c, pid_t tid)
{
	vs_schedstat_forget(c->schedstat, tid);
}

VsCountersSource vs_thread_counters_source(const VsThreadCounters *c)
{
	return c->source;
}

const char *vs_thread_counters_why(const VsThreadCounters *c)
{
	return c->why;
}

size_t vs_thread_counters_read(VsThreadCounters *c, VsThreadCount *items, size_t n)
{
	size_t ok = 0;

	if (c->source == VS_COUNTERS_TASKSTATS) {
		int r = vs_taskstats_query(c->taskstats, items, n);

		if (r < 0 && r != -ETIMEDOUT) {
			/* The socket is broken: schedstat from now on. */
			g_free(c->why);
			c->why = g_strdup_printf("taskstats failed (%s); reading schedstat instead",
						 g_strerror(-r));
			g_clear_pointer(&c->taskstats, vs_taskstats_free);
			c->source = VS_COUNTERS_SCHEDSTAT;
		}
	}
	if (c->source == VS_COUNTERS_SCHEDSTAT) {
		for (size_t i = 0; i < n; i++)
			vs_schedstat_read(c->schedstat, &items[i]);
		vs_schedstat_sweep(c->schedstat);
	}
	for (size_t i = 0; i < n; i++)
		if (items[i].error == 0)
			ok++;
	return ok;
}
