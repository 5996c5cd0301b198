/* The cgroup part of the CPU plan; see cgplan.h. */
#include "config.h"

#include "host/cgroup-write.h"
#include "sched/cgplan.h"
#include "sched/cpuplan.h"

#include <string.h>

/* The guest's QEMU main thread (which owns its cgroups), or NULL. */
static const VsThread *owner_of(const VsDomain *dom)
{
	for (guint i = 0; dom->emulator_threads && i < dom->emulator_threads->len; i++) {
		const VsThread *t = &g_array_index(dom->emulator_threads, VsThread, i);

		if (t->tid == dom->pid)
			return t;
	}
	return NULL;
}

static void add(GPtrArray *actions, const VsCgplanGuest *g, const VsThread *owner,
		const char *what, const char *dir, const char *file, char *value, char *reason)
{
	VsCpuAction *a = g_new0(VsCpuAction, 1);

	a->kind = VS_CPU_ACTION_CGROUP;
	g_strlcpy(a->uuid, g->dom->uuid, sizeof(a->uuid));
	a->domain = g_strdup(g->dom->name);
	a->what = g_strdup(what);
	a->thread.pid = owner->pid;
	a->thread.tid = owner->tid;
	a->thread.start_time = owner->start_time;
	a->thread.comm = g_strdup(owner->comm);
	a->thread.cpu = -1;
	a->dir = g_strdup(dir);
	a->file = g_strdup(file);
	a->value = value;
	a->reason = reason;
	g_ptr_array_add(actions, a);
}

/* The value of [CPU] @name when a policy or override sets it, else NULL. */
static const VsEffectiveEntry *set_by_policy(const VsEffectivePolicy *eff, const char *name)
{
	const VsEffectiveEntry *e = vs_effective_get(eff, "CPU", name);

	return e && e->value && e->origin != VS_ORIGIN_DEFAULT ? e : NULL;
}

static void plan_cpu(const VsCgplanGuest *g, const VsThread *owner, const char *dir,
		     GPtrArray *actions, GPtrArray *reasons)
{
	const VsEffectiveEntry *weight = set_by_policy(g->eff, "Weight");
	const VsEffectiveEntry *limit = set_by_policy(g->eff, "Limit");
	const VsEffectiveEntry *burst = set_by_policy(g->eff, "LimitBurst");
	g_autofree char *max = NULL;
	int64_t quota_us = -1;

	if (weight) {
		g_autofree char *from = vs_cpu_plan_from(weight);

		add(actions, g, owner, "guest", dir, "cpu.weight",
		    g_strdup_printf("%" G_GINT64_FORMAT, weight->value->i),
		    g_strdup_printf("cpu.weight of %s → %" G_GINT64_FORMAT ": Weight= (%s)",
				    g->dom->name, weight->value->i, from));
	}
	if (limit) {
		g_autofree char *from = vs_cpu_plan_from(limit);

		if (vs_cgroup_limit_value(limit->value->percent, &max) < 0) {
			g_ptr_array_add(reasons, g_strdup_printf(
				"Limit=%s (%s) not applied: it gives no cpu.max quota the kernel "
				"accepts", limit->value->text, from));
		} else {
			quota_us = g_ascii_strtoll(max, NULL, 10);
			add(actions, g, owner, "guest", dir, "cpu.max", g_strdup(max),
			    g_strdup_printf("cpu.max of %s → %s: Limit=%s of one CPU for the whole "
					    "guest (%s)", g->dom->name, max, limit->value->text,
					    from));
		}
	}
	if (burst) {
		g_autofree char *from = vs_cpu_plan_from(burst);

		if (quota_us >= 0 && burst->value->us > quota_us) {
			g_ptr_array_add(reasons, g_strdup_printf(
				"LimitBurst=%s (%s) not applied: it is above the cpu.max quota of "
				"%" G_GINT64_FORMAT "us per period, which the kernel refuses",
				burst->value->text, from, quota_us));
		} else {
			add(actions, g, owner, "guest", dir, "cpu.max.burst",
			    g_strdup_printf("%" G_GINT64_FORMAT, burst->value->us),
			    g_strdup_printf("cpu.max.burst of %s → %" G_GINT64_FORMAT "us: "
					    "LimitBurst=%s (%s)%s", g->dom->name, burst->value->us,
					    burst->value->text, from,
					    limit ? "" : "; without Limit= there is no quota to "
							 "burst above"));
		}
	}
}

/* The one NUMA node of every CPU in @cpus, or -1 when they span several. */
static int node_of(const VsTopology *topo, const VsCpuSet *cpus)
{
	int node = -1;

	for (guint i = 0; i < topo->cpus->len; i++) {
		const VsCpu *c = &g_array_index(topo->cpus, VsCpu, i);

		if (!vs_cpuset_has(cpus, c->id))
			continue;
		if (node >= 0 && c->node != node)
			return -1;
		node = c->node;
	}
	return node;
}

static void plan_cpuset(const VsCgplanGuest *g, const VsThread *owner, const char *dir,
			GPtrArray *actions)
{
	const VsTopology *topo = &g->host->topology;
	g_autoptr(VsCpuSet) vcpus = vs_cpuset_new();
	g_autoptr(VsCpuSet) all = NULL;
	g_autofree char *all_text = NULL;

	for (guint i = 0; i < g->n_vcpus; i++) {
		g_autofree char *vdir = vs_cgroup_vcpu_dir(dir, g->vcpu_index[i]);
		g_autofree char *what = g_strdup_printf("vcpu%u", g->vcpu_index[i]);
		char *text = vs_cpuset_format(g->vcpu_cpus[i]);

		vs_cpuset_union(vcpus, g->vcpu_cpus[i]);
		add(actions, g, owner, what, vdir, "cpuset.cpus", text,
		    g_strdup_printf("cpuset.cpus of %s of %s → %s: the vCPU's planned CPUs", what,
				    g->dom->name, text));
	}
	all = vs_cpuset_copy(vcpus);
	if (g->emulator)
		vs_cpuset_union(all, g->emulator);
	all_text = vs_cpuset_format(all);
	add(actions, g, owner, "guest", dir, "cpuset.cpus", g_strdup(all_text),
	    g_strdup_printf("cpuset.cpus of %s → %s: the CPUs of its vCPUs and emulator threads",
			    g->dom->name, all_text));
	if (g->dedicated && topo->n_nodes > 1) {
		int node = node_of(topo, vcpus);

		if (node >= 0)
			add(actions, g, owner, "guest", dir, "cpuset.mems",
			    g_strdup_printf("%d", node),
			    g_strdup_printf("cpuset.mems of %s → %d: its dedicated vCPUs are all "
					    "in NUMA node %d", g->dom->name, node, node));
	}
}

void vs_cgplan_guest(const VsCgplanGuest *g, GPtrArray *actions, GPtrArray *reasons)
{
	const VsCgroupInfo *cg = &g->host->cgroup;
	bool cpu = vs_cgroup_available(cg, "cpu", NULL) == 0;
	bool cpuset = vs_cgroup_available(cg, "cpuset", NULL) == 0;
	const VsThread *owner = owner_of(g->dom);
	g_autofree char *dir = NULL;

	if (!cpu)
		g_ptr_array_add(reasons, g_strdup(VS_CGPLAN_NO_CPU));
	if (!cpuset)
		g_ptr_array_add(reasons, g_strdup("cgroup v2 cpuset controller unavailable: "
						  "cgroup CPU and memory-node sets not applied "
						  "(thread affinities are)"));
	if (!cpu && !cpuset)
		return;
	dir = vs_cgroup_domain_dir(g->dom, cg);
	if (!dir || !owner) {
		g_ptr_array_add(reasons, g_strdup_printf(
			"cgroup values not applied: %s", !dir
				? "the guest's cgroup is not in the v2 hierarchy"
				: "its QEMU main thread was not found"));
		return;
	}
	if (cpu)
		plan_cpu(g, owner, dir, actions, reasons);
	if (cpuset)
		plan_cpuset(g, owner, dir, actions);
}
