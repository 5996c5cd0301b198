/* Builds fixture topologies for the CPU planner tests; see test-sched-topo.h. */
#include "config.h"

#include "unit/test-sched-topo.h"

VsTopology *sched_topo_new(const SchedTopoDesc *d)
{
	guint n_nodes = d->sockets * d->nodes_per_socket;
	guint n_cores = n_nodes * d->cores_per_node;
	guint llcs = MAX(d->llcs_per_node, 1u);
	guint cores_per_llc = d->cores_per_node / llcs;
	VsTopology *topo = g_new0(VsTopology, 1);

	g_assert(n_cores > 0 && d->threads > 0 && d->cores_per_node % llcs == 0);
	g_assert(n_cores * d->threads <= VS_CPU_MAX + 1);
	topo->online = vs_cpuset_new();
	topo->cpus = g_array_sized_new(FALSE, TRUE, sizeof(VsCpu), n_cores * d->threads);
	topo->n_nodes = n_nodes;
	topo->smt = d->threads > 1;
	for (guint t = 0; t < d->threads; t++) {
		for (guint k = 0; k < n_cores; k++) {
			guint node = k / d->cores_per_node;
			VsCpu cpu = {
				.id = t * n_cores + k,
				.package = (int)(node / d->nodes_per_socket),
				.core = (int)(k % (d->nodes_per_socket * d->cores_per_node)),
				.node = (int)node,
				.llc = (int)(node * llcs + k % d->cores_per_node / cores_per_llc),
				.siblings = vs_cpuset_new(),
			};

			for (guint s = 0; s < d->threads; s++)
				vs_cpuset_add(cpu.siblings, s * n_cores + k);
			vs_cpuset_add(topo->online, cpu.id);
			g_array_append_val(topo->cpus, cpu);
		}
	}
	return topo;
}

void sched_topo_free(VsTopology *topo)
{
	if (!topo)
		return;
	for (guint i = 0; topo->cpus && i < topo->cpus->len; i++)
		vs_cpuset_free(g_array_index(topo->cpus, VsCpu, i).siblings);
	g_clear_pointer(&topo->cpus, g_array_unref);
	vs_cpuset_free(topo->online);
	g_free(topo);
}
