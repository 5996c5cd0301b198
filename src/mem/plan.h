/* The balloon target planner: from the host's memory state, the budget and
 * each guest's balloon, sanitized statistics and [Memory] policy, the target
 * of every guest with the sentences that explain it. Pure: no I/O, no clock
 * (the caller passes the time), no logging.
 *
 * Under pressure (or over the budget) it reclaims first from the guests with
 * the lowest shares per actively used page, idle memory counted with the
 * idle tax; never below Floor=, never below used + Margin; without
 * trustworthy statistics never below the larger of Floor= and the last
 * trusted used + Margin. Without pressure it gives memory back, first to the
 * guests that are short. Changes are limited per guest (MaxStepPerSecond=)
 * and per host (MemoryHostStepPerSecond=), both times
 * MemoryCriticalStepFactor= in the critical state; changes smaller than
 * MemoryMinChange= are skipped unless they reach a bound.
 *
 * An override (`vschedctl setmem`) wins over the pressure state and the
 * budget and may go below Floor= (the operator asked for it), but never
 * below used + Margin when the guest's use is known, and never above the
 * maximum; it still moves at the guest's rate. A guest marked not following
 * (no balloon driver, stuck) and a guest with Balloon=no are held where they
 * are and left out of reclaim; what they would have given is taken from the
 * others, and their reasons say so. doc/memory.md has the details. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "mem/mem.h"

typedef struct VsMemPlanInput {
	int64_t now_us;               /* monotonic */
	int64_t last_plan_us;         /* the previous plan's now_us; 0 for the first */
	VsMemState state;             /* from the pressure state machine */
	uint64_t mem_total;           /* host MemTotal */
	uint64_t mem_available;       /* host MemAvailable */
	const VsMemConf *conf;
	const VsMemGuest *guests;     /* running guests */
	guint n_guests;
} VsMemPlanInput;

typedef struct VsMemPlan {
	VsMemState state;
	uint64_t reclaim_goal;        /* bytes the host wanted back from the guests this tick */
	uint64_t give_goal;           /* bytes the host could give back this tick */
	uint64_t reclaimed;           /* sum of the planned shrinks */
	uint64_t given;               /* sum of the planned grows */
	uint64_t targets_sum;         /* sum of all managed guests' targets */
	char *summary;                /* one sentence on the host side of the plan */
	GArray *decisions;            /* VsMemDecision, in the order of the input guests */
} VsMemPlan;

/* Plans one tick. Returns 0 and a new plan in @ret_plan (free with
 * vs_mem_plan_free()), or -EINVAL when @in is unusable (no conf, guests
 * without an array); @ret_plan is untouched then. */
int vs_mem_plan(const VsMemPlanInput *in, VsMemPlan **ret_plan);

/* The bounds of @g's target: @ret_low the least target (for @for_override:
 * used + Margin when the use is known, else Floor=, else 0; otherwise also
 * at least Floor=, and without trustworthy statistics the last trusted
 * used + Margin, or the current size when none is known and Floor= is
 * unset), @ret_high the maximum. Writes a sentence on what sets the lower
 * bound to @why (at least 128 bytes). For the planner and for checking
 * `vschedctl setmem` before accepting it. */
void vs_mem_plan_bounds(const VsMemGuest *g, bool for_override, uint64_t *ret_low,
			uint64_t *ret_high, char *why, size_t why_size);

/* The decision for the guest @uuid in @plan, or NULL. */
const VsMemDecision *vs_mem_plan_find(const VsMemPlan *plan, const char *uuid);

void vs_mem_plan_free(VsMemPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsMemPlan, vs_mem_plan_free)
