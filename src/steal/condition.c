/* Steal conditions; see condition.h. */
#include "config.h"

#include "steal/condition.h"

/* Two intervals are contiguous when the older one ends where the newer one
 * starts, within this slack (all intervals of a tick end at the tick's
 * time, so in practice they match exactly). */
#define CONTIGUITY_SLACK_US 1000

double vs_condition_metric(const VsStealPoint *p, VsMetric m)
{
	switch (m) {
	case VS_METRIC_STEAL:
		return vs_steal_pct(p->steal_ns, p);
	case VS_METRIC_STEAL_CONTENTION:
		return vs_steal_pct(p->contention_ns, p);
	case VS_METRIC_STEAL_CAP:
		return vs_steal_pct(p->cap_ns, p);
	case VS_METRIC_STEAL_RESERVATION:
		return vs_steal_pct(p->reservation_ns, p);
	case VS_METRIC_CPU:
		return vs_steal_pct(p->run_ns, p);
	}
	return 0.0;
}

bool vs_condition_compare(VsCmp cmp, double value, double threshold)
{
	switch (cmp) {
	case VS_CMP_GT:
		return value > threshold;
	case VS_CMP_GE:
		return value >= threshold;
	case VS_CMP_LT:
		return value < threshold;
	case VS_CMP_LE:
		return value <= threshold;
	}
	return false;
}

bool vs_condition_holds(const VsCondition *c, const VsStealSeries *series)
{
	VsStealPoint p;
	int64_t since;

	if (!vs_steal_series_nth_newest(series, 0, &p))
		return false;
	since = p.end_us - c->for_us;
	for (guint i = 1;; i++) {
		int64_t start;

		if (!vs_condition_compare(c->cmp, vs_condition_metric(&p, c->metric), c->threshold))
			return false;
		start = p.end_us - (int64_t)(p.span_ns / 1000);
		if (start <= since)
			return true;
		/* The next older interval must end where this one starts. */
		if (!vs_steal_series_nth_newest(series, i, &p) ||
		    p.end_us < start - CONTIGUITY_SLACK_US)
			return false;
	}
}

/* The shortest and longest duration of the conditions @eff puts to use
 * (see condition.h); false when it puts none to use. */
static bool durations(const VsEffectivePolicy *eff, int64_t *ret_shortest, int64_t *ret_longest)
{
	int64_t shortest = 0, longest = 0;
	bool any = false;

	for (guint i = 0; i < eff->entries->len; i++) {
		const VsEffectiveEntry *e = &g_array_index(eff->entries, VsEffectiveEntry, i);
		const VsEffectiveEntry *enable;

		if (!e->value || e->value->type != VS_PTYPE_CONDITION)
			continue;
		enable = vs_effective_get(eff, e->key->section, "Enable");
		if (enable && (!enable->value || enable->value->type != VS_PTYPE_BOOL ||
			       !enable->value->b))
			continue;
		shortest = any ? MIN(shortest, e->value->cond.for_us) : e->value->cond.for_us;
		longest = MAX(longest, e->value->cond.for_us);
		any = true;
	}
	*ret_shortest = shortest;
	*ret_longest = longest;
	return any;
}

int64_t vs_condition_longest(const VsEffectivePolicy *eff)
{
	int64_t shortest, longest;

	durations(eff, &shortest, &longest);
	return longest;
}

int64_t vs_condition_shortest(const VsEffectivePolicy *eff)
{
	int64_t shortest, longest;

	return durations(eff, &shortest, &longest) ? shortest : -1;
}
