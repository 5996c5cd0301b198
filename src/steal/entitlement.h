/* Entitlement: the CPU each vCPU of the running guests is promised by what
 * the CPU plan set up, in CPUs (0.25 = a quarter of one CPU), with a
 * sentence saying where the figure comes from. Steal accounting compares
 * it with the CPU the vCPU received to get its deficit
 * (vs_steal_collector_set_entitlement()).
 *
 * The model, for the case where every vCPU wants all the CPU it can get
 * (the promise a guest can rely on):
 * - a vCPU with a SCHED_DEADLINE reservation (a DEADLINE action of the
 *   plan) is entitled to RUNTIME/PERIOD: the kernel guarantees that much
 *   and throttles it beyond. Its bandwidth is taken off the CPUs of its
 *   affinity, evenly;
 * - the other vCPUs share what is left of the CPUs of their affinity (the
 *   plan's AFFINITY action) in proportion to their weight: the guest's
 *   Weight= split evenly over its vCPUs in the group (libvirt's per-vCPU
 *   cgroups have equal weights below the guest's), no vCPU above one CPU,
 *   and, with Limit=, no vCPU above its even part of the guest's cap.
 *   What a capped vCPU cannot take goes to the others (weighted max-min
 *   fairness, computed by water-filling). A dedicated vCPU is a group of
 *   one on its own CPU: one CPU, or its part of Limit=.
 * vCPUs with equal affinity form a group. Groups whose CPUs overlap without
 * being equal (Pin=, AllowedCPUs=) are served narrowest first, each from
 * what the earlier ones left on its CPUs: exact for equal or disjoint sets
 * (dedicated CPUs, the shared pool), an estimate otherwise (the kernel's
 * load balancing does not promise more). Host work outside the guests is
 * not counted.
 *
 * Pure: no I/O, no clock, no logging. */
#pragma once

#include <glib.h>

#include "core/snapshot.h"
#include "policy/policy.h"
#include "sched/cpuplan.h"

typedef struct VsStealEntitlementInput {
	const VsCpuPlan *plan;
	const VsSnapshot *snapshot;     /* the guests the plan was made for */
	const VsPolicySet *policies;    /* may be NULL: defaults only */
	const VsOverrides *overrides;   /* may be NULL */
	int64_t now_us;                 /* wall clock, for override expiry */
} VsStealEntitlementInput;

/* One vCPU's entitlement. */
typedef struct VsStealEntitlement {
	char uuid[37];
	guint index;
	double cpus;                    /* CPUs, 0..1 */
	char *reason;                   /* "weight 100 of 400 on CPUs 1-2 ...": how it was found */
} VsStealEntitlement;

/* The entitlement of every vCPU the plan places (an AFFINITY action for a
 * "vcpuN" of a guest of the snapshot), in the order of the plan's actions.
 * Returns a new array of VsStealEntitlement (with a clear function), empty
 * when @in has no plan. */
GArray *vs_steal_entitlement_compute(const VsStealEntitlementInput *in);

/* The entry of vCPU @index of guest @uuid in @list, or NULL. */
const VsStealEntitlement *vs_steal_entitlement_find(const GArray *list, const char *uuid,
						    guint index);
