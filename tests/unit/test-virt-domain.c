/* Unit tests for the domain structs (src/virt/domain.c) and the parts of
 * the connection that need no libvirtd (src/virt/conn.c): the reconnect
 * backoff schedule and a VsVirt that was never started. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <libvirt/libvirt.h>

#include "util/error.h"
#include "virt/virt.h"

static void test_new_free(void **state)
{
	g_autoptr(VsDomain) dom = vs_domain_new("db1", 3);
	VsThread t = { .pid = 1, .tid = 2, .comm = g_strdup("CPU 0/KVM"),
		       .affinity = vs_cpuset_parse("0-1", NULL) };

	assert_string_equal(dom->name, "db1");
	assert_int_equal(dom->id, -1);
	assert_int_equal(dom->vcpus->len, 3);
	for (guint i = 0; i < 3; i++) {
		const VsVcpu *v = &g_array_index(dom->vcpus, VsVcpu, i);
		assert_int_equal(v->index, i);
		assert_false(v->online);
		assert_int_equal(v->thread.tid, 0);
		assert_int_equal(v->thread.cpu, -1);
		assert_null(v->thread.comm);
	}
	assert_int_equal(dom->emulator_threads->len, 0);
	assert_int_equal(dom->io_threads->len, 0);

	/* The arrays free the threads they own (checked by ASan). */
	g_array_index(dom->vcpus, VsVcpu, 1).thread.comm = g_strdup("CPU 1/KVM");
	g_array_index(dom->vcpus, VsVcpu, 1).thread.affinity = vs_cpuset_parse("1", NULL);
	g_array_append_val(dom->io_threads, t);
	t.comm = g_strdup("qemu-system-x86");
	t.affinity = NULL;
	g_array_append_val(dom->emulator_threads, t);
	t = (VsThread){ 0 };   /* the arrays own what it pointed to */
	dom->threads_problem = g_strdup("x");
	dom->metadata_xml = g_strdup("<policy class='db'/>");
	dom->vsched_class = g_strdup("db");
	dom->cgroup_path = g_strdup("/machine");
	dom->cgroup_v1_cpuset = g_strdup("/machine");

	vs_thread_clear(&t);   /* no-op on a cleared thread */
	t.comm = g_strdup("x");
	vs_thread_clear(&t);
	assert_null(t.comm);
	assert_null(t.affinity);
	vs_domain_free(NULL);
}

static void test_state_names(void **state)
{
	assert_string_equal(vs_domain_state_name(VIR_DOMAIN_RUNNING), "running");
	assert_string_equal(vs_domain_state_name(VIR_DOMAIN_PAUSED), "paused");
	assert_string_equal(vs_domain_state_name(VIR_DOMAIN_SHUTOFF), "shut off");
	assert_string_equal(vs_domain_state_name(VIR_DOMAIN_SHUTDOWN), "in shutdown");
	assert_string_equal(vs_domain_state_name(VIR_DOMAIN_BLOCKED), "idle");
	assert_string_equal(vs_domain_state_name(VIR_DOMAIN_CRASHED), "crashed");
	assert_string_equal(vs_domain_state_name(VIR_DOMAIN_PMSUSPENDED), "pmsuspended");
	assert_string_equal(vs_domain_state_name(VIR_DOMAIN_NOSTATE), "no state");
	assert_string_equal(vs_domain_state_name(-1), "unknown");
	assert_string_equal(vs_domain_state_name(99), "unknown");
}

static void test_backoff(void **state)
{
	assert_int_equal(vs_virt_backoff_ms(0), 500);
	assert_int_equal(vs_virt_backoff_ms(1), 1000);
	assert_int_equal(vs_virt_backoff_ms(2), 2000);
	assert_int_equal(vs_virt_backoff_ms(3), 4000);
	assert_int_equal(vs_virt_backoff_ms(4), 8000);
	assert_int_equal(vs_virt_backoff_ms(5), 8000);
	assert_int_equal(vs_virt_backoff_ms(40), 8000);
	assert_int_equal(vs_virt_backoff_ms(G_MAXUINT), 8000);
}

static void test_not_started(void **state)
{
	g_autoptr(VsSys) sys = vs_sys_new(NULL);
	g_autoptr(VsVirt) virt = vs_virt_new(sys, NULL, NULL, NULL, NULL);
	g_autoptr(GError) error = NULL;
	GPtrArray *domains = (GPtrArray *)0x1;

	assert_string_equal(vs_virt_uri(virt), "qemu:///system");
	assert_false(vs_virt_is_connected(virt));
	assert_int_equal(vs_virt_collect(virt, &domains, &error), -ENOTCONN);
	assert_ptr_equal(domains, (GPtrArray *)0x1);
	assert_true(g_error_matches(error, VS_ERROR, VS_ERROR_UNAVAILABLE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_free),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_not_started),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
