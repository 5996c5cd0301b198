/* org.vsched.Steal (src/ctl/methods.c) on the fake daemon of the control
 * tests with a steal report built from literals: the figures of each
 * window as percentages of the right wall time, per vCPU only for a
 * domain, null for what is not known, the errors (no steal accounting,
 * unknown domain, a defined guest that is not running, unknown
 * parameters). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ctl/methods.h"
#include "steal/report.h"
#include "unit/test-ctl-fixture.h"

#define DB1_UUID "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
#define NS_SEC (UINT64_C(1000000000))

static VsStealReport *report;

static const VsStealReport *fake_steal(gpointer data)
{
	return report;
}

/* db1: one vCPU over 10 s: 4 s run, 5 s steal (3 s contention, 1.5 s cap,
 * 0.5 s reservation), libvirt agreeing; the 1m window the same. */
static VsStealReport *fake_report(void)
{
	VsStealReport *r = vs_steal_report_new();
	VsStealGuestReport *g = vs_steal_guest_report_new(DB1_UUID, "db1");
	VsStealPoint w = { .end_us = 100000000, .span_ns = 10 * NS_SEC, .wall_ns = 10 * NS_SEC,
			   .run_ns = 4 * NS_SEC, .steal_ns = 5 * NS_SEC,
			   .contention_ns = 3 * NS_SEC, .cap_ns = 3 * NS_SEC / 2,
			   .reservation_ns = NS_SEC / 2, .libvirt_wall_ns = 10 * NS_SEC,
			   .libvirt_delay_ns = 5 * NS_SEC + 1000000, .libvirt_ours_ns = 5 * NS_SEC,
			   .n = 10 };
	VsStealVcpuReport v = { .index = 0, .tid = 4242, .last_result = "delta",
				.cgroup = "/sys/fs/cgroup/cpu/machine/qemu-3-db1.libvirt-qemu/vcpu0",
				.reserved_runtime_ns = 2000000, .reserved_period_ns = 10000000,
				.entitlement = 0.5, .has_paths = true, .paths_mono_us = 99,
				.taskstats_run_ns = 7, .taskstats_delay_ns = 8,
				.schedstat_run_ns = 9, .schedstat_delay_ns = 10 };

	r->tick = 12;
	r->source = "taskstats";
	r->check_source = "schedstat";
	r->has_host_cpu = true;
	r->host_busy_pct = 75.0;
	g->guest_view = g_strdup("TCG: guest reports no steal");
	g->windows[VS_STEAL_WINDOW_10S] = w;
	g->windows[VS_STEAL_WINDOW_1M] = w;
	w.entitled_wall_ns = 10 * NS_SEC;
	w.entitled_ns = 5 * NS_SEC;
	w.deficit_ns = NS_SEC;
	for (guint i = 0; i < VS_STEAL_N_WINDOWS; i++)
		v.windows[i] = i == VS_STEAL_WINDOW_5M ? (VsStealPoint){ 0 } : w;
	g_array_append_val(g->vcpus, v);
	g_ptr_array_add(r->guests, g);
	return r;
}

static VsCtlReply *call(CtlFake *fake, bool with_steal, const char *text)
{
	VsCtlBackend backend = ctl_fake_backend(fake);
	g_autoptr(VsCtlReply) error = NULL;
	g_autoptr(VsCtlRequest) req = vs_ctl_request_decode(text, strlen(text), &error);

	assert_non_null(req);
	if (with_steal)
		backend.steal = fake_steal;
	return vs_ctl_methods_call(&backend, req, false);
}

static JsonObject *member(JsonObject *obj, const char *key)
{
	assert_true(json_object_has_member(obj, key));
	return json_object_get_object_member(obj, key);
}

static void test_guests(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(VsCtlReply) reply = NULL;
	JsonObject *p, *g, *w, *host;
	JsonArray *guests;

	report = fake_report();
	reply = call(fake, true, "{\"method\": \"org.vsched.Steal\"}");
	assert_null(reply->error);
	p = reply->parameters;
	assert_int_equal(json_object_get_int_member(p, "tick"), 12);
	assert_string_equal(json_object_get_string_member(p, "source"), "taskstats");
	assert_string_equal(json_object_get_string_member(p, "check_source"), "schedstat");
	assert_true(json_object_get_null_member(p, "source_note"));
	host = member(p, "host");
	assert_int_equal(json_object_get_int_member(host, "cpus"), 2);
	assert_float_equal(json_object_get_double_member(host, "busy_pct"), 75.0, 1e-9);
	assert_float_equal(json_object_get_double_member(member(host, "psi_cpu"), "some_avg10"),
			   3.0, 1e-9);
	guests = json_object_get_array_member(p, "guests");
	assert_int_equal(json_array_get_length(guests), 1);
	g = json_array_get_object_element(guests, 0);
	assert_string_equal(json_object_get_string_member(g, "name"), "db1");
	assert_int_equal(json_object_get_int_member(g, "vcpus"), 1);
	assert_string_equal(json_object_get_string_member(g, "guest_view"),
			    "TCG: guest reports no steal");
	assert_false(json_object_get_boolean_member(g, "alert"));
	/* No vCPUs without a domain. */
	assert_false(json_object_has_member(g, "vcpu"));
	w = member(member(g, "windows"), "10s");
	assert_int_equal(json_object_get_int_member(w, "wall_ns"), 10 * NS_SEC);
	assert_int_equal(json_object_get_int_member(w, "intervals"), 10);
	assert_float_equal(json_object_get_double_member(w, "steal_pct"), 50.0, 1e-9);
	assert_float_equal(json_object_get_double_member(w, "contention_pct"), 30.0, 1e-9);
	assert_float_equal(json_object_get_double_member(w, "cap_pct"), 15.0, 1e-9);
	assert_float_equal(json_object_get_double_member(w, "reservation_pct"), 5.0, 1e-9);
	assert_float_equal(json_object_get_double_member(w, "cpu_pct"), 40.0, 1e-9);
	assert_true(json_object_get_null_member(w, "entitled_pct"));
	assert_true(json_object_get_null_member(w, "deficit_ns"));
	assert_string_equal(json_object_get_string_member(w, "libvirt_check"), "agree");
	/* An empty window: null percentages, never a made-up zero. */
	w = member(member(g, "windows"), "5m");
	assert_true(json_object_get_null_member(w, "steal_pct"));
	assert_string_equal(json_object_get_string_member(w, "libvirt_check"), "unavailable");
	vs_steal_report_free(report);
}

static void test_domain(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(VsCtlReply) reply = NULL;
	JsonObject *g, *v, *w, *paths;
	JsonArray *vcpus;

	report = fake_report();
	/* By id, as virsh: the inventory knows db1 as id 3. */
	reply = call(fake, true, "{\"method\": \"org.vsched.Steal\", \"parameters\": {\"domain\": \"3\"}}");
	assert_null(reply->error);
	assert_int_equal(json_array_get_length(json_object_get_array_member(reply->parameters,
									       "guests")), 1);
	g_clear_pointer(&reply, vs_ctl_reply_free);
	reply = call(fake, true, "{\"method\": \"org.vsched.Steal\", \"parameters\": {\"domain\": \"db1\"}}");
	assert_null(reply->error);
	g = json_array_get_object_element(json_object_get_array_member(reply->parameters, "guests"), 0);
	vcpus = json_object_get_array_member(g, "vcpu");
	assert_int_equal(json_array_get_length(vcpus), 1);
	v = json_array_get_object_element(vcpus, 0);
	assert_int_equal(json_object_get_int_member(v, "tid"), 4242);
	assert_true(json_object_get_null_member(v, "problem"));
	assert_true(json_object_get_null_member(v, "guest_cgroup"));
	assert_int_equal(json_object_get_int_member(member(v, "reservation"), "period_ns"), 10000000);
	assert_float_equal(json_object_get_double_member(v, "entitlement_cpus"), 0.5, 1e-12);
	paths = member(v, "paths");
	assert_int_equal(json_object_get_int_member(member(paths, "taskstats"), "delay_ns"), 8);
	assert_int_equal(json_object_get_int_member(member(paths, "schedstat"), "run_ns"), 9);
	w = member(member(v, "windows"), "1m");
	assert_float_equal(json_object_get_double_member(w, "entitled_pct"), 50.0, 1e-9);
	assert_float_equal(json_object_get_double_member(w, "deficit_pct"), 10.0, 1e-9);
	/* By UUID, upper case. */
	g_clear_pointer(&reply, vs_ctl_reply_free);
	reply = call(fake, true, "{\"method\": \"org.vsched.Steal\", \"parameters\": "
				 "{\"domain\": \"C7A5FDBD-CDAF-9455-926A-D65C16DB1809\"}}");
	assert_null(reply->error);
	assert_int_equal(json_array_get_length(json_object_get_array_member(reply->parameters,
									       "guests")), 1);
	vs_steal_report_free(report);
}

static void test_errors(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(CtlFake) early = ctl_fake_new(false, 0);
	g_autoptr(VsCtlReply) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL, r5 = NULL;

	report = fake_report();
	/* A backend without steal accounting. */
	r1 = call(fake, false, "{\"method\": \"org.vsched.Steal\"}");
	assert_string_equal(r1->error, VS_CTL_ERROR_NOT_READY);
	/* An unknown domain. */
	r2 = call(fake, true, "{\"method\": \"org.vsched.Steal\", \"parameters\": {\"domain\": \"nope\"}}");
	assert_string_equal(r2->error, VS_CTL_ERROR_NO_SUCH_DOMAIN);
	/* "web" is defined but shut off: no guests. */
	r3 = call(fake, true, "{\"method\": \"org.vsched.Steal\", \"parameters\": {\"domain\": \"web\"}}");
	assert_null(r3->error);
	assert_int_equal(json_array_get_length(json_object_get_array_member(r3->parameters, "guests")), 0);
	r4 = call(fake, true, "{\"method\": \"org.vsched.Steal\", \"parameters\": {\"window\": \"1m\"}}");
	assert_string_equal(r4->error, VS_CTL_ERROR_INVALID_PARAMETER);
	/* A domain before the first tick. */
	r5 = call(early, true, "{\"method\": \"org.vsched.Steal\", \"parameters\": {\"domain\": \"web\"}}");
	assert_string_equal(r5->error, VS_CTL_ERROR_NOT_READY);
	vs_steal_report_free(report);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guests),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
