/* Unit tests for parsing one policy file (src/policy/file.c): what a good
 * file holds, every kind of diagnostic with its exact message, line and key,
 * contradictions and warnings across keys, and the shipped example policies,
 * which must check clean. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "policy/policy.h"

#define F "t.policy"

/* Checks @diags against @want: "E message" for an error, "W message" for a
 * warning, in order, NULL-terminated. */
static void assert_diags(const GPtrArray *diags, const char *const *want)
{
	guint n = g_strv_length((char **)want);

	for (guint i = 0; i < diags->len; i++) {
		const VsPolicyDiag *d = g_ptr_array_index(diags, i);
		if (i >= n)
			fail_msg("unexpected diagnostic: %s", d->message);
		assert_string_equal(d->message, want[i] + 2);
		assert_int_equal(d->warning, want[i][0] == 'W');
	}
	if (diags->len < n)
		fail_msg("missing diagnostic: %s", want[diags->len]);
}

#define DIAGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const VsPolicySetting *setting(const VsPolicyFile *f, guint i)
{
	assert_true(i < f->settings->len);
	return g_ptr_array_index(f->settings, i);
}

static void test_good_file(void **state)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicyFile) f = vs_policy_file_parse("/etc/vsched/policy.d/10-db.policy",
		"# databases\n"
		"[Match]\n"
		"Name=db-*\n"
		"Name = pg?\n"
		"UUID=6F1C2A0E-9A57-4E0B-8A63-0E4F8A1D2C3B\n"
		"Class=db\n"
		"\n"
		"[CPU]\n"
		"Placement=dedicated\n"
		"Reservation=2ms/10ms\n"
		"[Memory]\n"
		"Floor=2G\n"
		"[Steal]\n"
		"Alert=steal>5% for 30s\n"
		"[CPU]\n"
		"AllowedCPUs=2-5\n", diags);

	assert_int_equal(diags->len, 0);
	assert_non_null(f);
	assert_string_equal(f->path, "/etc/vsched/policy.d/10-db.policy");
	assert_string_equal(f->name, "10-db");
	assert_int_equal(f->match_names->len, 2);
	assert_string_equal(g_ptr_array_index(f->match_names, 1), "pg?");
	assert_string_equal(g_ptr_array_index(f->match_uuids, 0),
			    "6f1c2a0e-9a57-4e0b-8a63-0e4f8a1d2c3b");
	assert_string_equal(g_ptr_array_index(f->match_classes, 0), "db");
	assert_int_equal(f->settings->len, 5);
	assert_string_equal(setting(f, 0)->key->name, "Placement");
	assert_int_equal(setting(f, 0)->line, 9);
	assert_string_equal(setting(f, 1)->key->name, "Reservation");
	assert_int_equal(setting(f, 1)->value->res.runtime_us, 2000);
	assert_string_equal(setting(f, 2)->key->name, "Floor");
	assert_string_equal(setting(f, 3)->key->name, "Alert");
	assert_string_equal(setting(f, 4)->key->name, "AllowedCPUs");
	assert_int_equal(setting(f, 4)->line, 16);
}

static void test_name_of_file(void **state)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicyFile) a = vs_policy_file_parse("x/50-web.policy", "[Match]\nName=a\n", diags);
	g_autoptr(VsPolicyFile) b = vs_policy_file_parse("odd.conf", "[Match]\nName=a\n", diags);
	g_autoptr(VsPolicyFile) c = vs_policy_file_parse(".policy", "[Match]\nName=a\n", diags);

	assert_string_equal(a->name, "50-web");
	assert_string_equal(b->name, "odd.conf");
	assert_string_equal(c->name, ".policy");
}

/* The acceptance test: five different mistakes, five precise messages. */
static void test_five_mistakes(void **state)
{
	const char *path = VS_POLICY_DATA "/five-mistakes.policy";
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autofree char *text = NULL;
	g_autofree char *p7 = g_strdup_printf("E %s:7: unknown key Wieght= in [CPU] (did you mean Weight=?)", path);
	g_autofree char *p8 = g_strdup_printf("E %s:8: Placement=dedicted: not one of dedicated, shared (did you mean dedicated?)", path);
	g_autofree char *p9 = g_strdup_printf("E %s:9: Reservation=20ms/10ms: runtime 20ms is longer than the period 10ms", path);
	g_autofree char *p10 = g_strdup_printf("E %s:10: Floor= belongs in [Memory], not [CPU]", path);
	g_autofree char *p13 = g_strdup_printf("E %s:13: Shares=20000000: out of range 1..1000000", path);
	const VsPolicyDiag *d;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	assert_null(vs_policy_file_parse(path, text, diags));
	assert_diags(diags, DIAGS(p7, p8, p9, p10, p13));
	assert_int_equal(vs_policy_diags_errors(diags), 5);
	d = g_ptr_array_index(diags, 1);
	assert_string_equal(d->file, path);
	assert_int_equal(d->line, 8);
	assert_string_equal(d->key, "Placement");
}

static void check(const char *text, const char *const *want)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicyFile) f = vs_policy_file_parse(F, text, diags);

	assert_diags(diags, want);
	/* A file is returned exactly when it has no error. */
	assert_int_equal(f != NULL, vs_policy_diags_errors(diags) == 0);
}

static void test_unknown(void **state)
{
	check("[Match]\nName=x\n[CPU]\nweight=5\n",
	      DIAGS("E t.policy:4: unknown key weight= in [CPU] (did you mean Weight=?)"));
	check("[Match]\nName=x\n[CPU]\nFlor=5G\n",
	      DIAGS("E t.policy:4: unknown key Flor= in [CPU] (did you mean Floor= in [Memory]?)"));
	check("[Match]\nName=x\n[Steal]\nColour=red\n",
	      DIAGS("E t.policy:4: unknown key Colour= in [Steal]; keys: Alert=, GuestTolerance="));
	check("[Match]\nClas=x\n",
	      DIAGS("E t.policy:2: unknown key Clas= in [Match] (did you mean Class=?)"));
	check("[Match]\nDomain=x\n",
	      DIAGS("E t.policy:2: unknown key Domain= in [Match]; keys: Name=, UUID=, Class="));
	check("[Match]\nName=x\n[Hotplug]\nAlert=cpu>5%\n",
	      DIAGS("E t.policy:4: Alert= belongs in [Steal], not [Hotplug]"));
	/* Keys of an unknown section are not reported one by one. */
	check("[Match]\nName=x\n[Cpu]\nWeight=5\nWieght=5\n[Hotplg]\nEnable=yes\n[Network]\nRate=1\n",
	      DIAGS("E t.policy:3: unknown section [Cpu] (did you mean [CPU]?)",
		    "E t.policy:6: unknown section [Hotplg] (did you mean [Hotplug]?)",
		    "E t.policy:8: unknown section [Network]; sections: [Match], [CPU], [Memory], "
		    "[Hotplug], [Steal]"));
}

static void test_syntax_errors(void **state)
{
	/* The INI reader's messages, as they are, with their lines. */
	check("Weight=5\n[Match\n[Match]\nName\nName=x\n",
	      DIAGS("E t.policy:1: Weight= stands before any [Section] header",
		    "E t.policy:2: section header \"[Match\" lacks its closing ']'",
		    "E t.policy:4: \"Name\" is neither a [Section] nor a Key=Value line"));
}

static void test_values(void **state)
{
	check("[Match]\nName=x\n"
	      "[CPU]\nWeight=20000\nLimit=0%\nLimitBurst=soon\nAllowedCPUs=\n"
	      "[Memory]\nFloor=15M\nBalloon=maybe\n"
	      "[Hotplug]\nScaleUp=steel>20%\n"
	      "[Steal]\nGuestTolerance=101%\n",
	      DIAGS("E t.policy:4: Weight=20000: out of range 1..10000",
		    "E t.policy:5: Limit=0%: out of range 1%..819200%",
		    "E t.policy:6: LimitBurst=soon: \"soon\" is not a duration (a number with us, "
		    "ms, s, min or h, like 500ms or 2s)",
		    "E t.policy:7: AllowedCPUs=: empty value (allowed: CPU numbers 0..8191 and "
		    "ranges, like 2-7,10)",
		    "E t.policy:9: Floor=15M: out of range 16M..16T",
		    "E t.policy:10: Balloon=maybe: not a boolean (yes or no)",
		    "E t.policy:12: ScaleUp=steel>20%: unknown metric steel (did you mean steal?); "
		    "metrics: steal, steal.contention, steal.cap, steal.reservation, cpu",
		    "E t.policy:14: GuestTolerance=101%: out of range 0%..100%"));
	check("[Match]\nUUID=not-a-uuid\nClass=a b\n",
	      DIAGS("E t.policy:2: UUID=not-a-uuid: not a UUID (like "
		    "6f1c2a0e-9a57-4e0b-8a63-0e4f8a1d2c3b)",
		    "E t.policy:3: Class=a b: not a class name (letters, digits, '_', '.' and '-')"));
}

static void test_set_again(void **state)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicyFile) f = vs_policy_file_parse(F,
		"[Match]\nName=x\nName=y\n[CPU]\nWeight=5\nLimit=50%\nWeight=6\n", diags);

	assert_diags(diags, DIAGS("W t.policy:7: Weight=6: set again (first on line 5); the last "
				  "value counts"));
	assert_non_null(f);
	/* Repeating a [Match] key is no mistake; the last value of another key counts. */
	assert_int_equal(f->match_names->len, 2);
	assert_int_equal(f->settings->len, 2);
	assert_string_equal(setting(f, 0)->key->name, "Limit");
	assert_string_equal(setting(f, 1)->key->name, "Weight");
	assert_int_equal(setting(f, 1)->value->i, 6);
	assert_int_equal(setting(f, 1)->line, 7);
}

static void test_cross_key(void **state)
{
	check("[Match]\nName=x\n[Hotplug]\nEnable=yes\nMinVCPUs=8\nMaxVCPUs=4\n",
	      DIAGS("E t.policy:5: MinVCPUs=8: more than MaxVCPUs=4 (line 6)"));
	check("[Match]\nName=x\n[Hotplug]\nEnable=yes\nMinVCPUs=4\nMaxVCPUs=4\n", DIAGS(NULL));
	check("[Match]\nName=x\n[CPU]\nPlacement=dedicated\nLimit=150%\n",
	      DIAGS("W t.policy:5: Limit=150%: a cap on dedicated CPUs (Placement=dedicated, "
		    "line 4) leaves them idle"));
	check("[Match]\nName=x\n[CPU]\nCoSchedule=gang\n",
	      DIAGS("W t.policy:4: CoSchedule=gang: gang scheduling on shared CPUs needs aligned "
		    "periods: give a Reservation= or a Limit="));
	check("[Match]\nName=x\n[CPU]\nPlacement=shared\nCoSchedule=gang\n",
	      DIAGS("W t.policy:5: CoSchedule=gang: gang scheduling on shared CPUs needs aligned "
		    "periods: give a Reservation= or a Limit="));
	check("[Match]\nName=x\n[CPU]\nCoSchedule=gang\nLimit=200%\n", DIAGS(NULL));
	check("[Match]\nName=x\n[CPU]\nCoSchedule=gang\nReservation=1ms/5ms\n", DIAGS(NULL));
	check("[Match]\nName=x\n[CPU]\nCoSchedule=gang\nPlacement=dedicated\n", DIAGS(NULL));
	check("[Match]\nName=x\n[CPU]\nCoSchedule=relaxed\n", DIAGS(NULL));
	check("[Match]\nName=x\n[Hotplug]\nEnable=no\nMaxVCPUs=4\nStep=2\n[CPU]\nWeight=5\n",
	      DIAGS("W t.policy:5: MaxVCPUs=4: no effect while Enable=no (line 4)",
		    "W t.policy:6: Step=2: no effect while Enable=no (line 4)"));
	/* Enable= from an earlier file may still be yes: only an explicit no warns. */
	check("[Match]\nName=x\n[Hotplug]\nMaxVCPUs=4\n", DIAGS(NULL));
	check("[Match]\nName=x\n[Memory]\nFloor=1G\nBalloon=off\nShares=5\n",
	      DIAGS("W t.policy:4: Floor=1G: no effect while Balloon=off (line 5)",
		    "W t.policy:6: Shares=5: no effect while Balloon=off (line 5)"));
}

static void test_match_warnings(void **state)
{
	check("[CPU]\nWeight=5\n",
	      DIAGS("W t.policy: no [Match] section: this file matches every guest"));
	check("[Match]\n[CPU]\nWeight=5\n",
	      DIAGS("W t.policy:1: [Match] has no Name=, UUID= or Class=: this file matches "
		    "every guest"));
	check("", DIAGS("W t.policy: no [Match] section: this file matches every guest"));
	/* A bad [Match] key is an error already; no warning on top. */
	check("[Match]\nUUID=x\n", DIAGS("E t.policy:2: UUID=x: not a UUID (like "
					 "6f1c2a0e-9a57-4e0b-8a63-0e4f8a1d2c3b)"));
}

/* The shipped examples must check clean, and so must the optional part of
 * 90-batch.policy that is commented out. */
static void test_shipped(void **state)
{
	static const char *const names[] = {
		"10-latency-critical.policy", "50-general.policy", "90-batch.policy",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *path = g_build_filename(VS_POLICY_CONF, names[i], NULL);
		g_autofree char *text = NULL;
		g_autoptr(GPtrArray) diags = vs_policy_diags_new();
		g_autoptr(VsPolicyFile) f = NULL;
		g_autoptr(GRegex) re = g_regex_new("^#(\\[|[A-Z][A-Za-z]*=)", G_REGEX_MULTILINE, 0, NULL);
		g_autofree char *uncommented = NULL;
		g_autoptr(VsPolicyFile) g = NULL;

		assert_true(g_file_get_contents(path, &text, NULL, NULL));
		f = vs_policy_file_parse(path, text, diags);
		for (guint j = 0; j < diags->len; j++)
			print_error("%s\n", ((VsPolicyDiag *)g_ptr_array_index(diags, j))->message);
		assert_int_equal(diags->len, 0);
		assert_non_null(f);
		assert_int_equal(f->match_classes->len, 1);

		uncommented = g_regex_replace(re, text, -1, 0, "\\1", 0, NULL);
		g = vs_policy_file_parse(path, uncommented, diags);
		assert_int_equal(diags->len, 0);
		assert_non_null(g);
		if (strcmp(names[i], "90-batch.policy") == 0)
			assert_true(g->settings->len > f->settings->len);
	}
}

static void test_matches(void **state)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicyFile) names = vs_policy_file_parse(F,
		"[Match]\nName=web-*\nName=db[0-9]\n", diags);
	g_autoptr(VsPolicyFile) all = vs_policy_file_parse(F,
		"[Match]\nName=db*\nUUID=6f1c2a0e-9a57-4e0b-8a63-0e4f8a1d2c3b\n"
		"UUID=00000000-0000-0000-0000-000000000001\nClass=db\nClass=olap\n", diags);
	g_autoptr(VsPolicyFile) none = vs_policy_file_parse(F, "[CPU]\nWeight=5\n", diags);
	const char *u = "6F1C2A0E-9A57-4E0B-8A63-0E4F8A1D2C3B";

	assert_true(vs_policy_file_matches(names, "web-1", NULL, NULL));
	assert_true(vs_policy_file_matches(names, "db7", u, "x"));
	assert_false(vs_policy_file_matches(names, "db10", NULL, NULL));
	assert_false(vs_policy_file_matches(names, "Web-1", NULL, NULL));
	assert_false(vs_policy_file_matches(names, NULL, u, NULL));

	/* Every [Match] key must match, any of its values. */
	assert_true(vs_policy_file_matches(all, "db1", u, "db"));
	assert_true(vs_policy_file_matches(all, "db1", "00000000-0000-0000-0000-000000000001", "olap"));
	assert_false(vs_policy_file_matches(all, "web", u, "db"));
	assert_false(vs_policy_file_matches(all, "db1", "00000000-0000-0000-0000-000000000002", "db"));
	assert_false(vs_policy_file_matches(all, "db1", u, "DB"));
	assert_false(vs_policy_file_matches(all, "db1", u, NULL));

	assert_true(vs_policy_file_matches(none, "anything", NULL, NULL));
	assert_true(vs_policy_file_matches(none, NULL, NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_name_of_file),
		cmocka_unit_test(test_five_mistakes),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_set_again),
		cmocka_unit_test(test_cross_key),
		cmocka_unit_test(test_match_warnings),
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_matches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
