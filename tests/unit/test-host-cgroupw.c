/* Unit tests for the cgroup v2 writer (src/host/cgroup-write.c): the
 * normal-form comparisons and the cpu.max arithmetic (pure), the guest
 * directories derived from a domain's cgroup path, and the writes against
 * small trees in a temporary directory. A regular file cannot show what
 * the kernel does to a value (it reads back what was written), so the
 * trees test previous values, validation, availability and the error
 * messages; kernel refusals come from symlinks to real files: writing
 * /proc/self/stat fails with EINVAL, and /dev/null reads back empty
 * whatever was written. The kernel itself is tested in the lab
 * (tests/lab/lab-cpu.c). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit/test-temp-root.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/cgroup-write.h"
#include "util/error.h"

#define CG "/sys/fs/cgroup"
#define GUEST CG "/machine/qemu-3-db1.libvirt-qemu"

/* A VsCgroupInfo for the given mode, mount, and v2 and v1 controllers
 * (blank-separated). */
static void info_init(VsCgroupInfo *cg, VsCgroupMode mode, const char *mount,
		      const char *v2, const char *v1)
{
	cg->mode = mode;
	cg->v2_mount = g_strdup(mount);
	cg->v2_controllers = v2[0] ? g_strsplit(v2, " ", -1) : g_new0(char *, 1);
	cg->v1_controllers = v1[0] ? g_strsplit(v1, " ", -1) : g_new0(char *, 1);
}

static void info_v2(VsCgroupInfo *cg)
{
	info_init(cg, VS_CGROUP_V2, CG, "cpuset cpu io memory hugetlb pids", "");
}

/* This development host: hybrid, v2 at /sys/fs/cgroup/unified with only
 * hugetlb, cpu and cpuset on v1. */
static void info_hybrid(VsCgroupInfo *cg)
{
	info_init(cg, VS_CGROUP_HYBRID, CG "/unified", "hugetlb", "cpu cpuacct cpuset memory");
}

/* Replaces the fixture file @path by a symlink to the host file @target. */
static void temp_link(const VsSys *sys, const char *path, const char *target)
{
	g_autofree char *full = vs_sys_path(sys, path);

	unlink(full);
	assert_int_equal(symlink(target, full), 0);
}

static char *temp_read(const VsSys *sys, const char *path)
{
	g_autofree char *full = vs_sys_path(sys, path);
	char *contents = NULL;

	assert_true(g_file_get_contents(full, &contents, NULL, NULL));
	return contents;
}

/* Asserts that @error is set, in VS_ERROR with @code, and that its message
 * contains each of the NULL-terminated fragments. */
static void assert_error(const GError *error, int code, const char *fragment, ...)
{
	va_list ap;

	assert_non_null(error);
	assert_true(error->domain == VS_ERROR);
	assert_int_equal(error->code, code);
	va_start(ap, fragment);
	for (const char *f = fragment; f; f = va_arg(ap, const char *)) {
		if (!strstr(error->message, f)) {
			print_error("\"%s\" not in \"%s\"\n", f, error->message);
			fail();
		}
	}
	va_end(ap);
}

static void test_matches(void **state)
{
	static const struct {
		const char *file, *written, *read;
		bool match;
	} cases[] = {
		{ "cpu.weight", "300", "300\n", true },
		{ "cpu.weight", "300", "100", false },
		{ "cpu.weight", "300", "", false },
		{ "cpu.weight", "abc", "abc", false },
		{ "cpu.max.burst", "0", "0", true },
		{ "cpu.max", "max", "max 100000", true },
		{ "cpu.max", "max 100000", "max 100000\n", true },
		{ "cpu.max", "max 100000", "max 50000", false },
		{ "cpu.max", "20000 100000", "20000 100000", true },
		{ "cpu.max", "20000", "20000 100000", true },
		{ "cpu.max", "20000  100000", "20000 100000", true },
		{ "cpu.max", "20000 100000", "max 100000", false },
		{ "cpu.max", "20000 100000", "20000 50000", false },
		{ "cpu.max", "20000 100000 1", "20000 100000", false },
		{ "cpu.max", "-5 100000", "-5 100000", false },
		{ "cpu.max", "", "", false },
		{ "cpuset.cpus", "0,1,2", "0-2", true },
		{ "cpuset.cpus", "\n", "", true },
		{ "cpuset.cpus", "1", "0-1", false },
		{ "cpuset.cpus", "x", "x", false },
		{ "cpuset.mems", "0", "0\n", true },
		{ "cpuset.cpus.partition", "root", "root\n", true },
		{ "cpuset.cpus.partition", "isolated", "isolated", true },
		{ "cpuset.cpus.partition", "root", "isolated", false },
		{ "cpuset.cpus.partition", "root", "root invalid (Cpu list in cpuset.cpus not exclusive)", false },
		{ "cpuset.cpus.partition", "root", "root invalid", false },
		{ "cgroup.type", "threaded", "threaded\n", true },
		{ "cgroup.type", "threaded", "domain threaded", false },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		bool got = vs_cgroup_value_matches(cases[i].file, cases[i].written, cases[i].read);

		if (got != cases[i].match) {
			print_error("%s: \"%s\" against \"%s\": %d\n", cases[i].file,
				    cases[i].written, cases[i].read, got);
			fail();
		}
	}
}

static void assert_limit(double pct, const char *want)
{
	g_autofree char *value = NULL;

	assert_int_equal(vs_cgroup_limit_value(pct, &value), 0);
	assert_string_equal(value, want);
}

static void test_limit_value(void **state)
{
	char *untouched = NULL;

	assert_limit(0, "max 100000");
	assert_limit(20, "20000 100000");
	assert_limit(1, "1000 100000");
	assert_limit(150, "150000 100000");
	assert_limit(33.3333, "33333 100000");
	assert_limit(100.0 * (VS_CPU_MAX + 1), "819200000 100000");
	assert_int_equal(vs_cgroup_limit_value(0.5, &untouched), -ERANGE);
	assert_int_equal(vs_cgroup_limit_value(100.0 * (VS_CPU_MAX + 2), &untouched), -ERANGE);
	assert_int_equal(vs_cgroup_limit_value(-1, &untouched), -EINVAL);
	assert_int_equal(vs_cgroup_limit_value(NAN, &untouched), -EINVAL);
	assert_int_equal(vs_cgroup_limit_value(INFINITY, &untouched), -EINVAL);
	assert_null(untouched);
}

static void assert_domain_dir(const VsCgroupInfo *cg, const char *cgroup_path, const char *want)
{
	g_autoptr(VsDomain) dom = vs_domain_new("db1", 1);
	g_autofree char *dir = NULL;

	dom->cgroup_path = g_strdup(cgroup_path);
	dir = vs_cgroup_domain_dir(dom, cg);
	if (!want) {
		assert_null(dir);
		return;
	}
	assert_non_null(dir);
	assert_string_equal(dir, want);
}

static void test_domain_dir(void **state)
{
	VsCgroupInfo v2 = { 0 }, hybrid = { 0 }, v2_no_cpu = { 0 };

	info_v2(&v2);
	info_hybrid(&hybrid);
	/* A v2 hierarchy whose cpu controller is simply not there: the path
	 * is still the v2 path. */
	info_init(&v2_no_cpu, VS_CGROUP_V2, CG, "memory pids", "");

	assert_domain_dir(&v2, "/machine/qemu-3-db1.libvirt-qemu/emulator", GUEST);
	assert_domain_dir(&v2, "/machine/qemu-3-db1.libvirt-qemu/vcpu12", GUEST);
	assert_domain_dir(&v2, "/machine/qemu-3-db1.libvirt-qemu", GUEST);
	assert_domain_dir(&v2, "/machine/qemu-3-db1.libvirt-qemu/", GUEST);
	assert_domain_dir(&v2, "/machine/qemu-3-db1.libvirt-qemu/vcpu", GUEST "/vcpu");
	assert_domain_dir(&v2, "/machine/qemu-3-db1.libvirt-qemu/vcpu1x", GUEST "/vcpu1x");
	assert_domain_dir(&v2, "/machine.slice/machine-qemu\\x2d3\\x2ddb1.scope/libvirt/emulator",
			  CG "/machine.slice/machine-qemu\\x2d3\\x2ddb1.scope");
	assert_domain_dir(&v2, "/machine.slice/machine-qemu\\x2d3\\x2ddb1.scope/libvirt/vcpu0",
			  CG "/machine.slice/machine-qemu\\x2d3\\x2ddb1.scope");
	assert_domain_dir(&v2_no_cpu, "/machine/qemu-3-db1.libvirt-qemu/emulator", GUEST);
	assert_domain_dir(&v2, "/", NULL);
	assert_domain_dir(&v2, "/emulator", NULL);
	assert_domain_dir(&v2, NULL, NULL);
	assert_domain_dir(&v2, "machine/x", NULL);
	/* Hybrid with cpu on v1: the inventory's path is the v1 cpu path. */
	assert_domain_dir(&hybrid, "/machine/qemu-3-db1.libvirt-qemu/emulator", NULL);

	vs_cgroup_info_clear(&v2);
	vs_cgroup_info_clear(&hybrid);
	vs_cgroup_info_clear(&v2_no_cpu);
}

static void test_vcpu_dir(void **state)
{
	g_autofree char *plain = vs_cgroup_vcpu_dir(GUEST, 3);
	g_autofree char *scope = vs_cgroup_vcpu_dir(CG "/machine.slice/machine-qemu\\x2d3\\x2ddb1.scope", 0);

	assert_string_equal(plain, GUEST "/vcpu3");
	assert_string_equal(scope, CG "/machine.slice/machine-qemu\\x2d3\\x2ddb1.scope/libvirt/vcpu0");
}

/* A guest tree as the kernel shows it once cpu and cpuset are enabled down
 * to the vCPU cgroups. */
static VsSys *guest_tree(void)
{
	return temp_root(CG "/cgroup.subtree_control", "cpuset cpu memory\n",
			 CG "/machine/cgroup.subtree_control", "cpuset cpu\n",
			 GUEST "/cgroup.subtree_control", "cpuset cpu\n",
			 GUEST "/cpu.weight", "100\n",
			 GUEST "/cpu.max", "max 100000\n",
			 GUEST "/cpu.max.burst", "0\n",
			 GUEST "/cpuset.cpus", "\n",
			 GUEST "/cpuset.mems", "\n",
			 GUEST "/cpuset.cpus.partition", "member\n",
			 GUEST "/vcpu0/cgroup.threads", "",
			 GUEST "/vcpu0/cpu.max", "max 100000\n",
			 NULL);
}

static void test_set(void **state)
{
	g_autoptr(GError) error = NULL;
	VsSys *sys = guest_tree();
	g_autofree char *previous = NULL, *now = NULL;

	assert_int_equal(vs_cgroup_set(sys, GUEST, "cpu.weight", "300", &previous, &error), 0);
	assert_null(error);
	assert_string_equal(previous, "100");
	now = temp_read(sys, GUEST "/cpu.weight");
	/* Truncated: "300", not "300" over "100\n". */
	assert_string_equal(now, "300");
	/* ret_previous may be NULL. */
	assert_int_equal(vs_cgroup_set(sys, GUEST, "cpu.weight", "50", NULL, &error), 0);
	temp_root_free(sys);
}

/* A held file reads what is there now at every read, writes and reads
 * back on the same descriptor; a missing file says "cannot read". */
static void test_file(void **state)
{
	VsSys *sys = guest_tree();
	g_autofree char *missing = vs_sys_path(sys, GUEST "/cpu.idle");
	g_autofree char *want = g_strdup_printf("cannot read %s: %s", missing, g_strerror(ENOENT));
	g_autoptr(VsCgroupFile) f = NULL;
	g_autoptr(VsCgroupFile) none = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *v1 = NULL, *v2 = NULL, *v3 = NULL, *now = NULL;

	assert_int_equal(vs_cgroup_file_open(sys, GUEST, "cpu.weight", &f, &error), 0);
	assert_int_equal(vs_cgroup_file_read(f, &v1, &error), 0);
	assert_string_equal(v1, "100");
	assert_int_equal(vs_cgroup_file_write(f, "300", v1, &error), 0);
	assert_null(error);
	now = temp_read(sys, GUEST "/cpu.weight");
	assert_string_equal(now, "300");  /* truncated, not "300" over "100\n" */
	/* Changed in place by someone else: the next read sees it. */
	assert_int_equal(vs_sys_write(sys, GUEST "/cpu.weight", "7\n"), 0);
	assert_int_equal(vs_cgroup_file_read(f, &v2, &error), 0);
	assert_string_equal(v2, "7");
	assert_int_equal(vs_cgroup_file_write(f, "50", v2, &error), 0);
	assert_int_equal(vs_cgroup_file_read(f, &v3, &error), 0);
	assert_string_equal(v3, "50");

	assert_int_equal(vs_cgroup_file_open(sys, GUEST, "cpu.idle", &none, &error), -ENOENT);
	assert_null(none);
	assert_error(error, VS_ERROR_SYSTEM, want, NULL);
	temp_root_free(sys);
}

/* The kernel's side, where a cpu cgroup can be made (root): a held file of
 * a cgroup removed since reads -ENODEV (or -ENOENT), which is how the
 * actuator knows to drop it, and opening it again fails with -ENOENT. */
static void test_file_removed_real(void **state)
{
	static const struct { const char *dir, *file; } tries[] = {
		{ "/sys/fs/cgroup/cpu/vsched-test-held", "cpu.shares" },
		{ "/sys/fs/cgroup/vsched-test-held", "cpu.weight" },
	};
	g_autoptr(VsSys) sys = vs_sys_new(NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(tries); i++) {
		g_autoptr(VsCgroupFile) f = NULL;
		g_autoptr(VsCgroupFile) again = NULL;
		g_autofree char *value = NULL, *gone = NULL;
		int r;

		if (mkdir(tries[i].dir, 0755) < 0)
			continue;
		if (vs_cgroup_file_open(sys, tries[i].dir, tries[i].file, &f, NULL) < 0) {
			rmdir(tries[i].dir);
			continue;
		}
		assert_int_equal(vs_cgroup_file_read(f, &value, NULL), 0);
		assert_int_equal(rmdir(tries[i].dir), 0);
		r = vs_cgroup_file_read(f, &gone, NULL);
		assert_true(r == -ENODEV || r == -ENOENT);
		assert_null(gone);
		assert_int_equal(vs_cgroup_file_open(sys, tries[i].dir, tries[i].file, &again, NULL),
				 -ENOENT);
		return;
	}
	skip();
}

static void test_set_errors(void **state)
{
	VsSys *sys = guest_tree();
	g_autofree char *weight = vs_sys_path(sys, GUEST "/cpu.weight");
	g_autofree char *missing = vs_sys_path(sys, GUEST "/cpu.idle");
	char *previous = NULL;

	{
		/* The kernel refuses the write (EINVAL for root, EACCES for
		 * others): the error names value, path and errno. */
		g_autoptr(GError) error = NULL;
		g_autofree char *want = NULL;
		int r;

		temp_link(sys, GUEST "/cpu.weight", "/proc/self/stat");
		r = vs_cgroup_set(sys, GUEST, "cpu.weight", "20000", &previous, &error);
		assert_true(r == -EINVAL || r == -EACCES);
		want = g_strdup_printf("cannot write 20000 to %s: %s", weight, g_strerror(-r));
		assert_error(error, VS_ERROR_SYSTEM, want, NULL);
	}
	{
		/* The write goes through but the file does not hold the value
		 * afterwards: -EIO, and the previous value goes back. */
		g_autoptr(GError) error = NULL;

		temp_link(sys, GUEST "/cpu.weight", "/dev/null");
		assert_int_equal(vs_cgroup_set(sys, GUEST, "cpu.weight", "300", &previous, &error),
				 -EIO);
		assert_error(error, VS_ERROR_SYSTEM, "wrote 300 to ", weight,
			     "but it reads back \"\"", "previous value \"\" was written back", NULL);
	}
	{
		g_autoptr(GError) error = NULL;
		g_autofree char *want = g_strdup_printf("cannot read %s: %s", missing,
							g_strerror(ENOENT));

		assert_int_equal(vs_cgroup_set(sys, GUEST, "cpu.idle", "1", &previous, &error),
				 -ENOENT);
		assert_error(error, VS_ERROR_SYSTEM, want, NULL);
	}
	assert_null(previous);
	temp_root_free(sys);
}

static void test_typed(void **state)
{
	g_autoptr(GError) error = NULL;
	VsCgroupInfo cg = { 0 };
	VsSys *sys = guest_tree();
	g_autofree char *vcpu0 = vs_cgroup_vcpu_dir(GUEST, 0);
	g_autoptr(VsCpuSet) cpus = vs_cpuset_parse("2,0,1", NULL);
	g_autoptr(VsCpuSet) none = vs_cpuset_new();
	g_autoptr(VsCpuSet) node0 = vs_cpuset_parse("0", NULL);
	struct {
		const char *file, *previous, *now;
	} want[] = {
		{ "/cpu.weight", "100", "300" },
		{ "/cpu.max", "max 100000", "20000 100000" },
		{ "/cpu.max.burst", "0", "5000" },
		{ "/cpuset.cpus", "", "0-2" },
		{ "/cpuset.mems", "", "0" },
		{ "/cpuset.cpus.partition", "member", "root" },
	};
	char *previous[G_N_ELEMENTS(want)] = { 0 };

	info_v2(&cg);
	assert_int_equal(vs_cgroup_set_weight(sys, &cg, GUEST, 300, &previous[0], &error), 0);
	assert_int_equal(vs_cgroup_set_limit(sys, &cg, GUEST, 20, &previous[1], &error), 0);
	assert_int_equal(vs_cgroup_set_burst(sys, &cg, GUEST, 5000, &previous[2], &error), 0);
	assert_int_equal(vs_cgroup_set_cpus(sys, &cg, GUEST, cpus, &previous[3], &error), 0);
	assert_int_equal(vs_cgroup_set_mems(sys, &cg, GUEST, node0, &previous[4], &error), 0);
	assert_int_equal(vs_cgroup_set_partition(sys, &cg, GUEST, "root", &previous[5], &error), 0);
	assert_null(error);
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
		g_autofree char *path = g_strconcat(GUEST, want[i].file, NULL);
		g_autofree char *now = temp_read(sys, path);

		assert_string_equal(previous[i], want[i].previous);
		assert_string_equal(now, want[i].now);
		g_free(previous[i]);
	}

	/* Back to no cap and to the parent's CPUs, as a restore does. */
	assert_int_equal(vs_cgroup_set_limit(sys, &cg, GUEST, 0, NULL, &error), 0);
	assert_int_equal(vs_cgroup_set_cpus(sys, &cg, GUEST, none, NULL, &error), 0);
	/* A vCPU cgroup. */
	assert_int_equal(vs_cgroup_set_limit(sys, &cg, vcpu0, 150, NULL, &error), 0);
	assert_null(error);
	{
		g_autofree char *max = temp_read(sys, GUEST "/cpu.max");
		g_autofree char *list = temp_read(sys, GUEST "/cpuset.cpus");
		g_autofree char *vmax = temp_read(sys, GUEST "/vcpu0/cpu.max");

		assert_string_equal(max, "max 100000");
		assert_string_equal(list, "\n");
		assert_string_equal(vmax, "150000 100000");
	}
	vs_cgroup_info_clear(&cg);
	temp_root_free(sys);
}

static void test_typed_rejects(void **state)
{
	VsCgroupInfo cg = { 0 };
	VsSys *sys = guest_tree();
	char *previous = NULL;
	static const char *const files[] = { "/cpu.weight", "/cpu.max", "/cpu.max.burst",
					     "/cpuset.cpus.partition" };
	static const char *const before[] = { "100\n", "max 100000\n", "0\n", "member\n" };

	info_v2(&cg);
	{
		g_autoptr(GError) error = NULL;

		assert_int_equal(vs_cgroup_set_weight(sys, &cg, GUEST, 0, &previous, &error), -ERANGE);
		assert_error(error, VS_ERROR_INVALID, "cpu.weight", "weight 0 is outside 1-10000", NULL);
	}
	{
		g_autoptr(GError) error = NULL;

		assert_int_equal(vs_cgroup_set_weight(sys, &cg, GUEST, 20000, &previous, &error), -ERANGE);
		assert_error(error, VS_ERROR_INVALID, "weight 20000 is outside", NULL);
	}
	{
		g_autoptr(GError) error = NULL;

		assert_int_equal(vs_cgroup_set_limit(sys, &cg, GUEST, 0.5, &previous, &error), -ERANGE);
		assert_error(error, VS_ERROR_INVALID, "cpu.max", "0.5%", NULL);
	}
	{
		g_autoptr(GError) error = NULL;

		assert_int_equal(vs_cgroup_set_burst(sys, &cg, GUEST, G_MAXUINT64, &previous, &error),
				 -ERANGE);
		assert_error(error, VS_ERROR_INVALID, "cpu.max.burst", NULL);
	}
	{
		g_autoptr(GError) error = NULL;

		assert_int_equal(vs_cgroup_set_partition(sys, &cg, GUEST, "rooted", &previous, &error),
				 -EINVAL);
		assert_error(error, VS_ERROR_INVALID, "\"rooted\" is not root, isolated or member", NULL);
	}
	/* Nothing was written. */
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *path = g_strconcat(GUEST, files[i], NULL);
		g_autofree char *now = temp_read(sys, path);

		assert_string_equal(now, before[i]);
	}
	assert_null(previous);
	vs_cgroup_info_clear(&cg);
	temp_root_free(sys);
}

/* On this development host (hybrid, v2 with only hugetlb) every setter says
 * the controller is unavailable and touches nothing. */
static void test_unavailable(void **state)
{
	VsCgroupInfo cg = { 0 }, none = { 0 };
	VsSys *sys = guest_tree();
	g_autoptr(VsCpuSet) cpus = vs_cpuset_parse("0", NULL);
	char *previous = NULL;
	int r;

	info_hybrid(&cg);
	info_init(&none, VS_CGROUP_V1, NULL, "", "cpu cpuset");
	for (int which = 0; which < 9; which++) {
		g_autoptr(GError) error = NULL;
		const char *controller = which >= 3 ? "cpuset" : "cpu";
		g_autofree char *want = g_strdup_printf("cgroup v2 has no %s controller on this host",
							controller);

		switch (which) {
		case 0: r = vs_cgroup_set_weight(sys, &cg, GUEST, 300, &previous, &error); break;
		case 1: r = vs_cgroup_set_limit(sys, &cg, GUEST, 20, &previous, &error); break;
		case 2: r = vs_cgroup_set_burst(sys, &none, GUEST, 1000, &previous, &error); break;
		case 3: r = vs_cgroup_set_cpus(sys, &cg, GUEST, cpus, &previous, &error); break;
		case 4: r = vs_cgroup_set_mems(sys, &cg, GUEST, cpus, &previous, &error); break;
		case 5: r = vs_cgroup_set_partition(sys, &cg, GUEST, "root", &previous, &error); break;
		case 6: r = vs_cgroup_enable(sys, &cg, GUEST, "cpuset", &error); break;
		case 7: r = vs_cgroup_available(&cg, "cpuset", &error); break;
		default: r = vs_cgroup_available(&none, "cpuset", &error); break;
		}
		assert_int_equal(r, -EOPNOTSUPP);
		assert_error(error, VS_ERROR_UNAVAILABLE, want, NULL);
	}
	assert_null(previous);
	{
		g_autofree char *now = temp_read(sys, GUEST "/cpu.weight");

		assert_string_equal(now, "100\n");
	}
	assert_int_equal(vs_cgroup_available(&cg, "hugetlb", NULL), 0);
	vs_cgroup_info_clear(&cg);
	vs_cgroup_info_clear(&none);
	temp_root_free(sys);
}

static void test_enable(void **state)
{
	VsCgroupInfo cg = { 0 };
	VsSys *sys = temp_root(CG "/cgroup.subtree_control", "cpuset cpu memory\n",
			       CG "/machine/cgroup.subtree_control", "cpu\n",
			       GUEST "/cgroup.subtree_control", "cpuset cpu\n",
			       GUEST "/vcpu0/cpu.weight", "100\n",
			       CG "/other/cgroup.subtree_control", "\n",
			       NULL);
	g_autofree char *vcpu0 = vs_cgroup_vcpu_dir(GUEST, 0);
	g_autofree char *machine_sc = vs_sys_path(sys, CG "/machine/cgroup.subtree_control");

	info_v2(&cg);
	{
		/* Enabled all the way down: nothing written. */
		g_autoptr(GError) error = NULL;
		g_autofree char *root_now = NULL, *machine_now = NULL;

		assert_int_equal(vs_cgroup_enable(sys, &cg, vcpu0, "cpu", &error), 0);
		assert_null(error);
		assert_int_equal(vs_cgroup_enable(sys, &cg, CG, "cpu", &error), 0);
		assert_int_equal(vs_cgroup_enable(sys, &cg, CG "/machine", "cpuset", &error), 0);
		root_now = temp_read(sys, CG "/cgroup.subtree_control");
		machine_now = temp_read(sys, CG "/machine/cgroup.subtree_control");
		assert_string_equal(root_now, "cpuset cpu memory\n");
		assert_string_equal(machine_now, "cpu\n");
	}
	{
		/* cpuset missing in machine/: "+cpuset" is written there (the
		 * root already has it), and a regular file reads back "+cpuset"
		 * where the kernel would say "cpu cpuset": the read-back check
		 * catches that. */
		g_autoptr(GError) error = NULL;
		g_autofree char *machine_now = NULL;

		assert_int_equal(vs_cgroup_enable(sys, &cg, vcpu0, "cpuset", &error), -EIO);
		assert_error(error, VS_ERROR_SYSTEM, "wrote +cpuset to ", machine_sc,
			     "reads back \"+cpuset\"", NULL);
		machine_now = temp_read(sys, CG "/machine/cgroup.subtree_control");
		assert_string_equal(machine_now, "+cpuset");
	}
	{
		g_autoptr(GError) error = NULL;
		g_autofree char *want = NULL;
		int r;

		temp_link(sys, CG "/machine/cgroup.subtree_control", "/proc/self/stat");
		r = vs_cgroup_enable(sys, &cg, vcpu0, "cpuset", &error);
		assert_true(r == -EINVAL || r == -EACCES);
		want = g_strdup_printf("cannot write +cpuset to %s: %s", machine_sc, g_strerror(-r));
		assert_error(error, VS_ERROR_SYSTEM, want, NULL);
	}
	{
		g_autoptr(GError) error = NULL;

		assert_int_equal(vs_cgroup_enable(sys, &cg, "/sys/fs/cgroupx/machine", "cpu", &error),
				 -EINVAL);
		assert_error(error, VS_ERROR_INVALID, "is not inside the cgroup v2 mount", NULL);
	}
	{
		/* A missing cpu.weight in a cgroup whose ancestors have cpu:
		 * enabling is a no-op and the read names the file. */
		g_autoptr(GError) error = NULL;
		g_autofree char *path = vs_sys_path(sys, CG "/other/cpu.weight");
		g_autofree char *want = g_strdup_printf("cannot read %s: %s", path, g_strerror(ENOENT));

		assert_int_equal(vs_cgroup_set_weight(sys, &cg, CG "/other", 200, NULL, &error), -ENOENT);
		assert_error(error, VS_ERROR_SYSTEM, want, NULL);
	}
	vs_cgroup_info_clear(&cg);
	temp_root_free(sys);
}

static void test_attach_thread(void **state)
{
	VsSys *sys = guest_tree();
	g_autofree char *vcpu0 = vs_cgroup_vcpu_dir(GUEST, 0);

	{
		g_autoptr(GError) error = NULL;
		g_autofree char *now = NULL;

		assert_int_equal(vs_cgroup_attach_thread(sys, vcpu0, 4242, &error), 0);
		assert_null(error);
		now = temp_read(sys, GUEST "/vcpu0/cgroup.threads");
		assert_string_equal(now, "4242");
	}
	{
		g_autoptr(GError) error = NULL;

		temp_link(sys, GUEST "/vcpu0/cgroup.threads", "/dev/null");
		assert_int_equal(vs_cgroup_attach_thread(sys, vcpu0, 4242, &error), -EIO);
		assert_error(error, VS_ERROR_SYSTEM, "wrote 4242 to", "cgroup.threads",
			     "not listed", NULL);
	}
	{
		g_autoptr(GError) error = NULL;

		assert_int_equal(vs_cgroup_attach_thread(sys, GUEST "/vcpu9", 4242, &error), -ENOENT);
		assert_error(error, VS_ERROR_SYSTEM, "cannot write 4242 to", "vcpu9/cgroup.threads",
			     NULL);
	}
	temp_root_free(sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_limit_value),
		cmocka_unit_test(test_domain_dir),
		cmocka_unit_test(test_vcpu_dir),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_removed_real),
		cmocka_unit_test(test_set_errors),
		cmocka_unit_test(test_typed),
		cmocka_unit_test(test_typed_rejects),
		cmocka_unit_test(test_unavailable),
		cmocka_unit_test(test_enable),
		cmocka_unit_test(test_attach_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
