/* Unit tests for the CPU plan (src/sched/cpuplan.c) and the Pin= policy
 * values it reads, on snapshots and policies built from literals: actions
 * and their order, affinities from the placement, Pin= overrides (also
 * several per guest), reservations admitted on the whole root domain or
 * refused (admission, the kernel, Pin=, no deadline support) with the
 * guest left on its placement, reservations cleared, stability when a vCPU
 * is hot-added, and reasons with policy provenance; the cgroup v2 values
 * (cgplan.c) with the cgroup layouts of the fixture hosts unified-v2 (pure
 * v2) and flat2 (hybrid: reported unavailable); and restore actions for
 * what Applied holds that the plan no longer sets. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "host/cgroup-write.h"
#include "policy/policy.h"
#include "sched/cgplan.h"
#include "sched/cpuplan.h"
#include "unit/test-sched-topo.h"
#include "util/error.h"

#define UUID_DB "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
#define UUID_WEB "6f1c2a0e-9a57-4e0b-8a63-0e4f8a1d2c3b"
#define UUID_NEW "0a1b2c3d-0000-4000-8000-000000000001"

/* A host, guests and policies under construction. */
typedef struct Fixture {
	VsTopology *topo;
	VsHost host;
	GPtrArray *domains;       /* VsDomain, handed to each snapshot */
	VsPolicySet *set;
	VsOverrides *overrides;
	VsApplied *applied;
	GHashTable *refused;
	VsCpuSet *managed;
	VsCpuSet *housekeeping;
} Fixture;

static void fixture_free(Fixture *f)
{
	sched_topo_free(f->topo);
	g_ptr_array_unref(f->domains);
	vs_policy_set_free(f->set);
	vs_overrides_free(f->overrides);
	vs_applied_free(f->applied);
	g_hash_table_unref(f->refused);
	vs_cpuset_free(f->managed);
	vs_cpuset_free(f->housekeeping);
	vs_cgroup_info_clear(&f->host.cgroup);
	g_free(f);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Fixture, fixture_free)

static VsCpuSet *parse(const char *list)
{
	VsCpuSet *set = vs_cpuset_parse(list, NULL);

	assert_non_null(set);
	return set;
}

/* @desc's CPUs, housekeeping CPU 0, the kernel's default deadline limit
 * (0.95 per CPU) less the fair servers (0.05). */
static Fixture *fixture_new_topo(const SchedTopoDesc *desc)
{
	Fixture *f = g_new0(Fixture, 1);

	f->topo = sched_topo_new(desc);
	f->host.topology = *f->topo;
	f->host.caps.deadline.ok = true;
	f->host.caps.rt_runtime_us = 950000;
	f->host.caps.rt_period_us = 1000000;
	f->host.caps.dl_server_share_per_cpu = 0.05;
	f->domains = g_ptr_array_new_with_free_func((GDestroyNotify)vs_domain_free);
	f->set = g_new0(VsPolicySet, 1);
	f->set->files = g_ptr_array_new_with_free_func((GDestroyNotify)vs_policy_file_free);
	f->overrides = vs_overrides_new();
	f->applied = vs_applied_new();
	f->refused = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	f->managed = vs_cpuset_copy(f->topo->online);
	f->housekeeping = parse("0");
	return f;
}

/* 8 CPUs without SMT: 7.2 CPUs of deadline bandwidth. */
static Fixture *fixture_new(void)
{
	return fixture_new_topo(SCHED_TOPO_1S_FLAT_8);
}

/* Gives the host the cgroup layout of the fixture host @name
 * (tests/data/hosts), as vs_cgroup_discover() reads it. */
static void use_cgroups(Fixture *f, const char *name)
{
	const char *top = g_getenv("top_srcdir");
	g_autofree char *root = NULL;
	g_autoptr(VsSys) sys = NULL;
	g_autoptr(GError) error = NULL;

	if (!top)
		fail_msg("top_srcdir is not set (run the test with make check)");
	root = g_build_filename(top, "tests/data/hosts", name, NULL);
	sys = vs_sys_new(root);
	vs_cgroup_info_clear(&f->host.cgroup);
	if (vs_cgroup_discover(sys, &f->host.cgroup, &error) < 0)
		fail_msg("%s: %s", name, error->message);
}

/* Adds the policy file @name with @text (which must parse). */
static void add_policy(Fixture *f, const char *name, const char *text)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autofree char *path = g_strdup_printf("/etc/vsched/policy.d/%s", name);
	VsPolicyFile *file = vs_policy_file_parse(path, text, diags);

	if (!file)
		fail_msg("%s: %s", name, ((VsPolicyDiag *)g_ptr_array_index(diags, 0))->message);
	g_ptr_array_add(f->set->files, file);
}

static VsThread make_thread(pid_t pid, pid_t tid, const char *comm)
{
	return (VsThread){ .pid = pid, .tid = tid, .start_time = (uint64_t)tid * 10,
			   .comm = g_strdup(comm), .cpu = -1 };
}

/* Adds a running guest with @n_online of @n_max vCPUs online (thread IDs
 * pid+1...), an emulator thread (the QEMU main thread) and an I/O thread. */
static VsDomain *add_guest(Fixture *f, const char *name, const char *uuid, pid_t pid,
			   guint n_online, guint n_max)
{
	VsDomain *dom = vs_domain_new(name, n_max);
	VsThread emu = make_thread(pid, pid, "qemu-system-x86");
	VsThread io = make_thread(pid, pid + 100, "IO iothread1");

	g_strlcpy(dom->uuid, uuid, sizeof(dom->uuid));
	dom->id = (int)f->domains->len + 1;
	dom->pid = pid;
	dom->state = 1;
	for (guint i = 0; i < n_online; i++) {
		VsVcpu *v = &g_array_index(dom->vcpus, VsVcpu, i);
		g_autofree char *comm = g_strdup_printf("CPU %u/TCG", i);

		v->online = true;
		v->thread = make_thread(pid, pid + 1 + (pid_t)i, comm);
	}
	dom->vcpus_current = n_online;
	dom->vcpus_max = n_max;
	g_array_append_val(dom->emulator_threads, emu);
	g_array_append_val(dom->io_threads, io);
	g_ptr_array_add(f->domains, dom);
	return dom;
}

static VsCpuPlan *plan_with(Fixture *f, const VsPlacement *previous)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VsSnapshot) snap = vs_snapshot_new(1, 0, 0, &f->host,
						     g_ptr_array_ref(f->domains), true);
	VsCpuPlanInput in = {
		.snapshot = snap,
		.policies = f->set,
		.overrides = f->overrides,
		.now_us = 1000,
		.managed = f->managed,
		.housekeeping = f->housekeeping,
		.overcommit_limit = 4,
		.previous = previous,
		.applied = f->applied,
		.refused = f->refused,
	};
	VsCpuPlan *plan = NULL;

	if (vs_cpu_plan(&in, &plan, &error) < 0)
		fail_msg("plan refused: %s", error->message);
	return plan;
}

/* The action of @kind for thread @tid, or NULL. */
static const VsCpuAction *find(const VsCpuPlan *plan, VsCpuActionKind kind, pid_t tid)
{
	for (guint i = 0; i < plan->actions->len; i++) {
		const VsCpuAction *a = g_ptr_array_index(plan->actions, i);
		if (a->kind == kind && a->thread.tid == tid)
			return a;
	}
	return NULL;
}

static void assert_affinity(const VsCpuPlan *plan, pid_t tid, const char *want)
{
	const VsCpuAction *a = find(plan, VS_CPU_ACTION_AFFINITY, tid);
	g_autofree char *text = NULL;

	if (!a)
		fail_msg("no affinity action for TID %d", (int)tid);
	text = vs_cpuset_format(a->cpus);
	if (strcmp(text, want) != 0)
		fail_msg("TID %d: affinity %s, want %s (%s)", (int)tid, text, want, a->reason);
}

/* True when one of the guest's reasons contains @needle. */
static bool has_reason(const VsCpuPlan *plan, const char *uuid, const char *needle)
{
	const char *const *reasons = vs_cpu_plan_reasons(plan, uuid);

	for (guint i = 0; reasons && reasons[i]; i++)
		if (strstr(reasons[i], needle))
			return true;
	return false;
}

static void assert_reason(const VsCpuPlan *plan, const char *uuid, const char *needle)
{
	const char *const *reasons = vs_cpu_plan_reasons(plan, uuid);

	if (has_reason(plan, uuid, needle))
		return;
	for (guint i = 0; reasons && reasons[i]; i++)
		fprintf(stderr, "  reason: %s\n", reasons[i]);
	fail_msg("no reason of %s says \"%s\"", uuid, needle);
}

static guint count_kind(const VsCpuPlan *plan, VsCpuActionKind kind)
{
	guint n = 0;

	for (guint i = 0; i < plan->actions->len; i++)
		n += ((const VsCpuAction *)g_ptr_array_index(plan->actions, i))->kind == kind;
	return n;
}

static void assert_ordered(const VsCpuPlan *plan)
{
	for (guint i = 1; i < plan->actions->len; i++)
		assert_true(((const VsCpuAction *)g_ptr_array_index(plan->actions, i - 1))->kind <=
			    ((const VsCpuAction *)g_ptr_array_index(plan->actions, i))->kind);
}

static void test_pin_values(void **state)
{
	const VsPolicyKey *key = vs_policy_key_lookup("Pin");
	static const char *const bad[] = { "0", "x:1", "4096:1", "-1:1", "0:", "0:1-", ":3" };
	g_autoptr(VsPolicyValue) v = NULL;
	g_autoptr(VsPolicyValue) copy = NULL;
	g_autofree char *cpus = NULL;

	assert_non_null(key);
	assert_true(key->repeatable);
	v = vs_policy_value_parse(key, " 3:2-3,6 ", NULL);
	assert_non_null(v);
	assert_int_equal(v->pin.vcpu, 3);
	copy = vs_policy_value_copy(v);
	vs_cpuset_free(v->pin.cpus);
	v->pin.cpus = NULL;
	cpus = vs_cpuset_format(copy->pin.cpus);
	assert_string_equal(cpus, "2-3,6");
	assert_string_equal(copy->text, "3:2-3,6");
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *why = NULL;
		g_autoptr(VsPolicyValue) b = vs_policy_value_parse(key, bad[i], &why);

		if (b)
			fail_msg("Pin=%s accepted", bad[i]);
		assert_non_null(why);
	}
}

/* Pin= accumulates per vCPU: across files, within a file and in
 * overrides, a later value for the same vCPU replaces the earlier one. */
static void test_pin_merge(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsEffectivePolicy) e = NULL;
	const char *const first[] = { "Pin=1:4", NULL };
	const char *const second[] = { "Pin=2:5", "Pin=1:6", NULL };
	GString *seen = g_string_new(NULL);
	g_autofree char *text = NULL;

	add_policy(f, "10-a.policy", "[Match]\nName=db\n[CPU]\nPin=0:1\nPin=1:2\n");
	add_policy(f, "20-b.policy", "[Match]\nName=db\n[CPU]\nPin=0:3\n");
	assert_int_equal(vs_overrides_set(f->overrides, UUID_DB, "db", first, 0, 0, diags), 1);
	assert_int_equal(vs_overrides_set(f->overrides, UUID_DB, "db", second, 0, 0, diags), 2);
	assert_int_equal(f->overrides->items->len, 2);
	e = vs_policy_effective(f->set, f->overrides, "db", UUID_DB, NULL, 0);
	for (guint i = 0; i < e->entries->len; i++) {
		const VsEffectiveEntry *en = &g_array_index(e->entries, VsEffectiveEntry, i);
		if (strcmp(en->key->name, "Pin") == 0)
			g_string_append_printf(seen, "%s%s@%s", seen->len ? " " : "",
					       en->value ? en->value->text : "-",
					       en->origin == VS_ORIGIN_OVERRIDE ? "ov" : "file");
	}
	text = g_string_free(seen, FALSE);
	assert_string_equal(text, "0:3@file 1:6@ov 2:5@ov");
	assert_int_equal(vs_overrides_clear(f->overrides, UUID_DB, "Pin"), 2);
}

static void test_dedicated_shared_emulator(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(VsCpuPlan) plan = NULL;
	const VsCpuAction *a0, *a1;
	const VsCpuVcpuPlan *vp;
	g_autofree char *c0 = NULL, *c1 = NULL;

	add_policy(f, "10-db.policy", "[Match]\nName=db\n[CPU]\nPlacement=dedicated\n");
	add_guest(f, "db", UUID_DB, 1000, 2, 2);
	add_guest(f, "web", UUID_WEB, 2000, 2, 4);
	plan = plan_with(f, NULL);

	/* 2 vCPUs × (AFFINITY) + emulator + iothread per guest. */
	assert_int_equal(plan->actions->len, 8);
	assert_int_equal(count_kind(plan, VS_CPU_ACTION_AFFINITY), 8);
	a0 = find(plan, VS_CPU_ACTION_AFFINITY, 1001);
	a1 = find(plan, VS_CPU_ACTION_AFFINITY, 1002);
	assert_non_null(a0);
	assert_non_null(a1);
	assert_int_equal(vs_cpuset_count(a0->cpus), 1);
	assert_int_equal(vs_cpuset_count(a1->cpus), 1);
	assert_false(vs_cpuset_equal(a0->cpus, a1->cpus));
	assert_false(vs_cpuset_has(a0->cpus, 0));
	assert_string_equal(a0->what, "vcpu0");
	assert_string_equal(a0->domain, "db");
	assert_string_equal(a0->thread.comm, "CPU 0/TCG");
	assert_int_equal(a0->thread.start_time, 10010);
	assert_non_null(strstr(a0->reason, "dedicated (policy 10-db.policy:4)"));
	c0 = vs_cpuset_format(a0->cpus);
	c1 = vs_cpuset_format(a1->cpus);

	/* web floats over what is left; emulator and I/O threads on CPU 0. */
	{
		g_autoptr(VsCpuSet) pool = parse("1-7");
		g_autofree char *want = NULL;

		vs_cpuset_subtract(pool, a0->cpus);
		vs_cpuset_subtract(pool, a1->cpus);
		want = vs_cpuset_format(pool);
		assert_affinity(plan, 2001, want);
		assert_affinity(plan, 2002, want);
	}
	assert_affinity(plan, 1000, "0");
	assert_affinity(plan, 1100, "0");
	assert_affinity(plan, 2000, "0");
	assert_affinity(plan, 2100, "0");
	assert_string_equal(find(plan, VS_CPU_ACTION_AFFINITY, 2100)->what, "iothread");

	vp = vs_cpu_plan_vcpu(plan, UUID_DB, 0);
	assert_non_null(vp);
	assert_string_equal(vp->affinity, c0);
	assert_true(g_str_has_prefix(vp->placement, "dedicated CPU "));
	assert_null(vp->reservation);
	vp = vs_cpu_plan_vcpu(plan, UUID_WEB, 1);
	assert_true(g_str_has_prefix(vp->placement, "shared pool "));
	assert_null(vs_cpu_plan_vcpu(plan, UUID_WEB, 2)); /* offline */
	assert_reason(plan, UUID_DB, "vcpu1 of db → CPU ");
	assert_reason(plan, UUID_WEB, "(built-in default)");
	assert_null(vs_cpu_plan_reasons(plan, UUID_NEW));
	(void)c1;
}

static void test_pin_override(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsCpuPlan) plan = NULL;
	const char *const pins[] = { "Pin=1:5", "Pin=0:6-7,40", NULL };
	const char *const offline[] = { "Pin=3:40-41", NULL };

	add_guest(f, "web", UUID_WEB, 2000, 2, 4);
	assert_int_equal(vs_overrides_set(f->overrides, UUID_WEB, "web", pins, 0, 0, diags), 2);
	assert_int_equal(vs_overrides_set(f->overrides, UUID_WEB, "web", offline, 0, 0, diags), 1);
	plan = plan_with(f, NULL);
	assert_affinity(plan, 2002, "5");
	assert_affinity(plan, 2001, "6-7"); /* CPU 40 is not online */
	assert_non_null(strstr(find(plan, VS_CPU_ACTION_AFFINITY, 2002)->reason,
			       "pinned by Pin=1:5 (override ov-1)"));
	assert_string_equal(vs_cpu_plan_vcpu(plan, UUID_WEB, 1)->placement, "pinned by Pin=1:5");
	/* A Pin= of a vCPU that is not online changes nothing. */
	assert_int_equal(count_kind(plan, VS_CPU_ACTION_AFFINITY), 4);
}

static void test_reservation_admitted(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(VsCpuPlan) plan = NULL;
	const VsCpuAction *d;

	add_policy(f, "20-rt.policy", "[Match]\nName=rt\n[CPU]\nReservation=1ms/100ms\n");
	add_guest(f, "rt", UUID_DB, 1000, 2, 2);
	plan = plan_with(f, NULL);
	assert_ordered(plan);
	assert_int_equal(count_kind(plan, VS_CPU_ACTION_DEADLINE), 2);
	/* No partitions: the whole root domain, housekeeping CPU included. */
	assert_affinity(plan, 1001, "0-7");
	assert_affinity(plan, 1002, "0-7");
	assert_affinity(plan, 1000, "0");
	d = find(plan, VS_CPU_ACTION_DEADLINE, 1002);
	assert_non_null(d);
	assert_int_equal(d->runtime_us, 1000);
	assert_int_equal(d->period_us, 100000);
	assert_non_null(strstr(d->reason, "policy 20-rt.policy:4"));
	assert_reason(plan, UUID_DB, "reservation 1ms/100ms admitted for each of 2 vCPU(s)");
	assert_reason(plan, UUID_DB, "whole root domain");
	assert_string_equal(vs_cpu_plan_vcpu(plan, UUID_DB, 0)->reservation, "1ms/100ms");

	/* With cpuset partitions the placement stands. */
	f->host.caps.cpuset_partitions.ok = true;
	g_clear_pointer(&plan, vs_cpu_plan_free);
	plan = plan_with(f, NULL);
	assert_affinity(plan, 1001, "1-7");
	assert_int_equal(count_kind(plan, VS_CPU_ACTION_DEADLINE), 2);
	assert_false(has_reason(plan, UUID_DB, "whole root domain"));
}

/* Dropping the actions of a plan that was acted on keeps their number by
 * kind, the reasons and the vCPU plans. */
static void test_drop_actions(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(VsCpuPlan) plan = NULL;
	guint affinity;

	add_policy(f, "20-rt.policy", "[Match]\nName=rt\n[CPU]\nReservation=1ms/100ms\n");
	add_guest(f, "rt", UUID_DB, 1000, 2, 2);
	plan = plan_with(f, NULL);
	affinity = count_kind(plan, VS_CPU_ACTION_AFFINITY);
	assert_true(affinity >= 3); /* 2 vCPUs and the emulator */
	assert_int_equal(vs_cpu_plan_count(plan, VS_CPU_ACTION_AFFINITY), affinity);
	assert_int_equal(vs_cpu_plan_count(plan, VS_CPU_ACTION_DEADLINE), 2);
	vs_cpu_plan_drop_actions(plan);
	assert_int_equal(plan->actions->len, 0);
	assert_int_equal(vs_cpu_plan_count(plan, VS_CPU_ACTION_AFFINITY), affinity);
	assert_int_equal(vs_cpu_plan_count(plan, VS_CPU_ACTION_DEADLINE), 2);
	assert_int_equal(vs_cpu_plan_count(plan, VS_CPU_ACTION_DEADLINE_CLEAR), 0);
	assert_reason(plan, UUID_DB, "reservation 1ms/100ms admitted for each of 2 vCPU(s)");
	assert_string_equal(vs_cpu_plan_vcpu(plan, UUID_DB, 1)->reservation, "1ms/100ms");
	/* Twice: nothing more to drop, the counts stay. */
	vs_cpu_plan_drop_actions(plan);
	assert_int_equal(vs_cpu_plan_count(plan, VS_CPU_ACTION_DEADLINE), 2);
}

/* 0.95 × 8 = 7.6 CPUs asked of 7.2: refused for every vCPU, none reserved. */
static void test_reservation_refused(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(VsCpuPlan) plan = NULL;
	const VsCpuVcpuPlan *vp;

	add_policy(f, "20-rt.policy", "[Match]\nName=rt\n[CPU]\nReservation=95ms/100ms\n");
	add_guest(f, "rt", UUID_DB, 1000, 8, 8);
	plan = plan_with(f, NULL);
	assert_int_equal(count_kind(plan, VS_CPU_ACTION_DEADLINE), 0);
	assert_int_equal(count_kind(plan, VS_CPU_ACTION_DEADLINE_CLEAR), 0);
	for (pid_t tid = 1001; tid <= 1008; tid++)
		assert_affinity(plan, tid, "1-7");
	assert_reason(plan, UUID_DB, "reservation 95ms/100ms not given (policy 20-rt.policy:4)");
	assert_reason(plan, UUID_DB, "keep their placement without a deadline");
	vp = vs_cpu_plan_vcpu(plan, UUID_DB, 7);
	assert_true(g_str_has_prefix(vp->reservation, "refused: "));
}

/* A guest vsched reserved before keeps its bandwidth against a newcomer
 * that comes first by name; 3.8 + 3.8 CPUs do not fit in 7.2. */
static void test_reserved_first(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(VsCpuPlan) plan = NULL;
	VsDomain *old;

	add_policy(f, "20-rt.policy", "[Match]\nName=*\n[CPU]\nReservation=95ms/100ms\n");
	add_guest(f, "a-new", UUID_NEW, 1000, 4, 4);
	old = add_guest(f, "b-old", UUID_WEB, 2000, 4, 4);
	vs_applied_set_deadline(f->applied, UUID_WEB, "b-old", "vcpu0",
				&g_array_index(old->vcpus, VsVcpu, 0).thread,
				&(VsSchedAttr){ .sched_policy = 0 }, 95000, 100000);
	plan = plan_with(f, NULL);
	assert_int_equal(count_kind(plan, VS_CPU_ACTION_DEADLINE), 4);
	assert_non_null(find(plan, VS_CPU_ACTION_DEADLINE, 2001));
	assert_null(find(plan, VS_CPU_ACTION_DEADLINE, 1001));
	assert_reason(plan, UUID_NEW, "not given");
	assert_reason(plan, UUID_WEB, "admitted");
}

static void test_refusals(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsCpuPlan) plan = NULL;
	const char *const pin[] = { "Pin=0:3", NULL };
	VsDomain *dom;

	add_policy(f, "20-rt.policy", "[Match]\nName=rt\n[CPU]\nReservation=1ms/100ms\n");
	dom = add_guest(f, "rt", UUID_DB, 1000, 2, 2);

	/* The kernel said no at an earlier tick. */
	g_hash_table_insert(f->refused,
			    vs_cpu_deadline_key(&g_array_index(dom->vcpus, VsVcpu, 1).thread,
						1000, 100000),
			    g_strdup("sched_setattr: Device or resource busy"));
	plan = plan_with(f, NULL);
	assert_int_equal(count_kind(plan, VS_CPU_ACTION_DEADLINE), 0);
	assert_affinity(plan, 1001, "1-7");
	assert_reason(plan, UUID_DB, "the kernel refused it for vcpu1: sched_setattr: Device or "
		      "resource busy");
	/* A refusal of another reservation does not stand in the way. */
	g_hash_table_remove_all(f->refused);
	g_hash_table_insert(f->refused,
			    vs_cpu_deadline_key(&g_array_index(dom->vcpus, VsVcpu, 1).thread,
						2000, 100000), g_strdup("busy"));
	g_clear_pointer(&plan, vs_cpu_plan_free);
	plan = plan_with(f, NULL);
	assert_int_equal(count_kind(plan, VS_CPU_ACTION_DEADLINE), 2);

	/* Pin= without partitions. */
	assert_int_equal(vs_overrides_set(f->overrides, UUID_DB, "rt", pin, 0, 0, diags), 1);
	g_clear_pointer(&plan, vs_cpu_plan_free);
	plan = plan_with(f, NULL);
	assert_int_equal(count_kind(plan, VS_CPU_ACTION_DEADLINE), 0);
	assert_affinity(plan, 1001, "3");
	assert_reason(plan, UUID_DB, "Pin= narrows vcpu0 below the root domain (CPUs 0-7)");

	/* No deadline on this host. */
	vs_overrides_clear(f->overrides, UUID_DB, NULL);
	f->host.caps.deadline.ok = false;
	f->host.caps.deadline.detail = (char *)"sched_setattr: Operation not permitted";
	g_clear_pointer(&plan, vs_cpu_plan_free);
	plan = plan_with(f, NULL);
	assert_int_equal(count_kind(plan, VS_CPU_ACTION_DEADLINE), 0);
	assert_reason(plan, UUID_DB, "this host cannot run SCHED_DEADLINE (sched_setattr: "
		      "Operation not permitted)");
	f->host.caps.deadline.detail = NULL;
}

/* A vCPU vsched reserved whose guest lost its Reservation= gets its policy
 * back before its affinity narrows. */
#define DB_SCOPE "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d1\\x2ddb.scope"

/* The CGROUP action for @dir/@file, or NULL. */
static const VsCpuAction *find_cgroup(const VsCpuPlan *plan, const char *dir, const char *file)
{
	for (guint i = 0; i < plan->actions->len; i++) {
		const VsCpuAction *a = g_ptr_array_index(plan->actions, i);

		if (a->kind == VS_CPU_ACTION_CGROUP && strcmp(a->dir, dir) == 0 &&
		    strcmp(a->file, file) == 0)
			return a;
	}
	return NULL;
}

static void assert_cgroup(const VsCpuPlan *plan, const char *dir, const char *file,
			  const char *want)
{
	const VsCpuAction *a = find_cgroup(plan, dir, file);

	if (!a)
		fail_msg("no action for %s/%s", dir, file);
	if (strcmp(a->value, want) != 0)
		fail_msg("%s/%s: %s, want %s (%s)", dir, file, a->value, want, a->reason);
	assert_int_equal(a->thread.tid, a->thread.pid);  /* owned by the QEMU main thread */
}

/* How many reasons of @uuid are exactly @text. */
static guint count_reason(const VsCpuPlan *plan, const char *uuid, const char *text)
{
	const char *const *reasons = vs_cpu_plan_reasons(plan, uuid);
	guint n = 0;

	for (guint i = 0; reasons && reasons[i]; i++)
		n += strcmp(reasons[i], text) == 0;
	return n;
}

/* Pure cgroup v2 (unified-v2): weight, cap, burst, the guest's cpuset and
 * its vCPUs' cpusets in libvirt's systemd layout; Weight= at its built-in
 * default leaves cpu.weight alone. */
static void test_cgroup_v2(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(VsCpuPlan) plan = NULL;
	const VsCpuAction *a0, *a1;
	g_autoptr(VsCpuSet) all = NULL;
	g_autofree char *all_text = NULL, *c0 = NULL, *c1 = NULL;
	VsDomain *db, *web;

	use_cgroups(f, "unified-v2");
	add_policy(f, "10-db.policy", "[Match]\nName=db\n[CPU]\nPlacement=dedicated\n"
		   "Weight=300\nLimit=150%\nLimitBurst=20ms\n");
	db = add_guest(f, "db", UUID_DB, 1000, 2, 2);
	db->cgroup_path = g_strdup("/machine.slice/machine-qemu\\x2d1\\x2ddb.scope/libvirt/emulator");
	web = add_guest(f, "web", UUID_WEB, 2000, 1, 1);
	web->cgroup_path = g_strdup("/machine/qemu-2-web.libvirt-qemu");
	plan = plan_with(f, NULL);
	assert_ordered(plan);

	assert_cgroup(plan, DB_SCOPE, "cpu.weight", "300");
	assert_cgroup(plan, DB_SCOPE, "cpu.max", "150000 100000");
	assert_cgroup(plan, DB_SCOPE, "cpu.max.burst", "20000");
	assert_non_null(strstr(find_cgroup(plan, DB_SCOPE, "cpu.max")->reason,
			       "Limit=150% of one CPU for the whole guest (policy 10-db.policy:6)"));
	a0 = find(plan, VS_CPU_ACTION_AFFINITY, 1001);
	a1 = find(plan, VS_CPU_ACTION_AFFINITY, 1002);
	c0 = vs_cpuset_format(a0->cpus);
	c1 = vs_cpuset_format(a1->cpus);
	assert_cgroup(plan, DB_SCOPE "/libvirt/vcpu0", "cpuset.cpus", c0);
	assert_cgroup(plan, DB_SCOPE "/libvirt/vcpu1", "cpuset.cpus", c1);
	all = vs_cpuset_copy(a0->cpus);
	vs_cpuset_union(all, a1->cpus);
	vs_cpuset_add(all, 0); /* the emulator's housekeeping CPU */
	all_text = vs_cpuset_format(all);
	assert_cgroup(plan, DB_SCOPE, "cpuset.cpus", all_text);
	assert_string_equal(find_cgroup(plan, DB_SCOPE, "cpuset.cpus")->what, "guest");
	assert_string_equal(find_cgroup(plan, DB_SCOPE "/libvirt/vcpu1", "cpuset.cpus")->what,
			    "vcpu1");
	/* One NUMA node: no cpuset.mems. */
	assert_null(find_cgroup(plan, DB_SCOPE, "cpuset.mems"));

	/* web: defaults only; its vCPU cgroup without a scope. */
	assert_null(find_cgroup(plan, "/sys/fs/cgroup/machine/qemu-2-web.libvirt-qemu", "cpu.weight"));
	assert_null(find_cgroup(plan, "/sys/fs/cgroup/machine/qemu-2-web.libvirt-qemu", "cpu.max"));
	assert_non_null(find_cgroup(plan, "/sys/fs/cgroup/machine/qemu-2-web.libvirt-qemu/vcpu0",
				    "cpuset.cpus"));
	assert_int_equal(count_kind(plan, VS_CPU_ACTION_CGROUP), 3 + 3 + 2);
	assert_int_equal(count_reason(plan, UUID_DB, VS_CGPLAN_NO_CPU), 0);
}

/* A dedicated guest whose vCPUs fit in one node of a NUMA host gets that
 * node's memory; a burst above the quota is refused with a reason. */
static void test_cgroup_numa_burst(void **state)
{
	g_autoptr(Fixture) f = fixture_new_topo(SCHED_TOPO_2S_SMT2_32);
	g_autoptr(VsCpuPlan) plan = NULL;
	const VsCpuAction *a0;
	const VsCpu *cpu = NULL;
	g_autofree char *node = NULL;
	VsDomain *db;

	use_cgroups(f, "unified-v2");
	add_policy(f, "10-db.policy", "[Match]\nName=db\n[CPU]\nPlacement=dedicated\n"
		   "Limit=10%\nLimitBurst=50ms\n");
	db = add_guest(f, "db", UUID_DB, 1000, 2, 2);
	db->cgroup_path = g_strdup("/machine.slice/machine-qemu\\x2d1\\x2ddb.scope/libvirt/vcpu0");
	plan = plan_with(f, NULL);

	a0 = find(plan, VS_CPU_ACTION_AFFINITY, 1001);
	for (guint i = 0; i < f->topo->cpus->len; i++)
		if (vs_cpuset_has(a0->cpus, g_array_index(f->topo->cpus, VsCpu, i).id))
			cpu = &g_array_index(f->topo->cpus, VsCpu, i);
	assert_non_null(cpu);
	node = g_strdup_printf("%d", cpu->node);
	assert_cgroup(plan, DB_SCOPE, "cpuset.mems", node);
	assert_cgroup(plan, DB_SCOPE, "cpu.max", "10000 100000");
	assert_null(find_cgroup(plan, DB_SCOPE, "cpu.max.burst"));
	assert_reason(plan, UUID_DB, "LimitBurst=50ms (policy 10-db.policy:6) not applied: it is "
		      "above the cpu.max quota of 10000us");
}

/* This host's layout (flat2: hybrid, v2 without cpu and cpuset): nothing
 * planned, one reason per guest, the affinities as before. */
static void test_cgroup_hybrid(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(VsCpuPlan) plan = NULL;
	VsDomain *db, *web;

	use_cgroups(f, "flat2");
	add_policy(f, "10-all.policy", "[Match]\nName=*\n[CPU]\nWeight=300\nLimit=50%\n");
	db = add_guest(f, "db", UUID_DB, 1000, 2, 2);
	db->cgroup_path = g_strdup("/machine/qemu-1-db.libvirt-qemu/emulator");
	web = add_guest(f, "web", UUID_WEB, 2000, 1, 1);
	web->cgroup_path = g_strdup("/machine/qemu-2-web.libvirt-qemu/emulator");
	plan = plan_with(f, NULL);

	assert_int_equal(count_kind(plan, VS_CPU_ACTION_CGROUP), 0);
	assert_int_equal(count_kind(plan, VS_CPU_ACTION_AFFINITY), 3 + 4);
	assert_int_equal(count_reason(plan, UUID_DB, VS_CGPLAN_NO_CPU), 1);
	assert_int_equal(count_reason(plan, UUID_WEB, VS_CGPLAN_NO_CPU), 1);
	assert_reason(plan, UUID_DB, "cgroup v2 cpuset controller unavailable");
}

/* What Applied holds that the plan no longer sets goes back: a weight
 * whose Weight= was removed, the affinity of a thread no longer planned
 * (vCPU 2 went offline but its thread still runs); what is still planned
 * gets no restore action. */
static void test_restore_unmanaged(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(VsCpuPlan) plan = NULL;
	g_autoptr(VsCpuSet) orig = parse("0-7");
	g_autoptr(VsCpuSet) cur = parse("3");
	const VsCpuAction *a;
	const VsThread *emu;
	VsDomain *db;
	VsVcpu *v2;
	guint restores = 0;

	use_cgroups(f, "unified-v2");
	db = add_guest(f, "db", UUID_DB, 1000, 2, 3);
	db->cgroup_path = g_strdup("/machine.slice/machine-qemu\\x2d1\\x2ddb.scope/libvirt/emulator");
	v2 = &g_array_index(db->vcpus, VsVcpu, 2);
	v2->thread = make_thread(1000, 1003, "CPU 2/TCG");
	emu = &g_array_index(db->emulator_threads, VsThread, 0);
	vs_applied_set_cgroup(f->applied, UUID_DB, "db", "guest", emu, DB_SCOPE, "cpu.weight",
			      "100", "300");
	vs_applied_set_cgroup(f->applied, UUID_DB, "db", "guest", emu, DB_SCOPE, "cpuset.cpus",
			      "", "0-7");
	vs_applied_set_affinity(f->applied, UUID_DB, "db", "vcpu2", &v2->thread, orig, cur);
	vs_applied_set_affinity(f->applied, UUID_DB, "db", "vcpu0",
				&g_array_index(db->vcpus, VsVcpu, 0).thread, orig, cur);
	plan = plan_with(f, NULL);
	assert_ordered(plan);

	a = find_cgroup(plan, DB_SCOPE, "cpu.weight");
	assert_non_null(a);
	assert_true(a->restore);
	assert_string_equal(a->value, "100");
	assert_reason(plan, UUID_DB, "cpu.weight of guest no longer set by its policy: back to "
		      "\"100\", its value before vsched");
	a = find(plan, VS_CPU_ACTION_AFFINITY, 1003);
	assert_non_null(a);
	assert_true(a->restore);
	assert_affinity(plan, 1003, "0-7");
	assert_reason(plan, UUID_DB, "vcpu2 of db no longer placed by vsched: affinity back to "
		      "CPUs 0-7");
	/* Still planned: a plain action, no restore. */
	assert_false(find_cgroup(plan, DB_SCOPE, "cpuset.cpus")->restore);
	assert_false(find(plan, VS_CPU_ACTION_AFFINITY, 1001)->restore);
	for (guint i = 0; i < plan->actions->len; i++)
		restores += ((const VsCpuAction *)g_ptr_array_index(plan->actions, i))->restore;
	assert_int_equal(restores, 2);
}

static void test_deadline_clear(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(VsCpuPlan) plan = NULL;
	const VsCpuAction *first;
	VsDomain *dom;

	dom = add_guest(f, "web", UUID_WEB, 2000, 2, 2);
	vs_applied_set_deadline(f->applied, UUID_WEB, "web", "vcpu1",
				&g_array_index(dom->vcpus, VsVcpu, 1).thread,
				&(VsSchedAttr){ .sched_policy = 0, .sched_nice = 2 }, 1000, 100000);
	plan = plan_with(f, NULL);
	assert_ordered(plan);
	assert_int_equal(count_kind(plan, VS_CPU_ACTION_DEADLINE_CLEAR), 1);
	first = g_ptr_array_index(plan->actions, 0);
	assert_int_equal(first->kind, VS_CPU_ACTION_DEADLINE_CLEAR);
	assert_int_equal(first->thread.tid, 2002);
	assert_affinity(plan, 2002, "1-7");
}

/* A hot-added vCPU is placed; the others keep their CPUs. */
static void test_hotplug_stable(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(VsCpuPlan) before = NULL;
	g_autoptr(VsCpuPlan) after = NULL;
	VsDomain *dom;
	VsVcpu *v;
	g_autofree char *c1 = NULL, *c2 = NULL;

	add_policy(f, "10-db.policy", "[Match]\nName=db\n[CPU]\nPlacement=dedicated\n");
	dom = add_guest(f, "db", UUID_DB, 1000, 2, 3);
	add_guest(f, "web", UUID_WEB, 2000, 1, 1);
	before = plan_with(f, NULL);
	c1 = vs_cpuset_format(find(before, VS_CPU_ACTION_AFFINITY, 1001)->cpus);
	c2 = vs_cpuset_format(find(before, VS_CPU_ACTION_AFFINITY, 1002)->cpus);

	v = &g_array_index(dom->vcpus, VsVcpu, 2);
	v->online = true;
	v->thread = make_thread(1000, 1003, "CPU 2/TCG");
	after = plan_with(f, before->placement);
	assert_affinity(after, 1001, c1);
	assert_affinity(after, 1002, c2);
	assert_non_null(find(after, VS_CPU_ACTION_AFFINITY, 1003));
	assert_int_equal(vs_cpuset_count(find(after, VS_CPU_ACTION_AFFINITY, 1003)->cpus), 1);
	assert_non_null(vs_cpu_plan_vcpu(after, UUID_DB, 2));
}

static void test_no_guest_and_errors(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(VsCpuPlan) plan = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(VsSnapshot) snap = NULL;
	VsCpuPlan *bad = NULL;
	VsDomain *off;
	VsCpuPlanInput in;

	/* A guest that is not running, and one without vCPU threads. */
	off = vs_domain_new("off", 1);
	g_strlcpy(off->uuid, UUID_NEW, sizeof(off->uuid));
	g_ptr_array_add(f->domains, off);
	add_guest(f, "nothreads", UUID_WEB, 2000, 0, 2);
	plan = plan_with(f, NULL);
	assert_int_equal(plan->actions->len, 0);
	assert_null(plan->placement);

	/* No CPU left for vCPUs: the placement planner's error. */
	add_guest(f, "db", UUID_DB, 1000, 1, 1);
	snap = vs_snapshot_new(1, 0, 0, &f->host, g_ptr_array_ref(f->domains), true);
	in = (VsCpuPlanInput){
		.snapshot = snap,
		.managed = f->housekeeping,
		.housekeeping = f->housekeeping,
		.overcommit_limit = 4,
	};
	assert_int_equal(vs_cpu_plan(&in, &bad, &error), -EINVAL);
	assert_null(bad);
	assert_true(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
}

static void test_describe(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(VsCpuPlan) plan = NULL;
	g_autofree char *aff = NULL;
	g_autofree char *dl = NULL;
	g_autofree char *key = NULL;

	add_policy(f, "20-rt.policy", "[Match]\nName=rt\n[CPU]\nReservation=2ms/10ms\n");
	add_guest(f, "rt", UUID_DB, 1000, 1, 1);
	plan = plan_with(f, NULL);
	aff = vs_cpu_action_describe(find(plan, VS_CPU_ACTION_AFFINITY, 1001));
	dl = vs_cpu_action_describe(find(plan, VS_CPU_ACTION_DEADLINE, 1001));
	assert_string_equal(aff, "vcpu0 (TID 1001) of rt: affinity CPUs 0-7");
	assert_string_equal(dl, "vcpu0 (TID 1001) of rt: SCHED_DEADLINE runtime 2000us period "
				"10000us");
	key = vs_cpu_thread_key(&find(plan, VS_CPU_ACTION_AFFINITY, 1001)->thread);
	assert_string_equal(key, "1001:10010");
}

/* The digest of the planner's snapshot inputs: equal for an equal
 * snapshot, different for each input a plan depends on. */
static void test_inputs_hash(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(VsSnapshot) snap = NULL;
	VsDomain *dom;
	uint64_t h, again;

	dom = add_guest(f, "db", UUID_DB, 1000, 2, 3);
	add_guest(f, "web", UUID_WEB, 2000, 1, 1);
	snap = vs_snapshot_new(1, 0, 0, &f->host, g_ptr_array_ref(f->domains), true);
	h = vs_cpu_plan_inputs_hash(snap);
	assert_true(h == vs_cpu_plan_inputs_hash(snap));

	/* The class (policy matching) and back. */
	dom->vsched_class = g_strdup("db");
	again = vs_cpu_plan_inputs_hash(snap);
	assert_true(again != h);
	g_clear_pointer(&dom->vsched_class, g_free);
	assert_true(vs_cpu_plan_inputs_hash(snap) == h);
	/* The name. */
	g_free(dom->name);
	dom->name = g_strdup("db2");
	assert_true(vs_cpu_plan_inputs_hash(snap) != h);
	g_free(dom->name);
	dom->name = g_strdup("db");
	assert_true(vs_cpu_plan_inputs_hash(snap) == h);
	/* The cgroup the QEMU process is in. */
	dom->cgroup_path = g_strdup("/machine.slice/db");
	assert_true(vs_cpu_plan_inputs_hash(snap) != h);
	g_clear_pointer(&dom->cgroup_path, g_free);
	/* A hot-added vCPU (a thread change). */
	g_array_index(dom->vcpus, VsVcpu, 2).online = true;
	g_array_index(dom->vcpus, VsVcpu, 2).thread = make_thread(1000, 1003, "CPU 2/TCG");
	assert_true(vs_cpu_plan_inputs_hash(snap) != h);
	g_array_index(dom->vcpus, VsVcpu, 2).online = false;
	assert_true(vs_cpu_plan_inputs_hash(snap) == h);
	/* The host's CPUs and capabilities. */
	f->host.caps.deadline.ok = false;
	assert_true(vs_cpu_plan_inputs_hash(snap) != h);
	f->host.caps.deadline.ok = true;
	vs_cpuset_remove(f->host.topology.online, 7);
	assert_true(vs_cpu_plan_inputs_hash(snap) != h);
	vs_cpuset_add(f->host.topology.online, 7);
	assert_true(vs_cpu_plan_inputs_hash(snap) == h);
}

/* The action digest follows what the description says. */
static void test_action_hash(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(VsCpuPlan) plan = NULL;
	g_autoptr(VsCpuPlan) again = NULL;
	VsCpuAction *aff, *dl;
	uint64_t h;

	add_policy(f, "20-rt.policy", "[Match]\nName=rt\n[CPU]\nReservation=2ms/10ms\n");
	add_guest(f, "rt", UUID_DB, 1000, 1, 1);
	plan = plan_with(f, NULL);
	again = plan_with(f, NULL);
	aff = (VsCpuAction *)find(plan, VS_CPU_ACTION_AFFINITY, 1001);
	dl = (VsCpuAction *)find(plan, VS_CPU_ACTION_DEADLINE, 1001);
	h = vs_cpu_action_hash(aff);
	/* The same action of another plan; not the reservation of the thread. */
	assert_true(h == vs_cpu_action_hash(find(again, VS_CPU_ACTION_AFFINITY, 1001)));
	assert_true(h != vs_cpu_action_hash(dl));
	vs_cpuset_remove(aff->cpus, 3);
	assert_true(h != vs_cpu_action_hash(aff));
	vs_cpuset_add(aff->cpus, 3);
	assert_true(h == vs_cpu_action_hash(aff));
	h = vs_cpu_action_hash(dl);
	dl->runtime_us++;
	assert_true(h != vs_cpu_action_hash(dl));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_values),
		cmocka_unit_test(test_pin_merge),
		cmocka_unit_test(test_dedicated_shared_emulator),
		cmocka_unit_test(test_pin_override),
		cmocka_unit_test(test_reservation_admitted),
		cmocka_unit_test(test_reservation_refused),
		cmocka_unit_test(test_drop_actions),
		cmocka_unit_test(test_reserved_first),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_deadline_clear),
		cmocka_unit_test(test_cgroup_v2),
		cmocka_unit_test(test_cgroup_numa_burst),
		cmocka_unit_test(test_cgroup_hybrid),
		cmocka_unit_test(test_restore_unmanaged),
		cmocka_unit_test(test_hotplug_stable),
		cmocka_unit_test(test_no_guest_and_errors),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_inputs_hash),
		cmocka_unit_test(test_action_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
