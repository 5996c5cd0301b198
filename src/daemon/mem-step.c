/* The daemon's memory step; see mem-step.h.
 *
 * Each tick, while libvirt is connected: the actuator observes the guests
 * (convergence, balloon devices, statistics periods), each running guest's
 * balloon statistics are sanitized against its previous ones, its effective
 * [Memory] policy is read, the host sample (meminfo, PSI averages, trigger
 * events since the last tick, the guests' sum and the budget) feeds the
 * pressure state machine, and the planner's decisions go to the actuator.
 * Everything the planner saw stays for the control server (vs_mem_step_view)
 * until the next tick.
 *
 * At a thousand guests the step is kept cheap: the effective policies come
 * from the daemon's cache (vs_policy_cache_get()), each guest's statistics
 * and name live in one record updated in place, and the planner runs only
 * when its input changed (a 64-bit digest of the guests, the pressure
 * state, the host's memory and the settings) or an event asked for it;
 * otherwise the last plan stands. A plan is reused only when it held every
 * guest and was made, like the tick now, with a full second's step
 * allowance (the only time the planner reads), so that planning again would
 * give the same plan. */
#include "config.h"

#include "daemon/mem-step.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mem/act.h"
#include "mem/guest.h"
#include "mem/psi-trigger.h"
#include "mem/stats-sanitize.h"
#include "sched/act.h"
#include "util/digest.h"
#include "util/log.h"
#include "util/units.h"

/* How long a noted event (a trigger, a reload, an override) waits for its
 * first balloon command before the wait is given up. */
#define EVENT_WAIT_US (INT64_C(10) * G_USEC_PER_SEC)

/* A running guest's record: its statistics of the last tick and its name
 * (the view's guests point at it). */
typedef struct Guest {
	VsMemStats stats;
	char *name;
	uint64_t round;             /* the step's run that last saw it */
} Guest;

struct VsMemStep {
	const VsSys *sys;
	VsVirt *virt;
	VsMemStepWakeFunc wake;
	gpointer wake_data;
	VsMemAct *act;

	/* PSI triggers and the settings they were armed with. */
	VsPsiTrigger *trigger;
	char *trigger_problem;
	bool configured;
	int64_t armed_window_us, armed_some_us, armed_full_us;

	VsMemPressure pressure;
	GHashTable *records;        /* UUID -> Guest */
	uint64_t round;             /* runs with libvirt connected */
	GArray *guests;             /* VsMemGuest: the last plan's input */
	GPtrArray *doms;            /* const VsDomain * of this run, parallel to @guests */
	GPtrArray *follow;          /* const VsMemFollow *, parallel to @guests */
	VsMemPlan *plan;
	uint64_t plan_digest;       /* the input @plan was made from (input_digest()) */
	bool plan_reusable;         /* @plan holds every guest, made with full allowances */
	bool replan;                /* an event: plan at the next run whatever the digest */
	guint plans_made;           /* planner runs (tests, benchmarks) */
	char *plan_problem;         /* why the last plan failed, logged once */
	int64_t last_plan_us;
	uint64_t guests_current;
	GHashTable *would;          /* dry run: UUID -> target logged as "would set" */

	/* The event whose first balloon command is timed. */
	char *event_what;
	int64_t event_us;

	VsMemView view;
};

static void guest_free(gpointer data)
{
	Guest *g = data;

	g_free(g->name);
	g_free(g);
}

static void log_events(GPtrArray *events)
{
	for (guint i = 0; i < events->len; i++) {
		const VsActEvent *e = g_ptr_array_index(events, i);
		vs_log_full(e->priority, e->domain, "%s", e->message);
	}
}

VsMemStep *vs_mem_step_new(const VsSys *sys, VsVirt *virt, VsMemStepWakeFunc wake,
			   gpointer user_data)
{
	VsMemStep *step = g_new0(VsMemStep, 1);

	step->sys = sys;
	step->virt = virt;
	step->wake = wake;
	step->wake_data = user_data;
	step->act = vs_mem_act_new(virt);
	vs_mem_pressure_init(&step->pressure);
	step->records = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, guest_free);
	step->guests = g_array_new(FALSE, TRUE, sizeof(VsMemGuest));
	step->doms = g_ptr_array_new();
	step->follow = g_ptr_array_new();
	step->would = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return step;
}

void vs_mem_step_free(VsMemStep *step)
{
	if (!step)
		return;
	g_clear_pointer(&step->trigger, vs_mem_psi_trigger_free);
	g_free(step->trigger_problem);
	g_clear_pointer(&step->act, vs_mem_act_free);
	g_hash_table_unref(step->records);
	g_array_unref(step->guests);
	g_ptr_array_unref(step->doms);
	g_ptr_array_unref(step->follow);
	g_clear_pointer(&step->plan, vs_mem_plan_free);
	g_free(step->plan_problem);
	g_hash_table_unref(step->would);
	g_free(step->event_what);
	g_free(step);
}

void vs_mem_step_note_event(VsMemStep *step, const char *what)
{
	g_free(step->event_what);
	step->event_what = g_strdup(what);
	step->event_us = g_get_monotonic_time();
	step->replan = true;
}

static void on_trigger(bool full, bool failed, gpointer data)
{
	VsMemStep *step = data;

	if (failed) {
		vs_log_warn("memory: the PSI %s trigger failed; host pressure is read from the PSI "
			    "averages every tick", full ? "full" : "some");
		return;
	}
	vs_log_info("memory: PSI %s trigger fired", full ? "full" : "some");
	vs_mem_step_note_event(step, full ? "the PSI full trigger" : "the PSI some trigger");
	step->wake(step->wake_data);
}

void vs_mem_step_configure(VsMemStep *step, const VsConf *conf, const VsHost *host)
{
	g_autoptr(GError) error = NULL;
	const VsMemConf *m = &conf->mem;
	VsPsiTrigger *trigger = NULL;

	if (step->configured && m->trigger_window_us == step->armed_window_us &&
	    m->trigger_some_us == step->armed_some_us && m->trigger_full_us == step->armed_full_us)
		return;
	step->configured = true;
	step->armed_window_us = m->trigger_window_us;
	step->armed_some_us = m->trigger_some_us;
	step->armed_full_us = m->trigger_full_us;
	g_clear_pointer(&step->trigger, vs_mem_psi_trigger_free);
	g_clear_pointer(&step->trigger_problem, g_free);
	if (vs_mem_psi_trigger_new(step->sys, m, host->caps.psi_min_window_us, on_trigger, step,
				   &trigger, &error) < 0) {
		step->trigger_problem = g_strdup(error->message);
		vs_log_warn("memory: PSI triggers not armed: %s; host pressure is read from the PSI "
			    "averages every tick", error->message);
		return;
	}
	step->trigger = trigger;
	{
		const char *const *lines = vs_mem_psi_trigger_lines(trigger);
		g_autofree char *text = lines && lines[0] ? g_strjoinv(", ", (char **)lines) : NULL;

		if (text)
			vs_log_notice("memory: PSI triggers armed on /proc/pressure/memory: %s", text);
		else
			vs_log_info("memory: no PSI trigger armed (MemoryTriggerSome=0, "
				    "MemoryTriggerFull=0)");
	}
}

/* Builds the planner's input from @snap; drops the records of guests that
 * no longer run. */
static void build_guests(VsMemStep *step, const VsSnapshot *snap, const VsPolicySet *policies,
			 const VsOverrides *overrides, VsPolicyCache *cache, const VsConf *conf)
{
	GHashTableIter it;
	gpointer value;

	step->round++;
	g_array_set_size(step->guests, 0);
	g_ptr_array_set_size(step->doms, 0);
	g_ptr_array_set_size(step->follow, 0);
	step->guests_current = 0;
	for (guint i = 0; i < snap->domains->len; i++) {
		const VsDomain *dom = g_ptr_array_index(snap->domains, i);
		const VsMemFollow *f;
		g_autoptr(VsEffectivePolicy) owned = NULL;
		const VsEffectivePolicy *eff;
		VsMemGuest g;
		VsMemStats st;
		Guest *rec;

		if (dom->id < 0)
			continue;
		rec = g_hash_table_lookup(step->records, dom->uuid);
		if (!rec) {
			rec = g_new0(Guest, 1);
			g_hash_table_insert(step->records, g_strdup(dom->uuid), rec);
		}
		vs_mem_stats_sanitize(&dom->balloon, dom->mem_current, dom->mem_max,
				      rec->round ? &rec->stats : NULL, snap->mono_us,
				      snap->wall_us / G_USEC_PER_SEC, conf->mem.stats_period_us, &st);
		rec->stats = st;
		rec->round = step->round;
		/* The view outlives the snapshot's strings by a tick: the record
		 * owns the name. */
		if (g_strcmp0(rec->name, dom->name) != 0) {
			g_free(rec->name);
			rec->name = g_strdup(dom->name);
		}
		eff = vs_policy_cache_or_merge(cache, policies, overrides, dom->name, dom->uuid,
					       dom->vsched_class, snap->wall_us, &owned);
		vs_mem_guest_init(&g, dom, eff, &rec->stats);
		g.name = rec->name;
		f = vs_mem_act_follow(step->act, dom->uuid);
		if (f && f->target) {
			g.last_target = f->target;
			g.last_target_us = f->asked_us;
		}
		if (f && (f->state == VS_MEM_FOLLOW_STUCK || f->state == VS_MEM_FOLLOW_NO_DEVICE ||
			  f->state == VS_MEM_FOLLOW_FAILED)) {
			g.not_following = true;
			g.not_following_why = f->why;
		}
		if (g.balloon)
			step->guests_current += dom->mem_current;
		g_array_append_val(step->guests, g);
		g_ptr_array_add(step->doms, (gpointer)dom);
		g_ptr_array_add(step->follow, (gpointer)f);
	}
	g_hash_table_iter_init(&it, step->records);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (((Guest *)value)->round != step->round)
			g_hash_table_iter_remove(&it);
}

/* The digest of what the planner reads of @in but its clock: the guests
 * (every field; the strings by content), the state, the host's memory and
 * the settings. */
static uint64_t input_digest(const VsMemPlanInput *in)
{
	uint64_t h = vs_digest_mix(in->state, in->n_guests);

	h = vs_digest_mix(h, in->mem_total);
	h = vs_digest_mix(h, in->mem_available);
	h = vs_digest_bytes(h, in->conf, sizeof(*in->conf));
	for (guint i = 0; i < in->n_guests; i++) {
		const VsMemGuest *g = &in->guests[i];

		h = vs_digest_bytes(h, g, sizeof(*g));
		h = vs_digest_str(h, g->name);
		h = vs_digest_str(h, g->not_following_why);
	}
	return h;
}

/* Whether every time the planner reads at @in->now_us is a full second
 * or more ago, so that its step allowances are whole (plan.c,
 * elapsed_s()): a plan made then does not depend on the time. */
static bool allowances_full(const VsMemPlanInput *in)
{
	if (in->last_plan_us > 0 && in->now_us - in->last_plan_us < G_USEC_PER_SEC)
		return false;
	for (guint i = 0; i < in->n_guests; i++)
		if (in->guests[i].last_target_us > 0 &&
		    in->now_us - in->guests[i].last_target_us < G_USEC_PER_SEC)
			return false;
	return true;
}

/* Whether @plan changes no target. */
static bool holds_all(const VsMemPlan *plan)
{
	for (guint i = 0; i < plan->decisions->len; i++)
		if (g_array_index(plan->decisions, VsMemDecision, i).action != VS_MEM_HOLD)
			return false;
	return true;
}

/* Feeds the host sample to the state machine; logs a change, and trigger
 * events that came while a higher cause (PSI averages above a critical
 * line, say) set the state, so that every event is accounted for. */
static void update_pressure(VsMemStep *step, const VsSnapshot *snap, const VsConf *conf)
{
	VsMemSample s = { 0 };
	char events[96] = "";
	bool changed;

	vs_mem_pressure_sample_from_host(snap->host, snap->mono_us, &s);
	if (step->trigger)
		vs_mem_psi_trigger_take_events(step->trigger, &s.some_events, &s.full_events);
	s.guests_current = step->guests_current;
	s.budget = conf->mem.budget;
	changed = vs_mem_pressure_update(&step->pressure, &conf->mem, &s);
	if ((s.full_events || s.some_events) && !strstr(step->pressure.reason, "trigger event"))
		snprintf(events, sizeof(events), " (with %u PSI full and %u some trigger event(s))",
			 s.full_events, s.some_events);
	if (changed)
		vs_log_full(step->pressure.state > VS_MEM_NORMAL ? LOG_NOTICE : LOG_INFO, NULL,
			    "memory: host state %s: %s%s", vs_mem_state_name(step->pressure.state),
			    step->pressure.reason, events);
	else if (s.full_events || s.some_events)
		vs_log_info("memory: host state %s held; %u PSI full and %u some trigger event(s) "
			    "since the last sample",
			    vs_mem_state_name(step->pressure.state), s.full_events, s.some_events);
}

/* Logs how long the first balloon command took after the noted event. */
static void log_reaction(VsMemStep *step, const char *domain)
{
	int64_t us = g_get_monotonic_time() - step->event_us;

	vs_log_full(LOG_NOTICE, domain, "memory: first balloon command %.1f ms after %s",
		    (double)us / 1000.0, step->event_what);
	g_clear_pointer(&step->event_what, g_free);
}

/* Carries out @plan: sets each changed target, or in a dry run logs it
 * once. Returns how many targets the plan changes. */
static guint act(VsMemStep *step, const VsSnapshot *snap, const VsMemPlan *plan, bool acting)
{
	g_autoptr(GPtrArray) events = vs_act_events_new();
	guint changes = 0;

	g_assert(plan->decisions->len == step->doms->len);
	for (guint i = 0; i < plan->decisions->len; i++) {
		const VsMemDecision *d = &g_array_index(plan->decisions, VsMemDecision, i);
		/* The decisions are in the order of the planner's guests. */
		const VsDomain *dom = g_ptr_array_index(step->doms, i);
		const uint64_t *would;

		if (d->action == VS_MEM_HOLD || !dom)
			continue;
		changes++;
		if (acting) {
			if (vs_mem_act_set(step->act, dom, d->target, d->reason, snap->mono_us,
					   events) == 0 && step->event_what)
				log_reaction(step, dom->name);
			continue;
		}
		would = g_hash_table_lookup(step->would, d->uuid);
		if (!would || *would != d->target) {
			g_autofree char *from = vs_format_size(d->current);
			g_autofree char *to = vs_format_size(d->target);

			vs_log_full(LOG_INFO, dom->name, "would set balloon %s -> %s: %s", from, to,
				    d->reason);
			g_hash_table_insert(step->would, g_strdup(d->uuid),
					    g_memdup2(&d->target, sizeof(d->target)));
		}
	}
	log_events(events);
	return changes;
}

void vs_mem_step_run(VsMemStep *step, const VsSnapshot *snap, const VsPolicySet *policies,
		     const VsOverrides *overrides, VsPolicyCache *cache, const VsConf *conf,
		     bool acting)
{
	g_autoptr(GPtrArray) events = vs_act_events_new();
	VsMemPlan *plan = NULL;
	VsMemPlanInput in;
	uint64_t digest;
	guint changes = 0;

	/* While libvirt is away the guests are as last seen: nothing to do. */
	if (!snap->virt_connected)
		return;
	vs_mem_act_observe(step->act, snap, acting,
			   (int)(conf->mem.stats_period_us / G_USEC_PER_SEC), events);
	log_events(events);
	build_guests(step, snap, policies, overrides, cache, conf);
	update_pressure(step, snap, conf);

	in = (VsMemPlanInput){
		.now_us = snap->mono_us,
		.last_plan_us = step->last_plan_us,
		.state = step->pressure.state,
		.mem_total = snap->host ? snap->host->mem.total : 0,
		.mem_available = snap->host ? snap->host->mem.available : 0,
		.conf = &conf->mem,
		.guests = (const VsMemGuest *)(void *)step->guests->data,
		.n_guests = step->guests->len,
	};
	digest = input_digest(&in);
	if (step->plan && !step->replan && !step->plan_problem && step->plan_reusable &&
	    digest == step->plan_digest && allowances_full(&in)) {
		/* The same input, no time read: the plan stands and changes
		 * nothing (the timed event, if any, needed no command). */
	} else if (vs_mem_plan(&in, &plan) < 0) {
		if (!step->plan_problem)
			vs_log_err("memory: the planner refused its input; balloon targets stay "
				   "as they are");
		g_free(step->plan_problem);
		step->plan_problem = g_strdup("the planner refused its input");
	} else {
		g_clear_pointer(&step->plan_problem, g_free);
		g_clear_pointer(&step->plan, vs_mem_plan_free);
		step->plan = plan;
		step->plan_digest = digest;
		step->plan_reusable = holds_all(plan) && allowances_full(&in);
		step->plans_made++;
		step->last_plan_us = snap->mono_us;
		changes = act(step, snap, plan, acting);
	}
	step->replan = false;
	/* The event stays timed while the plan changes targets that the
	 * actuator does not send yet (a guest still moving toward its last
	 * target, a back-off), or while this second's step allowance, spent
	 * before the event, made the plan hold, up to EVENT_WAIT_US. */
	if (step->event_what && changes == 0 && allowances_full(&in)) {
		vs_log_info("memory: no balloon command was needed after %s", step->event_what);
		g_clear_pointer(&step->event_what, g_free);
	} else if (step->event_what && g_get_monotonic_time() - step->event_us > EVENT_WAIT_US) {
		vs_log_info("memory: no balloon command was sent within %d s after %s",
			    (int)(EVENT_WAIT_US / G_USEC_PER_SEC), step->event_what);
		g_clear_pointer(&step->event_what, g_free);
	}
	/* Acting may have dropped the record of a guest that vanished: the
	 * view must not point at it. */
	for (guint i = 0; i < step->guests->len; i++)
		step->follow->pdata[i] = (gpointer)vs_mem_act_follow(
			step->act, g_array_index(step->guests, VsMemGuest, i).uuid);

	step->view = (VsMemView){
		.acting = acting,
		.conf = &conf->mem,
		.pressure = &step->pressure,
		.now_us = snap->mono_us,
		.guests_current = step->guests_current,
		.trigger_lines = step->trigger ? vs_mem_psi_trigger_lines(step->trigger) : NULL,
		.trigger_problem = step->trigger_problem,
		.plan = step->plan,
		.guests = (const VsMemGuest *)(void *)step->guests->data,
		.n_guests = step->guests->len,
		.follow = (const VsMemFollow *const *)step->follow->pdata,
	};
}

guint vs_mem_step_plans_made(const VsMemStep *step)
{
	return step->plans_made;
}

const VsMemView *vs_mem_step_view(const VsMemStep *step)
{
	return step->view.pressure ? &step->view : NULL;
}

void vs_mem_step_stop(VsMemStep *step)
{
	uint64_t below = 0;
	guint n = 0;

	for (guint i = 0; i < step->guests->len; i++) {
		const VsMemGuest *g = &g_array_index(step->guests, VsMemGuest, i);

		if (g->current + VS_MEM_FOLLOW_TOLERANCE < g->maximum) {
			below += g->maximum - g->current;
			n++;
		}
	}
	if (n > 0) {
		g_autofree char *size = vs_format_size(below);

		vs_log_notice("memory: %u guest(s) stay ballooned %s below their maximum: balloon "
			      "targets are left as they are at a stop (giving it all back at once "
			      "could push the host into OOM); vschedd plans them again when it "
			      "starts", n, size);
	}
}
