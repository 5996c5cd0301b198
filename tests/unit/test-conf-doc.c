/* Checks that vschedd.conf(5) documents every key of the table in
 * src/daemon/conf.c with its default and help text, so that the man page
 * cannot drift from the code. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>

#include "daemon/conf.h"

static char *man_page;

static int load(void **state)
{
	const char *top = g_getenv("top_srcdir");
	g_autofree char *path = g_build_filename(top ? top : ".", "doc", "vschedd.conf.5", NULL);

	if (!g_file_get_contents(path, &man_page, NULL, NULL)) {
		fprintf(stderr, "cannot read %s\n", path);
		return -1;
	}
	return 0;
}

static void test_every_key_documented(void **state)
{
	for (const VsConfKey *k = vs_conf_keys; k->name; k++) {
		g_autofree char *head = NULL;
		if (k->default_value[0])
			head = g_strdup_printf(".B %s=\\fR(default \\fB%s\\fR", k->name, k->default_value);
		else
			head = g_strdup_printf(".B %s=\\fR(default empty", k->name);
		if (!strstr(man_page, head))
			fail_msg("vschedd.conf.5 lacks \"%s\"", head);
		if (!strstr(man_page, k->help))
			fail_msg("vschedd.conf.5 lacks the help text of %s=: \"%s\"", k->name, k->help);
		if (k->needs_restart) {
			const char *at = strstr(man_page, head);
			const char *eol = strchr(at, '\n');
			if (!g_strstr_len(at, eol - at, "needs a restart"))
				fail_msg("vschedd.conf.5 does not say that %s= needs a restart", k->name);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_documented),
	};
	return cmocka_run_group_tests(tests, load, NULL);
}
