/* libFuzzer target for the memory room's handling of untrusted guest
 * statistics: the input bytes become a host state and up to eight guests
 * (balloon statistics with arbitrary fields and @have bits, two reports in a
 * row, balloon size, maximum and [Memory] keys), fed through
 * vs_mem_stats_sanitize() and vs_mem_plan(). Whatever the numbers, nothing
 * may crash, leak or trip a sanitizer, and every target must stay within
 * [lower bound, maximum]: never above the maximum, and a shrink never below
 * Floor= (unless the operator's Target= says so) nor below the use the
 * sanitizer trusted plus Margin=. Built and run by tests/fuzz/run-fuzz.sh. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "daemon/conf.h"
#include "mem/plan.h"
#include "mem/pressure.h"
#include "mem/stats-sanitize.h"

#define MiB (UINT64_C(1) << 20)

typedef struct Reader {
	const uint8_t *data;
	size_t size, at;
} Reader;

static uint64_t take(Reader *r, size_t bytes)
{
	uint64_t v = 0;

	for (size_t i = 0; i < bytes; i++)
		v = (v << 8) | (r->at < r->size ? r->data[r->at++] : 0);
	return v;
}

/* A size: mostly plausible (MiB granularity), sometimes any 64-bit value. */
static uint64_t size_of(Reader *r)
{
	uint8_t kind = (uint8_t)take(r, 1);

	if (kind < 200)
		return take(r, 2) * MiB;
	return take(r, 8);
}

static void fill_raw(Reader *r, VsBalloonStats *raw, int64_t wall)
{
	raw->have = (guint)take(r, 2);
	raw->current = size_of(r);
	raw->maximum = size_of(r);
	raw->swap_in = size_of(r);
	raw->swap_out = size_of(r);
	raw->major_fault = take(r, 4);
	raw->minor_fault = take(r, 4);
	raw->unused = size_of(r);
	raw->available = size_of(r);
	raw->usable = size_of(r);
	raw->rss = size_of(r);
	raw->disk_caches = size_of(r);
	raw->last_update = take(r, 1) < 128 ? wall - (int64_t)take(r, 1) : (int64_t)take(r, 8);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void check(const VsMemGuest *g, const VsMemDecision *d)
{
	uint64_t high = g->maximum ? g->maximum : g->current;

	g_assert(d->target <= high || (d->action == VS_MEM_HOLD && d->target == d->current));
	g_assert(d->current <= high);
	if (d->action == VS_MEM_HOLD)
		g_assert(d->target == d->current);
	if (d->action != VS_MEM_SHRINK)
		return;
	g_assert(d->target >= d->low);
	if (g->stats.trusted)
		g_assert(d->target >= MIN(sat_add(g->stats.used, g->margin), high));
	if (!g->has_override) {
		g_assert(d->target >= MIN(g->floor, high));
		/* Without trustworthy statistics, only to the Floor= or the
		 * last trusted use plus Margin=. */
		if (!g->stats.trusted && !g->stats.have_last_used)
			g_assert(g->floor && d->target >= MIN(g->floor, high));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Reader r = { data, size, 0 };
	g_autoptr(VsConf) conf = vs_conf_new_default();
	g_autoptr(VsMemPlan) plan = NULL;
	VsMemGuest guests[8];
	guint n = 1 + (guint)take(&r, 1) % 8;
	int64_t now = 1000000000 + (int64_t)take(&r, 2) * 1000;
	int64_t wall = 1800000000;
	VsMemPlanInput in = { 0 };
	VsMemSample s = { 0 };
	VsMemPressure p;
	char why[256];

	memset(guests, 0, sizeof(guests));
	conf->mem.budget = take(&r, 1) < 64 ? size_of(&r) : 0;
	conf->mem.min_change = take(&r, 1) * MiB;
	for (guint i = 0; i < n; i++) {
		VsMemGuest *g = &guests[i];
		VsBalloonStats raw = { 0 };
		VsMemStats first;

		g_snprintf(g->uuid, sizeof(g->uuid), "00000000-0000-0000-0000-%012u", i);
		g->name = "guest";
		g->current = size_of(&r);
		g->maximum = size_of(&r);
		fill_raw(&r, &raw, wall);
		vs_mem_stats_sanitize(&raw, g->current, g->maximum, NULL, now - 1000000, wall - 1,
				      1000000, &first);
		fill_raw(&r, &raw, wall);
		vs_mem_stats_sanitize(&raw, g->current, g->maximum, &first, now, wall, 1000000,
				      &g->stats);
		g_assert(g->stats.current <= g->stats.maximum);
		g_assert(!g->stats.trusted || g->stats.used <= g->stats.current);
		g_assert(strlen(g->stats.problem) < sizeof(g->stats.problem));
		g->balloon = take(&r, 1) < 230;
		g->floor = take(&r, 1) < 128 ? size_of(&r) : 0;
		g->shares = (int64_t)take(&r, 3);
		g->margin = size_of(&r);
		g->idle_tax = (double)take(&r, 1) / 256.0;
		g->max_step_per_s = MAX(size_of(&r), MiB);
		g->has_override = take(&r, 1) < 40;
		g->override_target = size_of(&r);
		g->last_target_us = take(&r, 1) < 128 ? now - (int64_t)take(&r, 3) : 0;
		g->not_following = take(&r, 1) < 20;
		s.guests_current += MIN(g->current, UINT64_C(1) << 50);
	}

	s.mono_us = now;
	s.mem_total = size_of(&r);
	s.mem_available = size_of(&r);
	s.swap_total = size_of(&r);
	s.swap_free = size_of(&r);
	s.psi_available = true;
	s.some_avg10 = (double)take(&r, 1) / 2.0;
	s.full_avg10 = (double)take(&r, 1) / 2.0;
	s.some_events = (guint)take(&r, 1) % 3;
	s.budget = conf->mem.budget;
	vs_mem_pressure_init(&p);
	vs_mem_pressure_update(&p, &conf->mem, &s);
	g_assert(p.state < VS_MEM_N_STATES);
	g_assert(vs_mem_pressure_classify(&conf->mem, &s, why, sizeof(why)) == p.state);

	in.now_us = now;
	in.last_plan_us = take(&r, 1) < 128 ? now - (int64_t)take(&r, 3) : 0;
	in.state = p.state;
	in.mem_total = s.mem_total;
	in.mem_available = s.mem_available;
	in.conf = &conf->mem;
	in.guests = guests;
	in.n_guests = n;
	g_assert(vs_mem_plan(&in, &plan) == 0);
	g_assert(plan->decisions->len == n);
	for (guint i = 0; i < n; i++) {
		const VsMemDecision *d = &g_array_index(plan->decisions, VsMemDecision, i);

		g_assert(d->reason && d->reason[0]);
		check(&guests[i], d);
	}
	return 0;
}
