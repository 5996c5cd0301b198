/* Unit tests for the pure parsers of the host model: /proc/meminfo
 * (src/host/meminfo.c) and /proc/pressure files (src/host/psi.c). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "host/host.h"

#define GIB (1024ull * 1024 * 1024)

static void test_meminfo_good(void **state)
{
	VsMemInfo mem;
	const char *text =
		"MemTotal:       24683620 kB\n"
		"MemFree:        24482144 kB\n"
		"MemAvailable:   24408056 kB\n"
		"Buffers:             936 kB\n"
		"SwapTotal:       2097148 kB\n"
		"SwapFree:        1048574 kB\n"
		"HugePages_Total:       0\n"
		"Hugepagesize:       2048 kB\n";

	assert_int_equal(vs_meminfo_parse(text, &mem), 0);
	assert_int_equal(mem.total, 24683620ull * 1024);
	assert_int_equal(mem.free, 24482144ull * 1024);
	assert_int_equal(mem.available, 24408056ull * 1024);
	assert_int_equal(mem.swap_total, 2097148ull * 1024);
	assert_int_equal(mem.swap_free, 1048574ull * 1024);
}

static void test_meminfo_optional_fields(void **state)
{
	VsMemInfo mem;

	/* Only the two required lines, no trailing newline, in any order. */
	assert_int_equal(vs_meminfo_parse("MemAvailable: 1048576 kB\nMemTotal: 2097152 kB",
					  &mem), 0);
	assert_int_equal(mem.total, 2 * GIB);
	assert_int_equal(mem.available, 1 * GIB);
	assert_int_equal(mem.free, 0);
	assert_int_equal(mem.swap_total, 0);
	assert_int_equal(mem.swap_free, 0);
}

static void assert_meminfo_rejected(const char *text)
{
	VsMemInfo mem = { .total = 7 };

	assert_int_equal(vs_meminfo_parse(text, &mem), -EINVAL);
	/* ret is untouched on failure. */
	assert_int_equal(mem.total, 7);
}

static void test_meminfo_rejects(void **state)
{
	/* Kernels before 3.14 have no MemAvailable. */
	assert_meminfo_rejected("MemTotal:       24683620 kB\nMemFree:        24482144 kB\n");
	assert_meminfo_rejected("MemAvailable:   24408056 kB\n");
	assert_meminfo_rejected("");
	assert_meminfo_rejected("hello world\n");
	assert_meminfo_rejected("MemTotal: abc kB\nMemAvailable: 1 kB\n");
	assert_meminfo_rejected("MemTotal: 12 MB\nMemAvailable: 1 kB\n");
	assert_meminfo_rejected("MemTotal: 12\nMemAvailable: 1 kB\n");
	assert_meminfo_rejected("MemTotal: -12 kB\nMemAvailable: 1 kB\n");
	assert_meminfo_rejected("MemTotal: 0 kB\nMemAvailable: 0 kB\n");
	assert_meminfo_rejected("MemTotal: 4 kB\nMemTotal: 4 kB\nMemAvailable: 1 kB\n");
	/* More kB than bytes fit in 64 bits. */
	assert_meminfo_rejected("MemTotal: 18014398509481984 kB\nMemAvailable: 1 kB\n");
	/* Truncated in the middle of a line. */
	assert_meminfo_rejected("MemTotal: 24683620 kB\nMemAvailable: 2440");
	assert_meminfo_rejected("MemTotal: 24683620 kB\nMemAvai");
}

static void test_psi_some_only(void **state)
{
	VsPsi psi;

	assert_int_equal(vs_psi_parse("some avg10=12.50 avg60=8.00 avg300=3.33 total=9876543\n",
				      &psi), 0);
	assert_true(psi.available);
	assert_false(psi.has_full);
	assert_true(psi.some.avg10 == 12.5);
	assert_true(psi.some.avg60 == 8.0);
	assert_true(psi.some.avg300 > 3.329 && psi.some.avg300 < 3.331);
	assert_int_equal(psi.some.total_us, 9876543);
}

static void test_psi_some_and_full(void **state)
{
	VsPsi psi;
	const char *text =
		"some avg10=29.71 avg60=9.95 avg300=3.08 total=15391144\n"
		"full avg10=100.00 avg60=0.04 avg300=0.45 total=18446744073709551615\n";

	assert_int_equal(vs_psi_parse(text, &psi), 0);
	assert_true(psi.available);
	assert_true(psi.has_full);
	assert_true(psi.some.avg10 > 29.70 && psi.some.avg10 < 29.72);
	assert_int_equal(psi.some.total_us, 15391144);
	assert_true(psi.full.avg10 == 100.0);
	assert_true(psi.full.avg300 > 0.44 && psi.full.avg300 < 0.46);
	assert_int_equal(psi.full.total_us, UINT64_MAX);
}

static void assert_psi_rejected(const char *text)
{
	VsPsi psi = { .some.total_us = 7 };

	assert_int_equal(vs_psi_parse(text, &psi), -EINVAL);
	assert_int_equal(psi.some.total_us, 7);
	assert_false(psi.available);
}

static void test_psi_rejects(void **state)
{
	assert_psi_rejected("");
	assert_psi_rejected("garbage\n");
	/* full without some */
	assert_psi_rejected("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
	assert_psi_rejected("some avg10=abc avg60=0.00 avg300=0.00 total=0\n");
	assert_psi_rejected("some avg10=0.00 avg60=0.00 avg300=0.00\n");
	assert_psi_rejected("some avg10=0.00 avg60=0.00 avg300=0.00 total=0 extra=1\n");
	assert_psi_rejected("some avg60=0.00 avg10=0.00 avg300=0.00 total=0\n");
	assert_psi_rejected("some avg10=-1.00 avg60=0.00 avg300=0.00 total=0\n");
	assert_psi_rejected("some avg10=100.01 avg60=0.00 avg300=0.00 total=0\n");
	assert_psi_rejected("some avg10=nan avg60=0.00 avg300=0.00 total=0\n");
	assert_psi_rejected("some avg10=1.0x avg60=0.00 avg300=0.00 total=0\n");
	assert_psi_rejected("some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n");
	assert_psi_rejected("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
			    "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
	assert_psi_rejected("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
			    "half avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
}

static void test_cgroup_mode_names(void **state)
{
	assert_string_equal(vs_cgroup_mode_name(VS_CGROUP_NONE), "none");
	assert_string_equal(vs_cgroup_mode_name(VS_CGROUP_V1), "v1");
	assert_string_equal(vs_cgroup_mode_name(VS_CGROUP_HYBRID), "hybrid");
	assert_string_equal(vs_cgroup_mode_name(VS_CGROUP_V2), "v2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meminfo_good),
		cmocka_unit_test(test_meminfo_optional_fields),
		cmocka_unit_test(test_meminfo_rejects),
		cmocka_unit_test(test_psi_some_only),
		cmocka_unit_test(test_psi_some_and_full),
		cmocka_unit_test(test_psi_rejects),
		cmocka_unit_test(test_cgroup_mode_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
