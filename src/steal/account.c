/* Steal accounting arithmetic; see account.h and doc/steal.md. */
#include "config.h"

#include "steal/account.h"

#include <string.h>

#define NS_PER_US 1000u

/* Per-tick points are kept for the newest two buckets (10 to 20 s); older
 * intervals only as the sums of their bucket: the intervals that ended in
 * (k * BUCKET, (k + 1) * BUCKET]. */
#define BUCKET_US (INT64_C(10) * 1000000)
/* Buckets kept: the 5 min window reaches back into the 31st bucket
 * before the current one at most. */
#define N_BUCKETS 32

struct VsStealSeries {
	GArray *points;               /* VsStealPoint, oldest first: the fine part */
	guint start;                  /* index of the oldest point kept */
	guint first10;                /* index of the oldest point in the 10 s window */
	int64_t fine_us;              /* per-tick points kept at least this long */
	bool has_last;
	int64_t last_end_us;          /* end of the newest interval */
	int64_t cur;                  /* bucket of the newest interval */
	/* Per window of 1 min and 5 min: the bucket the window starts in and
	 * the sum of the buckets after it. */
	int64_t edge[VS_STEAL_N_WINDOWS];
	VsStealPoint after_edge[VS_STEAL_N_WINDOWS];
	VsStealPoint buckets[N_BUCKETS]; /* bucket k at k % N_BUCKETS */
	VsStealPoint sums[VS_STEAL_N_WINDOWS];
};

static const struct {
	const char *name;
	int64_t us;
} windows[VS_STEAL_N_WINDOWS] = {
	[VS_STEAL_WINDOW_10S] = { "10s", INT64_C(10) * 1000000 },
	[VS_STEAL_WINDOW_1M] = { "1m", INT64_C(60) * 1000000 },
	[VS_STEAL_WINDOW_5M] = { "5m", INT64_C(300) * 1000000 },
};

int64_t vs_steal_window_us(VsStealWindow w)
{
	return windows[w].us;
}

const char *vs_steal_window_name(VsStealWindow w)
{
	return windows[w].name;
}

bool vs_steal_window_parse(const char *name, VsStealWindow *ret)
{
	static const struct {
		const char *name;
		VsStealWindow w;
	} names[] = {
		{ "10s", VS_STEAL_WINDOW_10S }, { "1m", VS_STEAL_WINDOW_1M },
		{ "60s", VS_STEAL_WINDOW_1M },	{ "1min", VS_STEAL_WINDOW_1M },
		{ "5m", VS_STEAL_WINDOW_5M },	{ "300s", VS_STEAL_WINDOW_5M },
		{ "5min", VS_STEAL_WINDOW_5M },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		if (strcmp(names[i].name, name) == 0) {
			*ret = names[i].w;
			return true;
		}
	}
	return false;
}

const char *vs_steal_result_name(VsStealResult r)
{
	switch (r) {
	case VS_STEAL_DELTA:
		return "delta";
	case VS_STEAL_RESET_FIRST:
		return "first sample";
	case VS_STEAL_RESET_TID:
		return "TID changed";
	case VS_STEAL_RESET_START_TIME:
		return "thread start time changed (TID reused)";
	case VS_STEAL_RESET_DECREASE:
		return "counter went back";
	case VS_STEAL_RESET_GAP:
		return "too long since the previous sample";
	case VS_STEAL_IGNORED:
		return "sample not later than the previous one";
	}
	return "unknown";
}

/* @a - @b, or 0 when @a < @b. */
static uint64_t sub_or_zero(uint64_t a, uint64_t b)
{
	return a >= b ? a - b : 0;
}

/* Clamps @*value to @wall: silently within the tolerance, else flagged. */
static void clamp_to_wall(uint64_t *value, uint64_t wall, guint *flags)
{
	uint64_t limit = wall + (uint64_t)((double)wall * VS_STEAL_TOLERANCE);

	if (*value > limit)
		*flags |= VS_STEAL_CLAMPED;
	if (*value > wall)
		*value = wall;
}

/* The reservation share of @delay: the time the vCPU waited while its
 * deadline budget was spent. Within a period it may run @runtime; in the
 * rest of the period (wall * (1 - runtime/period) over the interval) it
 * waits if it is runnable, unless it was idle. Its idle time is what is
 * neither run nor delay. */
static uint64_t reservation_share(const VsStealSample *cur, uint64_t wall, uint64_t run,
				  uint64_t delay)
{
	double budget_gap, idle, res;

	if (cur->reserved_runtime_ns == 0 || cur->reserved_period_ns == 0 ||
	    cur->reserved_runtime_ns >= cur->reserved_period_ns)
		return 0;
	budget_gap = (double)wall * (1.0 - (double)cur->reserved_runtime_ns /
						   (double)cur->reserved_period_ns);
	idle = (double)(wall - run - delay);
	res = budget_gap - idle;
	if (res <= 0)
		return 0;
	return MIN(delay, (uint64_t)res);
}

VsStealResult vs_steal_delta(const VsStealSample *prev, const VsStealSample *cur,
			     VsStealPoint *ret_point)
{
	VsStealPoint p = { 0 };
	uint64_t wall, run, delay, raw_delay, res, cap = 0;
	int64_t wall_us;

	if (!prev)
		return VS_STEAL_RESET_FIRST;
	if (cur->tid != prev->tid)
		return VS_STEAL_RESET_TID;
	if (cur->start_time != prev->start_time)
		return VS_STEAL_RESET_START_TIME;
	wall_us = cur->mono_us - prev->mono_us;
	if (wall_us <= 0)
		return VS_STEAL_IGNORED;
	if (cur->run_ns < prev->run_ns || cur->delay_ns < prev->delay_ns)
		return VS_STEAL_RESET_DECREASE;
	if (wall_us > VS_STEAL_MAX_GAP_US)
		return VS_STEAL_RESET_GAP;

	wall = (uint64_t)wall_us * NS_PER_US;
	run = cur->run_ns - prev->run_ns;
	raw_delay = delay = cur->delay_ns - prev->delay_ns;
	clamp_to_wall(&run, wall, &p.flags);
	clamp_to_wall(&delay, wall, &p.flags);
	if (run + delay > wall) {
		/* Both counters are read at (nearly) the same instant, but not
		 * at mono_us: a thread cannot run and wait longer than the
		 * interval, so the delay gives way. */
		uint64_t sum = run + delay;

		clamp_to_wall(&sum, wall, &p.flags);
		delay = wall - run;
	}

	res = reservation_share(cur, wall, run, delay);
	if (cur->reserved_runtime_ns == 0 && prev->has_throttled && cur->has_throttled &&
	    prev->throttle_gen == cur->throttle_gen &&
	    cur->vcpu_throttled_ns >= prev->vcpu_throttled_ns &&
	    cur->guest_throttled_ns >= prev->guest_throttled_ns) {
		/* Each cgroup's throttled time is wall time during which every
		 * runnable thread under it waited: the vCPU's delay from it
		 * is at most that time. */
		uint64_t tv = cur->vcpu_throttled_ns - prev->vcpu_throttled_ns;
		uint64_t tg = cur->guest_throttled_ns - prev->guest_throttled_ns;
		guint ignored = 0;

		clamp_to_wall(&tv, wall, &ignored);
		clamp_to_wall(&tg, wall, &ignored);
		cap = MIN(delay - res, tv + tg);
	} else if (cur->reserved_runtime_ns == 0) {
		p.flags |= VS_STEAL_NO_THROTTLE;
	}

	p.end_us = cur->mono_us;
	p.span_ns = wall;
	p.wall_ns = wall;
	p.run_ns = run;
	p.steal_ns = delay;
	p.reservation_ns = res;
	p.cap_ns = cap;
	p.contention_ns = delay - res - cap;
	if (cur->entitlement >= 0) {
		double promised = (double)wall * cur->entitlement;
		uint64_t entitled = promised >= (double)wall ? wall : (uint64_t)promised;

		p.entitled_wall_ns = wall;
		p.entitled_ns = entitled;
		/* Short-changed only while it wanted the CPU: not beyond its
		 * delay. */
		p.deficit_ns = MIN(delay, sub_or_zero(entitled, run));
	}
	if (prev->has_libvirt && cur->has_libvirt && cur->libvirt_delay_ns >= prev->libvirt_delay_ns) {
		p.libvirt_wall_ns = wall;
		p.libvirt_delay_ns = cur->libvirt_delay_ns - prev->libvirt_delay_ns;
		p.libvirt_ours_ns = raw_delay;
	}
	p.n = 1;
	p.clamped = (p.flags & VS_STEAL_CLAMPED) ? 1 : 0;
	*ret_point = p;
	return VS_STEAL_DELTA;
}

void vs_steal_point_add(VsStealPoint *sum, const VsStealPoint *p, bool parallel)
{
	sum->end_us = MAX(sum->end_us, p->end_us);
	if (parallel)
		sum->span_ns = MAX(sum->span_ns, p->span_ns);
	else
		sum->span_ns += p->span_ns;
	sum->wall_ns += p->wall_ns;
	sum->run_ns += p->run_ns;
	sum->steal_ns += p->steal_ns;
	sum->cap_ns += p->cap_ns;
	sum->reservation_ns += p->reservation_ns;
	sum->contention_ns += p->contention_ns;
	sum->entitled_wall_ns += p->entitled_wall_ns;
	sum->entitled_ns += p->entitled_ns;
	sum->deficit_ns += p->deficit_ns;
	sum->libvirt_wall_ns += p->libvirt_wall_ns;
	sum->libvirt_delay_ns += p->libvirt_delay_ns;
	sum->libvirt_ours_ns += p->libvirt_ours_ns;
	sum->n += p->n;
	sum->clamped += p->clamped;
	sum->flags |= p->flags;
}

/* Takes @p out of the window sum @sum (the inverse of a serial add; the
 * end and the flags of a window are recomputed by the caller). */
static void point_sub(VsStealPoint *sum, const VsStealPoint *p)
{
	sum->span_ns -= p->span_ns;
	sum->wall_ns -= p->wall_ns;
	sum->run_ns -= p->run_ns;
	sum->steal_ns -= p->steal_ns;
	sum->cap_ns -= p->cap_ns;
	sum->reservation_ns -= p->reservation_ns;
	sum->contention_ns -= p->contention_ns;
	sum->entitled_wall_ns -= p->entitled_wall_ns;
	sum->entitled_ns -= p->entitled_ns;
	sum->deficit_ns -= p->deficit_ns;
	sum->libvirt_wall_ns -= p->libvirt_wall_ns;
	sum->libvirt_delay_ns -= p->libvirt_delay_ns;
	sum->libvirt_ours_ns -= p->libvirt_ours_ns;
	sum->n -= p->n;
	sum->clamped -= p->clamped;
}

double vs_steal_pct(uint64_t part, const VsStealPoint *p)
{
	if (p->wall_ns == 0)
		return 0.0;
	return 100.0 * (double)part / (double)p->wall_ns;
}

VsStealSeries *vs_steal_series_new(void)
{
	return vs_steal_series_new_fine(0);
}

VsStealSeries *vs_steal_series_new_fine(int64_t fine_us)
{
	VsStealSeries *s = g_new0(VsStealSeries, 1);

	s->fine_us = fine_us;
	s->points = g_array_new(FALSE, TRUE, sizeof(VsStealPoint));
	return s;
}

void vs_steal_series_free(VsStealSeries *s)
{
	if (!s)
		return;
	g_array_unref(s->points);
	g_free(s);
}

/* The bucket of an interval that ended at @end_us: k for an end in
 * (k * BUCKET_US, (k + 1) * BUCKET_US]; floor division, so that times
 * before 0 work too. */
static int64_t bucket_of(int64_t end_us)
{
	int64_t x = end_us - 1;
	int64_t q = x / BUCKET_US;

	if (x % BUCKET_US < 0)
		q--;
	return q;
}

static VsStealPoint *bucket_at(VsStealSeries *s, int64_t k)
{
	return &s->buckets[((k % N_BUCKETS) + N_BUCKETS) % N_BUCKETS];
}

static const VsStealPoint *bucket_at_const(const VsStealSeries *s, int64_t k)
{
	return &s->buckets[((k % N_BUCKETS) + N_BUCKETS) % N_BUCKETS];
}

/* Adds @frac (0..1) of @p to @sum: the part of a bucket after a window's
 * start, assuming its intervals spread evenly over the bucket. */
static void point_add_frac(VsStealPoint *sum, const VsStealPoint *p, double frac)
{
#define FRAC(f) sum->f += (uint64_t)((double)p->f * frac + 0.5)
	FRAC(span_ns);
	FRAC(wall_ns);
	FRAC(run_ns);
	FRAC(steal_ns);
	FRAC(cap_ns);
	FRAC(reservation_ns);
	FRAC(contention_ns);
	FRAC(entitled_wall_ns);
	FRAC(entitled_ns);
	FRAC(deficit_ns);
	FRAC(libvirt_wall_ns);
	FRAC(libvirt_delay_ns);
	FRAC(libvirt_ours_ns);
	sum->n += (guint)((double)p->n * frac + 0.5);
	sum->clamped += (guint)((double)p->clamped * frac + 0.5);
#undef FRAC
}

/* Moves the start of the 10 s window past the points that ended 10 s or
 * more before @now_us, or past index @min_first. */
static void expire10(VsStealSeries *s, int64_t now_us, guint min_first)
{
	VsStealPoint *sum = &s->sums[VS_STEAL_WINDOW_10S];

	while (s->first10 < s->points->len) {
		const VsStealPoint *p = &g_array_index(s->points, VsStealPoint, s->first10);

		if (s->first10 >= min_first && p->end_us > now_us - windows[VS_STEAL_WINDOW_10S].us)
			break;
		point_sub(sum, p);
		s->first10++;
	}
}

/* Recomputes the bucketed window @w after an interval ending at @now_us
 * went into bucket s->cur (already added to after_edge[w]). */
static void advance_edge(VsStealSeries *s, guint w, int64_t now_us)
{
	int64_t cutoff = now_us - windows[w].us;
	int64_t k = bucket_of(cutoff);
	double frac;

	/* Buckets that the window's start passed leave the sum after it. */
	for (int64_t j = s->edge[w] + 1; j <= k; j++) {
		if (j > s->cur - N_BUCKETS && j <= s->cur)
			point_sub(&s->after_edge[w], bucket_at_const(s, j));
	}
	s->edge[w] = MAX(s->edge[w], k);
	s->sums[w] = s->after_edge[w];
	/* The part of the edge bucket after the cutoff. */
	frac = (double)((k + 1) * BUCKET_US - cutoff) / (double)BUCKET_US;
	if (k == s->edge[w] && k > s->cur - N_BUCKETS && k < s->cur)
		point_add_frac(&s->sums[w], bucket_at_const(s, k), frac);
	s->sums[w].end_us = now_us;
	s->sums[w].flags = 0;
}

bool vs_steal_series_push(VsStealSeries *s, const VsStealPoint *p)
{
	int64_t k = bucket_of(p->end_us);
	guint len, min_first;

	if (s->has_last && s->last_end_us >= p->end_us)
		return false;
	if (!s->has_last) {
		s->cur = k;
		for (guint w = VS_STEAL_WINDOW_1M; w < VS_STEAL_N_WINDOWS; w++)
			s->edge[w] = bucket_of(p->end_us - windows[w].us);
	}
	/* New buckets: subtract what the window starts pass first (they may
	 * be the slots about to be reused), then empty the slots. */
	if (k > s->cur || !s->has_last) {
		for (guint w = VS_STEAL_WINDOW_1M; w < VS_STEAL_N_WINDOWS; w++) {
			int64_t to = MIN(bucket_of(p->end_us - windows[w].us), s->cur);

			for (int64_t j = s->edge[w] + 1; j <= to; j++) {
				if (j > s->cur - N_BUCKETS)
					point_sub(&s->after_edge[w], bucket_at(s, j));
			}
			s->edge[w] = MAX(s->edge[w], to);
		}
		for (int64_t j = MAX(s->cur + 1, k - N_BUCKETS + 1); j <= k; j++)
			*bucket_at(s, j) = (VsStealPoint){ 0 };
		if (!s->has_last)
			memset(s->buckets, 0, sizeof(s->buckets));
		s->cur = k;
	}
	s->has_last = true;
	s->last_end_us = p->end_us;
	vs_steal_point_add(bucket_at(s, k), p, false);
	g_array_append_val(s->points, *p);
	len = s->points->len;
	/* The 10 s window: per-tick points, at most VS_STEAL_MAX_POINTS. */
	min_first = len > VS_STEAL_MAX_POINTS ? len - VS_STEAL_MAX_POINTS : 0;
	vs_steal_point_add(&s->sums[VS_STEAL_WINDOW_10S], p, false);
	s->sums[VS_STEAL_WINDOW_10S].flags = 0;
	expire10(s, p->end_us, min_first);
	for (guint w = VS_STEAL_WINDOW_1M; w < VS_STEAL_N_WINDOWS; w++) {
		vs_steal_point_add(&s->after_edge[w], p, false);
		s->after_edge[w].flags = 0;
		advance_edge(s, w, p->end_us);
	}
	/* Per-tick points leave once their bucket is older than the previous
	 * one (and never while in the 10 s window). */
	while (s->start < s->first10) {
		int64_t end = g_array_index(s->points, VsStealPoint, s->start).end_us;

		if (bucket_of(end) >= s->cur - 1 || end > p->end_us - s->fine_us)
			break;
		s->start++;
	}
	s->start = MAX(s->start, min_first);
	/* Compact now and then: amortised O(1) per push. */
	if (s->start >= 8 && s->start * 2 >= s->points->len) {
		guint drop = s->start;

		g_array_remove_range(s->points, 0, drop);
		s->first10 -= drop;
		s->start = 0;
	}
	return true;
}

const VsStealPoint *vs_steal_series_window(const VsStealSeries *s, VsStealWindow w)
{
	return &s->sums[w];
}

/* The oldest bucket listed after the per-tick points, and the newest: the
 * buckets before the oldest point's, back to the 5 min window's start. */
static void bucket_range(const VsStealSeries *s, int64_t *ret_lo, int64_t *ret_hi)
{
	guint n = s->points->len - s->start;

	*ret_hi = n ? bucket_of(g_array_index(s->points, VsStealPoint, s->start).end_us) - 1 : s->cur;
	*ret_lo = MAX(bucket_of(s->last_end_us - windows[VS_STEAL_WINDOW_5M].us + 1),
		      s->cur - N_BUCKETS + 1);
}

guint vs_steal_series_len(const VsStealSeries *s)
{
	guint n = s->points->len - s->start;
	int64_t lo, hi;

	if (!s->has_last)
		return 0;
	bucket_range(s, &lo, &hi);
	for (int64_t k = hi; k >= lo; k--)
		n += bucket_at_const(s, k)->n > 0;
	return n;
}

const VsStealPoint *vs_steal_series_nth_newest(const VsStealSeries *s, guint i)
{
	guint n = s->points->len - s->start;
	int64_t lo, hi;

	if (!s->has_last)
		return NULL;
	if (i < n)
		return &g_array_index(s->points, VsStealPoint, s->points->len - 1 - i);
	i -= n;
	bucket_range(s, &lo, &hi);
	for (int64_t k = hi; k >= lo; k--) {
		const VsStealPoint *b = bucket_at_const(s, k);

		if (b->n == 0)
			continue;
		if (i == 0)
			return b;
		i--;
	}
	return NULL;
}

VsStealVcpu *vs_steal_vcpu_new(void)
{
	VsStealVcpu *v = g_new0(VsStealVcpu, 1);

	v->series = vs_steal_series_new();
	return v;
}

void vs_steal_vcpu_free(VsStealVcpu *v)
{
	if (!v)
		return;
	vs_steal_series_free(v->series);
	g_free(v);
}

VsStealResult vs_steal_vcpu_feed(VsStealVcpu *v, const VsStealSample *s, VsStealPoint *ret_point)
{
	VsStealPoint p;
	VsStealResult r = vs_steal_delta(v->has_last ? &v->last : NULL, s, &p);

	v->last_result = r;
	if (r == VS_STEAL_IGNORED)
		return r;
	if (r == VS_STEAL_DELTA) {
		vs_steal_series_push(v->series, &p);
		vs_steal_point_add(&v->total, &p, false);
		if (p.clamped)
			v->clamps++;
		if (ret_point)
			*ret_point = p;
	} else if (r != VS_STEAL_RESET_FIRST) {
		v->resets++;
	}
	v->last = *s;
	v->has_last = true;
	return r;
}
