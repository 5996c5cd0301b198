/* The memory room (issue 6): types shared by the pressure state machine
 * (mem/pressure.h), the PSI trigger source (mem/psi-trigger.h), the guest
 * statistics sanitizer (mem/stats-sanitize.h) and the balloon target
 * planner (mem/plan.h), and by the actuator and daemon wiring that use them.
 * Plain data, no I/O. Sizes are bytes, times microseconds (monotonic clock
 * unless a name says otherwise). doc/memory.md describes the method. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* The host's memory state, in order of severity. */
typedef enum {
	VS_MEM_NORMAL,    /* no pressure: memory is given back to the guests */
	VS_MEM_SOFT,      /* reclaim what brings the host back over the line, no give-back */
	VS_MEM_HARD,      /* reclaim continuously at the host rate */
	VS_MEM_CRITICAL,  /* reclaim continuously at MemoryCriticalStepFactor times the rates */
	VS_MEM_N_STATES,
} VsMemState;

/* "normal", "soft", "hard", "critical"; static string. */
const char *vs_mem_state_name(VsMemState state);

/* The memory settings of vschedd.conf ([Daemon] Memory*= keys, see
 * vschedd.conf(5); VsConf embeds this as its @mem member, the key table in
 * src/daemon/conf.c holds the defaults). Percentages are 0..100. */
typedef struct VsMemConf {
	uint64_t budget;             /* MemoryBudget=: the guests' targets sum to at most this; 0 = none */
	/* MemAvailable below this percentage of MemTotal enters the state
	 * (indexed by VsMemState; [VS_MEM_NORMAL] unused). */
	double available_pct[VS_MEM_N_STATES];
	double soft_psi_some;        /* MemorySoftPressure=: PSI some avg10 (%) entering soft */
	double hard_psi_some;        /* MemoryHardPressure=: PSI some avg10 (%) entering hard */
	double critical_psi_full;    /* MemoryCriticalPressure=: PSI full avg10 (%) entering critical */
	double soft_swap_pct;        /* MemorySoftSwap=: swap in use (% of SwapTotal) entering soft; 0 = off */
	double hysteresis_pct;       /* MemoryHysteresis=: a state is left only when MemAvailable is this
				      * many points of MemTotal above its entry line, swap this many points
				      * below it, and PSI under half its entry threshold */
	int64_t min_dwell_us;        /* MemoryMinDwell=: least time in a state before a lower one */
	int64_t trigger_window_us;   /* MemoryTriggerWindow=: PSI trigger window (rounded up to the kernel's minimum) */
	int64_t trigger_some_us;     /* MemoryTriggerSome=: stall per window of the "some" trigger; 0 = not armed */
	int64_t trigger_full_us;     /* MemoryTriggerFull=: stall per window of the "full" trigger; 0 = not armed */
	uint64_t host_step_per_s;    /* MemoryHostStepPerSecond=: all guests' changes together, per second */
	double critical_step_factor; /* MemoryCriticalStepFactor=: rates (host and per guest) times this in critical */
	uint64_t min_change;         /* MemoryMinChange=: smaller target changes are skipped */
	int64_t stats_period_us;     /* MemoryStatsPeriod=: guests' balloon statistics period; older than 3x is stale */
} VsMemConf;

/* Flags of sanitized guest statistics (VsMemStats.flags): what was wrong
 * with the numbers the guest reported. */
typedef enum {
	VS_MEM_STATS_MISSING = 1 << 0,       /* no usable figure at all (no balloon driver or no stats period) */
	VS_MEM_STATS_STALE = 1 << 1,         /* last-update older than 3x the period, or not advancing */
	VS_MEM_STATS_CLOCK_AHEAD = 1 << 2,   /* last-update in the future of the host clock */
	VS_MEM_STATS_CLAMPED = 1 << 3,       /* a value out of its possible range was clamped */
	VS_MEM_STATS_IMPOSSIBLE = 1 << 4,    /* values contradict each other beyond clamping */
	VS_MEM_STATS_COUNTER_RESET = 1 << 5, /* a counter went backwards (guest reboot or garbage) */
	VS_MEM_STATS_ESTIMATED = 1 << 6,     /* used estimated from unused + disk caches (no usable) */
} VsMemStatsFlag;

/* A guest's balloon statistics after vs_mem_stats_sanitize(): plain data,
 * copyable; the caller keeps the last one per guest and passes it back as
 * @prev next tick. */
typedef struct VsMemStats {
	guint flags;                 /* VsMemStatsFlag */
	bool trusted;                /* @used is fresh and consistent: the planner may
				      * reclaim down to used + Margin */
	uint64_t current;            /* the balloon size, clamped to [0, maximum] */
	uint64_t maximum;
	uint64_t used;               /* what the guest cannot give without swapping:
				      * current - usable; valid when trusted */
	uint64_t usable;             /* guest's MemAvailable (or the estimate); valid when trusted */
	bool have_deltas;            /* the two deltas below are valid (counters advanced normally) */
	uint64_t major_faults_delta; /* since the previous statistics */
	uint64_t swap_in_delta;      /* bytes, since the previous statistics */
	bool have_last_used;         /* some earlier (or this) sample was trusted */
	uint64_t last_used;          /* @used of the newest trusted sample */
	/* Carried to the next call. */
	bool have_counters;
	uint64_t major_fault, swap_in;
	int64_t last_update;         /* guest's seconds since the epoch, 0 unknown */
	int64_t last_update_seen_us; /* monotonic time @last_update was first seen with this value */
	char problem[256];           /* what was wrong, one or more sentences; "" when nothing */
} VsMemStats;

/* One guest as the planner sees it: identity, the balloon, the sanitized
 * statistics, the effective [Memory] policy keys, an override, and what the
 * actuator knows. The caller fills it each tick; strings are borrowed. */
typedef struct VsMemGuest {
	char uuid[37];
	const char *name;
	uint64_t current;            /* balloon size now (libvirt's actual) */
	uint64_t maximum;            /* the domain's maximum memory */
	VsMemStats stats;            /* sanitized */
	/* Effective [Memory] keys (policy/policy.h). */
	bool balloon;                /* Balloon=: false leaves the guest alone */
	uint64_t floor;              /* Floor=: 0 when unset */
	int64_t shares;              /* Shares= */
	uint64_t margin;             /* Margin= */
	double idle_tax;             /* IdleTax= as a fraction, 0 .. 0.99 */
	uint64_t max_step_per_s;     /* MaxStepPerSecond= */
	/* [Memory] Target= (normally an override from `vschedctl setmem`). */
	bool has_override;
	uint64_t override_target;
	char override_origin[128];   /* "override ov-3" or "FILE:LINE", for reasons */
	/* From the actuator. */
	uint64_t last_target;        /* last target set; 0 never */
	int64_t last_target_us;      /* when (monotonic); 0 never */
	bool not_following;          /* the balloon does not converge (no driver, stuck) */
	const char *not_following_why; /* NULL or the actuator's sentence */
} VsMemGuest;

typedef enum {
	VS_MEM_HOLD,    /* no command this tick */
	VS_MEM_GROW,
	VS_MEM_SHRINK,
} VsMemAction;

/* "hold", "grow", "shrink"; static string. */
const char *vs_mem_action_name(VsMemAction action);

/* The planner's decision for one guest. */
typedef struct VsMemDecision {
	char uuid[37];
	char *name;
	VsMemAction action;          /* HOLD: nothing to do (skipped small changes included) */
	uint64_t current;
	uint64_t target;             /* bytes; == current when HOLD */
	uint64_t low, high;          /* the bounds in force: low = max(Floor, used + Margin, ...), high = maximum */
	uint64_t floor;              /* Floor= (0 unset) */
	bool trusted;                /* the guest's statistics were trustworthy this tick */
	uint64_t used;               /* sanitized use (valid when trusted; else the last trusted one or 0) */
	double shares_per_page;      /* shares per MiB, idle memory counted with the idle tax (ESX's rho) */
	bool short_of_memory;        /* low usable memory, major faults or swap-in rising */
	char *reason;                /* one or more sentences: bounds, tax, rates, budget, state */
} VsMemDecision;
