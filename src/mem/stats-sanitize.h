/* Guest balloon statistics as untrusted input: freshness (last-update),
 * impossible values (a guest size above the maximum, free memory above the
 * size, counters going backwards, values that look like negative numbers
 * wrapped), inconsistent combinations; clamped and flagged with a reason.
 * The result says whether the guest's use is trustworthy enough for the
 * planner to reclaim down to it; untrusted figures never lower a guest's
 * bound (mem/plan.h). Pure. */
#pragma once

#include <stdint.h>

#include "mem/mem.h"
#include "virt/domain.h"

/* Values at or above this are treated as wrapped negative numbers. */
#define VS_MEM_STATS_WRAP (UINT64_C(1) << 62)

/* Sanitizes @raw (libvirt's balloon.* of the domain, whose balloon size is
 * @current and maximum @maximum) at @now_mono_us / @now_wall_s, with
 * statistics period @period_us, against the guest's previous result @prev
 * (NULL the first time). Fills @ret (always; nothing to fail). */
void vs_mem_stats_sanitize(const VsBalloonStats *raw, uint64_t current, uint64_t maximum,
			   const VsMemStats *prev, int64_t now_mono_us, int64_t now_wall_s,
			   int64_t period_us, VsMemStats *ret);
