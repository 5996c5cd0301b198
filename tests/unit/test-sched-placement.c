/* Unit tests for the vCPU placement planner (src/sched/placement.c) on
 * topologies built by test-sched-topo.c: 2 sockets × 1 node × 8 cores ×
 * SMT2 (32 CPUs), 1 socket × 8 cores without SMT, and 2 sockets × 4 nodes
 * × SMT2 (256 CPUs). Every plan is also held to the invariants the rules
 * promise (check_invariants()): dedicated CPUs exclusive and out of the
 * pool, siblings idle or the guest's own, homes inside affinities, mems
 * matching the CPUs, every guest with reasons. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "sched/placement.h"
#include "unit/test-sched-topo.h"
#include "util/error.h"

#define PROVENANCE "50-test.policy:1"

/* A planner input under construction; owns what the guests point at. */
typedef struct Scenario {
	VsTopology *topo;
	VsCpuSet *managed;
	VsCpuSet *housekeeping;   /* NULL: none */
	double limit;
	GArray *guests;           /* VsPlacementGuest */
	GPtrArray *strings;
	GPtrArray *sets;
} Scenario;

static void scenario_free(Scenario *sc)
{
	sched_topo_free(sc->topo);
	vs_cpuset_free(sc->managed);
	vs_cpuset_free(sc->housekeeping);
	g_array_unref(sc->guests);
	g_ptr_array_unref(sc->strings);
	g_ptr_array_unref(sc->sets);
	g_free(sc);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Scenario, scenario_free)

static VsCpuSet *parse(const char *list)
{
	g_autoptr(GError) error = NULL;
	VsCpuSet *set = vs_cpuset_parse(list, &error);

	assert_null(error);
	return set;
}

/* A scenario on @desc with managed CPUs @managed and housekeeping CPUs
 * @hk (NULL: none), overcommit limit 4. */
static Scenario *scenario_new(const SchedTopoDesc *desc, const char *managed, const char *hk)
{
	Scenario *sc = g_new0(Scenario, 1);

	sc->topo = sched_topo_new(desc);
	sc->managed = parse(managed);
	sc->housekeeping = hk ? parse(hk) : NULL;
	sc->limit = 4.0;
	sc->guests = g_array_new(FALSE, TRUE, sizeof(VsPlacementGuest));
	sc->strings = g_ptr_array_new_with_free_func(g_free);
	sc->sets = g_ptr_array_new_with_free_func((GDestroyNotify)vs_cpuset_free);
	return sc;
}

static const char *own(Scenario *sc, char *s)
{
	g_ptr_array_add(sc->strings, s);
	return s;
}

/* Adds guest @name (UUID "uuid-@name") with @n vCPUs asking @mode,
 * Siblings=isolate, EmulatorPlacement=housekeeping; the pointer is valid
 * until the next add or remove. */
static VsPlacementGuest *add_guest(Scenario *sc, const char *name, guint n, VsPlacementMode mode)
{
	VsPlacementGuest g = {
		.uuid = own(sc, g_strdup_printf("uuid-%s", name)),
		.name = own(sc, g_strdup(name)),
		.n_vcpus = n,
		.mode = mode,
		.siblings = VS_SIBLINGS_ISOLATE,
		.emulator = VS_EMU_HOUSEKEEPING,
		.provenance = PROVENANCE,
	};

	g_array_append_val(sc->guests, g);
	return &g_array_index(sc->guests, VsPlacementGuest, sc->guests->len - 1);
}

static void set_allowed(Scenario *sc, VsPlacementGuest *g, const char *list)
{
	VsCpuSet *set = parse(list);

	g_ptr_array_add(sc->sets, set);
	g->allowed = set;
}

static void remove_guest(Scenario *sc, const char *name)
{
	for (guint i = 0; i < sc->guests->len; i++) {
		if (strcmp(g_array_index(sc->guests, VsPlacementGuest, i).name, name) == 0) {
			g_array_remove_index(sc->guests, i);
			return;
		}
	}
	fail_msg("no guest %s", name);
}

static VsPlacementInput scenario_input(const Scenario *sc, const VsPlacement *prev)
{
	return (VsPlacementInput){
		.topology = sc->topo,
		.managed = sc->managed,
		.housekeeping = sc->housekeeping,
		.overcommit_limit = sc->limit,
		.guests = (const VsPlacementGuest *)sc->guests->data,
		.n_guests = sc->guests->len,
		.previous = prev,
	};
}

static int node_of(const Scenario *sc, guint cpu)
{
	const VsCpu *c = vs_topology_find_cpu(sc->topo, cpu);

	assert_non_null(c);
	return c->node;
}

static const VsCpuSet *siblings_of(const Scenario *sc, guint cpu)
{
	return vs_topology_find_cpu(sc->topo, cpu)->siblings;
}

static void assert_set(const VsCpuSet *set, const char *want)
{
	g_autofree char *text = vs_cpuset_format(set);

	assert_string_equal(text, want);
}

static bool has_reason(const VsGuestPlacement *g, const char *fragment)
{
	for (guint i = 0; i < g->reasons->len; i++) {
		if (strstr(g->reasons->pdata[i], fragment))
			return true;
	}
	return false;
}

static void assert_reason(const VsGuestPlacement *g, const char *fragment)
{
	if (!has_reason(g, fragment)) {
		for (guint i = 0; i < g->reasons->len; i++)
			print_error("%s: %s\n", g->name, (const char *)g->reasons->pdata[i]);
		fail_msg("no reason of %s contains \"%s\"", g->name, fragment);
	}
}

/* What every plan must satisfy, whatever the input. */
static void check_invariants(const Scenario *sc, const VsPlacement *plan)
{
	g_autofree const VsGuestPlacement **owner =
		g_new0(const VsGuestPlacement *, VS_CPU_MAX + 1);
	g_autoptr(VsCpuSet) usable = vs_cpuset_copy(sc->managed);
	g_autoptr(VsCpuSet) dedicated = vs_cpuset_new();
	g_autoptr(VsCpuSet) idle = vs_cpuset_new();
	g_autoptr(VsCpuSet) pool = NULL;
	guint pool_vcpus = 0;

	vs_cpuset_intersect(usable, sc->topo->online);
	if (sc->housekeeping)
		vs_cpuset_subtract(usable, sc->housekeeping);
	assert_int_equal(plan->guests->len, sc->guests->len);

	for (guint i = 0; i < plan->guests->len; i++) {
		const VsGuestPlacement *g = plan->guests->pdata[i];
		const VsPlacementGuest *in = &g_array_index(sc->guests, VsPlacementGuest, i);
		g_autoptr(VsCpuSet) nodes = vs_cpuset_new();
		g_autoptr(VsCpuSet) cpus = vs_cpuset_new();

		assert_string_equal(g->uuid, in->uuid);
		assert_ptr_equal(vs_placement_find(plan, in->uuid), g);
		assert_int_equal(g->n_vcpus, in->n_vcpus);
		assert_int_equal(g->asked, in->mode);
		assert_true(g->reasons->len >= 2);
		assert_false(vs_cpuset_is_empty(g->emulator));
		assert_true(g->got == g->asked || !g->satisfied);

		for (guint v = 0; v < g->n_vcpus; v++) {
			const VsVcpuPlacement *vp = &g->vcpus[v];

			assert_true(vs_cpuset_has(vp->affinity, vp->cpu));
			vs_cpuset_union(cpus, vp->affinity);
			if (g->got == VS_PLACE_SHARED) {
				g_autoptr(VsCpuSet) outside = vs_cpuset_copy(vp->affinity);

				assert_true(vs_cpuset_is_empty(g->idle));
				vs_cpuset_subtract(outside, plan->pool);
				assert_true(vs_cpuset_is_empty(outside));
				continue;
			}
			assert_int_equal(vs_cpuset_count(vp->affinity), 1);
			assert_true(vs_cpuset_has(usable, vp->cpu));
			assert_true(!in->allowed || vs_cpuset_has(in->allowed, vp->cpu));
			assert_null(owner[vp->cpu]);
			owner[vp->cpu] = g;
			/* Each sibling is this vCPU, idle, or (share) the same guest's. */
			for (int s = vs_cpuset_next(siblings_of(sc, vp->cpu), 0); s >= 0;
			     s = vs_cpuset_next(siblings_of(sc, vp->cpu), s + 1)) {
				if ((guint)s == vp->cpu)
					continue;
				if (g->siblings == VS_SIBLINGS_ISOLATE)
					assert_true(vs_cpuset_has(g->idle, s));
				else
					assert_true(vs_cpuset_has(g->idle, s) ||
						    vs_cpuset_has(g->cpus, s));
			}
		}
		assert_true(vs_cpuset_equal(cpus, g->cpus));
		for (int c = vs_cpuset_next(g->cpus, 0); c >= 0; c = vs_cpuset_next(g->cpus, c + 1))
			vs_cpuset_add(nodes, node_of(sc, c));
		assert_true(vs_cpuset_equal(nodes, g->mems));
		if (g->got == VS_PLACE_DEDICATED) {
			vs_cpuset_union(dedicated, g->cpus);
			vs_cpuset_union(idle, g->idle);
		} else {
			pool_vcpus += g->n_vcpus;
		}
	}

	assert_true(vs_cpuset_equal(dedicated, plan->dedicated));
	assert_true(vs_cpuset_equal(idle, plan->idle));
	for (int c = vs_cpuset_next(idle, 0); c >= 0; c = vs_cpuset_next(idle, c + 1))
		assert_null(owner[c]);
	assert_int_equal(plan->pool_vcpus, pool_vcpus);
	if (plan->pool_reason)
		return;
	pool = vs_cpuset_copy(usable);
	vs_cpuset_subtract(pool, dedicated);
	vs_cpuset_subtract(pool, idle);
	assert_true(vs_cpuset_equal(pool, plan->pool));
}

/* Plans @sc (with @prev) and checks the invariants. */
static VsPlacement *plan_of(const Scenario *sc, const VsPlacement *prev)
{
	g_autoptr(GError) error = NULL;
	VsPlacementInput in = scenario_input(sc, prev);
	VsPlacement *plan = NULL;
	int r = vs_placement_plan(&in, &plan, &error);

	if (r < 0)
		fail_msg("planning failed: %s", error->message);
	assert_non_null(plan);
	check_invariants(sc, plan);
	return plan;
}

static const VsGuestPlacement *find(const VsPlacement *plan, const char *name)
{
	g_autofree char *uuid = g_strdup_printf("uuid-%s", name);
	const VsGuestPlacement *g = vs_placement_find(plan, uuid);

	assert_non_null(g);
	return g;
}

/* The CPUs of the vCPUs of @name in vCPU order, "8,24,9". */
static char *vcpu_cpus(const VsPlacement *plan, const char *name)
{
	const VsGuestPlacement *g = find(plan, name);
	GString *s = g_string_new(NULL);

	for (guint v = 0; v < g->n_vcpus; v++)
		g_string_append_printf(s, "%s%u", v ? "," : "", g->vcpus[v].cpu);
	return g_string_free(s, FALSE);
}

static void assert_vcpus(const VsPlacement *plan, const char *name, const char *want)
{
	g_autofree char *got = vcpu_cpus(plan, name);

	assert_string_equal(got, want);
}

static void test_dedicated_isolate_smt(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_2S_SMT2_32, "0-31", "0,16");
	g_autoptr(VsPlacement) plan = NULL;
	const VsGuestPlacement *db;

	add_guest(sc, "db", 4, VS_PLACE_DEDICATED)->provenance = "10-db.policy:4";
	plan = plan_of(sc, NULL);
	db = find(plan, "db");
	/* Node 1 has 8 free cores, node 0 only 7 (core 0 is housekeeping). */
	assert_int_equal(db->got, VS_PLACE_DEDICATED);
	assert_true(db->satisfied);
	assert_vcpus(plan, "db", "8,9,10,11");
	assert_set(db->idle, "24-27");
	assert_set(db->mems, "1");
	assert_set(plan->pool, "1-7,12-15,17-23,28-31");
	assert_set(plan->idle, "24-27");
	assert_string_equal(db->reasons->pdata[0],
			    "dedicated (policy 10-db.policy:4): CPUs 8-11, one per core; their SMT "
			    "siblings 24-27 kept idle (Siblings=isolate); NUMA node 1, the one with "
			    "most free cores");
	assert_set(db->emulator, "0,16");
}

static void test_dedicated_share_smt(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_2S_SMT2_32, "0-31", "0,16");
	g_autoptr(VsPlacement) plan = NULL;
	const VsGuestPlacement *db, *even;

	add_guest(sc, "db", 3, VS_PLACE_DEDICATED)->siblings = VS_SIBLINGS_SHARE;
	add_guest(sc, "even", 4, VS_PLACE_DEDICATED)->siblings = VS_SIBLINGS_SHARE;
	plan = plan_of(sc, NULL);
	db = find(plan, "db");
	even = find(plan, "even");
	/* A core's threads go to the same guest first; the odd one out idles. */
	assert_vcpus(plan, "db", "8,24,9");
	assert_set(db->idle, "25");
	assert_reason(db, "CPU(s) 25 of its cores kept idle");
	/* Node 1 now has 6 free cores, node 0 still 7. */
	assert_vcpus(plan, "even", "1,17,2,18");
	assert_true(vs_cpuset_is_empty(even->idle));
	assert_reason(even, "whole cores shared only among its own vCPUs (Siblings=share)");
	assert_set(plan->dedicated, "1-2,8-9,17-18,24");
}

static void test_dedicated_without_smt(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_1S_FLAT_8, "0-7", "0");
	g_autoptr(VsPlacement) plan = NULL;

	add_guest(sc, "a", 3, VS_PLACE_DEDICATED);
	add_guest(sc, "b", 3, VS_PLACE_DEDICATED)->siblings = VS_SIBLINGS_SHARE;
	plan = plan_of(sc, NULL);
	assert_vcpus(plan, "a", "1,2,3");
	assert_vcpus(plan, "b", "4,5,6");
	assert_true(vs_cpuset_is_empty(plan->idle));
	assert_set(plan->pool, "7");
	assert_reason(find(plan, "a"), "CPUs 1-3; NUMA node 0");
}

/* The first plan after a start: dedicated guests whose vCPUs are pinned to
 * one CPU each keep those CPUs (a restarted vschedd does not shuffle them),
 * unless they are no longer valid. */
static void test_current_pinning_kept(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_1S_FLAT_8, "0-7", "0");
	g_autoptr(VsPlacement) plan = NULL;
	static const guint a_now[] = { 6, 5, 4 };
	static const guint b_now[] = { 1, 2, 0 };  /* CPU 0 is housekeeping now */

	add_guest(sc, "a", 3, VS_PLACE_DEDICATED)->current = a_now;
	add_guest(sc, "b", 3, VS_PLACE_DEDICATED)->current = b_now;
	plan = plan_of(sc, NULL);
	assert_vcpus(plan, "a", "6,5,4");
	assert_reason(find(plan, "a"),
		      "kept CPUs 4-6 where its vCPUs were pinned when vschedd started");
	/* b's CPUs are not all valid: planned afresh, around a. */
	assert_vcpus(plan, "b", "1,2,3");
}

static void test_numa_fit_and_exhaustion(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_2S_SMT2_32, "0-31", "0,16");
	g_autoptr(VsPlacement) plan = NULL;
	const VsGuestPlacement *c;

	add_guest(sc, "a", 6, VS_PLACE_DEDICATED);
	add_guest(sc, "b", 6, VS_PLACE_DEDICATED);
	add_guest(sc, "c", 4, VS_PLACE_DEDICATED);
	plan = plan_of(sc, NULL);
	assert_vcpus(plan, "a", "8,9,10,11,12,13");
	assert_set(find(plan, "a")->mems, "1");
	assert_vcpus(plan, "b", "1,2,3,4,5,6");
	assert_set(find(plan, "b")->mems, "0");
	c = find(plan, "c");
	assert_int_equal(c->got, VS_PLACE_SHARED);
	assert_false(c->satisfied);
	assert_string_equal(c->reasons->pdata[0],
			    "no free core for 4 dedicated vCPUs (3 free, policy " PROVENANCE
			    " asks dedicated): placed in the shared pool");
	assert_set(plan->pool, "7,14-15,23,30-31");
	assert_set(c->mems, "0-1");
}

static void test_numa_spill(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_2S_SMT2_32, "0-31", "0,16");
	g_autoptr(VsPlacement) plan = NULL;
	const VsGuestPlacement *big;

	add_guest(sc, "big", 10, VS_PLACE_DEDICATED);
	plan = plan_of(sc, NULL);
	big = find(plan, "big");
	/* Node 1 (8 free cores) first, then node 0. */
	assert_int_equal(big->got, VS_PLACE_DEDICATED);
	assert_set(big->cpus, "1-2,8-15");
	assert_set(big->mems, "0-1");
	assert_reason(big, "10 vCPUs do not fit in one NUMA node (at most 8 free in one): "
		      "spread over nodes 0-1");
}

static void test_llc_locality(void **state)
{
	/* One node, two LLCs of four cores each: 0-3 and 4-7. */
	g_autoptr(Scenario) sc = scenario_new(&(SchedTopoDesc){ .sockets = 1, .nodes_per_socket = 1,
							      .cores_per_node = 8, .threads = 1,
							      .llcs_per_node = 2 },
					      "0-7", "0");
	g_autoptr(VsPlacement) plan = NULL;

	add_guest(sc, "a", 2, VS_PLACE_DEDICATED);
	add_guest(sc, "b", 3, VS_PLACE_DEDICATED);
	add_guest(sc, "c", 2, VS_PLACE_DEDICATED);
	plan = plan_of(sc, NULL);
	assert_vcpus(plan, "a", "4,5");   /* LLC 1 has 4 free cores, LLC 0 only 3 */
	assert_vcpus(plan, "b", "1,2,3"); /* now LLC 0 has more */
	assert_vcpus(plan, "c", "6,7");
}

/* True when no two homes of @g share a core of @sc. */
static bool homes_on_distinct_cores(const Scenario *sc, const VsGuestPlacement *g)
{
	g_autoptr(VsCpuSet) seen = vs_cpuset_new();

	for (guint v = 0; v < g->n_vcpus; v++) {
		const VsCpuSet *sib = siblings_of(sc, g->vcpus[v].cpu);
		g_autoptr(VsCpuSet) both = vs_cpuset_copy(sib);

		vs_cpuset_intersect(both, seen);
		if (!vs_cpuset_is_empty(both))
			return false;
		vs_cpuset_union(seen, sib);
	}
	return true;
}

static void test_shared_balance(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_2S_SMT2_32, "0-31", "0,16");
	g_autoptr(VsPlacement) plan = NULL;
	guint load[32] = { 0 };
	const char *names[] = { "g1", "g2", "g3", "g4" };

	for (guint i = 0; i < G_N_ELEMENTS(names); i++)
		add_guest(sc, names[i], 4, VS_PLACE_SHARED);
	plan = plan_of(sc, NULL);
	assert_set(plan->pool, "1-15,17-31");
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		const VsGuestPlacement *g = find(plan, names[i]);

		assert_int_equal(g->got, VS_PLACE_SHARED);
		assert_true(vs_cpuset_equal(g->vcpus[0].affinity, plan->pool));
		assert_true(homes_on_distinct_cores(sc, g));
		for (guint v = 0; v < g->n_vcpus; v++)
			load[g->vcpus[v].cpu]++;
	}
	for (guint c = 0; c < 32; c++)
		assert_true(load[c] <= 1);
	assert_vcpus(plan, "g1", "1,2,3,4");
	assert_vcpus(plan, "g4", "13,14,15,17");
	assert_reason(find(plan, "g1"), "with homes on CPU(s) 1-4 (4 CPU(s) on 4 core(s))");
	assert_int_equal(plan->pool_vcpus, 16);
	assert_false(plan->overcommitted);
}

static void test_shared_small_pool(void **state)
{
	/* 2 cores × SMT2: CPUs 0,1 (first threads), 2,3 (their siblings). */
	g_autoptr(Scenario) sc = scenario_new(&(SchedTopoDesc){ .sockets = 1, .nodes_per_socket = 1,
							      .cores_per_node = 2, .threads = 2 },
					      "0-3", NULL);
	g_autoptr(VsPlacement) plan = NULL;

	add_guest(sc, "a", 3, VS_PLACE_SHARED);
	add_guest(sc, "b", 6, VS_PLACE_SHARED);
	plan = plan_of(sc, NULL);
	/* A CPU of its own first, then the least loaded, then another core. */
	assert_vcpus(plan, "a", "0,1,2");
	assert_vcpus(plan, "b", "3,0,1,2,3,0");
	/* No housekeeping CPU: the emulator threads go to the pool. */
	assert_set(find(plan, "a")->emulator, "0-3");
	assert_reason(find(plan, "a"),
		      "EmulatorPlacement=housekeeping but the housekeeping CPUs are empty");
}

static void test_shared_spreads_over_cores(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(&(SchedTopoDesc){ .sockets = 1, .nodes_per_socket = 1,
							      .cores_per_node = 2, .threads = 2 },
					      "0-3", NULL);
	g_autoptr(VsPlacement) plan = NULL;

	/* a loads CPU 1; b's second vCPU takes 3, not 2: same load, but 2 is
	 * the SMT sibling of b's first home 0. */
	set_allowed(sc, add_guest(sc, "a", 1, VS_PLACE_SHARED), "1");
	add_guest(sc, "b", 2, VS_PLACE_SHARED);
	set_allowed(sc, add_guest(sc, "c", 2, VS_PLACE_SHARED), "0-1,3");
	plan = plan_of(sc, NULL);
	assert_vcpus(plan, "a", "1");
	assert_vcpus(plan, "b", "0,3");
	assert_true(homes_on_distinct_cores(sc, find(plan, "b")));
	/* c: CPU 0, 1 and 3 carry one home each: 0, then 1 (another core). */
	assert_vcpus(plan, "c", "0,1");
}

static void test_overcommit_warning(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_1S_FLAT_8, "0-7", "0");
	g_autoptr(VsPlacement) plan = NULL;
	const VsGuestPlacement *a, *b;

	sc->limit = 2.0;
	add_guest(sc, "a", 8, VS_PLACE_SHARED);
	add_guest(sc, "b", 8, VS_PLACE_SHARED);
	plan = plan_of(sc, NULL);
	a = find(plan, "a");
	b = find(plan, "b");
	assert_false(a->overcommitted);
	assert_false(has_reason(a, "overcommitted"));
	assert_true(b->overcommitted);
	assert_reason(b, "warning: placed in an overcommitted shared pool: 16 vCPUs on 7 CPUs "
		      "(2.29 per CPU, limit 2.00)");
	assert_true(plan->overcommitted);
	assert_int_equal(plan->pool_vcpus, 16);
	assert_true(plan->pool_load > 2.28 && plan->pool_load < 2.29);
	/* Still placed: every vCPU has a home in the pool. */
	assert_int_equal(b->got, VS_PLACE_SHARED);
	assert_true(b->satisfied);
}

static void test_exhaustion_order_and_recovery(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_1S_FLAT_8, "0-7", "0");
	g_autoptr(VsPlacement) p1 = NULL, p2 = NULL, p3 = NULL;

	add_guest(sc, "db1", 4, VS_PLACE_DEDICATED)->provenance = "10-db.policy:4";
	add_guest(sc, "db2", 4, VS_PLACE_DEDICATED)->provenance = "10-db.policy:4";
	p1 = plan_of(sc, NULL);
	assert_vcpus(p1, "db1", "1,2,3,4");
	assert_string_equal(find(p1, "db2")->reasons->pdata[0],
			    "no free core for 4 dedicated vCPUs (3 free, policy 10-db.policy:4 asks "
			    "dedicated): placed in the shared pool");

	/* "aaa" sorts first, but db1 was dedicated before and keeps its CPUs. */
	add_guest(sc, "aaa", 2, VS_PLACE_DEDICATED);
	p2 = plan_of(sc, p1);
	assert_vcpus(p2, "db1", "1,2,3,4");
	assert_true(find(p2, "db1")->vcpus[0].kept);
	assert_reason(find(p2, "db1"), "kept CPUs 1-4 from the last plan");
	assert_vcpus(p2, "aaa", "5,6");
	assert_int_equal(find(p2, "db2")->got, VS_PLACE_SHARED);
	assert_reason(find(p2, "db2"), "(1 free, policy");

	/* db1 leaves: db2 gets its cores, aaa stays. */
	remove_guest(sc, "db1");
	p3 = plan_of(sc, p2);
	assert_vcpus(p3, "aaa", "5,6");
	assert_int_equal(find(p3, "db2")->got, VS_PLACE_DEDICATED);
	assert_true(find(p3, "db2")->satisfied);
	assert_vcpus(p3, "db2", "1,2,3,4");
	assert_set(p3->pool, "7");
}

static void test_pool_keeps_a_cpu(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_1S_FLAT_8, "0-7", "0");
	g_autoptr(VsPlacement) plan = NULL;

	add_guest(sc, "db", 7, VS_PLACE_DEDICATED);
	add_guest(sc, "web", 2, VS_PLACE_SHARED);
	plan = plan_of(sc, NULL);
	assert_int_equal(find(plan, "db")->got, VS_PLACE_SHARED);
	assert_reason(find(plan, "db"),
		      "but the shared pool must keep a CPU for the shared guests");
	assert_set(plan->pool, "1-7");
}

static void test_pool_exhausted(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_1S_FLAT_8, "0-7", "0");
	g_autoptr(Scenario) bare = scenario_new(SCHED_TOPO_1S_FLAT_8, "0-7", NULL);
	g_autoptr(VsPlacement) plan = NULL, plan2 = NULL;

	/* Only dedicated guests: they may use every CPU; a latecomer floats
	 * over the housekeeping CPUs, or without them beside the others. */
	add_guest(sc, "d1", 4, VS_PLACE_DEDICATED);
	add_guest(sc, "d2", 3, VS_PLACE_DEDICATED);
	add_guest(sc, "d3", 2, VS_PLACE_DEDICATED);
	plan = plan_of(sc, NULL);
	assert_vcpus(plan, "d2", "5,6,7");
	assert_int_equal(find(plan, "d3")->got, VS_PLACE_SHARED);
	assert_reason(find(plan, "d3"), "(0 free, policy");
	assert_set(plan->pool, "0");
	assert_non_null(plan->pool_reason);
	assert_non_null(strstr(plan->pool_reason, "float over the housekeeping CPUs 0"));
	assert_vcpus(plan, "d3", "0,0");

	add_guest(bare, "d1", 4, VS_PLACE_DEDICATED);
	add_guest(bare, "d2", 4, VS_PLACE_DEDICATED);
	add_guest(bare, "d3", 1, VS_PLACE_DEDICATED);
	plan2 = plan_of(bare, NULL);
	assert_set(plan2->pool, "0-7");
	assert_non_null(strstr(plan2->pool_reason, "beside dedicated ones"));
}

static void test_allowed_cpus(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_1S_FLAT_8, "0-7", "0");
	g_autoptr(VsPlacement) plan = NULL;
	const VsGuestPlacement *x, *w, *v;

	set_allowed(sc, add_guest(sc, "x", 2, VS_PLACE_DEDICATED), "8-9");
	set_allowed(sc, add_guest(sc, "y", 2, VS_PLACE_DEDICATED), "5-7");
	set_allowed(sc, add_guest(sc, "z", 2, VS_PLACE_SHARED), "2-3");
	set_allowed(sc, add_guest(sc, "w", 1, VS_PLACE_SHARED), "5-6");
	set_allowed(sc, add_guest(sc, "v", 1, VS_PLACE_SHARED), "0");
	plan = plan_of(sc, NULL);

	x = find(plan, "x");
	assert_int_equal(x->got, VS_PLACE_SHARED);
	assert_false(x->satisfied);
	assert_string_equal(x->reasons->pdata[0],
			    "AllowedCPUs=8-9 has no managed CPU: placed on the shared pool");
	assert_int_equal(x->reasons->len, 3); /* the sentence is not repeated */
	assert_set(x->cpus, "1-4,7");

	assert_vcpus(plan, "y", "5,6");
	assert_set(find(plan, "z")->cpus, "2-3");
	assert_vcpus(plan, "z", "2,3");
	assert_true(find(plan, "z")->satisfied);

	w = find(plan, "w");
	assert_false(w->satisfied);
	assert_reason(w, "AllowedCPUs=5-6 has no CPU in the shared pool");
	assert_set(w->cpus, "1-4,7");

	v = find(plan, "v");
	assert_reason(v, "AllowedCPUs=0 has no managed CPU: placed on the shared pool");
	assert_false(v->satisfied);
}

static void test_emulator_modes(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_2S_SMT2_32, "0-31", "0,16");
	g_autoptr(VsPlacement) plan = NULL;

	add_guest(sc, "hk", 2, VS_PLACE_SHARED);
	add_guest(sc, "pool", 2, VS_PLACE_SHARED)->emulator = VS_EMU_SHARED;
	add_guest(sc, "own", 2, VS_PLACE_DEDICATED)->emulator = VS_EMU_VCPUS;
	set_allowed(sc, add_guest(sc, "ownshared", 2, VS_PLACE_SHARED), "4-5");
	g_array_index(sc->guests, VsPlacementGuest, 3).emulator = VS_EMU_VCPUS;
	plan = plan_of(sc, NULL);
	assert_set(find(plan, "hk")->emulator, "0,16");
	assert_reason(find(plan, "hk"), "emulator threads on the housekeeping CPUs 0,16 "
		      "(EmulatorPlacement=housekeeping)");
	assert_true(vs_cpuset_equal(find(plan, "pool")->emulator, plan->pool));
	assert_set(find(plan, "own")->emulator, "8-9");
	assert_set(find(plan, "ownshared")->emulator, "4-5");
}

static void test_emulator_fallbacks(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_1S_FLAT_8, "0-7", "0");
	g_autoptr(VsPlacement) plan = NULL;

	/* All CPUs dedicated: no pool for EmulatorPlacement=shared. */
	add_guest(sc, "a", 7, VS_PLACE_DEDICATED)->emulator = VS_EMU_SHARED;
	plan = plan_of(sc, NULL);
	assert_true(vs_cpuset_is_empty(plan->pool));
	assert_null(plan->pool_reason);
	assert_set(find(plan, "a")->emulator, "0");
	assert_reason(find(plan, "a"), "emulator threads on the housekeeping CPUs 0: "
		      "EmulatorPlacement=shared but the shared pool is empty");
}

static void test_vcpu_reason(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_1S_FLAT_8, "0-7", "0");
	g_autoptr(VsPlacement) p1 = NULL, p2 = NULL;
	g_autofree char *r1 = NULL, *r2 = NULL, *r3 = NULL;

	add_guest(sc, "db1", 2, VS_PLACE_DEDICATED)->provenance = "10-db.policy:4";
	add_guest(sc, "web", 2, VS_PLACE_SHARED)->provenance = NULL;
	p1 = plan_of(sc, NULL);
	p2 = plan_of(sc, p1);
	r1 = vs_placement_vcpu_reason(find(p1, "db1"), 1);
	assert_string_equal(r1, "vcpu1 of db1 → CPU 2: dedicated (policy 10-db.policy:4)");
	r2 = vs_placement_vcpu_reason(find(p1, "web"), 0);
	assert_string_equal(r2, "vcpu0 of web → shared pool 3-7, home CPU 3: shared (the built-in "
			    "default)");
	r3 = vs_placement_vcpu_reason(find(p2, "web"), 1);
	assert_string_equal(r3, "vcpu1 of web → shared pool 3-7, home CPU 4: shared (the built-in "
			    "default), kept from the last plan");
}

static void test_previous_validity(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_1S_FLAT_8, "0-7", "0");
	g_autoptr(VsPlacement) p1 = NULL, p2 = NULL, p3 = NULL, p4 = NULL, p5 = NULL;

	add_guest(sc, "db", 2, VS_PLACE_DEDICATED);
	add_guest(sc, "web", 2, VS_PLACE_SHARED);
	p1 = plan_of(sc, NULL);
	assert_vcpus(p1, "db", "1,2");
	assert_vcpus(p1, "web", "3,4");

	/* CPU 2 is no longer managed: db is placed anew, web keeps its homes. */
	vs_cpuset_remove(sc->managed, 2);
	p2 = plan_of(sc, p1);
	assert_vcpus(p2, "db", "1,3");
	assert_false(find(p2, "db")->vcpus[0].kept);
	assert_vcpus(p2, "web", "5,4");
	assert_false(find(p2, "web")->vcpus[0].kept);  /* 3 went to db */
	assert_true(find(p2, "web")->vcpus[1].kept);

	/* Hotplug: db re-placed with 3 vCPUs; web's first homes stay. */
	g_array_index(sc->guests, VsPlacementGuest, 0).n_vcpus = 3;
	g_array_index(sc->guests, VsPlacementGuest, 1).n_vcpus = 3;
	p3 = plan_of(sc, p2);
	assert_vcpus(p3, "db", "1,3,4");
	assert_vcpus(p3, "web", "5,6,7");

	/* Siblings or mode changed: not the same request, placed anew. */
	g_array_index(sc->guests, VsPlacementGuest, 0).siblings = VS_SIBLINGS_SHARE;
	p4 = plan_of(sc, p3);
	assert_false(find(p4, "db")->vcpus[0].kept);
	assert_reason(find(p4, "db"), "NUMA node 0, the one with most free cores");
	g_array_index(sc->guests, VsPlacementGuest, 1).mode = VS_PLACE_DEDICATED;
	p5 = plan_of(sc, p4);
	assert_int_equal(find(p5, "db")->got, VS_PLACE_DEDICATED);
	assert_true(find(p5, "db")->vcpus[0].kept);
	assert_int_equal(find(p5, "web")->got, VS_PLACE_DEDICATED);
	assert_false(find(p5, "web")->vcpus[0].kept);
}

/* A small deterministic generator (no rand(): same numbers everywhere). */
static guint32 lcg(guint32 *x)
{
	*x = *x * 1664525u + 1013904223u;
	return *x >> 8;
}

/* Adds guest @name to the churn scenario: dedicated 4 vCPUs or shared 8. */
static void add_churn_guest(Scenario *sc, const char *name, guint kind)
{
	VsPlacementGuest *g;

	switch (kind % 6) {
	case 0:
		add_guest(sc, name, 4, VS_PLACE_DEDICATED);
		break;
	case 1:
		add_guest(sc, name, 4, VS_PLACE_DEDICATED)->siblings = VS_SIBLINGS_SHARE;
		break;
	case 2:
		g = add_guest(sc, name, 8, VS_PLACE_SHARED);
		set_allowed(sc, g, "32-63,160-191");
		break;
	default:
		add_guest(sc, name, 8, VS_PLACE_SHARED);
		break;
	}
}

static void test_churn_stability(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_2S_4N_SMT2_256, "0-255", "0,128");
	g_autoptr(VsPlacement) prev = NULL;
	guint32 seed = 42;
	guint displaced = 0, arrivals = 0;

	for (guint i = 0; i < 60; i++) {
		g_autofree char *name = g_strdup_printf("g%03u", i);

		add_churn_guest(sc, name, i);
	}
	prev = plan_of(sc, NULL);

	for (guint step = 1; step <= 20; step++) {
		g_autoptr(VsPlacement) next = NULL;
		guint moved = 0;

		for (guint k = 0; k < 2; k++) {
			guint victim = lcg(&seed) % sc->guests->len;
			g_autofree char *name = g_strdup(
				g_array_index(sc->guests, VsPlacementGuest, victim).name);
			g_autofree char *fresh = g_strdup_printf("n%02u%c", step, 'a' + k);

			remove_guest(sc, name);
			add_churn_guest(sc, fresh, lcg(&seed));
			arrivals++;
		}
		next = plan_of(sc, prev);
		for (guint i = 0; i < next->guests->len; i++) {
			const VsGuestPlacement *g = next->guests->pdata[i];
			const VsGuestPlacement *old = vs_placement_find(prev, g->uuid);

			if (!old)
				continue;
			assert_int_equal(g->got, old->got);
			for (guint v = 0; v < g->n_vcpus; v++) {
				const VsVcpuPlacement *now = &g->vcpus[v], *was = &old->vcpus[v];

				assert_true(now->kept == (now->cpu == was->cpu));
				if (now->cpu == was->cpu)
					continue;
				/* A shared home may only move when a new dedicated
				 * guest took its CPU out of the pool. */
				if (g->got == VS_PLACE_SHARED &&
				    !vs_cpuset_has(now->affinity, was->cpu))
					displaced++;
				else
					moved++;
			}
		}
		assert_int_equal(moved, 0);
		g_clear_pointer(&prev, vs_placement_free);
		prev = g_steal_pointer(&next);
	}
	assert_int_equal(arrivals, 40);
	print_message("churn: 40 arrivals and 40 departures over 20 steps, 0 moved, %u shared "
		      "homes displaced by new dedicated guests\n", displaced);
}

static gint by_uuid(gconstpointer a, gconstpointer b)
{
	const VsGuestPlacement *x = *(VsGuestPlacement *const *)a;
	const VsGuestPlacement *y = *(VsGuestPlacement *const *)b;

	return strcmp(x->uuid, y->uuid);
}

/* The plan as text, guest by guest in UUID order, for comparisons. */
static char *dump(const VsPlacement *plan)
{
	GString *s = g_string_new(NULL);
	g_autoptr(GPtrArray) sorted = g_ptr_array_new();

	g_string_append_printf(s, "pool %u %.6f %d\n", plan->pool_vcpus, plan->pool_load,
			       plan->overcommitted);
	for (guint i = 0; i < plan->guests->len; i++)
		g_ptr_array_add(sorted, plan->guests->pdata[i]);
	g_ptr_array_sort(sorted, by_uuid);
	for (guint i = 0; i < sorted->len; i++) {
		const VsGuestPlacement *g = sorted->pdata[i];
		g_autofree char *cpus = vs_cpuset_format(g->cpus);
		g_autofree char *idle = vs_cpuset_format(g->idle);
		g_autofree char *emu = vs_cpuset_format(g->emulator);
		g_autofree char *mems = vs_cpuset_format(g->mems);

		g_string_append_printf(s, "%s %d %d %d [%s] [%s] [%s] [%s]", g->uuid, g->got,
				       g->satisfied, g->overcommitted, cpus, idle, emu, mems);
		for (guint v = 0; v < g->n_vcpus; v++)
			g_string_append_printf(s, " %u%s", g->vcpus[v].cpu,
					       g->vcpus[v].kept ? "k" : "");
		for (guint r = 0; r < g->reasons->len; r++)
			g_string_append_printf(s, "\n  %s", (const char *)g->reasons->pdata[r]);
		g_string_append_c(s, '\n');
	}
	return g_string_free(s, FALSE);
}

static void test_determinism(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_2S_4N_SMT2_256, "0-255", "0,128");
	g_autoptr(Scenario) rev = scenario_new(SCHED_TOPO_2S_4N_SMT2_256, "0-255", "0,128");
	g_autoptr(VsPlacement) a = NULL, b = NULL, c = NULL, a2 = NULL, c2 = NULL;
	g_autofree char *da = NULL, *db = NULL, *dc = NULL, *da2 = NULL, *dc2 = NULL;

	/* More dedicated guests than cores, so the order of fallback shows. */
	for (guint i = 0; i < 200; i++) {
		guint j = (i * 37) % 200, k = ((199 - i) * 37) % 200;
		g_autofree char *name = g_strdup_printf("vm%03u", j);
		g_autofree char *rname = g_strdup_printf("vm%03u", k);

		add_churn_guest(sc, name, j % 2 ? 3 : j);
		add_churn_guest(rev, rname, k % 2 ? 3 : k);
	}
	a = plan_of(sc, NULL);
	b = plan_of(sc, NULL);
	c = plan_of(rev, NULL);
	da = dump(a);
	db = dump(b);
	dc = dump(c);
	assert_string_equal(da, db);
	assert_string_equal(da, dc);
	assert_non_null(strstr(da, "no free core"));
	a2 = plan_of(sc, a);
	c2 = plan_of(rev, c);
	da2 = dump(a2);
	dc2 = dump(c2);
	assert_string_equal(da2, dc2);
}

static void assert_plan_fails(const Scenario *sc, const char *fragment)
{
	g_autoptr(GError) error = NULL;
	VsPlacementInput in = scenario_input(sc, NULL);
	VsPlacement *sentinel = (VsPlacement *)&in;
	VsPlacement *plan = sentinel;

	assert_int_equal(vs_placement_plan(&in, &plan, &error), -EINVAL);
	assert_ptr_equal(plan, sentinel);
	assert_true(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
	if (!strstr(error->message, fragment))
		fail_msg("\"%s\" does not contain \"%s\"", error->message, fragment);
}

static void test_invalid_input(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_1S_FLAT_8, "0-7", "0");
	g_autoptr(Scenario) none = scenario_new(SCHED_TOPO_1S_FLAT_8, "", "0");
	g_autoptr(Scenario) all_hk = scenario_new(SCHED_TOPO_1S_FLAT_8, "0-1,9", "0-1");

	add_guest(sc, "web", 0, VS_PLACE_SHARED);
	assert_plan_fails(sc, "guest web (uuid-web) has no vCPU to place");
	g_array_index(sc->guests, VsPlacementGuest, 0).n_vcpus = VS_PLACEMENT_MAX_VCPUS + 1;
	assert_plan_fails(sc, "guest web has 4097 vCPUs, more than 4096");
	g_array_index(sc->guests, VsPlacementGuest, 0).n_vcpus = 2;
	add_guest(sc, "web2", 2, VS_PLACE_SHARED)->uuid = "uuid-web";
	assert_plan_fails(sc, "guests web and web2 have the same UUID uuid-web");
	remove_guest(sc, "web2");
	sc->limit = 0;
	assert_plan_fails(sc, "overcommit limit 0 is not a positive number");
	sc->limit = 4;
	g_array_index(sc->guests, VsPlacementGuest, 0).name = NULL;
	assert_plan_fails(sc, "guest 0 of the input has no UUID or no name");

	g_array_index(sc->topo->cpus, VsCpu, 3).node = -1;
	assert_plan_fails(sc, "CPU 3 of the topology is on NUMA node -1");

	add_guest(none, "web", 1, VS_PLACE_SHARED);
	assert_plan_fails(none, "the managed CPUs \"\" leave no online CPU for vCPUs");
	assert_plan_fails(all_hk, "the managed CPUs \"0-1,9\" leave no online CPU for vCPUs "
			  "outside the housekeeping CPUs \"0-1\"");
}

static void test_no_guests(void **state)
{
	g_autoptr(Scenario) sc = scenario_new(SCHED_TOPO_1S_FLAT_8, "0-7", "0");
	g_autoptr(VsPlacement) plan = plan_of(sc, NULL);

	assert_int_equal(plan->guests->len, 0);
	assert_set(plan->pool, "1-7");
	assert_int_equal(plan->pool_vcpus, 0);
	assert_false(plan->overcommitted);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dedicated_isolate_smt),
		cmocka_unit_test(test_dedicated_share_smt),
		cmocka_unit_test(test_dedicated_without_smt),
		cmocka_unit_test(test_current_pinning_kept),
		cmocka_unit_test(test_numa_fit_and_exhaustion),
		cmocka_unit_test(test_numa_spill),
		cmocka_unit_test(test_llc_locality),
		cmocka_unit_test(test_shared_balance),
		cmocka_unit_test(test_shared_small_pool),
		cmocka_unit_test(test_shared_spreads_over_cores),
		cmocka_unit_test(test_overcommit_warning),
		cmocka_unit_test(test_exhaustion_order_and_recovery),
		cmocka_unit_test(test_pool_keeps_a_cpu),
		cmocka_unit_test(test_pool_exhausted),
		cmocka_unit_test(test_allowed_cpus),
		cmocka_unit_test(test_emulator_modes),
		cmocka_unit_test(test_emulator_fallbacks),
		cmocka_unit_test(test_vcpu_reason),
		cmocka_unit_test(test_previous_validity),
		cmocka_unit_test(test_churn_stability),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_invalid_input),
		cmocka_unit_test(test_no_guests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
