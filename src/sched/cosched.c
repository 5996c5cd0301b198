/* The co-scheduling planner: skew per guest, relaxed boosts with
 * hysteresis, gang and core-scheduling reasons; see cosched.h. */
#include "config.h"

#include "sched/cosched.h"
#include "sched/cpuplan.h"

#include <string.h>

/* A vCPU's boost level, for the thread it was decided for. */
typedef struct Level {
	pid_t tid;
	uint64_t start_time;
	int level;
} Level;

typedef struct GuestState {
	VsSkewHistory *history;
	GHashTable *levels;          /* index → Level */
	uint64_t round;              /* the last plan that saw the guest */
} GuestState;

struct VsCosched {
	GHashTable *guests;          /* uuid → GuestState */
	uint64_t round;              /* plans made */
	/* One guest's work arrays, kept from guest to guest and plan to plan
	 * (every guest is planned every tick). */
	GPtrArray *vcpus;            /* const VsVcpu *, online, by index */
	VsSkewVcpuIn *sin;
	VsSkewVcpu *sout;
	Level **levels;
	guint scratch_len;
};

static void guest_state_free(gpointer data)
{
	GuestState *g = data;

	vs_skew_history_free(g->history);
	g_hash_table_unref(g->levels);
	g_free(g);
}

VsCosched *vs_cosched_new(void)
{
	VsCosched *c = g_new0(VsCosched, 1);

	c->guests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, guest_state_free);
	c->vcpus = g_ptr_array_new();
	return c;
}

void vs_cosched_free(VsCosched *c)
{
	if (!c)
		return;
	g_hash_table_unref(c->guests);
	g_ptr_array_unref(c->vcpus);
	g_free(c->sin);
	g_free(c->sout);
	g_free(c->levels);
	g_free(c);
}

void vs_cosched_action_free(VsCoschedAction *a)
{
	if (!a)
		return;
	g_free(a->domain);
	g_free(a->what);
	vs_thread_clear(&a->thread);
	vs_thread_clear(&a->leader);
	g_free(a->reason);
	g_free(a);
}

static void guest_report_free(gpointer data)
{
	VsCoschedGuestReport *g = data;

	g_free(g->name);
	g_array_unref(g->vcpus);
	g_ptr_array_unref(g->reasons);
	g_free(g);
}

void vs_cosched_plan_free(VsCoschedPlan *p)
{
	if (!p)
		return;
	g_ptr_array_unref(p->actions);
	g_hash_table_unref(p->guests);
	g_free(p);
}

const VsCoschedGuestReport *vs_cosched_plan_guest(const VsCoschedPlan *p, const char *uuid)
{
	return g_hash_table_lookup(p->guests, uuid);
}

char *vs_cosched_action_describe(const VsCoschedAction *a)
{
	switch (a->kind) {
	case VS_COSCHED_ACTION_NICE:
		return g_strdup_printf("%s (TID %d) of %s: nice %d below its original", a->what,
				       (int)a->thread.tid, a->domain, a->delta);
	case VS_COSCHED_ACTION_NICE_CLEAR:
		return g_strdup_printf("%s (TID %d) of %s: nice back to its original", a->what,
				       (int)a->thread.tid, a->domain);
	case VS_COSCHED_ACTION_CORE_CREATE:
		return g_strdup_printf("%s (TID %d) of %s: new core-scheduling cookie", a->what,
				       (int)a->thread.tid, a->domain);
	case VS_COSCHED_ACTION_CORE_SHARE:
		return g_strdup_printf("%s (TID %d) of %s: core-scheduling cookie of TID %d",
				       a->what, (int)a->thread.tid, a->domain, (int)a->leader.tid);
	}
	g_assert_not_reached();
}

static VsCoschedAction *action_new(VsCoschedActionKind kind, const VsDomain *dom,
				   const VsVcpu *v)
{
	VsCoschedAction *a = g_new0(VsCoschedAction, 1);

	a->kind = kind;
	g_strlcpy(a->uuid, dom->uuid, sizeof(a->uuid));
	a->domain = g_strdup(dom->name);
	a->what = g_strdup_printf("vcpu%u", v->index);
	vs_thread_copy(&a->thread, &v->thread);
	return a;
}

static void add_reason(VsCoschedGuestReport *g, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void add_reason(VsCoschedGuestReport *g, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	g_ptr_array_add(g->reasons, g_strdup_vprintf(format, ap));
	va_end(ap);
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* The level of @v in @gs: the one decided for this thread, or (a thread not
 * seen yet, e.g. after a restart) the one Applied shows. */
static Level *level_of(GuestState *gs, const VsVcpu *v, const VsApplied *applied)
{
	Level *l = g_hash_table_lookup(gs->levels, GUINT_TO_POINTER(v->index));
	const VsAppliedEntry *e;

	if (l && l->tid == v->thread.tid && l->start_time == v->thread.start_time)
		return l;
	if (!l) {
		l = g_new0(Level, 1);
		g_hash_table_insert(gs->levels, GUINT_TO_POINTER(v->index), l);
	}
	l->tid = v->thread.tid;
	l->start_time = v->thread.start_time;
	l->level = 0;
	e = applied ? vs_applied_find(applied, VS_APPLIED_NICE, &v->thread) : NULL;
	if (e && e->orig_nice > e->cur_nice)
		l->level = MIN(VS_COSCHED_MAX_LEVEL,
			       (e->orig_nice - e->cur_nice + VS_COSCHED_NICE_STEP - 1) /
				       VS_COSCHED_NICE_STEP);
	return l;
}

static bool reserved(const VsApplied *applied, const VsThread *t)
{
	return applied && vs_applied_find(applied, VS_APPLIED_DEADLINE, t);
}

/* relaxed: the new levels of the vCPUs of @g from its skew. */
static void decide_relaxed(VsCoschedGuestReport *g, const VsEffectiveEntry *thr_entry,
			   GPtrArray *vcpus, Level **levels, const VsApplied *applied)
{
	g_autofree char *from = vs_cpu_plan_from(thr_entry);
	uint64_t thr_ns = (uint64_t)g->threshold_us * 1000;
	bool any = false;

	for (guint i = 0; i < vcpus->len; i++)
		any |= levels[i]->level > 0;
	if (!g->skew.valid) {
		if (vcpus->len < 2) {
			for (guint i = 0; i < vcpus->len; i++)
				levels[i]->level = 0;
			add_reason(g, "relaxed co-scheduling: one vCPU thread, nothing to even out");
		} else {
			add_reason(g, "relaxed co-scheduling: fewer than two vCPUs have counters over "
				   "the last %.0f s (new or replaced threads); boosts stay as they are",
				   (double)g->skew.window_ns / 1e9);
		}
		return;
	}
	if (g->skew.skew_ns > thr_ns) {
		for (guint i = 0; i < vcpus->len; i++) {
			const VsVcpu *v = g_ptr_array_index(vcpus, i);
			const VsCoschedVcpuReport *vr =
				&g_array_index(g->vcpus, VsCoschedVcpuReport, i);

			if (!vr->skew.counted || vr->skew.lag_ns <= thr_ns)
				continue;
			if (reserved(applied, &v->thread)) {
				add_reason(g, "relaxed co-scheduling: vcpu%u lags by %.1f ms but has a "
					   "deadline reservation, which nice does not change; not "
					   "boosted", v->index, ms(vr->skew.lag_ns));
				continue;
			}
			if (levels[i]->level < VS_COSCHED_MAX_LEVEL)
				levels[i]->level++;
			add_reason(g, "relaxed co-scheduling: skew %.1f ms over the last %.0f s "
				   "exceeds SkewThreshold=%.1fms (%s); vcpu%u lags vcpu%u by %.1f ms: "
				   "nice boost %d below its original", ms(g->skew.skew_ns),
				   (double)g->skew.window_ns / 1e9, (double)g->threshold_us / 1e3,
				   from, v->index, g->skew.leader, ms(vr->skew.lag_ns),
				   levels[i]->level * VS_COSCHED_NICE_STEP);
		}
		return;
	}
	if (g->skew.skew_ns * 2 < thr_ns) {
		for (guint i = 0; i < vcpus->len; i++)
			levels[i]->level = 0;
		add_reason(g, "relaxed co-scheduling: skew %.1f ms is under half of "
			   "SkewThreshold=%.1fms (%s)%s", ms(g->skew.skew_ns),
			   (double)g->threshold_us / 1e3, from,
			   any ? "; boosts released" : "; no boost");
		return;
	}
	add_reason(g, "relaxed co-scheduling: skew %.1f ms is between half of and "
		   "SkewThreshold=%.1fms (%s); boosts stay as they are (hysteresis)",
		   ms(g->skew.skew_ns), (double)g->threshold_us / 1e3, from);
}

/* gang: what keeps the vCPUs in the same windows here, as reasons. */
static void explain_gang(VsCoschedGuestReport *g, const VsEffectivePolicy *eff,
			 const VsHost *host, guint n_vcpus)
{
	const VsEffectiveEntry *res = vs_effective_get(eff, "CPU", "Reservation");
	const VsEffectiveEntry *limit = vs_effective_get(eff, "CPU", "Limit");

	if (res && res->value) {
		add_reason(g, "gang: the %u vCPUs get the same reservation %s (when admitted), set "
			   "in one batch; SCHED_DEADLINE re-arms a vCPU's period when it wakes "
			   "after sleeping, so the periods are aligned at the start, not kept "
			   "aligned after", n_vcpus, res->value->text);
		return;
	}
	if (!host->caps.cgroup_v2_cpu.ok) {
		add_reason(g, "gang: cgroup v2 cpu controller unavailable (%s): no guest-level "
			   "cpu.max window; without Reservation= the vCPUs run in their own "
			   "windows", host->caps.cgroup_v2_cpu.detail ? host->caps.cgroup_v2_cpu.detail
								       : "no detail");
		return;
	}
	if (limit && limit->value)
		add_reason(g, "gang: the guest's cgroup cpu.max (Limit=%s) throttles all its "
			   "vCPUs in the same window", limit->value->text);
	else
		add_reason(g, "gang: neither Reservation= nor Limit= is set: no common window to "
			   "keep the vCPUs in");
}

static char *thread_key(const VsThread *t)
{
	return g_strdup_printf("%d:%" G_GUINT64_FORMAT, (int)t->tid, t->start_time);
}

/* Core scheduling for @vcpus of @dom: a reason, and the actions when the
 * host has it and a thread lacks the guest's cookie. */
static void plan_core(VsCoschedGuestReport *g, const VsDomain *dom, GPtrArray *vcpus,
		      const VsHost *host, GHashTable *cookies, GPtrArray *actions)
{
	const VsVcpu *first;
	bool missing = false;

	if (!host->topology.smt) {
		add_reason(g, "core scheduling: the host has no SMT siblings, so no other guest "
			   "can share a core with these vCPUs");
		return;
	}
	if (!host->caps.sched_core.ok) {
		add_reason(g, "core scheduling unavailable: %s; SMT siblings may run another "
			   "guest's vCPUs next to these", host->caps.sched_core.detail
								  ? host->caps.sched_core.detail
								  : "no detail");
		return;
	}
	first = g_ptr_array_index(vcpus, 0);
	for (guint i = 0; i < vcpus->len; i++) {
		const VsVcpu *v = g_ptr_array_index(vcpus, i);
		g_autofree char *key = thread_key(&v->thread);

		if (!cookies || !g_hash_table_contains(cookies, key))
			missing = true;
	}
	add_reason(g, "core scheduling: one cookie for the %u vCPU thread(s) of %s (created on "
		   "vcpu%u), so SMT siblings run only this guest's vCPUs together%s",
		   vcpus->len, dom->name, first->index, missing ? "" : "; in place");
	if (!missing)
		return;
	/* A new thread (hot-added, replaced) means a new cookie for all: the
	 * leader's thread may be the one that is new. */
	for (guint i = 0; i < vcpus->len; i++) {
		const VsVcpu *v = g_ptr_array_index(vcpus, i);
		VsCoschedAction *a = action_new(i == 0 ? VS_COSCHED_ACTION_CORE_CREATE
						      : VS_COSCHED_ACTION_CORE_SHARE, dom, v);

		if (i > 0)
			vs_thread_copy(&a->leader, &first->thread);
		a->reason = g_strdup_printf("%s of %s: core-scheduling cookie of the guest "
					    "(CoSchedule=%s)", a->what, dom->name, g->mode);
		g_ptr_array_add(actions, a);
	}
}

static int cmp_vcpu(gconstpointer a, gconstpointer b)
{
	const VsVcpu *x = *(const VsVcpu *const *)a, *y = *(const VsVcpu *const *)b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/* The static name of CoSchedule= value @value (the policy's string does not
 * outlive the plan's effective policy); "none" for anything else. */
static const char *mode_name(const char *value)
{
	static const char *const modes[] = { "gang", "relaxed" };

	for (size_t i = 0; value && i < G_N_ELEMENTS(modes); i++)
		if (strcmp(value, modes[i]) == 0)
			return modes[i];
	return "none";
}

/* Plans guest @dom into @plan. */
static void plan_guest(VsCosched *c, const VsCoschedInput *in, const VsDomain *dom,
		       VsCoschedPlan *plan)
{
	g_autoptr(VsEffectivePolicy) owned = NULL;
	const VsEffectivePolicy *eff = vs_policy_cache_or_merge(in->policy_cache, in->policies,
								in->overrides, dom->name,
								dom->uuid, dom->vsched_class,
								in->now_us, &owned);
	const VsEffectiveEntry *mode = vs_effective_get(eff, "CPU", "CoSchedule");
	const VsEffectiveEntry *thr = vs_effective_get(eff, "CPU", "SkewThreshold");
	GPtrArray *vcpus = c->vcpus;
	VsSkewVcpuIn *sin;
	VsSkewVcpu *sout;
	Level **levels;
	VsCoschedGuestReport *g;
	GuestState *gs = g_hash_table_lookup(c->guests, dom->uuid);

	if (gs)
		gs->round = c->round;
	g_ptr_array_set_size(vcpus, 0);
	for (guint j = 0; j < dom->vcpus->len; j++) {
		const VsVcpu *v = &g_array_index(dom->vcpus, VsVcpu, j);

		if (v->online && v->thread.tid > 0)
			g_ptr_array_add(vcpus, (gpointer)v);
	}
	if (vcpus->len == 0)
		return;
	g_ptr_array_sort(vcpus, cmp_vcpu);
	if (!gs) {
		gs = g_new0(GuestState, 1);
		gs->history = vs_skew_history_new();
		gs->levels = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
		gs->round = c->round;
		g_hash_table_insert(c->guests, g_strdup(dom->uuid), gs);
	}

	g = g_new0(VsCoschedGuestReport, 1);
	g_strlcpy(g->uuid, dom->uuid, sizeof(g->uuid));
	g->name = g_strdup(dom->name);
	g->mode = mode_name(mode && mode->value ? mode->value->str : NULL);
	g->threshold_us = thr && thr->value ? thr->value->us : 5000;
	g->vcpus = g_array_sized_new(FALSE, TRUE, sizeof(VsCoschedVcpuReport), vcpus->len);
	g->reasons = g_ptr_array_new_with_free_func(g_free);
	/* Keyed by the report's own UUID (replace: the key goes with its value). */
	g_hash_table_replace(plan->guests, g->uuid, g);

	if (vcpus->len > c->scratch_len) {
		c->scratch_len = vcpus->len;
		c->sin = g_renew(VsSkewVcpuIn, c->sin, c->scratch_len);
		c->sout = g_renew(VsSkewVcpu, c->sout, c->scratch_len);
		c->levels = g_renew(Level *, c->levels, c->scratch_len);
	}
	sin = memset(c->sin, 0, vcpus->len * sizeof(*sin));
	sout = memset(c->sout, 0, vcpus->len * sizeof(*sout));
	levels = memset(c->levels, 0, vcpus->len * sizeof(*levels));
	for (guint i = 0; i < vcpus->len; i++) {
		const VsVcpu *v = g_ptr_array_index(vcpus, i);

		sin[i].index = v->index;
		sin[i].series = in->series ? in->series(in->data, dom->uuid, v->index) : NULL;
	}
	vs_skew_measure(sin, vcpus->len, in->snapshot->mono_us, VS_SKEW_WINDOW_US, sout, &g->skew);
	vs_skew_history_add(gs->history, &g->skew);
	g->max_1m_ns = vs_skew_history_max(gs->history, &g->n_1m);
	for (guint i = 0; i < vcpus->len; i++) {
		const VsVcpu *v = g_ptr_array_index(vcpus, i);
		VsCoschedVcpuReport vr = { .index = v->index, .tid = v->thread.tid,
					   .skew = sout[i] };

		g_array_append_val(g->vcpus, vr);
		levels[i] = level_of(gs, v, in->applied);
	}

	if (strcmp(g->mode, "relaxed") == 0) {
		decide_relaxed(g, thr, vcpus, levels, in->applied);
	} else {
		for (guint i = 0; i < vcpus->len; i++)
			levels[i]->level = 0;
		if (strcmp(g->mode, "gang") == 0)
			explain_gang(g, eff, in->snapshot->host, vcpus->len);
	}
	if (strcmp(g->mode, "none") != 0)
		plan_core(g, dom, vcpus, in->snapshot->host, in->cookies, plan->actions);

	for (guint i = 0; i < vcpus->len; i++) {
		const VsVcpu *v = g_ptr_array_index(vcpus, i);
		VsCoschedVcpuReport *vr = &g_array_index(g->vcpus, VsCoschedVcpuReport, i);
		VsCoschedAction *a;

		vr->boost = levels[i]->level * VS_COSCHED_NICE_STEP;
		if (vr->boost > 0) {
			g->boosting = true;
			a = action_new(VS_COSCHED_ACTION_NICE, dom, v);
			a->delta = vr->boost;
			a->reason = g_strdup_printf("%s of %s: lags its siblings; nice %d below its "
						    "original (CoSchedule=relaxed)", a->what,
						    dom->name, a->delta);
			g_ptr_array_add(plan->actions, a);
		} else if (in->applied && vs_applied_find(in->applied, VS_APPLIED_NICE, &v->thread)) {
			a = action_new(VS_COSCHED_ACTION_NICE_CLEAR, dom, v);
			a->reason = g_strdup_printf("%s of %s: boost released; nice back to its "
						    "original", a->what, dom->name);
			g_ptr_array_add(plan->actions, a);
		}
	}
	/* Levels of vCPUs that went away go with them. */
	if (g_hash_table_size(gs->levels) > vcpus->len) {
		GHashTableIter it;
		gpointer key;

		g_hash_table_iter_init(&it, gs->levels);
		while (g_hash_table_iter_next(&it, &key, NULL)) {
			bool present = false;

			for (guint i = 0; i < vcpus->len && !present; i++)
				present = ((const VsVcpu *)g_ptr_array_index(vcpus, i))->index ==
					  GPOINTER_TO_UINT(key);
			if (!present)
				g_hash_table_iter_remove(&it);
		}
	}
}

static int action_order(gconstpointer a, gconstpointer b)
{
	const VsCoschedAction *x = *(const VsCoschedAction *const *)a;
	const VsCoschedAction *y = *(const VsCoschedAction *const *)b;

	/* Clears first; the rest keep their order (a guest's cookie is
	 * created before it is shared). */
	return (x->kind != VS_COSCHED_ACTION_NICE_CLEAR) - (y->kind != VS_COSCHED_ACTION_NICE_CLEAR);
}

VsCoschedPlan *vs_cosched_plan(VsCosched *c, const VsCoschedInput *in)
{
	VsCoschedPlan *plan = g_new0(VsCoschedPlan, 1);
	GHashTableIter it;
	gpointer value;

	plan->actions = g_ptr_array_new_with_free_func((GDestroyNotify)vs_cosched_action_free);
	plan->guests = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, guest_report_free);
	c->round++;
	for (guint i = 0; i < in->snapshot->domains->len; i++) {
		const VsDomain *dom = g_ptr_array_index(in->snapshot->domains, i);

		if (dom->pid <= 0 || dom->id < 0 || !dom->vcpus)
			continue;
		plan_guest(c, in, dom, plan);
	}
	/* The state of guests this plan did not see goes. */
	g_hash_table_iter_init(&it, c->guests);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (((GuestState *)value)->round != c->round)
			g_hash_table_iter_remove(&it);
	g_ptr_array_sort(plan->actions, action_order);
	return plan;
}
