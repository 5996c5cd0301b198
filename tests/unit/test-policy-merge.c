/* Unit tests for policy sets and effective policies (src/policy/set.c,
 * src/policy/effective.c): loading directories and lists of files from
 * tests/data/policy/, lexical order, all-or-nothing sets, and merging
 * defaults, matching files and overrides with the provenance of each key. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "policy/policy.h"

#define UUID_WEB "11111111-2222-3333-4444-555555555555"
#define UUID_DB "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"

static const VsPolicyFile *file(const VsPolicySet *set, guint i)
{
	assert_true(i < set->files->len);
	return g_ptr_array_index(set->files, i);
}

static void test_load_dir(void **state)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicySet) set = vs_policy_set_load_dir(VS_POLICY_DATA "/good", diags);

	assert_int_equal(diags->len, 0);
	assert_non_null(set);
	assert_string_equal(set->dir, VS_POLICY_DATA "/good");
	/* Lexical order; README, *.disabled and hidden files are not read. */
	assert_int_equal(set->files->len, 4);
	assert_string_equal(file(set, 0)->name, "10-base");
	assert_string_equal(file(set, 1)->name, "20-db");
	assert_string_equal(file(set, 2)->name, "30-web");
	assert_string_equal(file(set, 3)->name, "9-web-late");
	assert_string_equal(file(set, 0)->path, VS_POLICY_DATA "/good/10-base.policy");
}

static void test_load_dir_bad(void **state)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicySet) set = vs_policy_set_load_dir(VS_POLICY_DATA "/bad", diags);
	const VsPolicyDiag *d;

	/* One bad file: no set, and the diagnostic names it. */
	assert_null(set);
	assert_int_equal(diags->len, 1);
	d = g_ptr_array_index(diags, 0);
	assert_string_equal(d->message,
			    VS_POLICY_DATA "/bad/20-broken.policy:5: Weight=0: out of range 1..10000");
	assert_false(d->warning);
}

static void test_load_dir_missing(void **state)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicySet) set = vs_policy_set_load_dir(VS_POLICY_DATA "/no-such-dir", diags);
	g_autoptr(VsPolicySet) not_dir = NULL;

	assert_non_null(set);
	assert_int_equal(set->files->len, 0);
	assert_int_equal(diags->len, 0);

	not_dir = vs_policy_set_load_dir(VS_POLICY_DATA "/five-mistakes.policy", diags);
	assert_null(not_dir);
	assert_int_equal(diags->len, 1);
	assert_true(g_str_has_prefix(((VsPolicyDiag *)g_ptr_array_index(diags, 0))->message,
				     VS_POLICY_DATA "/five-mistakes.policy: cannot read the directory: "));
}

static void test_load_files(void **state)
{
	const char *const paths[] = {
		VS_POLICY_DATA "/good/30-web.policy",
		VS_POLICY_DATA "/good/10-base.policy",
		NULL,
	};
	const char *const broken[] = {
		VS_POLICY_DATA "/good/10-base.policy",
		VS_POLICY_DATA "/missing.policy",
		VS_POLICY_DATA "/five-mistakes.policy",
		VS_POLICY_DATA "/good",
		NULL,
	};
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicySet) set = vs_policy_set_load_files(paths, diags);
	g_autoptr(VsPolicySet) none = NULL;

	assert_int_equal(diags->len, 0);
	assert_null(set->dir);
	/* In the order given. */
	assert_string_equal(file(set, 0)->name, "30-web");
	assert_string_equal(file(set, 1)->name, "10-base");

	none = vs_policy_set_load_files(broken, diags);
	assert_null(none);
	/* Every problem of every file is reported. */
	assert_int_equal(diags->len, 7);
	assert_string_equal(((VsPolicyDiag *)g_ptr_array_index(diags, 0))->message,
			    VS_POLICY_DATA "/missing.policy: cannot read: No such file or directory");
	assert_string_equal(((VsPolicyDiag *)g_ptr_array_index(diags, 6))->message,
			    VS_POLICY_DATA "/good: cannot read: Is a directory");
}

static void test_load_limits(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("vsched-policy-XXXXXX", NULL);
	g_autofree char *big = g_build_filename(dir, "big.policy", NULL);
	g_autofree char *nul = g_build_filename(dir, "nul.policy", NULL);
	g_autofree char *link = g_build_filename(dir, "dangling.policy", NULL);
	g_autofree char *text = g_malloc(2 * 1024 * 1024);
	const char *const paths[] = { big, nul, NULL };
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicySet) set = NULL;
	g_autofree char *want_big = g_strdup_printf("%s: larger than 1024 KiB; a policy file is a few lines of text", big);
	g_autofree char *want_nul = g_strdup_printf("%s: contains a NUL byte; a policy file is text", nul);
	g_autofree char *want_link = g_strdup_printf("%s: not a regular file; ignored", link);

	memset(text, '#', 2 * 1024 * 1024);
	assert_true(g_file_set_contents(big, text, 2 * 1024 * 1024, NULL));
	assert_true(g_file_set_contents(nul, "[Match]\nName=a\0\n", 16, NULL));
	assert_null(vs_policy_set_load_files(paths, diags));
	assert_int_equal(diags->len, 2);
	assert_string_equal(((VsPolicyDiag *)g_ptr_array_index(diags, 0))->message, want_big);
	assert_string_equal(((VsPolicyDiag *)g_ptr_array_index(diags, 1))->message, want_nul);

	/* A .policy that is not a regular file is skipped with a warning. */
	g_unlink(big);
	g_unlink(nul);
	assert_int_equal(symlink("/nonexistent", link), 0);
	g_ptr_array_set_size(diags, 0);
	set = vs_policy_set_load_dir(dir, diags);
	assert_non_null(set);
	assert_int_equal(set->files->len, 0);
	assert_int_equal(diags->len, 1);
	assert_string_equal(((VsPolicyDiag *)g_ptr_array_index(diags, 0))->message, want_link);
	assert_true(((VsPolicyDiag *)g_ptr_array_index(diags, 0))->warning);
	g_unlink(link);
	g_rmdir(dir);
}

static const VsEffectiveEntry *get(const VsEffectivePolicy *e, const char *section,
				   const char *name)
{
	const VsEffectiveEntry *en = vs_effective_get(e, section, name);

	assert_non_null(en);
	return en;
}

static void assert_from_file(const VsEffectivePolicy *e, const char *section, const char *name,
			     const char *text, const char *file, guint line)
{
	const VsEffectiveEntry *en = get(e, section, name);
	g_autofree char *path = g_build_filename(VS_POLICY_DATA, "good", file, NULL);

	assert_int_equal(en->origin, VS_ORIGIN_FILE);
	assert_string_equal(en->value->text, text);
	assert_string_equal(en->file, path);
	assert_int_equal(en->line, line);
}

static void assert_default(const VsEffectivePolicy *e, const char *section, const char *name,
			   const char *text)
{
	const VsEffectiveEntry *en = get(e, section, name);

	assert_int_equal(en->origin, VS_ORIGIN_DEFAULT);
	assert_null(en->file);
	if (text)
		assert_string_equal(en->value->text, text);
	else
		assert_null(en->value);
}

static void test_effective(void **state)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicySet) set = vs_policy_set_load_dir(VS_POLICY_DATA "/good", diags);
	g_autoptr(VsEffectivePolicy) web = vs_policy_effective(set, NULL, "web-1", UUID_WEB, NULL, 0);
	g_autoptr(VsEffectivePolicy) db = vs_policy_effective(set, NULL, "pg-main", UUID_DB, "db", 0);
	g_autoptr(VsEffectivePolicy) empty = vs_policy_effective(NULL, NULL, "x", UUID_DB, NULL, 0);
	guint n_keys = 0;

	for (const VsPolicyKey *k = vs_policy_keys; k->name; k++)
		n_keys += strcmp(k->section, "Match") != 0;

	/* web-1: 10-base, 30-web, 9-web-late; the later file wins key by key. */
	assert_int_equal(web->files->len, 3);
	assert_string_equal(g_ptr_array_index(web->files, 0), "10-base");
	assert_string_equal(g_ptr_array_index(web->files, 1), "30-web");
	assert_string_equal(g_ptr_array_index(web->files, 2), "9-web-late");
	assert_int_equal(web->entries->len, n_keys);
	assert_from_file(web, "CPU", "Weight", "300", "9-web-late.policy", 6);
	assert_from_file(web, "CPU", "Limit", "150%", "30-web.policy", 6);
	assert_from_file(web, "CPU", "EmulatorPlacement", "shared", "10-base.policy", 7);
	assert_from_file(web, "Memory", "Floor", "256M", "10-base.policy", 10);
	assert_from_file(web, "Hotplug", "MaxVCPUs", "8", "30-web.policy", 10);
	assert_true(get(web, "Hotplug", "Enable")->value->b);
	assert_default(web, "CPU", "Placement", "shared");
	assert_default(web, "CPU", "Reservation", NULL);
	assert_default(web, "Hotplug", "ScaleUp", "cpu>80% for 30s");
	assert_int_equal(get(web, "Hotplug", "ScaleUp")->value->cond.for_us, 30000000);
	assert_null(vs_effective_get(web, "Match", "Name"));
	assert_null(vs_effective_get(web, "CPU", "Wieght"));

	/* By class and name: 10-base then 20-db. */
	assert_int_equal(db->files->len, 2);
	assert_from_file(db, "CPU", "Placement", "dedicated", "20-db.policy", 8);
	assert_from_file(db, "CPU", "Weight", "50", "10-base.policy", 6);
	assert_false(get(db, "Memory", "Balloon")->value->b);
	assert_default(db, "Memory", "Shares", "1000");

	/* No set: defaults only, every key present in table order. */
	assert_int_equal(empty->files->len, 0);
	assert_int_equal(empty->entries->len, n_keys);
	assert_string_equal(g_array_index(empty->entries, VsEffectiveEntry, 0).key->name, "Placement");
	assert_default(empty, "CPU", "Weight", "100");
	assert_default(empty, "Steal", "Alert", NULL);
}

static void test_effective_overrides(void **state)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicySet) set = vs_policy_set_load_dir(VS_POLICY_DATA "/good", diags);
	g_autoptr(VsOverrides) o = vs_overrides_new();
	const char *const weight[] = { "Weight=700", NULL };
	const char *const floor_[] = { "Memory.Floor=2G", "ScaleUp=cpu>50%", NULL };
	const char *const other[] = { "Weight=1", NULL };
	const VsEffectiveEntry *en;

	assert_int_equal(vs_overrides_set(o, UUID_WEB, "web-1", weight, 1000, 0, diags), 1);
	assert_int_equal(vs_overrides_set(o, UUID_WEB, "web-1", floor_, 1000, 5000, diags), 2);
	assert_int_equal(vs_overrides_set(o, UUID_DB, "db", other, 1000, 0, diags), 1);

	{
		/* Before the expiry: the overrides win over the files. */
		g_autoptr(VsEffectivePolicy) e =
			vs_policy_effective(set, o, "web-1", "11111111-2222-3333-4444-555555555555",
					    NULL, 5999);
		en = get(e, "CPU", "Weight");
		assert_int_equal(en->origin, VS_ORIGIN_OVERRIDE);
		assert_string_equal(en->override_id, "ov-1");
		assert_int_equal(en->expires_us, 0);
		assert_int_equal(en->value->i, 700);
		assert_null(en->file);
		en = get(e, "Memory", "Floor");
		assert_int_equal(en->origin, VS_ORIGIN_OVERRIDE);
		assert_string_equal(en->override_id, "ov-2");
		assert_int_equal(en->expires_us, 6000);
		assert_int_equal(get(e, "Hotplug", "ScaleUp")->origin, VS_ORIGIN_OVERRIDE);
		assert_from_file(e, "CPU", "Limit", "150%", "30-web.policy", 6);
	}
	{
		/* At the expiry, the expiring ones are gone even before vs_overrides_expire(). */
		g_autoptr(VsEffectivePolicy) e =
			vs_policy_effective(set, o, "web-1", "11111111-2222-3333-4444-555555555555",
					    NULL, 6000);
		assert_int_equal(get(e, "CPU", "Weight")->origin, VS_ORIGIN_OVERRIDE);
		assert_from_file(e, "Memory", "Floor", "256M", "10-base.policy", 10);
		assert_default(e, "Hotplug", "ScaleUp", "cpu>80% for 30s");
	}
	{
		/* The UUID matches in any case; without a UUID no override applies. */
		g_autoptr(VsEffectivePolicy) e =
			vs_policy_effective(set, o, "web-1", "11111111-2222-3333-4444-555555555555",
					    NULL, 0);
		g_autoptr(VsEffectivePolicy) anon = vs_policy_effective(set, o, "web-1", NULL, NULL, 0);
		g_autoptr(VsEffectivePolicy) upper =
			vs_policy_effective(NULL, o, "db", "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE", NULL, 0);
		assert_int_equal(get(e, "CPU", "Weight")->value->i, 700);
		assert_from_file(anon, "CPU", "Weight", "300", "9-web-late.policy", 6);
		assert_int_equal(get(upper, "CPU", "Weight")->value->i, 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_load_dir_bad),
		cmocka_unit_test(test_load_dir_missing),
		cmocka_unit_test(test_load_files),
		cmocka_unit_test(test_load_limits),
		cmocka_unit_test(test_effective),
		cmocka_unit_test(test_effective_overrides),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
