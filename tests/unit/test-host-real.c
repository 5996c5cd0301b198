/* The host model on the real root of the machine running the tests: collect
 * and probe, then check that what was read agrees with what libc and the
 * kernel say through other doors (sysconf, sysinfo, capget). Nothing here
 * assumes this particular machine's layout: it passes on hybrid and on
 * pure cgroup v2 hosts alike. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "host/host.h"

#define CAP_BIT_SYS_NICE 23
#define CAP_BIT_SYS_RESOURCE 24

/* Whether capability @bit is in our effective set, asked with capget(2). */
static bool has_effective_cap(int bit)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	assert_int_equal(syscall(SYS_capget, &header, data), 0);
	return (data[bit / 32].effective >> (bit % 32)) & 1;
}

/* Whether this thread may run on every online CPU (SCHED_DEADLINE needs
 * an affinity that spans its root domain). */
static bool affinity_spans(const VsCpuSet *online)
{
	cpu_set_t set;

	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	for (int c = vs_cpuset_next(online, 0); c >= 0; c = vs_cpuset_next(online, (guint)c + 1)) {
		if (c >= CPU_SETSIZE || !CPU_ISSET(c, &set))
			return false;
	}
	return true;
}

static void test_collect_real(void **state)
{
	g_autoptr(VsSys) sys = vs_sys_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(VsHost) host = vs_host_collect(sys, &error);
	struct sysinfo si;

	if (!host) {
		print_error("%s\n", error->message);
		fail();
	}
	assert_true(vs_sys_is_real(sys));

	/* Topology agrees with libc and is closed under siblings. */
	assert_int_equal(vs_cpuset_count(host->topology.online), sysconf(_SC_NPROCESSORS_ONLN));
	assert_int_equal(host->topology.cpus->len, vs_cpuset_count(host->topology.online));
	assert_true(host->topology.n_nodes >= 1);
	for (guint i = 0; i < host->topology.cpus->len; i++) {
		const VsCpu *cpu = &g_array_index(host->topology.cpus, VsCpu, i);
		g_autoptr(VsCpuSet) rest = vs_cpuset_copy(cpu->siblings);

		assert_true(vs_cpuset_has(host->topology.online, cpu->id));
		assert_true(vs_cpuset_has(cpu->siblings, cpu->id));
		assert_true(cpu->node >= 0);
		assert_ptr_equal(vs_topology_find_cpu(&host->topology, cpu->id), cpu);
		vs_cpuset_subtract(rest, host->topology.online);
		assert_true(vs_cpuset_is_empty(rest));
		if (vs_cpuset_count(cpu->siblings) > 1)
			assert_true(host->topology.smt);
	}

	/* MemTotal is what sysinfo(2) calls totalram. */
	assert_int_equal(sysinfo(&si), 0);
	assert_true(host->mem.total > 0);
	assert_int_equal(host->mem.total, (uint64_t)si.totalram * si.mem_unit);

	assert_int_equal(host->psi_memory.available, access("/proc/pressure/memory", F_OK) == 0);

	/* Some cgroup layout, whichever it is; a v2 mount has its root files. */
	assert_int_not_equal(host->cgroup.mode, VS_CGROUP_NONE);
	if (host->cgroup.mode == VS_CGROUP_V2 || host->cgroup.mode == VS_CGROUP_HYBRID) {
		g_autofree char *controllers = NULL;

		assert_non_null(host->cgroup.v2_mount);
		controllers = g_build_filename(host->cgroup.v2_mount, "cgroup.controllers", NULL);
		assert_true(vs_sys_exists(sys, controllers));
	} else {
		assert_null(host->cgroup.v2_mount);
	}
	if (host->cgroup.mode == VS_CGROUP_V1 || host->cgroup.mode == VS_CGROUP_HYBRID)
		assert_non_null(host->cgroup.v1_controllers[0]);

	assert_int_equal(vs_host_refresh(host, sys, &error), 0);
	assert_true(host->mem.total > 0);
}

static void test_probe_real(void **state)
{
	g_autoptr(VsSys) sys = vs_sys_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(VsHost) host = vs_host_collect(sys, &error);
	const VsHostCaps *caps;
	const VsCap *all[8];

	assert_non_null(host);
	vs_host_probe_caps(host, sys);
	caps = &host->caps;
	all[0] = &caps->deadline;
	all[1] = &caps->cpuset_partitions;
	all[2] = &caps->sched_core;
	all[3] = &caps->taskstats;
	all[4] = &caps->psi;
	all[5] = &caps->cgroup_v2_cpu;
	all[6] = &caps->cgroup_v2_cpuset;
	all[7] = &caps->cgroup_v2_memory;
	for (size_t i = 0; i < G_N_ELEMENTS(all); i++) {
		assert_non_null(all[i]->detail);
		assert_null(strstr(all[i]->detail, "not probed"));
		print_message("cap %zu: %s: %s\n", i, all[i]->ok ? "yes" : "no", all[i]->detail);
	}

	assert_int_equal(caps->psi.ok, host->psi_memory.available);
	assert_int_equal(caps->cgroup_v2_cpu.ok,
			 vs_cgroup_has_controller(host->cgroup.v2_controllers, "cpu"));
	assert_int_equal(caps->psi_min_window_us,
			 has_effective_cap(CAP_BIT_SYS_RESOURCE) ? 500000 : 2000000);
	assert_true(caps->rt_period_us > 0);
	assert_true(caps->rt_runtime_us >= -1 && caps->rt_runtime_us <= caps->rt_period_us);

	/* With CAP_SYS_NICE, RT bandwidth and an unrestricted affinity the
	 * kernel admits a 1% reservation; without them it may say no. */
	if (has_effective_cap(CAP_BIT_SYS_NICE) && caps->rt_runtime_us != 0 &&
	    affinity_spans(host->topology.online))
		assert_true(caps->deadline.ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collect_real),
		cmocka_unit_test(test_probe_real),
	};

	if (access("/sys/devices/system/cpu/online", F_OK) != 0 ||
	    access("/proc/meminfo", F_OK) != 0) {
		printf("SKIP: no /sys or /proc to read here\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
