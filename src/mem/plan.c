/* The balloon target planner; see plan.h and doc/memory.md.
 *
 * One tick: every guest gets bounds (vs_mem_plan_bounds) and a step
 * allowance (its MaxStepPerSecond= for the time since its last target, at
 * most one second's worth). Guests that are not managed (Balloon=no), do
 * not follow, or have a Target= are fixed; the others are movable. The
 * host wants R back (the budget excess; in soft and worse the shortfall
 * of MemAvailable against the soft exit line; in hard and critical at
 * least the host rate) or can give G (in normal: the room above the soft
 * exit line, within the budget), both capped by the host rate. Reclaim
 * walks the movable guests in ascending shares per actively used page
 * (ESX's rho = shares / (used + idle / (1 - IdleTax))), short guests last;
 * give-back walks short guests first, then descending rho. */
#include "config.h"

#include "mem/plan.h"
#include "util/units.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MiB (1024.0 * 1024.0)
/* Major faults between two statistics that mark a guest short. */
#define SHORT_MAJOR_FAULTS 64

typedef struct Work {
	const VsMemGuest *g;
	guint index;
	uint64_t cur;               /* balloon size, within [0, high] */
	uint64_t low, high;
	uint64_t step;              /* the guest's allowance this tick */
	uint64_t used;              /* the use the tax is computed on */
	double rho;
	bool movable;
	bool is_short;
	double short_score;         /* higher: shorter */
	uint64_t target;
	char bounds_why[192];
	GString *why;
} Work;

/* @a + @b, saturated: sizes from policies and guests may be anything. */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static char *size_text(uint64_t bytes)
{
	return vs_format_size(bytes);
}

void vs_mem_plan_bounds(const VsMemGuest *g, bool for_override, uint64_t *ret_low,
			uint64_t *ret_high, char *why, size_t why_size)
{
	uint64_t high = g->maximum ? g->maximum : g->current;
	uint64_t used = 0, low;
	const char *used_from = NULL;
	g_autofree char *u = NULL, *m = NULL, *f = NULL;

	if (g->stats.trusted) {
		used = g->stats.used;
		used_from = "its statistics";
	} else if (g->stats.have_last_used) {
		used = g->stats.last_used;
		used_from = "its last trustworthy statistics";
	}
	u = size_text(used);
	m = size_text(g->margin);
	f = size_text(g->floor);
	if (for_override) {
		if (used_from) {
			low = sat_add(used, g->margin);
			g_snprintf(why, why_size, "uses %s by %s, plus Margin=%s", u, used_from, m);
		} else if (g->floor) {
			low = g->floor;
			g_snprintf(why, why_size, "use unknown (no trustworthy statistics): Floor=%s", f);
		} else {
			low = 0;
			g_snprintf(why, why_size, "use unknown and no Floor=: the operator's value as is");
		}
	} else if (used_from) {
		low = MAX(g->floor, sat_add(used, g->margin));
		if (g->floor > sat_add(used, g->margin))
			g_snprintf(why, why_size, "Floor=%s (uses %s by %s, plus Margin=%s is less)", f,
				   u, used_from, m);
		else
			g_snprintf(why, why_size, "uses %s by %s, plus Margin=%s", u, used_from, m);
	} else if (g->floor) {
		low = g->floor;
		g_snprintf(why, why_size, "Floor=%s (use unknown: no trustworthy statistics yet)", f);
	} else {
		low = g->current;
		g_snprintf(why, why_size, "no trustworthy statistics yet and no Floor=: not reclaimed");
	}
	low = MIN(low, high);
	*ret_low = low;
	*ret_high = high;
}

static uint64_t scale(uint64_t rate, double factor, double seconds)
{
	double v = (double)rate * factor * seconds;

	return v >= 1.8e19 ? UINT64_MAX : (uint64_t)v;
}

/* Seconds since @then (0: never), at most one. */
static double elapsed_s(int64_t now, int64_t then)
{
	if (then <= 0 || now <= then)
		return then <= 0 ? 1.0 : 0.0;
	return MIN(1.0, (double)(now - then) / G_USEC_PER_SEC);
}

static void setup_guest(Work *w, const VsMemPlanInput *in, double factor)
{
	const VsMemGuest *g = w->g;
	const VsMemStats *st = &g->stats;
	double tax = CLAMP(g->idle_tax, 0.0, 0.99);
	double weighted;

	vs_mem_plan_bounds(g, g->has_override, &w->low, &w->high, w->bounds_why,
			   sizeof(w->bounds_why));
	w->cur = MIN(g->current, w->high);
	w->target = w->cur;
	w->step = scale(g->max_step_per_s, factor, elapsed_s(in->now_us, g->last_target_us));
	if (st->trusted)
		w->used = MIN(st->used, w->cur);
	else if (st->have_last_used)
		w->used = MIN(st->last_used, w->cur);
	else
		w->used = w->cur; /* unknown: all of it counts as active, no tax */
	weighted = (double)w->used + (double)(w->cur - w->used) / (1.0 - tax);
	w->rho = (double)MAX(g->shares, 1) / MAX(weighted / MiB, 1.0);
	if (st->trusted) {
		bool low_avail = st->usable < g->margin;
		bool faults = st->have_deltas && st->major_faults_delta >= SHORT_MAJOR_FAULTS;
		bool swap = st->have_deltas && st->swap_in_delta > 0;

		w->is_short = low_avail || faults || swap;
		/* Swap-in first, then major faults, then how far MemAvailable
		 * is under the Margin (1..2). */
		w->short_score = (swap ? 4.0 : 0) + (faults ? 2.0 : 0);
		if (low_avail)
			w->short_score += 2.0 - (double)st->usable / MAX((double)g->margin, 1.0);
	}
	w->movable = g->balloon && !g->not_following && !g->has_override;
}

static int cmp_reclaim(gconstpointer a, gconstpointer b)
{
	const Work *x = *(Work *const *)a, *y = *(Work *const *)b;

	if (x->is_short != y->is_short)
		return x->is_short ? 1 : -1;
	if (x->rho != y->rho)
		return x->rho < y->rho ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int cmp_give(gconstpointer a, gconstpointer b)
{
	const Work *x = *(Work *const *)a, *y = *(Work *const *)b;

	if (x->is_short != y->is_short)
		return x->is_short ? -1 : 1;
	if (x->short_score != y->short_score)
		return x->short_score > y->short_score ? -1 : 1;
	if (x->rho != y->rho)
		return x->rho > y->rho ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Whether a change of @delta from @w->cur to @to is too small to make:
 * below MemoryMinChange= and not reaching a bound. */
static bool too_small(const Work *w, uint64_t delta, uint64_t to, const VsMemConf *conf)
{
	return delta < conf->min_change && to != w->low && to != w->high;
}

/* Moves a fixed guest (override) or a guest below its lower bound toward
 * @goal at its own rate. */
static void move_toward(Work *w, uint64_t goal, const VsMemConf *conf)
{
	uint64_t delta = goal > w->cur ? goal - w->cur : w->cur - goal;
	uint64_t d = MIN(delta, w->step);
	uint64_t to = goal > w->cur ? w->cur + d : w->cur - d;
	g_autofree char *ds = size_text(d);
	g_autofree char *ms = size_text(conf->min_change);

	if (d == 0)
		return;
	if (d < delta)
		g_string_append(w->why, " MaxStepPerSecond= limits this tick's step.");
	if (d < conf->min_change && to != goal) {
		g_string_append_printf(w->why, " A step of %s is below MemoryMinChange=%s: skipped.",
				       ds, ms);
		return;
	}
	w->target = to;
}

static void plan_fixed(Work *w, const VsMemConf *conf)
{
	const VsMemGuest *g = w->g;
	g_autofree char *c = size_text(w->cur);

	if (!g->balloon) {
		g_string_append_printf(w->why, "Balloon=no: left at %s.", c);
		return;
	}
	if (g->not_following) {
		g_string_append_printf(w->why, "Does not follow its balloon target (%s): held at %s and "
				       "left out of reclaim; the other guests give its share.",
				       g->not_following_why ? g->not_following_why : "not converging", c);
		return;
	}
	if (g->has_override) {
		uint64_t goal = CLAMP(g->override_target, w->low, w->high);
		g_autofree char *t = size_text(g->override_target);
		g_autofree char *gs = size_text(goal);

		g_string_append_printf(w->why, "Target=%s set by %s; pressure and the budget do not "
				       "move it.", t, g->override_origin[0] ? g->override_origin : "policy");
		if (goal != g->override_target)
			g_string_append_printf(w->why, " Clamped to %s (bounds: %s; maximum).", gs,
					       w->bounds_why);
		if (goal == w->cur)
			g_string_append(w->why, " Reached.");
		move_toward(w, goal, conf);
	}
}

static uint64_t sum_targets(Work *ws, guint n)
{
	uint64_t sum = 0;

	for (guint i = 0; i < n; i++)
		sum = sat_add(sum, ws[i].target);
	return sum;
}

static void decide(VsMemDecision *d, Work *w, VsMemState state)
{
	const VsMemGuest *g = w->g;
	g_autofree char *lo = size_text(w->low);
	g_autofree char *hi = size_text(w->high);

	g_strlcpy(d->uuid, g->uuid, sizeof(d->uuid));
	d->name = g_strdup(g->name ? g->name : g->uuid);
	d->current = w->cur;
	d->target = w->target;
	d->action = w->target > w->cur ? VS_MEM_GROW : w->target < w->cur ? VS_MEM_SHRINK : VS_MEM_HOLD;
	d->low = w->low;
	d->high = w->high;
	d->floor = g->floor;
	d->trusted = g->stats.trusted;
	d->used = g->stats.trusted ? g->stats.used : g->stats.have_last_used ? g->stats.last_used : 0;
	d->shares_per_page = w->rho;
	d->short_of_memory = w->is_short;
	g_string_append_printf(w->why, " Bounds %s..%s: %s. %.3g shares per MiB (Shares=%" G_GINT64_FORMAT
			       ", IdleTax=%.0f%%). Host memory state %s.", lo, hi, w->bounds_why,
			       w->rho, g->shares, g->idle_tax * 100, vs_mem_state_name(state));
	if (!g->stats.trusted)
		g_string_append_printf(w->why, " Statistics not trusted: %s",
				       g->stats.problem[0] ? g->stats.problem : "unknown.");
	d->reason = g_strdup(w->why->str[0] == ' ' ? w->why->str + 1 : w->why->str);
}

/* Takes @goal back from the guests in @order, lowest shares per active
 * page first. The first @must bytes (a budget excess: a limit, not a wish)
 * are taken even in steps below MemoryMinChange=. */
static void reclaim(GPtrArray *order, uint64_t goal, uint64_t must, uint64_t *ret_done,
		    const VsMemConf *conf, VsMemState state)
{
	uint64_t left = goal;
	g_autofree char *gs = size_text(goal);

	g_ptr_array_sort(order, cmp_reclaim);
	if (goal == 0) {
		for (guint i = 0; i < order->len; i++) {
			Work *w = g_ptr_array_index(order, i);
			g_string_append_printf(w->why, " The %s host has no shortfall to reclaim this "
					       "tick and gives nothing back.", vs_mem_state_name(state));
		}
		*ret_done = 0;
		return;
	}
	for (guint i = 0; i < order->len; i++) {
		Work *w = g_ptr_array_index(order, i);
		uint64_t can = w->target > w->low ? w->target - w->low : 0;
		uint64_t take = MIN(MIN(can, w->step), left);
		g_autofree char *ts = size_text(take);
		g_autofree char *ms = size_text(conf->min_change);

		if (left == 0) {
			g_string_append_printf(w->why, " The host's reclaim of %s is covered by guests "
					       "with fewer shares per active page.", gs);
			continue;
		}
		if (can == 0) {
			g_string_append(w->why, " At its lower bound: gives nothing.");
			continue;
		}
		if (goal - left >= must && too_small(w, take, w->target - take, conf)) {
			g_string_append_printf(w->why, " Would give %s, below MemoryMinChange=%s: "
					       "skipped.", ts, ms);
			continue;
		}
		g_string_append_printf(w->why, " Gives %s (rank %u of %u by shares per active page%s) "
				       "toward the %s the %s host wants back.", ts, i + 1, order->len,
				       w->is_short ? "; short of memory, so last" : "", gs,
				       vs_mem_state_name(state));
		if (take == w->step && take < MIN(can, left))
			g_string_append(w->why, " MaxStepPerSecond= limits the step.");
		w->target -= take;
		left -= take;
	}
	*ret_done = goal - left;
}

static void give(GPtrArray *order, uint64_t goal, uint64_t *ret_done, const VsMemConf *conf)
{
	uint64_t left = goal;
	g_autofree char *gs = size_text(goal);

	g_ptr_array_sort(order, cmp_give);
	for (guint i = 0; i < order->len; i++) {
		Work *w = g_ptr_array_index(order, i);
		uint64_t can = w->high > w->target ? w->high - w->target : 0;
		uint64_t add = MIN(MIN(can, w->step), left);
		g_autofree char *as = size_text(add);
		g_autofree char *ms = size_text(conf->min_change);

		if (can == 0) {
			g_string_append(w->why, " At its maximum.");
			continue;
		}
		if (goal == 0) {
			g_string_append(w->why, " Nothing can go back this tick (no room above the "
					"soft exit line or in the budget).");
			continue;
		}
		if (left == 0) {
			g_string_append_printf(w->why, " The %s the host can give this tick went to "
					       "guests first in line (short ones first).", gs);
			continue;
		}
		if (too_small(w, add, w->target + add, conf)) {
			g_string_append_printf(w->why, " Would get %s, below MemoryMinChange=%s: "
					       "skipped.", as, ms);
			continue;
		}
		g_string_append_printf(w->why, " Gets %s back (%s, %u of %u in line).", as,
				       w->is_short ? "short of memory: first" : "by shares per active page",
				       i + 1, order->len);
		if (add == w->step && add < MIN(can, left))
			g_string_append(w->why, " MaxStepPerSecond= limits the step.");
		w->target += add;
		left -= add;
	}
	*ret_done = goal - left;
}

int vs_mem_plan(const VsMemPlanInput *in, VsMemPlan **ret_plan)
{
	g_autoptr(VsMemPlan) plan = NULL;
	g_autoptr(GPtrArray) movable = NULL;
	g_autofree Work *ws = NULL;
	const VsMemConf *conf;
	double factor;
	uint64_t host_limit, sum, excess = 0, shortfall = 0, exit_line = 0, goal;
	GString *summary;
	g_autofree char *hl = NULL, *gl = NULL;

	if (!in || !in->conf || (in->n_guests > 0 && !in->guests) || in->state >= VS_MEM_N_STATES)
		return -EINVAL;
	conf = in->conf;
	factor = in->state == VS_MEM_CRITICAL ? MAX(conf->critical_step_factor, 1.0) : 1.0;
	host_limit = scale(conf->host_step_per_s, factor, elapsed_s(in->now_us, in->last_plan_us));

	plan = g_new0(VsMemPlan, 1);
	plan->state = in->state;
	plan->decisions = g_array_sized_new(FALSE, TRUE, sizeof(VsMemDecision), in->n_guests);
	movable = g_ptr_array_sized_new(in->n_guests);
	ws = g_new0(Work, in->n_guests);
	for (guint i = 0; i < in->n_guests; i++) {
		Work *w = &ws[i];

		w->g = &in->guests[i];
		w->index = i;
		w->why = g_string_new(NULL);
		setup_guest(w, in, factor);
		if (!w->movable) {
			plan_fixed(w, conf);
			continue;
		}
		g_ptr_array_add(movable, w);
		if (w->cur < w->low) {
			/* A bound rose above the balloon (Floor= raised, the
			 * guest's use grew): the bound wins over pressure. */
			g_autofree char *l = size_text(w->low);
			g_string_append_printf(w->why, " Below its lower bound %s: grows to it first.", l);
			move_toward(w, w->low, conf);
		}
	}

	summary = g_string_new(NULL);
	sum = sum_targets(ws, in->n_guests);
	if (conf->budget && sum > conf->budget) {
		g_autofree char *s = size_text(sum);
		g_autofree char *b = size_text(conf->budget);
		excess = sum - conf->budget;
		g_string_append_printf(summary, "Guests hold %s, over the budget %s.", s, b);
	}
	if (in->mem_total) {
		double line = (conf->available_pct[VS_MEM_SOFT] + conf->hysteresis_pct) / 100.0 *
			      (double)in->mem_total;

		exit_line = line >= 1.8e19 ? UINT64_MAX : line <= 0 ? 0 : (uint64_t)line;
		if (in->mem_available < exit_line)
			shortfall = exit_line - in->mem_available;
	}
	hl = size_text(host_limit);
	if (in->state >= VS_MEM_SOFT || excess) {
		goal = MAX(excess, in->state >= VS_MEM_SOFT ? shortfall : 0);
		if (in->state >= VS_MEM_HARD)
			goal = MAX(goal, host_limit);
		if (goal > host_limit) {
			g_string_append_printf(summary, " The host rate allows %s this tick%s.", hl,
					       factor > 1 ? " (critical: MemoryCriticalStepFactor=)" : "");
			goal = host_limit;
		}
		plan->reclaim_goal = goal;
		gl = size_text(goal);
		g_string_append_printf(summary, " State %s: reclaim %s%s.", vs_mem_state_name(in->state), gl,
				       in->state >= VS_MEM_HARD ? " (continuous at the host rate)" : "");
		reclaim(movable, goal, MIN(excess, goal), &plan->reclaimed, conf, in->state);
	} else {
		uint64_t room = in->mem_available > exit_line ? in->mem_available - exit_line : 0;

		if (!in->mem_total)
			room = 0;
		if (conf->budget)
			room = MIN(room, conf->budget - MIN(sum, conf->budget));
		goal = MIN(room, host_limit);
		plan->give_goal = goal;
		gl = size_text(goal);
		g_string_append_printf(summary, " State normal: up to %s can go back to the guests "
				       "(room above the soft exit line%s, host rate %s).", gl,
				       conf->budget ? " and within the budget" : "", hl);
		give(movable, goal, &plan->given, conf);
	}
	for (guint i = 0; i < in->n_guests; i++) {
		VsMemDecision d = { 0 };

		decide(&d, &ws[i], in->state);
		g_array_append_val(plan->decisions, d);
		g_string_free(ws[i].why, TRUE);
	}
	plan->targets_sum = sum_targets(ws, in->n_guests);
	plan->summary = g_strdup(summary->str[0] == ' ' ? summary->str + 1 : summary->str);
	g_string_free(summary, TRUE);
	*ret_plan = g_steal_pointer(&plan);
	return 0;
}

const VsMemDecision *vs_mem_plan_find(const VsMemPlan *plan, const char *uuid)
{
	for (guint i = 0; i < plan->decisions->len; i++) {
		const VsMemDecision *d = &g_array_index(plan->decisions, VsMemDecision, i);
		if (strcmp(d->uuid, uuid) == 0)
			return d;
	}
	return NULL;
}

void vs_mem_plan_free(VsMemPlan *plan)
{
	if (!plan)
		return;
	if (plan->decisions) {
		for (guint i = 0; i < plan->decisions->len; i++) {
			VsMemDecision *d = &g_array_index(plan->decisions, VsMemDecision, i);
			g_free(d->name);
			g_free(d->reason);
		}
		g_array_free(plan->decisions, TRUE);
	}
	g_free(plan->summary);
	g_free(plan);
}
