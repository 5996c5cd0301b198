/* The daemon's main loop, tick scheduling, signals and reloads; see daemon.h.
 *
 * A tick collects the host's memory and pressure and the libvirt inventory
 * into a new Snapshot, logs what changed since the last one, plans the CPU
 * placement and reservations (sched/cpuplan.h) and acts on them
 * (sched/act.h), and hands the snapshot and the plan's reasons to the
 * control server. The CPU plan is made again only when what it reads of the
 * snapshot (the guests' threads, names, classes, cgroups), the policies,
 * the overrides or the configuration changed, or, when acting, every
 * REPLAN_TICKS ticks (which also puts back what someone else changed); a
 * new vCPU thread changes the threads, so hotplugged vCPUs are placed in
 * the tick that first sees them. What vsched changed is recorded in
 * AppliedFile, loaded at start, and restored at a clean stop. After the CPU
 * step, co-scheduling (sched/cosched.h) is planned every tick from the
 * steal collector's intervals: skew, relaxed nice boosts (in AppliedFile
 * too), core-scheduling cookies; then the hotplug step (hotplug/act.h)
 * plans every guest's vCPU count and starts, or verifies, its changes off
 * the main loop. Ticks run
 * every TickInterval and, after EventDebounce, on libvirt events, control
 * requests and reconnections. */
#include "config.h"

#include "daemon/daemon.h"
#include "daemon/heap.h"
#include "daemon/mem-step.h"
#include "daemon/notify.h"
#include "daemon/policy-state.h"
#include "daemon/privileges.h"
#include "hotplug/act.h"
#include "core/changes.h"
#include "core/snapshot.h"
#include "core/tick-cost.h"
#include "ctl/server.h"
#include "host/cgroup-write.h"
#include "host/host.h"
#include "host/sys.h"
#include "metrics/metrics.h"
#include "sched/act.h"
#include "sched/applied.h"
#include "sched/cgplan.h"
#include "sched/cosched-act.h"
#include "sched/cosched.h"
#include "sched/cpuplan.h"
#include "steal/collector.h"
#include "steal/entitlement.h"
#include "util/cputime.h"
#include "util/error.h"
#include "util/log.h"
#include "util/units.h"
#include "virt/agent.h"
#include "virt/virt.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>

/* Editors write a file in several steps; wait for them to finish. */
#define POLICY_DEBOUNCE_MS 500
/* Plan the CPUs at least this often even when nothing seems to change. */
#define REPLAN_TICKS 10
/* At a clean stop, wait this long for vCPU count changes in flight. */
#define HOTPLUG_STOP_WAIT_US (INT64_C(10) * G_USEC_PER_SEC)

struct VsDaemon {
	char *config_path;
	VsConf *conf;
	bool dry_run;

	VsSys *sys;
	VsHost *host;
	VsVirt *virt;
	VsCtlServer *ctl;
	VsSnapshot *snapshot;
	VsPolicyState *policy;
	VsPolicyCache *policy_cache; /* the guests' effective policies, begun each tick */
	VsStealCollector *steal;
	VsHotplugAct *hotplug;
	VsAgent *agent;             /* guest agent commands, off the main loop */
	VsMemStep *mem;             /* balloon targets (daemon/mem-step.h) */

	/* CPU plan and actuator */
	VsApplied *applied;
	VsAct *act;
	VsCpuPlan *cpu_plan;
	uint64_t cpu_fingerprint;   /* the snapshot inputs the plan was made for
				     * (vs_cpu_plan_inputs_hash()) */
	uint64_t cpu_plan_tick;
	bool cpu_replan;            /* policies, overrides or configuration changed */
	char *cpu_problem;          /* why the last plan failed, logged once */
	char *applied_path;         /* AppliedFile, through the sys layer's root */
	GArray *would;              /* dry run: the digests (vs_cpu_action_hash()) of the
				     * actions already logged as "would set", sorted */

	/* Co-scheduling (CoSchedule=): planned every tick, from the steal
	 * collector's intervals */
	VsCosched *cosched;
	VsCoschedAct *cosched_act;
	VsCoschedPlan *cosched_plan;
	GHashTable *cosched_would;  /* dry run: co-scheduling actions logged */
	uint64_t entitled_tick;     /* cpu_plan_tick of the entitlements given to steal */

	GMainLoop *loop;
	guint tick_timer;
	guint event_timer;
	guint watchdog_timer;
	guint signal_sources[3];

	/* metrics */
	VsMetricsHistogram tick_durations;
	int64_t metrics_written_us;   /* monotonic time of the last textfile write */
	char *metrics_problem;        /* why the last write failed, logged once */

	uint64_t ticks;
	int64_t started_us;
	int64_t last_tick_us;
	int64_t last_collect_us;
	VsTickCost cost;            /* CPU time per phase of the ticks */
	guint reconnects;
	bool was_connected;
	char *last_error;
	char *last_status;
};

static void set_last_error(VsDaemon *d, char *message)
{
	g_free(d->last_error);
	d->last_error = message;
}

static char *status_line(VsDaemon *d)
{
	guint n_vcpus = 0;

	for (guint i = 0; i < d->snapshot->domains->len; i++) {
		const VsDomain *dom = g_ptr_array_index(d->snapshot->domains, i);
		n_vcpus += dom->vcpus_current;
	}
	return g_strdup_printf("%u guests, %u vCPUs; libvirt %s; tick %.1f ms",
			       d->snapshot->domains->len, n_vcpus,
			       d->snapshot->virt_connected ? "connected" : "disconnected",
			       (double)d->last_tick_us / 1000.0);
}

static void log_changes(const VsSnapshot *old, const VsSnapshot *new)
{
	g_autoptr(GPtrArray) changes = vs_changes_between(old, new);

	for (guint i = 0; i < changes->len; i++) {
		const VsChange *c = g_ptr_array_index(changes, i);
		vs_log_full(c->warning ? LOG_WARNING : LOG_INFO, c->domain, "%s", c->message);
	}
}

/* Collects a new snapshot, adding the CPU time of its phases to @phase_us.
 * While libvirt is away the inventory of the last snapshot is carried over,
 * marked disconnected. */
static VsSnapshot *collect(VsDaemon *d, int64_t *phase_us)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) domains = NULL;
	int64_t now = g_get_monotonic_time();
	int64_t cpu = vs_thread_cpu_us();
	bool connected = false;

	if (vs_host_refresh(d->host, d->sys, &error) < 0) {
		vs_log_warn("host: %s", error->message);
		set_last_error(d, g_strdup_printf("host: %s", error->message));
		g_clear_error(&error);
	}
	phase_us[VS_TICK_HOST] = vs_thread_cpu_us() - cpu;
	if (vs_virt_is_connected(d->virt)) {
		VsVirtCost cost = { 0 };
		int r;

		cpu = vs_thread_cpu_us();
		r = vs_virt_collect_costed(d->virt, &domains, &cost, &error);
		phase_us[VS_TICK_THREADS] = cost.threads_us;
		phase_us[VS_TICK_STATS] = cost.stats_us;
		phase_us[VS_TICK_LIBVIRT] = vs_thread_cpu_us() - cpu - cost.threads_us - cost.stats_us;
		if (r == 0) {
			connected = true;
		} else if (r != -ENOTCONN) {
			vs_log_warn("libvirt inventory: %s", error ? error->message : g_strerror(-r));
			set_last_error(d, g_strdup_printf("libvirt inventory: %s",
							  error ? error->message : g_strerror(-r)));
		}
	}
	if (!connected && d->snapshot)
		domains = g_ptr_array_ref(d->snapshot->domains);
	return vs_snapshot_new(d->ticks + 1, now, g_get_real_time(), d->host,
			       g_steal_pointer(&domains), connected);
}

/* True when vschedd changes CPU settings: not --dry-run, Act=yes, and
 * the sys layer reads the real system (with a fixture SysRoot the thread
 * IDs are made up, and the syscalls would reach real threads). */
static bool acting(const VsDaemon *d)
{
	return !d->dry_run && d->conf->act && vs_sys_is_real(d->sys);
}

/* True when vschedd sets balloon targets: not --dry-run and Act=yes. The
 * balloon is reached through libvirt, not the sys layer, so a fixture
 * SysRoot with the libvirt test driver still acts (on the test driver's
 * guests). */
static bool mem_acting(const VsDaemon *d)
{
	return !d->dry_run && d->conf->act;
}

static void log_events(GPtrArray *events)
{
	for (guint i = 0; i < events->len; i++) {
		const VsActEvent *e = g_ptr_array_index(events, i);
		vs_log_full(e->priority, e->domain, "%s", e->message);
	}
}

/* Makes a new CPU plan for @snap; NULL (logged once per problem) when the
 * planner refuses the input. */
static VsCpuPlan *cpu_plan(VsDaemon *d, const VsSnapshot *snap)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCpuSet) managed = NULL;
	g_autoptr(VsCpuSet) housekeeping = NULL;
	VsCpuPlan *plan = NULL;

	if (vs_conf_cpu_sets(d->conf, d->host->topology.online, &managed, &housekeeping,
			     &error) == 0) {
		const VsCpuPlanInput in = {
			.snapshot = snap,
			.policies = vs_policy_state_set(d->policy),
			.overrides = vs_policy_state_overrides(d->policy),
			.now_us = snap->wall_us,
			.managed = managed,
			.housekeeping = housekeeping,
			.overcommit_limit = d->conf->overcommit_limit,
			.previous = d->cpu_plan ? d->cpu_plan->placement : NULL,
			.applied = d->applied,
			.refused = vs_act_refused(d->act),
		};
		vs_cpu_plan(&in, &plan, &error);
	}
	if (!plan) {
		if (g_strcmp0(d->cpu_problem, error->message) != 0) {
			vs_log_err("CPU plan: %s; CPU settings stay as they are", error->message);
			set_last_error(d, g_strdup_printf("CPU plan: %s", error->message));
			g_free(d->cpu_problem);
			d->cpu_problem = g_strdup(error->message);
		}
		return NULL;
	}
	g_clear_pointer(&d->cpu_problem, g_free);
	return plan;
}

/* Dry run: logs "would set @text: @reason" unless @seen (the last tick's
 * lines) has it, and adds @text (taken) to @now. */
static void log_would_once(GHashTable *seen, GHashTable *now, const char *domain, char *text,
			   const char *reason)
{
	if (!g_hash_table_contains(seen, text))
		vs_log_full(LOG_INFO, domain, "would set %s: %s", text, reason);
	g_hash_table_add(now, text);
}

static int cmp_u64(gconstpointer a, gconstpointer b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Dry run: logs each action of @plan once, until it leaves the plan. The
 * actions are told apart by digest: only the new ones are described. */
static void log_would(VsDaemon *d, const VsCpuPlan *plan)
{
	GArray *now = g_array_sized_new(FALSE, FALSE, sizeof(uint64_t), plan->actions->len);

	for (guint i = 0; i < plan->actions->len; i++) {
		const VsCpuAction *a = g_ptr_array_index(plan->actions, i);
		uint64_t h = vs_cpu_action_hash(a);

		g_array_append_val(now, h);
		if (!d->would->len ||
		    !bsearch(&h, d->would->data, d->would->len, sizeof(h), cmp_u64)) {
			g_autofree char *text = vs_cpu_action_describe(a);

			vs_log_full(LOG_INFO, a->domain, "would set %s: %s", text, a->reason);
		}
	}
	g_array_sort(now, cmp_u64);
	g_array_unref(d->would);
	d->would = now;
}

/* The CPU step of a tick: plan when something changed, then act (or, in a
 * dry run, say what would be done). */
static void cpu_step(VsDaemon *d, const VsSnapshot *snap)
{
	uint64_t fingerprint;
	g_autoptr(GPtrArray) events = NULL;

	/* While libvirt is away the guests are as last seen: nothing new to do. */
	if (!snap->virt_connected)
		return;
	/* What the planner reads of the snapshot (the running guests' threads
	 * by identity, names, classes, cgroups; the host's CPUs): when it
	 * changes (a guest starts or stops, a vCPU is plugged, a thread is
	 * replaced), so may the plan. Acting, the plan is made and acted on
	 * again every REPLAN_TICKS ticks too: the actuator reads every value
	 * back and puts back what someone else changed. In a dry run or with
	 * Act=no nothing was set, and the same inputs make the same plan. */
	fingerprint = vs_cpu_plan_inputs_hash(snap);
	if (d->cpu_plan && !d->cpu_replan && fingerprint == d->cpu_fingerprint &&
	    (!acting(d) || snap->tick - d->cpu_plan_tick < REPLAN_TICKS))
		return;
	/* Settings of threads that ended have nothing left to restore. */
	if (vs_applied_retain_snapshot(d->applied, snap) > 0 && acting(d)) {
		g_autoptr(GError) error = NULL;
		if (vs_applied_save(d->applied, d->applied_path, &error) < 0)
			vs_log_warn("%s", error->message);
	}
	events = vs_act_events_new();
	for (int round = 0; round < 2; round++) {
		VsCpuPlan *plan = cpu_plan(d, snap);

		if (!plan)
			break;
		g_clear_pointer(&d->cpu_plan, vs_cpu_plan_free);
		d->cpu_plan = plan;
		if (!acting(d)) {
			log_would(d, plan);
			break;
		}
		vs_act_run(d->act, plan, events);
		/* The kernel refused a reservation: plan the vCPUs without it. */
		if (!vs_act_needs_replan(d->act))
			break;
	}
	log_events(events);
	d->cpu_fingerprint = fingerprint;
	d->cpu_plan_tick = snap->tick;
	d->cpu_replan = false;
}

/* Gives the steal collector the vCPUs' entitlements under the CPU plan,
 * when the plan changed; none in a dry run (nothing of the plan is set). */
static void steal_entitlements(VsDaemon *d, const VsSnapshot *snap)
{
	g_autoptr(GArray) list = NULL;
	const VsStealEntitlementInput in = {
		.plan = d->cpu_plan,
		.snapshot = snap,
		.policies = vs_policy_state_set(d->policy),
		.overrides = vs_policy_state_overrides(d->policy),
		.now_us = snap->wall_us,
	};

	if (d->entitled_tick == d->cpu_plan_tick)
		return;
	d->entitled_tick = d->cpu_plan_tick;
	vs_steal_collector_clear_entitlements(d->steal);
	if (!acting(d))
		return;
	list = vs_steal_entitlement_compute(&in);
	for (guint i = 0; i < list->len; i++) {
		const VsStealEntitlement *e = &g_array_index(list, VsStealEntitlement, i);

		vs_steal_collector_set_entitlement(d->steal, e->uuid, e->index, e->cpus);
	}
}

/* Feeds the guest agents' replies that arrived to steal accounting and
 * asks the agents that are due. */
static void agent_step(VsDaemon *d, const VsSnapshot *snap)
{
	g_autoptr(GPtrArray) replies = vs_agent_take_replies(d->agent);
	g_autoptr(GPtrArray) due = NULL;

	for (guint i = 0; i < replies->len; i++) {
		const VsAgentReply *r = g_ptr_array_index(replies, i);

		vs_steal_collector_agent_reply(d->steal, r->uuid, r->mono_us, r->reply, r->error);
	}
	if (!snap->virt_connected)
		return;
	due = vs_steal_collector_agent_due(d->steal, snap->mono_us);
	for (guint i = 0; i < due->len; i++) {
		const char *uuid = g_ptr_array_index(due, i);

		if (!vs_agent_request(d->agent, uuid, VS_STEAL_AGENT_COMMAND))
			vs_steal_collector_agent_reply(d->steal, uuid, snap->mono_us, NULL,
						       "no thread for guest agent commands");
	}
}

static char *metrics_text(VsDaemon *d);

/* Writes the metrics file when MetricsDirectory= is set and MetricsInterval
 * has passed; a failure is logged once until a write succeeds again. */
static void write_metrics(VsDaemon *d)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	int64_t now = g_get_monotonic_time();

	if (!d->conf->metrics_dir[0] ||
	    (d->metrics_written_us && now - d->metrics_written_us < d->conf->metrics_interval_us))
		return;
	d->metrics_written_us = now;
	text = metrics_text(d);
	if (vs_metrics_textfile_write(d->conf->metrics_dir, text, &error) < 0) {
		if (g_strcmp0(d->metrics_problem, error->message) != 0) {
			vs_log_warn("metrics: cannot write: %s; trying again every %.3g s",
				    error->message, (double)d->conf->metrics_interval_us / 1e6);
			g_free(d->metrics_problem);
			d->metrics_problem = g_strdup(error->message);
		}
		return;
	}
	if (d->metrics_problem) {
		vs_log_notice("metrics: written to %s again", d->conf->metrics_dir);
		g_clear_pointer(&d->metrics_problem, g_free);
	}
}

static const VsStealSeries *steal_series(gpointer data, const char *uuid, guint index)
{
	VsDaemon *d = data;

	return vs_steal_collector_vcpu_series(d->steal, uuid, index);
}

/* The co-scheduling step of a tick: skew from the steal collector's
 * intervals, relaxed boosts, core-scheduling cookies (or, in a dry run,
 * what would be done, once per action). */
static void cosched_step(VsDaemon *d, const VsSnapshot *snap)
{
	const VsCoschedInput in = {
		.snapshot = snap,
		.policies = vs_policy_state_set(d->policy),
		.overrides = vs_policy_state_overrides(d->policy),
		.now_us = snap->wall_us,
		.series = steal_series,
		.data = d,
		.applied = d->applied,
		.cookies = vs_cosched_act_cookies(d->cosched_act),
		.policy_cache = d->policy_cache,
	};
	g_autoptr(GPtrArray) events = vs_act_events_new();

	if (!snap->virt_connected)
		return;
	g_clear_pointer(&d->cosched_plan, vs_cosched_plan_free);
	d->cosched_plan = vs_cosched_plan(d->cosched, &in);
	if (acting(d)) {
		vs_cosched_act_run(d->cosched_act, d->cosched_plan, events);
		log_events(events);
		return;
	}
	{
		g_autoptr(GHashTable) now = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
								  NULL);

		for (guint i = 0; i < d->cosched_plan->actions->len; i++) {
			const VsCoschedAction *a = g_ptr_array_index(d->cosched_plan->actions, i);

			log_would_once(d->cosched_would, now, a->domain,
				       vs_cosched_action_describe(a), a->reason);
		}
		g_hash_table_unref(d->cosched_would);
		d->cosched_would = g_steal_pointer(&now);
	}
}

static const VsStealSeries *hotplug_series(gpointer data, const char *uuid)
{
	VsDaemon *d = data;

	return vs_steal_collector_series(d->steal, uuid);
}

/* The hotplug step of a tick: verify the vCPU count changes in flight,
 * plan each guest's count and start the changes (in a dry run or with
 * Act=no, only say what would change). */
static void hotplug_step(VsDaemon *d, const VsSnapshot *snap)
{
	g_autoptr(GPtrArray) events = vs_act_events_new();
	const VsHotplugTickInput in = {
		.snapshot = snap,
		.policies = vs_policy_state_set(d->policy),
		.overrides = vs_policy_state_overrides(d->policy),
		.series = hotplug_series,
		.series_data = d,
		.acting = !d->dry_run && d->conf->act,
		.policy_cache = d->policy_cache,
	};

	if (!d->hotplug)
		return;
	vs_hotplug_act_tick(d->hotplug, &in, events);
	log_events(events);
}

static void tick(VsDaemon *d)
{
	int64_t t0 = g_get_monotonic_time();
	int64_t phase_us[VS_TICK_N_PHASES] = { 0 };
	g_autoptr(VsSnapshot) snap = collect(d, phase_us);
	g_autofree char *status = NULL;
	int64_t cpu = vs_thread_cpu_us();

	d->last_collect_us = g_get_monotonic_time() - t0;
	vs_steal_collector_tick(d->steal, snap);
	agent_step(d, snap);
	vs_policy_cache_begin(d->policy_cache, vs_policy_state_set(d->policy),
			      vs_policy_state_overrides(d->policy), snap->wall_us);
	{
		g_autoptr(GPtrArray) alerts = vs_steal_collector_alerts(d->steal, d->policy_cache);

		for (guint i = 0; i < alerts->len; i++)
			vs_log_warn("%s", (char *)g_ptr_array_index(alerts, i));
	}
	phase_us[VS_TICK_STEAL] = vs_thread_cpu_us() - cpu;
	cpu = vs_thread_cpu_us();
	if (snap->virt_connected)
		log_changes(d->snapshot && d->snapshot->virt_connected ? d->snapshot : NULL, snap);
	phase_us[VS_TICK_CHANGES] = vs_thread_cpu_us() - cpu;

	cpu = vs_thread_cpu_us();
	/* Expired overrides go; the cache's round, begun above at the same
	 * time, already left them out. */
	if (vs_policy_state_expire(d->policy, snap->wall_us))
		d->cpu_replan = true;
	cpu_step(d, snap);
	steal_entitlements(d, snap);
	/* Acted on (or logged) and read: the plan keeps its reasons and vCPU
	 * plans for show and explain, not its actions. The last plan and
	 * the making of this one are freed: heap.h says why a trim now. */
	if (d->cpu_plan && d->cpu_plan->actions->len) {
		vs_cpu_plan_drop_actions(d->cpu_plan);
		vs_heap_trim();
	}
	cosched_step(d, snap);
	hotplug_step(d, snap);
	phase_us[VS_TICK_CPU] = vs_thread_cpu_us() - cpu;

	cpu = vs_thread_cpu_us();
	vs_mem_step_run(d->mem, snap, vs_policy_state_set(d->policy),
			vs_policy_state_overrides(d->policy), d->policy_cache, d->conf,
			mem_acting(d));
	phase_us[VS_TICK_MEM] = vs_thread_cpu_us() - cpu;
	vs_tick_cost_add(&d->cost, phase_us);

	g_clear_pointer(&d->snapshot, vs_snapshot_free);
	d->snapshot = g_steal_pointer(&snap);
	d->ticks++;
	d->last_tick_us = g_get_monotonic_time() - t0;
	vs_metrics_histogram_observe(&d->tick_durations, d->last_tick_us);
	write_metrics(d);

	status = status_line(d);
	if (g_strcmp0(status, d->last_status) != 0 && vs_notify_enabled())
		vs_notify_status(status);
	g_free(d->last_status);
	d->last_status = g_steal_pointer(&status);
}

static gboolean on_tick_timer(gpointer data)
{
	tick(data);
	return G_SOURCE_CONTINUE;
}

static gboolean on_event_timer(gpointer data)
{
	VsDaemon *d = data;

	d->event_timer = 0;
	tick(d);
	return G_SOURCE_REMOVE;
}

/* Runs a tick after EventDebounce, gathering the events that come until
 * then into that one tick. */
static void tick_soon(VsDaemon *d)
{
	if (d->event_timer)
		return;
	d->event_timer = g_timeout_add((guint)(d->conf->event_debounce_us / 1000), on_event_timer, d);
}

/* Runs a tick as soon as the main loop is idle, without the debounce: a
 * PSI trigger must reach the balloons within a second. */
static void tick_now(gpointer data)
{
	VsDaemon *d = data;

	g_clear_handle_id(&d->event_timer, g_source_remove);
	d->event_timer = g_idle_add(on_event_timer, d);
}

static void start_tick_timer(VsDaemon *d)
{
	g_clear_handle_id(&d->tick_timer, g_source_remove);
	d->tick_timer = g_timeout_add((guint)(d->conf->tick_interval_us / 1000), on_tick_timer, d);
}

static void on_virt_event(VsVirtEventKind kind, const char *uuid, const char *name,
			  const char *detail, gpointer data)
{
	VsDaemon *d = data;

	switch (kind) {
	case VS_VIRT_EVENT_CONNECTED:
		if (d->was_connected)
			d->reconnects++;
		d->was_connected = true;
		if (detail)
			vs_log_notice("libvirt: %s", detail);
		else
			vs_log_notice("libvirt: connected to %s", vs_virt_uri(d->virt));
		break;
	case VS_VIRT_EVENT_DISCONNECTED:
		vs_log_warn("libvirt: lost the connection to %s (%s); reconnecting; guests stay "
			    "as last seen until then", vs_virt_uri(d->virt), detail ? detail : "no reason given");
		set_last_error(d, g_strdup_printf("libvirt connection lost: %s", detail ? detail : "?"));
		break;
	case VS_VIRT_EVENT_LIFECYCLE:
	case VS_VIRT_EVENT_DEVICE:
	case VS_VIRT_EVENT_METADATA:
		vs_log_full(LOG_DEBUG, name, "event: %s", detail ? detail : "");
		break;
	}
	tick_soon(d);
}

static gboolean on_policy_dir_changed(gpointer data);

/* Re-reads the policy directory (which the configuration may have moved). */
static void reload_policies(VsDaemon *d)
{
	g_autofree char *dir = vs_conf_policy_dir(d->conf, d->config_path);
	bool moved = g_strcmp0(dir, vs_policy_state_dir(d->policy)) != 0;

	vs_policy_state_load(d->policy, dir);
	vs_policy_cache_invalidate(d->policy_cache);
	d->cpu_replan = true;
	if (moved)
		vs_policy_state_watch(d->policy, POLICY_DEBOUNCE_MS, on_policy_dir_changed, d);
	tick_soon(d);
}

static gboolean on_policy_dir_changed(gpointer data)
{
	VsDaemon *d = data;

	vs_log_info("policy: %s changed; reloading", vs_policy_state_dir(d->policy));
	reload_policies(d);
	return G_SOURCE_REMOVE;
}

/* The steal collector's sampling from the configuration (StealSampleTicks=). */
static void steal_sampling(VsDaemon *d)
{
	vs_steal_collector_set_sampling(d->steal, (guint)d->conf->steal_sample_ticks);
}

static void reload(VsDaemon *d)
{
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(VsConf) conf = NULL;
	g_autofree const char **restart = NULL;

	vs_notify_reloading();
	conf = vs_conf_load(d->config_path, false, errors, warnings);
	for (guint i = 0; i < warnings->len; i++)
		vs_log_warn("%s", (char *)g_ptr_array_index(warnings, i));
	if (!conf) {
		for (guint i = 0; i < errors->len; i++)
			vs_log_err("%s", (char *)g_ptr_array_index(errors, i));
		vs_log_err("configuration not reloaded: %u error(s); the running configuration stays",
			   errors->len);
		set_last_error(d, g_strdup_printf("reload refused: %s", (char *)g_ptr_array_index(errors, 0)));
		/* The policies are reloaded all the same: they are their own files. */
		reload_policies(d);
		vs_notify_ready("reload refused; running configuration kept");
		return;
	}
	restart = vs_conf_keep_restart_keys(conf, d->conf);
	for (guint i = 0; restart[i]; i++)
		vs_log_warn("%s: %s changed; it takes effect when vschedd restarts", d->config_path, restart[i]);
	vs_conf_free(d->conf);
	d->conf = g_steal_pointer(&conf);
	d->cpu_replan = true;
	vs_log_set_level(d->conf->log_level);
	start_tick_timer(d);
	steal_sampling(d);
	vs_mem_step_configure(d->mem, d->conf, d->host);
	vs_mem_step_note_event(d->mem, "the configuration reload");
	vs_log_notice("configuration reloaded from %s", d->config_path);
	reload_policies(d);
	vs_notify_ready("configuration reloaded");
	tick_soon(d);
}

static gboolean on_sigterm(gpointer data)
{
	VsDaemon *d = data;

	vs_log_notice("stopping on signal");
	vs_notify_stopping();
	g_main_loop_quit(d->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean on_sighup(gpointer data)
{
	reload(data);
	return G_SOURCE_CONTINUE;
}

static gboolean on_watchdog(gpointer data)
{
	vs_notify_watchdog();
	return G_SOURCE_CONTINUE;
}

static const VsSnapshot *backend_snapshot(gpointer data)
{
	VsDaemon *d = data;

	return d->snapshot;
}

static void backend_status(gpointer data, VsDaemonStatus *ret)
{
	VsDaemon *d = data;

	*ret = (VsDaemonStatus){
		.version = PACKAGE_VERSION,
		.uptime_us = g_get_monotonic_time() - d->started_us,
		.ticks = d->ticks,
		.last_tick_us = d->last_tick_us,
		.last_collect_us = d->last_collect_us,
		.cost = &d->cost,
		.tick_interval_us = d->conf->tick_interval_us,
		.dry_run = d->dry_run,
		.libvirt_uri = vs_virt_uri(d->virt),
		.libvirt_connected = vs_virt_is_connected(d->virt),
		.libvirt_reconnects = d->reconnects,
		.config_path = d->config_path,
		.last_error = d->last_error,
	};
}

static const VsPolicySet *backend_policies(gpointer data)
{
	VsDaemon *d = data;

	return vs_policy_state_set(d->policy);
}

static void backend_policy_status(gpointer data, const char **ret_dir, const char **ret_error)
{
	VsDaemon *d = data;

	*ret_dir = vs_policy_state_dir(d->policy);
	*ret_error = vs_policy_state_error(d->policy);
}

static VsOverrides *backend_overrides(gpointer data)
{
	VsDaemon *d = data;

	return vs_policy_state_overrides(d->policy);
}

static void backend_overrides_changed(gpointer data)
{
	VsDaemon *d = data;

	vs_policy_state_save_overrides(d->policy);
	vs_policy_cache_invalidate(d->policy_cache);
	d->cpu_replan = true;
	vs_mem_step_note_event(d->mem, "the override");
	tick_soon(d);
}

static const VsMemView *backend_mem(gpointer data)
{
	VsDaemon *d = data;

	return vs_mem_step_view(d->mem);
}

static const char *const *backend_reasons(gpointer data, const char *uuid)
{
	VsDaemon *d = data;

	return d->cpu_plan ? vs_cpu_plan_reasons(d->cpu_plan, uuid) : NULL;
}

static const VsCpuVcpuPlan *backend_vcpu_plan(gpointer data, const char *uuid, guint index)
{
	VsDaemon *d = data;

	return d->cpu_plan ? vs_cpu_plan_vcpu(d->cpu_plan, uuid, index) : NULL;
}

static const VsCoschedGuestReport *backend_cosched(gpointer data, const char *uuid)
{
	VsDaemon *d = data;

	return d->cosched_plan ? vs_cosched_plan_guest(d->cosched_plan, uuid) : NULL;
}

static const VsStealReport *backend_steal(gpointer data)
{
	VsDaemon *d = data;

	return vs_steal_collector_report(d->steal);
}

static char *metrics_text(VsDaemon *d)
{
	VsDaemonStatus status;
	const VsPolicySet *set = vs_policy_state_set(d->policy);
	const VsOverrides *overrides = vs_policy_state_overrides(d->policy);
	VsMetricsInput in;

	backend_status(d, &status);
	in = (VsMetricsInput){
		.status = &status,
		.snapshot = d->snapshot,
		.steal = vs_steal_collector_report(d->steal),
		.cpu_plan = d->cpu_plan,
		.tick_durations = &d->tick_durations,
		.policy_files = set ? set->files->len : 0,
		.policy_reload_failed = vs_policy_state_error(d->policy) != NULL,
		.overrides = overrides ? overrides->items->len : 0,
		.applied_settings = d->applied->entries->len,
		.mem = vs_mem_step_view(d->mem),
	};
	return vs_metrics_format(&in);
}

static char *backend_metrics(gpointer data)
{
	return metrics_text(data);
}

static const VsHotplugStatus *backend_hotplug(gpointer data, const char *uuid)
{
	VsDaemon *d = data;

	return d->hotplug ? vs_hotplug_act_status(d->hotplug, uuid) : NULL;
}

static void on_hotplug_wake(gpointer data)
{
	tick_soon(data);
}

static void backend_tick(gpointer data)
{
	tick_soon(data);
}

static void backend_reload(gpointer data)
{
	reload(data);
}

/* Loads AppliedFile: what an earlier vschedd changed and not yet restored
 * (it was killed, or crashed). Settings of threads that are gone are
 * forgotten; a file that cannot be used is set aside as FILE.bad. */
static void load_applied(VsDaemon *d)
{
	const char *path = d->applied_path;
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) dropped = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	guint n;

	d->applied = vs_applied_load(path, warnings, &error);
	for (guint i = 0; i < warnings->len; i++)
		vs_log_warn("%s: %s", path, (char *)g_ptr_array_index(warnings, i));
	if (!d->applied) {
		g_autofree char *aside = g_strdup_printf("%s.bad", path);

		vs_log_err("%s: %s; set aside as %s: the CPU settings it recorded will not be "
			   "restored", path, error->message, aside);
		if (g_rename(path, aside) < 0)
			vs_log_warn("%s: cannot rename: %s", path, g_strerror(errno));
		d->applied = vs_applied_new();
		return;
	}
	n = d->applied->entries->len;
	vs_applied_drop_stale(d->applied, d->sys, dropped);
	for (guint i = 0; i < dropped->len; i++)
		vs_log_info("%s: dropped %s", path, (char *)g_ptr_array_index(dropped, i));
	if (n > 0)
		vs_log_notice("found %u applied CPU setting(s) in %s from an earlier run; %u still "
			      "apply and will be restored at a clean stop", n, path,
			      d->applied->entries->len);
}

VsDaemon *vs_daemon_new(const char *config_path, VsConf *conf, bool dry_run, GError **error)
{
	g_autoptr(VsDaemon) d = g_new0(VsDaemon, 1);
	g_autofree char *policy_dir = NULL;

	d->config_path = g_strdup(config_path);
	d->conf = conf;
	d->dry_run = dry_run;
	d->sys = vs_sys_new(conf->sysroot);
	d->host = vs_host_collect(d->sys, error);
	if (!d->host)
		return NULL;
	vs_host_probe_caps(d->host, d->sys);
	d->steal = vs_steal_collector_new(d->sys, d->host);
	steal_sampling(d);
	policy_dir = vs_conf_policy_dir(conf, config_path);
	d->policy = vs_policy_state_new(policy_dir, conf->overrides_file);
	vs_policy_state_load(d->policy, NULL);
	d->policy_cache = vs_policy_cache_new();
	vs_policy_state_load_overrides(d->policy, g_get_real_time());
	d->applied_path = vs_sys_path(d->sys, conf->applied_file);
	load_applied(d);
	d->act = vs_act_new(d->sys, d->applied, d->applied_path);
	vs_act_set_cgroup(d->act, &d->host->cgroup);
	d->cosched = vs_cosched_new();
	d->cosched_act = vs_cosched_act_new(d->sys, d->applied, d->applied_path);
	d->cosched_would = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	d->would = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	d->started_us = g_get_monotonic_time();
	return g_steal_pointer(&d);
}

static void log_host(VsDaemon *d)
{
	const VsHost *h = d->host;
	g_autofree char *cpus = vs_cpuset_format(h->topology.online);
	g_autofree char *mem = vs_format_size(h->mem.total);
	const VsCap *caps[] = { &h->caps.deadline, &h->caps.cpuset_partitions, &h->caps.sched_core,
				&h->caps.taskstats, &h->caps.psi, &h->caps.cgroup_v2_cpu,
				&h->caps.cgroup_v2_cpuset, &h->caps.cgroup_v2_memory };
	const char *names[] = { "deadline", "cpuset partitions", "core scheduling", "taskstats",
				"PSI", "cgroup v2 cpu", "cgroup v2 cpuset", "cgroup v2 memory" };

	vs_log_info("host: CPUs %s (%u NUMA node(s)%s), %s memory, cgroups %s", cpus,
		    h->topology.n_nodes, h->topology.smt ? ", SMT" : "", mem,
		    vs_cgroup_mode_name(h->cgroup.mode));
	for (size_t i = 0; i < G_N_ELEMENTS(caps); i++)
		vs_log_info("host: %s: %s%s%s", names[i], caps[i]->ok ? "yes" : "no",
			    caps[i]->detail ? " - " : "", caps[i]->detail ? caps[i]->detail : "");
}

int vs_daemon_run(VsDaemon *d)
{
	g_autoptr(GError) error = NULL;
	const VsCtlBackend backend = {
		.snapshot = backend_snapshot,
		.status = backend_status,
		.request_tick = backend_tick,
		.request_reload = backend_reload,
		.policies = backend_policies,
		.policy_status = backend_policy_status,
		.overrides = backend_overrides,
		.overrides_changed = backend_overrides_changed,
		.hotplug = backend_hotplug,
		.reasons = backend_reasons,
		.vcpu_plan = backend_vcpu_plan,
		.data = d,
		.steal = backend_steal,
		.metrics = backend_metrics,
		.cosched = backend_cosched,
		.mem = backend_mem,
	};
	uint64_t watchdog_usec = vs_notify_watchdog_usec();
	g_autofree char *ready = NULL;

	d->loop = g_main_loop_new(NULL, FALSE);
	log_host(d);

	d->ctl = vs_ctl_server_new(d->conf->control_socket, d->conf->control_group, &backend, &error);
	if (!d->ctl) {
		vs_log_err("control socket %s: %s", d->conf->control_socket, error->message);
		return 1;
	}
	if (vs_ctl_server_warning(d->ctl))
		vs_log_warn("control socket %s: %s", d->conf->control_socket, vs_ctl_server_warning(d->ctl));
	/* The socket got its group (CAP_CHOWN): from here on only what is used. */
	if (d->conf->drop_capabilities) {
		g_autofree char *kept = NULL;

		if (vs_privileges_drop(&kept, &error) < 0) {
			vs_log_err("%s; not started (DropCapabilities=no starts with every "
				   "capability, for debugging)", error->message);
			return 1;
		}
		vs_log_info("capabilities kept: %s", kept);
	}

	d->virt = vs_virt_new(d->sys, d->conf->libvirt_uri, d->conf->libvirt_status_dir, on_virt_event, d);
	d->hotplug = vs_hotplug_act_new(d->virt, on_hotplug_wake, d);
	vs_virt_start(d->virt);
	d->agent = vs_agent_new(d->conf->libvirt_uri);
	d->mem = vs_mem_step_new(d->sys, d->virt, tick_now, d);
	vs_mem_step_configure(d->mem, d->conf, d->host);
	if (!vs_virt_is_connected(d->virt))
		vs_log_warn("libvirt: %s is not reachable yet; retrying in the background", d->conf->libvirt_uri);

	d->signal_sources[0] = g_unix_signal_add(SIGTERM, on_sigterm, d);
	d->signal_sources[1] = g_unix_signal_add(SIGINT, on_sigterm, d);
	d->signal_sources[2] = g_unix_signal_add(SIGHUP, on_sighup, d);
	signal(SIGPIPE, SIG_IGN);
	vs_policy_state_watch(d->policy, POLICY_DEBOUNCE_MS, on_policy_dir_changed, d);
	if (watchdog_usec)
		d->watchdog_timer = g_timeout_add((guint)(watchdog_usec / 2000), on_watchdog, d);

	if (vs_cgroup_available(&d->host->cgroup, "cpu", NULL) < 0)
		vs_log_notice("%s (CPU placement and reservations continue)", VS_CGPLAN_NO_CPU);
	if (!d->dry_run && d->conf->act && !vs_sys_is_real(d->sys))
		vs_log_notice("SysRoot=%s is not the real system: CPU settings are planned and "
			      "logged, never applied", d->conf->sysroot);
	tick(d);
	start_tick_timer(d);
	ready = g_strdup_printf("%s%s", d->dry_run ? "dry run: " : "", d->last_status);
	vs_notify_ready(ready);
	vs_log_notice("vschedd %s ready%s: control socket %s, tick every %.3g s", PACKAGE_VERSION,
		      d->dry_run ? " (dry run: nothing will be changed)" : "", d->conf->control_socket,
		      (double)d->conf->tick_interval_us / 1e6);

	g_main_loop_run(d->loop);

	/* vCPU count changes in flight: let libvirt answer (or time out)
	 * before the restore below, with no more ticks. */
	g_clear_handle_id(&d->tick_timer, g_source_remove);
	g_clear_handle_id(&d->event_timer, g_source_remove);
	if (d->hotplug) {
		guint left = vs_hotplug_act_wait(d->hotplug, HOTPLUG_STOP_WAIT_US);

		if (left > 0)
			vs_log_warn("hotplug: %u vCPU count change(s) still waiting for libvirt at "
				    "the stop; their outcome is not checked", left);
	}
	/* Clean stop: every CPU setting vsched changed goes back (invariant 4). */
	if (acting(d)) {
		g_autoptr(GPtrArray) events = vs_act_events_new();
		guint n, restored;

		/* Nice boosts and core-scheduling cookies first: they are not
		 * counted with the CPU settings below. */
		restored = vs_cosched_act_restore_all(d->cosched_act, events);
		if (restored > 0)
			vs_log_notice("restored %u nice value(s) and core-scheduling cookie(s) of "
				      "co-scheduling", restored);
		n = d->applied->entries->len;
		restored = vs_act_restore_all(d->act, events);

		log_events(events);
		vs_log_notice("restored %u of %u CPU setting(s) vsched had changed%s", restored, n,
			      restored < n ? " (the threads of the others are gone, or see above)"
					   : "");
	} else if (d->applied->entries->len > 0) {
		vs_log_notice("%u CPU setting(s) applied earlier stay in place and recorded in %s "
			      "(not acting)", d->applied->entries->len, d->applied_path);
	}
	/* Balloon targets stay (invariant 4); say how far below their maximum. */
	vs_mem_step_stop(d->mem);
	vs_log_notice("stopped after %" G_GUINT64_FORMAT " ticks", d->ticks);
	return 0;
}

void vs_daemon_free(VsDaemon *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < G_N_ELEMENTS(d->signal_sources); i++)
		g_clear_handle_id(&d->signal_sources[i], g_source_remove);
	g_clear_handle_id(&d->tick_timer, g_source_remove);
	g_clear_handle_id(&d->event_timer, g_source_remove);
	g_clear_handle_id(&d->watchdog_timer, g_source_remove);
	g_clear_pointer(&d->ctl, vs_ctl_server_free);
	g_clear_pointer(&d->hotplug, vs_hotplug_act_free);
	g_clear_pointer(&d->agent, vs_agent_free);
	g_clear_pointer(&d->mem, vs_mem_step_free);
	g_clear_pointer(&d->virt, vs_virt_free);
	g_clear_pointer(&d->steal, vs_steal_collector_free);
	g_clear_pointer(&d->snapshot, vs_snapshot_free);
	g_clear_pointer(&d->policy_cache, vs_policy_cache_free);
	g_clear_pointer(&d->policy, vs_policy_state_free);
	g_clear_pointer(&d->cpu_plan, vs_cpu_plan_free);
	g_clear_pointer(&d->act, vs_act_free);
	g_clear_pointer(&d->cosched_plan, vs_cosched_plan_free);
	g_clear_pointer(&d->cosched_act, vs_cosched_act_free);
	g_clear_pointer(&d->cosched, vs_cosched_free);
	g_clear_pointer(&d->cosched_would, g_hash_table_unref);
	g_clear_pointer(&d->applied, vs_applied_free);
	g_clear_pointer(&d->would, g_array_unref);
	g_free(d->cpu_problem);
	g_free(d->metrics_problem);
	g_free(d->applied_path);
	g_clear_pointer(&d->host, vs_host_free);
	g_clear_pointer(&d->sys, vs_sys_free);
	g_clear_pointer(&d->conf, vs_conf_free);
	g_clear_pointer(&d->loop, g_main_loop_unref);
	g_free(d->config_path);
	g_free(d->last_error);
	g_free(d->last_status);
	g_free(d);
}
