/* The host model: what vsched knows about the machine it runs on, collected
 * through the sys layer. Topology and capabilities are read once at start
 * (and on CPU hotplug); memory and pressure every tick.
 *
 * Sizes are bytes, times microseconds unless a name says otherwise. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "host/sys.h"
#include "util/cpuset.h"

typedef struct VsCpu {
	guint id;
	int package;        /* physical_package_id, -1 if unknown */
	int core;           /* core_id, -1 if unknown */
	int node;           /* NUMA node, 0 when the host has no NUMA info */
	int llc;            /* id of the last-level cache, -1 if unknown */
	VsCpuSet *siblings; /* SMT siblings including this CPU */
} VsCpu;

typedef struct VsTopology {
	VsCpuSet *online;   /* online CPUs */
	GArray *cpus;       /* VsCpu of each online CPU, ascending id */
	guint n_nodes;      /* distinct NUMA nodes among the online CPUs */
	bool smt;           /* any core has more than one thread */
} VsTopology;

typedef struct VsMemInfo {
	uint64_t total;
	uint64_t available;
	uint64_t free;
	uint64_t swap_total;
	uint64_t swap_free;
} VsMemInfo;

typedef struct VsPsiLine {
	double avg10, avg60, avg300;  /* percent */
	uint64_t total_us;
} VsPsiLine;

typedef struct VsPsi {
	bool available;     /* the file exists and parsed */
	VsPsiLine some;
	bool has_full;      /* cpu pressure has no "full" line on old kernels */
	VsPsiLine full;
} VsPsi;

typedef enum {
	VS_CGROUP_NONE,     /* no cgroup file system mounted */
	VS_CGROUP_V1,       /* only v1 hierarchies */
	VS_CGROUP_HYBRID,   /* v1 hierarchies plus a v2 mount (e.g. /sys/fs/cgroup/unified) */
	VS_CGROUP_V2,       /* unified: only the v2 hierarchy */
} VsCgroupMode;

typedef struct VsCgroupInfo {
	VsCgroupMode mode;
	char *v2_mount;          /* NULL when there is no v2 hierarchy */
	/* Both lists are NULL-terminated and never NULL (empty instead). */
	char **v2_controllers;   /* controllers in the v2 root's cgroup.controllers */
	char **v1_controllers;   /* controllers bound to v1 hierarchies */
	char *v1_cpu_mount;      /* mount point of the v1 hierarchy with the cpu
				  * controller ("/sys/fs/cgroup/cpu"), NULL if none */
} VsCgroupInfo;

/* One capability of this host: whether vsched can use it and, when not,
 * why (an operator-facing sentence). */
typedef struct VsCap {
	bool ok;
	char *detail;
} VsCap;

typedef struct VsHostCaps {
	VsCap deadline;          /* sched_setattr(SCHED_DEADLINE) on our own thread */
	VsCap cpuset_partitions; /* cgroup v2 cpuset with cpuset.cpus.partition */
	VsCap sched_core;        /* prctl(PR_SCHED_CORE) */
	VsCap taskstats;         /* TASKSTATS over generic netlink */
	VsCap psi;               /* /proc/pressure/memory exists */
	VsCap cgroup_v2_cpu;     /* cpu controller on the v2 hierarchy */
	VsCap cgroup_v2_cpuset;  /* cpuset controller on the v2 hierarchy */
	VsCap cgroup_v2_memory;  /* memory controller on the v2 hierarchy */
	uint32_t psi_min_window_us; /* smallest PSI trigger window we may use */
	/* Kernel's RT bandwidth limit, for deadline admission (µs; runtime -1 =
	 * unlimited; both 0 when the files could not be read). */
	int64_t rt_runtime_us;
	int64_t rt_period_us;
	/* Bandwidth the kernel reserves on each online CPU for its fair server
	 * (dl_server, Linux 6.12+), counted against the same limit as
	 * SCHED_DEADLINE tasks: 0.05 by default (50 ms every 1 s); 0 on older
	 * kernels. The mean over the online CPUs. */
	double dl_server_share_per_cpu;
} VsHostCaps;

typedef struct VsHost {
	VsTopology topology;
	VsMemInfo mem;
	VsPsi psi_memory;
	VsPsi psi_cpu;
	VsCgroupInfo cgroup;
	VsHostCaps caps;
} VsHost;

/* Reads topology, memory, pressure and cgroup layout (not capabilities).
 * Returns a new host or NULL with @error naming the file that failed. */
VsHost *vs_host_collect(const VsSys *sys, GError **error);
/* Re-reads only what changes every tick (memory, pressure) into @host. */
int vs_host_refresh(VsHost *host, const VsSys *sys, GError **error);
/* Probes capabilities (acts: tries sched_setattr on a short-lived thread,
 * opens a netlink socket); fills host->caps. On a fixture root the probes
 * that need the real kernel report "not probed: fixture root". */
void vs_host_probe_caps(VsHost *host, const VsSys *sys);
void vs_host_free(VsHost *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsHost, vs_host_free)

/* Pure parsers, exported for tests and for the fuzzers. Each returns 0 or
 * -EINVAL and leaves ret_* untouched on failure. */
int vs_meminfo_parse(const char *text, VsMemInfo *ret);
int vs_psi_parse(const char *text, VsPsi *ret);
const char *vs_cgroup_mode_name(VsCgroupMode mode);

/* The readers behind vs_host_collect(), one per file of src/host/. Each
 * returns 0, or a negative errno with @error naming the file that failed
 * (VS_ERROR_INVALID for garbage, VS_ERROR_NOT_FOUND / VS_ERROR_SYSTEM when
 * the file cannot be read); ret_* is untouched on failure. The caller owns
 * what ret_* holds and releases it with the matching *_clear(). */
int vs_topology_read(const VsSys *sys, VsTopology *ret, GError **error);
void vs_topology_clear(VsTopology *topo);
/* The CPU @id of @topo, or NULL when it is not online. */
const VsCpu *vs_topology_find_cpu(const VsTopology *topo, guint id);
int vs_meminfo_read(const VsSys *sys, VsMemInfo *ret, GError **error);
/* Reads /proc/pressure/@resource ("memory", "cpu", "io"); a missing file
 * gives available=false and returns 0. */
int vs_psi_read(const VsSys *sys, const char *resource, VsPsi *ret, GError **error);
/* Finds the cgroup mounts in /proc/self/mountinfo and reads the v2 root's
 * cgroup.controllers through @sys (mount points are host paths). */
int vs_cgroup_discover(const VsSys *sys, VsCgroupInfo *ret, GError **error);
void vs_cgroup_info_clear(VsCgroupInfo *info);
/* True when @controller is in the NULL-terminated list @controllers. */
bool vs_cgroup_has_controller(char *const *controllers, const char *controller);
/* Frees the details of @caps and zeroes it. */
void vs_host_caps_clear(VsHostCaps *caps);
