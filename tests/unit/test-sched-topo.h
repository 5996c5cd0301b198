/* Host topologies for the CPU planner tests and benchmarks, built in C from
 * a compact description instead of a sysfs fixture tree: sockets, NUMA
 * nodes per socket, cores per node, SMT threads per core and last-level
 * caches per node. CPUs are numbered as Linux numbers them on x86: the
 * first thread of every core, then the second thread of every core, so on
 * 2 × 8 cores with SMT2 the siblings of CPU 3 are 3 and 19. */
#pragma once

#include <glib.h>

#include "host/host.h"

typedef struct SchedTopoDesc {
	guint sockets;
	guint nodes_per_socket;
	guint cores_per_node;
	guint threads;          /* SMT threads per core */
	guint llcs_per_node;    /* 0 counts as 1; must divide cores_per_node */
} SchedTopoDesc;

/* 2 sockets, one NUMA node each, 8 cores per node, SMT2: 32 CPUs. */
#define SCHED_TOPO_2S_SMT2_32 \
	(&(SchedTopoDesc){ .sockets = 2, .nodes_per_socket = 1, .cores_per_node = 8, .threads = 2 })
/* 1 socket, 8 cores without SMT. */
#define SCHED_TOPO_1S_FLAT_8 \
	(&(SchedTopoDesc){ .sockets = 1, .nodes_per_socket = 1, .cores_per_node = 8, .threads = 1 })
/* 2 sockets, 2 NUMA nodes each, 32 cores per node, SMT2: 256 CPUs. */
#define SCHED_TOPO_2S_4N_SMT2_256 \
	(&(SchedTopoDesc){ .sockets = 2, .nodes_per_socket = 2, .cores_per_node = 32, \
			   .threads = 2 })

/* A new topology as vs_topology_read() would give for @desc; free with
 * sched_topo_free(). */
VsTopology *sched_topo_new(const SchedTopoDesc *desc);
void sched_topo_free(VsTopology *topo);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsTopology, sched_topo_free)
