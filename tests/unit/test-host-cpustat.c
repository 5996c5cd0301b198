/* Unit tests of the cpu.stat reader (src/host/cpustat.c): the throttled
 * time of v1 and v2 texts without copying them, and the once-per-round
 * reads that let a guest's cgroup, met above each of its vCPUs, be read a
 * single time per tick. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "host/cpustat.h"
#include "test-temp-root.h"

static void test_parse(void **state)
{
	uint64_t ns = 42;

	assert_int_equal(vs_cpustat_parse_throttled("nr_periods 3\nnr_throttled 1\nthrottled_time 500\n", &ns), 0);
	assert_int_equal(ns, 500);
	assert_int_equal(vs_cpustat_parse_throttled("usage_usec 9\nthrottled_usec 7", &ns), 0);
	assert_int_equal(ns, 7000);
	ns = 42;
	assert_int_equal(vs_cpustat_parse_throttled("usage_usec 9\nuser_usec 1\n", &ns), -ENODATA);
	assert_int_equal(vs_cpustat_parse_throttled("", &ns), -ENODATA);
	/* A name that only starts like the key, then a bad value. */
	assert_int_equal(vs_cpustat_parse_throttled("throttled_usecs 1\n", &ns), -ENODATA);
	assert_int_equal(vs_cpustat_parse_throttled("throttled_usec x1\n", &ns), -EINVAL);
	assert_int_equal(vs_cpustat_parse_throttled("throttled_usec \n", &ns), -EINVAL);
	assert_int_equal(vs_cpustat_parse_throttled("throttled_time 123456789012345678901234567\n", &ns),
			 -EINVAL);
	assert_int_equal(ns, 42);
}

/* A cgroup's own limit: "max" and -1 are none; anything else is refused. */
static void test_parse_unlimited(void **state)
{
	bool unlimited = false;

	assert_int_equal(vs_cpustat_parse_unlimited("max 100000\n", false, &unlimited), 0);
	assert_true(unlimited);
	assert_int_equal(vs_cpustat_parse_unlimited("50000 100000\n", false, &unlimited), 0);
	assert_false(unlimited);
	assert_int_equal(vs_cpustat_parse_unlimited("-1\n", true, &unlimited), 0);
	assert_true(unlimited);
	assert_int_equal(vs_cpustat_parse_unlimited("20000\n", true, &unlimited), 0);
	assert_false(unlimited);
	unlimited = true;
	assert_int_equal(vs_cpustat_parse_unlimited("-1\n", false, &unlimited), -EINVAL);
	assert_int_equal(vs_cpustat_parse_unlimited("max\n", true, &unlimited), -EINVAL);
	assert_int_equal(vs_cpustat_parse_unlimited("", false, &unlimited), -EINVAL);
	assert_int_equal(vs_cpustat_parse_unlimited("maxi 100000\n", false, &unlimited), -EINVAL);
	assert_true(unlimited);
}

/* Rewrites @path in place, so that a held descriptor sees the new text. */
static void rewrite(const VsSys *sys, const char *path, const char *text)
{
	g_autofree char *full = vs_sys_path(sys, path);
	FILE *f = fopen(full, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void test_once_per_round(void **state)
{
	VsSys *sys = temp_root("/cg/guest/cpu.stat", "throttled_time 100\n",
			       "/cg/guest/vcpu0/cpu.stat", "throttled_time 5\n", NULL);
	g_autoptr(VsCpustat) c = vs_cpustat_new(sys);
	uint64_t ns = 0;

	assert_int_equal(vs_cpustat_throttled_once(c, "/cg/guest", &ns), 0);
	assert_int_equal(ns, 100);
	rewrite(sys, "/cg/guest/cpu.stat", "throttled_time 300\n");
	/* The same round: the first reading, no read. */
	assert_int_equal(vs_cpustat_throttled_once(c, "/cg/guest", &ns), 0);
	assert_int_equal(ns, 100);
	/* A plain read always reads. */
	assert_int_equal(vs_cpustat_throttled(c, "/cg/guest", &ns), 0);
	assert_int_equal(ns, 300);
	assert_int_equal(vs_cpustat_throttled_once(c, "/cg/guest/vcpu0", &ns), 0);
	assert_int_equal(ns, 5);
	/* A new round reads again; a directory not read in a round is
	 * closed by the sweep after it. */
	assert_int_equal(vs_cpustat_sweep(c), 0);
	rewrite(sys, "/cg/guest/cpu.stat", "throttled_time 400\n");
	assert_int_equal(vs_cpustat_throttled_once(c, "/cg/guest", &ns), 0);
	assert_int_equal(ns, 400);
	assert_int_equal(vs_cpustat_sweep(c), 1);
	/* Kept for 2 sweeps: unread for one sweep stays open, for two is
	 * closed. */
	vs_cpustat_set_keep(c, 2);
	assert_int_equal(vs_cpustat_throttled_once(c, "/cg/guest", &ns), 0);
	assert_int_equal(vs_cpustat_sweep(c), 0);
	assert_int_equal(vs_cpustat_sweep(c), 0);
	assert_int_equal(vs_cpustat_sweep(c), 1);
	vs_cpustat_set_keep(c, 1);
	/* An unreadable value is an error every time, never a cached one. */
	rewrite(sys, "/cg/guest/cpu.stat", "throttled_time bad\n");
	assert_int_equal(vs_cpustat_throttled_once(c, "/cg/guest", &ns), -EINVAL);
	assert_int_equal(vs_cpustat_throttled_once(c, "/cg/guest", &ns), -EINVAL);
	assert_int_equal(ns, 400);
	assert_int_equal(vs_cpustat_throttled_once(c, "/cg/none", &ns), -ENOENT);
	g_clear_pointer(&c, vs_cpustat_free);
	temp_root_free(sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_unlimited),
		cmocka_unit_test(test_once_per_round),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
