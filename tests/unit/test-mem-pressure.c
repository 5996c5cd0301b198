/* Unit tests of the host memory state machine (src/mem/pressure.c) with the
 * default thresholds of vschedd.conf: entry by MemAvailable, PSI some/full,
 * trigger events, swap use and the budget; immediate escalation over
 * several states; hysteresis (the exit lines) and the minimum dwell on the
 * way down, one state at a time; and the sample taken from the host model. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "daemon/conf.h"
#include "mem/pressure.h"

#define GiB (UINT64_C(1) << 30)
#define SEC (INT64_C(1000000))

static VsConf *conf;

static int setup(void **state)
{
	conf = vs_conf_new_default();
	return 0;
}

static int teardown(void **state)
{
	vs_conf_free(conf);
	return 0;
}

/* A 100 GiB host with @avail_gib available at @t seconds, PSI idle. */
static VsMemSample sample(int64_t t, double avail_gib)
{
	return (VsMemSample){ .mono_us = t * SEC, .mem_total = 100 * GiB,
			      .mem_available = (uint64_t)(avail_gib * (double)GiB),
			      .psi_available = true };
}

static VsMemState classify(const VsMemSample *s)
{
	char why[256];

	return vs_mem_pressure_classify(&conf->mem, s, why, sizeof(why));
}

static void test_classify(void **state)
{
	VsMemSample s = sample(1, 50);
	char why[256];

	assert_int_equal(vs_mem_pressure_classify(&conf->mem, &s, why, sizeof(why)), VS_MEM_NORMAL);
	assert_string_equal(why, "no pressure");
	s = sample(1, 19.9);
	assert_int_equal(vs_mem_pressure_classify(&conf->mem, &s, why, sizeof(why)), VS_MEM_SOFT);
	assert_non_null(strstr(why, "under the soft line 20%"));
	s = sample(1, 9);
	assert_int_equal(classify(&s), VS_MEM_HARD);
	s = sample(1, 4);
	assert_int_equal(classify(&s), VS_MEM_CRITICAL);

	s = sample(1, 50);
	s.some_avg10 = 5;
	assert_int_equal(classify(&s), VS_MEM_SOFT);
	s.some_avg10 = 25;
	assert_int_equal(classify(&s), VS_MEM_HARD);
	s.full_avg10 = 12;
	assert_int_equal(vs_mem_pressure_classify(&conf->mem, &s, why, sizeof(why)), VS_MEM_CRITICAL);
	assert_non_null(strstr(why, "full avg10 12.0%"));
	/* PSI figures are ignored when PSI is not available. */
	s.psi_available = false;
	assert_int_equal(classify(&s), VS_MEM_NORMAL);

	s = sample(1, 50);
	s.some_events = 1;
	assert_int_equal(classify(&s), VS_MEM_SOFT);
	s.full_events = 2;
	assert_int_equal(vs_mem_pressure_classify(&conf->mem, &s, why, sizeof(why)), VS_MEM_HARD);
	assert_non_null(strstr(why, "2 PSI full trigger event(s)"));

	s = sample(1, 50);
	s.swap_total = 8 * GiB;
	s.swap_free = 4 * GiB;
	assert_int_equal(classify(&s), VS_MEM_SOFT);
	s.swap_free = 5 * GiB;
	assert_int_equal(classify(&s), VS_MEM_NORMAL);

	s = sample(1, 50);
	s.budget = 3 * GiB;
	s.guests_current = 3 * GiB;
	assert_int_equal(classify(&s), VS_MEM_NORMAL);
	s.guests_current = 3 * GiB + 1;
	assert_int_equal(vs_mem_pressure_classify(&conf->mem, &s, why, sizeof(why)), VS_MEM_SOFT);
	assert_non_null(strstr(why, "over the budget"));
}

static void test_hysteresis_and_dwell(void **state)
{
	VsMemPressure p;
	VsMemSample s;

	vs_mem_pressure_init(&p);
	s = sample(1, 50);
	assert_false(vs_mem_pressure_update(&p, &conf->mem, &s));
	assert_int_equal(p.state, VS_MEM_NORMAL);

	/* Straight to critical. */
	s = sample(2, 4);
	assert_true(vs_mem_pressure_update(&p, &conf->mem, &s));
	assert_int_equal(p.state, VS_MEM_CRITICAL);
	assert_non_null(strstr(p.reason, "normal -> critical"));

	/* Above the critical line (5%) but not past its exit line (10%). */
	s = sample(30, 8);
	assert_false(vs_mem_pressure_update(&p, &conf->mem, &s));
	assert_int_equal(p.state, VS_MEM_CRITICAL);
	assert_int_equal(p.wanted, VS_MEM_HARD);
	assert_non_null(strstr(p.reason, "not past the exit line"));

	/* Plenty again: down one state at a time, each after MemoryMinDwell=10s. */
	s = sample(40, 60);
	assert_true(vs_mem_pressure_update(&p, &conf->mem, &s));
	assert_int_equal(p.state, VS_MEM_HARD); /* one step at a time */
	s = sample(45, 60);
	assert_false(vs_mem_pressure_update(&p, &conf->mem, &s));
	assert_int_equal(p.state, VS_MEM_HARD);
	assert_non_null(strstr(p.reason, "MemoryMinDwell"));
	s = sample(50, 60);
	assert_true(vs_mem_pressure_update(&p, &conf->mem, &s));
	assert_int_equal(p.state, VS_MEM_SOFT);
	s = sample(60, 60);
	assert_true(vs_mem_pressure_update(&p, &conf->mem, &s));
	assert_int_equal(p.state, VS_MEM_NORMAL);
	assert_non_null(strstr(p.reason, "soft -> normal"));

	/* Soft at 19%; 22% is above the entry line but under the exit line
	 * (25%): no flapping. */
	s = sample(100, 19);
	assert_true(vs_mem_pressure_update(&p, &conf->mem, &s));
	assert_int_equal(p.state, VS_MEM_SOFT);
	s = sample(200, 22);
	assert_false(vs_mem_pressure_update(&p, &conf->mem, &s));
	assert_int_equal(p.state, VS_MEM_SOFT);
	s = sample(201, 26);
	assert_true(vs_mem_pressure_update(&p, &conf->mem, &s));
	assert_int_equal(p.state, VS_MEM_NORMAL);

	/* PSI: soft at 5%, held until under 2.5%. */
	s = sample(300, 60);
	s.some_avg10 = 6;
	assert_true(vs_mem_pressure_update(&p, &conf->mem, &s));
	s = sample(400, 60);
	s.some_avg10 = 3;
	assert_false(vs_mem_pressure_update(&p, &conf->mem, &s));
	assert_int_equal(p.state, VS_MEM_SOFT);
	s.some_avg10 = 2;
	assert_true(vs_mem_pressure_update(&p, &conf->mem, &s));
	assert_int_equal(p.state, VS_MEM_NORMAL);
}

static void test_from_host(void **state)
{
	VsHost host = { 0 };
	VsMemSample s;

	host.mem.total = 8 * GiB;
	host.mem.available = 2 * GiB;
	host.mem.swap_total = GiB;
	host.mem.swap_free = GiB / 2;
	host.psi_memory.available = true;
	host.psi_memory.some.avg10 = 1.5;
	host.psi_memory.has_full = false;
	host.psi_memory.full.avg10 = 99; /* not a real line: ignored */
	vs_mem_pressure_sample_from_host(&host, 7 * SEC, &s);
	assert_int_equal(s.mono_us, 7 * SEC);
	assert_int_equal(s.mem_total, 8 * GiB);
	assert_int_equal(s.mem_available, 2 * GiB);
	assert_int_equal(s.swap_free, GiB / 2);
	assert_true(s.psi_available);
	assert_true(s.some_avg10 == 1.5);
	assert_true(s.full_avg10 == 0);
	assert_int_equal(s.some_events, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_hysteresis_and_dwell),
		cmocka_unit_test(test_from_host),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
