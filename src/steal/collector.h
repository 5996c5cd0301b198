/* The steal collector: the I/O half of steal accounting, run once per
 * daemon tick after the inventory. For every online vCPU thread of every
 * running guest of the snapshot it reads run time and run delay (taskstats,
 * batched, or schedstat on held descriptors: host/thread-counters.h), the
 * throttled time of the thread's cpu cgroup and of the guest's cgroup above
 * it (host/cpustat.h; the cgroup from /proc/PID/task/TID/cgroup, re-read
 * every few ticks and whenever the thread changes), its SCHED_DEADLINE
 * reservation (sched_getattr through the sys layer's ops), and libvirt's
 * vcpu.N.delay from the snapshot; then it feeds the pure trackers of
 * steal/account.h. The report (steal/report.h) is built from them when
 * asked, not at every tick. Every tenth tick it also reads the other
 * collection path right after the first, so the report shows both side by
 * side.
 *
 * It does not log: problems (a thread gone, a cgroup file missing) are in
 * the report, and alert transitions are returned to the caller. */
#pragma once

#include <glib.h>

#include "core/snapshot.h"
#include "host/host.h"
#include "host/sys.h"
#include "policy/policy.h"
#include "steal/report.h"

/* A guest's agent is asked for its CPU statistics at most this often; after
 * N failures in a row, only after this interval times 2^N, at most
 * VS_STEAL_AGENT_BACKOFF_MAX_US. */
#define VS_STEAL_AGENT_INTERVAL_US (5 * G_USEC_PER_SEC)
#define VS_STEAL_AGENT_BACKOFF_MAX_US (300 * G_USEC_PER_SEC)
/* The command asked. */
#define VS_STEAL_AGENT_COMMAND "{\"execute\": \"guest-get-cpustats\"}"

/* Every this many ticks both collection paths are read (tick 1 included). */
#define VS_STEAL_CROSS_CHECK_TICKS 10
/* A vCPU thread's cgroup, and whether it has a CPU limit of its own, are
 * re-read at least every this many readings of the vCPU (ticks, for a
 * guest read every tick; times the sampling interval for a sampled one)
 * and when the thread changes; the first reads are spread over that many
 * readings. While the cgroup has no limit (cpu.max "max",
 * cpu.cfs_quota_us -1) it cannot be throttled itself, and its cpu.stat is
 * read only at these re-reads: a limit set on a vCPU cgroup later (by
 * libvirt's vcpu_quota or an operator; vsched limits only the guest's
 * cgroup, whose cpu.stat is read at every reading) is seen within this
 * many readings, and the throttled time it caused until then falls in the
 * interval where it is seen. */
#define VS_STEAL_CGROUP_REFRESH_TICKS 30

/* Sampling (doc/steal.md "Sampling"): with a sampling interval of N ticks
 * (vs_steal_collector_set_sampling()), a guest's vCPUs are read together
 * every N ticks, the guests spread over the N ticks, unless a consumer
 * needs per-tick figures of it: its CPU CoSchedule= is relaxed (the skew
 * of the last second), a condition it puts to use (Alert=, the hotplug
 * conditions) is shorter than VS_STEAL_SAMPLE_MIN_POINTS sampling
 * intervals (N times the mean time between the collector's ticks; any
 * condition while that is not known), its steal alert or guest/host
 * mismatch is on, its last interval had VS_STEAL_SAMPLE_BUSY_PCT steal or
 * more, or its policy is not known yet (the policy is looked up in
 * vs_steal_collector_alerts()). A vCPU without a baseline is read at once.
 * The counters are cumulative, so an interval of N ticks holds everything
 * in between. */
#define VS_STEAL_SAMPLE_MIN_POINTS 6
#define VS_STEAL_SAMPLE_BUSY_PCT 10.0

typedef struct VsStealCollector VsStealCollector;

/* A collector reading through @sys, using taskstats when @host's
 * capabilities say it works (else schedstat). Both are borrowed and must
 * outlive it; @host's cgroup layout is read at each tick. */
VsStealCollector *vs_steal_collector_new(const VsSys *sys, const VsHost *host);
void vs_steal_collector_free(VsStealCollector *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsStealCollector, vs_steal_collector_free)

/* Reads the guests that need no per-tick figures every @ticks ticks (1:
 * every guest every tick, the default). Takes effect at the next tick. */
void vs_steal_collector_set_sampling(VsStealCollector *c, guint ticks);

/* Reads the counters of the vCPUs of @snap's running guests that are due
 * (see sampling above), as of @snap->mono_us (the report is built again
 * when next asked). Guests no longer in the snapshot are forgotten; a vCPU
 * without a reading this tick keeps its baseline (its next interval spans
 * the gap) for up to VS_STEAL_MAX_GAP_US; a sampled guest is read at least
 * every half of that. */
void vs_steal_collector_tick(VsStealCollector *c, const VsSnapshot *snap);

/* The report of the last tick (an empty one before the first), built
 * from the histories when asked (for the control verbs and the metrics,
 * not at every tick); owned by the collector, valid until the next tick,
 * agent reply, entitlement change, vs_steal_collector_alerts() or free. */
const VsStealReport *vs_steal_collector_report(VsStealCollector *c);

/* The intervals of vCPU @index of guest @uuid as of the last tick
 * (borrowed, valid until the next tick or free), or NULL when the
 * collector has none: for other planners (sched/skew.h) to read the same
 * samples instead of reading the counters again. */
const VsStealSeries *vs_steal_collector_vcpu_series(const VsStealCollector *c, const char *uuid,
						    guint index);

/* The series of guest intervals (its vCPUs' sums per tick) of the guest
 * @uuid, or NULL when it has none; owned by the collector, valid until the
 * next tick or free. Read by the hotplug planner's conditions. */
const VsStealSeries *vs_steal_collector_series(const VsStealCollector *c, const char *uuid);

/* Sets the CPU that vCPU @index of guest @uuid is entitled to, in CPUs
 * (as the CPU planner computes it); a negative value forgets it. Used from
 * the next tick on. */
void vs_steal_collector_set_entitlement(VsStealCollector *c, const char *uuid, guint index,
					double cpus);

/* The running guests whose agent is due a VS_STEAL_AGENT_COMMAND at
 * monotonic time @now_us: a new array of UUIDs (char *). Each is counted
 * as asked until its reply is fed. */
GPtrArray *vs_steal_collector_agent_due(VsStealCollector *c, int64_t now_us);

/* Feeds the outcome of the agent command for guest @uuid taken at @mono_us:
 * its JSON @reply, or NULL and why in @error. A reply is parsed and checked
 * (steal/guest.h); a failure or a rejected reply backs the guest off. A
 * guest no longer known is ignored. Shown from the next report on. */
void vs_steal_collector_agent_reply(VsStealCollector *c, const char *uuid, int64_t mono_us,
				    const char *reply, const char *error);

/* Forgets every entitlement set (before a new plan's are set). */
void vs_steal_collector_clear_entitlements(VsStealCollector *c);

/* Evaluates every guest's [Steal] Alert= condition (its policy from
 * @policies, whose round the caller has begun for this tick: looked up
 * again when the cache drops its policies or the guest's name or class
 * changes) on its series, and compares the guest
 * agent's steal with the host's over 1 min at its GuestTolerance= (the
 * report shows the outcome when next built); returns a new array of
 * operator-facing messages (char *, each prefixed with the guest's name),
 * in guest name order, for the guests whose alert or guest/host mismatch
 * started or ended at this tick: the caller logs them. */
GPtrArray *vs_steal_collector_alerts(VsStealCollector *c, VsPolicyCache *policies);
