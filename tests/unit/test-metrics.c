/* Unit tests of src/metrics/: the text format's escaping and numbers, the
 * histogram, the whole exposition for a daemon state built from literals
 * against the golden file tests/data/metrics/state.prom (which
 * tests/component/test-metrics.sh also gives to promtool), and the atomic
 * textfile write. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics/metrics.h"
#include "metrics/writer.h"
#include "daemon/conf.h"
#include "mem/guest.h"
#include "mem/plan.h"
#include "mem/pressure.h"

#define NS_SEC (UINT64_C(1000000000))
#define MIB (UINT64_C(1) << 20)

static char *value_text(double v)
{
	GString *s = g_string_new(NULL);

	vs_metrics_writer_value(s, v);
	return g_string_free(s, FALSE);
}

static void assert_value(double v, const char *expected)
{
	g_autofree char *text = value_text(v);

	assert_string_equal(text, expected);
	if (!isnan(v) && !isinf(v))
		assert_true(g_ascii_strtod(text, NULL) == v);
}

static void test_values(void **state)
{
	assert_value(0, "0");
	assert_value(-3, "-3");
	assert_value(1.5, "1.5");
	assert_value(0.1, "0.1");
	assert_value(0.0025, "0.0025");
	assert_value(1e20, "1e+20");
	assert_value(12345678901234567.0, "12345678901234568");
	assert_value(1.25e-7, "1.25e-07");
	assert_value(2.0 / 3.0, "0.6666666666666666");
	assert_value(NAN, "NaN");
	assert_value(INFINITY, "+Inf");
	assert_value(-INFINITY, "-Inf");
}

static void test_escaping(void **state)
{
	g_autoptr(GString) s = g_string_new(NULL);
	const char *labels[] = { "domain", "we\"b\\1\nx", "vcpu", NULL, "cause", "cap", NULL };

	vs_metrics_writer_family(s, "vsched_x", VS_METRICS_GAUGE, "back\\slash \"quoted\"\nnext");
	vs_metrics_writer_sample(s, "vsched_x", labels, 2);
	vs_metrics_writer_sample(s, "vsched_x", NULL, 0.5);
	assert_string_equal(s->str,
			    "# HELP vsched_x back\\\\slash \"quoted\"\\nnext\n"
			    "# TYPE vsched_x gauge\n"
			    "vsched_x{domain=\"we\\\"b\\\\1\\nx\",cause=\"cap\"} 2\n"
			    "vsched_x 0.5\n");
}

static void test_histogram(void **state)
{
	VsMetricsHistogram h = { 0 };
	g_autoptr(GString) s = g_string_new(NULL);

	vs_metrics_histogram_observe(&h, -5);        /* 0 */
	vs_metrics_histogram_observe(&h, 1000);      /* exactly 1 ms: le="0.001" */
	vs_metrics_histogram_observe(&h, 1001);
	vs_metrics_histogram_observe(&h, 30000);
	vs_metrics_histogram_observe(&h, 3000000);   /* past every bound */
	vs_metrics_histogram_write(&h, s, "t_seconds", "T.");
	assert_string_equal(s->str,
			    "# HELP t_seconds T.\n"
			    "# TYPE t_seconds histogram\n"
			    "t_seconds_bucket{le=\"0.001\"} 2\n"
			    "t_seconds_bucket{le=\"0.0025\"} 3\n"
			    "t_seconds_bucket{le=\"0.005\"} 3\n"
			    "t_seconds_bucket{le=\"0.01\"} 3\n"
			    "t_seconds_bucket{le=\"0.025\"} 3\n"
			    "t_seconds_bucket{le=\"0.05\"} 4\n"
			    "t_seconds_bucket{le=\"0.1\"} 4\n"
			    "t_seconds_bucket{le=\"0.25\"} 4\n"
			    "t_seconds_bucket{le=\"0.5\"} 4\n"
			    "t_seconds_bucket{le=\"1\"} 4\n"
			    "t_seconds_bucket{le=\"2.5\"} 4\n"
			    "t_seconds_bucket{le=\"+Inf\"} 5\n"
			    "t_seconds_sum 3.032001\n"
			    "t_seconds_count 5\n");
}

static VsDomain *domain(const char *name, const char *uuid, int state, guint n_vcpus)
{
	VsDomain *dom = vs_domain_new(name, n_vcpus);

	g_strlcpy(dom->uuid, uuid, sizeof(dom->uuid));
	dom->state = state;
	return dom;
}

/* Two running guests (one with a name that needs escaping), one shut off;
 * steal for db1's two vCPUs; a plan with two reservations. */
static char *format_fixture(void)
{
	GPtrArray *domains = g_ptr_array_new_with_free_func((GDestroyNotify)vs_domain_free);
	g_autoptr(VsSnapshot) snap = NULL;
	g_autoptr(VsStealReport) steal = vs_steal_report_new();
	VsStealGuestReport *g = vs_steal_guest_report_new("00000000-0000-4000-8000-000000000001", "db1");
	g_autoptr(VsCpuPlan) plan = g_new0(VsCpuPlan, 1);
	VsMetricsHistogram ticks = { 0 };
	VsDomain *db1 = domain("db1", "00000000-0000-4000-8000-000000000001", 1, 2);
	VsDomain *web = domain("we\"b\\1", "00000000-0000-4000-8000-000000000002", 1, 1);
	const VsDaemonStatus status = {
		.version = "0.1.0", .uptime_us = 90500000, .ticks = 90, .last_tick_us = 1200,
		.last_collect_us = 800, .tick_interval_us = 1000000, .libvirt_uri = "qemu:///system",
		.libvirt_connected = true, .libvirt_reconnects = 2,
	};
	VsMetricsInput in = {
		.status = &status, .tick_durations = &ticks, .policy_files = 3, .overrides = 1,
		.applied_settings = 5,
	};

	db1->pid = 100;
	db1->vcpus_current = 2;
	for (guint i = 0; i < 2; i++) {
		VsVcpu *v = &g_array_index(db1->vcpus, VsVcpu, i);
		v->online = true;
		v->has_stats = true;
		v->time_ns = (i + 1) * 1500 * NS_SEC / 1000;
	}
	web->pid = 200;
	web->vcpus_current = 1;
	g_array_index(web->vcpus, VsVcpu, 0).online = true; /* no stats: no run sample */
	g_ptr_array_add(domains, db1);
	g_ptr_array_add(domains, web);
	g_ptr_array_add(domains, domain("old", "00000000-0000-4000-8000-000000000003", 5, 1));
	snap = vs_snapshot_new(90, 1, 2, NULL, domains, true);

	for (guint i = 0; i < 2; i++) {
		VsStealVcpuReport v = { .index = i, .tid = 1000 + (pid_t)i };
		v.total.contention_ns = (i + 1) * NS_SEC;
		v.total.cap_ns = NS_SEC / 4;
		v.total.reservation_ns = 0;
		g_array_append_val(g->vcpus, v);
	}
	g->windows[VS_STEAL_WINDOW_10S] = (VsStealPoint){ .wall_ns = 20 * NS_SEC,
							  .steal_ns = 5 * NS_SEC };
	g->alert = true;
	g_ptr_array_add(steal->guests, g);

	plan->actions = g_ptr_array_new_with_free_func((GDestroyNotify)vs_cpu_action_free);
	plan->reasons = g_hash_table_new(g_str_hash, g_str_equal);
	plan->vcpus = g_hash_table_new(g_str_hash, g_str_equal);
	for (int k = 0; k < 4; k++) {
		VsCpuAction *a = g_new0(VsCpuAction, 1);
		a->kind = k < 2 ? VS_CPU_ACTION_AFFINITY : VS_CPU_ACTION_DEADLINE;
		g_ptr_array_add(plan->actions, a);
	}

	vs_metrics_histogram_observe(&ticks, 1200);
	vs_metrics_histogram_observe(&ticks, 40000);
	in.snapshot = snap;
	in.steal = steal;
	in.cpu_plan = plan;
	return vs_metrics_format(&in);
}

static void test_golden(void **state)
{
	const char *top = g_getenv("top_srcdir");
	g_autofree char *path = g_build_filename(top ? top : ".", "tests", "data", "metrics",
						 "state.prom", NULL);
	g_autofree char *expected = NULL;
	g_autofree char *text = format_fixture();

	if (!g_file_get_contents(path, &expected, NULL, NULL))
		fail_msg("cannot read %s", path);
	if (strcmp(text, expected) != 0) {
		fprintf(stderr, "got:\n%s", text);
		fail_msg("the exposition differs from %s", path);
	}
}

static void test_textfile(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("vsched-metrics-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, VS_METRICS_TEXTFILE_NAME, NULL);
	g_autofree char *missing = g_build_filename(dir, "missing", NULL);
	g_autofree char *contents = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GDir) d = NULL;
	struct stat st;

	assert_non_null(dir);
	assert_int_equal(vs_metrics_textfile_write(dir, "old\n", NULL), 0);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(vs_metrics_textfile_write(dir, "a 1\n", NULL), 0);
	assert_true(g_file_get_contents(path, &contents, NULL, NULL));
	assert_string_equal(contents, "a 1\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* Nothing but the file is left in the directory. */
	d = g_dir_open(dir, 0, NULL);
	assert_string_equal(g_dir_read_name(d), VS_METRICS_TEXTFILE_NAME);
	assert_null(g_dir_read_name(d));

	assert_int_equal(vs_metrics_textfile_write(missing, "a 1\n", &error), -ENOENT);
	assert_non_null(strstr(error->message, missing));

	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* The memory families, from a view like the daemon's memory step gives:
 * the host hard-pressed, one guest of 1 GiB using 256 MiB shrunk by the
 * planner. */
static void test_memory(void **state)
{
	g_autoptr(VsConf) conf = vs_conf_new_default();
	g_autoptr(VsMemPlan) plan = NULL;
	VsMemPressure pressure;
	VsMemGuest g = { 0 };
	VsDomain dom = { .name = (char *)"db1", .mem_current = 1024 * MIB, .mem_max = 1024 * MIB };
	VsDaemonStatus status = { .version = "0.1" };
	VsMetricsInput in = { .status = &status };
	VsMemView view = { 0 };
	g_autofree char *text = NULL;
	g_autofree char *target_line = NULL;
	const VsMemDecision *d;

	g_strlcpy(dom.uuid, "11111111-2222-3333-4444-555555555555", sizeof(dom.uuid));
	vs_mem_guest_init(&g, &dom, NULL, NULL);
	g.stats.trusted = true;
	g.stats.used = 256 * MIB;
	g.stats.usable = 768 * MIB;
	vs_mem_pressure_init(&pressure);
	pressure.state = VS_MEM_HARD;
	{
		const VsMemPlanInput pin = { .now_us = 10 * G_USEC_PER_SEC,
					     .last_plan_us = 9 * G_USEC_PER_SEC,
					     .state = VS_MEM_HARD, .mem_total = 16384 * MIB,
					     .mem_available = 1024 * MIB, .conf = &conf->mem,
					     .guests = &g, .n_guests = 1 };

		assert_int_equal(vs_mem_plan(&pin, &plan), 0);
	}
	d = vs_mem_plan_find(plan, dom.uuid);
	assert_non_null(d);
	assert_true(d->target < g.current);
	view = (VsMemView){ .conf = &conf->mem, .pressure = &pressure, .plan = plan,
			    .guests = &g, .n_guests = 1 };
	in.mem = &view;
	text = vs_metrics_format(&in);
	assert_non_null(strstr(text, "vsched_memory_pressure_state{state=\"hard\"} 1\n"));
	assert_non_null(strstr(text, "vsched_memory_pressure_state{state=\"normal\"} 0\n"));
	assert_non_null(strstr(text, "vsched_balloon_current_bytes{domain=\"db1\"} 1073741824\n"));
	target_line = g_strdup_printf("vsched_balloon_target_bytes{domain=\"db1\"} %" G_GUINT64_FORMAT
				      "\n", d->target);
	assert_non_null(strstr(text, target_line));
	assert_non_null(strstr(text, "# TYPE vsched_balloon_low_bytes gauge\n"));

	/* No memory step: no memory family at all. */
	in.mem = NULL;
	g_free(text);
	text = vs_metrics_format(&in);
	assert_null(strstr(text, "vsched_balloon"));
	assert_null(strstr(text, "vsched_memory_pressure_state"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_textfile),
		cmocka_unit_test(test_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
