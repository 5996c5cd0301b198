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
	const VsStealPoint *newest = vs_steal_series_nth_newest(series, 0);
	int64_t since;

	if (!newest)
		return false;
	since = newest->end_us - c->for_us;
	for (guint i = 0;; i++) {
		const VsStealPoint *p = vs_steal_series_nth_newest(series, i);
		const VsStealPoint *older;
		int64_t start;

		if (!vs_condition_compare(c->cmp, vs_condition_metric(p, c->metric), c->threshold))
			return false;
		start = p->end_us - (int64_t)(p->span_ns / 1000);
		if (start <= since)
			return true;
		older = vs_steal_series_nth_newest(series, i + 1);
		if (!older || older->end_us < start - CONTIGUITY_SLACK_US)
			return false;
	}
}
