/* Progress skew between the vCPUs of one guest, from the per-vCPU
 * intervals the steal collector already keeps (steal/account.h: run time
 * and run delay per tick, per vCPU thread). Pure: no I/O, no clock.
 *
 * Over a window W (VS_SKEW_WINDOW_US, ending at the caller's "now"), a
 * vCPU with run time R and run delay D was idle for I = W − R − D. As in
 * ESX's relaxed co-scheduling, idle counts as progress: a vCPU that did not
 * want the CPU is not behind. So its progress is R + I = W − D, and a vCPU
 * lags its siblings by the run delay it had beyond theirs: the time it
 * wanted the CPU and did not get it while they did (or did not need it).
 * For two busy vCPUs (I = 0) this is exactly the difference of their run
 * times. The guest's skew is the largest lag:
 *
 *     skew = max_i D_i − min_i D_i        (D_i scaled to W, see below)
 *
 * A vCPU counts when its intervals in the window cover at least half of it
 * (a vCPU whose thread is new, replaced (TID reuse) or just hot-added has
 * no interval yet, the collector having taken its first sample as a
 * baseline); its D is scaled to W, so that a vCPU whose interval spans a
 * missed tick is compared at the same rate. Fewer than two counted vCPUs:
 * no skew (valid is false). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "steal/account.h"

/* The window over which the skew is measured. */
#define VS_SKEW_WINDOW_US (INT64_C(1000000))

/* One vCPU to compare: its index and the collector's series of its
 * intervals (NULL when it has none). */
typedef struct VsSkewVcpuIn {
	guint index;
	const VsStealSeries *series;
} VsSkewVcpuIn;

/* One vCPU's figures over the window. */
typedef struct VsSkewVcpu {
	guint index;
	bool counted;          /* its intervals cover at least half the window */
	uint64_t span_ns;      /* wall time its intervals cover */
	uint64_t run_ns;
	uint64_t delay_ns;
	uint64_t lag_ns;       /* its delay (scaled to the window) beyond the least delayed's */
} VsSkewVcpu;

/* The guest's skew over the window. */
typedef struct VsSkew {
	bool valid;            /* at least two vCPUs counted */
	int64_t end_us;        /* the window's end (the caller's now) */
	uint64_t window_ns;
	uint64_t skew_ns;      /* the largest lag */
	guint counted;
	guint leader;          /* index of the least delayed vCPU (valid only) */
	guint laggard;         /* index of the most delayed vCPU (valid only) */
} VsSkew;

/* Measures the skew of the @n vCPUs @in over the @window_us ending at
 * @now_us (monotonic, as the intervals' end_us): an interval counts when it
 * ends within the window. Fills @ret_vcpus (n entries, in @in's order) and
 * *@ret. */
void vs_skew_measure(const VsSkewVcpuIn *in, guint n, int64_t now_us, int64_t window_us,
		     VsSkewVcpu *ret_vcpus, VsSkew *ret);

/* The largest skew of the last minute of one guest: a short history of
 * (end, skew) pairs. */
typedef struct VsSkewHistory VsSkewHistory;

/* The history's length. */
#define VS_SKEW_HISTORY_US (INT64_C(60) * 1000000)

/* An empty history; free with vs_skew_history_free(). */
VsSkewHistory *vs_skew_history_new(void);
void vs_skew_history_free(VsSkewHistory *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsSkewHistory, vs_skew_history_free)
/* Adds a valid measurement and forgets those that ended more than
 * VS_SKEW_HISTORY_US before it; an invalid one only ages the others. */
void vs_skew_history_add(VsSkewHistory *h, const VsSkew *s);
/* The largest skew kept (0 when none), and how many measurements it is of. */
uint64_t vs_skew_history_max(const VsSkewHistory *h, guint *ret_n);
