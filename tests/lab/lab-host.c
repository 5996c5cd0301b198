/* The kernel lab's probe (tests/lab/run-lab.sh boots it in a VM whose kernel
 * runs with cgroup_no_v1=all): it runs the host model (vs_host_collect and
 * vs_host_probe_caps) on the real root, prints what it found - cgroup mode,
 * v2 mount and controllers, every capability with its detail, topology and
 * memory - and ends with "LAB-RESULT: PASS", or "LAB-RESULT: FAIL <why>"
 * when the cgroup mode is not v2, the cpu, cpuset or memory controller is
 * missing from the v2 root, or SCHED_DEADLINE is not usable. Exits 0 on
 * PASS, 1 on FAIL. */
#include "config.h"

#include <stdio.h>
#include <sys/utsname.h>

#include "host/host.h"
#include "host/sys.h"

static void print_cap(const char *name, const VsCap *cap)
{
	printf("  %-18s %-3s %s\n", name, cap->ok ? "ok" : "no",
	       cap->detail ? cap->detail : "");
}

static void print_list(const char *title, char *const *items)
{
	printf("%s:", title);
	for (; items && *items; items++)
		printf(" %s", *items);
	printf("\n");
}

static void print_report(const VsHost *host)
{
	const VsHostCaps *caps = &host->caps;
	g_autofree char *online = vs_cpuset_format(host->topology.online);
	struct utsname u;

	if (uname(&u) == 0)
		printf("kernel: %s %s\n", u.release, u.version);
	printf("cgroup mode: %s\n", vs_cgroup_mode_name(host->cgroup.mode));
	printf("cgroup v2 mount: %s\n", host->cgroup.v2_mount ? host->cgroup.v2_mount : "(none)");
	print_list("cgroup v2 controllers", host->cgroup.v2_controllers);
	print_list("cgroup v1 controllers", host->cgroup.v1_controllers);

	printf("capabilities:\n");
	print_cap("deadline", &caps->deadline);
	print_cap("cpuset_partitions", &caps->cpuset_partitions);
	print_cap("sched_core", &caps->sched_core);
	print_cap("taskstats", &caps->taskstats);
	print_cap("psi", &caps->psi);
	print_cap("cgroup_v2_cpu", &caps->cgroup_v2_cpu);
	print_cap("cgroup_v2_cpuset", &caps->cgroup_v2_cpuset);
	print_cap("cgroup_v2_memory", &caps->cgroup_v2_memory);
	printf("  psi_min_window_us  %u\n", caps->psi_min_window_us);
	printf("  rt_runtime_us      %" G_GINT64_FORMAT " of rt_period_us %" G_GINT64_FORMAT "\n",
	       caps->rt_runtime_us, caps->rt_period_us);

	printf("topology: online %s, %u NUMA node(s), smt %s\n", online,
	       host->topology.n_nodes, host->topology.smt ? "yes" : "no");
	for (guint i = 0; i < host->topology.cpus->len; i++) {
		const VsCpu *cpu = &g_array_index(host->topology.cpus, VsCpu, i);
		g_autofree char *siblings = vs_cpuset_format(cpu->siblings);

		printf("  cpu %u: package %d core %d node %d llc %d siblings %s\n",
		       cpu->id, cpu->package, cpu->core, cpu->node, cpu->llc, siblings);
	}
	printf("memory: total %" G_GUINT64_FORMAT " available %" G_GUINT64_FORMAT "\n",
	       host->mem.total, host->mem.available);
	printf("psi memory: %s, cpu: %s\n", host->psi_memory.available ? "yes" : "no",
	       host->psi_cpu.available ? "yes" : "no");
}

/* Appends to @why each way @host falls short of the lab's expectations. */
static void check(const VsHost *host, GString *why)
{
	static const char *const want[] = { "cpu", "cpuset", "memory" };

	if (host->cgroup.mode != VS_CGROUP_V2)
		g_string_append_printf(why, "; cgroup mode is %s, want %s",
				       vs_cgroup_mode_name(host->cgroup.mode),
				       vs_cgroup_mode_name(VS_CGROUP_V2));
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
		if (!vs_cgroup_has_controller(host->cgroup.v2_controllers, want[i]))
			g_string_append_printf(why, "; no %s controller on the v2 root", want[i]);
	if (!host->caps.deadline.ok)
		g_string_append_printf(why, "; deadline: %s",
				       host->caps.deadline.detail ? host->caps.deadline.detail : "not ok");
}

int main(void)
{
	g_autoptr(VsSys) sys = vs_sys_new(NULL);
	g_autoptr(VsHost) host = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) why = g_string_new(NULL);

	host = vs_host_collect(sys, &error);
	if (!host) {
		printf("LAB-RESULT: FAIL vs_host_collect: %s\n", error->message);
		return 1;
	}
	vs_host_probe_caps(host, sys);
	print_report(host);
	check(host, why);
	if (why->len > 0) {
		/* Skip the leading "; ". */
		printf("LAB-RESULT: FAIL %s\n", why->str + 2);
		return 1;
	}
	printf("LAB-RESULT: PASS\n");
	return 0;
}
