/* The kernel lab's gang proof (tests/lab/run-lab-cosched.sh boots it in a
 * VM whose kernel runs with cgroup_no_v1=all): what one guest-level
 * cpu.max window does to a guest's vCPUs (CoSchedule=gang without a
 * reservation, doc/coschedule.md).
 *
 * Two CPU-bound "vCPUs" (one process each, pinned to CPU 1 and CPU 2, the
 * second started GAP_NS after the first, as siblings rarely start at the
 * same instant) record the windows in which they run: a spin loop reading
 * CLOCK_MONOTONIC, where a jump of more than GAP_THRESHOLD_NS is time the
 * thread did not run (throttled: about 80 ms a period here). Shorter jumps
 * are not counted: under TCG on a busy host the VM's own CPUs are
 * descheduled for ms at a time. Two arrangements, MEASURE_NS each:
 *  separate: each vCPU in a cgroup of its own with cpu.max 20 ms / 100 ms;
 *  gang:     both in one cgroup with cpu.max 40 ms / 100 ms (the same CPU
 *            in all; the group is throttled as a whole, and all its CPUs
 *            are unthrottled together when the period refills).
 * For each it prints the run time of each vCPU, their overlap (the time
 * both ran over the time either ran; short of 1 even when aligned, as the
 * two rarely run equally long in a period) and how far apart they resume
 * after a throttled gap (the median distance from a window start of vcpu1
 * to the nearest of vcpu0), which is the benchmark figure
 * (doc/benchmarks.md). The kernel arms every cgroup's period timer on the
 * grid of multiples of its period (hrtimer_forward_now() from expiry 0),
 * so equal periods resume together in both arrangements; what the one
 * window adds is one quota for the guest, used up and refilled for all its
 * vCPUs at once. The offsets are printed, not checked: under TCG on a busy
 * host the VM's own CPUs are descheduled for tens of ms while its clock
 * runs on, which blurs them (TESTING.md: timing belongs in benchmarks).
 * Checked is the behaviour: in each arrangement each vCPU was throttled
 * (at least MIN_WINDOWS run windows) and the vCPUs used no more than their
 * quota (QUOTA_MARGIN). Ends with
 * "LAB-COSCHED-RESULT: PASS" or "LAB-COSCHED-RESULT: FAIL <why>". */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/sys.h"

#define ROOT "/sys/fs/cgroup"
#define MEASURE_NS (3 * G_GINT64_CONSTANT(1000000000))
#define GAP_NS (50 * G_GINT64_CONSTANT(1000000))
#define GAP_THRESHOLD_NS (30 * G_GINT64_CONSTANT(1000000))
#define MAX_WINDOWS 4096
/* Throttled in at least this many of the 30 periods of a run. */
#define MIN_WINDOWS 10
/* What a run may use: 20 % of MEASURE_NS per vCPU (separate), 40 % for
 * both (gang), with 10 % margin. */
#define QUOTA_MARGIN 1.1

/* The run windows one vCPU recorded, in shared memory. */
typedef struct Windows {
	guint n;
	bool overflow;
	int64_t start[MAX_WINDOWS];
	int64_t end[MAX_WINDOWS];
} Windows;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The vCPU: spins on @cpu until @until_ns, recording when it ran. */
static G_GNUC_NORETURN void vcpu_main(int cpu, int64_t until_ns, Windows *w)
{
	cpu_set_t set;
	int64_t last, t;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		_exit(2);
	last = now_ns();
	w->start[0] = last;
	w->n = 1;
	while ((t = now_ns()) < until_ns) {
		if (t - last > GAP_THRESHOLD_NS) {
			w->end[w->n - 1] = last;
			if (w->n == MAX_WINDOWS) {
				w->overflow = true;
				_exit(0);
			}
			w->start[w->n++] = t;
		}
		last = t;
	}
	w->end[w->n - 1] = last;
	_exit(0);
}

static double total(const Windows *w)
{
	int64_t sum = 0;

	for (guint i = 0; i < w->n; i++)
		sum += w->end[i] - w->start[i];
	return (double)sum / 1e9;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median, over @b's windows after its first, of the distance from the
 * window's start to the nearest start of a window of @a, in ms: how far
 * apart the two resume after a throttled gap. */
static double start_offset_ms(const Windows *a, const Windows *b)
{
	g_autofree int64_t *d = g_new0(int64_t, MAX(b->n, 1));
	guint n = 0;

	for (guint j = 1; j < b->n; j++) {
		int64_t best = G_MAXINT64;

		for (guint i = 0; i < a->n; i++)
			best = MIN(best, ABS(b->start[j] - a->start[i]));
		d[n++] = best;
	}
	if (n == 0)
		return -1;
	qsort(d, n, sizeof(*d), cmp_i64);
	return (double)d[n / 2] / 1e6;
}

/* Seconds during which both ran (the windows are sorted). */
static double both(const Windows *a, const Windows *b)
{
	int64_t sum = 0;
	guint i = 0, j = 0;

	while (i < a->n && j < b->n) {
		int64_t lo = MAX(a->start[i], b->start[j]);
		int64_t hi = MIN(a->end[i], b->end[j]);

		if (hi > lo)
			sum += hi - lo;
		if (a->end[i] < b->end[j])
			i++;
		else
			j++;
	}
	return (double)sum / 1e9;
}

static bool write_file(VsSys *sys, const char *path, const char *value, GString *why)
{
	int r = vs_sys_write(sys, path, value);

	if (r < 0)
		g_string_append_printf(why, "%swrite %s to %s: %s", why->len ? "; " : "", value,
				       path, g_strerror(-r));
	return r >= 0;
}

/* Runs the two vCPUs in cgroups @dir_a and @dir_b (the same for gang) and
 * returns their overlap; prints the figures under @label. */
static bool run(VsSys *sys, const char *label, const char *dir_a, const char *dir_b,
		double quota_s, GString *why, double *ret_overlap, double *ret_offset)
{
	Windows *w = mmap(NULL, 2 * sizeof(Windows), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	const char *dirs[2] = { dir_a, dir_b };
	int64_t until = now_ns() + GAP_NS + MEASURE_NS;
	pid_t pids[2];
	double ta, tb, tboth;
	bool ok = true;

	if (w == MAP_FAILED) {
		g_string_append_printf(why, "%smmap: %s", why->len ? "; " : "", g_strerror(errno));
		return false;
	}
	memset(w, 0, 2 * sizeof(Windows));
	for (int i = 0; i < 2; i++) {
		g_autofree char *procs = g_strdup_printf("%s/cgroup.procs", dirs[i]);
		g_autofree char *pid_text = NULL;

		if (i == 1)
			g_usleep(GAP_NS / 1000);
		pids[i] = fork();
		if (pids[i] == 0) {
			/* Wait to be moved, then spin. */
			raise(SIGSTOP);
			vcpu_main(1 + i, until, &w[i]);
		}
		waitpid(pids[i], NULL, WUNTRACED);
		pid_text = g_strdup_printf("%d", (int)pids[i]);
		ok &= write_file(sys, procs, pid_text, why);
		kill(pids[i], SIGCONT);
	}
	for (int i = 0; i < 2; i++) {
		int status = 0;

		waitpid(pids[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || w[i].overflow) {
			g_string_append_printf(why, "%s%s: vCPU %d failed", why->len ? "; " : "",
					       label, i);
			ok = false;
		}
	}
	ta = total(&w[0]);
	tb = total(&w[1]);
	tboth = both(&w[0], &w[1]);
	*ret_overlap = ta + tb - tboth > 0 ? tboth / (ta + tb - tboth) : 0;
	*ret_offset = start_offset_ms(&w[0], &w[1]);
	printf("LAB-COSCHED: %s: vcpu0 ran %.3f s in %u windows, vcpu1 %.3f s in %u windows, "
	       "both %.3f s: overlap %.2f; vcpu1 resumes %.1f ms from vcpu0 (median)\n", label,
	       ta, w[0].n, tb, w[1].n, tboth, *ret_overlap, *ret_offset);
	for (int i = 0; i < 2; i++)
		if (w[i].n < MIN_WINDOWS) {
			g_string_append_printf(why, "%s%s: vcpu%d ran in %u windows: not throttled "
					       "(want at least %d)", why->len ? "; " : "", label, i,
					       w[i].n, MIN_WINDOWS);
			ok = false;
		}
	if ((dir_a == dir_b ? ta + tb : MAX(ta, tb)) > quota_s * QUOTA_MARGIN) {
		g_string_append_printf(why, "%s%s: ran %.3f s, more than the quota's %.3f s",
				       why->len ? "; " : "", label,
				       dir_a == dir_b ? ta + tb : MAX(ta, tb), quota_s);
		ok = false;
	}
	munmap(w, 2 * sizeof(Windows));
	return ok;
}

int main(void)
{
	VsSys *sys = vs_sys_new(NULL);
	GString *why = g_string_new(NULL);
	const char *dirs[] = { ROOT "/sep-a", ROOT "/sep-b", ROOT "/gang" };
	double sep = 0, gang = 0, sep_off = 0, gang_off = 0;
	bool pass;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sysconf(_SC_NPROCESSORS_ONLN) < 3)
		g_string_append(why, "needs 3 CPUs online");
	else if (write_file(sys, ROOT "/cgroup.subtree_control", "+cpu", why)) {
		for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++)
			if (mkdir(dirs[i], 0755) < 0 && errno != EEXIST)
				g_string_append_printf(why, "%smkdir %s: %s", why->len ? "; " : "",
						       dirs[i], g_strerror(errno));
		if (why->len == 0 &&
		    write_file(sys, ROOT "/sep-a/cpu.max", "20000 100000", why) &&
		    write_file(sys, ROOT "/sep-b/cpu.max", "20000 100000", why) &&
		    write_file(sys, ROOT "/gang/cpu.max", "40000 100000", why) &&
		    run(sys, "separate (cpu.max 20ms/100ms each)", dirs[0], dirs[1],
			0.2 * (double)MEASURE_NS / 1e9, why, &sep, &sep_off) &&
		    run(sys, "gang (one cpu.max 40ms/100ms)", dirs[2], dirs[2],
			0.4 * (double)MEASURE_NS / 1e9, why, &gang, &gang_off))
			printf("LAB-COSCHED: BENCH resume offset gang %.1f ms vs separate %.1f ms; "
			       "window overlap gang %.2f vs separate %.2f\n", gang_off, sep_off, gang,
			       sep);
		for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++)
			rmdir(dirs[i]);
	}
	pass = why->len == 0;
	if (pass)
		printf("LAB-COSCHED-RESULT: PASS\n");
	else
		printf("LAB-COSCHED-RESULT: FAIL %s\n", why->str);
	g_string_free(why, TRUE);
	vs_sys_free(sys);
	return pass ? 0 : 1;
}
