/* Unit tests for CPU-list parsing and set operations (src/util/cpuset.c). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util/cpuset.h"
#include "util/error.h"

static void assert_roundtrip(const char *in, const char *want)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCpuSet) set = vs_cpuset_parse(in, &error);
	g_autofree char *out = NULL;

	assert_null(error);
	assert_non_null(set);
	out = vs_cpuset_format(set);
	assert_string_equal(out, want);
}

static void test_parse_format(void **state)
{
	assert_roundtrip("", "");
	assert_roundtrip("  \n", "");
	assert_roundtrip("0", "0");
	assert_roundtrip("0-3", "0-3");
	assert_roundtrip("3,2,1,0", "0-3");
	assert_roundtrip("2-7,10", "2-7,10");
	assert_roundtrip(" 0-1 , 5 ,6\n", "0-1,5-6");
	assert_roundtrip("63-65", "63-65");
	assert_roundtrip("8191", "8191");
	assert_roundtrip("0,0,0-1", "0-1");
}

static void assert_rejected(const char *in, const char *fragment)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCpuSet) set = vs_cpuset_parse(in, &error);

	assert_null(set);
	assert_non_null(error);
	assert_true(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
	assert_non_null(strstr(error->message, fragment));
}

static void test_parse_rejects(void **state)
{
	assert_rejected("a", "\"a\"");
	assert_rejected("1-", "\"1-\"");
	assert_rejected("3-1", "\"3-1\"");
	assert_rejected("1,,2", "\"\"");
	assert_rejected("-1", "\"-1\"");
	assert_rejected("8192", "\"8192\"");
	assert_rejected("99999999999999999999", "is not a CPU");
	assert_rejected("1 2", "\"1 2\"");
	assert_rejected("0x3", "\"0x3\"");
}

static void test_operations(void **state)
{
	g_autoptr(VsCpuSet) a = vs_cpuset_parse("0-7", NULL);
	g_autoptr(VsCpuSet) b = vs_cpuset_parse("4-11,100", NULL);
	g_autoptr(VsCpuSet) c = vs_cpuset_copy(a);
	g_autofree char *s1 = NULL, *s2 = NULL, *s3 = NULL;

	assert_int_equal(vs_cpuset_count(a), 8);
	assert_true(vs_cpuset_has(b, 100));
	assert_false(vs_cpuset_has(b, 99));
	assert_false(vs_cpuset_has(b, 5000));

	vs_cpuset_union(c, b);
	s1 = vs_cpuset_format(c);
	assert_string_equal(s1, "0-11,100");

	vs_cpuset_intersect(c, a);
	assert_true(vs_cpuset_equal(c, a));

	vs_cpuset_subtract(c, b);
	s2 = vs_cpuset_format(c);
	assert_string_equal(s2, "0-3");

	vs_cpuset_remove(c, 0);
	vs_cpuset_remove(c, 4000); /* beyond the words: no effect, no crash */
	s3 = vs_cpuset_format(c);
	assert_string_equal(s3, "1-3");

	assert_int_equal(vs_cpuset_next(b, 0), 4);
	assert_int_equal(vs_cpuset_next(b, 12), 100);
	assert_int_equal(vs_cpuset_next(b, 101), -1);
}

static void test_equal_ignores_length(void **state)
{
	g_autoptr(VsCpuSet) a = vs_cpuset_parse("1", NULL);
	g_autoptr(VsCpuSet) b = vs_cpuset_parse("1,200", NULL);
	g_autoptr(VsCpuSet) empty = vs_cpuset_new();

	vs_cpuset_remove(b, 200);
	assert_true(vs_cpuset_equal(a, b));
	assert_true(vs_cpuset_equal(b, a));
	assert_true(vs_cpuset_is_empty(empty));
	assert_true(vs_cpuset_hash(a) == vs_cpuset_hash(b));
	vs_cpuset_subtract(b, a);
	assert_true(vs_cpuset_is_empty(b));
	assert_true(vs_cpuset_equal(b, empty));
	assert_true(vs_cpuset_hash(b) == vs_cpuset_hash(empty));
	assert_true(vs_cpuset_hash(a) != vs_cpuset_hash(empty));
}

/* Different sets, different digests: a CPU more, a CPU moved to another
 * word. */
static void test_hash(void **state)
{
	g_autoptr(VsCpuSet) a = vs_cpuset_parse("0-7", NULL);
	g_autoptr(VsCpuSet) b = vs_cpuset_parse("0-8", NULL);
	g_autoptr(VsCpuSet) c = vs_cpuset_parse("64-71", NULL);

	assert_true(vs_cpuset_hash(a) != vs_cpuset_hash(b));
	assert_true(vs_cpuset_hash(a) != vs_cpuset_hash(c));
	vs_cpuset_remove(b, 8);
	assert_true(vs_cpuset_hash(a) == vs_cpuset_hash(b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_operations),
		cmocka_unit_test(test_equal_ignores_length),
		cmocka_unit_test(test_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
