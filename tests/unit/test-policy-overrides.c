/* Unit tests for overrides (src/policy/overrides.c) and their JSON form
 * (src/policy/overrides-json.c): validation through the key table, replace,
 * clear, expiry with an injected clock, the round trip, and hostile
 * documents that must be reported, never crash or leak. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "policy/policy.h"

#define U1 "11111111-2222-3333-4444-555555555555"
#define U2 "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"

#define ASSIGN(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const VsOverride *item(const VsOverrides *o, guint i)
{
	assert_true(i < o->items->len);
	return g_ptr_array_index(o->items, i);
}

static const char *message(const GPtrArray *diags, guint i)
{
	assert_true(i < diags->len);
	return ((const VsPolicyDiag *)g_ptr_array_index(diags, i))->message;
}

static void test_set(void **state)
{
	g_autoptr(VsOverrides) o = vs_overrides_new();
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();

	assert_int_equal(vs_overrides_set(o, "11111111-2222-3333-4444-555555555555", "web-1",
					  ASSIGN("Weight=200", "cpu.limit = 150%"), 100, 0, diags), 2);
	assert_int_equal(diags->len, 0);
	assert_int_equal(o->items->len, 2);
	assert_string_equal(item(o, 0)->id, "ov-1");
	assert_string_equal(item(o, 0)->domain_uuid, U1);
	assert_string_equal(item(o, 0)->domain_name, "web-1");
	assert_string_equal(item(o, 0)->key->name, "Weight");
	assert_int_equal(item(o, 0)->value->i, 200);
	assert_int_equal(item(o, 0)->created_us, 100);
	assert_int_equal(item(o, 0)->expires_us, 0);
	assert_string_equal(item(o, 1)->id, "ov-2");
	assert_string_equal(item(o, 1)->key->name, "Limit");
	assert_true(item(o, 1)->value->percent == 150);

	/* The same key for the same domain replaces the older override. */
	assert_int_equal(vs_overrides_set(o, "11111111-2222-3333-4444-555555555555", "web-1",
					  ASSIGN("CPU.Weight=300"), 200, 60000000, diags), 1);
	assert_int_equal(o->items->len, 2);
	assert_string_equal(item(o, 0)->key->name, "Limit");
	assert_string_equal(item(o, 1)->id, "ov-3");
	assert_int_equal(item(o, 1)->value->i, 300);
	assert_int_equal(item(o, 1)->expires_us, 60000200);

	/* Another domain's override of the same key is its own. */
	assert_int_equal(vs_overrides_set(o, U2, NULL, ASSIGN("Weight=5"), 300, 0, diags), 1);
	assert_int_equal(o->items->len, 3);
	assert_string_equal(item(o, 2)->domain_name, "");
	assert_int_equal(o->next_id, 5);
}

static void test_set_refused(void **state)
{
	g_autoptr(VsOverrides) o = vs_overrides_new();
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();

	/* All or nothing: one bad assignment and none is added. */
	assert_int_equal(vs_overrides_set(o, U1, "web-1",
					  ASSIGN("Weight=200", "Wieght=5", "Weight=20000", "Name=x",
						 "Limit", "Memory.Weight=5", "Alert=steel>5%"),
					  0, 0, diags), -EINVAL);
	assert_int_equal(o->items->len, 0);
	assert_int_equal(o->next_id, 1);
	assert_int_equal(diags->len, 6);
	assert_int_equal(vs_policy_diags_errors(diags), 6);
	assert_string_equal(message(diags, 0), "override: unknown key Wieght= (did you mean Weight=?)");
	assert_string_equal(message(diags, 1), "override: Weight=20000: out of range 1..10000");
	assert_string_equal(message(diags, 2), "override: Name=x: [Match] keys cannot be overridden");
	assert_string_equal(message(diags, 3),
			    "override: \"Limit\": not Key=Value (like Weight=200 or CPU.Weight=200)");
	assert_string_equal(message(diags, 4),
			    "override: unknown key Memory.Weight= (did you mean Weight=?)");
	assert_string_equal(message(diags, 5),
			    "override: Alert=steel>5%: unknown metric steel (did you mean steal?); "
			    "metrics: steal, steal.contention, steal.cap, steal.reservation, cpu");
	assert_string_equal(((VsPolicyDiag *)g_ptr_array_index(diags, 1))->key, "Weight");

	g_ptr_array_set_size(diags, 0);
	assert_int_equal(vs_overrides_set(o, "db1", NULL, ASSIGN("Weight=2"), 0, 0, diags), -EINVAL);
	assert_int_equal(vs_overrides_set(o, U1, NULL, ASSIGN("Weight=2"), 0, -1, diags), -EINVAL);
	assert_int_equal(o->items->len, 0);
	assert_string_equal(message(diags, 0), "override: \"db1\" is not a domain UUID");
	assert_string_equal(message(diags, 1),
			    "override: a negative duration; give a positive one, or none for an "
			    "override until cleared");
}

static void test_clear(void **state)
{
	g_autoptr(VsOverrides) o = vs_overrides_new();
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();

	vs_overrides_set(o, U1, "a", ASSIGN("Weight=2", "Limit=50%", "Floor=1G"), 0, 0, diags);
	vs_overrides_set(o, U2, "b", ASSIGN("Weight=3"), 0, 0, diags);
	assert_int_equal(o->items->len, 4);
	assert_int_equal(vs_overrides_clear(o, U1, "Wieght"), -ENOENT);
	assert_int_equal(vs_overrides_clear(o, U1, "Step"), 0);
	assert_int_equal(vs_overrides_clear(o, "11111111-2222-3333-4444-555555555555", "cpu.weight"), 1);
	assert_int_equal(o->items->len, 3);
	assert_int_equal(vs_overrides_clear(o, U1, NULL), 2);
	assert_int_equal(o->items->len, 1);
	assert_string_equal(item(o, 0)->domain_uuid, U2);
	assert_int_equal(vs_overrides_clear(o, U1, NULL), 0);
}

static void test_expire(void **state)
{
	g_autoptr(VsOverrides) o = vs_overrides_new();
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(GPtrArray) none = NULL;
	g_autoptr(GPtrArray) first = NULL;
	g_autoptr(GPtrArray) second = NULL;

	vs_overrides_set(o, U1, "a", ASSIGN("Weight=2"), 1000, 500, diags);
	vs_overrides_set(o, U1, "a", ASSIGN("Limit=50%"), 1000, 0, diags);
	vs_overrides_set(o, U2, "b", ASSIGN("Step=2"), 1000, 1000, diags);

	none = vs_overrides_expire(o, 1499);
	assert_int_equal(none->len, 0);
	first = vs_overrides_expire(o, 1500);
	assert_int_equal(first->len, 1);
	assert_string_equal(((VsOverride *)g_ptr_array_index(first, 0))->key->name, "Weight");
	second = vs_overrides_expire(o, G_MAXINT64);
	assert_int_equal(second->len, 1);
	assert_string_equal(((VsOverride *)g_ptr_array_index(second, 0))->key->name, "Step");
	/* Until cleared means never expiring. */
	assert_int_equal(o->items->len, 1);
	assert_string_equal(item(o, 0)->key->name, "Limit");
}

static void test_json_roundtrip(void **state)
{
	g_autoptr(VsOverrides) o = vs_overrides_new();
	g_autoptr(VsOverrides) back = NULL;
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autofree char *json = NULL;
	g_autofree char *again = NULL;

	vs_overrides_set(o, U1, "web \"1\"", ASSIGN("Weight=200", "AllowedCPUs=2-5",
						   "ScaleUp=cpu > 90% for 1min"), 1000, 0, diags);
	vs_overrides_set(o, U2, "db", ASSIGN("Reservation=1ms/4ms"), 2000, 10000, diags);
	vs_overrides_clear(o, U1, "AllowedCPUs");
	json = vs_overrides_to_json(o);
	back = vs_overrides_from_json(json, 5000, diags);
	assert_int_equal(diags->len, 0);
	assert_non_null(back);
	assert_int_equal(back->next_id, 5);
	assert_int_equal(back->items->len, 3);
	for (guint i = 0; i < 3; i++) {
		const VsOverride *a = item(o, i), *b = item(back, i);
		assert_string_equal(a->id, b->id);
		assert_string_equal(a->domain_uuid, b->domain_uuid);
		assert_string_equal(a->domain_name, b->domain_name);
		assert_ptr_equal(a->key, b->key);
		assert_string_equal(a->value->text, b->value->text);
		assert_int_equal(a->created_us, b->created_us);
		assert_int_equal(a->expires_us, b->expires_us);
	}
	assert_string_equal(item(back, 1)->key->name, "ScaleUp");
	assert_int_equal(item(back, 1)->value->cond.for_us, 60000000);
	again = vs_overrides_to_json(back);
	assert_string_equal(json, again);
	assert_non_null(strstr(json, "\"key\" : \"CPU.Weight\""));

	/* Loaded after the expiry, the expired override is dropped with a note. */
	g_clear_pointer(&back, vs_overrides_free);
	back = vs_overrides_from_json(json, 12000, diags);
	assert_int_equal(back->items->len, 2);
	assert_int_equal(diags->len, 1);
	assert_string_equal(message(diags, 0),
			    "overrides.json: entry 3 (ov-4): Reservation=1ms/4ms for db has expired; dropped");
	assert_true(((VsPolicyDiag *)g_ptr_array_index(diags, 0))->warning);
	/* Ids are never handed out again. */
	assert_int_equal(back->next_id, 5);
}

static VsOverrides *load(const char *json, GPtrArray *diags)
{
	g_ptr_array_set_size(diags, 0);
	return vs_overrides_from_json(json, 1000, diags);
}

static void test_json_document(void **state)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsOverrides) empty = load("", diags);
	g_autoptr(VsOverrides) blank = load(" \n\t", diags);
	g_autoptr(VsOverrides) bare = NULL;

	assert_int_equal(empty->items->len, 0);
	assert_int_equal(empty->next_id, 1);
	assert_int_equal(blank->items->len, 0);
	assert_int_equal(diags->len, 0);

	bare = load("{\"version\":1}", diags);
	assert_int_equal(bare->items->len, 0);
	assert_int_equal(diags->len, 0);

	assert_null(load("{\"version\":1,", diags));
	assert_int_equal(vs_policy_diags_errors(diags), 1);
	assert_true(g_str_has_prefix(message(diags, 0), "overrides.json: not JSON: "));
	assert_null(load("\x01\xff garbage", diags));
	assert_true(g_str_has_prefix(message(diags, 0), "overrides.json: not JSON: "));
	assert_null(load("[1,2,3]", diags));
	assert_string_equal(message(diags, 0), "overrides.json: not a JSON object");
	assert_null(load("\"text\"", diags));
	assert_string_equal(message(diags, 0), "overrides.json: not a JSON object");
	assert_null(load("{\"version\":2,\"overrides\":[]}", diags));
	assert_string_equal(message(diags, 0),
			    "overrides.json: no \"version\": 1 member; written by another version of vsched?");
	assert_null(load("{\"version\":\"1\"}", diags));
	assert_int_equal(diags->len, 1);
	assert_null(load("{\"version\":1,\"overrides\":{}}", diags));
	assert_string_equal(message(diags, 0), "overrides.json: \"overrides\" is not an array");
	assert_false(((VsPolicyDiag *)g_ptr_array_index(diags, 0))->warning);
}

#define LACK_TEXT "lacks id, domain_uuid, key, value, created_us or expires_us, or has one of another type; skipped"

#define ENTRY(id, uuid, key, value, created, expires)                                   \
	"{\"id\":" id ",\"domain_uuid\":" uuid ",\"domain_name\":\"d\",\"key\":" key \
	",\"value\":" value ",\"created_us\":" created ",\"expires_us\":" expires "}"

static void test_json_entries(void **state)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsOverrides) o = load(
		"{\"version\":1,\"next_id\":\"x\",\"comment\":[1,{}],\"overrides\":["
		ENTRY("\"ov-7\"", "\"" U1 "\"", "\"CPU.Weight\"", "\"200\"", "1", "0") ","
		"42,"
		ENTRY("7", "\"" U1 "\"", "\"CPU.Limit\"", "\"50%\"", "1", "0") ","
		ENTRY("\"ov-8\"", "\"" U1 "\"", "\"CPU.Limit\"", "\"50%\"", "1.5", "0") ","
		ENTRY("\"ov-7\"", "\"" U2 "\"", "\"CPU.Weight\"", "\"2\"", "1", "0") ","
		ENTRY("\"x-9\"", "\"" U2 "\"", "\"CPU.Weight\"", "\"2\"", "1", "0") ","
		ENTRY("\"ov-10\"", "\"db1\"", "\"CPU.Weight\"", "\"2\"", "1", "0") ","
		ENTRY("\"ov-11\"", "\"" U2 "\"", "\"Match.Name\"", "\"x\"", "1", "0") ","
		ENTRY("\"ov-12\"", "\"" U2 "\"", "\"CPU.Colour\"", "\"red\"", "1", "0") ","
		ENTRY("\"ov-13\"", "\"" U2 "\"", "\"CPU.Weight\"", "\"20000\"", "1", "0") ","
		ENTRY("\"ov-14\"", "\"" U2 "\"", "\"CPU.Weight\"", "\"20\"", "1", "-5") ","
		ENTRY("\"ov-15\"", "\"" U2 "\"", "\"Memory.Floor\"", "\"1G\"", "1", "900") ","
		ENTRY("\"ov-16\"", "\"" U2 "\"", "\"Memory.Floor\"", "\"2G\"", "1", "0")
		",{\"id\":\"ov-17\",\"domain_uuid\":null,\"key\":[],\"value\":{}}"
		"]}", diags);
	const char *const want[] = {
		"overrides.json: entry 2: not an object; skipped",
		"overrides.json: entry 3: " LACK_TEXT,
		"overrides.json: entry 4: " LACK_TEXT,
		"overrides.json: entry 5: id \"ov-7\" is not of the form ov-N or is taken; skipped",
		"overrides.json: entry 6: id \"x-9\" is not of the form ov-N or is taken; skipped",
		"overrides.json: entry 7 (ov-10): bad domain_uuid, created_us or expires_us; skipped",
		"overrides.json: entry 8 (ov-11): Match.Name is not a key that can be overridden; skipped",
		"overrides.json: entry 9 (ov-12): CPU.Colour is not a key that can be overridden; skipped",
		"overrides.json: entry 10 (ov-13): Weight=20000: out of range 1..10000; skipped",
		"overrides.json: entry 11 (ov-14): bad domain_uuid, created_us or expires_us; skipped",
		"overrides.json: entry 12 (ov-15): Floor=1G for d has expired; dropped",
		"overrides.json: entry 14: " LACK_TEXT,
	};

	assert_non_null(o);
	assert_int_equal(o->items->len, 2);
	assert_string_equal(item(o, 0)->id, "ov-7");
	assert_string_equal(item(o, 1)->id, "ov-16");
	assert_int_equal(item(o, 1)->value->bytes, 2ull << 30);
	/* next_id was garbage: the largest id plus one. */
	assert_int_equal(o->next_id, 17);
	for (guint i = 0; i < diags->len && i < G_N_ELEMENTS(want); i++)
		assert_string_equal(message(diags, i), want[i]);
	assert_int_equal(diags->len, G_N_ELEMENTS(want));
	/* Skipped entries are warnings: the document as a whole loaded. */
	assert_int_equal(vs_policy_diags_errors(diags), 0);
}

static void test_json_next_id(void **state)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsOverrides) ahead = load(
		"{\"version\":1,\"next_id\":40,\"overrides\":["
		ENTRY("\"ov-3\"", "\"" U1 "\"", "\"CPU.Weight\"", "\"2\"", "1", "0") "]}", diags);
	g_autoptr(VsOverrides) behind = load(
		"{\"version\":1,\"next_id\":2,\"overrides\":["
		ENTRY("\"ov-3\"", "\"" U1 "\"", "\"CPU.Weight\"", "\"2\"", "1", "0") "]}", diags);

	assert_int_equal(ahead->next_id, 40);
	assert_int_equal(behind->next_id, 4);
	assert_int_equal(vs_overrides_set(behind, U2, "b", ASSIGN("Step=2"), 0, 0, diags), 1);
	assert_string_equal(item(behind, 1)->id, "ov-4");
}

static void test_json_deep(void **state)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	GString *s = g_string_new("{\"version\":1,\"junk\":");
	g_autoptr(VsOverrides) o = NULL;

	/* Deep nesting must not take the daemon down. */
	for (int i = 0; i < 5000; i++)
		g_string_append_c(s, '[');
	for (int i = 0; i < 5000; i++)
		g_string_append_c(s, ']');
	g_string_append(s, ",\"overrides\":[]}");
	o = load(s->str, diags);
	g_string_free(s, TRUE);
	if (o)
		assert_int_equal(o->items->len, 0);
	else
		assert_int_equal(vs_policy_diags_errors(diags), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_set_refused),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_json_roundtrip),
		cmocka_unit_test(test_json_document),
		cmocka_unit_test(test_json_entries),
		cmocka_unit_test(test_json_next_id),
		cmocka_unit_test(test_json_deep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
