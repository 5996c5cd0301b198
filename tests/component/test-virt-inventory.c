/* Component tests of the libvirt inventory (src/virt/) against the libvirt
 * test driver: test:///<tests/data/virt/testdrv.xml> (db1 and web1 running,
 * idle1 shut off) with thread discovery on the fixture root
 * tests/data/virt/testdrv-root, and test:///default. Checks collection,
 * lifecycle and metadata events delivered in the GLib main context, the
 * disconnected state, and reconnection with backoff. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <glib/gstdio.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "util/error.h"
#include "virt/conn.h"
#include "virt/virt.h"

#define TESTDRV VS_TEST_DATA "/testdrv.xml"
#define FIXTURE_ROOT VS_TEST_DATA "/testdrv-root"
#define STATUS_DIR "/run/libvirt/qemu"
#define WAIT_MS 5000

/* What a test sees of a VsVirt: its events, in order, as text. */
typedef struct {
	GMainContext *context;
	GPtrArray *events;     /* "LIFECYCLE new1 defined (added)", "CONNECTED connected to ..." */
	VsSys *sys;
	VsVirt *virt;
	char *tmpdir;
} Fixture;

static const char *kind_name(VsVirtEventKind kind)
{
	switch (kind) {
	case VS_VIRT_EVENT_CONNECTED:
		return "CONNECTED";
	case VS_VIRT_EVENT_DISCONNECTED:
		return "DISCONNECTED";
	case VS_VIRT_EVENT_LIFECYCLE:
		return "LIFECYCLE";
	case VS_VIRT_EVENT_DEVICE:
		return "DEVICE";
	case VS_VIRT_EVENT_METADATA:
		return "METADATA";
	}
	return "?";
}

static void record(VsVirtEventKind kind, const char *uuid, const char *name,
		   const char *detail, gpointer user_data)
{
	Fixture *f = user_data;

	/* Delivered in the test's main context, never in libvirt's thread. */
	assert_true(g_main_context_is_owner(f->context));
	if (uuid)
		assert_int_equal(strlen(uuid), 36);
	g_ptr_array_add(f->events, name ? g_strdup_printf("%s %s %s", kind_name(kind), name, detail)
					: g_strdup_printf("%s %s", kind_name(kind), detail));
}

static guint count_events(Fixture *f, const char *prefix)
{
	guint n = 0;

	for (guint i = 0; i < f->events->len; i++)
		if (g_str_has_prefix(g_ptr_array_index(f->events, i), prefix))
			n++;
	return n;
}

static gboolean set_flag(gpointer data)
{
	*(bool *)data = true;
	return G_SOURCE_REMOVE;
}

/* Runs the main context until @n events start with @prefix, or @ms pass. */
static bool wait_events(Fixture *f, const char *prefix, guint n, guint ms)
{
	bool timed_out = false;
	GSource *timer = g_timeout_source_new(ms);

	g_source_set_callback(timer, set_flag, &timed_out, NULL);
	g_source_attach(timer, f->context);
	while (count_events(f, prefix) < n && !timed_out)
		g_main_context_iteration(f->context, TRUE);
	g_source_destroy(timer);
	g_source_unref(timer);
	if (count_events(f, prefix) < n) {
		for (guint i = 0; i < f->events->len; i++)
			print_message("event: %s\n", (char *)g_ptr_array_index(f->events, i));
		return false;
	}
	return true;
}

/* Runs the main context for @ms. */
static void run_for(Fixture *f, guint ms)
{
	bool done = false;
	GSource *timer = g_timeout_source_new(ms);

	g_source_set_callback(timer, set_flag, &done, NULL);
	g_source_attach(timer, f->context);
	while (!done)
		g_main_context_iteration(f->context, TRUE);
	g_source_unref(timer);
}

static int setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);

	f->context = g_main_context_new();
	g_main_context_push_thread_default(f->context);
	f->events = g_ptr_array_new_with_free_func(g_free);
	f->sys = vs_sys_new(FIXTURE_ROOT);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	Fixture *f = *state;

	vs_virt_free(f->virt);
	/* Let messages queued before the free reach (and be dropped by) the
	 * freed VsVirt's link. */
	while (g_main_context_iteration(f->context, FALSE))
		;
	g_main_context_pop_thread_default(f->context);
	g_main_context_unref(f->context);
	g_ptr_array_unref(f->events);
	vs_sys_free(f->sys);
	g_free(f->tmpdir);
	g_free(f);
	return 0;
}

static void start(Fixture *f, const char *uri)
{
	f->virt = vs_virt_new(f->sys, uri, STATUS_DIR, record, f);
	vs_virt_start(f->virt);
}

static GPtrArray *collect(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *domains = NULL;
	int r = vs_virt_collect(f->virt, &domains, &error);

	if (r < 0)
		fail_msg("collect: %d %s", r, error ? error->message : "");
	return domains;
}

static const VsDomain *find(GPtrArray *domains, const char *name)
{
	for (guint i = 0; i < domains->len; i++) {
		const VsDomain *d = g_ptr_array_index(domains, i);
		if (strcmp(d->name, name) == 0)
			return d;
	}
	return NULL;
}

static const VsThread *vcpu_thread(const VsDomain *dom, guint i)
{
	return &g_array_index(dom->vcpus, VsVcpu, i).thread;
}

static void assert_fixture_domains(GPtrArray *domains)
{
	const VsDomain *db1, *web1, *idle1;

	assert_int_equal(domains->len, 3);
	/* Sorted by name. */
	db1 = g_ptr_array_index(domains, 0);
	idle1 = g_ptr_array_index(domains, 1);
	web1 = g_ptr_array_index(domains, 2);
	assert_string_equal(db1->name, "db1");
	assert_string_equal(idle1->name, "idle1");
	assert_string_equal(web1->name, "web1");

	assert_string_equal(db1->uuid, "6e3d9f2a-1b7c-4c3e-8d2f-5a4b3c2d1e01");
	assert_true(db1->id > 0);
	assert_int_equal(db1->state, VIR_DOMAIN_RUNNING);
	assert_int_equal(db1->vcpus_current, 2);
	assert_int_equal(db1->vcpus_max, 4);
	assert_int_equal(db1->vcpus->len, 4);
	assert_true(g_array_index(db1->vcpus, VsVcpu, 0).online);
	assert_true(g_array_index(db1->vcpus, VsVcpu, 1).online);
	assert_false(g_array_index(db1->vcpus, VsVcpu, 2).online);
	assert_false(g_array_index(db1->vcpus, VsVcpu, 3).online);
	assert_int_equal(db1->mem_current, 1024ull << 20);
	assert_int_equal(db1->mem_max, 2048ull << 20);
	assert_string_equal(db1->vsched_class, "db");
	assert_non_null(strstr(db1->metadata_xml, "class=\"db\""));
	/* Threads from the fixture root. */
	assert_null(db1->threads_problem);
	assert_int_equal(db1->pid, 1000);
	assert_int_equal(db1->pid_start_time, 20000);
	assert_string_equal(db1->cgroup_path, "/machine/qemu-7-db1.libvirt-qemu/emulator");
	assert_int_equal(vcpu_thread(db1, 0)->tid, 1001);
	assert_string_equal(vcpu_thread(db1, 0)->comm, "CPU 0/TCG");
	assert_int_equal(vcpu_thread(db1, 1)->tid, 1002);
	assert_int_equal(vcpu_thread(db1, 1)->cpu, 1);
	assert_int_equal(vcpu_thread(db1, 2)->tid, 0);
	assert_int_equal(vcpu_thread(db1, 3)->tid, 0);
	assert_int_equal(db1->io_threads->len, 1);
	assert_int_equal(g_array_index(db1->io_threads, VsThread, 0).tid, 1003);
	assert_int_equal(db1->emulator_threads->len, 2);
	assert_int_equal(g_array_index(db1->emulator_threads, VsThread, 0).tid, 1000);
	assert_int_equal(g_array_index(db1->emulator_threads, VsThread, 1).tid, 1004);
	assert_true(db1->has_stats);

	assert_int_equal(web1->state, VIR_DOMAIN_RUNNING);
	assert_int_equal(web1->vcpus_current, 1);
	assert_int_equal(web1->vcpus_max, 1);
	assert_int_equal(web1->mem_max, 512ull << 20);
	assert_null(web1->vsched_class);
	assert_null(web1->metadata_xml);
	assert_null(web1->threads_problem);
	assert_int_equal(web1->pid, 2000);
	assert_int_equal(vcpu_thread(web1, 0)->tid, 2001);
	assert_int_equal(web1->emulator_threads->len, 1);

	assert_int_equal(idle1->id, -1);
	assert_int_equal(idle1->state, VIR_DOMAIN_SHUTOFF);
	assert_int_equal(idle1->vcpus_current, 2);
	assert_int_equal(idle1->vcpus_max, 2);
	assert_true(g_array_index(idle1->vcpus, VsVcpu, 1).online);
	assert_int_equal(idle1->pid, 0);
	assert_null(idle1->threads_problem);
	assert_int_equal(vcpu_thread(idle1, 0)->tid, 0);
	assert_int_equal(idle1->emulator_threads->len, 0);
}

static void test_collect(void **state)
{
	Fixture *f = *state;
	g_autoptr(GPtrArray) domains = NULL;

	start(f, "test://" TESTDRV);
	assert_true(vs_virt_is_connected(f->virt));
	assert_string_equal(vs_virt_uri(f->virt), "test://" TESTDRV);
	assert_int_equal(f->events->len, 1);
	assert_string_equal(g_ptr_array_index(f->events, 0), "CONNECTED connected to test://" TESTDRV);

	domains = collect(f);
	assert_fixture_domains(domains);
}

static const char new_domain_xml[] =
	"<domain type='test'><name>new1</name>"
	"<uuid>6e3d9f2a-1b7c-4c3e-8d2f-5a4b3c2d1e09</uuid>"
	"<memory unit='MiB'>128</memory><vcpu current='1'>2</vcpu>"
	"<os><type>hvm</type></os></domain>";

static void test_lifecycle(void **state)
{
	Fixture *f = *state;
	g_autoptr(GPtrArray) before = NULL, running = NULL, stopped = NULL, after = NULL;
	virConnectPtr conn;
	virDomainPtr dom;
	const VsDomain *d;

	start(f, "test://" TESTDRV);
	conn = vs_conn_get(f->virt);
	assert_non_null(conn);
	before = collect(f);
	assert_int_equal(before->len, 3);

	dom = virDomainDefineXML(conn, new_domain_xml);
	assert_non_null(dom);
	assert_int_equal(virDomainCreate(dom), 0);
	assert_true(wait_events(f, "LIFECYCLE new1 started (booted)", 1, WAIT_MS));
	assert_int_equal(count_events(f, "LIFECYCLE new1 defined (added)"), 1);

	running = collect(f);
	assert_int_equal(running->len, 4);
	d = find(running, "new1");
	assert_non_null(d);
	assert_int_equal(d->state, VIR_DOMAIN_RUNNING);
	assert_int_equal(d->vcpus_current, 1);
	assert_int_equal(d->vcpus_max, 2);
	/* No status XML for it under the fixture root: said, not failed. */
	assert_int_equal(d->pid, 0);
	assert_non_null(d->threads_problem);
	assert_non_null(strstr(d->threads_problem, "no QEMU PID"));

	assert_int_equal(virDomainDestroy(dom), 0);
	assert_true(wait_events(f, "LIFECYCLE new1 stopped (destroyed)", 1, WAIT_MS));
	stopped = collect(f);
	assert_int_equal(stopped->len, 4);
	d = find(stopped, "new1");
	assert_int_equal(d->state, VIR_DOMAIN_SHUTOFF);
	assert_int_equal(d->id, -1);
	assert_null(d->threads_problem);

	assert_int_equal(virDomainUndefine(dom), 0);
	virDomainFree(dom);
	assert_true(wait_events(f, "LIFECYCLE new1 undefined (removed)", 1, WAIT_MS));
	after = collect(f);
	assert_fixture_domains(after);
	/* One callback per event: each happened once. */
	assert_int_equal(count_events(f, "LIFECYCLE new1 "), 4);
}

static void test_metadata_event(void **state)
{
	Fixture *f = *state;
	g_autoptr(GPtrArray) domains = NULL;
	virDomainPtr dom;

	start(f, "test://" TESTDRV);
	dom = virDomainLookupByName(vs_conn_get(f->virt), "web1");
	assert_non_null(dom);
	assert_int_equal(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
					      "<policy class='web'/>", "vsched", VS_METADATA_NS,
					      VIR_DOMAIN_AFFECT_LIVE), 0);
	virDomainFree(dom);
	assert_true(wait_events(f, "METADATA web1 metadata changed: " VS_METADATA_NS, 1, WAIT_MS));
	domains = collect(f);
	assert_string_equal(find(domains, "web1")->vsched_class, "web");
}

static void test_default_driver(void **state)
{
	Fixture *f = *state;
	g_autoptr(GPtrArray) domains = NULL;
	const VsDomain *d;

	start(f, "test:///default");
	domains = collect(f);
	d = find(domains, "test");
	assert_non_null(d);
	assert_int_equal(d->state, VIR_DOMAIN_RUNNING);
	assert_true(d->vcpus_max >= d->vcpus_current);
	assert_true(d->vcpus_current >= 1);
	assert_true(d->mem_max > 0);
	assert_int_equal(d->pid, 0);
	assert_non_null(d->threads_problem);
}

static void test_disconnected_then_reconnect(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) first = NULL, second = NULL;
	g_autofree char *node = NULL, *uri = NULL, *xml = NULL;
	GPtrArray *domains = NULL;
	virDomainPtr dom;

	f->tmpdir = g_dir_make_tmp("vsched-virt-XXXXXX", NULL);
	assert_non_null(f->tmpdir);
	node = g_build_filename(f->tmpdir, "node.xml", NULL);
	uri = g_strconcat("test://", node, NULL);

	/* No node file yet: the open fails, and keeps being retried. */
	start(f, uri);
	assert_false(vs_virt_is_connected(f->virt));
	assert_int_equal(count_events(f, "DISCONNECTED cannot connect to test://"), 1);
	assert_int_equal(vs_virt_collect(f->virt, &domains, &error), -ENOTCONN);
	assert_null(domains);
	assert_true(g_error_matches(error, VS_ERROR, VS_ERROR_UNAVAILABLE));
	g_clear_error(&error);
	/* Retries after 0.5 s and 1 s fail again, silently. */
	run_for(f, 1800);
	assert_int_equal(f->events->len, 1);

	assert_true(g_file_get_contents(TESTDRV, &xml, NULL, NULL));
	assert_true(g_file_set_contents(node, xml, -1, NULL));
	/* The next retry is 2 s after the last. */
	assert_true(wait_events(f, "CONNECTED", 1, WAIT_MS));
	assert_true(vs_virt_is_connected(f->virt));
	first = collect(f);
	assert_fixture_domains(first);

	/* The connection is lost: collect says so at once, and the VsVirt
	 * reconnects after 0.5 s. */
	vs_conn_lost(f->virt, "connection closed: test");
	assert_false(vs_virt_is_connected(f->virt));
	assert_int_equal(count_events(f, "DISCONNECTED connection closed: test"), 1);
	assert_int_equal(vs_virt_collect(f->virt, &domains, &error), -ENOTCONN);
	g_clear_error(&error);
	assert_true(wait_events(f, "CONNECTED", 2, 2000));

	/* A fresh list: no duplicates; and one event per change on the new
	 * connection (the old callbacks are gone). */
	second = collect(f);
	assert_fixture_domains(second);
	dom = virDomainDefineXML(vs_conn_get(f->virt), new_domain_xml);
	assert_non_null(dom);
	assert_true(wait_events(f, "LIFECYCLE new1 defined", 1, WAIT_MS));
	run_for(f, 200);
	assert_int_equal(count_events(f, "LIFECYCLE new1 defined"), 1);
	virDomainFree(dom);

	g_unlink(node);
	g_rmdir(f->tmpdir);
}

static void test_free_with_events_pending(void **state)
{
	Fixture *f = *state;
	virDomainPtr dom;

	start(f, "test://" TESTDRV);
	dom = virDomainLookupByName(vs_conn_get(f->virt), "web1");
	assert_non_null(dom);
	assert_int_equal(virDomainSuspend(dom), 0);
	virDomainFree(dom);
	/* The event may be queued for the main context already: freeing now
	 * must drop it, not deliver it to freed memory (teardown runs the
	 * context). */
	vs_virt_free(f->virt);
	f->virt = NULL;
	run_for(f, 200);
	assert_int_equal(count_events(f, "LIFECYCLE"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_collect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metadata_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disconnected_then_reconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_with_events_pending, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
