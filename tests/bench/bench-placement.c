/* Benchmark of the vCPU placement planner (src/sched/placement.c), run by
 * `make bench`: 1000 guests with 8000 vCPUs on the 256-CPU topology of the
 * unit tests (2 sockets, 4 NUMA nodes, SMT2), housekeeping CPUs 0 and 128.
 * Every tenth guest asks for 4 dedicated vCPUs (Siblings=share, so 2 cores
 * each) as long as the cores last, which here means while they stay within
 * half of the host's cores; every other guest is shared with 8 vCPUs, and
 * enough of them have 9 to make 8000 vCPUs in all.
 *
 * Three cases, each planned 50 times after one warm-up: from scratch (no
 * previous plan), steady state (the same input with the previous plan) and
 * 1% churn (10 guests gone, 10 new ones, with the previous plan). Prints
 * the median and p99 of each in ms beside the 10 ms floor of issue 4, and
 * the peak RSS. The figures mean something only in an optimised build
 * without sanitizers; doc/benchmarks.md says how the recorded ones were
 * made. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "sched/placement.h"
#include "unit/test-sched-topo.h"

#define N_GUESTS 1000
#define N_VCPUS 8000
#define RUNS 50
#define FLOOR_MS 10.0

/* The guests of one case; owns their strings. */
typedef struct Guests {
	GArray *guests;       /* VsPlacementGuest */
	GPtrArray *strings;
} Guests;

static const char *keep(Guests *gs, char *s)
{
	g_ptr_array_add(gs->strings, s);
	return s;
}

static void add(Guests *gs, const char *prefix, guint i, guint n_vcpus, VsPlacementMode mode)
{
	VsPlacementGuest g = {
		.uuid = keep(gs, g_strdup_printf("00000000-0000-4000-8000-%s%07u", prefix, i)),
		.name = keep(gs, g_strdup_printf("%s%04u", prefix, i)),
		.n_vcpus = n_vcpus,
		.mode = mode,
		.siblings = VS_SIBLINGS_SHARE,
		.emulator = VS_EMU_HOUSEKEEPING,
		.provenance = mode == VS_PLACE_DEDICATED ? "10-db.policy:4" : "90-default.policy:2",
	};

	g_array_append_val(gs->guests, g);
}

/* The 1000 guests of the base case: @n_dedicated of them dedicated. */
static void build_base(Guests *gs, guint n_dedicated)
{
	guint shared_vcpus = N_VCPUS - 4 * n_dedicated;
	guint n_shared = N_GUESTS - n_dedicated;
	guint nines = shared_vcpus - 8 * n_shared;   /* shared guests with 9 vCPUs */
	guint d = 0, s = 0;

	for (guint i = 0; i < N_GUESTS; i++) {
		if (i % 10 == 0 && d < n_dedicated) {
			add(gs, "vm", i, 4, VS_PLACE_DEDICATED);
			d++;
		} else {
			add(gs, "vm", i, s < nines ? 9 : 8, VS_PLACE_SHARED);
			s++;
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Plans @in RUNS times; prints median and p99; returns the last plan. */
static VsPlacement *run_case(const char *label, const VsPlacementInput *in)
{
	double ms[RUNS];
	VsPlacement *plan = NULL;

	for (int i = -1; i < RUNS; i++) {
		g_autoptr(GError) error = NULL;
		double t0;

		vs_placement_free(plan);
		plan = NULL;
		t0 = now_ms();
		if (vs_placement_plan(in, &plan, &error) < 0) {
			fprintf(stderr, "bench-placement: %s: %s\n", label, error->message);
			exit(1);
		}
		if (i >= 0)
			ms[i] = now_ms() - t0;
	}
	qsort(ms, RUNS, sizeof(double), cmp_double);
	printf("%-14s %10.2f %10.2f %10.2f\n", label, ms[RUNS / 2],
	       ms[(RUNS * 99 + 99) / 100 - 1], FLOOR_MS);
	return plan;
}

static guint count_kept(const VsPlacement *plan)
{
	guint n = 0;

	for (guint i = 0; i < plan->guests->len; i++) {
		const VsGuestPlacement *g = plan->guests->pdata[i];

		for (guint v = 0; v < g->n_vcpus; v++)
			n += g->vcpus[v].kept;
	}
	return n;
}

int main(void)
{
	g_autoptr(VsTopology) topo = sched_topo_new(SCHED_TOPO_2S_4N_SMT2_256);
	g_autoptr(VsCpuSet) managed = vs_cpuset_parse("0-255", NULL);
	g_autoptr(VsCpuSet) hk = vs_cpuset_parse("0,128", NULL);
	Guests base = { g_array_new(FALSE, TRUE, sizeof(VsPlacementGuest)),
			g_ptr_array_new_with_free_func(g_free) };
	Guests churn = { g_array_new(FALSE, TRUE, sizeof(VsPlacementGuest)),
			 g_ptr_array_new_with_free_func(g_free) };
	guint n_cores = topo->cpus->len / 2;
	guint n_dedicated = MIN(N_GUESTS / 10, n_cores / 2 / 2);  /* 2 cores each, half the host */
	g_autoptr(VsPlacement) scratch = NULL, steady = NULL, churned = NULL;
	VsPlacementInput in = {
		.topology = topo,
		.managed = managed,
		.housekeeping = hk,
		.overcommit_limit = 4.0,
	};
	struct rusage ru;
	guint n_vcpus = 0;

	build_base(&base, n_dedicated);
	for (guint i = 0; i < base.guests->len; i++)
		n_vcpus += g_array_index(base.guests, VsPlacementGuest, i).n_vcpus;
	/* 1% churn: every 100th guest leaves, as many new ones arrive. */
	for (guint i = 0; i < base.guests->len; i++) {
		const VsPlacementGuest *g = &g_array_index(base.guests, VsPlacementGuest, i);

		if (i % 100 != 50)
			g_array_append_val(churn.guests, *g);
	}
	for (guint i = 0; i < N_GUESTS / 100; i++)
		add(&churn, "new", i, 8, i == 0 ? VS_PLACE_DEDICATED : VS_PLACE_SHARED);

	printf("placement planner: %u guests, %u vCPUs (%u guests asking dedicated), %u CPUs, "
	       "%d runs per case\n", base.guests->len, n_vcpus, n_dedicated, topo->cpus->len, RUNS);
	printf("%-14s %10s %10s %10s\n", "case", "median ms", "p99 ms", "floor ms");

	in.guests = (const VsPlacementGuest *)base.guests->data;
	in.n_guests = base.guests->len;
	scratch = run_case("from scratch", &in);
	in.previous = scratch;
	steady = run_case("steady state", &in);
	in.guests = (const VsPlacementGuest *)churn.guests->data;
	in.n_guests = churn.guests->len;
	churned = run_case("1% churn", &in);

	getrusage(RUSAGE_SELF, &ru);
	printf("shared pool: %u vCPUs on %u CPUs (%.1f per CPU); steady state kept %u of %u vCPUs; "
	       "churn kept %u\n", scratch->pool_vcpus, vs_cpuset_count(scratch->pool),
	       scratch->pool_load, count_kept(steady), n_vcpus, count_kept(churned));
	printf("peak RSS: %.1f MiB\n", ru.ru_maxrss / 1024.0);

	g_array_unref(base.guests);
	g_ptr_array_unref(base.strings);
	g_array_unref(churn.guests);
	g_ptr_array_unref(churn.strings);
	return 0;
}
