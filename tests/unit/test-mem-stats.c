/* Unit tests of the guest statistics sanitizer (src/mem/stats-sanitize.c)
 * with honest and hostile numbers: freshness by last-update (first sample
 * by age, later by advancing), the guest's clock ahead, wrapped negatives,
 * a MemTotal above the maximum, MemAvailable or MemFree above MemTotal,
 * counters going backwards, missing figures, a report lagging a balloon
 * change, and the last trusted use carried across untrusted samples. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "mem/stats-sanitize.h"

#define MiB (UINT64_C(1) << 20)
#define SEC (INT64_C(1000000))
#define WALL INT64_C(1800000000)
#define PERIOD (1 * SEC)

/* An honest 512 MiB guest: MemTotal 490 MiB, 300 MiB available, 200 MiB free. */
static VsBalloonStats honest(int64_t last_update)
{
	return (VsBalloonStats){
		.have = VS_BALLOON_CURRENT | VS_BALLOON_MAXIMUM | VS_BALLOON_SWAP_IN |
			VS_BALLOON_MAJOR_FAULT | VS_BALLOON_UNUSED | VS_BALLOON_AVAILABLE |
			VS_BALLOON_USABLE | VS_BALLOON_LAST_UPDATE | VS_BALLOON_DISK_CACHES,
		.current = 512 * MiB, .maximum = 512 * MiB,
		.swap_in = 0, .major_fault = 100,
		.available = 490 * MiB, .usable = 300 * MiB, .unused = 200 * MiB,
		.disk_caches = 80 * MiB, .last_update = last_update,
	};
}

static VsMemStats run(const VsBalloonStats *raw, const VsMemStats *prev, int64_t mono, int64_t wall)
{
	VsMemStats s;

	vs_mem_stats_sanitize(raw, 512 * MiB, 512 * MiB, prev, mono, wall, PERIOD, &s);
	return s;
}

static void test_honest(void **state)
{
	VsBalloonStats raw = honest(WALL);
	VsMemStats s = run(&raw, NULL, 10 * SEC, WALL);

	assert_true(s.trusted);
	assert_int_equal(s.flags, 0);
	assert_string_equal(s.problem, "");
	assert_int_equal(s.used, 212 * MiB); /* 512 - 300 */
	assert_int_equal(s.usable, 300 * MiB);
	assert_true(s.have_last_used);
	assert_int_equal(s.last_used, 212 * MiB);
	assert_false(s.have_deltas);
	assert_true(s.have_counters);
}

static void test_deltas_and_reset(void **state)
{
	VsBalloonStats raw = honest(WALL);
	VsMemStats a = run(&raw, NULL, 10 * SEC, WALL), b, c;

	raw.last_update = WALL + 1;
	raw.major_fault = 400;
	raw.swap_in = 4 * MiB;
	b = run(&raw, &a, 11 * SEC, WALL + 1);
	assert_true(b.have_deltas);
	assert_int_equal(b.major_faults_delta, 300);
	assert_int_equal(b.swap_in_delta, 4 * MiB);
	/* Backwards: a reboot or garbage, no delta, still trusted. */
	raw.last_update = WALL + 2;
	raw.major_fault = 5;
	c = run(&raw, &b, 12 * SEC, WALL + 2);
	assert_false(c.have_deltas);
	assert_true(c.flags & VS_MEM_STATS_COUNTER_RESET);
	assert_true(c.trusted);
	assert_non_null(strstr(c.problem, "backwards"));
}

static void test_freshness(void **state)
{
	VsBalloonStats raw = honest(WALL - 10);
	VsMemStats a, b, c, d;

	/* First sample, 10 s old by the guest's clock: stale. */
	a = run(&raw, NULL, 10 * SEC, WALL);
	assert_false(a.trusted);
	assert_true(a.flags & VS_MEM_STATS_STALE);
	/* It advances (a skewed but live guest clock): fresh. */
	raw.last_update = WALL - 9;
	b = run(&raw, &a, 11 * SEC, WALL + 1);
	assert_true(b.trusted);
	/* Standing still: fine for 3 periods, then stale. */
	c = run(&raw, &b, 13 * SEC, WALL + 3);
	assert_true(c.trusted);
	d = run(&raw, &c, 14 * SEC + 1, WALL + 4);
	assert_false(d.trusted);
	assert_true(d.flags & VS_MEM_STATS_STALE);
	assert_non_null(strstr(d.problem, "not been updated"));
	/* Untrusted keeps the last trusted use. */
	assert_true(d.have_last_used);
	assert_int_equal(d.last_used, 212 * MiB);
	/* No last-update at all: freshness unknown, untrusted. */
	raw.have &= ~(guint)VS_BALLOON_LAST_UPDATE;
	d = run(&raw, NULL, 10 * SEC, WALL);
	assert_false(d.trusted);
	assert_true(d.flags & VS_MEM_STATS_STALE);
}

static void test_clock_ahead(void **state)
{
	VsBalloonStats raw = honest(WALL + 3600);
	VsMemStats s = run(&raw, NULL, 10 * SEC, WALL);

	assert_true(s.flags & VS_MEM_STATS_CLOCK_AHEAD);
	assert_true(s.trusted);
}

static void test_hostile(void **state)
{
	struct {
		const char *what;
		VsBalloonField field;
		uint64_t value;
		const char *problem;
	} cases[] = {
		{ "wrapped usable", VS_BALLOON_USABLE, UINT64_MAX - 4095, "wrapped" },
		{ "wrapped unused", VS_BALLOON_UNUSED, UINT64_C(1) << 63, "wrapped" },
		{ "wrapped counter", VS_BALLOON_MAJOR_FAULT, UINT64_MAX, "wrapped" },
		{ "total above maximum", VS_BALLOON_AVAILABLE, 64 * 1024 * MiB, "more than its maximum" },
		{ "usable above total", VS_BALLOON_USABLE, 500 * MiB, "available of" },
		{ "unused above total", VS_BALLOON_UNUSED, 495 * MiB, "free of" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		VsBalloonStats raw = honest(WALL);
		VsMemStats s;

		switch (cases[i].field) {
		case VS_BALLOON_USABLE: raw.usable = cases[i].value; break;
		case VS_BALLOON_UNUSED: raw.unused = cases[i].value; break;
		case VS_BALLOON_MAJOR_FAULT: raw.major_fault = cases[i].value; break;
		case VS_BALLOON_AVAILABLE: raw.available = cases[i].value; break;
		default: fail();
		}
		s = run(&raw, NULL, 10 * SEC, WALL);
		if (s.trusted || !(s.flags & VS_MEM_STATS_IMPOSSIBLE) ||
		    !strstr(s.problem, cases[i].problem))
			fail_msg("%s: trusted=%d flags=%#x problem=\"%s\"", cases[i].what, s.trusted,
				 s.flags, s.problem);
	}
}

static void test_missing(void **state)
{
	VsBalloonStats raw = { .have = VS_BALLOON_CURRENT | VS_BALLOON_MAXIMUM,
			       .current = 512 * MiB, .maximum = 512 * MiB };
	VsMemStats s = run(&raw, NULL, 10 * SEC, WALL);

	assert_false(s.trusted);
	assert_true(s.flags & VS_MEM_STATS_MISSING);
	s = run(NULL, NULL, 10 * SEC, WALL);
	assert_false(s.trusted);
	assert_true(s.flags & VS_MEM_STATS_MISSING);
	assert_false(s.have_last_used);
}

static void test_estimated(void **state)
{
	VsBalloonStats raw = honest(WALL);
	VsMemStats s;

	raw.have &= ~(guint)VS_BALLOON_USABLE;
	s = run(&raw, NULL, 10 * SEC, WALL);
	assert_true(s.trusted);
	assert_true(s.flags & VS_MEM_STATS_ESTIMATED);
	assert_int_equal(s.used, 232 * MiB); /* 512 - (200 + 80) */
}

static void test_lagging_report(void **state)
{
	/* The balloon just went from 512 to 400 MiB; the report still says
	 * MemTotal 490 MiB with 300 available: the guest's own use (190 MiB)
	 * counts, not 400 - 300. */
	VsBalloonStats raw = honest(WALL);
	VsMemStats s;

	vs_mem_stats_sanitize(&raw, 400 * MiB, 512 * MiB, NULL, 10 * SEC, WALL, PERIOD, &s);
	assert_true(s.trusted);
	assert_true(s.flags & VS_MEM_STATS_CLAMPED);
	assert_int_equal(s.used, 190 * MiB);
	assert_int_equal(s.current, 400 * MiB);
}

static void test_domain_sizes(void **state)
{
	VsBalloonStats raw = honest(WALL);
	VsMemStats s;

	/* A balloon above the maximum is clamped to it. */
	vs_mem_stats_sanitize(&raw, 600 * MiB, 512 * MiB, NULL, 10 * SEC, WALL, PERIOD, &s);
	assert_int_equal(s.current, 512 * MiB);
	assert_true(s.flags & VS_MEM_STATS_CLAMPED);
	/* No maximum: untrusted. */
	vs_mem_stats_sanitize(&raw, 512 * MiB, 0, NULL, 10 * SEC, WALL, PERIOD, &s);
	assert_false(s.trusted);
	assert_true(s.flags & VS_MEM_STATS_IMPOSSIBLE);
	assert_true(s.current <= s.maximum);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_honest),
		cmocka_unit_test(test_deltas_and_reset),
		cmocka_unit_test(test_freshness),
		cmocka_unit_test(test_clock_ahead),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_estimated),
		cmocka_unit_test(test_lagging_report),
		cmocka_unit_test(test_domain_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
