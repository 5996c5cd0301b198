/* The guest's own view of its steal, the pure part: the guest agent's
 * reply to guest-get-cpustats (per guest CPU, cumulative milliseconds, as
 * the guest kernel's /proc/stat counts them) parsed and checked, successive
 * replies turned into intervals of guest-reported steal next to the steal
 * the host accounted for the guest over the same interval, windows of
 * those intervals, and the verdict of the comparison.
 *
 * Guest figures are untrusted input: a reply that is not the documented
 * shape is rejected whole with the place named; between two replies a
 * counter that went back (a guest reboot, a CPU taken offline and back, a
 * lying guest) gives no interval and starts a new baseline, and a CPU's
 * steal beyond the wall time between the replies is clamped to it and
 * flagged, so a guest can never show more steal than its CPUs had time.
 *
 * The verdict over a window, with T the tolerance (GuestTolerance=, points
 * of the vCPUs' wall time):
 *   agree:         |host − guest| <= T;
 *   no steal clock: the guest reported exactly zero steal over the whole
 *                  window while the host saw more than T: the guest kernel
 *                  has no paravirtual steal clock (KVM's steal-time MSR;
 *                  a TCG guest never has one), which is not a mismatch;
 *   mismatch:      otherwise;
 *   unavailable:   no interval in the window.
 *
 * No I/O, no clock, no logging. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "steal/account.h"

/* The longest reply accepted, and the most CPUs in it. */
#define VS_STEAL_GUEST_MAX_REPLY (1024 * 1024)
#define VS_STEAL_GUEST_MAX_CPUS 4096

/* One guest CPU's counters, in ms since the guest booted. */
typedef struct VsStealGuestCpu {
	guint cpu;
	bool has_steal;               /* the guest kernel reports a steal column */
	uint64_t steal_ms;
	uint64_t total_ms;            /* every state, steal included */
} VsStealGuestCpu;

/* One reply, taken at @mono_us (host monotonic time). */
typedef struct VsStealGuestSample {
	int64_t mono_us;
	GArray *cpus;                 /* VsStealGuestCpu, ascending cpu */
} VsStealGuestSample;

void vs_steal_guest_sample_free(VsStealGuestSample *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsStealGuestSample, vs_steal_guest_sample_free)

/* Parses the agent's reply to {"execute": "guest-get-cpustats"}
 * ({"return": [{"type": "linux", "cpu": 0, "user": ..., "steal": ...}, ...]})
 * taken at @mono_us. Returns 0 and a new sample in *ret_sample, or -EINVAL
 * with @error (VS_ERROR_INVALID) naming the place ("entry 2: \"cpu\" is not
 * a number"); entries of another type than Linux's are -ENOTSUP. */
int vs_steal_guest_parse(const char *reply, int64_t mono_us, VsStealGuestSample **ret_sample,
			 GError **error);

/* Flags of a guest interval. */
typedef enum {
	VS_STEAL_GUEST_CLAMPED = 1 << 0,  /* a CPU's steal exceeded the wall time */
	VS_STEAL_GUEST_NO_COLUMN = 1 << 1, /* some CPU reported no steal column */
} VsStealGuestFlags;

/* Why two replies gave no interval. */
typedef enum {
	VS_STEAL_GUEST_DELTA,
	VS_STEAL_GUEST_RESET_FIRST,     /* no earlier reply */
	VS_STEAL_GUEST_RESET_BACK,      /* a counter went back */
	VS_STEAL_GUEST_RESET_CPUS,      /* the set of CPUs changed */
	VS_STEAL_GUEST_RESET_GAP,       /* too long since the previous reply */
	VS_STEAL_GUEST_IGNORED,         /* not later than the previous reply */
} VsStealGuestResult;

/* "first reply", "a counter went back", ...; a static string. */
const char *vs_steal_guest_result_name(VsStealGuestResult r);

/* One interval between two replies, or a window's sum of them. Times ns. */
typedef struct VsStealGuestPoint {
	int64_t end_us;
	uint64_t span_ns;             /* wall time */
	uint64_t guest_wall_ns;       /* span times the guest's CPUs */
	uint64_t guest_steal_ns;      /* what the guest reported, clamped */
	uint64_t host_wall_ns;        /* vCPU wall time of the host's intervals in it */
	uint64_t host_steal_ns;       /* the host's steal over them */
	guint n;
	guint clamped;                /* intervals with VS_STEAL_GUEST_CLAMPED */
	guint flags;
} VsStealGuestPoint;

/* The interval from @prev to @cur (guest side only: host_* zero). Returns
 * VS_STEAL_GUEST_DELTA and fills *@ret_point, or why there is none (then
 * @cur is the new baseline, except for VS_STEAL_GUEST_IGNORED). Each CPU's
 * steal is clamped to the span (plus VS_STEAL_TOLERANCE), one CPU's ms
 * rounding allowed. */
VsStealGuestResult vs_steal_guest_delta(const VsStealGuestSample *prev,
					const VsStealGuestSample *cur,
					VsStealGuestPoint *ret_point);

/* Adds to @p the host's steal over the same time: the sum of the host
 * intervals of @host (a guest's series) that ended after @p's start and
 * no later than its end. */
void vs_steal_guest_add_host(VsStealGuestPoint *p, const VsStealSeries *host);

/* The verdicts. */
typedef enum {
	VS_STEAL_GUEST_UNAVAILABLE,
	VS_STEAL_GUEST_AGREE,
	VS_STEAL_GUEST_NO_STEAL_CLOCK,
	VS_STEAL_GUEST_MISMATCH,
} VsStealGuestVerdict;

/* "unavailable", "agree", "no steal clock", "mismatch"; a static string. */
const char *vs_steal_guest_verdict_name(VsStealGuestVerdict v);

/* The verdict on the window sum @w with @tolerance_pct (see above). */
VsStealGuestVerdict vs_steal_guest_verdict(const VsStealGuestPoint *w, double tolerance_pct);

/* The guest's and the host's steal of @w in percent of their wall time
 * (0 when none). */
double vs_steal_guest_pct(const VsStealGuestPoint *w);
double vs_steal_guest_host_pct(const VsStealGuestPoint *w);

/* A guest's agent intervals with window sums (10 s, 1 min, 5 min, as the
 * host's). */
typedef struct VsStealGuestSeries VsStealGuestSeries;

VsStealGuestSeries *vs_steal_guest_series_new(void);
void vs_steal_guest_series_free(VsStealGuestSeries *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsStealGuestSeries, vs_steal_guest_series_free)
/* Appends an interval, which must end later than the last one (else false);
 * those that ended more than 5 min before it are dropped. */
bool vs_steal_guest_series_push(VsStealGuestSeries *s, const VsStealGuestPoint *p);
/* The sum over the intervals that ended within @w of the newest one. */
VsStealGuestPoint vs_steal_guest_series_window(const VsStealGuestSeries *s, VsStealWindow w);
