/* Unit tests for the control methods (src/ctl/methods.c): the JSON each
 * method renders from a snapshot and a policy set built from literals,
 * compared whole with the shapes of doc/control-protocol.md, the policy
 * methods (Explain and the overrides) and the dispatch rules (unknown
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
		" \"tick_cost\": {\"ticks\": 6, \"phases\": {"
		"   \"host\": {\"last_us\": 10, \"mean_us\": 10, \"max_us\": 12, \"total_us\": 60},"
		"   \"libvirt\": {\"last_us\": 300, \"mean_us\": 300, \"max_us\": 320, \"total_us\": 1800},"
		"   \"threads\": {\"last_us\": 200, \"mean_us\": 200, \"max_us\": 230, \"total_us\": 1200},"
		"   \"stats\": {\"last_us\": 40, \"mean_us\": 40, \"max_us\": 45, \"total_us\": 240},"
		"   \"steal\": {\"last_us\": 60, \"mean_us\": 60, \"max_us\": 70, \"total_us\": 360},"
		"   \"changes\": {\"last_us\": 5, \"mean_us\": 5, \"max_us\": 9, \"total_us\": 30},"
		"   \"cpu\": {\"last_us\": 20, \"mean_us\": 83, \"max_us\": 400, \"total_us\": 500},"
		"   \"mem\": {\"last_us\": 15, \"mean_us\": 15, \"max_us\": 16, \"total_us\": 90}}},"
		" \"dry_run\": false, \"config\": \"/etc/vsched/vschedd.conf\", \"last_error\": null,"
		" \"policy\": {\"dir\": \"/etc/vsched/policy.d\", \"files\": 2, \"error\": null},"
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
	assert_json(json_object_get_object_member(status->parameters, "policy"),
		    "{\"dir\": \"/etc/vsched/policy.d\", \"files\": 2, \"error\": null}");

	assert_error(list, "org.vsched.NotReady",
		     "{\"reason\": \"the daemon has not completed its first tick\"}");
	assert_string_equal(show->error, "org.vsched.NotReady");
}

static const char db1_summary[] =
	"{\"id\": 3, \"name\": \"db1\", \"uuid\": \"c7a5fdbd-cdaf-9455-926a-d65c16db1809\","
	" \"state\": \"running\", \"vcpus\": {\"current\": 2, \"max\": 4},"
	" \"memory\": {\"current\": 536870912, \"max\": 536870912},"
	" \"class\": \"db\", \"policy\": \"10-all,20-db\"}";

static const char web_summary[] =
	"{\"id\": -1, \"name\": \"web\", \"uuid\": \"0c7f3e2a-1111-4222-8333-444455556666\","
	" \"state\": \"shut off\", \"vcpus\": {\"current\": 1, \"max\": 1},"
	" \"memory\": {\"current\": 268435456, \"max\": 268435456},"
	" \"class\": null, \"policy\": \"10-all\"}";

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
			" \"class\": \"db\", \"policy\": \"10-all,20-db\","
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
			"   \"last_update\": 1700000000}, \"hotplug\": null}");
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
		" \"class\": null, \"policy\": \"10-all\","
		" \"state_reason\": 1, \"pid\": 0, \"pid_start_time\": 0,"
		" \"cgroup\": null, \"cgroup_v1_cpuset\": null,"
		" \"cpu_time_ns\": null, \"threads_problem\": null,"
		" \"vcpu\": [{\"index\": 0, \"online\": false, \"tid\": 0, \"start_time\": 0,"
		"   \"comm\": null, \"cpu\": -1, \"affinity\": null,"
		"   \"time_ns\": null, \"delay_ns\": null, \"state\": null}],"
		" \"emulator\": [], \"iothreads\": [], \"balloon\": {}, \"hotplug\": null}");
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
	assert_true(vs_ctl_method_lookup("org.vsched.SetOverride")->writes);
	assert_true(vs_ctl_method_lookup("org.vsched.ClearOverride")->writes);
	assert_false(vs_ctl_method_lookup("org.vsched.Explain")->writes);
	assert_false(vs_ctl_method_lookup("org.vsched.ListOverrides")->writes);
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
	/* The planners' reasons come beside the domain, as in Explain. */
	assert_int_equal(json_array_get_length(json_object_get_array_member(reply->parameters,
									    "reasons")), 1);
	/* And the encoded reply is a valid message. */
	text = vs_ctl_reply_encode(reply, &len);
	assert_true(g_utf8_validate(text, (gssize)len - 1, NULL));
}

/* Explain, ListOverrides and SetOverride/ClearOverride. */

#define DB1_UUID "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
#define WEB_UUID "0c7f3e2a-1111-4222-8333-444455556666"

/* The number of keys Explain lists: every key of the table but [Match]. */
static guint n_settable_keys(void)
{
	guint n = 0;

	for (const VsPolicyKey *k = vs_policy_keys; k->name; k++)
		if (strcmp(k->section, "Match") != 0)
			n++;
	return n;
}

/* The entry of @key ("CPU.Weight") in the "keys" of an Explain reply. */
static JsonObject *explain_key(JsonObject *params, const char *key)
{
	JsonArray *keys = json_object_get_array_member(params, "keys");

	for (guint i = 0; i < json_array_get_length(keys); i++) {
		JsonObject *k = json_array_get_object_element(keys, i);

		if (strcmp(json_object_get_string_member(k, "key"), key) == 0)
			return k;
	}
	fail_msg("Explain lists no key %s", key);
	return NULL;
}

/* Calls @method with the parameters @params (a JSON object's text). */
static VsCtlReply *call_with(CtlFake *fake, const char *method, const char *params,
			     bool privileged)
{
	g_autofree char *text = g_strdup_printf("{\"method\": \"%s\", \"parameters\": %s}", method,
						params);

	return call(fake, text, privileged);
}

static VsCtlReply *explain(CtlFake *fake, const char *domain)
{
	g_autofree char *params = g_strdup_printf("{\"domain\": \"%s\"}", domain);

	return call_with(fake, "org.vsched.Explain", params, false);
}

static void test_status_policy_error(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(VsCtlReply) status = NULL, list = NULL;
	JsonArray *doms;

	fake->policy_error = g_strdup("/etc/vsched/policy.d/30-x.policy:2: Weight=0: "
				      "out of range 1..10000");
	status = call(fake, "{\"method\": \"org.vsched.Status\"}", false);
	assert_json(json_object_get_object_member(status->parameters, "policy"),
		    "{\"dir\": \"/etc/vsched/policy.d\", \"files\": 2,"
		    " \"error\": \"/etc/vsched/policy.d/30-x.policy:2: Weight=0: "
		    "out of range 1..10000\"}");

	/* Without files no domain has a policy. */
	g_ptr_array_set_size(fake->policies->files, 0);
	list = call(fake, "{\"method\": \"org.vsched.List\"}", false);
	doms = json_object_get_array_member(list->parameters, "domains");
	assert_int_equal(json_array_get_length(doms), 2);
	for (guint i = 0; i < json_array_get_length(doms); i++)
		assert_true(json_object_get_null_member(json_array_get_object_element(doms, i),
							"policy"));
}

static void test_explain(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(VsCtlReply) db1 = explain(fake, "db1");
	g_autoptr(VsCtlReply) web = explain(fake, "web");
	JsonArray *keys;
	guint i = 0;

	assert_null(db1->error);
	assert_json(explain_key(db1->parameters, "CPU.Weight"),
		    "{\"key\": \"CPU.Weight\", \"value\": \"200\", \"origin\": \"file\","
		    " \"file\": \"/etc/vsched/policy.d/20-db.policy\", \"line\": 5}");
	assert_json(explain_key(db1->parameters, "CPU.Placement"),
		    "{\"key\": \"CPU.Placement\", \"value\": \"dedicated\", \"origin\": \"file\","
		    " \"file\": \"/etc/vsched/policy.d/20-db.policy\", \"line\": 6}");
	assert_json(explain_key(db1->parameters, "Memory.Floor"),
		    "{\"key\": \"Memory.Floor\", \"value\": \"256M\", \"origin\": \"file\","
		    " \"file\": \"/etc/vsched/policy.d/10-all.policy\", \"line\": 9}");
	assert_json(explain_key(db1->parameters, "CPU.Siblings"),
		    "{\"key\": \"CPU.Siblings\", \"value\": \"isolate\", \"origin\": \"default\"}");
	assert_json(explain_key(db1->parameters, "CPU.Limit"),
		    "{\"key\": \"CPU.Limit\", \"value\": null, \"origin\": \"default\"}");

	/* Every key but [Match], in table order. */
	keys = json_object_get_array_member(db1->parameters, "keys");
	assert_int_equal(json_array_get_length(keys), n_settable_keys());
	for (const VsPolicyKey *k = vs_policy_keys; k->name; k++) {
		g_autofree char *spec = NULL;

		if (strcmp(k->section, "Match") == 0)
			continue;
		spec = g_strdup_printf("%s.%s", k->section, k->name);
		assert_string_equal(json_object_get_string_member(
			json_array_get_object_element(keys, i++), "key"), spec);
	}
	json_object_remove_member(db1->parameters, "keys");
	assert_json(db1->parameters,
		    "{\"domain\": \"db1\", \"uuid\": \"" DB1_UUID "\", \"class\": \"db\","
		    " \"files\": [\"10-all\", \"20-db\"],"
		    " \"reasons\": [\"vcpu0 of db1 -> CPU 1: dedicated placement"
		    " (policy 20-db.policy:6)\"], \"hotplug\": null}");

	/* web has no class and no planner reasons; 10-all decides its weight. */
	assert_null(web->error);
	assert_json(explain_key(web->parameters, "CPU.Weight"),
		    "{\"key\": \"CPU.Weight\", \"value\": \"50\", \"origin\": \"file\","
		    " \"file\": \"/etc/vsched/policy.d/10-all.policy\", \"line\": 6}");
	assert_json(explain_key(web->parameters, "CPU.Placement"),
		    "{\"key\": \"CPU.Placement\", \"value\": \"shared\", \"origin\": \"default\"}");
	json_object_remove_member(web->parameters, "keys");
	assert_json(web->parameters,
		    "{\"domain\": \"web\", \"uuid\": \"" WEB_UUID "\", \"class\": null,"
		    " \"files\": [\"10-all\"], \"reasons\": [], \"hotplug\": null}");
}

static void test_explain_bad_requests(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(CtlFake) early = ctl_fake_new(false, 0);
	g_autoptr(VsCtlReply) missing = call_with(fake, "org.vsched.Explain", "{}", false);
	g_autoptr(VsCtlReply) extra = call_with(fake, "org.vsched.Explain",
						"{\"domain\": \"db1\", \"key\": \"Weight\"}", false);
	g_autoptr(VsCtlReply) unknown = explain(fake, "db9");
	g_autoptr(VsCtlReply) not_ready = explain(early, "db1");

	assert_error(missing, "org.varlink.service.InvalidParameter", "{\"parameter\": \"domain\"}");
	assert_error(extra, "org.varlink.service.InvalidParameter", "{\"parameter\": \"key\"}");
	assert_error(unknown, "org.vsched.NoSuchDomain", "{\"domain\": \"db9\"}");
	assert_string_equal(not_ready->error, "org.vsched.NotReady");
}

static void test_set_override(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(VsCtlReply) set = NULL, again = NULL, db1 = NULL, later = NULL;
	gint64 before = g_get_real_time(), after, created, expires;
	JsonArray *ovs;
	JsonObject *weight;

	set = call_with(fake, "org.vsched.SetOverride",
			"{\"domain\": \"db1\", \"assignments\": [\"Weight=300\", \"CPU.Limit=150%\"],"
			" \"for_us\": 600000000}", true);
	after = g_get_real_time();
	assert_null(set->error);
	assert_int_equal(fake->overrides_changed, 1);
	assert_int_equal(fake->overrides->items->len, 2);
	assert_int_equal(json_array_get_length(json_object_get_array_member(set->parameters,
									     "warnings")), 0);
	ovs = json_object_get_array_member(set->parameters, "overrides");
	assert_int_equal(json_array_get_length(ovs), 2);
	weight = json_array_get_object_element(ovs, 0);
	created = json_object_get_int_member(weight, "created_us");
	expires = json_object_get_int_member(weight, "expires_us");
	assert_true(created >= before && created <= after);
	assert_int_equal(expires - created, 600000000);
	json_object_remove_member(weight, "created_us");
	json_object_remove_member(weight, "expires_us");
	assert_json(weight, "{\"id\": \"ov-1\", \"domain\": \"db1\", \"uuid\": \"" DB1_UUID "\","
			    " \"key\": \"CPU.Weight\", \"value\": \"300\"}");
	assert_string_equal(json_object_get_string_member(json_array_get_object_element(ovs, 1),
							  "key"), "CPU.Limit");

	/* Explain shows where the value comes from now, and until when. */
	db1 = explain(fake, "db1");
	weight = explain_key(db1->parameters, "CPU.Weight");
	assert_int_equal(json_object_get_int_member(weight, "expires_us"), expires);
	assert_true(json_object_get_int_member(weight, "expires_in_us") > 0);
	assert_true(json_object_get_int_member(weight, "expires_in_us") <= 600000000);
	json_object_remove_member(weight, "expires_us");
	json_object_remove_member(weight, "expires_in_us");
	assert_json(weight, "{\"key\": \"CPU.Weight\", \"value\": \"300\", \"origin\": \"override\","
			    " \"override\": \"ov-1\"}");
	assert_string_equal(json_object_get_string_member(
		explain_key(db1->parameters, "CPU.Limit"), "value"), "150%");

	/* By id, until cleared: replaces the older override of the key. */
	again = call_with(fake, "org.vsched.SetOverride",
			  "{\"domain\": \"3\", \"assignments\": [\"weight=400\"]}", true);
	assert_null(again->error);
	assert_int_equal(fake->overrides_changed, 2);
	ovs = json_object_get_array_member(again->parameters, "overrides");
	assert_int_equal(json_array_get_length(ovs), 2);
	assert_string_equal(json_object_get_string_member(json_array_get_object_element(ovs, 0),
							  "id"), "ov-2");
	weight = json_array_get_object_element(ovs, 1);
	assert_true(json_object_get_null_member(weight, "expires_us"));
	json_object_remove_member(weight, "created_us");
	assert_json(weight, "{\"id\": \"ov-3\", \"domain\": \"db1\", \"uuid\": \"" DB1_UUID "\","
			    " \"key\": \"CPU.Weight\", \"value\": \"400\", \"expires_us\": null}");
	later = explain(fake, "db1");
	assert_json(explain_key(later->parameters, "CPU.Weight"),
		    "{\"key\": \"CPU.Weight\", \"value\": \"400\", \"origin\": \"override\","
		    " \"override\": \"ov-3\", \"expires_us\": null, \"expires_in_us\": null}");
}

static void test_set_override_invalid(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(VsCtlReply) ok = NULL, bad = NULL;
	const VsOverride *ov;

	ok = call_with(fake, "org.vsched.SetOverride",
		       "{\"domain\": \"db1\", \"assignments\": [\"Weight=300\"]}", true);
	assert_null(ok->error);
	bad = call_with(fake, "org.vsched.SetOverride",
			"{\"domain\": \"db1\", \"assignments\": [\"Weight=20000\", \"Wieght=1\","
			" \"Class=db\", \"Limit=150%\", \"Placement\"]}", true);
	assert_error(bad, "org.vsched.InvalidOverride",
		     "{\"errors\": ["
		     "\"override: Weight=20000: out of range 1..10000\","
		     " \"override: unknown key Wieght= (did you mean Weight=?)\","
		     " \"override: Class=db: [Match] keys cannot be overridden\","
		     " \"override: \\\"Placement\\\": not Key=Value (like Weight=200 or CPU.Weight=200)\"]}");
	/* Nothing changed, not even the valid Limit=150%. */
	assert_int_equal(fake->overrides_changed, 1);
	assert_int_equal(fake->overrides->items->len, 1);
	ov = g_ptr_array_index(fake->overrides->items, 0);
	assert_string_equal(ov->value->text, "300");
}

static void test_set_vcpus(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(VsCtlReply) off = NULL, on = NULL, max = NULL, min = NULL, ok = NULL;
	g_autoptr(VsCtlReply) db1 = NULL, bad = NULL;
	JsonObject *ov;

	/* Hotplug.Enable=no (the default): refused, and it says how to enable. */
	off = call_with(fake, "org.vsched.SetVcpus", "{\"domain\": \"db1\", \"vcpus\": 3}", true);
	assert_error(off, "org.vsched.InvalidOverride",
		     "{\"errors\": [\"db1: Hotplug.Enable=no: vsched does not change this guest's "
		     "vCPU count (enable it in a policy or with 'vschedctl override db1 "
		     "Hotplug.Enable=yes')\"]}");
	on = call_with(fake, "org.vsched.SetOverride",
		       "{\"domain\": \"db1\", \"assignments\": [\"Hotplug.Enable=yes\","
		       " \"MinVCPUs=2\"]}", true);
	assert_null(on->error);
	/* db1 has at most 4 vCPUs, and MinVCPUs=2. */
	max = call_with(fake, "org.vsched.SetVcpus", "{\"domain\": \"db1\", \"vcpus\": 5}", true);
	assert_error(max, "org.vsched.InvalidOverride",
		     "{\"errors\": [\"db1: 5 vCPUs: more than the domain's maximum of 4\"]}");
	min = call_with(fake, "org.vsched.SetVcpus", "{\"domain\": \"db1\", \"vcpus\": 1}", true);
	assert_error(min, "org.vsched.InvalidOverride",
		     "{\"errors\": [\"db1: 1 vCPUs: fewer than MinVCPUs=2\"]}");
	assert_int_equal(fake->overrides->items->len, 2);
	assert_int_equal(fake->overrides_changed, 1);

	ok = call_with(fake, "org.vsched.SetVcpus",
		       "{\"domain\": \"db1\", \"vcpus\": 3, \"for_us\": 60000000}", true);
	assert_null(ok->error);
	assert_int_equal(fake->overrides_changed, 2);
	ov = json_array_get_object_element(json_object_get_array_member(ok->parameters,
									 "overrides"), 2);
	assert_string_equal(json_object_get_string_member(ov, "key"), "Hotplug.VCPUs");
	assert_string_equal(json_object_get_string_member(ov, "value"), "3");
	assert_int_equal(json_object_get_int_member(ov, "expires_us") -
				 json_object_get_int_member(ov, "created_us"),
			 60000000);
	db1 = explain(fake, "db1");
	assert_string_equal(json_object_get_string_member(
		explain_key(db1->parameters, "Hotplug.VCPUs"), "origin"), "override");

	bad = call_with(fake, "org.vsched.SetVcpus", "{\"domain\": \"db1\", \"vcpus\": -1}", true);
	assert_error(bad, "org.varlink.service.InvalidParameter", "{\"parameter\": \"vcpus\"}");
	assert_true(vs_ctl_method_lookup("org.vsched.SetVcpus")->writes);
}

/* A hotplug status for db1, as the daemon's actuator keeps it. */
static const VsHotplugStatus *fake_hotplug(gpointer data, const char *uuid)
{
	static const VsHotplugStatus st = {
		.enabled = true, .method = VS_HOTPLUG_ACPI, .current = 2, .min = 1, .max = 4,
		.target = 3, .reason = "hotplug: 2 → 3 vCPUs (acpi): ScaleUp=cpu>80% for 30s holds",
		.pending = "2 → 3 vCPUs (acpi, requested 0.3 s ago)",
		.last_action = "1 → 2 vCPUs (acpi, scale-up), verified 0.3 s after the request",
		.last_action_wall_us = 1794999400000000, .failures = 0,
	};

	return strcmp(uuid, DB1_UUID) == 0 ? &st : NULL;
}

static void test_show_hotplug(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	VsCtlBackend backend = ctl_fake_backend(fake);
	g_autoptr(VsCtlReply) error = NULL;
	static const char text[] =
		"{\"method\": \"org.vsched.Show\", \"parameters\": {\"domain\": \"db1\"}}";
	g_autoptr(VsCtlRequest) req = vs_ctl_request_decode(text, strlen(text), &error);
	g_autoptr(VsCtlReply) reply = NULL;

	assert_non_null(req);
	backend.hotplug = fake_hotplug;
	reply = vs_ctl_methods_call(&backend, req, false);
	assert_null(reply->error);
	assert_json(json_object_get_object_member(
			    json_object_get_object_member(reply->parameters, "domain"), "hotplug"),
		    "{\"enabled\": true, \"method\": \"acpi\", \"current\": 2, \"min\": 1,"
		    " \"max\": 4, \"target\": 3,"
		    " \"reason\": \"hotplug: 2 → 3 vCPUs (acpi): ScaleUp=cpu>80% for 30s holds\","
		    " \"pending\": \"2 → 3 vCPUs (acpi, requested 0.3 s ago)\","
		    " \"last_action\": \"1 → 2 vCPUs (acpi, scale-up), verified 0.3 s after the request\","
		    " \"last_action_us\": 1794999400000000, \"failure\": null, \"failures\": 0,"
		    " \"backoff_until_us\": null}");
}

static void test_set_override_bad_requests(void **state)
{
	static const struct {
		const char *params;
		const char *parameter;
	} cases[] = {
		{ "{\"domain\": \"db1\"}", "assignments" },
		{ "{\"domain\": \"db1\", \"assignments\": []}", "assignments" },
		{ "{\"domain\": \"db1\", \"assignments\": \"Weight=1\"}", "assignments" },
		{ "{\"domain\": \"db1\", \"assignments\": [\"Weight=1\", 2]}", "assignments" },
		{ "{\"domain\": \"db1\", \"assignments\": [\"Weight=1\"], \"for_us\": -1}", "for_us" },
		{ "{\"domain\": \"db1\", \"assignments\": [\"Weight=1\"], \"for_us\": 1.5}", "for_us" },
		{ "{\"domain\": \"db1\", \"assignments\": [\"Weight=1\"], \"for_us\": \"1s\"}", "for_us" },
		{ "{\"domain\": \"db1\", \"assignments\": [\"Weight=1\"], \"ttl\": 1}", "ttl" },
		{ "{\"assignments\": [\"Weight=1\"]}", "domain" },
	};
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(CtlFake) early = ctl_fake_new(false, 0);
	g_autoptr(VsCtlReply) unknown = NULL, user = NULL, not_ready = NULL;

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(VsCtlReply) r = call_with(fake, "org.vsched.SetOverride", cases[i].params,
						    true);
		g_autofree char *want = g_strdup_printf("{\"parameter\": \"%s\"}", cases[i].parameter);

		assert_error(r, "org.varlink.service.InvalidParameter", want);
	}
	unknown = call_with(fake, "org.vsched.SetOverride",
			    "{\"domain\": \"db9\", \"assignments\": [\"Weight=1\"]}", true);
	assert_error(unknown, "org.vsched.NoSuchDomain", "{\"domain\": \"db9\"}");
	user = call_with(fake, "org.vsched.SetOverride",
			 "{\"domain\": \"db1\", \"assignments\": [\"Weight=1\"]}", false);
	assert_error(user, "org.vsched.PermissionDenied", "{\"method\": \"org.vsched.SetOverride\"}");
	not_ready = call_with(early, "org.vsched.SetOverride",
			      "{\"domain\": \"db1\", \"assignments\": [\"Weight=1\"]}", true);
	assert_string_equal(not_ready->error, "org.vsched.NotReady");
	assert_int_equal(fake->overrides->items->len, 0);
	assert_int_equal(fake->overrides_changed, 0);
	assert_int_equal(early->overrides->items->len, 0);
}

/* Adds overrides to @fake as the daemon's own API would, at @now_us. */
static void add_overrides(CtlFake *fake, const char *uuid, const char *name,
			  const char *assignment, gint64 now_us, gint64 for_us)
{
	const char *const assignments[] = { assignment, NULL };
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();

	assert_int_equal(vs_overrides_set(fake->overrides, uuid, name, assignments, now_us, for_us,
					  diags), 1);
}

static void test_clear_override(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(CtlFake) early = ctl_fake_new(false, 0);
	g_autoptr(VsCtlReply) one = NULL, bad_key = NULL, all = NULL, none = NULL, gone = NULL;
	g_autoptr(VsCtlReply) unknown = NULL, user = NULL, early_gone = NULL, early_unknown = NULL;
	gint64 now = g_get_real_time();

	add_overrides(fake, DB1_UUID, "db1", "Weight=300", now, 0);
	add_overrides(fake, DB1_UUID, "db1", "Limit=150%", now, 0);
	add_overrides(fake, WEB_UUID, "web", "Weight=10", now, 0);

	one = call_with(fake, "org.vsched.ClearOverride", "{\"domain\": \"db1\", \"key\": \"weight\"}",
			true);
	assert_null(one->error);
	assert_json(one->parameters, "{\"removed\": 1}");
	assert_int_equal(fake->overrides_changed, 1);

	bad_key = call_with(fake, "org.vsched.ClearOverride",
			    "{\"domain\": \"db1\", \"key\": \"Wieght\"}", true);
	assert_error(bad_key, "org.varlink.service.InvalidParameter", "{\"parameter\": \"key\"}");
	user = call_with(fake, "org.vsched.ClearOverride", "{\"domain\": \"db1\"}", false);
	assert_error(user, "org.vsched.PermissionDenied", "{\"method\": \"org.vsched.ClearOverride\"}");
	assert_int_equal(fake->overrides->items->len, 2);

	all = call_with(fake, "org.vsched.ClearOverride",
			"{\"domain\": \"" DB1_UUID "\", \"key\": null}", true);
	assert_json(all->parameters, "{\"removed\": 1}");
	assert_int_equal(fake->overrides_changed, 2);
	/* Nothing left to remove: nothing to persist either. */
	none = call_with(fake, "org.vsched.ClearOverride", "{\"domain\": \"db1\"}", true);
	assert_json(none->parameters, "{\"removed\": 0}");
	assert_int_equal(fake->overrides_changed, 2);
	assert_int_equal(fake->overrides->items->len, 1);

	/* A guest libvirt no longer knows, by the name its overrides show. */
	add_overrides(fake, "11111111-2222-4333-8444-555566667777", "gone", "Weight=5", now, 0);
	gone = call_with(fake, "org.vsched.ClearOverride", "{\"domain\": \"gone\"}", true);
	assert_json(gone->parameters, "{\"removed\": 1}");
	unknown = call_with(fake, "org.vsched.ClearOverride", "{\"domain\": \"gone\"}", true);
	assert_error(unknown, "org.vsched.NoSuchDomain", "{\"domain\": \"gone\"}");

	/* Before the first tick only the overrides name domains. */
	add_overrides(early, DB1_UUID, "db1", "Weight=300", now, 0);
	early_gone = call_with(early, "org.vsched.ClearOverride", "{\"domain\": \"db1\"}", true);
	assert_json(early_gone->parameters, "{\"removed\": 1}");
	early_unknown = call_with(early, "org.vsched.ClearOverride", "{\"domain\": \"web\"}", true);
	assert_string_equal(early_unknown->error, "org.vsched.NotReady");
}

static void test_list_overrides(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(VsCtlReply) empty = NULL, list = NULL, web = NULL, extra = NULL;
	gint64 now = g_get_real_time();
	g_autofree char *want = NULL;

	empty = call(fake, "{\"method\": \"org.vsched.ListOverrides\"}", false);
	assert_null(empty->error);
	assert_json(empty->parameters, "{\"overrides\": []}");

	add_overrides(fake, DB1_UUID, "db1", "Weight=300", now, 600000000);
	add_overrides(fake, WEB_UUID, "web", "Weight=10", now, 0);
	/* Expired, and not yet dropped by the daemon: shown nowhere. */
	add_overrides(fake, WEB_UUID, "web", "Limit=50%", now - 20000000, 10000000);

	list = call(fake, "{\"method\": \"org.vsched.ListOverrides\"}", false);
	want = g_strdup_printf(
		"{\"overrides\": ["
		" {\"id\": \"ov-1\", \"domain\": \"db1\", \"uuid\": \"" DB1_UUID "\","
		"  \"key\": \"CPU.Weight\", \"value\": \"300\","
		"  \"created_us\": %" G_GINT64_FORMAT ", \"expires_us\": %" G_GINT64_FORMAT "},"
		" {\"id\": \"ov-2\", \"domain\": \"web\", \"uuid\": \"" WEB_UUID "\","
		"  \"key\": \"CPU.Weight\", \"value\": \"10\","
		"  \"created_us\": %" G_GINT64_FORMAT ", \"expires_us\": null}]}",
		now, now + 600000000, now);
	assert_json(list->parameters, want);
	web = explain(fake, "web");
	assert_json(explain_key(web->parameters, "CPU.Limit"),
		    "{\"key\": \"CPU.Limit\", \"value\": null, \"origin\": \"default\"}");

	extra = call(fake, "{\"method\": \"org.vsched.ListOverrides\", \"parameters\": {\"all\": 1}}",
		     false);
	assert_error(extra, "org.varlink.service.InvalidParameter", "{\"parameter\": \"all\"}");
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
		cmocka_unit_test(test_status_policy_error),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_explain_bad_requests),
		cmocka_unit_test(test_set_override),
		cmocka_unit_test(test_set_override_invalid),
		cmocka_unit_test(test_set_override_bad_requests),
		cmocka_unit_test(test_set_vcpus),
		cmocka_unit_test(test_show_hotplug),
		cmocka_unit_test(test_clear_override),
		cmocka_unit_test(test_list_overrides),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
