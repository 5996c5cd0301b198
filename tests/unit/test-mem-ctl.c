/* org.vsched.Memory and org.vsched.SetMemory (src/ctl/methods.c) on the
 * fake daemon of the control tests with a memory view built from literals
 * (one guest, db1, with trusted statistics: it uses 300 MiB, Margin=
 * 128M) and planned by the real planner: the rendering of host and guest,
 * null for what is not known, the memory lines of Explain, and SetMemory's
 * checks against the bounds an override keeps (above the maximum, below
 * used + Margin, a bad size, a guest that is not running) before the
 * override of Memory.Target is set. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ctl/methods.h"
#include "mem/plan.h"
#include "mem/view.h"
#include "unit/test-ctl-fixture.h"

#define DB1_UUID "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
#define MIB (UINT64_C(1024) * 1024)

typedef struct {
	CtlFake *fake;
	VsMemConf conf;
	VsMemPressure pressure;
	VsMemGuest guest;
	VsMemFollow follow;
	const VsMemFollow *follow_list[1];
	VsMemPlan *plan;
	VsMemView view;
} Fixture;

static int setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);
	VsMemPlanInput in = { 0 };

	f->fake = ctl_fake_new(true, 0);
	f->conf = (VsMemConf){ .budget = 0, .available_pct = { 0, 20, 10, 5 },
			       .soft_psi_some = 5, .hard_psi_some = 20, .critical_psi_full = 10,
			       .hysteresis_pct = 5, .min_dwell_us = 10 * G_USEC_PER_SEC,
			       .host_step_per_s = 1024 * MIB, .critical_step_factor = 4,
			       .min_change = 16 * MIB, .stats_period_us = G_USEC_PER_SEC };
	vs_mem_pressure_init(&f->pressure);
	g_strlcpy(f->pressure.reason, "normal: no pressure", sizeof(f->pressure.reason));
	f->pressure.since_us = 1;
	g_strlcpy(f->guest.uuid, DB1_UUID, sizeof(f->guest.uuid));
	f->guest.name = "db1";
	f->guest.current = 1024 * MIB;
	f->guest.maximum = 2048 * MIB;
	f->guest.stats = (VsMemStats){ .trusted = true, .current = 1024 * MIB,
				       .maximum = 2048 * MIB, .used = 300 * MIB,
				       .usable = 724 * MIB, .have_last_used = true,
				       .last_used = 300 * MIB };
	f->guest.balloon = true;
	f->guest.shares = 1000;
	f->guest.margin = 128 * MIB;
	f->guest.idle_tax = 0.75;
	f->guest.max_step_per_s = 256 * MIB;
	vs_mem_follow_asked(&f->follow, 1024 * MIB, 1024 * MIB, 1);
	f->follow_list[0] = &f->follow;
	in = (VsMemPlanInput){ .now_us = 2 * G_USEC_PER_SEC, .state = VS_MEM_NORMAL,
			       .mem_total = 64 * 1024 * MIB, .mem_available = 60 * 1024 * MIB,
			       .conf = &f->conf, .guests = &f->guest, .n_guests = 1 };
	assert_int_equal(vs_mem_plan(&in, &f->plan), 0);
	f->view = (VsMemView){ .acting = true, .conf = &f->conf, .pressure = &f->pressure,
			       .now_us = 2 * G_USEC_PER_SEC, .guests_current = 1024 * MIB,
			       .plan = f->plan, .guests = &f->guest, .n_guests = 1,
			       .follow = f->follow_list,
			       .trigger_problem = "not procfs" };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	Fixture *f = *state;

	vs_mem_plan_free(f->plan);
	vs_mem_follow_clear(&f->follow);
	ctl_fake_free(f->fake);
	g_free(f);
	return 0;
}

/* Calls a method on the fake daemon without a memory step. */
static VsCtlReply *call(Fixture *f, const char *text)
{
	VsCtlBackend backend = ctl_fake_backend(f->fake);
	g_autoptr(VsCtlReply) error = NULL;
	g_autoptr(VsCtlRequest) req = vs_ctl_request_decode(text, strlen(text), &error);

	assert_non_null(req);
	return vs_ctl_methods_call(&backend, req, true);
}

/* The backend has one data pointer (the CtlFake's): the view is reached
 * through this. */
static Fixture *current;

static const VsMemView *current_mem(gpointer data)
{
	return &current->view;
}

/* As call(), with the fixture's view. */
static VsCtlReply *call_mem(Fixture *f, const char *text)
{
	VsCtlBackend backend = ctl_fake_backend(f->fake);
	g_autoptr(VsCtlReply) error = NULL;
	g_autoptr(VsCtlRequest) req = vs_ctl_request_decode(text, strlen(text), &error);

	assert_non_null(req);
	current = f;
	backend.mem = current_mem;
	return vs_ctl_methods_call(&backend, req, true);
}

static JsonObject *first_guest(const VsCtlReply *reply)
{
	JsonArray *guests = json_object_get_array_member(reply->parameters, "guests");

	assert_int_equal(json_array_get_length(guests), 1);
	return json_array_get_object_element(guests, 0);
}

static bool is_null(JsonObject *obj, const char *key)
{
	return json_object_has_member(obj, key) && json_object_get_null_member(obj, key);
}

static void test_memory(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsCtlReply) reply = call_mem(f, "{\"method\": \"org.vsched.Memory\"}");
	JsonObject *host, *g;

	assert_null(reply->error);
	host = json_object_get_object_member(reply->parameters, "host");
	assert_string_equal(json_object_get_string_member(host, "state"), "normal");
	assert_true(is_null(host, "budget"));
	assert_true(is_null(host, "psi_triggers"));
	assert_string_equal(json_object_get_string_member(host, "psi_trigger_problem"), "not procfs");
	assert_true(json_object_get_boolean_member(host, "acting"));
	g = first_guest(reply);
	assert_string_equal(json_object_get_string_member(g, "name"), "db1");
	assert_int_equal(json_object_get_int_member(g, "current"), 1024 * MIB);
	assert_int_equal(json_object_get_int_member(g, "used"), 300 * MIB);
	/* A guest at 1 GiB of 2 GiB, no pressure: it grows, by its step. */
	assert_string_equal(json_object_get_string_member(g, "action"), "grow");
	assert_int_equal(json_object_get_int_member(g, "target"), 1280 * MIB);
	assert_int_equal(json_object_get_int_member(g, "low"), 428 * MIB);
	assert_true(is_null(g, "floor"));
	assert_true(is_null(g, "override_target"));
	assert_string_equal(json_object_get_string_member(g, "following"), "converged");
	assert_true(is_null(g, "following_problem"));
	assert_non_null(strstr(json_object_get_string_member(g, "reason"), "Margin="));
}

static void test_memory_domain_and_errors(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsCtlReply) r1 = call_mem(f, "{\"method\": \"org.vsched.Memory\", "
					       "\"parameters\": {\"domain\": \"3\"}}");
	g_autoptr(VsCtlReply) r2 = call_mem(f, "{\"method\": \"org.vsched.Memory\", "
					       "\"parameters\": {\"domain\": \"web\"}}");
	g_autoptr(VsCtlReply) r3 = call_mem(f, "{\"method\": \"org.vsched.Memory\", "
					       "\"parameters\": {\"domain\": \"nope\"}}");
	g_autoptr(VsCtlReply) r4 = call(f, "{\"method\": \"org.vsched.Memory\"}");
	g_autoptr(VsCtlReply) r5 = call_mem(f, "{\"method\": \"org.vsched.Memory\", "
					       "\"parameters\": {\"bogus\": 1}}");

	assert_null(r1->error);
	first_guest(r1);
	/* Defined but not running: no memory line. */
	assert_null(r2->error);
	assert_int_equal(json_array_get_length(json_object_get_array_member(r2->parameters, "guests")), 0);
	assert_string_equal(r3->error, VS_CTL_ERROR_NO_SUCH_DOMAIN);
	assert_string_equal(r4->error, VS_CTL_ERROR_NOT_READY);
	assert_string_equal(r5->error, VS_CTL_ERROR_INVALID_PARAMETER);
}

/* The first error message of an InvalidOverride reply. */
static const char *first_error(const VsCtlReply *reply)
{
	assert_string_equal(reply->error, VS_CTL_ERROR_INVALID_OVERRIDE);
	return json_array_get_string_element(json_object_get_array_member(reply->parameters, "errors"), 0);
}

static void test_set_memory(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsCtlReply) high = call_mem(f, "{\"method\": \"org.vsched.SetMemory\", \"parameters\": "
						 "{\"domain\": \"db1\", \"size\": \"3G\"}}");
	g_autoptr(VsCtlReply) low = call_mem(f, "{\"method\": \"org.vsched.SetMemory\", \"parameters\": "
						"{\"domain\": \"db1\", \"size\": \"400M\"}}");
	g_autoptr(VsCtlReply) bad = call_mem(f, "{\"method\": \"org.vsched.SetMemory\", \"parameters\": "
						"{\"domain\": \"db1\", \"size\": \"a lot\"}}");
	g_autoptr(VsCtlReply) off = call_mem(f, "{\"method\": \"org.vsched.SetMemory\", \"parameters\": "
						"{\"domain\": \"web\", \"size\": \"400M\"}}");
	g_autoptr(VsCtlReply) ok = NULL;
	const VsOverride *ov;

	assert_string_equal(first_error(high), "db1: 3.0 GiB is above the guest's maximum memory 2.0 GiB");
	assert_non_null(strstr(first_error(low), "db1: 400.0 MiB is below the least it may get, 428.0 MiB"));
	assert_non_null(strstr(first_error(bad), "size a lot: "));
	assert_string_equal(first_error(off), "web is not running: its balloon cannot be set");
	/* Nothing was set by the refusals. */
	assert_int_equal(f->fake->overrides->items->len, 0);
	assert_int_equal(f->fake->overrides_changed, 0);

	ok = call_mem(f, "{\"method\": \"org.vsched.SetMemory\", \"parameters\": "
			 "{\"domain\": \"db1\", \"size\": \"600M\", \"for_us\": 60000000}}");
	assert_null(ok->error);
	assert_int_equal(f->fake->overrides_changed, 1);
	assert_int_equal(f->fake->overrides->items->len, 1);
	ov = g_ptr_array_index(f->fake->overrides->items, 0);
	assert_string_equal(ov->key->section, "Memory");
	assert_string_equal(ov->key->name, "Target");
	assert_int_equal(ov->value->bytes, 600 * MIB);
	assert_true(ov->expires_us > ov->created_us);
}

static void test_explain_lines(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsCtlReply) reply = NULL;
	JsonArray *reasons;
	bool found = false;

	vs_mem_follow_no_device(&f->follow, "the guest has no balloon device");
	reply = call_mem(f, "{\"method\": \"org.vsched.Explain\", \"parameters\": {\"domain\": \"db1\"}}");
	assert_null(reply->error);
	reasons = json_object_get_array_member(reply->parameters, "reasons");
	for (guint i = 0; i < json_array_get_length(reasons); i++) {
		const char *r = json_array_get_string_element(reasons, i);

		if (g_str_has_prefix(r, "memory (host normal): target 1.2 GiB, balloon at 1.0 GiB: "))
			found = true;
	}
	assert_true(found);
	assert_string_equal(json_array_get_string_element(reasons, json_array_get_length(reasons) - 1),
			    "memory: the balloon is no-balloon: the guest has no balloon device");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_domain_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_explain_lines, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
