/* The CPU plan: from one tick's snapshot, the guests' effective policies,
 * the daemon's CPU sets, the previous placement and the Applied record, the
 * list of CPU actions for the actuator (affinity of every vCPU, emulator and
 * I/O thread; SCHED_DEADLINE reservations set and cleared), each with a
 * sentence saying why, and the reasons per guest for `vschedctl explain`.
 *
 * Pure: no I/O, no clock (the caller passes the time for override expiry),
 * no logging. It runs the placement planner (placement.h) on the guests'
 * CPU keys, then, per vCPU:
 * - Pin=VCPU:CPULIST overrides the planned affinity of that vCPU;
 * - Reservation=RUNTIME/PERIOD gives every vCPU of the guest a deadline
 *   reservation when admission control (deadline.h) admits all of them
 *   (all or none: a guest whose vCPUs get unequal guarantees behaves worse
 *   than one without). Without cpuset partitions the kernel accepts a
 *   deadline thread only when its affinity spans the whole root domain, so
 *   a reserved vCPU's affinity is every online CPU, and a reason says so; a
 *   vCPU pinned by Pin= then cannot be reserved. Guests already reserved by
 *   vsched are admitted first, so a newcomer cannot take their bandwidth. A
 *   refusal (admission, or the kernel's at an earlier tick) leaves the guest
 *   on its non-deadline placement with the reason.
 * - a thread vsched reserved (per Applied) that should not be reserved any
 *   more gets a DEADLINE_CLEAR, which the actuator runs before narrowing
 *   its affinity.
 * Emulator and I/O threads get the guest's emulator affinity. The guest's
 * cgroup v2 values (Weight=, Limit=, LimitBurst=, its cpusets and those of
 * its vcpuN cgroups) are planned by cgplan.h.
 *
 * Restore when a policy stops managing something: every setting the
 * Applied record holds for a planned guest that this plan no longer sets
 * (Weight= removed, a vCPU no longer planned, ...) gets an action putting
 * the recorded original back (restore set), with the reason. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/snapshot.h"
#include "policy/policy.h"
#include "sched/applied.h"
#include "sched/placement.h"
#include "util/cpuset.h"
#include "virt/domain.h"

typedef enum {
	VS_CPU_ACTION_DEADLINE_CLEAR, /* back to the policy Applied recorded */
	VS_CPU_ACTION_CGROUP,         /* a cgroup v2 file of the guest */
	VS_CPU_ACTION_AFFINITY,
	VS_CPU_ACTION_DEADLINE,
} VsCpuActionKind;

/* One thing to set on one thread. Actions are in acting order: every
 * DEADLINE_CLEAR, then every CGROUP, then every AFFINITY, then every
 * DEADLINE (a deadline thread must get its wide affinity before the
 * reservation and keep it until the reservation is gone; a cpuset cgroup
 * bounds the affinity a thread can have, so it goes first). */
typedef struct VsCpuAction {
	VsCpuActionKind kind;
	char uuid[37];
	char *domain;            /* the guest's name */
	char *what;              /* "vcpu2", "emulator", "iothread" */
	VsThread thread;         /* copy, with the identity collected this tick */
	VsCpuSet *cpus;          /* AFFINITY */
	int64_t runtime_us;      /* DEADLINE */
	int64_t period_us;
	char *reason;            /* why, with the policy's provenance */
	/* CGROUP: @value for @dir/@file; @thread is the guest's QEMU main
	 * thread, which owns the cgroup (what names "guest" or "vcpuN"). */
	char *dir;
	char *file;
	char *value;
	/* Puts back the original the Applied record holds (AFFINITY: @cpus
	 * is it; CGROUP: @value is it) and forgets the entry. */
	bool restore;
} VsCpuAction;

/* Frees an action and what it owns (for hand-built plans, e.g. benchmarks). */
void vs_cpu_action_free(VsCpuAction *a);

/* What the plan says about one vCPU, for `vschedctl show`. */
typedef struct VsCpuVcpuPlan {
	char *affinity;          /* the CPU list planned */
	char *placement;         /* "dedicated CPU 3", "shared pool 2-7, home CPU 4", "pinned (Pin=)" */
	char *reservation;       /* "1ms/100ms", "refused: ...", or NULL when none asked */
} VsCpuVcpuPlan;

typedef struct VsCpuPlanInput {
	const VsSnapshot *snapshot;
	const VsPolicySet *policies;   /* may be NULL: defaults only */
	const VsOverrides *overrides;  /* may be NULL */
	int64_t now_us;                /* wall clock, for override expiry */
	const VsCpuSet *managed;       /* vs_conf_cpu_sets() */
	const VsCpuSet *housekeeping;
	double overcommit_limit;
	const VsPlacement *previous;   /* the last plan's placement, or NULL */
	const VsApplied *applied;      /* may be NULL: nothing applied */
	/* Reservations the kernel refused at an earlier tick:
	 * vs_cpu_deadline_key() → reason (char *); may be NULL. */
	GHashTable *refused;
} VsCpuPlanInput;

typedef struct VsCpuPlan {
	GPtrArray *actions;            /* VsCpuAction, in acting order */
	/* Actions freed by vs_cpu_plan_drop_actions(), by kind. */
	guint dropped[VS_CPU_ACTION_DEADLINE + 1];
	VsPlacement *placement;        /* NULL when no guest runs */
	GHashTable *reasons;           /* uuid → char ** (NULL-terminated sentences) */
	GHashTable *vcpus;             /* "uuid/INDEX" → VsCpuVcpuPlan */
} VsCpuPlan;

/* Plans. Returns 0 and a new plan in *ret (free with vs_cpu_plan_free()), or
 * -EINVAL with @error when the placement planner refuses the input (no
 * managed CPU, a bad overcommit limit); *ret is untouched then. */
int vs_cpu_plan(const VsCpuPlanInput *in, VsCpuPlan **ret, GError **error);
void vs_cpu_plan_free(VsCpuPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsCpuPlan, vs_cpu_plan_free)

/* A 64-bit digest of what vs_cpu_plan() reads from @snap: the running
 * guests' threads by identity (vs_changes_threads_hash()), each one's name,
 * class, cgroup paths and vCPU counts, the online CPUs and the host
 * capabilities the plan depends on. With equal digests and the same
 * policies, overrides, CPU sets, Applied record and refusals, a new plan
 * would be the one made last. Hashes values; allocates nothing. */
uint64_t vs_cpu_plan_inputs_hash(const VsSnapshot *snap);

/* Frees the actions of @plan once they have been acted on (or logged)
 * and read, keeping their number by kind (vs_cpu_plan_count()): the
 * reasons, the vCPU plans and the placement stay for `vschedctl show` and
 * `explain` and the next plan. A plan of 10 000 threads holds some 3 MiB
 * of actions (heaptrack), which would otherwise stay until the next plan
 * and be alive beside the next plan's while it is made. */
void vs_cpu_plan_drop_actions(VsCpuPlan *plan);
/* The number of actions of @kind @plan has or had before
 * vs_cpu_plan_drop_actions(). */
guint vs_cpu_plan_count(const VsCpuPlan *plan, VsCpuActionKind kind);
/* The reasons of the guest @uuid (borrowed, NULL-terminated), or NULL. */
const char *const *vs_cpu_plan_reasons(const VsCpuPlan *plan, const char *uuid);
/* The plan of vCPU @index of guest @uuid (borrowed), or NULL. */
const VsCpuVcpuPlan *vs_cpu_plan_vcpu(const VsCpuPlan *plan, const char *uuid, guint index);
/* "vcpu0 of db: set affinity to CPUs 2-3" - one line for logs; caller frees. */
char *vs_cpu_action_describe(const VsCpuAction *a);
/* Appends what vs_cpu_action_describe() says of @a to @s. */
void vs_cpu_action_describe_to(GString *s, const VsCpuAction *a);
/* A 64-bit digest of what vs_cpu_action_describe() says of @a (kind,
 * thread, guest, target value): equal digests mean, but for a 2^-64
 * chance, the same line. Formats nothing, allocates nothing. */
uint64_t vs_cpu_action_hash(const VsCpuAction *a);
/* Where @e comes from, for reasons: "policy 10-db.policy:5", "override
 * ov-3" or "built-in default"; caller frees. */
char *vs_cpu_plan_from(const VsEffectiveEntry *e);
/* The key of a thread's identity: "TID:START_TIME"; caller frees. */
char *vs_cpu_thread_key(const VsThread *t);
/* The key of a reservation of a thread in the refused table:
 * "TID:START_TIME/RUNTIME/PERIOD"; caller frees. */
char *vs_cpu_deadline_key(const VsThread *t, int64_t runtime_us, int64_t period_us);
