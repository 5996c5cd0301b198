/* Unit tests of the PSI memory triggers (src/mem/psi-trigger.c): the window
 * rounding; the refusals with a reason (no PSI file, a fixture root whose
 * regular file cannot signal events, left unchanged); and on the real
 * kernel, when /proc/pressure/memory is writable, triggers armed with the
 * window this host allows, valid fds that poll() without error, a GSource
 * in the thread-default main context, counters that start at zero, and an
 * fd that fails removing its source and telling the caller. A
 * trigger firing needs real memory pressure, which the integration test
 * provokes; here only arming and polling are proved. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "daemon/conf.h"
#include "host/host.h"
#include "mem/psi-trigger.h"
#include "test-temp-root.h"

#define MS INT64_C(1000)
#define SEC INT64_C(1000000)

static void test_window(void **state)
{
	assert_int_equal(vs_mem_psi_trigger_window_us(2 * SEC, 2 * SEC), 2 * SEC);
	assert_int_equal(vs_mem_psi_trigger_window_us(500 * MS, 2 * SEC), 2 * SEC);
	assert_int_equal(vs_mem_psi_trigger_window_us(3 * SEC, 2 * SEC), 4 * SEC);
	assert_int_equal(vs_mem_psi_trigger_window_us(500 * MS, 0), 500 * MS);
	assert_int_equal(vs_mem_psi_trigger_window_us(100 * MS, 0), 500 * MS);
	assert_int_equal(vs_mem_psi_trigger_window_us(60 * SEC, 0), 10 * SEC);
	assert_int_equal(vs_mem_psi_trigger_window_us(9500 * MS, 2 * SEC), 10 * SEC);
	assert_int_equal(vs_mem_psi_trigger_window_us(10 * SEC, 3 * SEC), 9 * SEC);
}

static void test_fixture_refused(void **state)
{
	static const char text[] = "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
				   "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
	g_autoptr(VsConf) conf = vs_conf_new_default();
	VsSys *sys = temp_root("/proc/pressure/memory", text, NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *after = NULL;
	VsPsiTrigger *t = NULL;

	assert_int_equal(vs_mem_psi_trigger_new(sys, &conf->mem, 2 * SEC, NULL, NULL, &t, &error),
			 -EOPNOTSUPP);
	assert_null(t);
	assert_non_null(strstr(error->message, "not a procfs file"));
	assert_int_equal(vs_sys_read(sys, "/proc/pressure/memory", &after), 0);
	assert_string_equal(after, text);
	temp_root_free(sys);
}

static void test_missing(void **state)
{
	g_autoptr(VsConf) conf = vs_conf_new_default();
	VsSys *sys = temp_root("/proc/meminfo", "MemTotal: 1 kB\n", NULL);
	g_autoptr(GError) error = NULL;
	VsPsiTrigger *t = NULL;

	assert_int_equal(vs_mem_psi_trigger_new(sys, &conf->mem, 2 * SEC, NULL, NULL, &t, &error),
			 -ENOENT);
	assert_null(t);
	assert_non_null(strstr(error->message, "kernel without PSI"));
	temp_root_free(sys);
}

static void test_none_armed(void **state)
{
	g_autoptr(VsConf) conf = vs_conf_new_default();
	VsSys *sys = temp_root("/proc/meminfo", "MemTotal: 1 kB\n", NULL);
	g_autoptr(VsPsiTrigger) t = NULL;

	conf->mem.trigger_some_us = 0;
	conf->mem.trigger_full_us = 0;
	assert_int_equal(vs_mem_psi_trigger_new(sys, &conf->mem, 2 * SEC, NULL, NULL, &t, NULL), 0);
	assert_int_equal(vs_mem_psi_trigger_fd(t, false), -1);
	assert_int_equal(vs_mem_psi_trigger_fd(t, true), -1);
	assert_null(vs_mem_psi_trigger_lines(t)[0]);
	temp_root_free(sys);
}

static void on_event(bool full, bool failed, gpointer data)
{
	(void)full;
	(void)failed;
	(*(int *)data)++;
}

static void on_failure(bool full, bool failed, gpointer data)
{
	if (failed)
		*(int *)data = full ? 2 : 1;
}

static void test_real(void **state)
{
	g_autoptr(VsConf) conf = vs_conf_new_default();
	g_autoptr(VsSys) sys = vs_sys_new(NULL);
	g_autoptr(VsHost) host = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(VsPsiTrigger) t = NULL;
	g_autoptr(GMainContext) ctx = g_main_context_new();
	int calls = 0;
	guint some = 99, full = 99;

	if (access("/proc/pressure/memory", W_OK) != 0)
		skip();
	host = vs_host_collect(sys, &error);
	assert_non_null(host);
	vs_host_probe_caps(host, sys);
	g_main_context_push_thread_default(ctx);
	if (vs_mem_psi_trigger_new(sys, &conf->mem, host->caps.psi_min_window_us, on_event, &calls,
				   &t, &error) < 0) {
		g_main_context_pop_thread_default(ctx);
		fail_msg("arming failed: %s", error->message);
	}
	for (int i = 0; i < 2; i++) {
		struct pollfd pfd = { .fd = vs_mem_psi_trigger_fd(t, i == 1), .events = POLLPRI };

		assert_true(pfd.fd >= 0);
		assert_true(poll(&pfd, 1, 0) >= 0);
		assert_false(pfd.revents & (POLLERR | POLLNVAL));
	}
	assert_non_null(strstr(vs_mem_psi_trigger_lines(t)[0], "some 150000 2000000"));
	assert_non_null(strstr(vs_mem_psi_trigger_lines(t)[1], "full 100000 2000000"));
	/* The sources live in our context: iterating it dispatches nothing
	 * on an idle machine, or counts events it does dispatch. */
	while (g_main_context_iteration(ctx, FALSE))
		;
	vs_mem_psi_trigger_take_events(t, &some, &full);
	assert_int_equal(some + full, (guint)calls);
	vs_mem_psi_trigger_take_events(t, &some, &full);
	assert_int_equal(some + full, 0);
	g_clear_pointer(&t, vs_mem_psi_trigger_free);
	g_main_context_pop_thread_default(ctx);
}

/* An fd that stops being pollable (here: closed behind the source's back,
 * which poll() reports as POLLNVAL) removes its source and tells the
 * caller, who falls back to polling; the other trigger stays. */
static void test_real_failure(void **state)
{
	g_autoptr(VsConf) conf = vs_conf_new_default();
	g_autoptr(VsSys) sys = vs_sys_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(VsPsiTrigger) t = NULL;
	g_autoptr(GMainContext) ctx = g_main_context_new();
	int failed = 0;

	if (access("/proc/pressure/memory", W_OK) != 0)
		skip();
	conf->mem.trigger_window_us = 2 * SEC;
	g_main_context_push_thread_default(ctx);
	assert_int_equal(vs_mem_psi_trigger_new(sys, &conf->mem, 2 * SEC, on_failure, &failed, &t,
						&error), 0);
	assert_int_equal(close(vs_mem_psi_trigger_fd(t, false)), 0);
	for (int i = 0; i < 100 && !failed; i++)
		g_main_context_iteration(ctx, FALSE);
	assert_int_equal(failed, 1);
	assert_int_equal(vs_mem_psi_trigger_fd(t, false), -1);
	assert_true(vs_mem_psi_trigger_fd(t, true) >= 0);
	g_clear_pointer(&t, vs_mem_psi_trigger_free);
	g_main_context_pop_thread_default(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_fixture_refused),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_none_armed),
		cmocka_unit_test(test_real),
		cmocka_unit_test(test_real_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
