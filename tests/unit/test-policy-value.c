/* Unit tests for the policy key table and value parsing (src/policy/key.c,
 * src/policy/value.c): every type and unit, accepted and refused, with the
 * exact reason an operator is given. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "policy/policy.h"

static const VsPolicyKey *key(const char *spec)
{
	const VsPolicyKey *k = vs_policy_key_lookup(spec);

	if (!k)
		fail_msg("no key %s", spec);
	return k;
}

/* Parses @text as @spec, which must succeed; caller frees. */
static VsPolicyValue *good(const char *spec, const char *text)
{
	g_autofree char *why = NULL;
	VsPolicyValue *v = vs_policy_value_parse(key(spec), text, &why);

	if (!v)
		fail_msg("%s=%s refused: %s", spec, text, why);
	return v;
}

static void bad(const char *spec, const char *text, const char *want)
{
	g_autofree char *why = NULL;
	g_autoptr(VsPolicyValue) v = vs_policy_value_parse(key(spec), text, &why);

	if (v)
		fail_msg("%s=%s accepted", spec, text);
	assert_string_equal(why, want);
}

static void test_table(void **state)
{
	g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
	guint n = 0;

	for (const VsPolicyKey *k = vs_policy_keys; k->name; k++, n++) {
		g_autofree char *why = NULL;
		g_autoptr(VsPolicyValue) v = NULL;

		/* Bare names are unique, so that overrides may use them. */
		assert_false(g_hash_table_contains(names, k->name));
		g_hash_table_add(names, (gpointer)k->name);
		/* Sections are grouped (the man page relies on it). */
		if (k != vs_policy_keys && strcmp(k[-1].section, k->section) != 0)
			for (const VsPolicyKey *j = vs_policy_keys; j < k; j++)
				assert_string_not_equal(j->section, k->section);
		assert_true(k->help && g_str_has_suffix(k->help, "."));
		/* Only [Match] keys and Pin= repeat, and they have no default. */
		assert_int_equal(k->repeatable, strcmp(k->section, "Match") == 0 ||
						strcmp(k->name, "Pin") == 0);
		if (k->repeatable)
			assert_null(k->default_value);
		assert_ptr_equal(vs_policy_key_find(k->section, k->name), k);
		if (!k->default_value)
			continue;
		v = vs_policy_value_parse(k, k->default_value, &why);
		if (!v)
			fail_msg("default %s=%s refused: %s", k->name, k->default_value, why);
		assert_string_equal(v->text, k->default_value);
	}
	assert_int_equal(n, 33);
}

static void test_lookup(void **state)
{
	assert_string_equal(key("Weight")->section, "CPU");
	assert_ptr_equal(key("cpu.weight"), key("Weight"));
	assert_ptr_equal(key("CPU.Weight"), vs_policy_key_find("CPU", "Weight"));
	assert_ptr_equal(key("hotplug.enable"), vs_policy_key_find("Hotplug", "Enable"));
	assert_null(vs_policy_key_lookup("Memory.Weight"));
	assert_null(vs_policy_key_lookup("Wieght"));
	assert_null(vs_policy_key_lookup(""));
	assert_null(vs_policy_key_lookup("."));
	/* Files are case sensitive. */
	assert_null(vs_policy_key_find("CPU", "weight"));
	assert_null(vs_policy_key_find("cpu", "Weight"));
}

static void assert_range(const char *spec, const char *want)
{
	g_autofree char *range = vs_policy_key_range(key(spec));
	assert_string_equal(range, want);
}

static void test_ranges(void **state)
{
	assert_range("Weight", "1..10000");
	assert_range("Limit", "1%..819200%");
	assert_range("IdleTax", "0%..99%");
	assert_range("Floor", "16M..16T");
	assert_range("Margin", "0..64G");
	assert_range("MaxStepPerSecond", "1M..1T");
	assert_range("LimitBurst", "0..10s");
	assert_range("SkewThreshold", "1ms..1s");
	assert_range("Cooldown", "1s..1h");
	assert_range("Placement", "dedicated|shared");
	assert_range("Balloon", "yes|no");
	assert_range("Reservation", "RUNTIME/PERIOD, runtime 100us..1s, period 1ms..1s");
	assert_range("ScaleUp", "METRIC OP THRESHOLD% [for DURATION]");
	assert_string_equal(vs_policy_type_name(key("Floor")->type), "size");
}

static void test_strings(void **state)
{
	g_autoptr(VsPolicyValue) glob = good("Name", " web-[0-9]* ");
	g_autoptr(VsPolicyValue) uuid = good("UUID", "6F1C2A0E-9A57-4E0B-8A63-0E4F8A1D2C3B");
	g_autoptr(VsPolicyValue) word = good("Class", "db.primary_1-a");
	g_autoptr(VsPolicyValue) choice = good("Placement", "Dedicated");
	g_autoptr(VsPolicyValue) copy = vs_policy_value_copy(choice);

	assert_string_equal(glob->str, "web-[0-9]*");
	assert_string_equal(glob->text, "web-[0-9]*");
	assert_string_equal(uuid->str, "6f1c2a0e-9a57-4e0b-8a63-0e4f8a1d2c3b");
	assert_string_equal(word->str, "db.primary_1-a");
	assert_string_equal(choice->str, "dedicated");
	assert_string_equal(choice->text, "Dedicated");
	assert_string_equal(copy->str, "dedicated");
	assert_ptr_not_equal(copy->str, choice->str);

	bad("Name", "", "empty value (allowed: a shell glob)");
	bad("UUID", "6f1c2a0e-9a57-4e0b-8a63", "not a UUID (like 6f1c2a0e-9a57-4e0b-8a63-0e4f8a1d2c3b)");
	bad("Class", "my db", "not a class name (letters, digits, '_', '.' and '-')");
	bad("Placement", "dedicted", "not one of dedicated, shared (did you mean dedicated?)");
	bad("CoSchedule", "always", "not one of none, gang, relaxed");
	bad("Placement", "  ", "empty value (allowed: dedicated|shared)");
}

static void assert_bool(const char *text, bool want)
{
	g_autoptr(VsPolicyValue) v = good("Balloon", text);
	assert_int_equal(v->b, want);
}

static void test_bool(void **state)
{
	assert_bool("yes", true);
	assert_bool("TRUE", true);
	assert_bool("on", true);
	assert_bool("1", true);
	assert_bool("no", false);
	assert_bool("False", false);
	assert_bool("off", false);
	assert_bool("0", false);
	bad("Balloon", "yess", "not a boolean (yes or no)");
	bad("Enable", "2", "not a boolean (yes or no)");
}

static void test_int(void **state)
{
	g_autoptr(VsPolicyValue) lo = good("Weight", "1");
	g_autoptr(VsPolicyValue) hi = good("Weight", "10000");
	g_autoptr(VsPolicyValue) shares = good("Shares", "1000000");

	assert_int_equal(lo->i, 1);
	assert_int_equal(hi->i, 10000);
	assert_int_equal(shares->i, 1000000);
	bad("Weight", "20000", "out of range 1..10000");
	bad("Weight", "0", "out of range 1..10000");
	bad("Weight", "-5", "out of range 1..10000");
	bad("Weight", "99999999999999999999999", "out of range 1..10000");
	bad("Weight", "1e3", "not an integer (allowed: 1..10000)");
	bad("Weight", "100%", "not an integer (allowed: 1..10000)");
	bad("Weight", "0x10", "not an integer (allowed: 1..10000)");
	bad("Weight", "-", "not an integer (allowed: 1..10000)");
	bad("Step", "65", "out of range 1..64");
	bad("MaxVCPUs", "4097", "out of range 1..4096");
}

static void assert_percent(const char *spec, const char *text, double want)
{
	g_autoptr(VsPolicyValue) v = good(spec, text);
	assert_true(v->percent == want);
}

static void test_percent(void **state)
{
	assert_percent("Limit", "150%", 150);
	assert_percent("Limit", "150", 150);
	assert_percent("Limit", "12.5 %", 12.5);
	assert_percent("Limit", "819200%", 819200);
	assert_percent("IdleTax", "0%", 0);
	assert_percent("GuestTolerance", "100%", 100);
	bad("Limit", "0%", "out of range 1%..819200%");
	bad("Limit", "819201%", "out of range 1%..819200%");
	bad("IdleTax", "99.5%", "out of range 0%..99%");
	bad("IdleTax", "x%", "not a percentage (like 50%; allowed: 0%..99%)");
	bad("IdleTax", "50%%", "not a percentage (like 50%; allowed: 0%..99%)");
	bad("IdleTax", "-1%", "not a percentage (like 50%; allowed: 0%..99%)");
	bad("IdleTax", ".5%", "not a percentage (like 50%; allowed: 0%..99%)");
	bad("IdleTax", "5.%", "not a percentage (like 50%; allowed: 0%..99%)");
	bad("IdleTax", "nan", "not a percentage (like 50%; allowed: 0%..99%)");
}

static void assert_size(const char *spec, const char *text, uint64_t want)
{
	g_autoptr(VsPolicyValue) v = good(spec, text);
	assert_true(v->bytes == want);
}

static void test_size(void **state)
{
	assert_size("Floor", "512M", 512ull << 20);
	assert_size("Floor", "4G", 4ull << 30);
	assert_size("Floor", "16384K", 16ull << 20);
	assert_size("Floor", "1.5GiB", 3ull << 29);
	assert_size("Floor", "16T", 16ull << 40);
	assert_size("Margin", "0", 0);
	assert_size("Margin", "64G", 64ull << 30);
	assert_size("MaxStepPerSecond", "1048576", 1ull << 20);
	bad("Floor", "15M", "out of range 16M..16T");
	bad("Floor", "17T", "out of range 16M..16T");
	bad("Floor", "4Q", "\"4Q\" is not a size (a number with K, M, G or T, like 512M or 4G)");
	bad("Margin", "lots", "\"lots\" is not a size (a number with K, M, G or T, like 512M or 4G)");
	bad("Margin", "1e300G", "\"1e300G\" is too large a size");
}

static void assert_duration(const char *spec, const char *text, int64_t want)
{
	g_autoptr(VsPolicyValue) v = good(spec, text);
	assert_int_equal(v->us, want);
}

static void test_duration(void **state)
{
	assert_duration("SkewThreshold", "1ms", 1000);
	assert_duration("SkewThreshold", "1000us", 1000);
	assert_duration("SkewThreshold", "0.5s", 500000);
	assert_duration("LimitBurst", "0", 0);
	assert_duration("Cooldown", "2min", 120000000);
	assert_duration("Cooldown", "1h", 3600000000);
	assert_duration("Cooldown", "30", 30000000);
	bad("SkewThreshold", "999us", "out of range 1ms..1s");
	bad("LimitBurst", "11s", "out of range 0..10s");
	bad("Cooldown", "2h", "out of range 1s..1h");
	bad("Cooldown", "soon",
	    "\"soon\" is not a duration (a number with us, ms, s, min or h, like 500ms or 2s)");
	bad("Cooldown", "10 days",
	    "\"10 days\" is not a duration (a number with us, ms, s, min or h, like 500ms or 2s)");
}

static void test_cpulist(void **state)
{
	g_autoptr(VsPolicyValue) v = good("AllowedCPUs", "2-7,10");
	g_autoptr(VsPolicyValue) copy = vs_policy_value_copy(v);
	g_autofree char *text = vs_cpuset_format(copy->cpus);

	assert_int_equal(vs_cpuset_count(v->cpus), 7);
	assert_string_equal(text, "2-7,10");
	assert_ptr_not_equal(copy->cpus, v->cpus);
	bad("AllowedCPUs", "7-2",
	    "bad CPU list \"7-2\": \"7-2\" is not a CPU number or range (0..8191, like 2-7,10)");
	bad("AllowedCPUs", "8192",
	    "bad CPU list \"8192\": \"8192\" is not a CPU number or range (0..8191, like 2-7,10)");
	bad("AllowedCPUs", " , ",
	    "bad CPU list \",\": \"\" is not a CPU number or range (0..8191, like 2-7,10)");
	bad("AllowedCPUs", "", "empty value (allowed: CPU numbers 0..8191 and ranges, like 2-7,10)");
}

static void assert_reservation(const char *text, int64_t runtime, int64_t period)
{
	g_autoptr(VsPolicyValue) v = good("Reservation", text);
	assert_int_equal(v->res.runtime_us, runtime);
	assert_int_equal(v->res.period_us, period);
}

static void test_reservation(void **state)
{
	assert_reservation("2ms/10ms", 2000, 10000);
	assert_reservation(" 100us / 1ms ", 100, 1000);
	assert_reservation("1s/1s", 1000000, 1000000);
	bad("Reservation", "2ms", "not a reservation (RUNTIME/PERIOD, like 2ms/10ms)");
	bad("Reservation", "1ms/2ms/3ms", "not a reservation (RUNTIME/PERIOD, like 2ms/10ms)");
	bad("Reservation", "20ms/10ms", "runtime 20ms is longer than the period 10ms");
	bad("Reservation", "50us/10ms", "runtime 50us out of range 100us..1s");
	bad("Reservation", "2ms/2s", "period 2s out of range 1ms..1s");
	bad("Reservation", "200us/500us", "period 500us out of range 1ms..1s");
	bad("Reservation", "2ms/",
	    "\"\" is not a duration (a number with us, ms, s, min or h, like 500ms or 2s)");
	bad("Reservation", "fast/10ms",
	    "\"fast\" is not a duration (a number with us, ms, s, min or h, like 500ms or 2s)");
}

static void assert_condition(const char *text, VsMetric metric, VsCmp cmp, double threshold,
			     int64_t for_us)
{
	g_autoptr(VsPolicyValue) v = good("Alert", text);
	assert_int_equal(v->cond.metric, metric);
	assert_int_equal(v->cond.cmp, cmp);
	assert_true(v->cond.threshold == threshold);
	assert_int_equal(v->cond.for_us, for_us);
}

static void test_condition(void **state)
{
	assert_condition("steal>20% for 30s", VS_METRIC_STEAL, VS_CMP_GT, 20, 30000000);
	assert_condition("steal.contention >= 12.5 % for 500ms", VS_METRIC_STEAL_CONTENTION,
			 VS_CMP_GE, 12.5, 500000);
	assert_condition("steal.cap<5", VS_METRIC_STEAL_CAP, VS_CMP_LT, 5, 0);
	assert_condition("steal.reservation <= 0%", VS_METRIC_STEAL_RESERVATION, VS_CMP_LE, 0, 0);
	assert_condition("cpu>80%for 2min", VS_METRIC_CPU, VS_CMP_GT, 80, 120000000);
	assert_condition("cpu < 100% for 24h", VS_METRIC_CPU, VS_CMP_LT, 100, 86400000000);
	assert_string_equal(vs_policy_metrics[VS_METRIC_STEAL_CAP], "steal.cap");

	bad("Alert", "steel>20%",
	    "unknown metric steel (did you mean steal?); metrics: steal, steal.contention, "
	    "steal.cap, steal.reservation, cpu");
	bad("Alert", "load>2",
	    "unknown metric load; metrics: steal, steal.contention, steal.cap, "
	    "steal.reservation, cpu");
	bad("Alert", ">20%",
	    "not a condition (METRIC OP THRESHOLD% [for DURATION], like steal>20% for 30s)");
	bad("Alert", "cpu=>20%", "expected a comparison (>, >=, <, <=) after cpu");
	bad("Alert", "cpu 20%", "expected a comparison (>, >=, <, <=) after cpu");
	bad("Alert", "cpu>high", "expected a threshold in percent (0..100, like 20%) after >");
	bad("Alert", "cpu<=-1%", "expected a threshold in percent (0..100, like 20%) after <=");
	bad("Alert", "cpu>120% for 30s", "threshold 120% out of range 0..100%");
	bad("Alert", "cpu>20% four 30s",
	    "expected \"for DURATION\" after the threshold, found \"four 30s\"");
	bad("Alert", "cpu>20% 30s", "expected \"for DURATION\" after the threshold, found \"30s\"");
	bad("Alert", "cpu>20% for", "expected \"for DURATION\" after the threshold, found \"for\"");
	bad("Alert", "cpu>20% for 48h", "duration 48h out of range 0..24h");
	bad("Alert", "cpu>20% for ever",
	    "\"ever\" is not a duration (a number with us, ms, s, min or h, like 500ms or 2s)");
	bad("Alert", "", "empty value (allowed: METRIC OP THRESHOLD% [for DURATION])");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_cpulist),
		cmocka_unit_test(test_reservation),
		cmocka_unit_test(test_condition),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
