/* Steal accounting arithmetic; see account.h and doc/steal.md. */
#include "config.h"

#include "steal/account.h"

#include <string.h>

#define NS_PER_US 1000u

/* Per-tick points are kept for the newest two buckets (10 to 20 s); older
 * intervals only as the sums of their bucket: the intervals that ended in
 * (k * BUCKET, (k + 1) * BUCKET]. */
#define BUCKET_US (INT64_C(10) * 1000000)
/* Buckets kept, the open one included: the 5 min window reaches back into
 * the 31st bucket before the current one at most. */
#define N_BUCKETS 32
/* The 1 min window starts at most 6 buckets before the current one: older
 * buckets are merged three by three into aligned 30 s groups (once the
 * per-tick points no longer reach them), which the 5 min window takes pro
 * rata in its turn. */
#define FINE_BUCKETS 7
#define GROUP 3
/* Packed.flags: the entry is a 30 s group of buckets. */
#define PACKED_GROUP 0x80

/* The times of a point as stored, in VsStealPoint's order; contention is
 * not stored (steal - cap - reservation). */
enum {
	F_SPAN,
	F_WALL,
	F_RUN,
	F_STEAL,
	F_CAP,
	F_RESERVATION,
	F_ENTITLED_WALL,
	F_ENTITLED,
	F_DEFICIT,
	F_LIBVIRT_WALL,
	F_LIBVIRT_DELAY,
	F_LIBVIRT_OURS,
	N_FIELDS
};

/* A stored interval or bucket (64 bytes, half a VsStealPoint): times in
 * units of 2^shift ns, the smallest unit in which the largest fits. */
typedef struct Packed {
	int64_t end_us;
	uint32_t v[N_FIELDS];
	uint32_t n;
	uint16_t clamped;             /* saturates */
	uint8_t shift;
	uint8_t flags;
} Packed;

/* A ring of Packed, oldest first, grown when full and shrunk when mostly
 * empty. */
typedef struct Ring {
	Packed *items;
	guint cap, head, len;
} Ring;

struct VsStealSeries {
	Ring points;                  /* per-tick points: the fine part */
	Ring buckets;                 /* closed non-empty buckets before cur */
	guint in10;                   /* newest points in the 10 s window */
	int64_t fine_us;              /* per-tick points kept at least this long */
	bool has_last;
	int64_t last_end_us;          /* end of the newest interval */
	int64_t cur;                  /* bucket of the newest interval: the open one */
	VsStealPoint open;            /* the sum of bucket cur so far */
	VsStealPoint sum10;           /* the 10 s window: its points as stored */
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

/* Packs @p: the smallest unit in which every time fits in 32 bits (with
 * rounding), contention left out. */
static void pack(Packed *ret, const VsStealPoint *p)
{
	const uint64_t f[N_FIELDS] = {
		p->span_ns,	     p->wall_ns,     p->run_ns,		 p->steal_ns,
		p->cap_ns,	     p->reservation_ns, p->entitled_wall_ns, p->entitled_ns,
		p->deficit_ns,	     p->libvirt_wall_ns, p->libvirt_delay_ns, p->libvirt_ours_ns,
	};
	uint64_t max = 0;
	guint shift = 0;

	for (guint i = 0; i < N_FIELDS; i++)
		max = MAX(max, f[i]);
	while ((max >> shift) >= UINT32_MAX)
		shift++;
	ret->end_us = p->end_us;
	for (guint i = 0; i < N_FIELDS; i++)
		ret->v[i] = (uint32_t)(shift ? (f[i] + (UINT64_C(1) << (shift - 1))) >> shift : f[i]);
	ret->n = p->n;
	ret->clamped = (uint16_t)MIN(p->clamped, G_MAXUINT16);
	ret->shift = (uint8_t)shift;
	ret->flags = (uint8_t)p->flags;
}

/* The point @q stands for. */
static void unpack(VsStealPoint *ret, const Packed *q)
{
	uint64_t f[N_FIELDS];

	for (guint i = 0; i < N_FIELDS; i++)
		f[i] = (uint64_t)q->v[i] << q->shift;
	*ret = (VsStealPoint){
		.end_us = q->end_us,
		.span_ns = f[F_SPAN],
		.wall_ns = f[F_WALL],
		.run_ns = f[F_RUN],
		.steal_ns = f[F_STEAL],
		.cap_ns = f[F_CAP],
		.reservation_ns = f[F_RESERVATION],
		.contention_ns = sub_or_zero(f[F_STEAL], f[F_CAP] + f[F_RESERVATION]),
		.entitled_wall_ns = f[F_ENTITLED_WALL],
		.entitled_ns = f[F_ENTITLED],
		.deficit_ns = f[F_DEFICIT],
		.libvirt_wall_ns = f[F_LIBVIRT_WALL],
		.libvirt_delay_ns = f[F_LIBVIRT_DELAY],
		.libvirt_ours_ns = f[F_LIBVIRT_OURS],
		.n = q->n,
		.clamped = q->clamped,
		.flags = q->flags & ~PACKED_GROUP,
	};
}

/* The @i-th oldest item of @r (i < r->len). */
static Packed *ring_at(const Ring *r, guint i)
{
	return &r->items[(r->head + i) % r->cap];
}

/* Moves @r's items to an array of @cap (>= len) slots, oldest first. */
static void ring_resize(Ring *r, guint cap)
{
	Packed *items = cap ? g_new(Packed, cap) : NULL;

	for (guint i = 0; i < r->len; i++)
		items[i] = *ring_at(r, i);
	g_free(r->items);
	r->items = items;
	r->cap = cap;
	r->head = 0;
}

/* Appends @q, growing by an eighth (at least 4 slots, at most to @most)
 * when full: a ring grows while its history fills, then keeps its size,
 * so that few slots stay unused. */
static void ring_push(Ring *r, const Packed *q, guint most)
{
	if (r->len == r->cap)
		ring_resize(r, MAX(MIN(r->cap + MAX(r->cap / 8, 4), most), r->len + 1));
	r->items[(r->head + r->len) % r->cap] = *q;
	r->len++;
}

/* Drops the oldest item. */
static void ring_pop(Ring *r)
{
	r->head = (r->head + 1) % r->cap;
	r->len--;
}

/* Gives back most of the slots of a ring that holds far fewer than it has
 * (a shorter fine part, a pause of the guest). */
static void ring_trim(Ring *r)
{
	if (r->cap > 8 && r->len * 4 < r->cap)
		ring_resize(r, MAX(r->len * 2, 4));
}

VsStealSeries *vs_steal_series_new(void)
{
	return vs_steal_series_new_fine(0);
}

VsStealSeries *vs_steal_series_new_fine(int64_t fine_us)
{
	VsStealSeries *s = g_new0(VsStealSeries, 1);

	s->fine_us = fine_us;
	return s;
}

void vs_steal_series_free(VsStealSeries *s)
{
	if (!s)
		return;
	g_free(s->points.items);
	g_free(s->buckets.items);
	g_free(s);
}

void vs_steal_series_set_fine(VsStealSeries *s, int64_t fine_us)
{
	s->fine_us = fine_us;
}

size_t vs_steal_series_bytes(const VsStealSeries *s)
{
	return sizeof(*s) + (s->points.cap + s->buckets.cap) * sizeof(Packed);
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

/* The buckets the closed entry @q covers: its own, or its 30 s group. */
static void entry_range(const Packed *q, int64_t *ret_lo, int64_t *ret_hi)
{
	int64_t k = bucket_of(q->end_us);

	if (q->flags & PACKED_GROUP) {
		int64_t g = k / GROUP - (k % GROUP < 0);

		*ret_lo = g * GROUP;
		*ret_hi = g * GROUP + GROUP - 1;
	} else {
		*ret_lo = *ret_hi = k;
	}
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

/* Closes the open bucket for a new interval in bucket @k > cur: the open
 * bucket joins the closed ones, and those N_BUCKETS or more before @k
 * leave. */
/* Merges the closed buckets whose whole 30 s group is older than the
 * 1 min window can reach from bucket @k, and than the oldest per-tick
 * point (so that walking the series finds no hole), into one entry per
 * group. In place, in ring order. */
static void merge_groups(VsStealSeries *s, int64_t k)
{
	Ring *r = &s->buckets;
	int64_t limit = k - FINE_BUCKETS;
	guint out = 0;

	if (s->points.len)
		limit = MIN(limit, bucket_of(ring_at(&s->points, 0)->end_us) - 1);
	for (guint i = 0; i < r->len; i++) {
		Packed q = *ring_at(r, i);
		int64_t lo, hi;

		q.flags |= PACKED_GROUP;
		entry_range(&q, &lo, &hi);
		if (hi > limit) {
			q.flags &= (uint8_t)~PACKED_GROUP;
		} else if (out > 0) {
			Packed *prev = ring_at(r, out - 1);
			int64_t plo, phi;

			entry_range(prev, &plo, &phi);
			if ((prev->flags & PACKED_GROUP) && plo == lo) {
				VsStealPoint a, b;

				unpack(&a, prev);
				unpack(&b, &q);
				vs_steal_point_add(&a, &b, false);
				pack(prev, &a);
				prev->flags |= PACKED_GROUP;
				continue;
			}
		}
		*ring_at(r, out++) = q;
	}
	r->len = out;
}

static void close_bucket(VsStealSeries *s, int64_t k)
{
	Packed q;
	int64_t lo, hi;

	while (s->buckets.len) {
		entry_range(ring_at(&s->buckets, 0), &lo, &hi);
		if (hi > k - N_BUCKETS)
			break;
		ring_pop(&s->buckets);
	}
	if (s->cur > k - N_BUCKETS) {
		pack(&q, &s->open);
		ring_push(&s->buckets, &q, N_BUCKETS - 1);
	}
	merge_groups(s, k);
	s->open = (VsStealPoint){ 0 };
	ring_trim(&s->buckets);
}

bool vs_steal_series_push(VsStealSeries *s, const VsStealPoint *p)
{
	int64_t k = bucket_of(p->end_us);
	int64_t cutoff10 = p->end_us - windows[VS_STEAL_WINDOW_10S].us;
	VsStealPoint stored;
	Packed q;

	if (s->has_last && s->last_end_us >= p->end_us)
		return false;
	if (s->has_last && k > s->cur)
		close_bucket(s, k);
	s->has_last = true;
	s->last_end_us = p->end_us;
	s->cur = k;
	vs_steal_point_add(&s->open, p, false);
	/* The 10 s window sums the points as stored, so that taking one out
	 * again is exact. */
	pack(&q, p);
	unpack(&stored, &q);
	ring_push(&s->points, &q, G_MAXUINT);
	s->in10++;
	vs_steal_point_add(&s->sum10, &stored, false);
	while (s->in10 > 0) {
		const Packed *old = ring_at(&s->points, s->points.len - s->in10);

		if (s->in10 <= VS_STEAL_MAX_POINTS && old->end_us > cutoff10)
			break;
		unpack(&stored, old);
		point_sub(&s->sum10, &stored);
		s->in10--;
	}
	/* Per-tick points leave once out of the 10 s window, their bucket is
	 * older than the previous one and they are older than the fine part;
	 * at most VS_STEAL_MAX_POINTS stay. */
	while (s->points.len > s->in10) {
		int64_t end = ring_at(&s->points, 0)->end_us;

		if (s->points.len <= VS_STEAL_MAX_POINTS &&
		    (bucket_of(end) >= s->cur - 1 || end > p->end_us - s->fine_us))
			break;
		ring_pop(&s->points);
	}
	ring_trim(&s->points);
	return true;
}

VsStealPoint vs_steal_series_window(const VsStealSeries *s, VsStealWindow w)
{
	VsStealPoint sum = { 0 };
	int64_t cutoff, edge;

	if (!s->has_last)
		return sum;
	if (w == VS_STEAL_WINDOW_10S) {
		sum = s->sum10;
	} else {
		/* The open bucket, the closed ones after the one the window
		 * starts in, and that one pro rata. */
		cutoff = s->last_end_us - windows[w].us;
		edge = bucket_of(cutoff);
		sum = s->open;
		for (guint i = 0; i < s->buckets.len; i++) {
			const Packed *q = ring_at(&s->buckets, i);
			int64_t lo, hi;
			VsStealPoint b;

			entry_range(q, &lo, &hi);
			if (hi < edge || hi <= s->cur - N_BUCKETS)
				continue;
			unpack(&b, q);
			if (lo > edge)
				vs_steal_point_add(&sum, &b, false);
			else
				point_add_frac(&sum, &b,
					       (double)((hi + 1) * BUCKET_US - cutoff) /
						       (double)((hi - lo + 1) * BUCKET_US));
		}
	}
	sum.end_us = s->last_end_us;
	sum.flags = 0;
	return sum;
}

/* The oldest bucket listed after the per-tick points, and the newest: the
 * buckets before the oldest point's, back to the 5 min window's start. */
static void bucket_range(const VsStealSeries *s, int64_t *ret_lo, int64_t *ret_hi)
{
	*ret_hi = s->points.len ? bucket_of(ring_at(&s->points, 0)->end_us) - 1 : s->cur;
	*ret_lo = MAX(bucket_of(s->last_end_us - windows[VS_STEAL_WINDOW_5M].us + 1),
		      s->cur - N_BUCKETS + 1);
}

/* Whether closed bucket @q is listed after the per-tick points. */
static bool bucket_listed(const Packed *q, int64_t lo, int64_t hi)
{
	int64_t qlo, qhi;

	entry_range(q, &qlo, &qhi);
	return q->n > 0 && qhi >= lo && qhi <= hi;
}

guint vs_steal_series_len(const VsStealSeries *s)
{
	guint n = s->points.len;
	int64_t lo, hi;

	if (!s->has_last)
		return 0;
	bucket_range(s, &lo, &hi);
	for (guint i = 0; i < s->buckets.len; i++)
		n += bucket_listed(ring_at(&s->buckets, i), lo, hi);
	return n;
}

bool vs_steal_series_nth_newest(const VsStealSeries *s, guint i, VsStealPoint *ret)
{
	int64_t lo, hi;

	if (!s->has_last)
		return false;
	if (i < s->points.len) {
		unpack(ret, ring_at(&s->points, s->points.len - 1 - i));
		return true;
	}
	i -= s->points.len;
	bucket_range(s, &lo, &hi);
	for (guint j = s->buckets.len; j-- > 0;) {
		const Packed *q = ring_at(&s->buckets, j);

		if (!bucket_listed(q, lo, hi))
			continue;
		if (i == 0) {
			unpack(ret, q);
			return true;
		}
		i--;
	}
	return false;
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
