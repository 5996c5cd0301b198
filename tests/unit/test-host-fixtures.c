/* Unit tests for the host model read through the sys layer from fixture
 * trees: tests/data/hosts/{smt2-numa2,flat2,unified-v2,broken} (found under
 * $top_srcdir) and small trees written to a temporary directory by the
 * tests themselves. Covers topology, meminfo and PSI readers, cgroup
 * discovery, capability probes (with the kernel probes replaced by a fake
 * ops table), collect/refresh, and that every error names its file. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit/test-temp-root.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host/host.h"
#include "util/error.h"

/* A sys layer on tests/data/hosts/@name. */
static VsSys *fixture(const char *name)
{
	const char *top = g_getenv("top_srcdir");
	g_autofree char *root = NULL;

	if (!top) {
		print_error("top_srcdir is not set (run the test with make check)\n");
		fail();
	}
	root = g_build_filename(top, "tests", "data", "hosts", name, NULL);
	assert_true(g_file_test(root, G_FILE_TEST_IS_DIR));
	return vs_sys_new(root);
}

static char *cpus_of(const VsCpu *cpu)
{
	return vs_cpuset_format(cpu->siblings);
}

/* @error is of @code and its message contains each of the fragments. */
static void assert_error(const GError *error, int code, const char *fragment1,
			 const char *fragment2)
{
	assert_non_null(error);
	if (!g_error_matches(error, VS_ERROR, code) || !strstr(error->message, fragment1) ||
	    (fragment2 && !strstr(error->message, fragment2))) {
		print_error("unexpected error %d: %s\n", error->code, error->message);
		fail();
	}
}

static const VsCpu *cpu_of(const VsTopology *topo, guint id)
{
	const VsCpu *cpu = vs_topology_find_cpu(topo, id);

	assert_non_null(cpu);
	assert_int_equal(cpu->id, id);
	return cpu;
}

static void assert_cpu(const VsTopology *topo, guint id, int package, int core, int node,
		       int llc, const char *siblings)
{
	const VsCpu *cpu = cpu_of(topo, id);
	g_autofree char *s = cpus_of(cpu);

	assert_int_equal(cpu->package, package);
	assert_int_equal(cpu->core, core);
	assert_int_equal(cpu->node, node);
	assert_int_equal(cpu->llc, llc);
	assert_string_equal(s, siblings);
}

static void test_topology_smt2_numa2(void **state)
{
	g_autoptr(VsSys) sys = fixture("smt2-numa2");
	g_autoptr(GError) error = NULL;
	g_autofree char *online = NULL;
	VsTopology topo = { 0 };

	assert_int_equal(vs_topology_read(sys, &topo, &error), 0);
	assert_null(error);
	online = vs_cpuset_format(topo.online);
	assert_string_equal(online, "0-14");
	assert_int_equal(topo.cpus->len, 15);
	assert_int_equal(topo.n_nodes, 2);
	assert_true(topo.smt);

	assert_cpu(&topo, 0, 0, 0, 0, 0, "0,8");
	assert_cpu(&topo, 3, 0, 3, 0, 0, "3,11");
	assert_cpu(&topo, 4, 1, 0, 1, 1, "4,12");
	/* cpu15 is offline: its sibling is alone. */
	assert_cpu(&topo, 7, 1, 3, 1, 1, "7");
	assert_cpu(&topo, 8, 0, 0, 0, 0, "0,8");
	assert_cpu(&topo, 14, 1, 2, 1, 1, "6,14");
	assert_null(vs_topology_find_cpu(&topo, 15));
	assert_null(vs_topology_find_cpu(&topo, 100));

	/* Siblings share package, core, node and LLC. */
	for (guint i = 0; i < topo.cpus->len; i++) {
		const VsCpu *cpu = &g_array_index(topo.cpus, VsCpu, i);

		assert_true(vs_cpuset_has(cpu->siblings, cpu->id));
		for (int s = vs_cpuset_next(cpu->siblings, 0); s >= 0;
		     s = vs_cpuset_next(cpu->siblings, (guint)s + 1)) {
			const VsCpu *sib = cpu_of(&topo, (guint)s);

			assert_int_equal(sib->package, cpu->package);
			assert_int_equal(sib->core, cpu->core);
			assert_int_equal(sib->node, cpu->node);
			assert_int_equal(sib->llc, cpu->llc);
		}
	}
	vs_topology_clear(&topo);
	assert_null(topo.online);
	assert_null(topo.cpus);
}

static void test_topology_flat2(void **state)
{
	g_autoptr(VsSys) sys = fixture("flat2");
	g_autoptr(GError) error = NULL;
	VsTopology topo = { 0 };

	assert_int_equal(vs_topology_read(sys, &topo, &error), 0);
	assert_int_equal(topo.cpus->len, 2);
	assert_int_equal(topo.n_nodes, 1);
	assert_false(topo.smt);
	/* No cache directory on this VM: LLC unknown. */
	assert_cpu(&topo, 0, 0, 0, 0, -1, "0");
	assert_cpu(&topo, 1, 0, 1, 0, -1, "1");
	vs_topology_clear(&topo);
}

static void test_topology_unified_v2(void **state)
{
	g_autoptr(VsSys) sys = fixture("unified-v2");
	g_autoptr(GError) error = NULL;
	VsTopology topo = { 0 };

	/* core_cpus_list instead of thread_siblings_list, node from
	 * node0/cpulist, L3 id from the first CPU of shared_cpu_list. */
	assert_int_equal(vs_topology_read(sys, &topo, &error), 0);
	assert_int_equal(topo.cpus->len, 4);
	assert_int_equal(topo.n_nodes, 1);
	assert_true(topo.smt);
	assert_cpu(&topo, 0, 0, 0, 0, 0, "0-1");
	assert_cpu(&topo, 1, 0, 0, 0, 0, "0-1");
	assert_cpu(&topo, 2, 0, 1, 0, 2, "2-3");
	assert_cpu(&topo, 3, 0, 1, 0, 2, "2-3");
	vs_topology_clear(&topo);
}

static void test_topology_broken(void **state)
{
	g_autoptr(VsSys) sys = fixture("broken");
	g_autoptr(GError) error = NULL;
	VsTopology topo = { 0 };

	assert_int_equal(vs_topology_read(sys, &topo, &error), -EINVAL);
	assert_error(error, VS_ERROR_INVALID,
		     "broken/sys/devices/system/cpu/cpu1/topology/core_id: ", "\"one\"");
	assert_null(topo.online);
	assert_null(topo.cpus);
}

static void test_topology_missing_files(void **state)
{
	VsSys *sys = temp_root("/sys/devices/system/cpu/online", "0-1\n", NULL);
	g_autoptr(GError) error = NULL;
	VsTopology topo = { 0 };

	/* A VM that shows nothing but the online list. */
	assert_int_equal(vs_topology_read(sys, &topo, &error), 0);
	assert_int_equal(topo.n_nodes, 1);
	assert_false(topo.smt);
	assert_cpu(&topo, 0, -1, -1, 0, -1, "0");
	assert_cpu(&topo, 1, -1, -1, 0, -1, "1");
	vs_topology_clear(&topo);
	temp_root_free(sys);
}

static void test_topology_offline_sibling(void **state)
{
	VsSys *sys = temp_root(
		"/sys/devices/system/cpu/online", "0,2\n",
		"/sys/devices/system/cpu/cpu0/topology/thread_siblings_list", "0-1\n",
		"/sys/devices/system/cpu/cpu2/topology/core_cpus_list", "2-3\n",
		NULL);
	g_autoptr(GError) error = NULL;
	VsTopology topo = { 0 };

	/* Siblings are online CPUs only, whatever a sibling list says. */
	assert_int_equal(vs_topology_read(sys, &topo, &error), 0);
	assert_cpu(&topo, 0, -1, -1, 0, -1, "0");
	assert_cpu(&topo, 2, -1, -1, 0, -1, "2");
	assert_false(topo.smt);
	vs_topology_clear(&topo);
	temp_root_free(sys);
}

static void test_topology_node_cpulists(void **state)
{
	VsSys *sys = temp_root(
		"/sys/devices/system/cpu/online", "0-3\n",
		"/sys/devices/system/node/node0/cpulist", "0-1\n",
		"/sys/devices/system/node/node2/cpulist", "2-3\n",
		"/sys/devices/system/node/possible", "0,2\n",
		NULL);
	g_autoptr(GError) error = NULL;
	VsTopology topo = { 0 };

	assert_int_equal(vs_topology_read(sys, &topo, &error), 0);
	assert_int_equal(cpu_of(&topo, 1)->node, 0);
	assert_int_equal(cpu_of(&topo, 2)->node, 2);
	assert_int_equal(cpu_of(&topo, 3)->node, 2);
	assert_int_equal(topo.n_nodes, 2);
	vs_topology_clear(&topo);
	temp_root_free(sys);

	/* Only a node link (here a directory standing for the link) in the
	 * CPU's own directory, no NODE_DIR at all. */
	sys = temp_root("/sys/devices/system/cpu/online", "0-1\n",
			"/sys/devices/system/cpu/cpu1/node1/cpulist", "1\n",
			NULL);
	assert_int_equal(vs_topology_read(sys, &topo, &error), 0);
	assert_int_equal(cpu_of(&topo, 0)->node, 0);
	assert_int_equal(cpu_of(&topo, 1)->node, 1);
	assert_int_equal(topo.n_nodes, 2);
	vs_topology_clear(&topo);
	temp_root_free(sys);
}

/* vs_topology_read() on a tree of one CPU with @path holding @contents
 * fails with @code and an error naming @path. */
static void assert_topology_rejects(const char *path, const char *contents, int code,
				    const char *fragment)
{
	VsSys *sys = temp_root("/sys/devices/system/cpu/online", "0\n",
			       "/sys/devices/system/cpu/cpu0/cache/index0/level", "1\n",
			       path, contents, NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *full = vs_sys_path(sys, path);
	VsTopology topo = { 0 };

	assert_true(vs_topology_read(sys, &topo, &error) < 0);
	assert_error(error, code, full, fragment);
	assert_null(topo.cpus);
	temp_root_free(sys);
}

static void test_topology_rejects_garbage(void **state)
{
	const char *cpu0 = "/sys/devices/system/cpu/cpu0";
	g_autofree char *package = g_strconcat(cpu0, "/topology/physical_package_id", NULL);
	g_autofree char *siblings = g_strconcat(cpu0, "/topology/thread_siblings_list", NULL);
	g_autofree char *core_cpus = g_strconcat(cpu0, "/topology/core_cpus_list", NULL);
	g_autofree char *level = g_strconcat(cpu0, "/cache/index3/level", NULL);
	g_autofree char *cache_id = g_strconcat(cpu0, "/cache/index0/id", NULL);
	g_autofree char *shared = g_strconcat(cpu0, "/cache/index0/shared_cpu_list", NULL);

	assert_topology_rejects("/sys/devices/system/cpu/online", "0-x\n", VS_ERROR_INVALID, "0-x");
	assert_topology_rejects("/sys/devices/system/cpu/online", "\n", VS_ERROR_INVALID,
				"lists no CPU");
	assert_topology_rejects(package, "", VS_ERROR_INVALID, "is not a number");
	assert_topology_rejects(package, "-2\n", VS_ERROR_INVALID, "out of range");
	assert_topology_rejects(siblings, "0-\n", VS_ERROR_INVALID, "0-");
	assert_topology_rejects(siblings, "1-2\n", VS_ERROR_INVALID, "does not list CPU 0 itself");
	assert_topology_rejects(core_cpus, "zz\n", VS_ERROR_INVALID, "zz");
	assert_topology_rejects(level, "L3\n", VS_ERROR_INVALID, "\"L3\"");
	assert_topology_rejects(level, "0\n", VS_ERROR_INVALID, "not a cache level");
	assert_topology_rejects(cache_id, "4294967296\n", VS_ERROR_INVALID, "out of range");
	assert_topology_rejects(shared, "3\n", VS_ERROR_INVALID, "does not list CPU 0 itself");
	assert_topology_rejects("/sys/devices/system/node/node0/cpulist", "x\n",
				VS_ERROR_INVALID, "\"x\"");
}

static void test_topology_online_missing(void **state)
{
	VsSys *sys = temp_root("/proc/meminfo", "", NULL);
	g_autoptr(GError) error = NULL;
	VsTopology topo = { 0 };

	assert_int_equal(vs_topology_read(sys, &topo, &error), -ENOENT);
	assert_error(error, VS_ERROR_NOT_FOUND, "/sys/devices/system/cpu/online: ", NULL);
	temp_root_free(sys);
}

static void test_meminfo_psi_readers(void **state)
{
	g_autoptr(VsSys) flat = fixture("flat2");
	g_autoptr(VsSys) v2 = fixture("unified-v2");
	g_autoptr(VsSys) v1 = fixture("smt2-numa2");
	g_autoptr(GError) error = NULL;
	VsMemInfo mem;
	VsPsi psi;

	assert_int_equal(vs_meminfo_read(v2, &mem, &error), 0);
	assert_int_equal(mem.total, 8131452ull * 1024);
	assert_int_equal(mem.available, 7012344ull * 1024);
	assert_int_equal(vs_meminfo_read(flat, &mem, &error), 0);
	assert_true(mem.total > 0 && mem.available <= mem.total);

	assert_int_equal(vs_psi_read(v2, "memory", &psi, &error), 0);
	assert_true(psi.available && psi.has_full);
	assert_int_equal(psi.full.total_us, 65432);
	assert_int_equal(vs_psi_read(v2, "cpu", &psi, &error), 0);
	assert_true(psi.available);
	assert_false(psi.has_full);
	assert_int_equal(psi.some.total_us, 9876543);
	assert_int_equal(vs_psi_read(flat, "io", &psi, &error), 0);
	assert_true(psi.available);

	/* No /proc/pressure on that kernel: not an error. */
	psi.available = true;
	assert_int_equal(vs_psi_read(v1, "memory", &psi, &error), 0);
	assert_false(psi.available);
	assert_null(error);
}

static void test_meminfo_psi_broken(void **state)
{
	g_autoptr(VsSys) sys = fixture("broken");
	g_autoptr(VsSys) v1 = fixture("smt2-numa2");
	GError *error = NULL;
	VsMemInfo mem = { .total = 7 };
	VsPsi psi = { .some.total_us = 7 };

	assert_int_equal(vs_meminfo_read(sys, &mem, &error), -EINVAL);
	assert_error(error, VS_ERROR_INVALID, "broken/proc/meminfo: line 3", "\"MemAvai\"");
	assert_int_equal(mem.total, 7);
	g_clear_error(&error);

	assert_int_equal(vs_psi_read(sys, "memory", &psi, &error), -EINVAL);
	assert_error(error, VS_ERROR_INVALID, "broken/proc/pressure/memory: line 1", "avg60=lots");
	assert_int_equal(psi.some.total_us, 7);
	g_clear_error(&error);

	assert_int_equal(vs_psi_read(sys, "cpu", &psi, &error), -EINVAL);
	assert_error(error, VS_ERROR_INVALID, "broken/proc/pressure/cpu: line 2",
		     "second \"some\"");
	g_clear_error(&error);

	assert_int_equal(vs_meminfo_read(v1, &mem, &error), 0);
	assert_int_equal(mem.swap_total, 8388604ull * 1024);
}

static void assert_strv(char **got, const char *const *want)
{
	guint n = 0;

	while (want && want[n])
		n++;
	assert_non_null(got);
	assert_int_equal(g_strv_length(got), n);
	for (guint i = 0; i < n; i++)
		assert_string_equal(got[i], want[i]);
}

static void test_cgroup_hybrid(void **state)
{
	g_autoptr(VsSys) sys = fixture("flat2");
	g_autoptr(GError) error = NULL;
	VsCgroupInfo cg = { 0 };
	const char *const v2[] = { "hugetlb", NULL };
	const char *const v1[] = { "cpu", "cpuacct", "cpuset", "memory", "devices",
				   "freezer", "blkio", "pids", NULL };

	assert_int_equal(vs_cgroup_discover(sys, &cg, &error), 0);
	assert_int_equal(cg.mode, VS_CGROUP_HYBRID);
	assert_string_equal(cg.v2_mount, "/sys/fs/cgroup/unified");
	assert_strv(cg.v2_controllers, v2);
	assert_strv(cg.v1_controllers, v1);
	assert_true(vs_cgroup_has_controller(cg.v1_controllers, "cpu"));
	assert_false(vs_cgroup_has_controller(cg.v2_controllers, "cpu"));
	vs_cgroup_info_clear(&cg);
	assert_null(cg.v2_mount);
}

static void test_cgroup_v2(void **state)
{
	g_autoptr(VsSys) sys = fixture("unified-v2");
	g_autoptr(GError) error = NULL;
	VsCgroupInfo cg = { 0 };
	const char *const v2[] = { "cpuset", "cpu", "io", "memory", "hugetlb", "pids",
				   "rdma", "misc", NULL };

	/* The mount of the hierarchy's root wins over the bind mount of
	 * /machine.slice listed before it. */
	assert_int_equal(vs_cgroup_discover(sys, &cg, &error), 0);
	assert_int_equal(cg.mode, VS_CGROUP_V2);
	assert_string_equal(cg.v2_mount, "/sys/fs/cgroup");
	assert_strv(cg.v2_controllers, v2);
	assert_strv(cg.v1_controllers, NULL);
	vs_cgroup_info_clear(&cg);
}

static void test_cgroup_v1(void **state)
{
	g_autoptr(VsSys) sys = fixture("smt2-numa2");
	g_autoptr(GError) error = NULL;
	VsCgroupInfo cg = { 0 };
	const char *const v1[] = { "cpu", "cpuacct", "cpuset", "memory", "blkio",
				   "net_prio", "net_cls", "pids", NULL };

	assert_int_equal(vs_cgroup_discover(sys, &cg, &error), 0);
	assert_int_equal(cg.mode, VS_CGROUP_V1);
	assert_null(cg.v2_mount);
	assert_strv(cg.v2_controllers, NULL);
	assert_strv(cg.v1_controllers, v1);
	vs_cgroup_info_clear(&cg);
}

static void test_cgroup_none_and_named_v1(void **state)
{
	VsSys *sys = temp_root("/proc/self/mountinfo",
			       "21 26 0:20 / /proc rw,relatime - proc proc rw\n"
			       "22 26 0:21 / /sys rw,relatime - sysfs sysfs rw\n", NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = NULL;
	VsCgroupInfo cg = { 0 };

	assert_int_equal(vs_cgroup_discover(sys, &cg, &error), 0);
	assert_int_equal(cg.mode, VS_CGROUP_NONE);
	assert_null(cg.v2_mount);
	assert_strv(cg.v1_controllers, NULL);
	vs_cgroup_info_clear(&cg);

	/* A controller-less name=systemd hierarchy beside v2 is still v2; a
	 * mount point with a space is unescaped before use. */
	temp_write(sys, "/proc/self/mountinfo",
		   "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
		   "40 30 0:37 / /srv/my\\040cgroup rw,relatime shared:3 master:1 - cgroup2 cgroup2 rw\n");
	dir = vs_sys_path(sys, "/srv/my cgroup");
	assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
	temp_write(sys, "/srv/my cgroup/cgroup.controllers", "memory pids\n");
	assert_int_equal(vs_cgroup_discover(sys, &cg, &error), 0);
	assert_int_equal(cg.mode, VS_CGROUP_V2);
	assert_string_equal(cg.v2_mount, "/srv/my cgroup");
	assert_true(vs_cgroup_has_controller(cg.v2_controllers, "pids"));
	vs_cgroup_info_clear(&cg);
	temp_root_free(sys);
}

static void test_cgroup_errors(void **state)
{
	g_autoptr(VsSys) broken = fixture("broken");
	VsSys *sys = temp_root("/proc/self/mountinfo",
			       "40 30 0:37 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n",
			       NULL);
	GError *error = NULL;
	VsCgroupInfo cg = { 0 };

	assert_int_equal(vs_cgroup_discover(broken, &cg, &error), -EINVAL);
	assert_error(error, VS_ERROR_INVALID, "broken/proc/self/mountinfo: line 2", "cgroup2\"");
	g_clear_error(&error);

	/* v2 mounted but its cgroup.controllers cannot be read. */
	assert_int_equal(vs_cgroup_discover(sys, &cg, &error), -ENOENT);
	assert_error(error, VS_ERROR_NOT_FOUND, "/sys/fs/cgroup/cgroup.controllers: ", NULL);
	g_clear_error(&error);
	assert_null(cg.v2_controllers);
	temp_root_free(sys);
}

static VsHost *collect(const VsSys *sys)
{
	g_autoptr(GError) error = NULL;
	VsHost *host = vs_host_collect(sys, &error);

	if (!host) {
		print_error("%s\n", error->message);
		fail();
	}
	vs_host_probe_caps(host, sys);
	return host;
}

static void assert_cap(const VsCap *cap, bool ok, const char *fragment)
{
	assert_non_null(cap->detail);
	if (cap->ok != ok || !strstr(cap->detail, fragment)) {
		print_error("unexpected cap %d: %s\n", cap->ok, cap->detail);
		fail();
	}
}

static void assert_not_probed(const VsHostCaps *caps)
{
	assert_cap(&caps->deadline, false, "not probed: fixture root");
	assert_cap(&caps->sched_core, false, "not probed: fixture root");
	assert_cap(&caps->taskstats, false, "not probed: fixture root");
}

static void test_caps_flat2(void **state)
{
	g_autoptr(VsSys) sys = fixture("flat2");
	g_autoptr(VsHost) host = collect(sys);
	const VsHostCaps *caps = &host->caps;

	assert_not_probed(caps);
	assert_cap(&caps->psi, true, "/proc/pressure");
	assert_cap(&caps->cgroup_v2_cpu, false,
		   "cgroup v2 has no cpu controller (hybrid layout: cpu is on cgroup v1)");
	assert_cap(&caps->cgroup_v2_cpuset, false, "cpuset is on cgroup v1");
	assert_cap(&caps->cgroup_v2_memory, false, "memory is on cgroup v1");
	assert_cap(&caps->cpuset_partitions, false, "need the cpuset controller on cgroup v2");
	/* This machine's root lacks CAP_SYS_RESOURCE. */
	assert_int_equal(caps->psi_min_window_us, 2000000);
	assert_int_equal(caps->rt_runtime_us, 950000);
	assert_int_equal(caps->rt_period_us, 1000000);

	/* Probing again replaces the details (ASan checks the old ones are
	 * freed). */
	vs_host_probe_caps(host, sys);
	assert_not_probed(caps);
}

static void test_caps_unified_v2(void **state)
{
	g_autoptr(VsSys) sys = fixture("unified-v2");
	g_autoptr(VsHost) host = collect(sys);
	const VsHostCaps *caps = &host->caps;

	assert_not_probed(caps);
	assert_cap(&caps->psi, true, "/proc/pressure");
	assert_cap(&caps->cgroup_v2_cpu, true, "cpu controller on cgroup v2 (/sys/fs/cgroup)");
	assert_cap(&caps->cgroup_v2_cpuset, true, "cpuset controller");
	assert_cap(&caps->cgroup_v2_memory, true, "memory controller");
	assert_cap(&caps->cpuset_partitions, true,
		   "/sys/fs/cgroup/machine.slice/cpuset.cpus.partition");
	assert_int_equal(host->psi_memory.some.total_us, 123456);
	assert_true(host->psi_memory.has_full);
	assert_int_equal(host->psi_cpu.some.total_us, 9876543);
	assert_false(host->psi_cpu.has_full);
	assert_int_equal(caps->psi_min_window_us, 500000);
	assert_int_equal(caps->rt_runtime_us, -1);
	assert_int_equal(caps->rt_period_us, 1000000);
}

static void test_caps_v1(void **state)
{
	g_autoptr(VsSys) sys = fixture("smt2-numa2");
	g_autoptr(VsHost) host = collect(sys);
	const VsHostCaps *caps = &host->caps;

	assert_not_probed(caps);
	assert_cap(&caps->psi, false, "/proc/pressure/memory is missing");
	assert_cap(&caps->cgroup_v2_cpu, false, "cgroup v1 only: cpu is on cgroup v1");
	assert_cap(&caps->cpuset_partitions, false, "cpuset");
	assert_int_equal(caps->psi_min_window_us, 500000);
	assert_int_equal(caps->rt_runtime_us, 950000);
}

static void test_caps_sparse_root(void **state)
{
	VsSys *sys = temp_root(
		"/sys/devices/system/cpu/online", "0\n",
		"/proc/meminfo", "MemTotal: 1024 kB\nMemAvailable: 512 kB\n",
		"/proc/self/mountinfo",
		"40 30 0:37 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n",
		"/sys/fs/cgroup/cgroup.controllers", "cpuset memory\n",
		"/sys/fs/cgroup/init.scope/cgroup.procs", "1\n",
		"/proc/sys/kernel/sched_rt_runtime_us", "950000\n",
		NULL);
	g_autoptr(VsHost) host = collect(sys);
	const VsHostCaps *caps = &host->caps;

	assert_cap(&caps->cgroup_v2_cpu, false,
		   "cgroup v2 has no cpu controller: this kernel does not offer it");
	assert_cap(&caps->cpuset_partitions, true,
		   "cpuset v2 present; partition file not seen yet");
	/* No /proc/self/status: assume no CAP_SYS_RESOURCE. No period: RT
	 * bandwidth unknown. */
	assert_int_equal(caps->psi_min_window_us, 2000000);
	assert_int_equal(caps->rt_runtime_us, 0);
	assert_int_equal(caps->rt_period_us, 0);
	assert_false(host->psi_memory.available);
	temp_root_free(sys);
}

static void test_collect_fixtures(void **state)
{
	const char *names[] = { "smt2-numa2", "flat2", "unified-v2" };

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autoptr(VsSys) sys = fixture(names[i]);
		g_autoptr(VsHost) host = collect(sys);
		g_autoptr(GError) error = NULL;

		assert_int_equal(vs_cpuset_count(host->topology.online), host->topology.cpus->len);
		assert_true(host->mem.total > 0);
		assert_int_not_equal(host->cgroup.mode, VS_CGROUP_NONE);
		assert_int_equal(vs_host_refresh(host, sys, &error), 0);
	}
}

static void test_collect_broken(void **state)
{
	g_autoptr(VsSys) sys = fixture("broken");
	g_autoptr(GError) error = NULL;
	g_autoptr(VsHost) host = vs_host_collect(sys, &error);

	assert_null(host);
	assert_error(error, VS_ERROR_INVALID, "cpu1/topology/core_id", NULL);
}

static void test_refresh(void **state)
{
	VsSys *sys = temp_root(
		"/sys/devices/system/cpu/online", "0\n",
		"/proc/meminfo", "MemTotal: 1024 kB\nMemAvailable: 512 kB\n",
		"/proc/pressure/memory", "some avg10=0.00 avg60=0.00 avg300=0.00 total=10\n",
		"/proc/self/mountinfo", "",
		NULL);
	g_autoptr(VsHost) host = collect(sys);
	GError *error = NULL;

	assert_int_equal(host->mem.available, 512 * 1024);
	assert_int_equal(host->psi_memory.some.total_us, 10);
	assert_false(host->psi_cpu.available);
	assert_int_equal(host->cgroup.mode, VS_CGROUP_NONE);
	assert_cap(&host->caps.cgroup_v2_memory, false, "no cgroup file system is mounted");

	temp_write(sys, "/proc/meminfo", "MemTotal: 1024 kB\nMemAvailable: 256 kB\n");
	temp_write(sys, "/proc/pressure/memory",
		   "some avg10=5.00 avg60=0.00 avg300=0.00 total=20\n");
	assert_int_equal(vs_host_refresh(host, sys, &error), 0);
	assert_int_equal(host->mem.available, 256 * 1024);
	assert_int_equal(host->psi_memory.some.total_us, 20);

	/* A failed refresh names the file and changes nothing. */
	temp_write(sys, "/proc/meminfo", "MemTotal: 1024 kB\nMemAvailable: 128 kB\n");
	temp_write(sys, "/proc/pressure/memory", "some avg10=x\n");
	assert_int_equal(vs_host_refresh(host, sys, &error), -EINVAL);
	assert_error(error, VS_ERROR_INVALID, "/proc/pressure/memory: ", NULL);
	g_clear_error(&error);
	assert_int_equal(host->mem.available, 256 * 1024);
	assert_int_equal(host->psi_memory.some.total_us, 20);
	temp_root_free(sys);
}

/* A fake ops table for the kernel probes, run on the real root. */
static struct {
	int setattr_results[2];
	guint setattr_calls;
	VsSchedAttr attrs[2];
	pid_t tids[2];
	int prctl_result;
	unsigned long prctl_args[3];
} fake;

static int fake_setattr(pid_t tid, const VsSchedAttr *attr)
{
	guint i = fake.setattr_calls++;

	assert_true(i < 2);
	fake.attrs[i] = *attr;
	fake.tids[i] = tid;
	return fake.setattr_results[i];
}

static int fake_prctl(unsigned long cmd, pid_t pid, unsigned long type)
{
	fake.prctl_args[0] = cmd;
	fake.prctl_args[1] = (unsigned long)pid;
	fake.prctl_args[2] = type;
	return fake.prctl_result;
}

static const VsSysOps fake_ops = {
	.sched_setattr = fake_setattr,
	.prctl_sched_core = fake_prctl,
};

/* Probes with the fake ops answering @setattr1/@setattr2 and @prctl. */
static VsHost *probe_fake(int setattr1, int setattr2, int prctl)
{
	g_autoptr(VsSys) sys = vs_sys_new(NULL);
	VsHost *host = g_new0(VsHost, 1);

	memset(&fake, 0, sizeof(fake));
	fake.setattr_results[0] = setattr1;
	fake.setattr_results[1] = setattr2;
	fake.prctl_result = prctl;
	sys->ops = &fake_ops;
	vs_host_probe_caps(host, sys);
	return host;
}

static void test_caps_kernel_probes(void **state)
{
	VsHost *host;

	host = probe_fake(0, 0, -EFAULT);
	assert_cap(&host->caps.deadline, true, "SCHED_DEADLINE accepted");
	assert_int_equal(fake.setattr_calls, 2);
	assert_int_equal(fake.attrs[0].sched_policy, SCHED_DEADLINE);
	assert_int_equal(fake.attrs[0].size, sizeof(VsSchedAttr));
	assert_int_equal(fake.attrs[0].sched_runtime, 100000);
	assert_int_equal(fake.attrs[0].sched_period, 10000000);
	assert_int_equal(fake.attrs[0].sched_deadline, 10000000);
	assert_int_equal(fake.attrs[1].sched_policy, SCHED_OTHER);
	/* On a thread of its own, not on the caller. */
	assert_int_equal(fake.tids[0], fake.tids[1]);
	assert_int_not_equal(fake.tids[0], gettid());
	assert_cap(&host->caps.sched_core, true, "core scheduling available");
	assert_int_equal(fake.prctl_args[0], 0); /* PR_SCHED_CORE_GET */
	assert_int_equal(fake.prctl_args[1], 0);
	assert_int_equal(fake.prctl_args[2], 0); /* PIDTYPE_PID */
	vs_host_free(host);

	host = probe_fake(-EPERM, 0, -EINVAL);
	assert_cap(&host->caps.deadline, false, "SCHED_DEADLINE refused: Operation not permitted");
	assert_int_equal(fake.setattr_calls, 1);
	assert_cap(&host->caps.sched_core, false, "no core scheduling in this kernel");
	vs_host_free(host);

	host = probe_fake(0, -EINVAL, -ENODEV);
	assert_cap(&host->caps.deadline, false,
		   "going back to SCHED_OTHER failed: Invalid argument");
	assert_cap(&host->caps.sched_core, false, "needs SMT");
	vs_host_free(host);

	host = probe_fake(-EBUSY, 0, -EPERM);
	assert_cap(&host->caps.deadline, false, "SCHED_DEADLINE refused: Device or resource busy");
	assert_cap(&host->caps.sched_core, false, "PR_SCHED_CORE refused: Operation not permitted");
	vs_host_free(host);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topology_smt2_numa2),
		cmocka_unit_test(test_topology_flat2),
		cmocka_unit_test(test_topology_unified_v2),
		cmocka_unit_test(test_topology_broken),
		cmocka_unit_test(test_topology_missing_files),
		cmocka_unit_test(test_topology_offline_sibling),
		cmocka_unit_test(test_topology_node_cpulists),
		cmocka_unit_test(test_topology_rejects_garbage),
		cmocka_unit_test(test_topology_online_missing),
		cmocka_unit_test(test_meminfo_psi_readers),
		cmocka_unit_test(test_meminfo_psi_broken),
		cmocka_unit_test(test_cgroup_hybrid),
		cmocka_unit_test(test_cgroup_v2),
		cmocka_unit_test(test_cgroup_v1),
		cmocka_unit_test(test_cgroup_none_and_named_v1),
		cmocka_unit_test(test_cgroup_errors),
		cmocka_unit_test(test_caps_flat2),
		cmocka_unit_test(test_caps_unified_v2),
		cmocka_unit_test(test_caps_v1),
		cmocka_unit_test(test_caps_sparse_root),
		cmocka_unit_test(test_collect_fixtures),
		cmocka_unit_test(test_collect_broken),
		cmocka_unit_test(test_refresh),
		cmocka_unit_test(test_caps_kernel_probes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
