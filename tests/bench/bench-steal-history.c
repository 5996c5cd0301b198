/* Benchmark of the steal history's memory in steady state (issue 8 scale):
 * 1000 guests of 8 vCPUs fed 330 s of 1 s ticks — every window, bucket
 * and kept point full, which the daemon's scale benchmark cannot reach on
 * a loaded machine — through the same calls as the collector
 * (vs_steal_vcpu_feed() per vCPU, one guest interval per tick pushed to
 * the guest's series). Prints the heap the histories hold (mallinfo2's
 * bytes in use, before and after, so malloc's own overhead counts), per
 * vCPU, and the process's VmRSS growth; then the CPU time per vCPU and
 * tick of feeding. The guests' series keep their per-tick points for the
 * time given as the first argument in seconds (default 5, the guest
 * agent's interval, which is what the daemon keeps when no condition of
 * the policy is in use; 300 is what every guest kept before).
 *
 * Only vs_steal_vcpu_new/feed and vs_steal_series_new_fine/push are used,
 * so that the same file builds against older trees for before/after
 * figures. Figures are recorded in doc/benchmarks.md. */
#include "config.h"

#include "steal/account.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_GUESTS 1000
#define N_VCPUS 8
#define TICKS 330
#define TICK_US (INT64_C(1000000))

/* VmRSS of this process in KiB, or 0. */
static long vm_rss_kib(void)
{
	g_autofree char *text = NULL;
	const char *line;

	if (!g_file_get_contents("/proc/self/status", &text, NULL, NULL))
		return 0;
	line = strstr(text, "\nVmRSS:");
	return line ? strtol(line + 7, NULL, 10) : 0;
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int64_t fine_us = (argc > 1 ? atoll(argv[1]) : 5) * TICK_US;
	VsStealVcpu **vcpus = g_new0(VsStealVcpu *, N_GUESTS * N_VCPUS);
	VsStealSeries **guests = g_new0(VsStealSeries *, N_GUESTS);
	size_t heap0 = mallinfo2().uordblks, heap1;
	long rss0 = vm_rss_kib(), rss1;
	double cpu0, cpu = 0;

	for (guint g = 0; g < N_GUESTS; g++) {
		guests[g] = vs_steal_series_new_fine(fine_us);
		for (guint v = 0; v < N_VCPUS; v++)
			vcpus[g * N_VCPUS + v] = vs_steal_vcpu_new();
	}
	for (int t = 0; t <= TICKS; t++) {
		cpu0 = cpu_seconds();
		for (guint g = 0; g < N_GUESTS; g++) {
			VsStealPoint sum = { 0 };

			for (guint v = 0; v < N_VCPUS; v++) {
				guint i = g * N_VCPUS + v;
				/* Some run, some delay, varying by vCPU and tick. */
				VsStealSample s = {
					.mono_us = t * TICK_US + 1000 + g,
					.tid = (pid_t)(1000 + i),
					.start_time = 5,
					.run_ns = (uint64_t)t * (300000000 + (i % 97) * 1000000),
					.delay_ns = (uint64_t)t * (20000000 + ((i + (guint)t) % 13) * 1000000),
					.entitlement = 0.5,
				};
				VsStealPoint p;

				if (vs_steal_vcpu_feed(vcpus[i], &s, &p) == VS_STEAL_DELTA)
					vs_steal_point_add(&sum, &p, true);
			}
			if (sum.n)
				vs_steal_series_push(guests[g], &sum);
		}
		cpu += cpu_seconds() - cpu0;
	}
	heap1 = mallinfo2().uordblks;
	rss1 = vm_rss_kib();
	printf("steal history: %d guests x %d vCPUs after %d s of 1 s ticks, guests' per-tick "
	       "points kept %lld s\n",
	       N_GUESTS, N_VCPUS, TICKS, (long long)(fine_us / TICK_US));
	printf("heap held: %.1f MiB (%.0f bytes per vCPU, its guest's share included); "
	       "VmRSS grew %.1f MiB\n",
	       (double)(heap1 - heap0) / (1024 * 1024),
	       (double)(heap1 - heap0) / (N_GUESTS * N_VCPUS), (double)(rss1 - rss0) / 1024);
	printf("feeding: %.3f us CPU per vCPU per tick (the guest's push included)\n",
	       cpu * 1e6 / ((double)(TICKS + 1) * N_GUESTS * N_VCPUS));
	for (guint g = 0; g < N_GUESTS; g++) {
		vs_steal_series_free(guests[g]);
		for (guint v = 0; v < N_VCPUS; v++)
			vs_steal_vcpu_free(vcpus[g * N_VCPUS + v]);
	}
	g_free(guests);
	g_free(vcpus);
	return 0;
}
