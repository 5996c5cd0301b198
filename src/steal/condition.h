/* Policy conditions over steal figures: "steal.contention>20% for 30s"
 * (VsCondition, parsed by src/policy/) evaluated on a series of intervals
 * (steal/account.h), as [Steal] Alert= and the planners that react to steal
 * (rebalance, hotplug) use them. Pure.
 *
 * A condition holds when every interval of the series that ended within
 * the last `for` duration (counted back from the newest interval's end)
 * satisfies the comparison, and those intervals cover that whole duration
 * without a hole: a series that starts later, or has a reset (an interval
 * for which no delta was taken) inside the duration, does not hold yet.
 * With "for 0" only the newest interval counts. An empty series never
 * holds. Each interval's figure is the metric's share of its vCPU wall
 * time, in percent (for a guest: the mean over its vCPUs). */
#pragma once

#include <stdbool.h>

#include "policy/policy.h"
#include "steal/account.h"

/* The metric @m of the interval (or sum) @p, in percent of its vCPU wall
 * time: steal, steal.contention, steal.cap, steal.reservation, cpu (run). */
double vs_condition_metric(const VsStealPoint *p, VsMetric m);

/* Whether @value compares to @threshold as @cmp says (@value > @threshold
 * for VS_CMP_GT, ...). */
bool vs_condition_compare(VsCmp cmp, double value, double threshold);

/* Whether @c holds on @series at its newest interval (see above). */
bool vs_condition_holds(const VsCondition *c, const VsStealSeries *series);

/* The longest duration of the conditions @eff puts to use, in µs (0 when
 * none): every condition key with a value, except in a section whose
 * Enable= is off (the hotplug conditions of a guest without hotplug). How
 * long a guest's series keeps per-tick points. */
int64_t vs_condition_longest(const VsEffectivePolicy *eff);

/* The shortest duration of the conditions @eff puts to use (the same ones
 * as vs_condition_longest()), in µs, or -1 when none: the steal collector
 * reads a guest every tick while a condition is short against its
 * sampling interval (steal/collector.h). */
int64_t vs_condition_shortest(const VsEffectivePolicy *eff);
