/* Unit tests for co-scheduling: the skew arithmetic (src/sched/skew.c) on
 * recorded counter sequences fed through the steal trackers as the
 * collector feeds them (busy and idle vCPUs, TID reuse, a new vCPU, a
 * missed tick), the planner (src/sched/cosched.c: relaxed boosts with
 * hysteresis, release, adoption from Applied after a restart, deadline
 * vCPUs left alone, gang and core-scheduling reasons and cookie actions),
 * the "nice" kind of the Applied record, and the actuator
 * (src/sched/cosched-act.c) on a fake ops table: boost, read-back, restore,
 * cookies. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "sched/cosched-act.h"
#include "sched/cosched.h"
#include "sched/skew.h"
#include "unit/test-sched-topo.h"
#include "unit/test-temp-root.h"

#define UUID "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
#define MS_NS (1000 * 1000)
#define SEC_US (1000 * 1000)

/* One vCPU's recorded counters: a tracker fed sample by sample. */
typedef struct Rec {
	VsStealVcpu *acct;
	pid_t tid;
	uint64_t start_time;
	uint64_t run_ns, delay_ns;
} Rec;

static void rec_init(Rec *r, pid_t tid)
{
	*r = (Rec){ .acct = vs_steal_vcpu_new(), .tid = tid, .start_time = 100 };
}

/* Feeds a sample at @t_us after the vCPU ran @run_ms and waited @delay_ms
 * more since the last one. */
static VsStealResult rec_feed(Rec *r, int64_t t_us, uint64_t run_ms, uint64_t delay_ms)
{
	VsStealSample s = { .mono_us = t_us, .tid = r->tid, .start_time = r->start_time,
			    .entitlement = -1 };

	r->run_ns += run_ms * MS_NS;
	r->delay_ns += delay_ms * MS_NS;
	s.run_ns = r->run_ns;
	s.delay_ns = r->delay_ns;
	return vs_steal_vcpu_feed(r->acct, &s, NULL);
}

static void measure(Rec *recs, guint n, int64_t now_us, VsSkewVcpu *out, VsSkew *skew)
{
	g_autofree VsSkewVcpuIn *in = g_new0(VsSkewVcpuIn, n);

	for (guint i = 0; i < n; i++) {
		in[i].index = i;
		in[i].series = recs[i].acct ? recs[i].acct->series : NULL;
	}
	vs_skew_measure(in, n, now_us, VS_SKEW_WINDOW_US, out, skew);
}

static void rec_free(Rec *recs, guint n)
{
	for (guint i = 0; i < n; i++)
		vs_steal_vcpu_free(recs[i].acct);
}

/* Two busy vCPUs: the skew is the difference of their run times. */
static void test_skew_busy(void **state)
{
	Rec r[2];
	VsSkewVcpu out[2];
	VsSkew s;

	rec_init(&r[0], 11);
	rec_init(&r[1], 12);
	for (int t = 0; t <= 3; t++) {
		rec_feed(&r[0], t * SEC_US, 900, 100);
		rec_feed(&r[1], t * SEC_US, 600, 400);
	}
	measure(r, 2, 3 * SEC_US, out, &s);
	assert_true(s.valid);
	assert_int_equal(s.counted, 2);
	assert_int_equal(s.skew_ns, 300 * MS_NS);
	assert_int_equal(s.leader, 0);
	assert_int_equal(s.laggard, 1);
	assert_int_equal(out[0].lag_ns, 0);
	assert_int_equal(out[1].lag_ns, 300 * MS_NS);
	assert_int_equal(out[1].run_ns, 600 * MS_NS);
	assert_int_equal(out[1].delay_ns, 400 * MS_NS);
	rec_free(r, 2);
}

/* An idle vCPU is not behind: it did not want the CPU. A busy vCPU next to
 * an idle one lags only by the delay it had. */
static void test_skew_idle(void **state)
{
	Rec r[2];
	VsSkewVcpu out[2];
	VsSkew s;

	rec_init(&r[0], 11);
	rec_init(&r[1], 12);
	for (int t = 0; t <= 2; t++) {
		rec_feed(&r[0], t * SEC_US, 10, 0);      /* nearly idle */
		rec_feed(&r[1], t * SEC_US, 1000, 0);    /* busy, never waiting */
	}
	measure(r, 2, 2 * SEC_US, out, &s);
	assert_true(s.valid);
	assert_int_equal(s.skew_ns, 0);
	/* The busy one now waits 200 ms a second: it lags the idle one. */
	rec_feed(&r[0], 3 * SEC_US, 10, 0);
	rec_feed(&r[1], 3 * SEC_US, 800, 200);
	measure(r, 2, 3 * SEC_US, out, &s);
	assert_int_equal(s.skew_ns, 200 * MS_NS);
	assert_int_equal(s.laggard, 1);
	/* Half busy and never waiting is not lagging a vCPU that waited. */
	rec_feed(&r[0], 4 * SEC_US, 500, 0);
	rec_feed(&r[1], 4 * SEC_US, 500, 500);
	measure(r, 2, 4 * SEC_US, out, &s);
	assert_int_equal(s.skew_ns, 500 * MS_NS);
	assert_int_equal(s.laggard, 1);
	assert_int_equal(out[0].lag_ns, 0);
	rec_free(r, 2);
}

/* TID reuse: the new thread's first sample is a baseline, so at that tick
 * the vCPU has no interval in the window and does not count; it does from
 * its second sample on. */
static void test_skew_tid_reuse(void **state)
{
	Rec r[2];
	VsSkewVcpu out[2];
	VsSkew s;

	rec_init(&r[0], 11);
	rec_init(&r[1], 12);
	for (int t = 0; t <= 2; t++) {
		rec_feed(&r[0], t * SEC_US, 1000, 0);
		rec_feed(&r[1], t * SEC_US, 700, 300);
	}
	/* Same TID, another thread: counters from scratch. */
	r[1].start_time = 999;
	r[1].run_ns = r[1].delay_ns = 0;
	rec_feed(&r[0], 3 * SEC_US, 1000, 0);
	assert_int_equal(rec_feed(&r[1], 3 * SEC_US, 0, 0), VS_STEAL_RESET_START_TIME);
	measure(r, 2, 3 * SEC_US, out, &s);
	assert_false(s.valid);
	assert_true(out[0].counted);
	assert_false(out[1].counted);
	rec_feed(&r[0], 4 * SEC_US, 1000, 0);
	rec_feed(&r[1], 4 * SEC_US, 990, 10);
	measure(r, 2, 4 * SEC_US, out, &s);
	assert_true(s.valid);
	assert_int_equal(s.skew_ns, 10 * MS_NS);
	rec_free(r, 2);
}

/* A hot-added vCPU without intervals does not count; the others do. A
 * vCPU whose interval spans a missed tick is compared at the same rate. */
static void test_skew_new_vcpu_and_gap(void **state)
{
	Rec r[3];
	VsSkewVcpu out[3];
	VsSkew s;

	rec_init(&r[0], 11);
	rec_init(&r[1], 12);
	r[2] = (Rec){ 0 };
	rec_feed(&r[0], 0, 0, 0);
	rec_feed(&r[1], 0, 0, 0);
	rec_feed(&r[0], 1 * SEC_US, 900, 100);
	rec_feed(&r[1], 1 * SEC_US, 900, 100);
	/* vCPU 1 misses the tick at 2 s: its next interval spans 2 s. */
	rec_feed(&r[0], 2 * SEC_US, 900, 100);
	rec_feed(&r[0], 3 * SEC_US, 900, 100);
	rec_feed(&r[1], 3 * SEC_US, 1400, 600);
	measure(r, 3, 3 * SEC_US, out, &s);
	assert_true(s.valid);
	assert_int_equal(s.counted, 2);
	assert_false(out[2].counted);
	assert_int_equal(out[1].span_ns, 2000 * MS_NS);
	/* 600 ms over 2 s is 300 ms a second; vCPU 0 had 100. */
	assert_int_equal(s.skew_ns, 200 * MS_NS);
	rec_free(r, 2);
}

/* The minute's maximum forgets what is older than a minute. */
static void test_skew_history(void **state)
{
	g_autoptr(VsSkewHistory) h = vs_skew_history_new();
	VsSkew a = { .valid = true, .end_us = 0, .skew_ns = 50 };
	VsSkew b = { .valid = true, .end_us = 30 * SEC_US, .skew_ns = 20 };
	VsSkew c = { .valid = false, .end_us = 61 * SEC_US };
	guint n;

	vs_skew_history_add(h, &a);
	vs_skew_history_add(h, &b);
	assert_int_equal(vs_skew_history_max(h, &n), 50);
	assert_int_equal(n, 2);
	vs_skew_history_add(h, &c);
	assert_int_equal(vs_skew_history_max(h, &n), 20);
	assert_int_equal(n, 1);
}

/* A guest of two vCPUs whose skew the test sets per tick. */
typedef struct Plan {
	VsTopology *topo;
	VsHost host;
	GPtrArray *domains;
	VsPolicySet *set;
	VsApplied *applied;
	VsCosched *cosched;
	Rec rec[2];
	int64_t now_us;
} Plan;

static const VsStealSeries *plan_series(gpointer data, const char *uuid, guint index)
{
	Plan *p = data;

	return strcmp(uuid, UUID) == 0 && index < 2 ? p->rec[index].acct->series : NULL;
}

static void add_policy(Plan *p, const char *text)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	VsPolicyFile *file = vs_policy_file_parse("/etc/vsched/policy.d/10-cs.policy", text, diags);

	if (!file)
		fail_msg("%s", ((VsPolicyDiag *)g_ptr_array_index(diags, 0))->message);
	g_ptr_array_add(p->set->files, file);
}

static Plan *plan_new(const SchedTopoDesc *desc, const char *policy)
{
	Plan *p = g_new0(Plan, 1);
	VsDomain *dom = vs_domain_new("db", 2);

	p->topo = sched_topo_new(desc);
	p->host.topology = *p->topo;
	p->host.caps.cgroup_v2_cpu.detail = (char *)"no cpu controller on the v2 hierarchy";
	p->host.caps.sched_core.detail = (char *)"no core scheduling in this kernel";
	p->domains = g_ptr_array_new_with_free_func((GDestroyNotify)vs_domain_free);
	g_strlcpy(dom->uuid, UUID, sizeof(dom->uuid));
	dom->id = 1;
	dom->pid = 9140;
	for (guint i = 0; i < 2; i++) {
		VsVcpu *v = &g_array_index(dom->vcpus, VsVcpu, i);

		v->online = true;
		v->thread = (VsThread){ .pid = 9140, .tid = 9148 + (pid_t)i, .start_time = 46870,
					.comm = g_strdup_printf("CPU %u/TCG", i), .cpu = -1 };
		rec_init(&p->rec[i], v->thread.tid);
		rec_feed(&p->rec[i], 0, 0, 0);
	}
	g_ptr_array_add(p->domains, dom);
	p->set = g_new0(VsPolicySet, 1);
	p->set->files = g_ptr_array_new_with_free_func((GDestroyNotify)vs_policy_file_free);
	add_policy(p, policy);
	p->applied = vs_applied_new();
	p->cosched = vs_cosched_new();
	return p;
}

static void plan_free(Plan *p)
{
	sched_topo_free(p->topo);
	g_ptr_array_unref(p->domains);
	vs_policy_set_free(p->set);
	vs_applied_free(p->applied);
	vs_cosched_free(p->cosched);
	rec_free(p->rec, 2);
	g_free(p);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Plan, plan_free)

static const VsThread *vcpu_thread(Plan *p, guint index)
{
	const VsDomain *dom = g_ptr_array_index(p->domains, 0);

	return &g_array_index(dom->vcpus, VsVcpu, index).thread;
}

/* One tick of a second in which vCPU 1 waited @skew_ms more than vCPU 0
 * (both busy); returns the plan. */
static VsCoschedPlan *tick(Plan *p, uint64_t skew_ms)
{
	g_autoptr(VsSnapshot) snap = NULL;
	VsCoschedInput in = { 0 };

	p->now_us += SEC_US;
	rec_feed(&p->rec[0], p->now_us, 1000, 0);
	rec_feed(&p->rec[1], p->now_us, 1000 - skew_ms, skew_ms);
	snap = vs_snapshot_new(1, p->now_us, 0, &p->host, g_ptr_array_ref(p->domains), true);
	in = (VsCoschedInput){ .snapshot = snap, .policies = p->set, .now_us = 0,
			       .series = plan_series, .data = p, .applied = p->applied };
	return vs_cosched_plan(p->cosched, &in);
}

/* The NICE delta the plan asks of vCPU @index; 0 when none, -1 for a
 * NICE_CLEAR. */
static int nice_action(const VsCoschedPlan *plan, guint index)
{
	for (guint i = 0; i < plan->actions->len; i++) {
		const VsCoschedAction *a = g_ptr_array_index(plan->actions, i);
		g_autofree char *what = g_strdup_printf("vcpu%u", index);

		if (strcmp(a->what, what) != 0)
			continue;
		if (a->kind == VS_COSCHED_ACTION_NICE)
			return a->delta;
		if (a->kind == VS_COSCHED_ACTION_NICE_CLEAR)
			return -1;
	}
	return 0;
}

static bool has_reason(const VsCoschedPlan *plan, const char *fragment)
{
	const VsCoschedGuestReport *g = vs_cosched_plan_guest(plan, UUID);

	for (guint i = 0; g && i < g->reasons->len; i++)
		if (strstr(g_ptr_array_index(g->reasons, i), fragment))
			return true;
	return false;
}

/* What the actuator would record after @plan: the nice boosts as Applied
 * entries (original nice 0). */
static void apply(Plan *p, const VsCoschedPlan *plan)
{
	for (guint i = 0; i < plan->actions->len; i++) {
		const VsCoschedAction *a = g_ptr_array_index(plan->actions, i);
		VsAppliedEntry *e = vs_applied_find(p->applied, VS_APPLIED_NICE, &a->thread);

		if (a->kind == VS_COSCHED_ACTION_NICE)
			vs_applied_set_nice(p->applied, a->uuid, a->domain, a->what, &a->thread, 0,
					    -a->delta);
		else if (a->kind == VS_COSCHED_ACTION_NICE_CLEAR && e)
			vs_applied_remove(p->applied, e);
	}
}

#define RELAXED "[Match]\nName=db\n[CPU]\nCoSchedule=relaxed\nSkewThreshold=10ms\n"

/* Above the threshold the laggard is boosted, one step per window up to
 * the most; between half and the whole threshold the boost stays; under
 * half it is released. The leader is never boosted. */
static void test_relaxed_hysteresis(void **state)
{
	g_autoptr(Plan) p = plan_new(SCHED_TOPO_1S_FLAT_8, RELAXED);
	struct {
		uint64_t skew_ms;
		int want;        /* NICE delta of vcpu1, -1: clear, 0: nothing */
		const char *reason;
	} steps[] = {
		{ 3, 0, "under half of SkewThreshold=10.0ms (policy 10-cs.policy:5); no boost" },
		{ 20, 5, "exceeds SkewThreshold=10.0ms (policy 10-cs.policy:5); vcpu1 lags vcpu0" },
		{ 7, 5, "between half of and SkewThreshold" },
		{ 30, 10, "nice boost 10 below its original" },
		{ 30, 10, "nice boost 10" },      /* at most VS_COSCHED_MAX_LEVEL steps */
		{ 6, 10, "hysteresis" },
		{ 4, -1, "boosts released" },
		{ 4, 0, "no boost" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(steps); i++) {
		g_autoptr(VsCoschedPlan) plan = tick(p, steps[i].skew_ms);
		const VsCoschedGuestReport *g = vs_cosched_plan_guest(plan, UUID);

		assert_non_null(g);
		assert_true(g->skew.valid);
		assert_int_equal(g->skew.skew_ns, steps[i].skew_ms * MS_NS);
		assert_string_equal(g->mode, "relaxed");
		if (nice_action(plan, 1) != steps[i].want || nice_action(plan, 0) != 0)
			fail_msg("step %zu (skew %" G_GUINT64_FORMAT " ms): vcpu1 %d, want %d; "
				 "vcpu0 %d", i, steps[i].skew_ms, nice_action(plan, 1),
				 steps[i].want, nice_action(plan, 0));
		if (!has_reason(plan, steps[i].reason))
			fail_msg("step %zu: no reason with \"%s\"", i, steps[i].reason);
		assert_int_equal(g->boosting, steps[i].want > 0);
		assert_int_equal(g->max_1m_ns >= steps[i].skew_ms * MS_NS, true);
		apply(p, plan);
	}
}

/* A restarted daemon (a new planner) adopts the boost Applied records:
 * in the hysteresis band it keeps it instead of starting from nothing. A
 * new thread in vCPU 1's place (TID reuse) does not inherit it. */
static void test_relaxed_adopts_applied(void **state)
{
	g_autoptr(Plan) p = plan_new(SCHED_TOPO_1S_FLAT_8, RELAXED);
	g_autoptr(VsCoschedPlan) plan = NULL;
	const VsDomain *dom = g_ptr_array_index(p->domains, 0);

	vs_applied_set_nice(p->applied, UUID, "db", "vcpu1", vcpu_thread(p, 1), 0, -5);
	plan = tick(p, 7);
	assert_int_equal(nice_action(plan, 1), 5);
	g_clear_pointer(&plan, vs_cosched_plan_free);
	g_array_index(dom->vcpus, VsVcpu, 1).thread.start_time = 50000;
	plan = tick(p, 7);
	assert_int_equal(nice_action(plan, 1), 0);
	assert_false(vs_cosched_plan_guest(plan, UUID)->boosting);
}

/* CoSchedule=none measures and reports but never boosts, and releases a
 * boost Applied still has (the policy changed). */
static void test_none_releases(void **state)
{
	g_autoptr(Plan) p = plan_new(SCHED_TOPO_1S_FLAT_8, "[Match]\nName=db\n");
	g_autoptr(VsCoschedPlan) plan = NULL;
	const VsCoschedGuestReport *g;

	plan = tick(p, 50);
	g = vs_cosched_plan_guest(plan, UUID);
	assert_string_equal(g->mode, "none");
	assert_int_equal(g->skew.skew_ns, 50 * MS_NS);
	assert_int_equal(nice_action(plan, 1), 0);
	assert_int_equal(g->reasons->len, 0);
	g_clear_pointer(&plan, vs_cosched_plan_free);
	vs_applied_set_nice(p->applied, UUID, "db", "vcpu1", vcpu_thread(p, 1), 0, -5);
	plan = tick(p, 50);
	assert_int_equal(nice_action(plan, 1), -1);
	/* Clears come first in the plan. */
	assert_int_equal(((VsCoschedAction *)g_ptr_array_index(plan->actions, 0))->kind,
			 VS_COSCHED_ACTION_NICE_CLEAR);
}

/* A vCPU with a reservation from vsched is never boosted. */
static void test_relaxed_skips_deadline(void **state)
{
	g_autoptr(Plan) p = plan_new(SCHED_TOPO_1S_FLAT_8, RELAXED);
	g_autoptr(VsCoschedPlan) plan = NULL;
	VsSchedAttr orig = { .size = sizeof(orig) };

	vs_applied_set_deadline(p->applied, UUID, "db", "vcpu1", vcpu_thread(p, 1), &orig, 1000,
				100000);
	plan = tick(p, 40);
	assert_int_equal(nice_action(plan, 1), 0);
	assert_true(has_reason(plan, "has a deadline reservation, which nice does not change"));
}

/* gang on this kind of host: the reason says why there is no common
 * window; with Reservation= it says what aligns and what does not. Core
 * scheduling: unavailable without the kernel's support, moot without
 * SMT, one cookie per guest with both. */
static void test_gang_and_core(void **state)
{
	g_autoptr(Plan) p = plan_new(SCHED_TOPO_2S_SMT2_32, "[Match]\nName=db\n[CPU]\nCoSchedule=gang\n");
	g_autoptr(Plan) q = plan_new(SCHED_TOPO_1S_FLAT_8,
				     "[Match]\nName=db\n[CPU]\nCoSchedule=gang\nReservation=1ms/10ms\n");
	g_autoptr(VsCoschedPlan) plan = tick(p, 0);
	g_autoptr(VsCoschedPlan) qplan = tick(q, 0);
	g_autoptr(GHashTable) cookies = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(VsSnapshot) snap = NULL;
	VsCoschedInput in;
	const VsCoschedAction *a;

	assert_true(has_reason(plan, "gang: cgroup v2 cpu controller unavailable (no cpu "
				     "controller on the v2 hierarchy)"));
	assert_true(has_reason(plan, "core scheduling unavailable: no core scheduling in this "
				     "kernel"));
	assert_int_equal(plan->actions->len, 0);
	assert_true(has_reason(qplan, "gang: the 2 vCPUs get the same reservation 1ms/10ms"));
	assert_true(has_reason(qplan, "SCHED_DEADLINE re-arms"));
	assert_true(has_reason(qplan, "core scheduling: the host has no SMT"));

	/* A kernel with core scheduling: CREATE on vcpu0, SHARE to vcpu1 from it. */
	p->host.caps.sched_core.ok = true;
	g_clear_pointer(&plan, vs_cosched_plan_free);
	plan = tick(p, 0);
	assert_int_equal(plan->actions->len, 2);
	a = g_ptr_array_index(plan->actions, 0);
	assert_int_equal(a->kind, VS_COSCHED_ACTION_CORE_CREATE);
	assert_int_equal(a->thread.tid, 9148);
	a = g_ptr_array_index(plan->actions, 1);
	assert_int_equal(a->kind, VS_COSCHED_ACTION_CORE_SHARE);
	assert_int_equal(a->thread.tid, 9149);
	assert_int_equal(a->leader.tid, 9148);
	/* Once both threads have it, nothing more. */
	g_hash_table_add(cookies, g_strdup("9148:46870"));
	g_hash_table_add(cookies, g_strdup("9149:46870"));
	p->now_us += SEC_US;
	snap = vs_snapshot_new(2, p->now_us, 0, &p->host, g_ptr_array_ref(p->domains), true);
	in = (VsCoschedInput){ .snapshot = snap, .policies = p->set, .series = plan_series,
			       .data = p, .applied = p->applied, .cookies = cookies };
	g_clear_pointer(&plan, vs_cosched_plan_free);
	plan = vs_cosched_plan(p->cosched, &in);
	assert_int_equal(plan->actions->len, 0);
	assert_true(has_reason(plan, "; in place"));
}

/* The nice kind of AppliedFile: written, read back, validated. */
static void test_applied_nice_json(void **state)
{
	g_autoptr(VsApplied) a = vs_applied_new();
	g_autoptr(VsApplied) b = NULL;
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autofree char *json = NULL;
	g_autofree char *bad = NULL;
	VsThread t = { .pid = 9140, .tid = 9149, .start_time = 46870, .comm = (char *)"CPU 1/TCG" };
	const VsAppliedEntry *e;

	vs_applied_set_nice(a, UUID, "db", "vcpu1", &t, 2, -3);
	vs_applied_set_nice(a, UUID, "db", "vcpu1", &t, 0, -8);  /* the original stays */
	json = vs_applied_to_json(a);
	b = vs_applied_from_json(json, warnings, &error);
	assert_non_null(b);
	assert_int_equal(warnings->len, 0);
	e = vs_applied_find(b, VS_APPLIED_NICE, &t);
	assert_non_null(e);
	assert_int_equal(e->orig_nice, 2);
	assert_int_equal(e->cur_nice, -8);
	bad = g_strdup_printf("{\"version\": 1, \"entries\": [{\"kind\": \"nice\", \"uuid\": \"%s\", "
			      "\"pid\": 1, \"tid\": 2, \"start_time\": 3, \"comm\": \"x\", "
			      "\"original_nice\": 0, \"current_nice\": -42}]}", UUID);
	g_clear_pointer(&b, vs_applied_free);
	b = vs_applied_from_json(bad, warnings, &error);
	assert_non_null(b);
	assert_int_equal(b->entries->len, 0);
	assert_int_equal(warnings->len, 1);
	assert_non_null(strstr(g_ptr_array_index(warnings, 0), "nice in -20..19"));
}

/* The fake kernel of the actuator tests. */
static struct {
	int nice[2];             /* of TIDs 9148, 9149 */
	uint32_t policy;
	int setattr_calls;
	GString *prctl;          /* "CMD:PID " per call */
} fake;

static int fake_getattr(pid_t tid, VsSchedAttr *attr)
{
	if (tid != 9148 && tid != 9149)
		return -ESRCH;
	*attr = (VsSchedAttr){ .size = sizeof(*attr), .sched_policy = fake.policy,
			       .sched_nice = fake.nice[tid - 9148] };
	return 0;
}

static int fake_setattr(pid_t tid, const VsSchedAttr *attr)
{
	if (tid != 9148 && tid != 9149)
		return -ESRCH;
	fake.setattr_calls++;
	assert_int_equal(attr->sched_policy, fake.policy);
	fake.nice[tid - 9148] = attr->sched_nice;
	return 0;
}

static int fake_prctl(unsigned long cmd, pid_t pid, unsigned long type)
{
	assert_int_equal(type, 0);
	g_string_append_printf(fake.prctl, "%lu:%d ", cmd, (int)pid);
	return 0;
}

static const VsSysOps fake_ops = {
	.sched_getattr = fake_getattr,
	.sched_setattr = fake_setattr,
	.prctl_sched_core = fake_prctl,
};

/* A root with /proc stat files for TIDs 9148 and 9149 of QEMU 9140. */
static VsSys *fake_root(void)
{
	VsSys *sys = temp_root(
		"/proc/9140/task/9148/stat",
		"9148 (CPU 0/TCG) S 1 9140 9140 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 3 0 46870 0 0\n",
		"/proc/9140/task/9149/stat",
		"9149 (CPU 1/TCG) S 1 9140 9140 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 3 0 46870 0 0\n",
		NULL);

	sys->ops = &fake_ops;
	if (fake.prctl)
		g_string_free(fake.prctl, TRUE);
	fake.prctl = g_string_new(NULL);
	fake.nice[0] = fake.nice[1] = 0;
	fake.policy = SCHED_OTHER;
	fake.setattr_calls = 0;
	return sys;
}

static VsCoschedAction *nice_action_new(VsCoschedActionKind kind, pid_t tid, int delta)
{
	VsCoschedAction *a = g_new0(VsCoschedAction, 1);

	a->kind = kind;
	g_strlcpy(a->uuid, UUID, sizeof(a->uuid));
	a->domain = g_strdup("db");
	a->what = g_strdup_printf("vcpu%d", (int)(tid - 9148));
	a->thread = (VsThread){ .pid = 9140, .tid = tid, .start_time = 46870,
				.comm = g_strdup_printf("CPU %d/TCG", (int)(tid - 9148)), .cpu = -1 };
	a->delta = delta;
	a->reason = g_strdup("test");
	return a;
}

static VsCoschedPlan *plan_of(VsCoschedAction *a, ...)
{
	VsCoschedPlan *plan = g_new0(VsCoschedPlan, 1);
	va_list ap;

	plan->actions = g_ptr_array_new_with_free_func((GDestroyNotify)vs_cosched_action_free);
	plan->guests = g_hash_table_new(g_str_hash, g_str_equal);
	va_start(ap, a);
	for (; a; a = va_arg(ap, VsCoschedAction *))
		g_ptr_array_add(plan->actions, a);
	va_end(ap);
	return plan;
}

/* Boost, repeat (nothing to do), deepen, release; the original is the nice
 * found before the first change; a clean stop puts it back. */
static void test_act_nice(void **state)
{
	VsSys *sys = fake_root();
	g_autoptr(VsApplied) applied = vs_applied_new();
	g_autofree char *path = vs_sys_path(sys, "/run/vsched/applied.json");
	g_autoptr(VsCoschedAct) act = vs_cosched_act_new(sys, applied, path);
	g_autoptr(GPtrArray) events = vs_act_events_new();
	g_autoptr(VsCoschedPlan) plan = NULL;
	g_autofree char *json = NULL;
	const VsAppliedEntry *e;

	fake.nice[1] = 2;
	plan = plan_of(nice_action_new(VS_COSCHED_ACTION_NICE, 9149, 5), NULL);
	assert_int_equal(vs_cosched_act_run(act, plan, events), 1);
	assert_int_equal(fake.nice[1], -3);
	e = vs_applied_find(applied, VS_APPLIED_NICE,
			    &((VsCoschedAction *)g_ptr_array_index(plan->actions, 0))->thread);
	assert_non_null(e);
	assert_int_equal(e->orig_nice, 2);
	assert_int_equal(e->cur_nice, -3);
	assert_true(g_file_get_contents(path, &json, NULL, NULL));
	assert_non_null(strstr(json, "\"kind\" : \"nice\""));
	/* In place: nothing. */
	assert_int_equal(vs_cosched_act_run(act, plan, events), 0);
	assert_int_equal(fake.setattr_calls, 1);
	g_clear_pointer(&plan, vs_cosched_plan_free);
	/* Deeper, clamped at -20 relative to the original 2: 2 - 25 → -20. */
	plan = plan_of(nice_action_new(VS_COSCHED_ACTION_NICE, 9149, 25), NULL);
	assert_int_equal(vs_cosched_act_run(act, plan, events), 1);
	assert_int_equal(fake.nice[1], -20);
	g_clear_pointer(&plan, vs_cosched_plan_free);
	plan = plan_of(nice_action_new(VS_COSCHED_ACTION_NICE_CLEAR, 9149, 0), NULL);
	assert_int_equal(vs_cosched_act_run(act, plan, events), 1);
	assert_int_equal(fake.nice[1], 2);
	assert_int_equal(applied->entries->len, 0);
	g_clear_pointer(&plan, vs_cosched_plan_free);

	/* Boost again, then a clean stop. */
	plan = plan_of(nice_action_new(VS_COSCHED_ACTION_NICE, 9148, 5), NULL);
	vs_cosched_act_run(act, plan, events);
	assert_int_equal(fake.nice[0], -5);
	assert_int_equal(vs_cosched_act_restore_all(act, events), 1);
	assert_int_equal(fake.nice[0], 0);
	assert_int_equal(applied->entries->len, 0);
	temp_root_free(sys);
}

/* A real-time thread has no nice: refused once, not retried. A thread that
 * is not the one collected is not touched. */
static void test_act_nice_refused(void **state)
{
	VsSys *sys = fake_root();
	g_autoptr(VsApplied) applied = vs_applied_new();
	g_autofree char *path = vs_sys_path(sys, "/run/vsched/applied.json");
	g_autoptr(VsCoschedAct) act = vs_cosched_act_new(sys, applied, path);
	g_autoptr(GPtrArray) events = vs_act_events_new();
	g_autoptr(VsCoschedPlan) plan = NULL;
	VsCoschedAction *a;

	fake.policy = 1; /* SCHED_FIFO */
	plan = plan_of(nice_action_new(VS_COSCHED_ACTION_NICE, 9149, 5), NULL);
	assert_int_equal(vs_cosched_act_run(act, plan, events), 0);
	assert_int_equal(events->len, 1);
	assert_non_null(strstr(((VsActEvent *)g_ptr_array_index(events, 0))->message,
			       "has no nice value"));
	assert_int_equal(vs_cosched_act_run(act, plan, events), 0);
	assert_int_equal(events->len, 1);
	g_clear_pointer(&plan, vs_cosched_plan_free);

	fake.policy = SCHED_OTHER;
	a = nice_action_new(VS_COSCHED_ACTION_NICE, 9148, 5);
	a->thread.start_time = 1;   /* another thread with that TID now */
	plan = plan_of(a, NULL);
	assert_int_equal(vs_cosched_act_run(act, plan, events), 0);
	assert_int_equal(fake.setattr_calls, 0);
	assert_int_equal(applied->entries->len, 0);
	temp_root_free(sys);
}

/* Cookies: CREATE on the leader; SHARE_FROM the leader then SHARE_TO the
 * other, from a helper thread; the stop shares "no cookie" back. */
static void test_act_core(void **state)
{
	VsSys *sys = fake_root();
	g_autoptr(VsApplied) applied = vs_applied_new();
	g_autofree char *path = vs_sys_path(sys, "/run/vsched/applied.json");
	g_autoptr(VsCoschedAct) act = vs_cosched_act_new(sys, applied, path);
	g_autoptr(GPtrArray) events = vs_act_events_new();
	g_autoptr(VsCoschedPlan) plan = NULL;
	VsCoschedAction *share = nice_action_new(VS_COSCHED_ACTION_CORE_SHARE, 9149, 0);
	VsCoschedAction *create = nice_action_new(VS_COSCHED_ACTION_CORE_CREATE, 9148, 0);

	vs_thread_copy(&share->leader, &create->thread);
	plan = plan_of(create, share, NULL);
	assert_int_equal(vs_cosched_act_run(act, plan, events), 2);
	assert_string_equal(fake.prctl->str, "1:9148 3:9148 2:9149 ");
	assert_int_equal(g_hash_table_size(vs_cosched_act_cookies(act)), 2);
	assert_true(g_hash_table_contains(vs_cosched_act_cookies(act), "9149:46870"));
	g_string_truncate(fake.prctl, 0);
	assert_int_equal(vs_cosched_act_restore_all(act, events), 2);
	assert_non_null(strstr(fake.prctl->str, "2:9148 "));
	assert_non_null(strstr(fake.prctl->str, "2:9149 "));
	assert_null(strstr(fake.prctl->str, "3:"));
	assert_int_equal(g_hash_table_size(vs_cosched_act_cookies(act)), 0);
	temp_root_free(sys);
	g_string_free(fake.prctl, TRUE);
	fake.prctl = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skew_busy),
		cmocka_unit_test(test_skew_idle),
		cmocka_unit_test(test_skew_tid_reuse),
		cmocka_unit_test(test_skew_new_vcpu_and_gap),
		cmocka_unit_test(test_skew_history),
		cmocka_unit_test(test_relaxed_hysteresis),
		cmocka_unit_test(test_relaxed_adopts_applied),
		cmocka_unit_test(test_none_releases),
		cmocka_unit_test(test_relaxed_skips_deadline),
		cmocka_unit_test(test_gang_and_core),
		cmocka_unit_test(test_applied_nice_json),
		cmocka_unit_test(test_act_nice),
		cmocka_unit_test(test_act_nice_refused),
		cmocka_unit_test(test_act_core),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
