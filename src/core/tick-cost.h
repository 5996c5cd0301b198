/* What each phase of the daemon's tick costs in CPU time: the last tick's
 * figure, the sum over all ticks (for a mean) and the largest, per phase.
 * Filled by the daemon, shown by `vschedctl status` and read by the scale
 * benchmark (tests/bench/bench-scale.sh). */
#pragma once

#include <stdint.h>

typedef enum {
	VS_TICK_HOST,      /* vs_host_refresh: memory and pressure */
	VS_TICK_LIBVIRT,   /* libvirt calls of the inventory (listing, per-domain
			    * calls, the bulk statistics call) */
	VS_TICK_THREADS,   /* status XML, /proc threads and their cross-check */
	VS_TICK_STATS,     /* parsing the bulk statistics */
	VS_TICK_STEAL,     /* steal collection and alerts */
	VS_TICK_CHANGES,   /* the inventory diff and its log lines */
	VS_TICK_CPU,       /* CPU fingerprint, plan and actuation, entitlements,
			    * co-scheduling */
	VS_TICK_MEM,       /* memory pressure, balloon targets and their commands */
	VS_TICK_N_PHASES
} VsTickPhase;

typedef struct VsTickCost {
	uint64_t ticks;                        /* ticks added */
	int64_t last_us[VS_TICK_N_PHASES];     /* the last tick's */
	int64_t total_us[VS_TICK_N_PHASES];    /* sum over the ticks */
	int64_t max_us[VS_TICK_N_PHASES];      /* the largest of one tick */
} VsTickCost;

/* The phase's name in `vschedctl status --json` ("host", "libvirt", ...);
 * a static string, NULL for an unknown phase. */
const char *vs_tick_phase_name(VsTickPhase phase);

/* Adds one tick whose phases cost @phase_us (VS_TICK_N_PHASES values, µs). */
void vs_tick_cost_add(VsTickCost *cost, const int64_t *phase_us);
