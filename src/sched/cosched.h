/* Co-scheduling (CoSchedule=, SkewThreshold=): the planner. Pure (no I/O,
 * no clock, no logging) but stateful across ticks, as hysteresis needs:
 * each call takes one tick's snapshot, the guests' effective policies, the
 * steal collector's per-vCPU intervals (through a lookup callback) and the
 * Applied record, and returns the actions for the actuator
 * (cosched-act.h) and, per guest, the skew report and the reasons.
 *
 * - Skew (skew.h) is measured for every running guest with two or more
 *   vCPU threads, whatever its CoSchedule=, and kept for a minute.
 * - relaxed: when the guest's skew over the window exceeds SkewThreshold=,
 *   every vCPU lagging its least delayed sibling by more than the threshold
 *   gets a nice boost of VS_COSCHED_NICE_STEP below its original nice, one
 *   more step for every further window above the threshold, up to
 *   VS_COSCHED_MAX_LEVEL steps; when the skew falls under half the
 *   threshold every boost of the guest is released; in between the boosts
 *   stay (hysteresis). A vCPU with a SCHED_DEADLINE reservation from vsched
 *   is never boosted (nice does not apply to it). Nothing is ever stopped
 *   or frozen (ARCHITECTURE.md, invariant 6).
 * - gang: reasons only: with Reservation= the deadline actions of the CPU
 *   plan give every vCPU the same period in one batch; without, a
 *   guest-level cpu.max window needs the cgroup v2 cpu controller.
 * - CoSchedule=gang or relaxed on an SMT host with core scheduling
 *   (caps.sched_core): one core-scheduling cookie per guest for its vCPU
 *   threads; without it a reason says so and nothing else changes.
 *
 * State per guest (levels per vCPU thread identity) is adopted from Applied
 * after a restart, so a restarted daemon neither repeats nor forgets a
 * boost. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/snapshot.h"
#include "policy/policy.h"
#include "sched/applied.h"
#include "sched/skew.h"
#include "steal/account.h"
#include "virt/domain.h"

/* Nice levels per boost step, and the most steps (CFS gives a thread
 * about 1.25 times the weight per nice level: 5 levels ≈ ×3, 10 ≈ ×9). */
#define VS_COSCHED_NICE_STEP 5
#define VS_COSCHED_MAX_LEVEL 2

typedef enum {
	VS_COSCHED_ACTION_NICE_CLEAR,  /* back to the nice Applied recorded */
	VS_COSCHED_ACTION_NICE,        /* nice = original − delta (at least −20) */
	VS_COSCHED_ACTION_CORE_CREATE, /* a new core-scheduling cookie for the thread */
	VS_COSCHED_ACTION_CORE_SHARE,  /* the cookie of leader's thread, shared to the thread */
} VsCoschedActionKind;

/* One thing to do to one vCPU thread, in acting order (clears first; a
 * guest's CORE_CREATE before its CORE_SHAREs). */
typedef struct VsCoschedAction {
	VsCoschedActionKind kind;
	char uuid[37];
	char *domain;
	char *what;              /* "vcpu1" */
	VsThread thread;         /* identity collected this tick */
	int delta;               /* NICE: levels below the original nice */
	VsThread leader;         /* CORE_SHARE: the thread holding the cookie */
	char *reason;
} VsCoschedAction;

/* Frees an action and what it owns (for hand-built plans, e.g. tests). */
void vs_cosched_action_free(VsCoschedAction *a);
/* "vcpu1 (TID 42) of db: nice boost 5 below its original" - one line for
 * logs; caller frees. */
char *vs_cosched_action_describe(const VsCoschedAction *a);

/* One vCPU in a guest's report. */
typedef struct VsCoschedVcpuReport {
	guint index;
	pid_t tid;
	VsSkewVcpu skew;         /* its figures over the window */
	int boost;               /* nice levels below its original; 0: none */
} VsCoschedVcpuReport;

/* What the planner says about one guest, for show, steal and explain. */
typedef struct VsCoschedGuestReport {
	char uuid[37];
	char *name;
	const char *mode;        /* "none", "gang", "relaxed" */
	int64_t threshold_us;    /* SkewThreshold= */
	VsSkew skew;             /* over the last window */
	uint64_t max_1m_ns;      /* the largest valid skew of the last minute */
	guint n_1m;              /* measurements in it */
	bool boosting;           /* some vCPU is boosted */
	GArray *vcpus;           /* VsCoschedVcpuReport, by index */
	GPtrArray *reasons;      /* char *, sentences for explain */
} VsCoschedGuestReport;

typedef struct VsCoschedPlan {
	GPtrArray *actions;      /* VsCoschedAction, in acting order */
	GHashTable *guests;      /* uuid → VsCoschedGuestReport */
} VsCoschedPlan;

/* Frees a plan with its actions and reports. */
void vs_cosched_plan_free(VsCoschedPlan *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsCoschedPlan, vs_cosched_plan_free)
/* The report of guest @uuid (borrowed), or NULL. */
const VsCoschedGuestReport *vs_cosched_plan_guest(const VsCoschedPlan *p, const char *uuid);

typedef struct VsCoschedInput {
	const VsSnapshot *snapshot;    /* its mono_us is the window's end */
	const VsPolicySet *policies;   /* may be NULL: defaults only */
	const VsOverrides *overrides;  /* may be NULL */
	int64_t now_us;                /* wall clock, for override expiry */
	/* The intervals of vCPU @index of guest @uuid (the steal collector's),
	 * or NULL when there are none. */
	const VsStealSeries *(*series)(gpointer data, const char *uuid, guint index);
	gpointer data;
	const VsApplied *applied;      /* may be NULL */
	/* Threads whose core-scheduling cookie is in place ("TID:START" →
	 * anything; vs_cosched_act_cookies()); may be NULL. */
	GHashTable *cookies;
	/* The guests' effective policies kept across ticks; NULL: each
	 * merged from @policies and @overrides. */
	VsPolicyCache *policy_cache;
} VsCoschedInput;

typedef struct VsCosched VsCosched;

/* A planner with no state yet (no guest seen); free with vs_cosched_free(). */
VsCosched *vs_cosched_new(void);
void vs_cosched_free(VsCosched *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsCosched, vs_cosched_free)

/* Plans one tick, updating the state of @c (levels, skew history; guests
 * no longer running are forgotten). Returns a new plan. */
VsCoschedPlan *vs_cosched_plan(VsCosched *c, const VsCoschedInput *in);
