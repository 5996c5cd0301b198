/* Benchmark of a SCHED_DEADLINE reservation (src/sched/deadline.c) against
 * plain CFS, run by `make bench` (root only; says so and does nothing
 * otherwise). A "vCPU" thread, free to run on every CPU, competes with two
 * CPU hogs pinned to each CPU, in four cases run one after the other with
 * the same hogs:
 *
 * - periodic, under CFS and under SCHED_DEADLINE 2 ms every 10 ms (set with
 *   vs_deadline_set()): the thread wakes every 10 ms (absolute timer) and
 *   does 1 ms of work (its own CPU clock), 300 times; expiries it was too
 *   late for are skipped, as with a periodic tick; measured: the
 *   bandwidth it receives, its wake-up latency (from the timer's expiry to
 *   running) p50 and p99, when its 1 ms of work was done (p50, p99, from
 *   the expiry), and the periods whose work was not done within the
 *   period;
 * - greedy, under both: the thread spins for 2 s; measured: the bandwidth
 *   it receives, to check that a reservation gives at least what it
 *   reserves (and, without reclaiming, not more).
 *
 * Figures are recorded in doc/benchmarks.md. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host/host.h"
#include "sched/deadline.h"
#include "unit/test-sched-thread.h"

#define NSEC_PER_MSEC INT64_C(1000000)
#define NSEC_PER_SEC INT64_C(1000000000)
#define PERIOD_NS (10 * NSEC_PER_MSEC)
#define WORK_NS (1 * NSEC_PER_MSEC)
#define PERIODS 300
#define GREEDY_NS (2 * NSEC_PER_SEC)
#define DL_RUNTIME_US 2000
#define DL_PERIOD_US 10000
#define HOGS_PER_CPU 2

typedef struct Case {
	bool deadline;
	bool greedy;
	/* results */
	char *error;            /* why the case could not run, or NULL */
	int64_t latency[PERIODS];
	int64_t done[PERIODS];
	guint overruns;
	double bandwidth;
} Case;

static const VsSys *sys;
static atomic_bool hogs_stop;

static int64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void *hog_main(void *data)
{
	guint cpu = GPOINTER_TO_UINT(data);
	volatile uint64_t spins = 0;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	pthread_setname_np(pthread_self(), "hog");
	while (!atomic_load(&hogs_stop))
		spins++;
	return NULL;
}

static void spin_until(clockid_t clock, int64_t until)
{
	while (now_ns(clock) < until)
		;
}

static void run_periodic(Case *c)
{
	int64_t next = now_ns(CLOCK_MONOTONIC);

	for (guint i = 0; i < PERIODS; i++) {
		struct timespec ts;
		int64_t woke;

		next += PERIOD_NS;
		ts.tv_sec = next / NSEC_PER_SEC;
		ts.tv_nsec = next % NSEC_PER_SEC;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		woke = now_ns(CLOCK_MONOTONIC);
		c->latency[i] = woke - next;
		spin_until(CLOCK_THREAD_CPUTIME_ID, now_ns(CLOCK_THREAD_CPUTIME_ID) + WORK_NS);
		c->done[i] = now_ns(CLOCK_MONOTONIC) - next;
		if (c->done[i] > PERIOD_NS)
			c->overruns++;
		/* Like a periodic tick, the timer does not queue up the
		 * expiries the thread was too late for: the next wake-up is
		 * the first one still ahead. */
		while (next + PERIOD_NS <= now_ns(CLOCK_MONOTONIC))
			next += PERIOD_NS;
	}
}

static void *vcpu_main(void *data)
{
	Case *c = data;
	g_autoptr(GError) error = NULL;
	VsThread self = { 0 };
	int64_t cpu0, wall0;
	int r;

	pthread_setname_np(pthread_self(), "CPU 0/TCG");
	if (c->deadline) {
		r = sched_test_thread_identity(sys, gettid(), &self);
		if (r < 0) {
			c->error = g_strdup_printf("own identity: %s", g_strerror(-r));
			return NULL;
		}
		if (vs_deadline_set(sys, &self, DL_RUNTIME_US, DL_PERIOD_US, &error) < 0) {
			c->error = g_strdup(error->message);
			vs_thread_clear(&self);
			return NULL;
		}
	}
	cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	wall0 = now_ns(CLOCK_MONOTONIC);
	if (c->greedy)
		spin_until(CLOCK_MONOTONIC, wall0 + GREEDY_NS);
	else
		run_periodic(c);
	c->bandwidth = (double)(now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0) /
		       (double)(now_ns(CLOCK_MONOTONIC) - wall0);
	if (c->deadline) {
		if (vs_deadline_clear(sys, &self, 0, &error) < 0)
			c->error = g_strdup(error->message);
		vs_thread_clear(&self);
	}
	return NULL;
}

static void run_case(Case *c)
{
	pthread_t thread;

	/* The thread inherits our affinity: every CPU, as SCHED_DEADLINE
	 * needs (the hogs pin themselves after they start). */
	if (pthread_create(&thread, NULL, vcpu_main, c) != 0) {
		c->error = g_strdup("cannot start the vCPU thread");
		return;
	}
	pthread_join(thread, NULL);
}

static int compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The @pct percentile of @v (sorted in place), in µs. */
static double percentile_us(int64_t *v, guint n, guint pct)
{
	qsort(v, n, sizeof(*v), compare_i64);
	return (double)v[MIN(n - 1, n * pct / 100)] / 1000.0;
}

int main(void)
{
	g_autoptr(VsSys) real = vs_sys_new(NULL);
	g_autoptr(VsHost) host = NULL;
	g_autoptr(GError) error = NULL;
	Case *cases = g_new0(Case, 4);
	Case *cfs = &cases[0], *dl = &cases[1], *cfs_greedy = &cases[2], *dl_greedy = &cases[3];
	GArray *hogs = g_array_new(FALSE, FALSE, sizeof(pthread_t));
	g_autofree char *cpus = NULL;
	guint n_cpus;
	double reservation = (double)DL_RUNTIME_US / DL_PERIOD_US;
	int status = 0;

	if (geteuid() != 0) {
		printf("bench-deadline: skipped: SCHED_DEADLINE needs root (CAP_SYS_NICE)\n");
		g_free(cases);
		g_array_unref(hogs);
		return 0;
	}
	sys = real;
	host = vs_host_collect(real, &error);
	if (!host) {
		fprintf(stderr, "bench-deadline: %s\n", error->message);
		g_free(cases);
		g_array_unref(hogs);
		return 1;
	}
	n_cpus = vs_cpuset_count(host->topology.online);
	cpus = vs_cpuset_format(host->topology.online);

	for (int c = vs_cpuset_next(host->topology.online, 0); c >= 0;
	     c = vs_cpuset_next(host->topology.online, (guint)c + 1)) {
		for (guint i = 0; i < HOGS_PER_CPU; i++) {
			pthread_t t;

			if (pthread_create(&t, NULL, hog_main, GUINT_TO_POINTER((guint)c)) == 0)
				g_array_append_val(hogs, t);
		}
	}
	g_usleep(200000);

	dl->deadline = true;
	cfs_greedy->greedy = true;
	dl_greedy->deadline = dl_greedy->greedy = true;
	for (guint i = 0; i < 4; i++)
		run_case(&cases[i]);

	atomic_store(&hogs_stop, true);
	for (guint i = 0; i < hogs->len; i++)
		pthread_join(g_array_index(hogs, pthread_t, i), NULL);

	printf("deadline reservation vs CFS: one \"vCPU\" thread next to %u CPU hogs "
	       "(%u per CPU, CPUs %s)\n", hogs->len, HOGS_PER_CPU, cpus);
	for (guint i = 0; i < 4; i++) {
		if (cases[i].error) {
			printf("case %u failed: %s\n", i, cases[i].error);
			status = 1;
		}
	}
	if (status == 0) {
		printf("%-44s %10s %10s\n", "", "CFS", "DEADLINE");
		printf("%-44s %10s %7d/%d ms\n", "periodic: wakes every 10 ms, 1 ms of work", "",
		       DL_RUNTIME_US / 1000, DL_PERIOD_US / 1000);
		printf("  %-42s %10.3f %10.3f\n", "bandwidth received (CPU)",
		       cfs->bandwidth, dl->bandwidth);
		printf("  %-42s %10.1f %10.1f\n", "wake-up latency p50 (us)",
		       percentile_us(cfs->latency, PERIODS, 50), percentile_us(dl->latency, PERIODS, 50));
		printf("  %-42s %10.1f %10.1f\n", "wake-up latency p99 (us)",
		       percentile_us(cfs->latency, PERIODS, 99), percentile_us(dl->latency, PERIODS, 99));
		printf("  %-42s %10.2f %10.2f\n", "work done p50 (ms after the timer)",
		       percentile_us(cfs->done, PERIODS, 50) / 1000,
		       percentile_us(dl->done, PERIODS, 50) / 1000);
		printf("  %-42s %10.2f %10.2f\n", "work done p99 (ms after the timer)",
		       percentile_us(cfs->done, PERIODS, 99) / 1000,
		       percentile_us(dl->done, PERIODS, 99) / 1000);
		printf("  %-42s %7u/%u %7u/%u\n", "periods whose work overran the period",
		       cfs->overruns, PERIODS, dl->overruns, PERIODS);
		printf("greedy: always runnable for %d s\n", (int)(GREEDY_NS / NSEC_PER_SEC));
		printf("  %-42s %10.3f %10.3f\n", "bandwidth received (CPU)",
		       cfs_greedy->bandwidth, dl_greedy->bandwidth);
		printf("  fair share of %u runnable threads on %u CPUs: %.3f; reservation %.3f: "
		       "received %s the reservation\n",
		       hogs->len + 1, n_cpus, (double)n_cpus / (hogs->len + 1), reservation,
		       dl_greedy->bandwidth >= reservation * 0.99 ? "at least" : "LESS THAN");
	}
	for (guint i = 0; i < 4; i++)
		g_free(cases[i].error);
	g_free(cases);
	g_array_unref(hogs);
	return status;
}
