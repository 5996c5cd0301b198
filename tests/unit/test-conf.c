/* Unit tests for vschedd.conf loading and validation (src/daemon/conf.c). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <syslog.h>

#include "daemon/conf.h"

typedef struct Fixture {
	char *dir;
	char *path;
	GPtrArray *errors;
	GPtrArray *warnings;
} Fixture;

static int setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);

	f->dir = g_dir_make_tmp("vsched-conf-XXXXXX", NULL);
	f->path = g_build_filename(f->dir, "vschedd.conf", NULL);
	f->errors = g_ptr_array_new_with_free_func(g_free);
	f->warnings = g_ptr_array_new_with_free_func(g_free);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	Fixture *f = *state;

	g_unlink(f->path);
	g_rmdir(f->dir);
	g_free(f->dir);
	g_free(f->path);
	g_ptr_array_unref(f->errors);
	g_ptr_array_unref(f->warnings);
	g_free(f);
	return 0;
}

static VsConf *load(Fixture *f, const char *text)
{
	g_assert_true(g_file_set_contents(f->path, text, -1, NULL));
	return vs_conf_load(f->path, true, f->errors, f->warnings);
}

static const char *error_at(Fixture *f, guint i)
{
	assert_true(i < f->errors->len);
	/* Messages start with the path; compare what follows it. */
	return (const char *)g_ptr_array_index(f->errors, i) + strlen(f->path);
}

static void test_defaults(void **state)
{
	g_autoptr(VsConf) c = vs_conf_new_default();

	assert_int_equal(c->tick_interval_us, 1000000);
	assert_string_equal(c->libvirt_uri, "qemu:///system");
	assert_string_equal(c->control_socket, "/run/vsched/vschedd.sock");
	assert_string_equal(c->sysroot, "");
	assert_int_equal(c->log_level, LOG_INFO);
}

static void test_missing_optional_file(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsConf) c = vs_conf_load("/nonexistent/vschedd.conf", false, f->errors, f->warnings);

	assert_non_null(c);
	assert_int_equal(f->errors->len, 0);
}

static void test_missing_required_file(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsConf) c = vs_conf_load("/nonexistent/vschedd.conf", true, f->errors, f->warnings);

	assert_null(c);
	assert_int_equal(f->errors->len, 1);
	assert_non_null(strstr(g_ptr_array_index(f->errors, 0), "/nonexistent/vschedd.conf: cannot read"));
}

static void test_good(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsConf) c = load(f, "[Daemon]\nTickInterval=250ms\nLibvirtURI=test:///default\n"
				      "SysRoot=/tmp/fixture\nLogLevel=debug\nControlGroup=\n");

	assert_non_null(c);
	assert_int_equal(f->errors->len, 0);
	assert_int_equal(c->tick_interval_us, 250000);
	assert_string_equal(c->libvirt_uri, "test:///default");
	assert_string_equal(c->sysroot, "/tmp/fixture");
	assert_string_equal(c->control_group, "");
	assert_int_equal(c->log_level, LOG_DEBUG);
}

static void test_every_mistake_named(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsConf) c = load(f,
		"[Daemon]\n"
		"TickIntervall=1s\n"
		"TickInterval=5ms\n"
		"ControlSocket=relative/path\n"
		"LogLevel=loud\n"
		"LibvirtURI=\n"
		"[Policy]\n"
		"garbage\n");

	assert_null(c);
	assert_int_equal(f->errors->len, 7);
	assert_string_equal(error_at(f, 0), ":8: \"garbage\" is neither a [Section] nor a Key=Value line");
	assert_string_equal(error_at(f, 1), ":7: unknown section [Policy] (vschedd.conf has only [Daemon])");
	assert_string_equal(error_at(f, 2), ":2: unknown key TickIntervall= in [Daemon] (did you mean TickInterval=?)");
	assert_string_equal(error_at(f, 3), ":3: TickInterval=5ms: out of range 10ms..1min");
	assert_string_equal(error_at(f, 4), ":4: ControlSocket=relative/path: must be an absolute path");
	assert_string_equal(error_at(f, 5), ":5: LogLevel=loud: must be one of err, warning, notice, info, debug");
	assert_string_equal(error_at(f, 6), ":6: LibvirtURI=: must not be empty");
}

static void test_warnings(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsConf) c = load(f, "[Daemon]\nTickInterval=1s\nTickInterval=100ms\nEventDebounce=200ms\n");

	assert_non_null(c);
	assert_int_equal(c->tick_interval_us, 100000);
	assert_int_equal(f->warnings->len, 2);
	assert_non_null(strstr(g_ptr_array_index(f->warnings, 0), ":3: TickInterval= set again"));
	assert_non_null(strstr(g_ptr_array_index(f->warnings, 1), "EventDebounce is not shorter"));
}

static void test_keep_restart_keys(void **state)
{
	g_autoptr(VsConf) running = vs_conf_new_default();
	g_autoptr(VsConf) next = vs_conf_new_default();
	g_autofree const char **names = NULL;

	g_free(next->libvirt_uri);
	next->libvirt_uri = g_strdup("qemu:///session");
	next->tick_interval_us = 2000000;
	names = vs_conf_keep_restart_keys(next, running);
	assert_non_null(names[0]);
	assert_string_equal(names[0], "LibvirtURI");
	assert_null(names[1]);
	assert_string_equal(next->libvirt_uri, "qemu:///system");
	assert_int_equal(next->tick_interval_us, 2000000); /* applies live */
}

static char *cpus_of(const VsCpuSet *set)
{
	return set ? vs_cpuset_format(set) : g_strdup("(auto)");
}

/* The CPU keys: lists, "none", numbers, booleans, and the sets in force. */
static void test_cpu_keys(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsConf) conf = NULL;
	g_autoptr(VsConf) def = vs_conf_new_default();
	g_autoptr(VsCpuSet) online = vs_cpuset_parse("0-7", NULL);
	g_autoptr(VsCpuSet) one = vs_cpuset_parse("3", NULL);
	g_autoptr(GError) error = NULL;
	VsCpuSet *managed = NULL, *hk = NULL;
	g_autofree char *m = NULL, *h = NULL;

	assert_null(def->managed_cpus);
	assert_null(def->housekeeping_cpus);
	assert_true(def->act);
	assert_true(def->overcommit_limit == 4.0);
	assert_string_equal(def->applied_file, "/run/vsched/applied.json");
	/* Defaults: CPU 0 for housekeeping, the rest for vCPUs. */
	assert_int_equal(vs_conf_cpu_sets(def, online, &managed, &hk, &error), 0);
	m = cpus_of(managed);
	h = cpus_of(hk);
	assert_string_equal(m, "1-7");
	assert_string_equal(h, "0");
	g_clear_pointer(&managed, vs_cpuset_free);
	g_clear_pointer(&hk, vs_cpuset_free);
	/* One CPU: no housekeeping CPU. */
	assert_int_equal(vs_conf_cpu_sets(def, one, &managed, &hk, &error), 0);
	assert_true(vs_cpuset_is_empty(hk));
	g_clear_pointer(&managed, vs_cpuset_free);
	g_clear_pointer(&hk, vs_cpuset_free);

	conf = load(f, "[Daemon]\nManagedCPUs=0-3,40\nHousekeepingCPUs=none\n"
		       "OvercommitLimit=2.5\nAct=no\n");
	assert_non_null(conf);
	assert_true(conf->overcommit_limit == 2.5);
	assert_false(conf->act);
	assert_true(vs_cpuset_is_empty(conf->housekeeping_cpus));
	assert_int_equal(vs_conf_cpu_sets(conf, online, &managed, &hk, &error), 0);
	g_free(m);
	m = cpus_of(managed);
	assert_string_equal(m, "0-3");
	assert_true(vs_cpuset_is_empty(hk));
	g_clear_pointer(&managed, vs_cpuset_free);
	g_clear_pointer(&hk, vs_cpuset_free);
	g_clear_pointer(&conf, vs_conf_free);

	/* Housekeeping takes every managed CPU: refused with the sets named. */
	conf = load(f, "[Daemon]\nManagedCPUs=0\nHousekeepingCPUs=0\n");
	assert_non_null(conf);
	assert_int_equal(vs_conf_cpu_sets(conf, online, &managed, &hk, &error), -EINVAL);
	assert_null(managed);
	assert_non_null(strstr(error->message, "no CPU left for vCPUs: ManagedCPUs=0"));
	g_clear_pointer(&conf, vs_conf_free);

	assert_null(load(f, "[Daemon]\nManagedCPUs=0-\nOvercommitLimit=0.5\nAct=maybe\n"
			    "ManagedCPUs=none\nOvercommitLimit=x\n"));
	assert_int_equal(f->errors->len, 4);
	assert_non_null(strstr(error_at(f, 0), ":2: ManagedCPUs=0-: "));
	assert_string_equal(error_at(f, 1), ":3: OvercommitLimit=0.5: must be a number from 1 to 1000");
	assert_string_equal(error_at(f, 2), ":4: Act=maybe: must be yes or no");
	assert_string_equal(error_at(f, 3), ":6: OvercommitLimit=x: must be a number from 1 to 1000");
	g_ptr_array_set_size(f->errors, 0);
	assert_null(load(f, "[Daemon]\nManagedCPUs=none\n"));
	assert_non_null(strstr(error_at(f, 0), ": ManagedCPUs=none: vsched needs at least one CPU"));
}

/* The Memory*= keys: sizes, percentages, their defaults and the checks
 * between them. */
static void test_memory_keys(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsConf) conf = NULL;

	conf = load(f, "[Daemon]\nMemoryBudget=1536M\nMemorySoftAvailable=30%\n"
		       "MemoryHardAvailable=15\nMemoryHysteresis=2.5%\nMemoryMinChange=0\n");
	assert_non_null(conf);
	assert_int_equal(conf->mem.budget, UINT64_C(1536) << 20);
	assert_true(conf->mem.available_pct[VS_MEM_SOFT] == 30);
	assert_true(conf->mem.available_pct[VS_MEM_HARD] == 15);
	assert_true(conf->mem.available_pct[VS_MEM_CRITICAL] == 5);
	assert_true(conf->mem.hysteresis_pct == 2.5);
	assert_int_equal(conf->mem.min_change, 0);
	assert_int_equal(conf->mem.host_step_per_s, UINT64_C(1) << 30);
	assert_int_equal(conf->mem.trigger_window_us, 2000000);
	assert_int_equal(conf->mem.stats_period_us, 1000000);
	g_clear_pointer(&conf, vs_conf_free);

	conf = load(f, "[Daemon]\nMemoryBudget=lots\nMemorySoftPressure=150%\n"
		       "MemoryBudget=1M\nMemoryMinChange=20G\n");
	assert_null(conf);
	assert_int_equal(f->errors->len, 4);
	assert_non_null(strstr(error_at(f, 0), ":2: MemoryBudget=lots: "));
	assert_string_equal(error_at(f, 1), ":3: MemorySoftPressure=150%: must be a percentage "
			    "from 0% to 100%");
	assert_string_equal(error_at(f, 2), ":4: MemoryBudget=1M: out of range 64.0 MiB..1.0 PiB");
	assert_string_equal(error_at(f, 3), ":5: MemoryMinChange=20G: out of range 0 B..16.0 GiB");
	g_ptr_array_set_size(f->errors, 0);

	conf = load(f, "[Daemon]\nMemoryHardAvailable=25%\nMemoryTriggerSome=3s\n"
		       "MemoryStatsPeriod=1500ms\n");
	assert_null(conf);
	assert_int_equal(f->errors->len, 3);
	assert_non_null(strstr(error_at(f, 0), "MemorySoftAvailable=20% > MemoryHardAvailable=25%"));
	assert_non_null(strstr(error_at(f, 1), "must not exceed MemoryTriggerWindow="));
	assert_non_null(strstr(error_at(f, 2), "MemoryStatsPeriod= must be whole seconds"));
}

/* StealSampleTicks=: a whole number of ticks from 1 to 10. */
static void test_steal_keys(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsConf) conf = load(f, "[Daemon]\nStealSampleTicks=3\n");

	assert_non_null(conf);
	assert_float_equal(conf->steal_sample_ticks, 3, 0);
	assert_null(load(f, "[Daemon]\nStealSampleTicks=11\n"));
	assert_string_equal(error_at(f, 0), ":2: StealSampleTicks=11: must be a number from 1 to 10");
	g_ptr_array_set_size(f->errors, 0);
	assert_null(load(f, "[Daemon]\nStealSampleTicks=2.5\n"));
	assert_int_equal(f->errors->len, 1);
	assert_non_null(strstr(error_at(f, 0), "StealSampleTicks=2.5: must be a whole number"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test_setup_teardown(test_missing_optional_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_required_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_mistake_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_warnings, setup, teardown),
		cmocka_unit_test(test_keep_restart_keys),
		cmocka_unit_test_setup_teardown(test_cpu_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_steal_keys, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
