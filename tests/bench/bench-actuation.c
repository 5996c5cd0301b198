/* Benchmark: the cost of acting on one vCPU thread, as vschedd does it, on
 * this real kernel. For N sleeping threads of this process (standing in for
 * vCPU threads), in each round:
 *   affinity   vs_act_run() on a plan that moves every thread to the other
 *              CPU set: identity check, read, set, read back, bookkeeping
 *              (the Applied file is written once before and once after);
 *   setattr    vs_deadline_set() + vs_deadline_clear() (identity-checked
 *              sched_setattr with sched_getattr verification, twice);
 *   cgroup     vs_cgroup_set() of a weight-like file (read, write, read
 *              back): cpu.shares of a v1 cgroup on a hybrid host, else
 *              cpu.weight of a v2 cgroup, created for the run and removed.
 * Prints the median and p99 per thread over the rounds, and their sum next
 * to the floor of issue 4 (20 us per vCPU, median). Needs root; prints
 * "skipped" and exits 0 otherwise. */
#include "config.h"

#include <errno.h>
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

/* A cgroup directory with a weight-like file for the run; NULL if none. */
static const char *bench_cgroup(const char **ret_file, const char **ret_value)
{
	static const struct { const char *dir, *file, *value; } tries[] = {
		{ "/sys/fs/cgroup/cpu/vsched-bench", "cpu.shares", "2048" },
		{ "/sys/fs/cgroup/vsched-bench", "cpu.weight", "200" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(tries); i++) {
		g_autofree char *f = g_build_filename(tries[i].dir, tries[i].file, NULL);
		if (mkdir(tries[i].dir, 0755) < 0 && errno != EEXIST)
			continue;
		if (access(f, W_OK) == 0) {
			*ret_file = tries[i].file;
			*ret_value = tries[i].value;
			return tries[i].dir;
		}
		rmdir(tries[i].dir);
	}
	return NULL;
}

int main(void)
{
	g_autoptr(VsSys) sys = vs_sys_new(NULL);
	g_autofree char *tmpdir = g_dir_make_tmp("vsched-bench-XXXXXX", NULL);
	g_autofree char *applied_path = g_build_filename(tmpdir, "applied.json", NULL);
	VsThread threads[N_THREADS] = { 0 };
	pthread_t handles[N_THREADS];
	double aff[ROUNDS], dl[ROUNDS], cg[ROUNDS];
	g_autoptr(VsCpuSet) a_cpus = vs_cpuset_parse("0", NULL);
	g_autoptr(VsCpuSet) b_cpus = vs_cpuset_parse(sysconf(_SC_NPROCESSORS_ONLN) > 1 ? "1" : "0", NULL);
	const char *cg_dir, *cg_file = NULL, *cg_value = NULL;
	double aff_med, dl_med, cg_med;

	if (geteuid() != 0) {
		printf("bench-actuation: skipped (needs root for sched_setattr and cgroups)\n");
		return 0;
	}
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
			gint64 t0 = g_get_monotonic_time();
			vs_act_run(act, r % 2 ? pa : pb, events);
			aff[r] = (double)(g_get_monotonic_time() - t0) / N_THREADS;
		}
		g_autoptr(GPtrArray) events = vs_act_events_new();
		vs_act_restore_all(act, events);
	}

	/* sched_setattr: a reservation set and cleared. */
	for (int r = 0; r < ROUNDS; r++) {
		gint64 t0 = g_get_monotonic_time();
		for (int i = 0; i < N_THREADS; i++) {
			g_autoptr(GError) error = NULL;
			if (vs_deadline_set(sys, &threads[i], 100, 100000, &error) < 0 ||
			    vs_deadline_clear(sys, &threads[i], 0, &error) < 0) {
				fprintf(stderr, "bench-actuation: deadline: %s\n", error ? error->message : "?");
				return 1;
			}
		}
		dl[r] = (double)(g_get_monotonic_time() - t0) / N_THREADS / 2.0;
	}

	/* A cgroup value written and read back. */
	cg_dir = bench_cgroup(&cg_file, &cg_value);
	for (int r = 0; r < ROUNDS && cg_dir; r++) {
		gint64 t0 = g_get_monotonic_time();
		for (int i = 0; i < N_THREADS; i++) {
			g_autoptr(GError) error = NULL;
			g_autofree char *prev = NULL;
			if (vs_cgroup_set(sys, cg_dir, cg_file, i % 2 ? cg_value : "1024", &prev, &error) < 0) {
				fprintf(stderr, "bench-actuation: cgroup: %s\n", error->message);
				return 1;
			}
		}
		cg[r] = (double)(g_get_monotonic_time() - t0) / N_THREADS;
	}
	if (cg_dir)
		rmdir(cg_dir);

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

	printf("bench-actuation: %d threads, %d rounds, per thread (us)\n", N_THREADS, ROUNDS);
	printf("  %-44s %8s %8s\n", "step", "median", "p99");
	aff_med = pct(aff, ROUNDS, 0.5);
	printf("  %-44s %8.2f %8.2f\n", "affinity via vs_act_run (verify+set+readback)", aff_med, pct(aff, ROUNDS, 0.99));
	dl_med = pct(dl, ROUNDS, 0.5);
	printf("  %-44s %8.2f %8.2f\n", "sched_setattr via vs_deadline_set/clear", dl_med, pct(dl, ROUNDS, 0.99));
	if (cg_dir) {
		g_autofree char *label = g_strdup_printf("cgroup %s via vs_cgroup_set (rd+wr+rd)", cg_file);
		cg_med = pct(cg, ROUNDS, 0.5);
		printf("  %-44s %8.2f %8.2f\n", label, cg_med, pct(cg, ROUNDS, 0.99));
	} else {
		cg_med = 0;
		printf("  %-44s %8s\n", "cgroup", "no writable cpu cgroup");
	}
	printf("  %-44s %8.2f %8s   floor %.0f us: %s\n", "total per vCPU", aff_med + dl_med + cg_med, "",
	       FLOOR_US, aff_med + dl_med + cg_med <= FLOOR_US ? "met" : "NOT met");
	return 0;
}
