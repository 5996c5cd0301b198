/* The memory view: what the daemon's memory step knows after a tick, as
 * the control server (`vschedctl mem`, `setmem`, `explain`) and the metrics
 * read it through VsCtlBackend.mem. Plain borrowed data, valid until the
 * next tick; nothing here is computed. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "mem/follow.h"
#include "mem/mem.h"
#include "mem/plan.h"
#include "mem/pressure.h"

typedef struct VsMemView {
	bool acting;                  /* targets are set (not --dry-run, Act=yes) */
	const VsMemConf *conf;
	const VsMemPressure *pressure;
	int64_t now_us;               /* monotonic time of the tick the view is of */
	uint64_t guests_current;      /* sum of the managed guests' balloons */
	const char *const *trigger_lines; /* PSI trigger lines armed, or NULL */
	const char *trigger_problem;  /* why no trigger is armed, or NULL */
	const VsMemPlan *plan;        /* NULL before the first plan */
	const VsMemGuest *guests;     /* the planner's input, one per running guest */
	guint n_guests;
	const VsMemFollow *const *follow; /* parallel to @guests; an entry may be NULL */
} VsMemView;
