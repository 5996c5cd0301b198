/* Balloon convergence tracking; see follow.h. */
#include "config.h"

#include "mem/follow.h"

#include "util/units.h"

static uint64_t gap(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

void vs_mem_follow_clear(VsMemFollow *f)
{
	g_free(f->why);
	*f = (VsMemFollow){ 0 };
}

const char *vs_mem_follow_state_name(VsMemFollowState state)
{
	switch (state) {
	case VS_MEM_FOLLOW_IDLE:
		return "idle";
	case VS_MEM_FOLLOW_MOVING:
		return "moving";
	case VS_MEM_FOLLOW_CONVERGED:
		return "converged";
	case VS_MEM_FOLLOW_STUCK:
		return "stuck";
	case VS_MEM_FOLLOW_NO_DEVICE:
		return "no-balloon";
	case VS_MEM_FOLLOW_FAILED:
		return "refused";
	}
	return "?";
}

bool vs_mem_follow_may_ask(const VsMemFollow *f, uint64_t target, uint64_t current,
			   int64_t now_us)
{
	switch (f->state) {
	case VS_MEM_FOLLOW_NO_DEVICE:
		return false;
	case VS_MEM_FOLLOW_STUCK:
		if ((f->target < current) != (target < current))
			return true;
		return now_us >= f->retry_us;
	case VS_MEM_FOLLOW_FAILED:
		return now_us >= f->retry_us;
	case VS_MEM_FOLLOW_IDLE:
	case VS_MEM_FOLLOW_MOVING:
	case VS_MEM_FOLLOW_CONVERGED:
		break;
	}
	return true;
}

void vs_mem_follow_asked(VsMemFollow *f, uint64_t target, uint64_t current, int64_t now_us)
{
	g_clear_pointer(&f->why, g_free);
	f->target = target;
	f->asked_us = now_us;
	f->start_current = current;
	f->last_current = current;
	f->best_gap = gap(current, target);
	f->progress_us = now_us;
	f->retry_us = 0;
	f->state = f->best_gap <= VS_MEM_FOLLOW_TOLERANCE ? VS_MEM_FOLLOW_CONVERGED
							   : VS_MEM_FOLLOW_MOVING;
}

void vs_mem_follow_failed(VsMemFollow *f, const char *why, int64_t now_us)
{
	g_free(f->why);
	f->why = g_strdup(why);
	f->state = VS_MEM_FOLLOW_FAILED;
	f->retry_us = now_us + VS_MEM_FOLLOW_RETRY_US;
}

void vs_mem_follow_no_device(VsMemFollow *f, const char *why)
{
	g_free(f->why);
	f->why = g_strdup(why);
	f->state = VS_MEM_FOLLOW_NO_DEVICE;
}

int vs_mem_follow_observe(VsMemFollow *f, uint64_t current, int64_t now_us)
{
	uint64_t prev = f->last_current;
	uint64_t g = gap(current, f->target);

	f->last_current = current;
	switch (f->state) {
	case VS_MEM_FOLLOW_MOVING:
		if (g <= VS_MEM_FOLLOW_TOLERANCE) {
			f->state = VS_MEM_FOLLOW_CONVERGED;
			return f->state;
		}
		if (g + VS_MEM_FOLLOW_TOLERANCE <= f->best_gap) {
			f->best_gap = g;
			f->progress_us = now_us;
			return -1;
		}
		if (now_us - f->progress_us >= VS_MEM_FOLLOW_STUCK_US) {
			g_autofree char *at = vs_format_size(current);
			g_autofree char *want = vs_format_size(f->target);
			g_autofree char *from = vs_format_size(f->start_current);
			uint64_t moved = gap(current, f->start_current);

			g_free(f->why);
			f->why = moved <= VS_MEM_FOLLOW_TOLERANCE
				? g_strdup_printf("the balloon stayed at %s for %" G_GINT64_FORMAT
						  " s after a target of %s (no balloon driver in the "
						  "guest?)", at, (now_us - f->asked_us) / G_USEC_PER_SEC,
						  want)
				: g_strdup_printf("the balloon went from %s to %s and stopped short "
						  "of the target %s for %" G_GINT64_FORMAT " s (the "
						  "guest cannot give more?)", from, at, want,
						  (now_us - f->progress_us) / G_USEC_PER_SEC);
			f->state = VS_MEM_FOLLOW_STUCK;
			f->retry_us = now_us + VS_MEM_FOLLOW_RETRY_US;
			return f->state;
		}
		return -1;
	case VS_MEM_FOLLOW_STUCK:
	case VS_MEM_FOLLOW_FAILED:
		/* The balloon moved without us: something changed in the guest. */
		if (gap(current, prev) > VS_MEM_FOLLOW_TOLERANCE) {
			g_clear_pointer(&f->why, g_free);
			f->retry_us = 0;
			f->best_gap = g;
			f->progress_us = now_us;
			f->state = g <= VS_MEM_FOLLOW_TOLERANCE ? VS_MEM_FOLLOW_CONVERGED
								: VS_MEM_FOLLOW_MOVING;
			return f->state;
		}
		return -1;
	case VS_MEM_FOLLOW_CONVERGED:
		/* Someone else (virsh setmem) moved it: no longer ours to track. */
		if (g > VS_MEM_FOLLOW_TOLERANCE)
			f->state = VS_MEM_FOLLOW_IDLE;
		return -1;
	case VS_MEM_FOLLOW_IDLE:
	case VS_MEM_FOLLOW_NO_DEVICE:
		break;
	}
	return -1;
}
