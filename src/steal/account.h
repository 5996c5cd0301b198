/* Steal accounting, the pure part: from successive samples of one vCPU
 * thread's counters (run time, run delay, the throttled time of its
 * cgroups, its deadline reservation) to per-interval figures split by
 * cause, and rolling windows of them (10 s, 1 min, 5 min).
 *
 * Steal is the vCPU thread's run delay: the time it was runnable while the
 * host ran something else, which KVM reports to the guest as steal. It is
 * split into
 *   reservation: time a SCHED_DEADLINE vCPU waited because its budget for
 *                the period was spent;
 *   cap:         time its cgroups' CPU bandwidth limit held it back;
 *   contention:  the rest, time other threads (other guests) had the CPU.
 * doc/steal.md derives the approximations and bounds their error.
 *
 * Counters are cumulative; a delta is taken only between two samples of
 * the same thread identity (TID and start time) whose counters did not go
 * back, at most VS_STEAL_MAX_GAP_US apart; otherwise the sample becomes the
 * new baseline and no delta is reported for that interval. A missing sample
 * yields nothing; the next one spans the gap. A delta is never negative and
 * never larger than the wall time between the samples: past the tolerance
 * (1 %) it is clamped and flagged.
 *
 * No I/O, no clock, no logging: callers pass the samples and their times. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The rolling windows. */
typedef enum {
	VS_STEAL_WINDOW_10S,
	VS_STEAL_WINDOW_1M,
	VS_STEAL_WINDOW_5M,
} VsStealWindow;
#define VS_STEAL_N_WINDOWS 3

/* How far a delta may exceed the wall time before it is flagged. */
#define VS_STEAL_TOLERANCE 0.01
/* Two samples further apart than this are not subtracted: the second
 * becomes a new baseline (the longest window). */
#define VS_STEAL_MAX_GAP_US (INT64_C(300) * 1000000)
/* A series keeps at most this many per-tick intervals (5 min of ticks at
 * 75 ms, 10 s at 2.5 ms); the windows count the older ones too. */
#define VS_STEAL_MAX_POINTS 4096

/* The window's length in µs. */
int64_t vs_steal_window_us(VsStealWindow w);
/* "10s", "1m", "5m"; a static string. */
const char *vs_steal_window_name(VsStealWindow w);
/* Parses "10s", "1m" or "5m" (also "60s", "300s", "1min", "5min");
 * returns false for anything else. */
bool vs_steal_window_parse(const char *name, VsStealWindow *ret);

/* One reading of a vCPU thread's counters at @mono_us. */
typedef struct VsStealSample {
	int64_t mono_us;              /* monotonic time of the reading */
	pid_t tid;
	uint64_t start_time;          /* the thread's start time (identity) */
	uint64_t run_ns;              /* cumulative run time */
	uint64_t delay_ns;            /* cumulative run delay */
	/* Cumulative throttled time of the vCPU's own cgroup and of the
	 * guest's cgroup(s) above it, up to the guest's directory (0 when the
	 * vCPU sits directly in the guest's cgroup). Valid when
	 * has_throttled; throttle_gen names the set of cgroups they were read
	 * from, so that a thread moved to other cgroups gives no cap delta. */
	bool has_throttled;
	uint64_t throttle_gen;
	uint64_t vcpu_throttled_ns;
	uint64_t guest_throttled_ns;
	/* SCHED_DEADLINE reservation of the thread at this reading; 0, 0 when
	 * it has none. */
	uint64_t reserved_runtime_ns;
	uint64_t reserved_period_ns;
	/* libvirt's vcpu.N.delay read in the same tick (cross-check). */
	bool has_libvirt;
	uint64_t libvirt_delay_ns;
	/* The CPU the vCPU is entitled to, in CPUs (0.5 = half a CPU), as the
	 * CPU planner computes it from weights, limits and reservations;
	 * negative when unknown. */
	double entitlement;
} VsStealSample;

/* Flags of an interval. */
typedef enum {
	VS_STEAL_CLAMPED = 1 << 0,     /* a delta exceeded the wall time past the tolerance */
	VS_STEAL_NO_THROTTLE = 1 << 1, /* no throttled time for this interval: cap is 0 */
} VsStealFlags;

/* The figures of one interval (a vCPU's), or of a sum of intervals (a
 * guest's tick, a window). Times in ns. */
typedef struct VsStealPoint {
	int64_t end_us;               /* monotonic time at the end of the interval */
	uint64_t span_ns;             /* wall time the interval covers */
	uint64_t wall_ns;             /* vCPU wall time: span times the vCPUs in it */
	uint64_t run_ns;
	uint64_t steal_ns;            /* = cap + reservation + contention */
	uint64_t cap_ns;
	uint64_t reservation_ns;
	uint64_t contention_ns;
	uint64_t entitled_wall_ns;    /* vCPU wall time with a known entitlement */
	uint64_t entitled_ns;         /* CPU time the entitlement promised in it */
	uint64_t deficit_ns;          /* promised, wanted (runnable) and not received */
	uint64_t libvirt_wall_ns;     /* vCPU wall time with a libvirt delay delta */
	uint64_t libvirt_delay_ns;    /* libvirt's delay over that time */
	uint64_t libvirt_ours_ns;     /* our delay over the same intervals, unclamped */
	guint n;                      /* intervals summed */
	guint clamped;                /* of which clamped */
	guint flags;                  /* VsStealFlags of a single interval */
} VsStealPoint;

/* Why a sample started a new baseline instead of giving a delta. */
typedef enum {
	VS_STEAL_DELTA,               /* no reset: a delta */
	VS_STEAL_RESET_FIRST,         /* no previous sample */
	VS_STEAL_RESET_TID,           /* another thread */
	VS_STEAL_RESET_START_TIME,    /* same TID, another thread (reuse) */
	VS_STEAL_RESET_DECREASE,      /* a counter went back */
	VS_STEAL_RESET_GAP,           /* too long since the previous sample */
	VS_STEAL_IGNORED,             /* not later than the previous sample: dropped */
} VsStealResult;

/* "first sample", "TID changed", ...; a static string. */
const char *vs_steal_result_name(VsStealResult r);

/* The interval from @prev (NULL: none) to @cur. Returns VS_STEAL_DELTA with
 * *@ret_point filled, or why there is none (then @cur is the new baseline,
 * except for VS_STEAL_IGNORED). */
VsStealResult vs_steal_delta(const VsStealSample *prev, const VsStealSample *cur,
			     VsStealPoint *ret_point);

/* Adds @p to @sum (all counts and times; end_us becomes the later one,
 * span_ns the larger one when @parallel, as for vCPUs of one tick, else
 * the sum, as for successive intervals). */
void vs_steal_point_add(VsStealPoint *sum, const VsStealPoint *p, bool parallel);

/* @part of @p's vCPU wall time, in percent (0 when it has none). */
double vs_steal_pct(uint64_t part, const VsStealPoint *p);

/* A series of intervals with rolling window sums. It keeps each interval
 * for the newest two 10 s buckets (10 to 20 s; longer when asked), older
 * ones only as the sum of their 10 s bucket (the intervals that ended in
 * (k * 10 s, (k + 1) * 10 s]) as far as the 1 min window reaches, and
 * beyond as the sum of their aligned 30 s group of buckets, for 5 min.
 * The 10 s window is exact; the 1 min and 5 min windows add the bucket
 * (or group) their start falls in pro rata (as if its intervals were
 * spread evenly over it): exact at a steady rate, and off by at most that
 * bucket's (10 s of 60) or group's (30 s of 300) share otherwise
 * (doc/steal.md).
 *
 * Stored compactly: each kept interval and bucket holds its times as
 * 32-bit multiples of a power of two ns chosen for its largest time (1 ns
 * up to 4.29 s, 4 ns for a vCPU's 10 s bucket), so that a per-tick point
 * reads back exactly at ticks up to 4 s and a bucket within a few ns; a
 * bucket's clamped count saturates at 65535. Storage grows with the
 * history actually kept: only buckets with intervals, and no more
 * per-tick points than are in the fine part. */
typedef struct VsStealSeries VsStealSeries;

/* A series keeping per-tick points for the newest two buckets; free with
 * vs_steal_series_free(). */
VsStealSeries *vs_steal_series_new(void);
/* A series keeping per-tick points for at least @fine_us too (at most
 * VS_STEAL_MAX_POINTS of them), for consumers that walk them further
 * back (conditions with a duration, the guest agent's cross-check). */
VsStealSeries *vs_steal_series_new_fine(int64_t fine_us);
void vs_steal_series_free(VsStealSeries *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsStealSeries, vs_steal_series_free)
/* Changes how long per-tick points are kept (as vs_steal_series_new_fine());
 * points already past a shorter time leave at the next push. */
void vs_steal_series_set_fine(VsStealSeries *s, int64_t fine_us);
/* Appends an interval, which must end later than the last one (else it is
 * dropped and false returned); intervals that ended more than the longest
 * window before it leave every window and the series. */
bool vs_steal_series_push(VsStealSeries *s, const VsStealPoint *p);
/* The sum of the intervals that ended within @w of the newest one (all
 * zero when there are none); its end is the newest interval's. */
VsStealPoint vs_steal_series_window(const VsStealSeries *s, VsStealWindow w);
/* The number of intervals kept, and the @i-th newest (0: the newest) into
 * *@ret (false, *@ret untouched, when there is none): the per-tick points,
 * then the older non-empty buckets as one summed interval each (its end
 * the last one's, its span the sum). O(1) for the per-tick points, O(32)
 * beyond. */
guint vs_steal_series_len(const VsStealSeries *s);
bool vs_steal_series_nth_newest(const VsStealSeries *s, guint i, VsStealPoint *ret);
/* The heap bytes the series holds (for the scale benchmark and the
 * tests). */
size_t vs_steal_series_bytes(const VsStealSeries *s);

/* One vCPU's tracker: its last sample and its series. */
typedef struct VsStealVcpu {
	bool has_last;
	VsStealSample last;
	VsStealSeries *series;
	VsStealResult last_result;
	uint64_t resets;              /* baselines after the first */
	uint64_t clamps;              /* clamped intervals */
	VsStealPoint total;           /* every interval since the first sample: counters */
} VsStealVcpu;

VsStealVcpu *vs_steal_vcpu_new(void);
void vs_steal_vcpu_free(VsStealVcpu *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsStealVcpu, vs_steal_vcpu_free)
/* Feeds a sample: computes the interval since the last one, appends it to
 * the series and copies it to @ret_point (may be NULL). Returns the result
 * of vs_steal_delta(). */
VsStealResult vs_steal_vcpu_feed(VsStealVcpu *v, const VsStealSample *s, VsStealPoint *ret_point);
