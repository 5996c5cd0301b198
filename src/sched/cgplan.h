/* The cgroup part of the CPU plan: from one guest's effective policy and
 * its planned placement, the cgroup v2 values vsched sets in the guest's
 * cgroup (found from its real path, vs_cgroup_domain_dir()) and in the
 * vcpuN cgroups libvirt creates beside "emulator":
 * - cpu.weight from Weight=, when a policy or override sets it (the
 *   built-in default leaves libvirt's value alone);
 * - cpu.max from Limit= (a cap on the whole guest in percent of one CPU,
 *   as the key says: 150% is one and a half CPUs, whatever the vCPU
 *   count), and cpu.max.burst from LimitBurst= (not above the quota, which
 *   the kernel refuses);
 * - cpuset.cpus of the guest: the union of its vCPUs' planned affinities
 *   and its emulator CPUs (the emulator cgroup lives below and must keep
 *   its CPUs); cpuset.mems: the NUMA node of a dedicated guest whose vCPUs
 *   all sit in one node of a NUMA host;
 * - cpuset.cpus of each vcpuN cgroup: that vCPU's planned affinity.
 * Where the host's v2 hierarchy lacks the cpu (or cpuset) controller,
 * nothing of it is planned and one reason per guest says so.
 *
 * Pure: no I/O, no logging. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "host/host.h"
#include "policy/policy.h"
#include "util/cpuset.h"
#include "virt/domain.h"

/* The reason given once per guest where the cpu controller is missing. */
#define VS_CGPLAN_NO_CPU "cgroup v2 cpu controller unavailable: weights and caps not applied"

/* One guest as the CPU plan placed it. */
typedef struct VsCgplanGuest {
	const VsHost *host;
	const VsDomain *dom;
	const VsEffectivePolicy *eff;
	guint n_vcpus;
	const guint *vcpu_index;           /* [n_vcpus] the vCPU numbers */
	VsCpuSet *const *vcpu_cpus;        /* [n_vcpus] their planned affinities */
	const VsCpuSet *emulator;          /* the emulator threads' CPUs */
	bool dedicated;                    /* placed on dedicated CPUs */
} VsCgplanGuest;

/* Adds the CGROUP actions (VsCpuAction, cpuplan.h) of @g to @actions and
 * its reasons (char *) to @reasons. */
void vs_cgplan_guest(const VsCgplanGuest *g, GPtrArray *actions, GPtrArray *reasons);
