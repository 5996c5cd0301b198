/* The co-scheduling report in the control API (src/ctl/methods.c) on the
 * fake daemon of the control tests, with a report built from literals:
 * Show's "skew" object (figures, nulls when there is no valid skew, null
 * for a guest the planner has not seen, absent without co-scheduling),
 * the same object per guest in Steal, and Explain's reasons, the CPU
 * plan's first and then the co-scheduling planner's. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ctl/methods.h"
#include "sched/cosched.h"
#include "unit/test-ctl-fixture.h"

#define DB1_UUID "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
#define MS_NS (UINT64_C(1000000))

static VsCoschedGuestReport *db1;

/* db1, CoSchedule=relaxed: vcpu1 412 ms behind vcpu0 over 1 s, boosted. */
static VsCoschedGuestReport *report_new(bool valid)
{
	VsCoschedGuestReport *g = g_new0(VsCoschedGuestReport, 1);
	VsCoschedVcpuReport v0 = { .index = 0, .tid = 4250,
				   .skew = { .index = 0, .counted = true, .span_ns = 1000 * MS_NS,
					     .run_ns = 990 * MS_NS, .delay_ns = 9 * MS_NS } };
	VsCoschedVcpuReport v1 = { .index = 1, .tid = 4251, .boost = 5,
				   .skew = { .index = 1, .counted = true, .span_ns = 1000 * MS_NS,
					     .run_ns = 575 * MS_NS, .delay_ns = 421 * MS_NS,
					     .lag_ns = 412 * MS_NS } };

	g_strlcpy(g->uuid, DB1_UUID, sizeof(g->uuid));
	g->name = g_strdup("db1");
	g->mode = "relaxed";
	g->threshold_us = 5000;
	g->skew = (VsSkew){ .valid = valid, .window_ns = 1000 * MS_NS, .counted = 2,
			    .skew_ns = valid ? 412 * MS_NS : 0, .leader = 0, .laggard = 1 };
	g->max_1m_ns = 498 * MS_NS;
	g->n_1m = 60;
	g->boosting = true;
	g->vcpus = g_array_new(FALSE, TRUE, sizeof(VsCoschedVcpuReport));
	g_array_append_val(g->vcpus, v0);
	g_array_append_val(g->vcpus, v1);
	g->reasons = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(g->reasons, g_strdup("relaxed co-scheduling: skew 412.0 ms ..."));
	return g;
}

static void report_free(VsCoschedGuestReport *g)
{
	g_free(g->name);
	g_array_unref(g->vcpus);
	g_ptr_array_unref(g->reasons);
	g_free(g);
}

static const VsCoschedGuestReport *fake_cosched(gpointer data, const char *uuid)
{
	return strcmp(uuid, DB1_UUID) == 0 ? db1 : NULL;
}

static VsStealReport *steal;

static const VsStealReport *fake_steal(gpointer data)
{
	return steal;
}

static VsCtlReply *call(CtlFake *fake, bool with_cosched, const char *text)
{
	VsCtlBackend backend = ctl_fake_backend(fake);
	g_autoptr(VsCtlReply) error = NULL;
	g_autoptr(VsCtlRequest) req = vs_ctl_request_decode(text, strlen(text), &error);

	assert_non_null(req);
	if (with_cosched)
		backend.cosched = fake_cosched;
	return vs_ctl_methods_call(&backend, req, false);
}

static JsonObject *show_skew(JsonObject *params)
{
	JsonObject *dom = json_object_get_object_member(params, "domain");

	assert_true(json_object_has_member(dom, "skew"));
	return json_object_get_null_member(dom, "skew") ? NULL
							: json_object_get_object_member(dom, "skew");
}

static void test_show(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(VsCtlReply) reply = NULL;
	JsonObject *s, *v;
	JsonArray *vcpus;

	db1 = report_new(true);
	reply = call(fake, true, "{\"method\": \"org.vsched.Show\", \"parameters\": {\"domain\": \"db1\"}}");
	assert_null(reply->error);
	s = show_skew(reply->parameters);
	assert_non_null(s);
	assert_string_equal(json_object_get_string_member(s, "mode"), "relaxed");
	assert_int_equal(json_object_get_int_member(s, "threshold_us"), 5000);
	assert_int_equal(json_object_get_int_member(s, "window_ns"), 1000 * MS_NS);
	assert_true(json_object_get_boolean_member(s, "valid"));
	assert_int_equal(json_object_get_int_member(s, "skew_ns"), 412 * MS_NS);
	assert_int_equal(json_object_get_int_member(s, "leader"), 0);
	assert_int_equal(json_object_get_int_member(s, "laggard"), 1);
	assert_int_equal(json_object_get_int_member(s, "max_1m_ns"), 498 * MS_NS);
	assert_int_equal(json_object_get_int_member(s, "measurements_1m"), 60);
	assert_true(json_object_get_boolean_member(s, "boosting"));
	vcpus = json_object_get_array_member(s, "vcpu");
	assert_int_equal(json_array_get_length(vcpus), 2);
	v = json_array_get_object_element(vcpus, 1);
	assert_int_equal(json_object_get_int_member(v, "tid"), 4251);
	assert_true(json_object_get_boolean_member(v, "counted"));
	assert_int_equal(json_object_get_int_member(v, "lag_ns"), 412 * MS_NS);
	assert_int_equal(json_object_get_int_member(v, "delay_ns"), 421 * MS_NS);
	assert_int_equal(json_object_get_int_member(v, "nice_boost"), 5);
	g_clear_pointer(&reply, vs_ctl_reply_free);

	/* No valid skew this tick: nulls, the minute's figures stay. */
	report_free(db1);
	db1 = report_new(false);
	reply = call(fake, true, "{\"method\": \"org.vsched.Show\", \"parameters\": {\"domain\": \"db1\"}}");
	s = show_skew(reply->parameters);
	assert_false(json_object_get_boolean_member(s, "valid"));
	assert_true(json_object_get_null_member(s, "skew_ns"));
	assert_true(json_object_get_null_member(s, "laggard"));
	assert_int_equal(json_object_get_int_member(s, "max_1m_ns"), 498 * MS_NS);
	g_clear_pointer(&reply, vs_ctl_reply_free);

	/* A guest the planner has not seen: null; no co-scheduling: absent. */
	reply = call(fake, true, "{\"method\": \"org.vsched.Show\", \"parameters\": {\"domain\": \"web\"}}");
	assert_null(show_skew(reply->parameters));
	g_clear_pointer(&reply, vs_ctl_reply_free);
	reply = call(fake, false, "{\"method\": \"org.vsched.Show\", \"parameters\": {\"domain\": \"db1\"}}");
	assert_false(json_object_has_member(json_object_get_object_member(reply->parameters,
									    "domain"), "skew"));
	report_free(db1);
	db1 = NULL;
}

/* Explain: the CPU plan's reasons, then the co-scheduling planner's. */
static void test_explain(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(VsCtlReply) reply = NULL;
	g_autoptr(VsCtlReply) plain = NULL;
	JsonArray *reasons, *cpu_only;
	guint n;

	db1 = report_new(true);
	reply = call(fake, true, "{\"method\": \"org.vsched.Explain\", \"parameters\": {\"domain\": \"db1\"}}");
	plain = call(fake, false, "{\"method\": \"org.vsched.Explain\", \"parameters\": {\"domain\": \"db1\"}}");
	assert_null(reply->error);
	reasons = json_object_get_array_member(reply->parameters, "reasons");
	cpu_only = json_object_get_array_member(plain->parameters, "reasons");
	n = json_array_get_length(cpu_only);
	assert_true(n > 0);
	assert_int_equal(json_array_get_length(reasons), n + 1);
	assert_string_equal(json_array_get_string_element(reasons, 0),
			    json_array_get_string_element(cpu_only, 0));
	assert_string_equal(json_array_get_string_element(reasons, n),
			    "relaxed co-scheduling: skew 412.0 ms ...");
	report_free(db1);
	db1 = NULL;
}

/* Steal: each guest has its skew object. */
static void test_steal(void **state)
{
	g_autoptr(CtlFake) fake = ctl_fake_new(true, 0);
	g_autoptr(VsCtlReply) reply = NULL;
	g_autoptr(VsCtlReply) error = NULL;
	g_autoptr(VsCtlRequest) req = NULL;
	const char *text = "{\"method\": \"org.vsched.Steal\"}";
	VsCtlBackend backend = ctl_fake_backend(fake);
	JsonObject *g;

	db1 = report_new(true);
	steal = vs_steal_report_new();
	g_ptr_array_add(steal->guests, vs_steal_guest_report_new(DB1_UUID, "db1"));
	backend.steal = fake_steal;
	backend.cosched = fake_cosched;
	req = vs_ctl_request_decode(text, strlen(text), &error);
	assert_non_null(req);
	reply = vs_ctl_methods_call(&backend, req, false);
	assert_null(reply->error);
	g = json_array_get_object_element(json_object_get_array_member(reply->parameters, "guests"), 0);
	assert_int_equal(json_object_get_int_member(json_object_get_object_member(g, "skew"),
						    "skew_ns"), 412 * MS_NS);
	vs_steal_report_free(steal);
	steal = NULL;
	report_free(db1);
	db1 = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_show),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_steal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
