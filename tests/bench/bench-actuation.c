/* Benchmark: the cost of acting on one vCPU thread, as vschedd does it, on
 * this real kernel. For N sleeping threads of this process (standing in for
 * vCPU threads), in each round:
 *   affinity   vs_act_run() on a plan that moves every thread to the other
 *              CPU set: identity check, read, set, read back, bookkeeping
 *              (the Applied file is written once before and once after);
 *   setattr    vs_act_run() on a plan reserving every thread, then on one
 *              ending the reservations (identity check, sched_getattr for
 *              the original, sched_setattr, sched_getattr to read back;
 *              the end shrinks the reservation first), per call;
 *   cgroup     vs_act_run() on a plan that sets a weight-like value in
 *              one cgroup per thread (as libvirt's vcpuN cgroups): the
 *              write-ahead read, identity check, write and read back,
 *              through the descriptors the actuator holds across runs;
 *              cpu.shares of v1 cgroups on a hybrid host, else cpu.weight
 *              of v2 ones, created for the run and removed. The same
 *              write through vs_cgroup_set() (open, read, write, read
 *              back, close) is printed beside it, not counted.
 * Prints the median and p99 per thread over the rounds, and their sum next
 * to the floor of issue 4 (20 us per vCPU, median). In the same run, the
 * bare syscalls the steps cannot do without (sched_setaffinity +
 * sched_getaffinity; sched_setattr three times (set, shrink, clear) +
 * sched_getattr twice; one
 * write and one read of the cgroup file on a held fd) are timed the same
 * way and printed beside them: on a loaded or slow machine the syscalls
 * alone can cost more than the floor. The identity check's one syscall (a
 * read of the thread's held /proc stat file) is timed too and printed
 * last, with the cgroup write by vs_cgroup_set() alone; neither is counted
 * in the total; nor is a bare write and read of 256 different cgroups,
 * which costs the kernel more than one cgroup written 256 times.
 *
 * Then issue 4's figure: one vs_act_run() per round doing all three to
 * every thread (cgroup value, affinity, reservation, as for a guest given
 * a reservation; and the reverse), timed on a fresh record (first touch:
 * originals read and recorded, files opened) and again on the same record
 * (re-touch: vsched changing its own settings), beside the sum of the bare
 * syscalls one vCPU needs. The Applied file lives where
 * vschedd keeps it (/run/vsched), not in /tmp. Needs root; prints
 * "skipped" and exits 0 otherwise. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "host/cgroup-write.h"
#include "sched/act.h"
#include "sched/applied.h"
#include "sched/cpuplan.h"
#include "sched/deadline.h"
#include "unit/test-sched-thread.h"

#define N_THREADS 256
#define ROUNDS 21
#define FLOOR_US 20.0

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static bool done;
static pid_t tids[N_THREADS];
static int n_started;

static void *sleeper(void *arg)
{
	pthread_mutex_lock(&lock);
	tids[GPOINTER_TO_INT(arg)] = (pid_t)syscall(SYS_gettid);
	n_started++;
	pthread_cond_broadcast(&done_cond);
	while (!done)
		pthread_cond_wait(&done_cond, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* A start time: wall clock and this thread's CPU time. */
typedef struct Clock {
	double wall_us, cpu_us;
} Clock;

static Clock clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (Clock){ .wall_us = (double)g_get_monotonic_time(),
			.cpu_us = (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3 };
}

/* The wall and CPU time since @t0, per each of @n operations. */
static void clock_since(const Clock *t0, double *ret_wall, double *ret_cpu, int n)
{
	Clock t1 = clock_now();

	*ret_wall = (t1.wall_us - t0->wall_us) / n;
	*ret_cpu = (t1.cpu_us - t0->cpu_us) / n;
}

/* The sums of the medians printed. */
typedef struct Total {
	double wall, cpu, bare_wall, bare_cpu;
} Total;

static double pct(double *v, int n, double p);

/* Prints one step's medians (and the wall p99), or why it was not
 * measured, and adds them to @total. */
static void row(const char *label, double *wall, double *cpu, double *bare_wall,
		double *bare_cpu, const char *not_measured, Total *total)
{
	double w, c, bw, bc;

	if (not_measured) {
		printf("  %-46s not measured: %s\n", label, not_measured);
		return;
	}
	w = pct(wall, ROUNDS, 0.5);
	c = pct(cpu, ROUNDS, 0.5);
	bw = pct(bare_wall, ROUNDS, 0.5);
	bc = pct(bare_cpu, ROUNDS, 0.5);
	printf("  %-46s %8.2f %8.2f %8.2f %10.2f %9.2f\n", label, w, pct(wall, ROUNDS, 0.99), c,
	       bw, bc);
	total->wall += w;
	total->cpu += c;
	total->bare_wall += bw;
	total->bare_cpu += bc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return v[(int)((n - 1) * p + 0.5)];
}

/* A new plan without actions. */
static VsCpuPlan *plan_new(void)
{
	VsCpuPlan *plan = g_new0(VsCpuPlan, 1);

	plan->actions = g_ptr_array_new_with_free_func((GDestroyNotify)vs_cpu_action_free);
	plan->reasons = g_hash_table_new(g_str_hash, g_str_equal);
	plan->vcpus = g_hash_table_new(g_str_hash, g_str_equal);
	return plan;
}

/* Adds an action of @kind on thread @i to @plan: @cpus for an affinity,
 * @dir/vcpuN/@file = @value for a cgroup value, 100 µs every 100 ms for a
 * reservation. */
static void plan_add(VsCpuPlan *plan, VsCpuActionKind kind, const VsThread *threads, int i,
		     const VsCpuSet *cpus, const char *dir, const char *file, const char *value)
{
	VsCpuAction *a = g_new0(VsCpuAction, 1);

	a->kind = kind;
	g_strlcpy(a->uuid, "00000000-0000-0000-0000-0000000bench", sizeof(a->uuid));
	a->domain = g_strdup("bench");
	a->what = g_strdup_printf("vcpu%d", i);
	a->thread = threads[i];
	a->thread.comm = g_strdup(threads[i].comm);
	a->thread.affinity = NULL;
	a->cpus = cpus ? vs_cpuset_copy(cpus) : NULL;
	if (kind == VS_CPU_ACTION_CGROUP) {
		a->dir = g_strdup_printf("%s/vcpu%d", dir, i);
		a->file = g_strdup(file);
		a->value = g_strdup(value);
	}
	if (kind == VS_CPU_ACTION_DEADLINE) {
		a->runtime_us = 100;
		a->period_us = 100000;
	}
	a->reason = g_strdup("benchmark");
	g_ptr_array_add(plan->actions, a);
}

/* A plan of @kind (a reservation or its end) for every thread. */
static VsCpuPlan *deadline_plan(const VsThread *threads, VsCpuActionKind kind)
{
	VsCpuPlan *plan = plan_new();

	for (int i = 0; i < N_THREADS; i++)
		plan_add(plan, kind, threads, i, NULL, NULL, NULL, NULL);
	return plan;
}

/* What vschedd does to every vCPU when a guest gets a reservation
 * (@reserve: its cgroup value @value, its affinity widened to @cpus, the
 * reservation) or loses it (the reservation ended, @value, the affinity
 * narrowed to @cpus), in the planner's acting order. */
static VsCpuPlan *combined_plan(const VsThread *threads, bool reserve, const VsCpuSet *cpus,
				const char *dir, const char *file, const char *value)
{
	VsCpuPlan *plan = plan_new();

	for (int i = 0; i < N_THREADS && !reserve; i++)
		plan_add(plan, VS_CPU_ACTION_DEADLINE_CLEAR, threads, i, NULL, NULL, NULL, NULL);
	for (int i = 0; i < N_THREADS; i++)
		plan_add(plan, VS_CPU_ACTION_CGROUP, threads, i, NULL, dir, file, value);
	for (int i = 0; i < N_THREADS; i++)
		plan_add(plan, VS_CPU_ACTION_AFFINITY, threads, i, cpus, NULL, NULL, NULL);
	for (int i = 0; i < N_THREADS && reserve; i++)
		plan_add(plan, VS_CPU_ACTION_DEADLINE, threads, i, NULL, NULL, NULL, NULL);
	return plan;
}

/* Runs @plan on @act, timed into @wall/@cpu per thread; NULL, or why
 * it did not change the @want settings it should have (caller frees). */
static char *timed_run(VsAct *act, const VsCpuPlan *plan, guint want, double *wall, double *cpu)
{
	g_autoptr(GPtrArray) events = vs_act_events_new();
	Clock t0 = clock_now();
	guint changed = vs_act_run(act, plan, events);

	clock_since(&t0, wall, cpu, N_THREADS);
	if (changed == want)
		return NULL;
	for (guint e = 0; e < events->len; e++) {
		const VsActEvent *ev = g_ptr_array_index(events, e);

		if (ev->priority <= 4) /* LOG_WARNING */
			return g_strdup_printf("%u of %u changed: %s", changed, want, ev->message);
	}
	return g_strdup_printf("%u of %u changed", changed, want);
}

/* A plan writing @value to @file in @dir/vcpuN for every thread N. */
static VsCpuPlan *cgroup_plan(const VsThread *threads, const char *dir, const char *file,
			      const char *value)
{
	VsCpuPlan *plan = g_new0(VsCpuPlan, 1);

	plan->actions = g_ptr_array_new_with_free_func((GDestroyNotify)vs_cpu_action_free);
	plan->reasons = g_hash_table_new(g_str_hash, g_str_equal);
	plan->vcpus = g_hash_table_new(g_str_hash, g_str_equal);
	for (int i = 0; i < N_THREADS; i++) {
		VsCpuAction *a = g_new0(VsCpuAction, 1);
		a->kind = VS_CPU_ACTION_CGROUP;
		g_strlcpy(a->uuid, "00000000-0000-0000-0000-0000000bench", sizeof(a->uuid));
		a->domain = g_strdup("bench");
		a->what = g_strdup_printf("vcpu%d", i);
		a->thread = threads[i];
		a->thread.comm = g_strdup(threads[i].comm);
		a->thread.affinity = NULL;
		a->dir = g_strdup_printf("%s/vcpu%d", dir, i);
		a->file = g_strdup(file);
		a->value = g_strdup(value);
		a->reason = g_strdup("benchmark");
		g_ptr_array_add(plan->actions, a);
	}
	return plan;
}

/* A plan moving every thread to @cpus. */
static VsCpuPlan *affinity_plan(const VsThread *threads, const VsCpuSet *cpus)
{
	VsCpuPlan *plan = g_new0(VsCpuPlan, 1);

	plan->actions = g_ptr_array_new_with_free_func((GDestroyNotify)vs_cpu_action_free);
	plan->reasons = g_hash_table_new(g_str_hash, g_str_equal);
	plan->vcpus = g_hash_table_new(g_str_hash, g_str_equal);
	for (int i = 0; i < N_THREADS; i++) {
		VsCpuAction *a = g_new0(VsCpuAction, 1);
		a->kind = VS_CPU_ACTION_AFFINITY;
		g_strlcpy(a->uuid, "00000000-0000-0000-0000-0000000bench", sizeof(a->uuid));
		a->domain = g_strdup("bench");
		a->what = g_strdup_printf("vcpu%d", i);
		a->thread = threads[i];
		a->thread.comm = g_strdup(threads[i].comm);
		a->thread.affinity = NULL;
		a->cpus = vs_cpuset_copy(cpus);
		a->reason = g_strdup("benchmark");
		g_ptr_array_add(plan->actions, a);
	}
	return plan;
}

/* A cgroup directory with a weight-like file for the run, named after
 * this process (two benchmarks at once must not remove each other's
 * cgroups); NULL if none. */
static const char *bench_cgroup(const char **ret_file, const char **ret_value)
{
	static const struct { const char *parent, *file, *value; } tries[] = {
		{ "/sys/fs/cgroup/cpu", "cpu.shares", "2048" },
		{ "/sys/fs/cgroup", "cpu.weight", "200" },
	};
	static char dir[128];

	for (size_t i = 0; i < G_N_ELEMENTS(tries); i++) {
		g_autofree char *f = NULL;

		g_snprintf(dir, sizeof(dir), "%s/vsched-bench-%d", tries[i].parent, (int)getpid());
		f = g_build_filename(dir, tries[i].file, NULL);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			continue;
		if (access(f, W_OK) == 0) {
			*ret_file = tries[i].file;
			*ret_value = tries[i].value;
			return dir;
		}
		rmdir(dir);
	}
	return NULL;
}

int main(void)
{
	g_autoptr(VsSys) sys = vs_sys_new(NULL);
	g_autofree char *tmpdir = NULL;
	g_autofree char *applied_path = NULL;
	VsThread threads[N_THREADS] = { 0 };
	pthread_t handles[N_THREADS];
	double aff[ROUNDS], dl[ROUNDS], cg[ROUNDS], cgs[ROUNDS];
	double bare_aff[ROUNDS], bare_dl[ROUNDS], bare_cg[ROUNDS];
	double aff_cpu[ROUNDS], dl_cpu[ROUNDS], cg_cpu[ROUNDS], cgs_cpu[ROUNDS];
	double bare_aff_cpu[ROUNDS], bare_dl_cpu[ROUNDS], bare_cg_cpu[ROUNDS];
	double ident[ROUNDS], ident_cpu[ROUNDS];
	double bare_cgd[ROUNDS], bare_cgd_cpu[ROUNDS];
	double first[ROUNDS], first_cpu[ROUNDS], rel[ROUNDS], rel_cpu[ROUNDS];
	double res[ROUNDS], res_cpu[ROUNDS];
	g_autofree char *comb_why = NULL; /* why the combined runs were not measured */
	int stat_fds[N_THREADS];
	Total total = { 0 };
	g_autoptr(VsCpuSet) a_cpus = vs_cpuset_parse("0", NULL);
	g_autoptr(VsCpuSet) b_cpus = vs_cpuset_parse(sysconf(_SC_NPROCESSORS_ONLN) > 1 ? "1" : "0", NULL);
	const char *cg_dir, *cg_file = NULL, *cg_value = NULL;
	g_autofree char *dl_why = NULL; /* why the deadline step was not measured */
	guint64 period_max_us = 0;
	guint64 period_max_ns;

	if (geteuid() != 0) {
		printf("bench-actuation: skipped (needs root for sched_setattr and cgroups)\n");
		return 0;
	}
	/* The Applied file goes in a fresh directory under VSCHED_BENCH_DIR
	 * (default /run/vsched, where vschedd keeps it: tmpfs, as in use). */
	{
		const char *parent = g_getenv("VSCHED_BENCH_DIR") ? g_getenv("VSCHED_BENCH_DIR")
								 : "/run/vsched";

		g_mkdir_with_parents(parent, 0755);
		tmpdir = g_build_filename(parent, "bench-XXXXXX", NULL);
	}
	if (!g_mkdtemp(tmpdir)) {
		fprintf(stderr, "bench-actuation: cannot make %s: %s\n", tmpdir, g_strerror(errno));
		return 1;
	}
	applied_path = g_build_filename(tmpdir, "applied.json", NULL);
	if (vs_sys_read_u64(sys, "/proc/sys/kernel/sched_deadline_period_max_us", &period_max_us) < 0 ||
	    period_max_us == 0)
		period_max_us = 4194304; /* the kernel's default */
	period_max_ns = period_max_us * 1000;
	for (int i = 0; i < N_THREADS; i++) {
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 64 * 1024);
		pthread_create(&handles[i], &attr, sleeper, GINT_TO_POINTER(i));
		pthread_attr_destroy(&attr);
	}
	pthread_mutex_lock(&lock);
	while (n_started < N_THREADS)
		pthread_cond_wait(&done_cond, &lock);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < N_THREADS; i++)
		if (sched_test_thread_identity(sys, tids[i], &threads[i]) < 0) {
			fprintf(stderr, "bench-actuation: cannot read thread %d\n", tids[i]);
			return 1;
		}

	/* Affinity through the actuator, alternating between two sets. */
	{
		g_autoptr(VsApplied) applied = vs_applied_new();
		g_autoptr(VsAct) act = vs_act_new(sys, applied, applied_path);
		g_autoptr(VsCpuPlan) pa = affinity_plan(threads, a_cpus);
		g_autoptr(VsCpuPlan) pb = affinity_plan(threads, b_cpus);

		for (int r = 0; r < ROUNDS; r++) {
			g_autoptr(GPtrArray) events = vs_act_events_new();
			Clock t0 = clock_now();
			vs_act_run(act, r % 2 ? pa : pb, events);
			clock_since(&t0, &aff[r], &aff_cpu[r], N_THREADS);
		}
		g_autoptr(GPtrArray) events = vs_act_events_new();
		vs_act_restore_all(act, events);
	}

	/* The bare syscalls of the affinity step: set and read back. */
	for (int r = 0; r < ROUNDS; r++) {
		const VsCpuSet *cpus = r % 2 ? a_cpus : b_cpus;
		cpu_set_t set;
		Clock t0;

		CPU_ZERO(&set);
		CPU_SET((guint)vs_cpuset_next(cpus, 0), &set);
		t0 = clock_now();
		for (int i = 0; i < N_THREADS; i++) {
			cpu_set_t got;
			if (sched_setaffinity(tids[i], sizeof(set), &set) < 0 ||
			    sched_getaffinity(tids[i], sizeof(got), &got) < 0) {
				perror("bench-actuation: affinity");
				return 1;
			}
		}
		clock_since(&t0, &bare_aff[r], &bare_aff_cpu[r], N_THREADS);
	}
	for (int i = 0; i < N_THREADS; i++) {
		cpu_set_t all;
		CPU_ZERO(&all);
		for (int c = 0; c < sysconf(_SC_NPROCESSORS_ONLN); c++)
			CPU_SET(c, &all);
		sched_setaffinity(tids[i], sizeof(all), &all);
	}

	/* The identity check's syscall, which every step makes before it acts:
	 * one read of the thread's held /proc stat file. */
	for (int i = 0; i < N_THREADS; i++) {
		g_autofree char *path = g_strdup_printf("/proc/self/task/%d/stat", (int)tids[i]);
		if ((stat_fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			perror("bench-actuation: stat");
			return 1;
		}
	}
	for (int r = 0; r < ROUNDS; r++) {
		Clock t0 = clock_now();
		for (int i = 0; i < N_THREADS; i++) {
			char buf[1024];
			if (pread(stat_fds[i], buf, sizeof(buf), 0) <= 0) {
				perror("bench-actuation: stat read");
				return 1;
			}
		}
		clock_since(&t0, &ident[r], &ident_cpu[r], N_THREADS);
	}
	for (int i = 0; i < N_THREADS; i++)
		close(stat_fds[i]);

	/* sched_setattr: a reservation set and cleared through the actuator
	 * (one plan reserving every thread, one ending it), per call. The
	 * host's deadline bandwidth is shared: when something else holds it
	 * (EBUSY), the step is reported as not measured rather than ending
	 * the benchmark. */
	{
		g_autoptr(VsApplied) applied = vs_applied_new();
		g_autoptr(VsAct) act = vs_act_new(sys, applied, applied_path);
		g_autoptr(VsCpuPlan) pset = deadline_plan(threads, VS_CPU_ACTION_DEADLINE);
		g_autoptr(VsCpuPlan) pclear = deadline_plan(threads, VS_CPU_ACTION_DEADLINE_CLEAR);

		for (int r = 0; r < ROUNDS && !dl_why; r++) {
			double w1, c1, w2, c2;

			dl_why = timed_run(act, pset, N_THREADS, &w1, &c1);
			if (!dl_why)
				dl_why = timed_run(act, pclear, N_THREADS, &w2, &c2);
			dl[r] = dl_why ? 0 : (w1 + w2) / 2;
			dl_cpu[r] = dl_why ? 0 : (c1 + c2) / 2;
		}
		g_autoptr(GPtrArray) events = vs_act_events_new();
		vs_act_restore_all(act, events);
	}

	/* The bare syscalls of the deadline step: set and check, shrink,
	 * clear and check. The shrink is what vs_deadline_clear() does too:
	 * without it, a sleeping thread leaving SCHED_DEADLINE does not give
	 * its bandwidth back on Linux 6.18 (deadline.c), and 256 of them left
	 * the host's deadline bandwidth held (EBUSY for everyone) until its
	 * root domain was rebuilt. */
	for (int r = 0; r < ROUNDS && !dl_why; r++) {
		VsSchedAttr dl_attr = { .size = sizeof(VsSchedAttr), .sched_policy = SCHED_DEADLINE,
					.sched_runtime = 100000, .sched_deadline = 100000000,
					.sched_period = 100000000 };
		VsSchedAttr tiny = { .size = sizeof(VsSchedAttr), .sched_policy = SCHED_DEADLINE,
				     .sched_runtime = 1024, .sched_deadline = period_max_ns,
				     .sched_period = period_max_ns };
		VsSchedAttr other = { .size = sizeof(VsSchedAttr) };
		Clock t0 = clock_now();

		for (int i = 0; i < N_THREADS; i++) {
			VsSchedAttr got = { .size = sizeof(got) };
			int e;
			if ((e = sys->ops->sched_setattr(tids[i], &dl_attr)) < 0 ||
			    (e = sys->ops->sched_getattr(tids[i], &got)) < 0 ||
			    (e = sys->ops->sched_setattr(tids[i], &tiny)) < 0 ||
			    (e = sys->ops->sched_setattr(tids[i], &other)) < 0 ||
			    (e = sys->ops->sched_getattr(tids[i], &got)) < 0) {
				dl_why = g_strdup_printf("bare sched_setattr: %s", g_strerror(-e));
				break;
			}
		}
		clock_since(&t0, &bare_dl[r], &bare_dl_cpu[r], N_THREADS * 2);
	}

	/* A cgroup value per thread through the actuator, alternating
	 * between two values. */
	cg_dir = bench_cgroup(&cg_file, &cg_value);
	for (int i = 0; i < N_THREADS && cg_dir; i++) {
		g_autofree char *sub = g_strdup_printf("%s/vcpu%d", cg_dir, i);
		if (mkdir(sub, 0755) < 0 && errno != EEXIST) {
			perror("bench-actuation: mkdir");
			return 1;
		}
	}
	if (cg_dir) {
		g_autoptr(VsApplied) applied = vs_applied_new();
		g_autoptr(VsAct) act = vs_act_new(sys, applied, applied_path);
		g_autoptr(VsCpuPlan) pa = cgroup_plan(threads, cg_dir, cg_file, cg_value);
		g_autoptr(VsCpuPlan) pb = cgroup_plan(threads, cg_dir, cg_file, "1024");

		for (int r = 0; r < ROUNDS; r++) {
			g_autoptr(GPtrArray) events = vs_act_events_new();
			Clock t0 = clock_now();
			if (vs_act_run(act, r % 2 ? pb : pa, events) != N_THREADS) {
				for (guint e = 0; e < events->len; e++)
					fprintf(stderr, "bench-actuation: cgroup: %s\n",
						((VsActEvent *)g_ptr_array_index(events, e))->message);
				return 1;
			}
			clock_since(&t0, &cg[r], &cg_cpu[r], N_THREADS);
		}
		g_autoptr(GPtrArray) events = vs_act_events_new();
		vs_act_restore_all(act, events);
	}

	/* The bare cgroup syscalls on the 256 vcpuN cgroups, one write and one
	 * read each on a held fd, as the actuator writes them: the kernel time
	 * of a write to another cgroup each time. */
	for (int r = 0; r < ROUNDS && cg_dir; r++) {
		int fds[N_THREADS];
		Clock t0;

		for (int i = 0; i < N_THREADS; i++) {
			g_autofree char *f = g_strdup_printf("%s/vcpu%d/%s", cg_dir, i, cg_file);
			if ((fds[i] = open(f, O_RDWR | O_CLOEXEC)) < 0) {
				perror("bench-actuation: bare cgroup");
				return 1;
			}
		}
		t0 = clock_now();
		for (int i = 0; i < N_THREADS; i++) {
			const char *v = r % 2 ? cg_value : "1024";
			char buf[64];
			if (pwrite(fds[i], v, strlen(v), 0) < 0 || pread(fds[i], buf, sizeof(buf), 0) < 0) {
				perror("bench-actuation: bare cgroup");
				return 1;
			}
		}
		clock_since(&t0, &bare_cgd[r], &bare_cgd_cpu[r], N_THREADS);
		for (int i = 0; i < N_THREADS; i++)
			close(fds[i]);
	}

	/* All three on every vCPU in one run, as vschedd acts when a guest
	 * gets a reservation and when it loses it. The threads start on one
	 * CPU (where libvirt would have pinned them), so that every step
	 * changes something: the first run on a fresh record (first touch:
	 * every original read and recorded, every file opened), then the end
	 * of the reservation and the reservation again on the same record
	 * (re-touch). The record is restored after each round. */
	if (!cg_dir)
		comb_why = g_strdup("no writable cpu cgroup");
	else if (dl_why)
		comb_why = g_strdup_printf("the deadline step was not measured");
	else if (vs_cpuset_equal(a_cpus, b_cpus))
		comb_why = g_strdup("one CPU only");
	if (!comb_why) {
		g_autoptr(VsCpuSet) all = vs_cpuset_copy(a_cpus);
		g_autoptr(VsCpuPlan) reserve = NULL;
		g_autoptr(VsCpuPlan) release = NULL;

		vs_cpuset_add(all, (guint)vs_cpuset_next(b_cpus, 0));
		reserve = combined_plan(threads, true, all, cg_dir, cg_file, cg_value);
		release = combined_plan(threads, false, a_cpus, cg_dir, cg_file, "1024");
		for (int r = 0; r < ROUNDS && !comb_why; r++) {
			g_autoptr(VsApplied) applied = vs_applied_new();
			g_autoptr(VsAct) act = vs_act_new(sys, applied, applied_path);
			g_autoptr(GPtrArray) events = vs_act_events_new();

			for (int i = 0; i < N_THREADS; i++) {
				cpu_set_t one;
				CPU_ZERO(&one);
				CPU_SET((guint)vs_cpuset_next(b_cpus, 0), &one);
				sched_setaffinity(tids[i], sizeof(one), &one);
			}
			comb_why = timed_run(act, reserve, 3 * N_THREADS, &first[r], &first_cpu[r]);
			if (!comb_why)
				comb_why = timed_run(act, release, 3 * N_THREADS, &rel[r], &rel_cpu[r]);
			if (!comb_why)
				comb_why = timed_run(act, reserve, 3 * N_THREADS, &res[r], &res_cpu[r]);
			vs_act_restore_all(act, events);
		}
		for (int i = 0; i < N_THREADS; i++) {
			cpu_set_t all_set;
			CPU_ZERO(&all_set);
			for (int c = 0; c < sysconf(_SC_NPROCESSORS_ONLN); c++)
				CPU_SET(c, &all_set);
			sched_setaffinity(tids[i], sizeof(all_set), &all_set);
		}
	}
	for (int i = 0; i < N_THREADS && cg_dir; i++) {
		g_autofree char *sub = g_strdup_printf("%s/vcpu%d", cg_dir, i);
		rmdir(sub);
	}

	/* The same value written and read back by vs_cgroup_set(). */
	for (int r = 0; r < ROUNDS && cg_dir; r++) {
		Clock t0 = clock_now();
		for (int i = 0; i < N_THREADS; i++) {
			g_autoptr(GError) error = NULL;
			g_autofree char *prev = NULL;
			if (vs_cgroup_set(sys, cg_dir, cg_file, i % 2 ? cg_value : "1024", &prev, &error) < 0) {
				fprintf(stderr, "bench-actuation: cgroup: %s\n", error->message);
				return 1;
			}
		}
		clock_since(&t0, &cgs[r], &cgs_cpu[r], N_THREADS);
	}
	/* The bare cgroup syscalls: one write and one read on a held fd. */
	if (cg_dir) {
		g_autofree char *path = g_build_filename(cg_dir, cg_file, NULL);
		int fd = open(path, O_RDWR | O_CLOEXEC);

		for (int r = 0; r < ROUNDS && fd >= 0; r++) {
			Clock t0 = clock_now();
			for (int i = 0; i < N_THREADS; i++) {
				const char *v = i % 2 ? cg_value : "1024";
				char buf[64];
				if (pwrite(fd, v, strlen(v), 0) < 0 || pread(fd, buf, sizeof(buf), 0) < 0) {
					perror("bench-actuation: bare cgroup");
					return 1;
				}
			}
			clock_since(&t0, &bare_cg[r], &bare_cg_cpu[r], N_THREADS);
		}
		if (fd >= 0)
			close(fd);
		rmdir(cg_dir);
	}

	pthread_mutex_lock(&lock);
	done = true;
	pthread_cond_broadcast(&done_cond);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < N_THREADS; i++) {
		pthread_join(handles[i], NULL);
		vs_thread_clear(&threads[i]);
	}
	g_unlink(applied_path);
	g_rmdir(tmpdir);

	printf("bench-actuation: %d threads, %d rounds, per thread (us); wall: elapsed time, "
	       "cpu: this thread's CPU time (what the machine's load does not inflate)\n",
	       N_THREADS, ROUNDS);
	printf("  %-46s %8s %8s %8s %10s %9s\n", "step", "wall med", "wall p99", "cpu med",
	       "bare wall", "bare cpu");
	row("affinity via vs_act_run (verify+set+readback)", aff, aff_cpu, bare_aff, bare_aff_cpu,
	    NULL, &total);
	row("sched_setattr via vs_act_run (set, clear)", dl, dl_cpu, bare_dl, bare_dl_cpu, dl_why,
	    &total);
	{
		g_autofree char *label = g_strdup_printf("cgroup %s via vs_act_run (rd+wr+rd)",
							 cg_file ? cg_file : "");
		row(label, cg, cg_cpu, bare_cg, bare_cg_cpu,
		    cg_dir ? NULL : "no writable cpu cgroup", &total);
	}
	printf("  %-46s %8.2f %8s %8.2f %10.2f %9.2f   floor %.0f us (wall median): %s\n",
	       "total per vCPU", total.wall, "", total.cpu, total.bare_wall, total.bare_cpu,
	       FLOOR_US, total.wall <= FLOOR_US ? "met" : "NOT met");
	{
		Total alone = { 0 };
		row("(not counted) identity read: pread of stat", ident, ident_cpu, ident, ident_cpu,
		    NULL, &alone);
	}
	if (cg_dir) {
		Total alone = { 0 };
		row("(not counted) the same by vs_cgroup_set alone", cgs, cgs_cpu, bare_cg, bare_cg_cpu,
		    NULL, &alone);
		row("(not counted) bare write+read, 256 cgroups", bare_cgd, bare_cgd_cpu, bare_cgd,
		    bare_cgd_cpu, NULL, &alone);
	}
	printf("all three steps in one vs_act_run per vCPU (issue 4's figure); bare: the "
	       "syscalls above, one identity read, a write to another cgroup each time\n");
	{
		/* The bare floor of one vCPU: affinity set + get, one deadline
		 * call (the mean of a set and a clear), a write and read of its
		 * own cgroup, one identity read. */
		double bw = 0, bc = 0;
		const char *labels[] = { "first touch (reserve, fresh record)",
					 "re-touch: reservation ended", "re-touch: reserved again" };
		double *walls[] = { first, rel, res }, *cpus[] = { first_cpu, rel_cpu, res_cpu };

		if (!comb_why) {
			bw = pct(bare_aff, ROUNDS, 0.5) + pct(bare_dl, ROUNDS, 0.5) +
			     pct(bare_cgd, ROUNDS, 0.5) + pct(ident, ROUNDS, 0.5);
			bc = pct(bare_aff_cpu, ROUNDS, 0.5) + pct(bare_dl_cpu, ROUNDS, 0.5) +
			     pct(bare_cgd_cpu, ROUNDS, 0.5) + pct(ident_cpu, ROUNDS, 0.5);
		}
		for (size_t k = 0; k < G_N_ELEMENTS(labels); k++) {
			double w, c;

			if (comb_why) {
				printf("  %-46s not measured: %s\n", labels[k], comb_why);
				continue;
			}
			w = pct(walls[k], ROUNDS, 0.5);
			c = pct(cpus[k], ROUNDS, 0.5);
			printf("  %-46s %8.2f %8.2f %8.2f %10.2f %9.2f   floor %.0f us: wall %s, cpu %s\n",
			       labels[k], w, pct(walls[k], ROUNDS, 0.99), c, bw, bc, FLOOR_US,
			       w <= FLOOR_US ? "met" : "NOT met", c <= FLOOR_US ? "met" : "NOT met");
		}
	}
	return 0;
}
