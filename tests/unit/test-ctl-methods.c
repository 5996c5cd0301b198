/* Unit tests for the control methods (src/ctl/methods.c): the JSON each
 * method renders from a snapshot built from literals, compared whole with
 * the shapes of doc/control-protocol.md, and the dispatch rules (unknown
 * method, permissions, NotReady, parameters). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ctl/methods.h"
#include "unit/test-ctl-fixture.h"

/* Decodes the request @text and answers it as the server would. */
static VsCtlReply *call(CtlFake *fake, const char *text, bool privileged)
{
	VsCtlBackend backend = ctl_fake_backend(fake);
	g_autoptr(VsCtlReply) error = NULL;
	g_autoptr(VsCtlRequest) req = vs_ctl_request_decode(text, strlen(text), &error);

	assert_non_null(req);
	return vs_ctl_methods_call(&backend, req, privileged);
}

/* Fails unless @obj equals the JSON object @want. */
static void assert_json(JsonObject *obj, const char *want)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(JsonNode) got = json_node_init_object(json_node_alloc(), obj);
	g_autoptr(GError) error = NULL;

	if (!json_parser_load_from_data(parser, want, -1, &error))
		fail_msg("bad expected JSON: %s", error->message);
	if (!json_node_equal(got, json_parser_get_root(parser))) {
		g_autofree char *text = json_to_string(got, TRUE);
		fail_msg("got:\n%s\nwant:\n%s", text, want);
	}
}

static void assert_error(const VsCtlReply *reply, const char *name, const char *params)
{
	assert_non_null(reply->error);
	assert_string_equal(reply->error, name);
	assert_json(reply->parameters, params);
}

static void test_status(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(VsCtlReply) reply = call(fake, "{\"method\": \"org.vsched.Status\"}", false);

	assert_null(reply->error);
	assert_json(reply->parameters,
		"{\"version\": \"0.1.0\", \"uptime_us\": 5230000, \"ticks\": 6,"
		" \"last_tick_us\": 812, \"last_collect_us\": 790, \"tick_interval_us\": 1000000,"
		" \"dry_run\": false, \"config\": \"/etc/vsched/vschedd.conf\", \"last_error\": null,"
		" \"libvirt\": {\"uri\": \"test:///default\", \"connected\": true, \"reconnects\": 0},"
		" \"host\": {\"cpus\": \"0-1\", \"cpu_count\": 2, \"smt\": false, \"numa_nodes\": 1,"
		"   \"memory\": {\"total\": 25217077248, \"available\": 24100000000,"
		"              \"free\": 20000000000, \"swap_total\": 0, \"swap_free\": 0},"
		"   \"psi_memory\": {\"some_avg10\": 1.5, \"some_avg60\": 0.0,"
		"                  \"full_avg10\": 0.25, \"full_avg60\": 0.0},"
		"   \"psi_cpu\": {\"some_avg10\": 3.0, \"some_avg60\": 0.0,"
		"               \"full_avg10\": null, \"full_avg60\": null},"
		"   \"cgroup\": {\"mode\": \"hybrid\", \"v2_mount\": \"/sys/fs/cgroup/unified\","
		"              \"v2_controllers\": [\"hugetlb\"],"
		"              \"v1_controllers\": [\"cpu\", \"cpuset\", \"memory\"]}},"
		" \"capabilities\": ["
		"   {\"name\": \"deadline\", \"ok\": true, \"detail\": null},"
		"   {\"name\": \"cpuset_partitions\", \"ok\": false, \"detail\": null},"
		"   {\"name\": \"sched_core\", \"ok\": false,"
		"    \"detail\": \"prctl(PR_SCHED_CORE): Invalid argument\"},"
		"   {\"name\": \"taskstats\", \"ok\": true, \"detail\": null},"
		"   {\"name\": \"psi\", \"ok\": true, \"detail\": null},"
		"   {\"name\": \"cgroup_v2_cpu\", \"ok\": false,"
		"    \"detail\": \"cpu is not on the v2 hierarchy\"},"
		"   {\"name\": \"cgroup_v2_cpuset\", \"ok\": false, \"detail\": null},"
		"   {\"name\": \"cgroup_v2_memory\", \"ok\": false, \"detail\": null}],"
		" \"psi_min_window_us\": 2000000}");
}

static void test_not_ready(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(false, 0);
	g_autoptr(VsCtlReply) status = call(fake, "{\"method\": \"org.vsched.Status\"}", false);
	g_autoptr(VsCtlReply) list = call(fake, "{\"method\": \"org.vsched.List\"}", false);
	g_autoptr(VsCtlReply) show = call(fake, "{\"method\": \"org.vsched.Show\", "
					  "\"parameters\": {\"domain\": \"db1\"}}", false);

	/* Status answers before the first tick, without a host. */
	assert_null(status->error);
	assert_true(json_object_get_null_member(status->parameters, "host"));
	assert_int_equal(json_array_get_length(
		json_object_get_array_member(status->parameters, "capabilities")), 0);
	assert_true(json_object_get_null_member(status->parameters, "psi_min_window_us"));
	assert_int_equal(json_object_get_int_member(status->parameters, "ticks"), 6);

	assert_error(list, "org.vsched.NotReady",
		     "{\"reason\": \"the daemon has not completed its first tick\"}");
	assert_string_equal(show->error, "org.vsched.NotReady");
}

static const char db1_summary[] =
	"{\"id\": 3, \"name\": \"db1\", \"uuid\": \"c7a5fdbd-cdaf-9455-926a-d65c16db1809\","
	" \"state\": \"running\", \"vcpus\": {\"current\": 2, \"max\": 4},"
	" \"memory\": {\"current\": 536870912, \"max\": 536870912},"
	" \"class\": \"db\", \"policy\": null}";

static const char web_summary[] =
	"{\"id\": -1, \"name\": \"web\", \"uuid\": \"0c7f3e2a-1111-4222-8333-444455556666\","
	" \"state\": \"shut off\", \"vcpus\": {\"current\": 1, \"max\": 1},"
	" \"memory\": {\"current\": 268435456, \"max\": 268435456},"
	" \"class\": null, \"policy\": null}";

static void test_list(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(VsCtlReply) reply = call(fake, "{\"method\": \"org.vsched.List\"}", false);
	g_autofree char *want = g_strdup_printf("{\"domains\": [%s, %s]}", db1_summary, web_summary);

	assert_null(reply->error);
	assert_json(reply->parameters, want);
}

static void test_show_running(void **state)
{
	static const char *const refs[] = { "db1", "3", "C7A5FDBD-CDAF-9455-926A-D65C16DB1809" };
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);

	for (size_t i = 0; i < G_N_ELEMENTS(refs); i++) {
		g_autofree char *req = g_strdup_printf("{\"method\": \"org.vsched.Show\", "
						       "\"parameters\": {\"domain\": \"%s\"}}", refs[i]);
		g_autoptr(VsCtlReply) reply = call(fake, req, false);
		JsonObject *dom;

		assert_null(reply->error);
		dom = json_object_get_object_member(reply->parameters, "domain");
		assert_json(dom,
			"{\"id\": 3, \"name\": \"db1\","
			" \"uuid\": \"c7a5fdbd-cdaf-9455-926a-d65c16db1809\","
			" \"state\": \"running\", \"vcpus\": {\"current\": 2, \"max\": 4},"
			" \"memory\": {\"current\": 536870912, \"max\": 536870912},"
			" \"class\": \"db\", \"policy\": null,"
			" \"state_reason\": 1, \"pid\": 4242, \"pid_start_time\": 123456,"
			" \"cgroup\": \"/machine/qemu-3-db1.libvirt-qemu\", \"cgroup_v1_cpuset\": null,"
			" \"cpu_time_ns\": 81234567, \"threads_problem\": null,"
			" \"vcpu\": ["
			"  {\"index\": 0, \"online\": true, \"tid\": 4250, \"start_time\": 42500,"
			"   \"comm\": \"CPU 0/TCG\", \"cpu\": 1, \"affinity\": \"0-1\","
			"   \"time_ns\": 80000000, \"delay_ns\": 1200000, \"state\": 1},"
			"  {\"index\": 1, \"online\": true, \"tid\": 0, \"start_time\": 0,"
			"   \"comm\": null, \"cpu\": -1, \"affinity\": null,"
			"   \"time_ns\": null, \"delay_ns\": null, \"state\": null},"
			"  {\"index\": 2, \"online\": false, \"tid\": 0, \"start_time\": 0,"
			"   \"comm\": null, \"cpu\": -1, \"affinity\": null,"
			"   \"time_ns\": null, \"delay_ns\": null, \"state\": null},"
			"  {\"index\": 3, \"online\": false, \"tid\": 0, \"start_time\": 0,"
			"   \"comm\": null, \"cpu\": -1, \"affinity\": null,"
			"   \"time_ns\": null, \"delay_ns\": null, \"state\": null}],"
			" \"emulator\": [{\"tid\": 4242, \"start_time\": 42420,"
			"   \"comm\": \"qemu-system-x86\", \"cpu\": 0, \"affinity\": \"0-1\"}],"
			" \"iothreads\": [{\"tid\": 4260, \"start_time\": 42600,"
			"   \"comm\": \"IO iothread1\", \"cpu\": 1, \"affinity\": \"1\"}],"
			" \"balloon\": {\"current\": 536870912, \"available\": 500000000,"
			"   \"last_update\": 1700000000}}");
	}
}

static void test_show_not_running(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(VsCtlReply) reply = call(fake, "{\"method\": \"org.vsched.Show\", "
					   "\"parameters\": {\"domain\": \"web\"}}", false);
	JsonObject *dom;

	assert_null(reply->error);
	dom = json_object_get_object_member(reply->parameters, "domain");
	/* No statistics: cpu_time_ns null, balloon empty, vCPU offline. */
	assert_json(dom,
		"{\"id\": -1, \"name\": \"web\", \"uuid\": \"0c7f3e2a-1111-4222-8333-444455556666\","
		" \"state\": \"shut off\", \"vcpus\": {\"current\": 1, \"max\": 1},"
		" \"memory\": {\"current\": 268435456, \"max\": 268435456},"
		" \"class\": null, \"policy\": null,"
		" \"state_reason\": 1, \"pid\": 0, \"pid_start_time\": 0,"
		" \"cgroup\": null, \"cgroup_v1_cpuset\": null,"
		" \"cpu_time_ns\": null, \"threads_problem\": null,"
		" \"vcpu\": [{\"index\": 0, \"online\": false, \"tid\": 0, \"start_time\": 0,"
		"   \"comm\": null, \"cpu\": -1, \"affinity\": null,"
		"   \"time_ns\": null, \"delay_ns\": null, \"state\": null}],"
		" \"emulator\": [], \"iothreads\": [], \"balloon\": {}}");
}

static void test_show_bad_requests(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(VsCtlReply) missing = call(fake, "{\"method\": \"org.vsched.Show\"}", false);
	g_autoptr(VsCtlReply) number = call(fake, "{\"method\": \"org.vsched.Show\", "
					    "\"parameters\": {\"domain\": 3}}", false);
	g_autoptr(VsCtlReply) extra = call(fake, "{\"method\": \"org.vsched.Show\", "
					   "\"parameters\": {\"domain\": \"db1\", \"x\": 1}}", false);
	g_autoptr(VsCtlReply) unknown = call(fake, "{\"method\": \"org.vsched.Show\", "
					     "\"parameters\": {\"domain\": \"db9\"}}", false);
	g_autoptr(VsCtlReply) list_param = call(fake, "{\"method\": \"org.vsched.List\", "
						"\"parameters\": {\"all\": true}}", false);

	assert_error(missing, "org.varlink.service.InvalidParameter", "{\"parameter\": \"domain\"}");
	assert_error(number, "org.varlink.service.InvalidParameter", "{\"parameter\": \"domain\"}");
	assert_error(extra, "org.varlink.service.InvalidParameter", "{\"parameter\": \"x\"}");
	assert_error(unknown, "org.vsched.NoSuchDomain", "{\"domain\": \"db9\"}");
	assert_error(list_param, "org.varlink.service.InvalidParameter", "{\"parameter\": \"all\"}");
}

static void test_dispatch(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(VsCtlReply) nf = call(fake, "{\"method\": \"org.vsched.Nope\"}", true);
	g_autoptr(VsCtlReply) tick_user = call(fake, "{\"method\": \"org.vsched.Tick\"}", false);
	g_autoptr(VsCtlReply) reload_user = call(fake, "{\"method\": \"org.vsched.Reload\"}", false);
	g_autoptr(VsCtlReply) tick_root = NULL, reload_root = NULL;

	assert_error(nf, "org.varlink.service.MethodNotFound", "{\"method\": \"org.vsched.Nope\"}");
	assert_error(tick_user, "org.vsched.PermissionDenied", "{\"method\": \"org.vsched.Tick\"}");
	assert_error(reload_user, "org.vsched.PermissionDenied",
		     "{\"method\": \"org.vsched.Reload\"}");
	assert_int_equal(fake->ticks_requested, 0);
	assert_int_equal(fake->reloads_requested, 0);

	tick_root = call(fake, "{\"method\": \"org.vsched.Tick\"}", true);
	reload_root = call(fake, "{\"method\": \"org.vsched.Reload\"}", true);
	assert_null(tick_root->error);
	assert_json(tick_root->parameters, "{}");
	assert_null(reload_root->error);
	assert_int_equal(fake->ticks_requested, 1);
	assert_int_equal(fake->reloads_requested, 1);

	assert_non_null(vs_ctl_method_lookup("org.vsched.Status"));
	assert_false(vs_ctl_method_lookup("org.vsched.Status")->writes);
	assert_true(vs_ctl_method_lookup("org.vsched.Tick")->writes);
	assert_null(vs_ctl_method_lookup("org.vsched.status"));
}

static void test_invalid_utf8(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	VsDomain *db1 = g_ptr_array_index(fake->snapshot->domains, 0);
	VsThread *t = &g_array_index(db1->emulator_threads, VsThread, 0);
	g_autoptr(VsCtlReply) reply = NULL;
	g_autofree char *text = NULL;
	gsize len;
	JsonObject *emu;

	g_free(t->comm);
	t->comm = g_strdup("qemu\xff\xfe");
	reply = call(fake, "{\"method\": \"org.vsched.Show\", \"parameters\": {\"domain\": \"db1\"}}",
		     false);
	emu = json_array_get_object_element(
		json_object_get_array_member(json_object_get_object_member(reply->parameters, "domain"),
					     "emulator"), 0);
	assert_true(g_utf8_validate(json_object_get_string_member(emu, "comm"), -1, NULL));
	assert_true(g_str_has_prefix(json_object_get_string_member(emu, "comm"), "qemu"));
	/* And the encoded reply is a valid message. */
	text = vs_ctl_reply_encode(reply, &len);
	assert_true(g_utf8_validate(text, (gssize)len - 1, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_not_ready),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_show_running),
		cmocka_unit_test(test_show_not_running),
		cmocka_unit_test(test_show_bad_requests),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_invalid_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
