/* Component tests of the balloon calls (src/virt/balloon.c) and the balloon
 * actuator (src/mem/act.c) against the libvirt test driver with
 * tests/data/virt/testdrv-mem.xml (db1: virtio balloon without a
 * statistics period, web1: no balloon device, idle1: shut off) and the
 * fixture root tests/data/virt/testdrv-root. Checks the device read from
 * the live XML, the statistics period set once per run, targets set and
 * seen in the next collection, convergence, the guest without a device
 * never asked, a refusal reported once and backed off, a vanished guest,
 * and a restarted guest starting a fresh record; and that the daemon's
 * memory step (src/daemon/mem-step.c) plans only when its input changed,
 * an event asked for it, or the last plan was made with partial step
 * allowances. The stuck guest (a
 * balloon that never moves) needs a real guest: tests/unit/test-mem-follow.c
 * and tests/integration/test-mem.sh. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <syslog.h>

#include "daemon/conf.h"
#include "daemon/mem-step.h"
#include "mem/act.h"
#include "sched/act.h"
#include "util/error.h"
#include "virt/balloon.h"
#include "virt/conn.h"
#include "virt/virt.h"

#define TESTDRV "test://" VS_TEST_DATA "/testdrv-mem.xml"
#define FIXTURE_ROOT VS_TEST_DATA "/testdrv-root"
#define STATUS_DIR "/run/libvirt/qemu"
#define DB1 "6e3d9f2a-1b7c-4c3e-8d2f-5a4b3c2d1e01"
#define WEB1 "6e3d9f2a-1b7c-4c3e-8d2f-5a4b3c2d1e02"
#define IDLE1 "6e3d9f2a-1b7c-4c3e-8d2f-5a4b3c2d1e03"
#define MIB (UINT64_C(1024) * 1024)
#define SEC G_USEC_PER_SEC

typedef struct {
	GMainContext *context;
	VsSys *sys;
	VsVirt *virt;
	uint64_t tick;
} Fixture;

static void ignore(VsVirtEventKind kind, const char *uuid, const char *name, const char *detail,
		   gpointer user_data)
{
}

static int setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);

	f->context = g_main_context_new();
	g_main_context_push_thread_default(f->context);
	f->sys = vs_sys_new(FIXTURE_ROOT);
	f->virt = vs_virt_new(f->sys, TESTDRV, STATUS_DIR, ignore, f);
	vs_virt_start(f->virt);
	assert_true(vs_virt_is_connected(f->virt));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	Fixture *f = *state;

	vs_virt_free(f->virt);
	while (g_main_context_iteration(f->context, FALSE))
		;
	g_main_context_pop_thread_default(f->context);
	g_main_context_unref(f->context);
	vs_sys_free(f->sys);
	g_free(f);
	return 0;
}

/* Runs @fn (virDomainDestroy, virDomainCreate) on the domain @uuid. */
static void domain_do(Fixture *f, const char *uuid, int (*fn)(virDomainPtr))
{
	virDomainPtr d = virDomainLookupByUUIDString(vs_conn_get(f->virt), uuid);

	assert_non_null(d);
	assert_int_equal(fn(d), 0);
	virDomainFree(d);
}

/* A snapshot of the test driver's domains at @mono_us. */
static VsSnapshot *snapshot(Fixture *f, int64_t mono_us)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *domains = NULL;

	if (vs_virt_collect(f->virt, &domains, &error) < 0)
		fail_msg("collect: %s", error->message);
	return vs_snapshot_new(++f->tick, mono_us, mono_us, NULL, domains, true);
}

static const VsDomain *find(const VsSnapshot *snap, const char *uuid)
{
	const VsDomain *dom = vs_snapshot_find_domain(snap, uuid);

	assert_non_null(dom);
	return dom;
}

/* The number of events whose message contains @text, about @domain. */
static guint count(GPtrArray *events, const char *domain, const char *text)
{
	guint n = 0;

	for (guint i = 0; i < events->len; i++) {
		const VsActEvent *e = g_ptr_array_index(events, i);

		if (g_strcmp0(e->domain, domain) == 0 && strstr(e->message, text))
			n++;
	}
	return n;
}

static void test_device_and_period(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	VsBalloonDevice dev = { 0 };

	assert_int_equal(vs_virt_balloon_device(f->virt, DB1, &dev, &error), 0);
	assert_true(dev.present);
	assert_string_equal(dev.model, "virtio");
	assert_int_equal(dev.stats_period, 0);
	vs_balloon_device_clear(&dev);

	assert_int_equal(vs_virt_set_balloon_period(f->virt, DB1, 2, &error), 0);
	assert_int_equal(vs_virt_balloon_device(f->virt, DB1, &dev, &error), 0);
	assert_int_equal(dev.stats_period, 2);
	vs_balloon_device_clear(&dev);

	assert_int_equal(vs_virt_balloon_device(f->virt, WEB1, &dev, &error), 0);
	assert_false(dev.present);
	assert_string_equal(dev.model, "none");
	vs_balloon_device_clear(&dev);

	assert_int_equal(vs_virt_balloon_device(f->virt, "00000000-0000-0000-0000-000000000000",
						&dev, &error), -ENOENT);
	assert_true(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
	assert_false(dev.present);
}

static void test_set_and_errors(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsSnapshot) snap = NULL;
	g_autoptr(GError) error = NULL;

	assert_int_equal(vs_virt_set_balloon(f->virt, DB1, 800 * MIB, &error), 0);
	snap = snapshot(f, 0);
	assert_int_equal(find(snap, DB1)->mem_current, 800 * MIB);

	/* Not running: gone for our purposes. */
	assert_int_equal(vs_virt_set_balloon(f->virt, IDLE1, 100 * MIB, &error), -ENOENT);
	g_clear_error(&error);
	/* Above the maximum: libvirt refuses, the connection stays. */
	assert_int_equal(vs_virt_set_balloon(f->virt, DB1, 4096 * MIB, &error), -EIO);
	assert_true(g_error_matches(error, VS_ERROR, VS_ERROR_SYSTEM));
	assert_non_null(strstr(error->message, "libvirt"));
	assert_true(vs_virt_is_connected(f->virt));
}

static void test_actuator(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsMemAct) act = vs_mem_act_new(f->virt);
	g_autoptr(GPtrArray) events = vs_act_events_new();
	g_autoptr(VsSnapshot) s1 = snapshot(f, 1 * SEC);
	g_autoptr(VsSnapshot) s2 = NULL;
	g_autoptr(VsSnapshot) s3 = NULL;
	g_autoptr(GError) error = NULL;
	VsBalloonDevice dev = { 0 };
	const VsDomain *db1 = find(s1, DB1);
	const VsDomain *web1 = find(s1, WEB1);

	/* Before observing, no guest has a record. */
	assert_null(vs_mem_act_follow(act, DB1));
	assert_int_equal(vs_mem_act_set(act, db1, 700 * MIB, "test", 1 * SEC, events), 1);

	vs_mem_act_observe(act, s1, true, 2, events);
	assert_int_equal(count(events, "web1", "no balloon device"), 1);
	assert_int_equal(count(events, "db1", "balloon statistics enabled every 2 s"), 1);
	assert_int_equal(vs_virt_balloon_device(f->virt, DB1, &dev, &error), 0);
	assert_int_equal(dev.stats_period, 2);
	vs_balloon_device_clear(&dev);
	assert_int_equal(vs_mem_act_follow(act, WEB1)->state, VS_MEM_FOLLOW_NO_DEVICE);
	assert_int_equal(vs_mem_act_follow(act, DB1)->state, VS_MEM_FOLLOW_IDLE);

	/* web1 is never asked; db1 is. */
	assert_false(vs_mem_act_may_ask(act, web1, 256 * MIB, 1 * SEC));
	assert_int_equal(vs_mem_act_set(act, web1, 256 * MIB, "test", 1 * SEC, events), 1);
	assert_int_equal(vs_mem_act_set(act, db1, 700 * MIB, "under pressure", 1 * SEC, events), 0);
	assert_int_equal(count(events, "db1", "balloon 1.0 GiB -> 700.0 MiB: under pressure"), 1);
	assert_int_equal(vs_mem_act_follow(act, DB1)->state, VS_MEM_FOLLOW_MOVING);
	/* The same target again is not asked again. */
	assert_int_equal(vs_mem_act_set(act, db1, 700 * MIB, "again", 1 * SEC, events), 1);

	/* The next collection sees the balloon there. */
	s2 = snapshot(f, 2 * SEC);
	g_ptr_array_set_size(events, 0);
	vs_mem_act_observe(act, s2, true, 2, events);
	assert_int_equal(vs_mem_act_follow(act, DB1)->state, VS_MEM_FOLLOW_CONVERGED);
	assert_int_equal(count(events, "db1", "balloon at its target 700.0 MiB (1.0 s after"), 1);
	/* Observed again, a device and a period are not looked at twice. */
	assert_int_equal(count(events, "web1", "no balloon device"), 0);
	assert_int_equal(count(events, "db1", "statistics"), 0);

	/* A refusal (above the maximum) is said once and backed off. */
	db1 = find(s2, DB1);
	assert_int_equal(vs_mem_act_set(act, db1, 4096 * MIB, "too much", 2 * SEC, events), -EIO);
	assert_int_equal(count(events, "db1", "libvirt refused the balloon target"), 1);
	assert_int_equal(vs_mem_act_follow(act, DB1)->state, VS_MEM_FOLLOW_FAILED);
	assert_int_equal(vs_mem_act_set(act, db1, 600 * MIB, "later", 3 * SEC, events), 1);
	assert_int_equal(vs_mem_act_set(act, db1, 600 * MIB, "after the backoff",
					2 * SEC + VS_MEM_FOLLOW_RETRY_US, events), 0);

	/* The guest vanishes between collection and action. */
	domain_do(f, DB1, virDomainDestroy);
	assert_int_equal(vs_mem_act_set(act, db1, 500 * MIB, "gone", 400 * SEC, events), -ENOENT);
	assert_null(vs_mem_act_follow(act, DB1));

	/* Started again: a new run, a fresh record (its device is read again). */
	domain_do(f, DB1, virDomainCreate);
	s3 = snapshot(f, 401 * SEC);
	g_ptr_array_set_size(events, 0);
	vs_mem_act_observe(act, s3, true, 2, events);
	assert_non_null(vs_mem_act_follow(act, DB1));
	assert_int_equal(vs_mem_act_follow(act, DB1)->state, VS_MEM_FOLLOW_IDLE);
	/* A stopped guest's record is dropped. */
	domain_do(f, WEB1, virDomainDestroy);
	g_clear_pointer(&s3, vs_snapshot_free);
	s3 = snapshot(f, 402 * SEC);
	vs_mem_act_observe(act, s3, true, 2, events);
	assert_null(vs_mem_act_follow(act, WEB1));
}

static void no_wake(gpointer data)
{
}

/* A snapshot at @mono_us with a host of 8 GiB, @available_mib available. */
static VsSnapshot *snapshot_host(Fixture *f, VsHost *host, int64_t mono_us,
				 uint64_t available_mib)
{
	g_autoptr(VsSnapshot) snap = snapshot(f, mono_us);

	host->mem.total = 8192 * MIB;
	host->mem.available = available_mib * MIB;
	snap->host = host;
	return g_steal_pointer(&snap);
}

static void test_step_plans_on_change(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsMemStep) step = vs_mem_step_new(f->sys, f->virt, no_wake, NULL);
	g_autoptr(VsConf) conf = vs_conf_new_default();
	g_autoptr(VsPolicyCache) cache = vs_policy_cache_new();
	g_autoptr(VsOverrides) overrides = vs_overrides_new();
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	/* db1 (1 of 2 GiB) held, web1 has no balloon: every plan holds. */
	const char *const hold[] = { "Memory.Balloon=no", NULL };
	const char *const floor_[] = { "Memory.Floor=600M", NULL };
	VsHost host = { 0 };
	/* (time, MiB available, planner runs after it) */
	const struct {
		int64_t s10;    /* tenths of a second */
		uint64_t available;
		guint plans;
	} runs[] = {
		{ 100, 6000, 1 },   /* the first */
		{ 120, 6000, 1 },   /* the same: the plan stands */
		{ 140, 6000, 1 },
		{ 160, 5000, 2 },   /* MemAvailable moved */
		{ 165, 5000, 3 },   /* half a second after that plan: */
		{ 180, 5000, 4 },   /* this one had partial allowances */
		{ 200, 5000, 4 },
		{ 220, 5000, 4 },
	};

	assert_int_equal(vs_overrides_set(overrides, DB1, "db1", hold, 0, 0, diags), 1);
	for (size_t i = 0; i < G_N_ELEMENTS(runs); i++) {
		g_autoptr(VsSnapshot) snap = snapshot_host(f, &host, runs[i].s10 * SEC / 10,
							   runs[i].available);

		vs_policy_cache_begin(cache, NULL, overrides, 0);
		vs_mem_step_run(step, snap, NULL, overrides, cache, conf, false);
		assert_int_equal(vs_mem_step_plans_made(step), runs[i].plans);
		assert_non_null(vs_mem_step_view(step)->plan);
	}
	/* An event plans whatever the input. */
	vs_mem_step_note_event(step, "the test");
	{
		g_autoptr(VsSnapshot) snap = snapshot_host(f, &host, 24 * SEC, 5000);

		vs_policy_cache_begin(cache, NULL, overrides, 0);
		vs_mem_step_run(step, snap, NULL, overrides, cache, conf, false);
		assert_int_equal(vs_mem_step_plans_made(step), 5);
	}
	/* A policy value of a guest changes its input. */
	assert_int_equal(vs_overrides_set(overrides, DB1, "db1", floor_, 0, 0, diags), 1);
	for (int i = 0; i < 2; i++) {
		g_autoptr(VsSnapshot) snap = snapshot_host(f, &host, (26 + 2 * i) * SEC, 5000);

		vs_policy_cache_begin(cache, NULL, overrides, 0);
		vs_mem_step_run(step, snap, NULL, overrides, cache, conf, false);
		assert_int_equal(vs_mem_step_plans_made(step), 6);
	}
	/* Without a cache, the same. */
	{
		g_autoptr(VsSnapshot) snap = snapshot_host(f, &host, 30 * SEC, 5000);

		vs_mem_step_run(step, snap, NULL, overrides, NULL, conf, false);
		assert_int_equal(vs_mem_step_plans_made(step), 6);
	}
	/* db1 managed again: it is below its maximum and the plan grows it
	 * (in this dry run nothing is set): a plan that changes a target is
	 * made again every tick. */
	assert_int_equal(vs_overrides_clear(overrides, DB1, "Balloon"), 1);
	for (int i = 0; i < 3; i++) {
		g_autoptr(VsSnapshot) snap = snapshot_host(f, &host, (32 + 2 * i) * SEC, 5000);

		vs_policy_cache_begin(cache, NULL, overrides, 0);
		vs_mem_step_run(step, snap, NULL, overrides, cache, conf, false);
		assert_int_equal(vs_mem_step_plans_made(step), 7 + i);
		assert_int_equal(vs_mem_plan_find(vs_mem_step_view(step)->plan, DB1)->action,
				 VS_MEM_GROW);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_device_and_period, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_actuator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_step_plans_on_change, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
