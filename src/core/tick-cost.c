/* Per-phase tick costs; see tick-cost.h. */
#include "config.h"

#include "core/tick-cost.h"

#include <glib.h>

static const char *const names[VS_TICK_N_PHASES] = {
	[VS_TICK_HOST] = "host",
	[VS_TICK_LIBVIRT] = "libvirt",
	[VS_TICK_THREADS] = "threads",
	[VS_TICK_STATS] = "stats",
	[VS_TICK_STEAL] = "steal",
	[VS_TICK_CHANGES] = "changes",
	[VS_TICK_CPU] = "cpu",
	[VS_TICK_MEM] = "mem",
};

const char *vs_tick_phase_name(VsTickPhase phase)
{
	return (unsigned)phase < VS_TICK_N_PHASES ? names[phase] : NULL;
}

void vs_tick_cost_add(VsTickCost *cost, const int64_t *phase_us)
{
	cost->ticks++;
	for (int i = 0; i < VS_TICK_N_PHASES; i++) {
		int64_t us = MAX(phase_us[i], 0);

		cost->last_us[i] = us;
		cost->total_us[i] += us;
		cost->max_us[i] = MAX(cost->max_us[i], us);
	}
}
