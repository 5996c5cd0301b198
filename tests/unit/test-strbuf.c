/* Unit tests of util/strbuf: decimal numbers as printf writes them,
 * including the ends of the ranges; bytes put into a GString with room
 * for them and into one that must grow. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/strbuf.h"

static void check_int(int64_t v)
{
	g_autoptr(GString) s = g_string_new("x");
	g_autofree char *want = g_strdup_printf("x%" G_GINT64_FORMAT, (gint64)v);

	vs_strbuf_append_int(s, v);
	assert_string_equal(s->str, want);
}

static void check_uint(uint64_t v)
{
	g_autoptr(GString) s = g_string_new(NULL);
	g_autofree char *want = g_strdup_printf("%" G_GUINT64_FORMAT, (guint64)v);

	vs_strbuf_append_uint(s, v);
	assert_string_equal(s->str, want);
}

/* vs_fmt_int() and vs_fmt_uint() write what printf writes, no more. */
static void check_fmt(int64_t i, uint64_t u)
{
	char buf[VS_FMT_INT_MAX + 1];
	g_autofree char *want_i = g_strdup_printf("%" G_GINT64_FORMAT, (gint64)i);
	g_autofree char *want_u = g_strdup_printf("%" G_GUINT64_FORMAT, (guint64)u);
	size_t n;

	memset(buf, '#', sizeof(buf));
	n = vs_fmt_int(buf, i);
	assert_int_equal(n, strlen(want_i));
	assert_memory_equal(buf, want_i, n);
	assert_int_equal(buf[n], '#');
	memset(buf, '#', sizeof(buf));
	n = vs_fmt_uint(buf, u);
	assert_int_equal(n, strlen(want_u));
	assert_memory_equal(buf, want_u, n);
	assert_int_equal(buf[n], '#');
}

static void test_fmt(void **state)
{
	(void)state;
	check_fmt(0, 0);
	check_fmt(-1, 1);
	check_fmt(42, 10);
	check_fmt(INT64_MAX, UINT64_MAX);
	check_fmt(INT64_MIN, (uint64_t)INT64_MAX + 1);
}

static void test_ints(void **state)
{
	(void)state;
	check_int(0);
	check_int(7);
	check_int(-7);
	check_int(10);
	check_int(1234567890123);
	check_int(INT64_MAX);
	check_int(INT64_MIN);
	check_int(INT64_MIN + 1);
}

static void test_uints(void **state)
{
	(void)state;
	check_uint(0);
	check_uint(9);
	check_uint(100);
	check_uint(UINT64_MAX);
}

/* Copied in when they fit, appended (the string grows) when not; always
 * NUL-terminated, length counted. */
static void test_put(void **state)
{
	g_autoptr(GString) room = g_string_sized_new(64);
	g_autoptr(GString) tight = g_string_new("ab");

	(void)state;
	vs_strbuf_puts(room, "one");
	vs_strbuf_put(room, ", two, three", 5);
	assert_string_equal(room->str, "one, two");
	assert_int_equal(room->len, 8);
	for (int i = 0; i < 100; i++)
		vs_strbuf_puts(tight, "0123456789");
	assert_int_equal(tight->len, 1002);
	assert_int_equal(strlen(tight->str), 1002);
	assert_true(g_str_has_suffix(tight->str, "890123456789"));
	vs_strbuf_put(tight, "", 0);
	assert_int_equal(tight->len, 1002);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put),
		cmocka_unit_test(test_ints),
		cmocka_unit_test(test_uints),
		cmocka_unit_test(test_fmt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
