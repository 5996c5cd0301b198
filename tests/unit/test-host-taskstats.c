/* The two collection paths of per-thread counters on real threads of this
 * process: taskstats over generic netlink (src/host/taskstats.c) and
 * /proc/PID/task/TID/schedstat on held descriptors (src/host/schedstat.c)
 * agree on run time and run delay; a thread that is gone is reported as
 * ESRCH by both, and its held descriptor is closed; the reader behind
 * VsThreadCounters uses taskstats here. Needs root (taskstats refuses
 * others nothing, but CAP_NET_ADMIN hosts are what this tier runs on) and
 * the TASKSTATS family: exits 77 (SKIP) with the reason otherwise. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "host/schedstat.h"
#include "host/taskstats.h"
#include "host/thread-counters.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define N_THREADS 4

typedef struct Worker {
	pthread_t thread;
	pid_t tid;
	volatile int stop;
	volatile int ready;
} Worker;

static Worker workers[N_THREADS];

/* Spins, yielding now and then, so that both counters move. */
static void *spin(void *data)
{
	Worker *w = data;

	w->tid = (pid_t)syscall(SYS_gettid);
	w->ready = 1;
	while (!w->stop) {
		for (volatile int i = 0; i < 100000; i++)
			;
		sched_yield();
	}
	return NULL;
}

static uint64_t start_time_of(pid_t tid)
{
	g_autofree char *path = g_strdup_printf("/proc/self/task/%d/stat", (int)tid);
	g_autofree char *text = NULL;
	g_auto(GStrv) f = NULL;
	const char *p;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	p = strrchr(text, ')');
	assert_non_null(p);
	f = g_strsplit(p + 2, " ", -1);
	/* Field 22; the split starts at field 3. */
	return g_ascii_strtoull(f[22 - 3], NULL, 10);
}

static int setup(void **state)
{
	for (int i = 0; i < N_THREADS; i++) {
		assert_int_equal(pthread_create(&workers[i].thread, NULL, spin, &workers[i]), 0);
		while (!workers[i].ready)
			sched_yield();
	}
	/* Let them run (and wait) for a while. */
	g_usleep(200 * 1000);
	return 0;
}

static int teardown(void **state)
{
	for (int i = 0; i < N_THREADS; i++) {
		workers[i].stop = 1;
		pthread_join(workers[i].thread, NULL);
	}
	return 0;
}

static void fill(VsThreadCount *items)
{
	for (int i = 0; i < N_THREADS; i++) {
		items[i] = (VsThreadCount){ .pid = getpid(), .tid = workers[i].tid,
					    .start_time = start_time_of(workers[i].tid) };
	}
}

/* The counters of a stopped thread are still; of a running one they move
 * by at most the time between the two readings. */
static void test_paths_agree(void **state)
{
	g_autoptr(VsTaskstats) ts = NULL;
	g_autoptr(VsSys) sys = vs_sys_new(NULL);
	VsThreadCount a[N_THREADS], b[N_THREADS];
	int64_t t0, t1;

	assert_int_equal(vs_taskstats_open(&ts), 0);
	fill(a);
	fill(b);
	t0 = g_get_monotonic_time();
	assert_int_equal(vs_taskstats_query(ts, a, N_THREADS), 0);
	for (int i = 0; i < N_THREADS; i++)
		assert_int_equal(vs_schedstat_read_once(sys, &b[i]), 0);
	t1 = g_get_monotonic_time();
	for (int i = 0; i < N_THREADS; i++) {
		/* Read later, so at least as large, and larger by no more than
		 * the time between the readings plus what the kernel books at
		 * once: a wait is added to run_delay when the thread gets the
		 * CPU, run time at the scheduler's tick (generous on a busy
		 * host). */
		uint64_t slack = (uint64_t)(t1 - t0) * 1000 + 100 * 1000000;

		assert_int_equal(a[i].error, 0);
		assert_true(a[i].run_ns > 0);
		assert_true(b[i].run_ns >= a[i].run_ns);
		assert_true(b[i].delay_ns >= a[i].delay_ns);
		assert_true(b[i].run_ns - a[i].run_ns <= slack);
		assert_true(b[i].delay_ns - a[i].delay_ns <= slack);
		assert_true(b[i].count >= a[i].count);
	}
}

/* A thread that sleeps on a pipe: it does not run between the readings,
 * so both paths give exactly the same numbers. */
static void *block_on_pipe(void *data)
{
	int *fds = data;
	char c;

	/* Run a little first, so that the counters are not all zero. */
	for (volatile int i = 0; i < 1000000; i++)
		;
	return read(fds[0], &c, 1) == 1 ? NULL : data;
}

static void test_paths_equal_on_sleeping_thread(void **state)
{
	g_autoptr(VsTaskstats) ts = NULL;
	g_autoptr(VsSys) sys = vs_sys_new(NULL);
	VsThreadCount a = { .pid = getpid() }, b;
	pthread_t thread;
	int fds[2];
	char path[64];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(vs_taskstats_open(&ts), 0);
	assert_int_equal(pthread_create(&thread, NULL, block_on_pipe, fds), 0);
	/* Wait until it sleeps in read(): its state in stat is S. */
	for (int i = 0; i < 1000; i++) {
		g_autofree char *text = NULL;
		GDir *dir;
		const char *name;

		dir = g_dir_open("/proc/self/task", 0, NULL);
		assert_non_null(dir);
		while ((name = g_dir_read_name(dir))) {
			pid_t tid = (pid_t)atoi(name);
			bool known = tid == getpid();

			for (int k = 0; k < N_THREADS; k++)
				known = known || tid == workers[k].tid;
			if (!known)
				a.tid = tid;
		}
		g_dir_close(dir);
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)a.tid);
		if (a.tid && g_file_get_contents(path, &text, NULL, NULL) && strstr(text, ") S "))
			break;
		g_usleep(1000);
	}
	assert_true(a.tid > 0);
	b = a;
	assert_int_equal(vs_taskstats_query(ts, &a, 1), 0);
	assert_int_equal(vs_schedstat_read_once(sys, &b), 0);
	assert_int_equal(a.error, 0);
	assert_true(a.run_ns > 0);
	assert_int_equal(a.run_ns, b.run_ns);
	assert_int_equal(a.delay_ns, b.delay_ns);
	assert_int_equal(a.count, b.count);

	/* Gone: ESRCH from both. pthread_join() returns when the kernel
	 * clears the TID, a moment before the task leaves /proc. */
	assert_int_equal(write(fds[1], "x", 1), 1);
	assert_int_equal(pthread_join(thread, NULL), 0);
	snprintf(path, sizeof(path), "/proc/self/task/%d", (int)a.tid);
	for (int i = 0; i < 1000 && g_file_test(path, G_FILE_TEST_EXISTS); i++)
		g_usleep(1000);
	assert_int_equal(vs_taskstats_query(ts, &a, 1), 0);
	assert_int_equal(a.error, -ESRCH);
	assert_int_equal(vs_schedstat_read_once(sys, &b), -ESRCH);
	close(fds[0]);
	close(fds[1]);
}

/* Held descriptors: one per thread, reused across reads, closed when the
 * thread is no longer read, replaced when the identity changes. */
static void test_schedstat_held(void **state)
{
	g_autoptr(VsSys) sys = vs_sys_new(NULL);
	g_autoptr(VsSchedstat) s = vs_schedstat_new(sys);
	VsThreadCount items[N_THREADS], again[N_THREADS];

	fill(items);
	for (int i = 0; i < N_THREADS; i++)
		assert_int_equal(vs_schedstat_read(s, &items[i]), 0);
	assert_int_equal(vs_schedstat_n_open(s), N_THREADS);
	assert_int_equal(vs_schedstat_sweep(s), 0);
	memcpy(again, items, sizeof(items));
	for (int i = 0; i < N_THREADS; i++) {
		assert_int_equal(vs_schedstat_read(s, &again[i]), 0);
		assert_true(again[i].run_ns >= items[i].run_ns);
	}
	/* Only two read this time: the others are closed by the sweep. */
	assert_int_equal(vs_schedstat_sweep(s), 0);
	assert_int_equal(vs_schedstat_read(s, &again[0]), 0);
	assert_int_equal(vs_schedstat_read(s, &again[1]), 0);
	assert_int_equal(vs_schedstat_sweep(s), N_THREADS - 2);
	assert_int_equal(vs_schedstat_n_open(s), 2);
	/* Kept for 3 sweeps (a thread read every third tick): one unread for
	 * two sweeps stays open, for three is closed. */
	vs_schedstat_set_keep(s, 3);
	assert_int_equal(vs_schedstat_read(s, &again[0]), 0);
	assert_int_equal(vs_schedstat_sweep(s), 0);
	assert_int_equal(vs_schedstat_sweep(s), 0);
	assert_int_equal(vs_schedstat_n_open(s), 2);
	assert_int_equal(vs_schedstat_sweep(s), 1);
	assert_int_equal(vs_schedstat_n_open(s), 1);
	vs_schedstat_set_keep(s, 1);
	assert_int_equal(vs_schedstat_read(s, &again[1]), 0);
	assert_int_equal(vs_schedstat_n_open(s), 2);
	/* Another identity for the same TID: a new descriptor, still one. */
	again[0].start_time++;
	assert_int_equal(vs_schedstat_read(s, &again[0]), 0);
	assert_int_equal(vs_schedstat_n_open(s), 2);
	/* A TID that does not exist. */
	again[2].tid = 0x3ffffff0;
	assert_int_equal(vs_schedstat_read(s, &again[2]), -ESRCH);
	assert_int_equal(vs_schedstat_n_open(s), 2);
}

/* The interface reads through taskstats here, and falls back to schedstat
 * on a fixture root. */
static void test_counters_interface(void **state)
{
	g_autoptr(VsSys) sys = vs_sys_new(NULL);
	g_autoptr(VsSys) fixture = vs_sys_new("/nonexistent-root");
	g_autoptr(VsThreadCounters) c = vs_thread_counters_new(sys, VS_COUNTERS_TASKSTATS);
	g_autoptr(VsThreadCounters) f = vs_thread_counters_new(fixture, VS_COUNTERS_TASKSTATS);
	VsThreadCount items[N_THREADS];

	assert_int_equal(vs_thread_counters_source(c), VS_COUNTERS_TASKSTATS);
	assert_null(vs_thread_counters_why(c));
	fill(items);
	assert_int_equal(vs_thread_counters_read(c, items, N_THREADS), N_THREADS);
	assert_int_equal(vs_thread_counters_source(f), VS_COUNTERS_SCHEDSTAT);
	assert_non_null(strstr(vs_thread_counters_why(f), "fixture root"));
	fill(items);
	assert_int_equal(vs_thread_counters_read(f, items, N_THREADS), 0);
	assert_int_equal(items[0].error, -ESRCH);
}

/* Many threads in one query: more than one batch. */
static void test_taskstats_batches(void **state)
{
	g_autoptr(VsTaskstats) ts = NULL;
	size_t n = 600;
	g_autofree VsThreadCount *items = g_new0(VsThreadCount, n);

	assert_int_equal(vs_taskstats_open(&ts), 0);
	for (size_t i = 0; i < n; i++) {
		/* The same live thread many times, and some gone ones. */
		items[i].pid = getpid();
		items[i].tid = i % 3 == 2 ? 0x3ffffff0 - (pid_t)i : workers[i % N_THREADS].tid;
	}
	assert_int_equal(vs_taskstats_query(ts, items, n), 0);
	for (size_t i = 0; i < n; i++) {
		if (i % 3 == 2)
			assert_int_equal(items[i].error, -ESRCH);
		else
			assert_int_equal(items[i].error, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_agree),
		cmocka_unit_test(test_schedstat_held),
		cmocka_unit_test(test_counters_interface),
		cmocka_unit_test(test_taskstats_batches),
		cmocka_unit_test(test_paths_equal_on_sleeping_thread),
	};
	g_autoptr(VsTaskstats) probe = NULL;
	int r;

	if (geteuid() != 0) {
		printf("SKIP: needs root\n");
		return 77;
	}
	r = vs_taskstats_open(&probe);
	if (r < 0) {
		printf("SKIP: taskstats unavailable: %s\n", g_strerror(-r));
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
