/* Progress skew of a guest's vCPUs over a window, and its one-minute
 * maximum; see skew.h. */
#include "config.h"

#include "sched/skew.h"

/* Sums the intervals of @series that ended after @cutoff_us into @v. */
static void sum_window(const VsStealSeries *series, int64_t cutoff_us, int64_t now_us,
		       VsSkewVcpu *v)
{
	VsStealPoint p;

	/* Newest first until the window's start: the series' length (which
	 * walks its buckets) is not needed. */
	for (guint i = 0; series && vs_steal_series_nth_newest(series, i, &p); i++) {
		if (p.end_us <= cutoff_us)
			break;
		if (p.end_us > now_us)
			continue;
		v->span_ns += p.span_ns;
		v->run_ns += p.run_ns;
		v->delay_ns += p.steal_ns;
	}
}

void vs_skew_measure(const VsSkewVcpuIn *in, guint n, int64_t now_us, int64_t window_us,
		     VsSkewVcpu *ret_vcpus, VsSkew *ret)
{
	uint64_t window_ns = (uint64_t)window_us * 1000;
	g_autofree double *scaled = g_new0(double, MAX(n, 1));
	double lo = 0, hi = 0;
	VsSkew s = { .end_us = now_us, .window_ns = window_ns };

	for (guint i = 0; i < n; i++) {
		VsSkewVcpu *v = &ret_vcpus[i];

		*v = (VsSkewVcpu){ .index = in[i].index };
		sum_window(in[i].series, now_us - window_us, now_us, v);
		if (v->span_ns == 0 || v->span_ns * 2 < window_ns)
			continue;
		v->counted = true;
		scaled[i] = (double)v->delay_ns * (double)window_ns / (double)v->span_ns;
		if (s.counted == 0 || scaled[i] < lo) {
			lo = scaled[i];
			s.leader = v->index;
		}
		if (s.counted == 0 || scaled[i] > hi) {
			hi = scaled[i];
			s.laggard = v->index;
		}
		s.counted++;
	}
	for (guint i = 0; i < n; i++)
		if (ret_vcpus[i].counted)
			ret_vcpus[i].lag_ns = (uint64_t)(scaled[i] - lo + 0.5);
	s.valid = s.counted >= 2;
	if (s.valid)
		s.skew_ns = (uint64_t)(hi - lo + 0.5);
	else
		s.leader = s.laggard = 0;
	*ret = s;
}

typedef struct Entry {
	int64_t end_us;
	uint64_t skew_ns;
} Entry;

struct VsSkewHistory {
	GArray *entries;   /* Entry, oldest first */
};

VsSkewHistory *vs_skew_history_new(void)
{
	VsSkewHistory *h = g_new0(VsSkewHistory, 1);

	h->entries = g_array_new(FALSE, FALSE, sizeof(Entry));
	return h;
}

void vs_skew_history_free(VsSkewHistory *h)
{
	if (!h)
		return;
	g_array_unref(h->entries);
	g_free(h);
}

void vs_skew_history_add(VsSkewHistory *h, const VsSkew *s)
{
	guint drop = 0;

	while (drop < h->entries->len &&
	       g_array_index(h->entries, Entry, drop).end_us <= s->end_us - VS_SKEW_HISTORY_US)
		drop++;
	if (drop)
		g_array_remove_range(h->entries, 0, drop);
	if (s->valid) {
		Entry e = { .end_us = s->end_us, .skew_ns = s->skew_ns };

		g_array_append_val(h->entries, e);
	}
}

uint64_t vs_skew_history_max(const VsSkewHistory *h, guint *ret_n)
{
	uint64_t max = 0;

	for (guint i = 0; i < h->entries->len; i++)
		max = MAX(max, g_array_index(h->entries, Entry, i).skew_ns);
	if (ret_n)
		*ret_n = h->entries->len;
	return max;
}
