/* Unit tests of the steal arithmetic (src/steal/account.c, condition.c,
 * report.c) on recorded counter sequences: deltas, clamping, resets on
 * counter decrease (wraparound), TID change and TID reuse, gaps, the split
 * into cap, reservation and contention with its bounds, entitlement and
 * deficit, the libvirt cross-check, the rolling windows and the policy
 * conditions. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "policy/policy.h"
#include "steal/account.h"
#include "steal/condition.h"
#include "steal/report.h"

#define MS (INT64_C(1000))
#define SEC (INT64_C(1000000))
#define NS_MS (UINT64_C(1000000))
#define NS_SEC (UINT64_C(1000000000))

/* A sample of thread 100 at @t_us with the given counters (ns). */
static VsStealSample sample(int64_t t_us, uint64_t run, uint64_t delay)
{
	return (VsStealSample){ .mono_us = t_us, .tid = 100, .start_time = 5000, .run_ns = run,
				.delay_ns = delay, .entitlement = -1 };
}

/* The asserts below read windows and points through pointers: these
 * copy them into slots that stay valid for the next few calls. */
static VsStealPoint *slot(void)
{
	static VsStealPoint slots[4];
	static guint next;

	return &slots[next++ % G_N_ELEMENTS(slots)];
}

static const VsStealPoint *win(const VsStealSeries *s, VsStealWindow w)
{
	VsStealPoint *p = slot();

	*p = vs_steal_series_window(s, w);
	return p;
}

/* The @i-th newest interval of @s, or NULL. */
static const VsStealPoint *nth(const VsStealSeries *s, guint i)
{
	VsStealPoint *p = slot();

	return vs_steal_series_nth_newest(s, i, p) ? p : NULL;
}

static void test_first_and_delta(void **state)
{
	VsStealSample a = sample(10 * SEC, 5 * NS_SEC, 2 * NS_SEC);
	VsStealSample b = sample(11 * SEC, 5 * NS_SEC + 600 * NS_MS, 2 * NS_SEC + 300 * NS_MS);
	VsStealPoint p;

	assert_int_equal(vs_steal_delta(NULL, &a, &p), VS_STEAL_RESET_FIRST);
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.end_us, 11 * SEC);
	assert_int_equal(p.wall_ns, NS_SEC);
	assert_int_equal(p.span_ns, NS_SEC);
	assert_int_equal(p.run_ns, 600 * NS_MS);
	assert_int_equal(p.steal_ns, 300 * NS_MS);
	/* No throttled time known: all of it is contention, and it says so. */
	assert_int_equal(p.contention_ns, 300 * NS_MS);
	assert_int_equal(p.cap_ns, 0);
	assert_int_equal(p.reservation_ns, 0);
	assert_true(p.flags & VS_STEAL_NO_THROTTLE);
	assert_false(p.flags & VS_STEAL_CLAMPED);
	assert_int_equal(p.n, 1);
	assert_float_equal(vs_steal_pct(p.steal_ns, &p), 30.0, 1e-9);
	/* The same time again, or earlier: dropped. */
	assert_int_equal(vs_steal_delta(&b, &b, &p), VS_STEAL_IGNORED);
	assert_int_equal(vs_steal_delta(&b, &a, &p), VS_STEAL_IGNORED);
}

static void test_clamp(void **state)
{
	VsStealSample a = sample(0, 0, 0);
	VsStealSample b = sample(SEC, 0, 1005 * NS_MS);
	VsStealPoint p;

	/* Within the 1 % tolerance: cut to the wall time, not flagged. */
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.steal_ns, NS_SEC);
	assert_false(p.flags & VS_STEAL_CLAMPED);
	assert_int_equal(p.clamped, 0);
	/* Past it: cut and flagged. */
	b.delay_ns = 3 * NS_SEC;
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.steal_ns, NS_SEC);
	assert_true(p.flags & VS_STEAL_CLAMPED);
	assert_int_equal(p.clamped, 1);
	b.delay_ns = 0;
	b.run_ns = 2 * NS_SEC;
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.run_ns, NS_SEC);
	assert_true(p.flags & VS_STEAL_CLAMPED);
	/* Run and delay together past the wall time: the delay gives way. */
	b.run_ns = 700 * NS_MS;
	b.delay_ns = 305 * NS_MS;
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.run_ns, 700 * NS_MS);
	assert_int_equal(p.steal_ns, 300 * NS_MS);
	assert_false(p.flags & VS_STEAL_CLAMPED);
	b.delay_ns = 600 * NS_MS;
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.steal_ns, 300 * NS_MS);
	assert_true(p.flags & VS_STEAL_CLAMPED);
}

/* A recorded sequence of one vCPU: a counter reset (the kernel's counters
 * do not wrap in practice, but a thread replaced under the same identity
 * or a wrapped 64-bit counter looks like this), TID reuse, a new TID, a
 * missing sample and a long gap. No interval is negative or longer than
 * its wall time. */
static void test_sequence(void **state)
{
	static const struct {
		int64_t t_us;
		pid_t tid;
		uint64_t start_time;
		uint64_t run, delay;
		VsStealResult want;
		uint64_t want_wall, want_steal;
	} seq[] = {
		{ 0, 100, 5000, 1000 * NS_MS, 500 * NS_MS, VS_STEAL_RESET_FIRST, 0, 0 },
		{ 1 * SEC, 100, 5000, 1500 * NS_MS, 900 * NS_MS, VS_STEAL_DELTA, NS_SEC, 400 * NS_MS },
		/* Near wraparound (a jump far past the wall time: both
		 * counters clamped, run first, so no steal), then wrapped: a
		 * decrease, a new baseline. */
		{ 2 * SEC, 100, 5000, UINT64_MAX - 100 * NS_MS, UINT64_MAX - 50 * NS_MS,
		  VS_STEAL_DELTA, NS_SEC, 0 },
		{ 3 * SEC, 100, 5000, 400 * NS_MS, 200 * NS_MS, VS_STEAL_RESET_DECREASE, 0, 0 },
		{ 4 * SEC, 100, 5000, 900 * NS_MS, 300 * NS_MS, VS_STEAL_DELTA, NS_SEC, 100 * NS_MS },
		/* The TID reused by another thread (start time differs). */
		{ 5 * SEC, 100, 7000, 10 * NS_MS, 0, VS_STEAL_RESET_START_TIME, 0, 0 },
		{ 6 * SEC, 100, 7000, 510 * NS_MS, 250 * NS_MS, VS_STEAL_DELTA, NS_SEC, 250 * NS_MS },
		/* Another TID for the vCPU (QEMU restarted the thread). */
		{ 7 * SEC, 200, 7100, 10 * NS_MS, 10 * NS_MS, VS_STEAL_RESET_TID, 0, 0 },
		/* The sample at 8 s is missing: the next spans 2 s. */
		{ 9 * SEC, 200, 7100, 1010 * NS_MS, 810 * NS_MS, VS_STEAL_DELTA, 2 * NS_SEC,
		  800 * NS_MS },
		/* Six minutes without a sample: too long to subtract. */
		{ 9 * SEC + 360 * SEC, 200, 7100, 2 * NS_SEC, 2 * NS_SEC, VS_STEAL_RESET_GAP, 0, 0 },
		{ 10 * SEC + 360 * SEC, 200, 7100, 2 * NS_SEC + 10 * NS_MS, 2 * NS_SEC + 20 * NS_MS,
		  VS_STEAL_DELTA, NS_SEC, 20 * NS_MS },
	};
	g_autoptr(VsStealVcpu) v = vs_steal_vcpu_new();

	for (size_t i = 0; i < G_N_ELEMENTS(seq); i++) {
		VsStealSample s = sample(seq[i].t_us, seq[i].run, seq[i].delay);
		VsStealPoint p = { 0 };
		VsStealResult r;

		s.tid = seq[i].tid;
		s.start_time = seq[i].start_time;
		r = vs_steal_vcpu_feed(v, &s, &p);
		assert_int_equal(r, seq[i].want);
		if (r != VS_STEAL_DELTA)
			continue;
		assert_int_equal(p.wall_ns, seq[i].want_wall);
		assert_int_equal(p.steal_ns, seq[i].want_steal);
		assert_true(p.run_ns <= p.wall_ns);
		assert_true(p.run_ns + p.steal_ns <= p.wall_ns);
	}
	/* Row 2 jumped far past its wall time: clamped and counted. */
	assert_int_equal(v->clamps, 1);
	assert_int_equal(v->resets, 4);
	assert_int_equal(vs_steal_series_len(v->series), 1);
}

/* A sample with throttled times (cgroup generation 1). */
static VsStealSample throttled(int64_t t_us, uint64_t run, uint64_t delay, uint64_t own,
			       uint64_t guest)
{
	VsStealSample s = sample(t_us, run, delay);

	s.has_throttled = true;
	s.throttle_gen = 1;
	s.vcpu_throttled_ns = own;
	s.guest_throttled_ns = guest;
	return s;
}

static void test_cap(void **state)
{
	VsStealSample a = throttled(0, 0, 0, 0, 0);
	VsStealSample b;
	VsStealPoint p;

	/* cpu.max 20 %: runs 200 ms, waits 800 ms, all of it throttled. */
	b = throttled(SEC, 200 * NS_MS, 800 * NS_MS, 800 * NS_MS, 0);
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.cap_ns, 800 * NS_MS);
	assert_int_equal(p.contention_ns, 0);
	assert_false(p.flags & VS_STEAL_NO_THROTTLE);
	/* Throttled 500 ms by the guest's cgroup, waited 700 ms: 200 ms were
	 * contention. */
	b = throttled(SEC, 300 * NS_MS, 700 * NS_MS, 0, 500 * NS_MS);
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.cap_ns, 500 * NS_MS);
	assert_int_equal(p.contention_ns, 200 * NS_MS);
	/* Both levels throttled longer than the vCPU waited (it was idle for
	 * part of it): the cap is at most the delay. */
	b = throttled(SEC, 100 * NS_MS, 300 * NS_MS, 400 * NS_MS, 400 * NS_MS);
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.cap_ns, 300 * NS_MS);
	assert_int_equal(p.contention_ns, 0);
	assert_int_equal(p.cap_ns + p.reservation_ns + p.contention_ns, p.steal_ns);
	/* The thread moved to other cgroups: no cap for this interval. */
	b = throttled(SEC, 200 * NS_MS, 800 * NS_MS, 800 * NS_MS, 0);
	b.throttle_gen = 2;
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.cap_ns, 0);
	assert_int_equal(p.contention_ns, 800 * NS_MS);
	assert_true(p.flags & VS_STEAL_NO_THROTTLE);
	/* A throttled counter that went back (cgroup recreated): no cap. */
	a.vcpu_throttled_ns = 5 * NS_SEC;
	b.throttle_gen = 1;
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.cap_ns, 0);
	/* Unknown at one end. */
	a = throttled(0, 0, 0, 0, 0);
	a.has_throttled = false;
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.cap_ns, 0);
}

static void test_reservation(void **state)
{
	VsStealSample a = sample(0, 0, 0), b;
	VsStealPoint p;

	/* 2 ms every 10 ms, always runnable: runs 20 %, waits 80 %, all of it
	 * beyond its budget. */
	b = sample(SEC, 200 * NS_MS, 800 * NS_MS);
	b.reserved_runtime_ns = 2 * NS_MS;
	b.reserved_period_ns = 10 * NS_MS;
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.reservation_ns, 800 * NS_MS);
	assert_int_equal(p.contention_ns, 0);
	assert_int_equal(p.cap_ns, 0);
	/* Idle most of the time: 100 ms run, 100 ms waited, 800 ms idle; the
	 * budget gap (800 ms) is all idle: none of the delay is the
	 * reservation's. */
	b.run_ns = 100 * NS_MS;
	b.delay_ns = 100 * NS_MS;
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.reservation_ns, 0);
	assert_int_equal(p.contention_ns, 100 * NS_MS);
	/* In between: 200 ms run, 500 ms waited, 300 ms idle: at most
	 * 800 - 300 = 500 ms beyond the budget. */
	b.run_ns = 200 * NS_MS;
	b.delay_ns = 500 * NS_MS;
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.reservation_ns, 500 * NS_MS);
	/* A deadline thread is not held back by cgroup bandwidth: no cap
	 * even when its cgroup was throttled. */
	a = throttled(0, 0, 0, 0, 0);
	b = throttled(SEC, 200 * NS_MS, 800 * NS_MS, 900 * NS_MS, 0);
	b.reserved_runtime_ns = 5 * NS_MS;
	b.reserved_period_ns = 10 * NS_MS;
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.reservation_ns, 500 * NS_MS);
	assert_int_equal(p.cap_ns, 0);
	assert_int_equal(p.contention_ns, 300 * NS_MS);
}

static void test_entitlement(void **state)
{
	VsStealSample a = sample(0, 0, 0), b = sample(SEC, 300 * NS_MS, 600 * NS_MS);
	VsStealPoint p;

	/* Unknown: nothing. */
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.entitled_wall_ns, 0);
	/* Entitled to half a CPU, got 300 ms while wanting more: 200 ms short. */
	b.entitlement = 0.5;
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.entitled_wall_ns, NS_SEC);
	assert_int_equal(p.entitled_ns, 500 * NS_MS);
	assert_int_equal(p.deficit_ns, 200 * NS_MS);
	/* Got less, but did not want more (waited only 50 ms): the deficit
	 * is what it waited. */
	b.delay_ns = 50 * NS_MS;
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.deficit_ns, 50 * NS_MS);
	/* Got more than its entitlement: no deficit. */
	b.entitlement = 0.2;
	b.delay_ns = 600 * NS_MS;
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.deficit_ns, 0);
}

static void test_libvirt_check(void **state)
{
	VsStealSample a = sample(0, 0, 0), b = sample(SEC, 300 * NS_MS, 600 * NS_MS);
	VsStealPoint p, sum = { 0 };

	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(vs_steal_check_libvirt(&p), VS_STEAL_CHECK_UNAVAILABLE);
	a.has_libvirt = b.has_libvirt = true;
	a.libvirt_delay_ns = 7 * NS_SEC;
	b.libvirt_delay_ns = 7 * NS_SEC + 603 * NS_MS;
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.libvirt_delay_ns, 603 * NS_MS);
	assert_int_equal(p.libvirt_ours_ns, 600 * NS_MS);
	assert_int_equal(vs_steal_check_libvirt(&p), VS_STEAL_CHECK_AGREE);
	assert_string_equal(vs_steal_check_name(VS_STEAL_CHECK_AGREE), "agree");
	b.libvirt_delay_ns = 7 * NS_SEC + 700 * NS_MS;
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(vs_steal_check_libvirt(&p), VS_STEAL_CHECK_DISAGREE);
	/* Over a window of ten such intervals, 1 % of 10 s is 100 ms. */
	for (int i = 0; i < 10; i++) {
		b.libvirt_delay_ns = 7 * NS_SEC + 609 * NS_MS;
		assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
		vs_steal_point_add(&sum, &p, false);
	}
	assert_int_equal(vs_steal_check_libvirt(&sum), VS_STEAL_CHECK_AGREE);
	/* libvirt's counter went back: no comparison for the interval. */
	b.libvirt_delay_ns = 0;
	assert_int_equal(vs_steal_delta(&a, &b, &p), VS_STEAL_DELTA);
	assert_int_equal(p.libvirt_wall_ns, 0);
}

/* A point of @wall_ms ending at @end_s seconds with @steal_pct steal. */
static VsStealPoint point(int64_t end_us, uint64_t wall_ms, double steal_pct)
{
	uint64_t wall = wall_ms * NS_MS, steal = (uint64_t)((double)wall * steal_pct / 100.0);

	return (VsStealPoint){ .end_us = end_us, .span_ns = wall, .wall_ns = wall,
			       .run_ns = wall - steal, .steal_ns = steal, .contention_ns = steal,
			       .n = 1 };
}

static void test_windows(void **state)
{
	g_autoptr(VsStealSeries) s = vs_steal_series_new();
	const VsStealPoint *w;

	assert_int_equal(win(s, VS_STEAL_WINDOW_10S)->n, 0);
	assert_null(nth(s, 0));
	/* 400 s of 1 s intervals: 10 % steal, then the last 10 s at 50 %. */
	for (int i = 1; i <= 400; i++) {
		VsStealPoint p = point(i * SEC, 1000, i > 390 ? 50.0 : 10.0);

		assert_true(vs_steal_series_push(s, &p));
	}
	w = win(s, VS_STEAL_WINDOW_10S);
	assert_int_equal(w->n, 10);
	assert_int_equal(w->span_ns, 10 * NS_SEC);
	assert_float_equal(vs_steal_pct(w->steal_ns, w), 50.0, 1e-6);
	w = win(s, VS_STEAL_WINDOW_1M);
	assert_int_equal(w->n, 60);
	assert_float_equal(vs_steal_pct(w->steal_ns, w), (50.0 * 10 + 10.0 * 50) / 60, 1e-6);
	w = win(s, VS_STEAL_WINDOW_5M);
	assert_int_equal(w->n, 300);
	/* Per-tick points for the newest two buckets (381 to 400 s), then
	 * one point per older 10 s bucket the 1 min window may start in
	 * (331 to 380 s), then one per 30 s group back to the one the 5 min
	 * window starts in (91 to 330 s). */
	assert_int_equal(vs_steal_series_len(s), 20 + 5 + 8);
	assert_int_equal(nth(s, 0)->end_us, 400 * SEC);
	assert_int_equal(nth(s, 19)->end_us, 381 * SEC);
	w = nth(s, 20);
	assert_int_equal(w->end_us, 380 * SEC);
	assert_int_equal(w->n, 10);
	assert_int_equal(w->span_ns, 10 * NS_SEC);
	assert_int_equal(nth(s, 24)->end_us, 340 * SEC);
	w = nth(s, 25);
	assert_int_equal(w->end_us, 330 * SEC);
	assert_int_equal(w->n, 30);
	assert_int_equal(w->span_ns, 30 * NS_SEC);
	assert_int_equal(nth(s, 32)->end_us, 120 * SEC);
	assert_int_equal(nth(s, 32)->n, 30);
	assert_null(nth(s, 33));
	/* Out of order: refused, nothing changes. */
	assert_false(vs_steal_series_push(s, &(VsStealPoint){ .end_us = 399 * SEC }));
	assert_int_equal(win(s, VS_STEAL_WINDOW_10S)->n, 10);
	/* A 30 s gap: the next interval spans it and is in every window; the
	 * 10 s window holds only it. */
	{
		VsStealPoint p = point(431 * SEC, 31000, 20.0);

		assert_true(vs_steal_series_push(s, &p));
	}
	w = win(s, VS_STEAL_WINDOW_10S);
	assert_int_equal(w->n, 1);
	assert_int_equal(w->span_ns, 31 * NS_SEC);
	assert_float_equal(vs_steal_pct(w->steal_ns, w), 20.0, 1e-6);
	w = win(s, VS_STEAL_WINDOW_1M);
	assert_int_equal(w->n, 1 + 29);
}

static void test_series_limit(void **state)
{
	g_autoptr(VsStealSeries) s = vs_steal_series_new();

	/* 10 ms ticks for 60 s: the windows count them all, the series keeps
	 * the per-tick points of the newest two buckets only. */
	for (int i = 1; i <= 6000; i++) {
		VsStealPoint p = point(i * 10 * MS, 10, 25.0);

		assert_true(vs_steal_series_push(s, &p));
	}
	assert_int_equal(vs_steal_series_len(s), 2000 + 4);
	assert_int_equal(win(s, VS_STEAL_WINDOW_10S)->n, 1000);
	assert_int_equal(win(s, VS_STEAL_WINDOW_1M)->n, 6000);
	assert_int_equal(win(s, VS_STEAL_WINDOW_5M)->n, 6000);
	assert_float_equal(vs_steal_pct(win(s, VS_STEAL_WINDOW_5M)->steal_ns,
					win(s, VS_STEAL_WINDOW_5M)),
			   25.0, 1e-6);
}

/* A guest's tick: its vCPUs' intervals side by side. */
static void test_guest_sum(void **state)
{
	VsStealPoint sum = { 0 };
	VsStealPoint a = point(10 * SEC, 1000, 50.0), b = point(10 * SEC, 1000, 10.0);

	vs_steal_point_add(&sum, &a, true);
	vs_steal_point_add(&sum, &b, true);
	assert_int_equal(sum.span_ns, NS_SEC);
	assert_int_equal(sum.wall_ns, 2 * NS_SEC);
	assert_int_equal(sum.n, 2);
	/* The mean over the vCPUs. */
	assert_float_equal(vs_steal_pct(sum.steal_ns, &sum), 30.0, 1e-9);
	assert_float_equal(vs_condition_metric(&sum, VS_METRIC_CPU), 70.0, 1e-9);
}

static void test_condition(void **state)
{
	g_autoptr(VsStealSeries) s = vs_steal_series_new_fine(300 * SEC);
	VsCondition c = { .metric = VS_METRIC_STEAL_CONTENTION, .cmp = VS_CMP_GT,
			  .threshold = 20.0, .for_us = 30 * SEC };
	VsCondition now = c;
	VsStealPoint p;

	now.for_us = 0;
	assert_false(vs_condition_holds(&c, s));
	assert_false(vs_condition_holds(&now, s));
	/* 25 s of 40 %: above, but not for 30 s yet. */
	for (int i = 1; i <= 25; i++) {
		p = point(i * SEC, 1000, 40.0);
		vs_steal_series_push(s, &p);
	}
	assert_true(vs_condition_holds(&now, s));
	assert_false(vs_condition_holds(&c, s));
	for (int i = 26; i <= 30; i++) {
		p = point(i * SEC, 1000, 40.0);
		vs_steal_series_push(s, &p);
	}
	/* 30 s covered (from 0 to 30). */
	assert_true(vs_condition_holds(&c, s));
	/* One tick at 10 %: it does not hold until 30 s have passed again. */
	p = point(31 * SEC, 1000, 10.0);
	vs_steal_series_push(s, &p);
	assert_false(vs_condition_holds(&c, s));
	assert_false(vs_condition_holds(&now, s));
	for (int i = 32; i <= 60; i++) {
		p = point(i * SEC, 1000, 40.0);
		vs_steal_series_push(s, &p);
	}
	assert_false(vs_condition_holds(&c, s));
	/* From 31 to 61 s: 30 s above the threshold. */
	p = point(61 * SEC, 1000, 40.0);
	vs_steal_series_push(s, &p);
	assert_true(vs_condition_holds(&c, s));
	/* A hole (a reset: no interval from 61 to 70 s) inside the duration. */
	p = point(71 * SEC, 1000, 40.0);
	vs_steal_series_push(s, &p);
	assert_false(vs_condition_holds(&c, s));
	assert_true(vs_condition_holds(&now, s));
	/* Other metrics and comparisons on one point. */
	{
		g_autoptr(VsStealSeries) one = vs_steal_series_new();
		VsStealPoint q = { .end_us = SEC, .span_ns = NS_SEC, .wall_ns = NS_SEC,
				   .run_ns = 100 * NS_MS, .steal_ns = 900 * NS_MS,
				   .cap_ns = 700 * NS_MS, .reservation_ns = 50 * NS_MS,
				   .contention_ns = 150 * NS_MS, .n = 1 };
		VsCondition k = { .for_us = 0 };

		vs_steal_series_push(one, &q);
		k.metric = VS_METRIC_STEAL_CAP;
		k.cmp = VS_CMP_GE;
		k.threshold = 70.0;
		assert_true(vs_condition_holds(&k, one));
		k.cmp = VS_CMP_GT;
		assert_false(vs_condition_holds(&k, one));
		k.metric = VS_METRIC_STEAL_RESERVATION;
		k.cmp = VS_CMP_LE;
		k.threshold = 5.0;
		assert_true(vs_condition_holds(&k, one));
		k.cmp = VS_CMP_LT;
		assert_false(vs_condition_holds(&k, one));
		k.metric = VS_METRIC_CPU;
		k.threshold = 50.0;
		assert_true(vs_condition_holds(&k, one));
		k.metric = VS_METRIC_STEAL;
		k.cmp = VS_CMP_GT;
		k.threshold = 89.0;
		assert_true(vs_condition_holds(&k, one));
	}
}

/* The window names of the CLI and the report. */
/* Bucket boundaries: the 1 min and 5 min windows take the bucket their
 * start falls in pro rata. */
static void test_window_buckets(void **state)
{
	g_autoptr(VsStealSeries) s = vs_steal_series_new();
	const VsStealPoint *w;
	int64_t end = 0;
	guint exact = 0;

	/* 700 ms ticks, not aligned to the 10 s buckets, at a steady 20 %. */
	for (int i = 1; i <= 600; i++) {
		VsStealPoint p;

		end = i * 700 * MS + 3 * MS;
		p = point(end, 700, 20.0);
		assert_true(vs_steal_series_push(s, &p));
	}
	for (int i = 1; i <= 600; i++)
		exact += i * 700 * MS + 3 * MS > end - 60 * SEC;
	w = win(s, VS_STEAL_WINDOW_1M);
	assert_in_range(w->n, exact - 1, exact + 1);
	assert_in_range(w->span_ns, 59300 * NS_MS, 60700 * NS_MS);
	assert_float_equal(vs_steal_pct(w->steal_ns, w), 20.0, 1e-6);
	w = win(s, VS_STEAL_WINDOW_5M);
	assert_in_range(w->span_ns, 299300 * NS_MS, 300700 * NS_MS);
	assert_float_equal(vs_steal_pct(w->steal_ns, w), 20.0, 1e-6);
	/* Kept: the newest two buckets' ticks, one point per older bucket
	 * for the 1 min window (5 to 7), one per 30 s group (7 to 9). */
	assert_in_range(vs_steal_series_len(s), 10 / 0.7 + 5 + 7, 20 / 0.7 + 1 + 7 + 9);

	/* A step inside the bucket the 1 min window starts in: off from the
	 * exact figure by at most that bucket's share (10 s of 60). */
	{
		g_autoptr(VsStealSeries) t = vs_steal_series_new();
		double exact_pct;

		for (int i = 1; i <= 365; i++) {
			VsStealPoint p = point(i * SEC, 1000, i <= 305 ? 0.0 : 60.0);

			vs_steal_series_push(t, &p);
		}
		/* Now 365 s, window from 305 s: 60 ticks at 60 %. */
		exact_pct = 60.0;
		w = win(t, VS_STEAL_WINDOW_1M);
		assert_int_equal(w->n, 60);
		assert_true(vs_steal_pct(w->steal_ns, w) < exact_pct);
		assert_true(vs_steal_pct(w->steal_ns, w) >= exact_pct * 50 / 60 - 1e-6);
		/* The 10 s window stays exact. */
		w = win(t, VS_STEAL_WINDOW_10S);
		assert_int_equal(w->n, 10);
		assert_float_equal(vs_steal_pct(w->steal_ns, w), 60.0, 1e-6);
	}

	/* An hour of 1 s ticks: the series stays small, the windows right. */
	{
		g_autoptr(VsStealSeries) t = vs_steal_series_new();

		for (int i = 1; i <= 3600; i++) {
			VsStealPoint p = point(i * SEC, 1000, 30.0);

			assert_true(vs_steal_series_push(t, &p));
		}
		/* (Bucket 352 of 359 waits for its group, 351 to 353.) */
		assert_int_equal(vs_steal_series_len(t), 20 + 7 + 7);
		assert_int_equal(win(t, VS_STEAL_WINDOW_10S)->n, 10);
		assert_int_equal(win(t, VS_STEAL_WINDOW_1M)->n, 60);
		assert_int_equal(win(t, VS_STEAL_WINDOW_5M)->n, 300);
		assert_float_equal(vs_steal_pct(win(t, VS_STEAL_WINDOW_5M)->steal_ns,
						win(t, VS_STEAL_WINDOW_5M)),
				   30.0, 1e-6);
		/* A gap of more than 5 min: every window holds only the next
		 * interval, which spans it. */
		{
			VsStealPoint p = point(4000 * SEC, 400000, 10.0);

			assert_true(vs_steal_series_push(t, &p));
		}
		for (guint k = 0; k < VS_STEAL_N_WINDOWS; k++) {
			w = win(t, k);
			assert_int_equal(w->n, 1);
			assert_float_equal(vs_steal_pct(w->steal_ns, w), 10.0, 1e-6);
		}
		assert_int_equal(vs_steal_series_len(t), 1);
	}
}

/* The 10 s and 1 min windows as a plain list of every interval would give
 * them: the 10 s window exactly, the 1 min window with the 10 s bucket its
 * start falls in pro rata (doc/steal.md "Windows"). */
static VsStealPoint reference_window(const GArray *all, VsStealWindow w)
{
	const int64_t bucket = 10 * SEC;
	const VsStealPoint *last = &g_array_index(all, VsStealPoint, all->len - 1);
	int64_t cutoff = last->end_us - vs_steal_window_us(w);
	int64_t edge = cutoff >= 1 ? (cutoff - 1) / bucket : -1;
	double frac = (double)((edge + 1) * bucket - cutoff) / (double)bucket;
	VsStealPoint sum = { 0 }, part = { 0 };

	for (guint i = 0; i < all->len; i++) {
		const VsStealPoint *p = &g_array_index(all, VsStealPoint, i);
		int64_t k = (p->end_us - 1) / bucket;

		if (w == VS_STEAL_WINDOW_10S ? p->end_us > cutoff : k > edge)
			vs_steal_point_add(&sum, p, false);
		else if (w != VS_STEAL_WINDOW_10S && k == edge && k > (last->end_us - 1) / bucket - 32)
			vs_steal_point_add(&part, p, false);
	}
	sum.steal_ns += (uint64_t)((double)part.steal_ns * frac + 0.5);
	sum.wall_ns += (uint64_t)((double)part.wall_ns * frac + 0.5);
	return sum;
}

/* The 5 min window's exact sum over the plain list (the intervals that
 * ended within 300 s of the newest), and into *@ret_edge the sum of the
 * aligned 30 s group its start falls in: the window taken from the series
 * may differ from the exact one by no more than that group. */
static VsStealPoint exact_5m(const GArray *all, VsStealPoint *ret_edge)
{
	const int64_t group = 30 * SEC;
	const VsStealPoint *last = &g_array_index(all, VsStealPoint, all->len - 1);
	int64_t cutoff = last->end_us - 300 * SEC;
	int64_t edge = cutoff >= 1 ? (cutoff - 1) / group : -1;
	VsStealPoint sum = { 0 }, part = { 0 };

	for (guint i = 0; i < all->len; i++) {
		const VsStealPoint *p = &g_array_index(all, VsStealPoint, i);

		if (p->end_us > cutoff)
			vs_steal_point_add(&sum, p, false);
		if ((p->end_us - 1) / group == edge)
			vs_steal_point_add(&part, p, false);
	}
	*ret_edge = part;
	return sum;
}

/* The compact storage against the plain list: ticks that change length
 * (1 s, 700 ms, 60 s, 10 ms) and cross bucket boundaries, the rings
 * growing, wrapping and shrinking; the 10 s window stays exact to the ns,
 * the others to a few ns per bucket. */
static void test_ring_wrap(void **state)
{
	g_autoptr(VsStealSeries) s = vs_steal_series_new();
	g_autoptr(GArray) all = g_array_new(FALSE, FALSE, sizeof(VsStealPoint));
	int64_t t = 0, step;
	size_t peak = 0;

	for (int i = 0; i < 4000; i++) {
		step = i < 1000 ? SEC : i < 2000 ? 700 * MS + 3 : i < 2100 ? 60 * SEC : 10 * MS;
		/* An odd steal share per tick, not a multiple of anything. */
		VsStealPoint p = point(t + step, (uint64_t)step / MS, (double)((i * 37) % 91));

		p.span_ns = p.wall_ns = (uint64_t)step * 1000 + (uint64_t)(i % 7);
		p.run_ns = p.wall_ns - p.steal_ns;
		t += step;
		assert_true(vs_steal_series_push(s, &p));
		g_array_append_val(all, p);
		if (i % 97 != 0 && i != 3999)
			continue;
		for (guint k = 0; k < VS_STEAL_N_WINDOWS; k++) {
			VsStealPoint ref = reference_window(all, k);
			VsStealPoint got = vs_steal_series_window(s, k);

			assert_int_equal(got.end_us, t);
			/* Exact while the window holds no 60 s interval. */
			if (k == VS_STEAL_WINDOW_10S && (i < 2000 || i >= 2100 + 1000)) {
				assert_int_equal(got.n, ref.n);
				assert_int_equal(got.wall_ns, ref.wall_ns);
				assert_int_equal(got.steal_ns, ref.steal_ns);
				assert_int_equal(got.contention_ns, ref.steal_ns);
			} else if (k == VS_STEAL_WINDOW_10S) {
				/* A 60 s interval is kept in units of 16 ns. */
				assert_true(step > 0);
				assert_int_equal(got.n, ref.n);
				assert_true(got.wall_ns + 8 >= ref.wall_ns && got.wall_ns <= ref.wall_ns + 8);
			} else if (k == VS_STEAL_WINDOW_1M) {
				/* 10 s buckets where the 1 min window starts. */
				assert_true(got.wall_ns + 200 >= ref.wall_ns &&
					    got.wall_ns <= ref.wall_ns + 200);
				assert_true(got.steal_ns + 200 >= ref.steal_ns &&
					    got.steal_ns <= ref.steal_ns + 200);
			} else {
				VsStealPoint edge, exact = exact_5m(all, &edge);

				assert_true(got.wall_ns + edge.wall_ns + 200 >= exact.wall_ns &&
					    got.wall_ns <= exact.wall_ns + edge.wall_ns + 200);
				assert_true(got.steal_ns + edge.steal_ns + 200 >= exact.steal_ns &&
					    got.steal_ns <= exact.steal_ns + edge.steal_ns + 200);
			}
		}
		peak = MAX(peak, vs_steal_series_bytes(s));
	}
	/* 10 ms ticks: 20 s of points (2000) at most; the 60 s ticks before
	 * left few buckets, the 1 s ones no more than 31. */
	assert_true(vs_steal_series_len(s) <= 2000 + 31);
	assert_true(peak <= 4096 * 64 + 1024);
	/* Back to 1 s ticks for 5 min: the rings shrink again. */
	for (int i = 0; i < 300; i++) {
		VsStealPoint p = point(t + SEC, 1000, 10.0);

		t += SEC;
		assert_true(vs_steal_series_push(s, &p));
	}
	/* (Not aligned to the buckets any more: 5 to 7 buckets of 10 s, 7
	 * or 8 groups of 30 s.) */
	assert_in_range(vs_steal_series_len(s), 20 + 5 + 7 - 1, 20 + 7 + 8 + 1);
	assert_true(vs_steal_series_bytes(s) <= 4 * 1024);
}

/* Times that do not fit 32 bits of ns (a long interval, a guest of many
 * vCPUs) are kept in a coarser unit, within a few ns of what was pushed;
 * a short one is exact. */
static void test_packing(void **state)
{
	g_autoptr(VsStealSeries) s = vs_steal_series_new();
	VsStealPoint big = { .end_us = 300 * SEC, .span_ns = 299 * NS_SEC + 123,
			     .wall_ns = 64 * (299 * NS_SEC + 123), .run_ns = 17 * NS_SEC + 1,
			     .steal_ns = 5 * NS_SEC + 7, .cap_ns = 2 * NS_SEC + 3,
			     .reservation_ns = 1, .contention_ns = 3 * NS_SEC + 3, .n = 64,
			     .clamped = 70000 };
	VsStealPoint small, got;
	/* The largest time, 64 × 299 s in ns, needs 45 bits: all of this
	 * point's times are kept in units of 2^13 ns. */
	uint64_t unit = UINT64_C(1) << 13;

	/* Compared as memory below: no stray padding bytes. */
	memset(&small, 0, sizeof(small));
	small.end_us = 301 * SEC;
	small.span_ns = small.wall_ns = NS_SEC + 1;
	small.run_ns = 3;
	small.steal_ns = 5;
	small.cap_ns = small.reservation_ns = 1;
	small.contention_ns = 3;
	small.n = 1;
	assert_true(vs_steal_series_push(s, &big));
	assert_true(vs_steal_series_push(s, &small));
	memset(&got, 0, sizeof(got));
	assert_true(vs_steal_series_nth_newest(s, 0, &got));
	assert_memory_equal(&got, &small, sizeof(got));
	assert_true(vs_steal_series_nth_newest(s, 1, &got));
	assert_int_equal(got.end_us, big.end_us);
	assert_in_range(got.wall_ns, big.wall_ns - unit, big.wall_ns + unit);
	assert_in_range(got.span_ns, big.span_ns - unit, big.span_ns + unit);
	assert_in_range(got.steal_ns, big.steal_ns - unit, big.steal_ns + unit);
	assert_in_range(got.contention_ns, big.contention_ns - 3 * unit,
			big.contention_ns + 3 * unit);
	assert_int_equal(got.n, 64);
	/* The clamped count of a bucket saturates. */
	assert_int_equal(got.clamped, 65535);
	assert_false(vs_steal_series_nth_newest(s, 2, &got));
}

/* How long a guest keeps per-tick points: a longer fine part keeps them
 * (conditions walk them), a shorter one lets them go at the next push
 * and gives the memory back. */
static void test_fine_part(void **state)
{
	g_autoptr(VsStealSeries) s = vs_steal_series_new_fine(120 * SEC);
	size_t big;

	for (int i = 1; i <= 400; i++) {
		VsStealPoint p = point(i * SEC, 1000, 10.0);

		assert_true(vs_steal_series_push(s, &p));
	}
	/* 120 s of points (281 to 400 s), then the bucket before them, then
	 * one per 30 s group back to 5 min: no group reaches into the
	 * points. */
	assert_int_equal(vs_steal_series_len(s), 120 + 1 + 6);
	big = vs_steal_series_bytes(s);
	vs_steal_series_set_fine(s, 0);
	{
		VsStealPoint p = point(401 * SEC, 1000, 10.0);

		assert_true(vs_steal_series_push(s, &p));
	}
	/* The points left; the buckets from 271 s on are merged into groups
	 * only from the next bucket on. */
	assert_int_equal(vs_steal_series_len(s), 11 + 12 + 6);
	assert_true(vs_steal_series_bytes(s) * 2 < big);
}

/* The longest condition a guest's policy uses: Alert=, and the hotplug
 * conditions only when hotplug is on. */
static void test_condition_longest(void **state)
{
	static const struct {
		const char *text;
		int64_t longest, shortest;
	} cases[] = {
		{ "", 0, -1 },
		{ "[Steal]\nAlert=steal>20% for 45s\n", 45 * SEC, 45 * SEC },
		/* Hotplug off: its default conditions (up to 120 s) do not count. */
		{ "[Hotplug]\nEnable=no\n[Steal]\nAlert=steal>20% for 45s\n", 45 * SEC, 45 * SEC },
		{ "[Hotplug]\nEnable=yes\n", 120 * SEC, 30 * SEC },
		{ "[Hotplug]\nEnable=yes\nScaleDown=cpu<10% for 5s\n[Steal]\nAlert=cpu>1% for 2s\n",
		  30 * SEC, 2 * SEC },
		{ "[Steal]\nAlert=steal>20%\n", 0, 0 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GPtrArray) diags = vs_policy_diags_new();
		g_autoptr(VsPolicySet) set = g_new0(VsPolicySet, 1);
		g_autoptr(VsOverrides) none = vs_overrides_new();
		g_autoptr(VsEffectivePolicy) eff = NULL;
		VsPolicyFile *f = vs_policy_file_parse("t.policy", cases[i].text, diags);

		assert_non_null(f);
		assert_int_equal(vs_policy_diags_errors(diags), 0);
		set->files = g_ptr_array_new_with_free_func((GDestroyNotify)vs_policy_file_free);
		g_ptr_array_add(set->files, f);
		eff = vs_policy_effective(set, none, "g", "00000000-0000-0000-0000-000000000001",
					  NULL, 0);
		assert_int_equal(vs_condition_longest(eff), cases[i].longest);
		assert_int_equal(vs_condition_shortest(eff), cases[i].shortest);
	}
}

/* Intervals of several ticks (the collector's sampling: doc/steal.md
 * "Sampling"): 3 s intervals at a steady 12 % steal. Every window gives
 * 12 %; the 10 s window holds the intervals that ended in it (12 s of
 * them), the 1 and 5 min windows their buckets pro rata (within one
 * interval of their length); a condition sees contiguous intervals and
 * holds once they cover its duration, and not across a missed reading. */
static void test_multi_tick_intervals(void **state)
{
	g_autoptr(VsStealSeries) s = vs_steal_series_new_fine(60 * SEC);
	VsCondition c = { .metric = VS_METRIC_STEAL, .cmp = VS_CMP_GT, .threshold = 10.0,
			  .for_us = 20 * SEC };
	const VsStealPoint *w;
	VsStealPoint p;

	for (int i = 1; i <= 6; i++) {
		p = point(i * 3 * SEC, 3000, 12.0);
		assert_true(vs_steal_series_push(s, &p));
	}
	/* 18 s covered: not 20 s yet. */
	assert_false(vs_condition_holds(&c, s));
	p = point(21 * SEC, 3000, 12.0);
	assert_true(vs_steal_series_push(s, &p));
	assert_true(vs_condition_holds(&c, s));
	for (int i = 8; i <= 200; i++) {
		p = point(i * 3 * SEC, 3000, 12.0);
		assert_true(vs_steal_series_push(s, &p));
	}
	w = win(s, VS_STEAL_WINDOW_10S);
	assert_int_equal(w->n, 4);
	assert_int_equal(w->span_ns, 12 * NS_SEC);
	for (guint k = 0; k < VS_STEAL_N_WINDOWS; k++) {
		uint64_t want = (uint64_t)vs_steal_window_us(k) * 1000;

		w = win(s, k);
		assert_float_equal(vs_steal_pct(w->steal_ns, w), 12.0, 1e-6);
		assert_true(w->span_ns + 3 * NS_SEC >= want && w->span_ns <= want + 3 * NS_SEC);
	}
	/* A reading missed: the next interval spans 6 s and the series stays
	 * contiguous; a gap (no interval for 3 s) breaks the condition. */
	p = point(606 * SEC, 6000, 12.0);
	assert_true(vs_steal_series_push(s, &p));
	assert_true(vs_condition_holds(&c, s));
	p = point(612 * SEC, 3000, 12.0);
	assert_true(vs_steal_series_push(s, &p));
	assert_false(vs_condition_holds(&c, s));
}

static void test_window_names(void **state)
{
	VsStealWindow w;

	assert_true(vs_steal_window_parse("10s", &w));
	assert_int_equal(w, VS_STEAL_WINDOW_10S);
	assert_true(vs_steal_window_parse("1min", &w));
	assert_int_equal(w, VS_STEAL_WINDOW_1M);
	assert_true(vs_steal_window_parse("300s", &w));
	assert_int_equal(w, VS_STEAL_WINDOW_5M);
	assert_false(vs_steal_window_parse("2m", &w));
	assert_string_equal(vs_steal_window_name(VS_STEAL_WINDOW_1M), "1m");
	assert_int_equal(vs_steal_window_us(VS_STEAL_WINDOW_5M), 300 * SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_and_delta),
		cmocka_unit_test(test_clamp),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_reservation),
		cmocka_unit_test(test_entitlement),
		cmocka_unit_test(test_libvirt_check),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_series_limit),
		cmocka_unit_test(test_window_buckets),
		cmocka_unit_test(test_ring_wrap),
		cmocka_unit_test(test_packing),
		cmocka_unit_test(test_fine_part),
		cmocka_unit_test(test_condition_longest),
		cmocka_unit_test(test_guest_sum),
		cmocka_unit_test(test_condition),
		cmocka_unit_test(test_window_names),
		cmocka_unit_test(test_multi_tick_intervals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
