/* Unit tests for the effective policy cache (src/policy/cache.c): a guest's
 * policy is merged once and kept while nothing it depends on changes, and
 * merged again when the set, the overrides (added, cleared, expired), the
 * guest's name or class change, on an explicit invalidation; guests no
 * longer looked up are dropped. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "policy/policy.h"

#define UUID_WEB "11111111-2222-3333-4444-555555555555"
#define UUID_DB "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"

static int64_t weight_of(const VsEffectivePolicy *e)
{
	const VsEffectiveEntry *en = vs_effective_get(e, "CPU", "Weight");

	assert_non_null(en);
	assert_non_null(en->value);
	return en->value->i;
}

static void test_kept_and_merged_again(void **state)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicySet) set = vs_policy_set_load_dir(VS_POLICY_DATA "/good", diags);
	g_autoptr(VsPolicySet) other = vs_policy_set_load_dir(VS_POLICY_CONF, diags);
	g_autoptr(VsPolicyCache) c = vs_policy_cache_new();
	const VsEffectivePolicy *web, *db;
	uint64_t stamp;

	assert_non_null(set);
	assert_non_null(other);
	vs_policy_cache_begin(c, set, NULL, 0);
	web = vs_policy_cache_get(c, "web-1", UUID_WEB, NULL);
	db = vs_policy_cache_get(c, "pg-main", UUID_DB, "db");
	assert_int_equal(vs_policy_cache_made(c), 2);
	assert_int_equal(weight_of(web), 300);
	assert_int_equal(weight_of(db), 50);
	stamp = vs_policy_cache_stamp(c);

	/* The next round, same inputs: the same policies, none merged. */
	vs_policy_cache_begin(c, set, NULL, 1000);
	assert_ptr_equal(vs_policy_cache_get(c, "web-1", UUID_WEB, NULL), web);
	assert_ptr_equal(vs_policy_cache_get(c, "pg-main", UUID_DB, "db"), db);
	assert_int_equal(vs_policy_cache_made(c), 0);
	assert_true(vs_policy_cache_stamp(c) == stamp);

	/* A new name or class: that guest is merged again. */
	vs_policy_cache_begin(c, set, NULL, 2000);
	web = vs_policy_cache_get(c, "other", UUID_WEB, NULL);
	assert_int_equal(weight_of(web), 50);
	db = vs_policy_cache_get(c, "pg-main", UUID_DB, NULL);
	assert_int_equal(weight_of(db), 50);
	assert_int_equal(vs_policy_cache_made(c), 2);
	assert_string_equal(vs_effective_get(db, "CPU", "Placement")->value->str, "shared");
	db = vs_policy_cache_get(c, "pg-main", UUID_DB, "db");
	assert_string_equal(vs_effective_get(db, "CPU", "Placement")->value->str, "dedicated");
	assert_int_equal(vs_policy_cache_made(c), 3);

	/* Another set: every guest merged again. */
	vs_policy_cache_begin(c, other, NULL, 3000);
	assert_true(vs_policy_cache_stamp(c) != stamp);
	web = vs_policy_cache_get(c, "other", UUID_WEB, "batch");
	assert_int_equal(weight_of(web), 20);
	assert_int_equal(vs_policy_cache_made(c), 1);

	/* An invalidation: the same. */
	stamp = vs_policy_cache_stamp(c);
	vs_policy_cache_invalidate(c);
	assert_true(vs_policy_cache_stamp(c) != stamp);
	web = vs_policy_cache_get(c, "other", UUID_WEB, "batch");
	assert_int_equal(weight_of(web), 20);
	assert_int_equal(vs_policy_cache_made(c), 2);
}

static void test_overrides(void **state)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicySet) set = vs_policy_set_load_dir(VS_POLICY_DATA "/good", diags);
	g_autoptr(VsOverrides) o = vs_overrides_new();
	g_autoptr(VsPolicyCache) c = vs_policy_cache_new();
	const char *const w700[] = { "Weight=700", NULL };
	const char *const w800[] = { "Weight=800", NULL };

	vs_policy_cache_begin(c, set, o, 1000);
	assert_int_equal(weight_of(vs_policy_cache_get(c, "web-1", UUID_WEB, NULL)), 300);

	/* Added: seen at the next round. */
	assert_int_equal(vs_overrides_set(o, UUID_WEB, "web-1", w700, 1000, 5000, diags), 1);
	vs_policy_cache_begin(c, set, o, 2000);
	assert_int_equal(weight_of(vs_policy_cache_get(c, "web-1", UUID_WEB, NULL)), 700);
	assert_int_equal(vs_policy_cache_made(c), 1);
	vs_policy_cache_begin(c, set, o, 3000);
	assert_int_equal(weight_of(vs_policy_cache_get(c, "web-1", UUID_WEB, NULL)), 700);
	assert_int_equal(vs_policy_cache_made(c), 0);

	/* Replaced by another of the same key (as many overrides as before). */
	assert_int_equal(vs_overrides_set(o, UUID_WEB, "web-1", w800, 3000, 3000, diags), 1);
	assert_int_equal(o->items->len, 1);
	vs_policy_cache_begin(c, set, o, 4000);
	assert_int_equal(weight_of(vs_policy_cache_get(c, "web-1", UUID_WEB, NULL)), 800);

	/* Expired (6000) but not yet dropped by vs_overrides_expire(). */
	vs_policy_cache_begin(c, set, o, 6000);
	assert_int_equal(weight_of(vs_policy_cache_get(c, "web-1", UUID_WEB, NULL)), 300);
	assert_int_equal(vs_policy_cache_made(c), 1);

	/* Cleared. */
	assert_int_equal(vs_overrides_set(o, UUID_WEB, "web-1", w700, 6000, 0, diags), 1);
	vs_policy_cache_begin(c, set, o, 7000);
	assert_int_equal(weight_of(vs_policy_cache_get(c, "web-1", UUID_WEB, NULL)), 700);
	assert_int_equal(vs_overrides_clear(o, UUID_WEB, NULL), 1);
	vs_policy_cache_begin(c, set, o, 8000);
	assert_int_equal(weight_of(vs_policy_cache_get(c, "web-1", UUID_WEB, NULL)), 300);
}

static void test_gone_guests_dropped(void **state)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicySet) set = vs_policy_set_load_dir(VS_POLICY_DATA "/good", diags);
	g_autoptr(VsPolicyCache) c = vs_policy_cache_new();

	vs_policy_cache_begin(c, set, NULL, 0);
	vs_policy_cache_get(c, "web-1", UUID_WEB, NULL);
	vs_policy_cache_get(c, "pg-main", UUID_DB, "db");
	/* A round without the database guest: it is dropped at the next
	 * begin, and merged afresh when it comes back. */
	vs_policy_cache_begin(c, set, NULL, 1000);
	vs_policy_cache_get(c, "web-1", UUID_WEB, NULL);
	vs_policy_cache_begin(c, set, NULL, 2000);
	vs_policy_cache_get(c, "web-1", UUID_WEB, NULL);
	assert_int_equal(vs_policy_cache_made(c), 0);
	vs_policy_cache_get(c, "pg-main", UUID_DB, "db");
	assert_int_equal(vs_policy_cache_made(c), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept_and_merged_again),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_gone_guests_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
