/* CPU topology from sysfs: which CPUs are online and, for each, its package,
 * core, SMT siblings, NUMA node and last-level cache. Virtual machines often
 * lack some of these files (no cache directory, no NUMA links), so a missing
 * file gives the "unknown" value of host.h; a file that exists but holds
 * garbage is an error that names it. */
#include "config.h"

#include "host/host.h"
#include "host/host-private.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#define CPU_DIR "/sys/devices/system/cpu"
#define NODE_DIR "/sys/devices/system/node"

/* The CPUs of one NUMA node, from NODE_DIR/nodeN/cpulist. */
typedef struct NodeCpus {
	int node;
	VsCpuSet *cpus;
} NodeCpus;

/* State of one vs_topology_read(): the node cpulists are read only when a
 * CPU has no nodeN link in its own directory. */
typedef struct TopoReader {
	const VsSys *sys;
	GArray *nodes;      /* NodeCpus; NULL until loaded */
} TopoReader;

static void cpu_clear(gpointer data)
{
	VsCpu *cpu = data;

	g_clear_pointer(&cpu->siblings, vs_cpuset_free);
}

static void node_cpus_clear(gpointer data)
{
	NodeCpus *n = data;

	g_clear_pointer(&n->cpus, vs_cpuset_free);
}

/* True when @name is @prefix followed by a decimal number (fits an int),
 * stored in *ret_number. */
static bool parse_numbered(const char *name, const char *prefix, int *ret_number)
{
	size_t n = strlen(prefix);
	guint64 v;

	if (strncmp(name, prefix, n) != 0 || !g_ascii_isdigit(name[n]))
		return false;
	if (!g_ascii_string_to_unsigned(name + n, 10, 0, INT_MAX, &v, NULL))
		return false;
	*ret_number = (int)v;
	return true;
}

/* Reads an id file (physical_package_id, core_id, cache id): -1 when the
 * file is missing; the kernel itself writes -1 for "unknown". */
static int read_id(const VsSys *sys, const char *path, int *ret_id, GError **error)
{
	int64_t v;
	int r = vs_host_read_int(sys, path, &v, error);

	if (r == -ENOENT) {
		*ret_id = -1;
		return 0;
	}
	if (r < 0)
		return r;
	if (v < -1 || v > INT_MAX)
		return vs_host_file_invalid(error, sys, path,
					    "%" G_GINT64_FORMAT " is out of range", v);
	*ret_id = (int)v;
	return 0;
}

/* SMT siblings of @cpu among the @online CPUs; just @cpu when the kernel
 * gives no sibling list. */
static int read_siblings(const VsSys *sys, guint cpu, const VsCpuSet *online,
			 VsCpuSet **ret_siblings, GError **error)
{
	static const char *const names[] = { "thread_siblings_list", "core_cpus_list" };
	g_autoptr(VsCpuSet) set = NULL;

	for (size_t i = 0; i < G_N_ELEMENTS(names) && !set; i++) {
		g_autofree char *path = g_strdup_printf(CPU_DIR "/cpu%u/topology/%s",
							cpu, names[i]);
		int r = vs_host_read_cpuset(sys, path, &set, error);

		if (r < 0 && r != -ENOENT)
			return r;
		if (r == 0 && !vs_cpuset_has(set, cpu))
			return vs_host_file_invalid(error, sys, path,
						    "does not list CPU %u itself", cpu);
	}
	if (!set) {
		set = vs_cpuset_new();
		vs_cpuset_add(set, cpu);
	}
	vs_cpuset_intersect(set, online);
	*ret_siblings = g_steal_pointer(&set);
	return 0;
}

/* Loads the cpulist of every NODE_DIR/nodeN, once; no node directory gives
 * no nodes. */
static int load_nodes(TopoReader *tr, GError **error)
{
	g_auto(GStrv) names = NULL;
	g_autoptr(GArray) nodes = g_array_new(FALSE, TRUE, sizeof(NodeCpus));
	int r;

	if (tr->nodes)
		return 0;
	g_array_set_clear_func(nodes, node_cpus_clear);
	r = vs_sys_list_dir(tr->sys, NODE_DIR, &names);
	if (r < 0 && r != -ENOENT)
		return vs_host_file_error(error, tr->sys, NODE_DIR, r);
	for (size_t i = 0; names && names[i]; i++) {
		g_autofree char *path = NULL;
		NodeCpus n = { 0 };

		if (!parse_numbered(names[i], "node", &n.node))
			continue;
		path = g_strdup_printf(NODE_DIR "/%s/cpulist", names[i]);
		r = vs_host_read_cpuset(tr->sys, path, &n.cpus, error);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		g_array_append_val(nodes, n);
	}
	tr->nodes = g_steal_pointer(&nodes);
	return 0;
}

/* NUMA node of @cpu: its CPU_DIR/cpuN/nodeX link, else the node whose
 * cpulist holds it, else 0. */
static int read_node(TopoReader *tr, guint cpu, int *ret_node, GError **error)
{
	g_autofree char *dir = g_strdup_printf(CPU_DIR "/cpu%u", cpu);
	g_auto(GStrv) names = NULL;
	int r = vs_sys_list_dir(tr->sys, dir, &names);

	if (r < 0 && r != -ENOENT)
		return vs_host_file_error(error, tr->sys, dir, r);
	for (size_t i = 0; names && names[i]; i++) {
		if (parse_numbered(names[i], "node", ret_node))
			return 0;
	}
	r = load_nodes(tr, error);
	if (r < 0)
		return r;
	for (guint i = 0; i < tr->nodes->len; i++) {
		const NodeCpus *n = &g_array_index(tr->nodes, NodeCpus, i);

		if (vs_cpuset_has(n->cpus, cpu)) {
			*ret_node = n->node;
			return 0;
		}
	}
	*ret_node = 0;
	return 0;
}

/* Id of the highest-level cache of @cpu: its id file, else the first CPU
 * of its shared_cpu_list, else -1 (also when there is no cache directory). */
static int read_llc(const VsSys *sys, guint cpu, int *ret_llc, GError **error)
{
	g_autofree char *dir = g_strdup_printf(CPU_DIR "/cpu%u/cache", cpu);
	g_autofree char *best = NULL;
	g_autofree char *id_path = NULL;
	g_autofree char *list_path = NULL;
	g_autoptr(VsCpuSet) shared = NULL;
	g_auto(GStrv) names = NULL;
	int64_t best_level = 0;
	int index, r;

	r = vs_sys_list_dir(sys, dir, &names);
	if (r == -ENOENT) {
		*ret_llc = -1;
		return 0;
	}
	if (r < 0)
		return vs_host_file_error(error, sys, dir, r);
	for (size_t i = 0; names[i]; i++) {
		g_autofree char *path = NULL;
		int64_t level;

		if (!parse_numbered(names[i], "index", &index))
			continue;
		path = g_strdup_printf("%s/%s/level", dir, names[i]);
		r = vs_host_read_int(sys, path, &level, error);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		if (level < 1 || level > 16)
			return vs_host_file_invalid(error, sys, path,
						    "%" G_GINT64_FORMAT " is not a cache level",
						    level);
		if (level > best_level) {
			best_level = level;
			g_free(best);
			best = g_strdup(names[i]);
		}
	}
	if (!best) {
		*ret_llc = -1;
		return 0;
	}
	id_path = g_strdup_printf("%s/%s/id", dir, best);
	r = read_id(sys, id_path, ret_llc, error);
	if (r < 0 || *ret_llc >= 0)
		return r;
	list_path = g_strdup_printf("%s/%s/shared_cpu_list", dir, best);
	r = vs_host_read_cpuset(sys, list_path, &shared, error);
	if (r == -ENOENT) {
		*ret_llc = -1;
		return 0;
	}
	if (r < 0)
		return r;
	if (!vs_cpuset_has(shared, cpu))
		return vs_host_file_invalid(error, sys, list_path,
					    "does not list CPU %u itself", cpu);
	*ret_llc = vs_cpuset_next(shared, 0);
	return 0;
}

/* Fills everything about one online CPU. */
static int read_cpu(TopoReader *tr, guint id, const VsCpuSet *online, VsCpu *ret_cpu,
		    GError **error)
{
	g_autofree char *package_path =
		g_strdup_printf(CPU_DIR "/cpu%u/topology/physical_package_id", id);
	g_autofree char *core_path = g_strdup_printf(CPU_DIR "/cpu%u/topology/core_id", id);
	VsCpu cpu = { .id = id };
	int r;

	r = read_id(tr->sys, package_path, &cpu.package, error);
	if (r < 0)
		return r;
	r = read_id(tr->sys, core_path, &cpu.core, error);
	if (r < 0)
		return r;
	r = read_node(tr, id, &cpu.node, error);
	if (r < 0)
		return r;
	r = read_llc(tr->sys, id, &cpu.llc, error);
	if (r < 0)
		return r;
	r = read_siblings(tr->sys, id, online, &cpu.siblings, error);
	if (r < 0)
		return r;
	*ret_cpu = cpu;
	return 0;
}

int vs_topology_read(const VsSys *sys, VsTopology *ret, GError **error)
{
	const char *online_path = CPU_DIR "/online";
	TopoReader tr = { .sys = sys };
	g_autoptr(VsCpuSet) online = NULL;
	g_autoptr(GArray) cpus = g_array_new(FALSE, TRUE, sizeof(VsCpu));
	g_autoptr(GHashTable) nodes = g_hash_table_new(g_direct_hash, g_direct_equal);
	bool smt = false;
	int r;

	g_array_set_clear_func(cpus, cpu_clear);
	r = vs_host_read_cpuset(sys, online_path, &online, error);
	if (r == -ENOENT)
		return vs_host_file_error(error, sys, online_path, r);
	if (r < 0)
		return r;
	if (vs_cpuset_is_empty(online))
		return vs_host_file_invalid(error, sys, online_path, "lists no CPU");

	for (int c = vs_cpuset_next(online, 0); c >= 0; c = vs_cpuset_next(online, (guint)c + 1)) {
		VsCpu cpu;

		r = read_cpu(&tr, (guint)c, online, &cpu, error);
		if (r < 0)
			break;
		g_array_append_val(cpus, cpu);
		g_hash_table_add(nodes, GINT_TO_POINTER(cpu.node));
		if (vs_cpuset_count(cpu.siblings) > 1)
			smt = true;
	}
	g_clear_pointer(&tr.nodes, g_array_unref);
	if (r < 0)
		return r;

	ret->online = g_steal_pointer(&online);
	ret->cpus = g_steal_pointer(&cpus);
	ret->n_nodes = g_hash_table_size(nodes);
	ret->smt = smt;
	return 0;
}

void vs_topology_clear(VsTopology *topo)
{
	g_clear_pointer(&topo->online, vs_cpuset_free);
	g_clear_pointer(&topo->cpus, g_array_unref);
	topo->n_nodes = 0;
	topo->smt = false;
}

const VsCpu *vs_topology_find_cpu(const VsTopology *topo, guint id)
{
	guint lo = 0, hi = topo->cpus ? topo->cpus->len : 0;

	/* cpus is sorted by id: binary search. */
	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		const VsCpu *cpu = &g_array_index(topo->cpus, VsCpu, mid);

		if (cpu->id == id)
			return cpu;
		if (cpu->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
