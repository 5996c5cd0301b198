/* Unit tests for durations and sizes (src/util/units.c). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util/units.h"

static void assert_duration(const char *in, int64_t want)
{
	g_autoptr(GError) error = NULL;
	int64_t us = -1;

	assert_int_equal(vs_parse_duration_us(in, &us, &error), 0);
	assert_null(error);
	assert_int_equal(us, want);
}

static void assert_bad_duration(const char *in)
{
	g_autoptr(GError) error = NULL;
	int64_t us = 42;

	assert_true(vs_parse_duration_us(in, &us, &error) < 0);
	assert_non_null(error);
	assert_non_null(strstr(error->message, in));
	assert_int_equal(us, 42); /* untouched on failure */
}

static void test_durations(void **state)
{
	assert_duration("1s", 1000000);
	assert_duration("1", 1000000);
	assert_duration("500ms", 500000);
	assert_duration("10us", 10);
	assert_duration("1.5s", 1500000);
	assert_duration("2min", 120000000);
	assert_duration("1h", 3600000000LL);
	assert_duration(" 30 s ", 30000000);
	assert_duration("0", 0);
	assert_bad_duration("");
	assert_bad_duration("s");
	assert_bad_duration("-1s");
	assert_bad_duration("1 fortnight");
	assert_bad_duration("1e400s");
	assert_bad_duration("nan");
	assert_bad_duration("99999999999999999h");
}

static void assert_format_duration(int64_t us, const char *want)
{
	g_autofree char *s = vs_format_duration_us(us);

	assert_string_equal(s, want);
}

static void test_format_duration(void **state)
{
	assert_format_duration(1000000, "1s");
	assert_format_duration(500000, "500ms");
	assert_format_duration(1500000, "1.5s");
	assert_format_duration(250, "250us");
	assert_format_duration(60000000, "1min");
	assert_format_duration(10000, "10ms");
}

static void assert_size(const char *in, uint64_t want)
{
	g_autoptr(GError) error = NULL;
	uint64_t v = 0;

	assert_int_equal(vs_parse_size(in, &v, &error), 0);
	assert_int_equal(v, want);
}

static void test_sizes(void **state)
{
	g_autoptr(GError) error = NULL;
	uint64_t v = 7;

	assert_size("512M", 512ull << 20);
	assert_size("4G", 4ull << 30);
	assert_size("4GiB", 4ull << 30);
	assert_size("1024K", 1ull << 20);
	assert_size("100", 100);
	assert_size("1.5G", 3ull << 29);
	assert_true(vs_parse_size("4X", &v, &error) < 0);
	assert_non_null(strstr(error->message, "\"4X\""));
	g_clear_error(&error);
	assert_true(vs_parse_size("99999999999T", &v, &error) < 0);
	assert_int_equal(v, 7);
}

static void test_format_size(void **state)
{
	g_autofree char *a = vs_format_size(512ull << 20);
	g_autofree char *b = vs_format_size(800);
	g_autofree char *c = vs_format_size(3ull << 29);

	assert_string_equal(a, "512.0 MiB");
	assert_string_equal(b, "800 B");
	assert_string_equal(c, "1.5 GiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_format_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
