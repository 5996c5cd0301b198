/* Unit tests for the INI reader (src/util/ini.c). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util/ini.h"

static const VsIniEntry *entry(const VsIni *ini, guint i)
{
	return g_ptr_array_index(ini->entries, i);
}

static void test_parse(void **state)
{
	g_autoptr(VsIni) ini = vs_ini_parse("t.conf",
		"# comment\n"
		"; also a comment\n"
		"\n"
		"[Match]\n"
		"Name = web*\n"
		"Name=db?\n"
		"  [CPU]  \n"
		"Weight=200\n"
		"Empty=\n"
		"Eq=a=b\n");

	assert_int_equal(ini->errors->len, 0);
	assert_int_equal(ini->sections->len, 2);
	assert_int_equal(ini->entries->len, 5);
	assert_string_equal(entry(ini, 0)->section, "Match");
	assert_string_equal(entry(ini, 0)->key, "Name");
	assert_string_equal(entry(ini, 0)->value, "web*");
	assert_int_equal(entry(ini, 0)->line, 5);
	assert_string_equal(entry(ini, 1)->value, "db?");
	assert_string_equal(entry(ini, 2)->section, "CPU");
	assert_int_equal(entry(ini, 2)->line, 8);
	assert_string_equal(entry(ini, 3)->value, "");
	assert_string_equal(entry(ini, 4)->value, "a=b");
}

static void assert_error(const VsIni *ini, guint i, const char *want)
{
	assert_true(i < ini->errors->len);
	assert_string_equal(g_ptr_array_index(ini->errors, i), want);
}

static void test_errors_all_reported(void **state)
{
	g_autoptr(VsIni) ini = vs_ini_parse("bad.conf",
		"Orphan=1\n"
		"[Daemon\n"
		"[Da mon]\n"
		"[Daemon]\n"
		"no equals sign\n"
		"=value\n"
		"Good=yes\n"
		"Bad Key=1\n");

	assert_int_equal(ini->errors->len, 6);
	assert_error(ini, 0, "bad.conf:1: Orphan= stands before any [Section] header");
	assert_error(ini, 1, "bad.conf:2: section header \"[Daemon\" lacks its closing ']'");
	assert_error(ini, 2, "bad.conf:3: \"[Da mon]\" is not a valid section name");
	assert_error(ini, 3, "bad.conf:5: \"no equals sign\" is neither a [Section] nor a Key=Value line");
	assert_error(ini, 4, "bad.conf:6: \"\" is not a valid key name");
	assert_error(ini, 5, "bad.conf:8: \"Bad Key\" is not a valid key name");
	assert_int_equal(ini->entries->len, 1);
	assert_string_equal(entry(ini, 0)->key, "Good");
}

static void test_binary_garbage(void **state)
{
	g_autoptr(VsIni) ini = vs_ini_parse("bin.conf", "[A]\nK=\xff\xfe\n");

	assert_int_equal(ini->errors->len, 1);
	assert_error(ini, 0, "bin.conf:2: line is not valid UTF-8");
}

static void test_suggest(void **state)
{
	const char *keys[] = { "TickInterval", "LibvirtURI", "ControlSocket", NULL };

	assert_string_equal(vs_ini_suggest("TickIntervall", keys), "TickInterval");
	assert_string_equal(vs_ini_suggest("libvirturi", keys), "LibvirtURI");
	assert_string_equal(vs_ini_suggest("ControlSocet", keys), "ControlSocket");
	assert_null(vs_ini_suggest("Weight", keys));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors_all_reported),
		cmocka_unit_test(test_binary_garbage),
		cmocka_unit_test(test_suggest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
