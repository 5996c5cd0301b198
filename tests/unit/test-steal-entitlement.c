/* Entitlement from the CPU plan (src/steal/entitlement.c) on hand-built
 * plans, each figure computed by hand in the comment above its case:
 * weights on a shared pool, a dedicated CPU, Limit= caps whose leftover
 * goes to the others, reservations taken off the CPUs first, overlapping
 * affinities (Pin=) served narrowest first, and threads that are not vCPUs
 * or guests the snapshot does not know. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "steal/entitlement.h"

#include <math.h>

#define UUID_A "aaaaaaaa-0000-0000-0000-000000000001"
#define UUID_B "bbbbbbbb-0000-0000-0000-000000000002"
#define UUID_C "cccccccc-0000-0000-0000-000000000003"

typedef struct Fixture {
	GPtrArray *domains;
	VsPolicySet *set;
	VsCpuPlan *plan;
	pid_t next_tid;
} Fixture;

static void fixture_free(Fixture *f)
{
	g_ptr_array_unref(f->domains);
	vs_policy_set_free(f->set);
	vs_cpu_plan_free(f->plan);
	g_free(f);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Fixture, fixture_free)

static Fixture *fixture_new(void)
{
	Fixture *f = g_new0(Fixture, 1);

	f->domains = g_ptr_array_new_with_free_func((GDestroyNotify)vs_domain_free);
	f->set = g_new0(VsPolicySet, 1);
	f->set->files = g_ptr_array_new_with_free_func((GDestroyNotify)vs_policy_file_free);
	f->plan = g_new0(VsCpuPlan, 1);
	f->plan->actions = g_ptr_array_new_with_free_func((GDestroyNotify)vs_cpu_action_free);
	f->plan->reasons = g_hash_table_new(g_str_hash, g_str_equal);
	f->plan->vcpus = g_hash_table_new(g_str_hash, g_str_equal);
	f->next_tid = 1000;
	return f;
}

/* A running guest @name whose policy file says @policy (CPU section keys,
 * may be NULL). */
static void add_guest(Fixture *f, const char *name, const char *uuid, const char *policy)
{
	VsDomain *dom = vs_domain_new(name, 4);

	g_strlcpy(dom->uuid, uuid, sizeof(dom->uuid));
	dom->pid = 100 + (pid_t)f->domains->len;
	dom->state = 1;
	g_ptr_array_add(f->domains, dom);
	if (policy) {
		g_autoptr(GPtrArray) diags = vs_policy_diags_new();
		g_autofree char *path = g_strdup_printf("/etc/vsched/policy.d/%s.policy", name);
		g_autofree char *text =
			g_strdup_printf("[Match]\nName=%s\n\n[CPU]\n%s\n", name, policy);
		VsPolicyFile *file = vs_policy_file_parse(path, text, diags);

		if (!file)
			fail_msg("%s: %s", name,
				 ((VsPolicyDiag *)g_ptr_array_index(diags, 0))->message);
		g_ptr_array_add(f->set->files, file);
	}
}

static VsCpuAction *action(Fixture *f, VsCpuActionKind kind, const char *uuid, const char *what)
{
	VsCpuAction *a = g_new0(VsCpuAction, 1);

	a->kind = kind;
	g_strlcpy(a->uuid, uuid, sizeof(a->uuid));
	a->domain = g_strdup("guest");
	a->what = g_strdup(what);
	a->thread.tid = f->next_tid++;
	a->thread.pid = a->thread.tid;
	a->reason = g_strdup("test");
	g_ptr_array_add(f->plan->actions, a);
	return a;
}

/* vCPU @index of guest @uuid placed on @cpus. */
static void place(Fixture *f, const char *uuid, guint index, const char *cpus)
{
	g_autofree char *what = g_strdup_printf("vcpu%u", index);
	VsCpuAction *a = action(f, VS_CPU_ACTION_AFFINITY, uuid, what);

	a->cpus = vs_cpuset_parse(cpus, NULL);
	assert_non_null(a->cpus);
}

static void reserve(Fixture *f, const char *uuid, guint index, int64_t runtime_us,
		    int64_t period_us)
{
	g_autofree char *what = g_strdup_printf("vcpu%u", index);
	VsCpuAction *a = action(f, VS_CPU_ACTION_DEADLINE, uuid, what);

	a->runtime_us = runtime_us;
	a->period_us = period_us;
}

static GArray *compute(Fixture *f)
{
	g_autoptr(VsSnapshot) snap = vs_snapshot_new(1, 0, 0, NULL, g_ptr_array_ref(f->domains),
						     true);
	VsStealEntitlementInput in = {
		.plan = f->plan,
		.snapshot = snap,
		.policies = f->set,
		.now_us = 1000,
	};

	return vs_steal_entitlement_compute(&in);
}

static void assert_cpus(const GArray *list, const char *uuid, guint index, double want,
			const char *reason_part)
{
	const VsStealEntitlement *e = vs_steal_entitlement_find(list, uuid, index);

	if (!e)
		fail_msg("no entitlement for %s/%u", uuid, index);
	if (fabs(e->cpus - want) > 1e-9)
		fail_msg("%s/%u: %.6f CPUs, want %.6f (%s)", uuid, index, e->cpus, want, e->reason);
	if (reason_part && !strstr(e->reason, reason_part))
		fail_msg("%s/%u: reason \"%s\" lacks \"%s\"", uuid, index, e->reason, reason_part);
}

/* Pool of CPUs 1-2 (2 CPUs). a: Weight=100 over 2 vCPUs (50 each); b:
 * Weight=300 over 2 vCPUs (150 each); 400 in all share 2 CPUs: a's vCPUs
 * 50·2/400 = 0.25, b's 150·2/400 = 0.75, none above one CPU. */
static void test_weights(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GArray) list = NULL;

	add_guest(f, "a", UUID_A, NULL);
	add_guest(f, "b", UUID_B, "Weight=300");
	place(f, UUID_A, 0, "1-2");
	place(f, UUID_A, 1, "1-2");
	place(f, UUID_B, 0, "1-2");
	place(f, UUID_B, 1, "1-2");
	list = compute(f);
	assert_int_equal(list->len, 4);
	assert_cpus(list, UUID_A, 0, 0.25, "weight 50 of 400 on CPUs 1-2 (2.00 CPUs left");
	assert_cpus(list, UUID_A, 1, 0.25, NULL);
	assert_cpus(list, UUID_B, 0, 0.75, "weight 150 of 400");
	assert_cpus(list, UUID_B, 1, 0.75, NULL);
}

/* Pool of CPUs 0-3 (4 CPUs), a: 1 vCPU, b: 1 vCPU, equal weights. Each
 * would get 2 CPUs: bounded to one each; 2 CPUs stay idle. */
static void test_one_cpu_bound(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GArray) list = NULL;

	add_guest(f, "a", UUID_A, NULL);
	add_guest(f, "b", UUID_B, NULL);
	place(f, UUID_A, 0, "0-3");
	place(f, UUID_B, 0, "0-3");
	list = compute(f);
	assert_cpus(list, UUID_A, 0, 1.0, "at most one CPU");
	assert_cpus(list, UUID_B, 0, 1.0, NULL);
}

/* Pool of CPU 1 with three single-vCPU guests of equal weight; a has
 * Limit=10%: a gets 0.1, the 0.9 left is split evenly: b and c 0.45. */
static void test_limit_leftover(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GArray) list = NULL;

	add_guest(f, "a", UUID_A, "Limit=10%");
	add_guest(f, "b", UUID_B, NULL);
	add_guest(f, "c", UUID_C, NULL);
	place(f, UUID_A, 0, "1");
	place(f, UUID_B, 0, "1");
	place(f, UUID_C, 0, "1");
	list = compute(f);
	assert_cpus(list, UUID_A, 0, 0.1, "capped by Limit=10% over 1 vCPU(s)");
	assert_cpus(list, UUID_B, 0, 0.45, "weight 100 of 300 on CPUs 1 (1.00 CPUs left");
	assert_cpus(list, UUID_C, 0, 0.45, NULL);
}

/* A dedicated guest (each vCPU alone on its CPU) with Limit=150% over its
 * 2 vCPUs: 0.75 each; a dedicated guest without a limit: 1 each. */
static void test_dedicated(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GArray) list = NULL;

	add_guest(f, "a", UUID_A, "Limit=150%");
	add_guest(f, "b", UUID_B, NULL);
	place(f, UUID_A, 0, "2");
	place(f, UUID_A, 1, "3");
	place(f, UUID_B, 0, "4");
	place(f, UUID_B, 1, "5");
	list = compute(f);
	assert_cpus(list, UUID_A, 0, 0.75, "capped by Limit=150% over 2 vCPU(s)");
	assert_cpus(list, UUID_A, 1, 0.75, NULL);
	assert_cpus(list, UUID_B, 0, 1.0, "alone on CPU 4");
	assert_cpus(list, UUID_B, 1, 1.0, "alone on CPU 5");
}

/* CPUs 0-1. c's vCPU has a reservation 2ms/10ms (0.2) with affinity 0-1:
 * 0.1 off each CPU, 1.8 left. a (Weight=100) and b (Weight=200), one vCPU
 * each on 0-1: a 1.8/3 = 0.6, b 1.2 bounded to 1, so the fill gives b 1
 * and a the 0.8 left. */
static void test_reservation(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GArray) list = NULL;

	add_guest(f, "a", UUID_A, NULL);
	add_guest(f, "b", UUID_B, "Weight=200");
	add_guest(f, "c", UUID_C, "Reservation=2ms/10ms");
	place(f, UUID_A, 0, "0-1");
	place(f, UUID_B, 0, "0-1");
	place(f, UUID_C, 0, "0-1");
	reserve(f, UUID_C, 0, 2000, 10000);
	list = compute(f);
	assert_cpus(list, UUID_C, 0, 0.2, "SCHED_DEADLINE reservation 2000us/10000us");
	assert_cpus(list, UUID_B, 0, 1.0, "at most one CPU");
	assert_cpus(list, UUID_A, 0, 0.8, "(1.80 CPUs left for them)");
}

/* Pin=: a's vCPU 0 pinned to CPU 1, b's two vCPUs on the pool 1-2. The
 * narrower group goes first: a alone on CPU 1 takes it whole (1), b's
 * vCPUs share what is left of 1-2 (1 CPU): 0.5 each. Then a guest the
 * snapshot does not know, an emulator thread and a vCPU without CPUs give
 * nothing. */
static void test_overlap_and_skips(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GArray) list = NULL;
	VsCpuAction *a;

	add_guest(f, "a", UUID_A, NULL);
	add_guest(f, "b", UUID_B, NULL);
	place(f, UUID_B, 0, "1-2");
	place(f, UUID_B, 1, "1-2");
	place(f, UUID_A, 0, "1");
	place(f, UUID_C, 0, "1-2");
	a = action(f, VS_CPU_ACTION_AFFINITY, UUID_A, "emulator");
	a->cpus = vs_cpuset_parse("0", NULL);
	action(f, VS_CPU_ACTION_AFFINITY, UUID_A, "vcpu3");
	list = compute(f);
	assert_int_equal(list->len, 3);
	assert_cpus(list, UUID_A, 0, 1.0, "alone on CPU 1");
	assert_cpus(list, UUID_B, 0, 0.5, "(1.00 CPUs left for them)");
	assert_cpus(list, UUID_B, 1, 0.5, NULL);
	assert_null(vs_steal_entitlement_find(list, UUID_C, 0));
	assert_null(vs_steal_entitlement_find(list, UUID_A, 3));
}

/* The sum of the entitlements on a set of CPUs never exceeds them, and a
 * plan without a snapshot gives nothing. */
static void test_bounds(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GArray) list = NULL;
	g_autoptr(GArray) none = NULL;
	VsStealEntitlementInput in = { .plan = f->plan };
	double sum = 0;

	add_guest(f, "a", UUID_A, "Weight=7");
	add_guest(f, "b", UUID_B, "Weight=9999\nLimit=30%");
	add_guest(f, "c", UUID_C, "Reservation=5ms/10ms");
	for (guint i = 0; i < 4; i++) {
		place(f, UUID_A, i, "0-2");
		place(f, UUID_B, i, "1-2");
	}
	place(f, UUID_C, 0, "0-2");
	reserve(f, UUID_C, 0, 5000, 10000);
	list = compute(f);
	assert_int_equal(list->len, 9);
	for (guint i = 0; i < list->len; i++) {
		const VsStealEntitlement *e = &g_array_index(list, VsStealEntitlement, i);

		assert_true(e->cpus >= 0 && e->cpus <= 1.0);
		sum += e->cpus;
	}
	assert_true(sum <= 3.0 + 1e-9);
	/* b: 4 vCPUs on 1-2 capped at 0.3/4 each. */
	assert_cpus(list, UUID_B, 2, 0.075, "capped by Limit=30% over 4 vCPU(s)");
	/* c 0.5 off 0-2 (1/6 each): 2.5 left; b takes 0.3, a's four share
	 * 2.2: 0.55 each. */
	assert_cpus(list, UUID_A, 0, 0.55, NULL);
	none = vs_steal_entitlement_compute(&in);
	assert_int_equal(none->len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_one_cpu_bound),
		cmocka_unit_test(test_limit_leftover),
		cmocka_unit_test(test_dedicated),
		cmocka_unit_test(test_reservation),
		cmocka_unit_test(test_overlap_and_skips),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
