/* The guest's view of its steal (src/steal/guest.c): the agent's
 * guest-get-cpustats reply parsed and rejected with the place named,
 * intervals between replies with resets and clamping of untrusted figures,
 * the host's steal over the same time, windows, and the verdict rule
 * (agree / no steal clock / mismatch). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "steal/guest.h"

#include <errno.h>
#include <string.h>

#define S_US INT64_C(1000000)
#define S_NS UINT64_C(1000000000)
#define MS_NS UINT64_C(1000000)

/* A reply with two CPUs, listed out of order, with steal @steal0 / @steal1
 * ms and 1000 ms in each other state. */
static char *reply2(uint64_t steal0, uint64_t steal1)
{
	return g_strdup_printf(
		"{\"return\": ["
		"{\"type\": \"linux\", \"cpu\": 1, \"user\": 1000, \"nice\": 0, \"system\": 1000,"
		" \"idle\": 1000, \"iowait\": 0, \"irq\": 0, \"softirq\": 0, \"steal\": %" G_GUINT64_FORMAT
		", \"guest\": 0, \"guestnice\": 0},"
		"{\"type\": \"linux\", \"cpu\": 0, \"user\": 1000, \"nice\": 0, \"system\": 1000,"
		" \"idle\": 1000, \"steal\": %" G_GUINT64_FORMAT "}]}",
		steal1, steal0);
}

static VsStealGuestSample *sample(int64_t mono_us, uint64_t steal0, uint64_t steal1)
{
	g_autofree char *text = reply2(steal0, steal1);
	g_autoptr(GError) error = NULL;
	VsStealGuestSample *s = NULL;

	if (vs_steal_guest_parse(text, mono_us, &s, &error) < 0)
		fail_msg("parse: %s", error->message);
	return s;
}

static void test_parse(void **state)
{
	g_autoptr(VsStealGuestSample) s = sample(5, 70, 30);
	g_autoptr(VsStealGuestSample) old = NULL;
	g_autoptr(GError) error = NULL;
	const VsStealGuestCpu *c0, *c1;

	assert_int_equal(s->mono_us, 5);
	assert_int_equal(s->cpus->len, 2);
	c0 = &g_array_index(s->cpus, VsStealGuestCpu, 0);
	c1 = &g_array_index(s->cpus, VsStealGuestCpu, 1);
	assert_int_equal(c0->cpu, 0);
	assert_true(c0->has_steal);
	assert_int_equal(c0->steal_ms, 70);
	assert_int_equal(c0->total_ms, 3070);
	assert_int_equal(c1->cpu, 1);
	assert_int_equal(c1->steal_ms, 30);
	assert_int_equal(c1->total_ms, 3030);

	/* QEMU 7.1's variant name; a kernel without a steal column. */
	assert_int_equal(vs_steal_guest_parse("{\"return\": [{\"type\": \"linuxos\", \"cpu\": 0, "
					      "\"user\": 5, \"nice\": 0, \"system\": 1, "
					      "\"idle\": 4}]}",
					      1, &old, &error),
			 0);
	assert_false(g_array_index(old->cpus, VsStealGuestCpu, 0).has_steal);
	assert_int_equal(g_array_index(old->cpus, VsStealGuestCpu, 0).total_ms, 10);
}

static void assert_rejected(const char *reply, int want, const char *message_part)
{
	g_autoptr(GError) error = NULL;
	VsStealGuestSample *s = (VsStealGuestSample *)0x1;

	assert_int_equal(vs_steal_guest_parse(reply, 1, &s, &error), want);
	assert_ptr_equal(s, (VsStealGuestSample *)0x1);
	assert_non_null(error);
	if (!strstr(error->message, message_part))
		fail_msg("\"%s\" lacks \"%s\"", error->message, message_part);
}

static void test_parse_errors(void **state)
{
	assert_rejected(NULL, -EINVAL, "no reply");
	assert_rejected("{\"return\": [", -EINVAL, "not JSON");
	assert_rejected("[1]", -EINVAL, "not a JSON object");
	assert_rejected("{\"error\": {\"class\": \"CommandNotFound\"}}", -EINVAL,
			"no \"return\" array");
	assert_rejected("{\"return\": []}", -EINVAL, "0 CPUs");
	assert_rejected("{\"return\": [3]}", -EINVAL, "entry 0 is not an object");
	assert_rejected("{\"return\": [{\"cpu\": 0}]}", -EINVAL, "entry 0: \"type\" is missing");
	assert_rejected("{\"return\": [{\"type\": \"windows\", \"cpu\": 0}]}", -ENOTSUP,
			"type \"windows\"");
	assert_rejected("{\"return\": [{\"type\": \"linux\", \"user\": 1}]}", -EINVAL,
			"entry 0: \"cpu\" is missing");
	assert_rejected("{\"return\": [{\"type\": \"linux\", \"cpu\": 99999, \"user\": 1}]}",
			-EINVAL, "\"cpu\" is out of range");
	assert_rejected("{\"return\": [{\"type\": \"linux\", \"cpu\": 0, \"user\": 1, \"nice\": 0,"
			" \"system\": 0, \"idle\": 0, \"steal\": -5}]}",
			-EINVAL, "entry 0 (CPU 0): \"steal\" is negative");
	assert_rejected("{\"return\": [{\"type\": \"linux\", \"cpu\": 0, \"user\": \"1\", "
			"\"nice\": 0, \"system\": 0, \"idle\": 0}]}",
			-EINVAL, "\"user\" is not an integer");
	assert_rejected("{\"return\": [{\"type\": \"linux\", \"cpu\": 0, \"user\": 1, \"nice\": 0,"
			" \"system\": 0}]}",
			-EINVAL, "\"idle\" is missing");
	assert_rejected("{\"return\": [{\"type\": \"linux\", \"cpu\": 0, \"user\": 1, \"nice\": 0,"
			" \"system\": 0, \"idle\": 9007199254740993}]}",
			-EINVAL, "\"idle\" is out of range");
	assert_rejected("{\"return\": [{\"type\": \"linux\", \"cpu\": 2, \"user\": 1, \"nice\": 0,"
			" \"system\": 0, \"idle\": 0}, {\"type\": \"linux\", \"cpu\": 2, \"user\": 1,"
			" \"nice\": 0, \"system\": 0, \"idle\": 0}]}",
			-EINVAL, "CPU 2 appears twice");
}

/* 5 s apart, CPU 0 stole 1000 ms, CPU 1 none: 1 s of 10 s, 10 %. */
static void test_delta(void **state)
{
	g_autoptr(VsStealGuestSample) a = sample(10 * S_US, 100, 40);
	g_autoptr(VsStealGuestSample) b = sample(15 * S_US, 1100, 40);
	VsStealGuestPoint p;

	assert_int_equal(vs_steal_guest_delta(a, b, &p), VS_STEAL_GUEST_DELTA);
	assert_int_equal(p.end_us, 15 * S_US);
	assert_int_equal(p.span_ns, 5000 * (uint64_t)MS_NS);
	assert_int_equal(p.guest_wall_ns, 10000 * (uint64_t)MS_NS);
	assert_int_equal(p.guest_steal_ns, 1000 * (uint64_t)MS_NS);
	assert_int_equal(p.flags, 0);
	assert_int_equal(p.n, 1);
	assert_float_equal(vs_steal_guest_pct(&p), 10.0, 1e-9);
}

/* A guest claiming more steal than wall time is clamped to the wall time
 * per CPU and flagged, however large the claim; a tick of rounding is
 * not flagged. */
static void test_clamp(void **state)
{
	g_autoptr(VsStealGuestSample) a = sample(10 * S_US, 0, 0);
	g_autoptr(VsStealGuestSample) b = sample(15 * S_US, 9000, 5010);
	g_autoptr(VsStealGuestSample) c = sample(20 * S_US, (UINT64_C(1) << 53), 5010);
	VsStealGuestPoint p;

	assert_int_equal(vs_steal_guest_delta(a, b, &p), VS_STEAL_GUEST_DELTA);
	assert_int_equal(p.guest_steal_ns, 10000 * (uint64_t)MS_NS);
	assert_true(p.flags & VS_STEAL_GUEST_CLAMPED);
	assert_int_equal(p.clamped, 1);
	assert_int_equal(vs_steal_guest_delta(b, c, &p), VS_STEAL_GUEST_DELTA);
	assert_int_equal(p.guest_steal_ns, 5000 * (uint64_t)MS_NS);
	assert_true(p.flags & VS_STEAL_GUEST_CLAMPED);
	assert_true(vs_steal_guest_pct(&p) <= 100.0);
}

static void test_resets(void **state)
{
	g_autoptr(VsStealGuestSample) a = sample(10 * S_US, 500, 500);
	g_autoptr(VsStealGuestSample) back = sample(15 * S_US, 499, 900);
	g_autoptr(VsStealGuestSample) late = sample(10 * S_US + VS_STEAL_MAX_GAP_US + 1, 600, 600);
	g_autoptr(VsStealGuestSample) same = sample(10 * S_US, 600, 600);
	g_autoptr(VsStealGuestSample) one = NULL;
	g_autoptr(GError) error = NULL;
	VsStealGuestPoint p = { .n = 77 };

	assert_int_equal(vs_steal_guest_delta(NULL, a, &p), VS_STEAL_GUEST_RESET_FIRST);
	assert_int_equal(vs_steal_guest_delta(a, back, &p), VS_STEAL_GUEST_RESET_BACK);
	assert_int_equal(vs_steal_guest_delta(a, late, &p), VS_STEAL_GUEST_RESET_GAP);
	assert_int_equal(vs_steal_guest_delta(a, same, &p), VS_STEAL_GUEST_IGNORED);
	assert_int_equal(vs_steal_guest_parse("{\"return\": [{\"type\": \"linux\", \"cpu\": 0, "
					      "\"user\": 9000, \"nice\": 0, \"system\": 0, "
					      "\"idle\": 0, \"steal\": 900}]}",
					      20 * S_US, &one, &error),
			 0);
	assert_int_equal(vs_steal_guest_delta(a, one, &p), VS_STEAL_GUEST_RESET_CPUS);
	/* No interval was written. */
	assert_int_equal(p.n, 77);
	assert_string_equal(vs_steal_guest_result_name(VS_STEAL_GUEST_RESET_BACK),
			    "a counter went back");
}

static VsStealPoint host_point(int64_t end_us, uint64_t wall_ns, uint64_t steal_ns)
{
	return (VsStealPoint){ .end_us = end_us, .span_ns = wall_ns / 2, .wall_ns = wall_ns,
			       .steal_ns = steal_ns, .contention_ns = steal_ns, .n = 1 };
}

/* The host's intervals ending in (start, end] of the guest's count. */
static void test_add_host(void **state)
{
	g_autoptr(VsStealSeries) host = vs_steal_series_new();
	VsStealGuestPoint p = { .end_us = 20 * S_US, .span_ns = 10 * S_NS };
	VsStealPoint h;

	h = host_point(9 * S_US, 2 * S_NS, 111);
	vs_steal_series_push(host, &h);
	h = host_point(10 * S_US, 2 * S_NS, 222); /* ends at the start: out */
	vs_steal_series_push(host, &h);
	h = host_point(15 * S_US, 10 * S_NS, 5 * S_NS);
	vs_steal_series_push(host, &h);
	h = host_point(20 * S_US, 10 * S_NS, 3 * S_NS);
	vs_steal_series_push(host, &h);
	h = host_point(21 * S_US, 2 * S_NS, 444); /* after the end: out */
	vs_steal_series_push(host, &h);
	vs_steal_guest_add_host(&p, host);
	assert_int_equal(p.host_wall_ns, 20 * S_NS);
	assert_int_equal(p.host_steal_ns, 8 * S_NS);
	assert_float_equal(vs_steal_guest_host_pct(&p), 40.0, 1e-9);
}

static VsStealGuestPoint both(double guest_pct, double host_pct)
{
	uint64_t wall = 10 * S_NS;

	return (VsStealGuestPoint){ .end_us = 1, .span_ns = wall, .guest_wall_ns = wall,
				    .guest_steal_ns = (uint64_t)(guest_pct / 100 * (double)wall),
				    .host_wall_ns = wall,
				    .host_steal_ns = (uint64_t)(host_pct / 100 * (double)wall),
				    .n = 1 };
}

static void test_verdict(void **state)
{
	VsStealGuestPoint p = { 0 };

	assert_int_equal(vs_steal_guest_verdict(&p, 5), VS_STEAL_GUEST_UNAVAILABLE);
	p = both(48, 50);
	assert_int_equal(vs_steal_guest_verdict(&p, 5), VS_STEAL_GUEST_AGREE);
	p = both(40, 50);
	assert_int_equal(vs_steal_guest_verdict(&p, 5), VS_STEAL_GUEST_MISMATCH);
	p = both(60, 50);
	assert_int_equal(vs_steal_guest_verdict(&p, 5), VS_STEAL_GUEST_MISMATCH);
	/* Exactly zero from the guest while the host saw 50 %: no steal
	 * clock, not a mismatch. */
	p = both(0, 50);
	assert_int_equal(vs_steal_guest_verdict(&p, 5), VS_STEAL_GUEST_NO_STEAL_CLOCK);
	assert_string_equal(vs_steal_guest_verdict_name(VS_STEAL_GUEST_NO_STEAL_CLOCK),
			    "no steal clock");
	/* Zero on both sides, or within the tolerance: agree. */
	p = both(0, 4);
	assert_int_equal(vs_steal_guest_verdict(&p, 5), VS_STEAL_GUEST_AGREE);
	/* A little guest steal is a real clock that disagrees. */
	p = both(1, 50);
	assert_int_equal(vs_steal_guest_verdict(&p, 5), VS_STEAL_GUEST_MISMATCH);
	/* No host figure over the time: unavailable. */
	p = both(10, 10);
	p.host_wall_ns = 0;
	assert_int_equal(vs_steal_guest_verdict(&p, 5), VS_STEAL_GUEST_UNAVAILABLE);
}

static void test_series(void **state)
{
	g_autoptr(VsStealGuestSeries) s = vs_steal_guest_series_new();
	VsStealGuestPoint p, w;

	w = vs_steal_guest_series_window(s, VS_STEAL_WINDOW_10S);
	assert_int_equal(w.n, 0);
	for (int i = 1; i <= 70; i++) {
		p = both(i == 70 ? 100 : 0, 0);
		p.end_us = i * 5 * S_US;
		p.span_ns = 5 * S_NS;
		p.guest_wall_ns = p.host_wall_ns = p.span_ns;
		p.guest_steal_ns = i == 70 ? p.span_ns : 0;
		p.host_steal_ns = 0;
		assert_true(vs_steal_guest_series_push(s, &p));
	}
	assert_false(vs_steal_guest_series_push(s, &p));
	/* 10 s: the intervals ending at 340 s and 345 s... and 350 s. */
	w = vs_steal_guest_series_window(s, VS_STEAL_WINDOW_10S);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.guest_steal_ns, 5 * S_NS);
	/* 5 min: 61 intervals (ends 50 s..350 s); older ones were dropped. */
	w = vs_steal_guest_series_window(s, VS_STEAL_WINDOW_5M);
	assert_int_equal(w.n, 61);
	assert_int_equal(w.span_ns, 61 * 5 * S_NS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_delta),
		cmocka_unit_test(test_clamp),
		cmocka_unit_test(test_resets),
		cmocka_unit_test(test_add_host),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_series),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
