/* Benchmark of the memory room's per-tick work, run by `make bench`: 1000
 * guests of 1 to 16 GiB with varied use, shares and idle tax, their balloon
 * statistics sanitized (src/mem/stats-sanitize.c) and the targets planned
 * (src/mem/plan.c) with every reason sentence. Three cases, each 50 runs
 * after one warm-up: hard pressure (continuous reclaim at the host rate),
 * a budget below the guests' sum (reclaim in the soft state) and normal
 * (give-back, short guests first). Prints the median and p99 wall time
 * and the median CPU time of the thread (which a busy machine disturbs
 * less) in ms, beside a 10 ms floor (the planner's share of a reaction
 * under one second), and
 * the peak RSS. The figures mean something only in an optimised build
 * without sanitizers; doc/benchmarks.md says how the recorded ones were
 * made. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "daemon/conf.h"
#include "mem/plan.h"
#include "mem/stats-sanitize.h"

#define N_GUESTS 1000
#define RUNS 50
#define FLOOR_MS 10.0
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define SEC INT64_C(1000000)
#define WALL INT64_C(1800000000)

typedef struct Fleet {
	VsMemGuest guests[N_GUESTS];
	VsBalloonStats raw[N_GUESTS];
	VsMemStats prev[N_GUESTS];
	char names[N_GUESTS][16];
} Fleet;

static void build(Fleet *f)
{
	for (guint i = 0; i < N_GUESTS; i++) {
		VsMemGuest *g = &f->guests[i];
		uint64_t size = (1 + i % 16) * GiB;
		uint64_t used = size / 100 * (10 + (i * 37) % 80);
		VsBalloonStats *raw = &f->raw[i];

		g_snprintf(f->names[i], sizeof(f->names[i]), "vm%04u", i);
		g_snprintf(g->uuid, sizeof(g->uuid), "00000000-0000-4000-8000-%012u", i);
		g->name = f->names[i];
		g->current = size;
		g->maximum = size;
		g->balloon = i % 50 != 0;
		g->floor = i % 7 == 0 ? size / 2 : 0;
		g->shares = 500 + (i * 13) % 2000;
		g->margin = 128 * MiB;
		g->idle_tax = (i % 4) * 0.25;
		g->max_step_per_s = 256 * MiB;
		g->not_following = i % 97 == 0;
		g->has_override = i % 101 == 0;
		g->override_target = size / 2;
		*raw = (VsBalloonStats){
			.have = VS_BALLOON_AVAILABLE | VS_BALLOON_USABLE | VS_BALLOON_UNUSED |
				VS_BALLOON_LAST_UPDATE | VS_BALLOON_MAJOR_FAULT | VS_BALLOON_SWAP_IN |
				VS_BALLOON_DISK_CACHES,
			.available = size - 20 * MiB, .usable = size - used, .unused = (size - used) / 2,
			.disk_caches = (size - used) / 4, .major_fault = i, .swap_in = 0,
			.last_update = WALL,
		};
		vs_mem_stats_sanitize(raw, size, size, NULL, 10 * SEC, WALL, SEC, &f->prev[i]);
		raw->last_update = WALL + 1;
		raw->major_fault += i % 3 == 0 ? 100 : 0;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double clock_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Sanitizes every guest's statistics and plans once; returns the plan. */
static VsMemPlan *tick(Fleet *f, const VsConf *conf, VsMemState state, uint64_t avail)
{
	VsMemPlanInput in = { .now_us = 11 * SEC, .last_plan_us = 10 * SEC, .state = state,
			      .mem_total = 4096 * GiB, .mem_available = avail, .conf = &conf->mem,
			      .guests = f->guests, .n_guests = N_GUESTS };
	VsMemPlan *plan = NULL;

	for (guint i = 0; i < N_GUESTS; i++)
		vs_mem_stats_sanitize(&f->raw[i], f->guests[i].current, f->guests[i].maximum,
				      &f->prev[i], 11 * SEC, WALL + 1, SEC, &f->guests[i].stats);
	if (vs_mem_plan(&in, &plan) < 0)
		abort();
	return plan;
}

static void run_case(const char *label, Fleet *f, VsConf *conf, VsMemState state, uint64_t avail)
{
	double ms[RUNS], cpu[RUNS];
	VsMemPlan *plan = tick(f, conf, state, avail);
	guint shrink = 0, grow = 0;

	for (guint i = 0; i < plan->decisions->len; i++) {
		VsMemAction a = g_array_index(plan->decisions, VsMemDecision, i).action;
		shrink += a == VS_MEM_SHRINK;
		grow += a == VS_MEM_GROW;
	}
	vs_mem_plan_free(plan);
	for (int r = 0; r < RUNS; r++) {
		double t0 = clock_ms(CLOCK_MONOTONIC), c0 = clock_ms(CLOCK_THREAD_CPUTIME_ID);

		plan = tick(f, conf, state, avail);
		ms[r] = clock_ms(CLOCK_MONOTONIC) - t0;
		cpu[r] = clock_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
		vs_mem_plan_free(plan);
	}
	qsort(ms, RUNS, sizeof(ms[0]), cmp_double);
	qsort(cpu, RUNS, sizeof(cpu[0]), cmp_double);
	printf("%-16s %9.2f %10.2f %10.2f %10.2f   %u shrink, %u grow\n", label, ms[RUNS / 2],
	       ms[RUNS * 99 / 100], cpu[RUNS / 2], FLOOR_MS, shrink, grow);
}

int main(void)
{
	g_autoptr(VsConf) conf = vs_conf_new_default();
	g_autofree Fleet *f = g_new0(Fleet, 1);
	struct rusage ru;

	build(f);
	printf("memory planner: %u guests (1-16 GiB), statistics sanitized and targets planned, "
	       "%d runs per case\n", N_GUESTS, RUNS);
	printf("case             median ms     p99 ms cpu median   floor ms\n");
	run_case("hard pressure", f, conf, VS_MEM_HARD, 300 * GiB);
	conf->mem.budget = 6000 * GiB;
	run_case("over budget", f, conf, VS_MEM_SOFT, 3000 * GiB);
	conf->mem.budget = 0;
	for (guint i = 0; i < N_GUESTS; i++)
		f->guests[i].current = f->guests[i].maximum / 2 + 256 * MiB;
	run_case("give-back", f, conf, VS_MEM_NORMAL, 3000 * GiB);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS: %.1f MiB\n", ru.ru_maxrss / 1024.0);
	return 0;
}
