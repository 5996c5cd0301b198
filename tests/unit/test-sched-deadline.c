/* Unit tests of src/sched/deadline.c: admission arithmetic against the
 * kernel's fixed point (limits of 0.95·M with and without the fair
 * server's share, exact fits, refusals with their messages, release and
 * replace), the fair-server probe of src/host/caps.c it depends on,
 * identity checks on the fixture /proc trees of tests/data/virt, and
 * vs_deadline_set/clear/get through a fake ops table. */
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
#include <unistd.h>

#include "host/host.h"
#include "sched/deadline.h"
#include "util/error.h"

/* The bandwidths below in the kernel's fixed point (1 << 20 = one CPU):
 * 950000/1000000 µs gives 996147 per CPU, the default fair server
 * (50 ms every 1 s) 52428 per CPU, 9/10 ms 943718. A period of 2^20 µs
 * makes the bandwidth equal to the runtime in µs. */
#define PERIOD_2_20 1048576

/* ---- admission ---- */

/* A host with the CPUs @cpus and the given RT limit and fair-server share;
 * only what vs_admission_new() reads. Free with host_clear(). */
static VsHost host_literal(const char *cpus, int64_t rt_runtime_us, int64_t rt_period_us,
			   double share)
{
	VsHost host = { 0 };

	host.topology.online = vs_cpuset_parse(cpus, NULL);
	assert_non_null(host.topology.online);
	host.caps.rt_runtime_us = rt_runtime_us;
	host.caps.rt_period_us = rt_period_us;
	host.caps.dl_server_share_per_cpu = share;
	return host;
}

static void host_clear(VsHost *host)
{
	vs_cpuset_free(host->topology.online);
}

static VsAdmission *admission(const char *cpus, int64_t rt_runtime_us, int64_t rt_period_us,
			      double share)
{
	VsHost host = host_literal(cpus, rt_runtime_us, rt_period_us, share);
	VsAdmission *a = vs_admission_new(&host);

	host_clear(&host);
	return a;
}

static bool admit(VsAdmission *a, const char *key, int64_t runtime_us, int64_t period_us,
		  guint span, char **ret_why)
{
	VsDeadlineRequest req = {
		.key = key, .runtime_us = runtime_us, .period_us = period_us, .n_cpus_span = span,
	};

	return vs_admission_admit(a, &req, ret_why);
}

/* @a refuses the request with exactly the message @want. */
static void assert_refused(VsAdmission *a, const char *key, int64_t runtime_us, int64_t period_us,
			   guint span, const char *want)
{
	g_autofree char *why = NULL;
	double used_before, used_after;

	vs_admission_usage(a, &used_before, NULL);
	assert_false(admit(a, key, runtime_us, period_us, span, &why));
	assert_non_null(why);
	assert_string_equal(why, want);
	vs_admission_usage(a, &used_after, NULL);
	assert_true(used_after == used_before);
}

/* @a refuses with a message that contains @fragment. */
static void assert_refused_like(VsAdmission *a, int64_t runtime_us, int64_t period_us, guint span,
				const char *fragment)
{
	g_autofree char *why = NULL;

	assert_false(admit(a, "x/vcpu9", runtime_us, period_us, span, &why));
	assert_non_null(why);
	if (!strstr(why, fragment)) {
		print_error("refusal \"%s\" lacks \"%s\"\n", why, fragment);
		fail();
	}
}

static void assert_usage(const VsAdmission *a, uint64_t used_bw, uint64_t capacity_bw)
{
	double used, capacity;

	vs_admission_usage(a, &used, &capacity);
	assert_true(used == (double)used_bw / (1 << 20));
	assert_true(capacity == (double)capacity_bw / (1 << 20));
}

static void test_limit_without_fair_server(void **state)
{
	g_autoptr(VsAdmission) a = admission("0-3", 950000, 1000000, 0);

	/* 0.95·M: four tasks of 9.5/10 ms fill it exactly. */
	assert_usage(a, 0, 4 * 996147);
	for (int i = 0; i < 4; i++) {
		g_autofree char *key = g_strdup_printf("g1/vcpu%d", i);
		assert_true(admit(a, key, 9500, 10000, 0, NULL));
	}
	assert_usage(a, 4 * 996147, 4 * 996147);
	/* The smallest runtime the kernel takes no longer fits, and the
	 * figures get the decimals it takes to tell them apart. */
	assert_refused(a, "g2/vcpu0", 2, 10000, 0,
		       "needs 0.0002 CPU, 0.0000 of 3.80 left in the root domain of CPUs 0-3");
}

static void test_limit_with_fair_server(void **state)
{
	g_autoptr(VsAdmission) a = admission("0-1", 950000, 1000000, 0.05);

	/* 2 × (996147 − 52428) = 1887438: 0.9·M. */
	assert_usage(a, 0, 1887438);
	assert_true(admit(a, "g1/vcpu0", 9000, 10000, 0, NULL));
	assert_true(admit(a, "g1/vcpu1", 9000, 10000, 0, NULL));
	assert_usage(a, 2 * 943718, 1887438);
	assert_refused(a, "g2/vcpu0", 2000, 10000, 0,
		       "needs 0.20 CPU, 0.00 of 1.80 left in the root domain of CPUs 0-1");
}

static void test_exact_fit(void **state)
{
	g_autoptr(VsAdmission) a = admission("0-1", 950000, 1000000, 0.05);

	assert_true(admit(a, "g1/vcpu0", 1000000, PERIOD_2_20, 0, NULL));
	/* 887438 units are left: one more is refused, exactly that fits. */
	assert_refused(a, "g1/vcpu1", 887439, PERIOD_2_20, 0,
		       "needs 0.846328 CPU, 0.846327 of 1.80 left in the root domain of CPUs 0-1");
	assert_true(admit(a, "g1/vcpu1", 887438, PERIOD_2_20, 0, NULL));
	assert_usage(a, 1887438, 1887438);
	assert_refused(a, "g1/vcpu2", 2, PERIOD_2_20, 0,
		       "needs 0.000002 CPU, 0.000000 of 1.80 left in the root domain of CPUs 0-1");
}

static void test_refusal_message(void **state)
{
	g_autoptr(VsAdmission) a = admission("0-1", 950000, 1000000, 0);

	assert_true(admit(a, "g1/vcpu0", 9500, 10000, 2, NULL));
	assert_true(admit(a, "g1/vcpu1", 9000, 10000, 2, NULL));
	assert_refused(a, "g2/vcpu0", 2000, 10000, 2,
		       "needs 0.20 CPU, 0.05 of 1.90 left in the root domain of CPUs 0-1");
	/* ret_why may be NULL. */
	assert_false(admit(a, "g2/vcpu0", 2000, 10000, 2, NULL));
}

static void test_release(void **state)
{
	g_autoptr(VsAdmission) a = admission("0", 950000, 1000000, 0);

	assert_true(admit(a, "g1/vcpu0", 5000, 10000, 0, NULL));
	assert_true(admit(a, "g1/vcpu1", 4000, 10000, 0, NULL));
	assert_false(admit(a, "g2/vcpu0", 1000, 10000, 0, NULL));
	vs_admission_release(a, "g1/vcpu0");
	/* Unknown keys are ignored. */
	vs_admission_release(a, "g1/vcpu0");
	vs_admission_release(a, "nobody/vcpu0");
	assert_usage(a, 419430, 996147);
	assert_true(admit(a, "g2/vcpu0", 5500, 10000, 0, NULL));
	vs_admission_release(a, "g1/vcpu1");
	vs_admission_release(a, "g2/vcpu0");
	assert_usage(a, 0, 996147);
}

static void test_replace(void **state)
{
	g_autoptr(VsAdmission) a = admission("0", 950000, 1000000, 0);

	assert_true(admit(a, "g1/vcpu0", 9000, 10000, 0, NULL));
	/* The old request does not count against its replacement. */
	assert_true(admit(a, "g1/vcpu0", 9500, 10000, 0, NULL));
	assert_usage(a, 996147, 996147);
	/* A replacement that does not fit leaves the old one admitted, and
	 * the message counts the old one's bandwidth as free. */
	assert_refused(a, "g1/vcpu0", 10000, 10000, 0,
		       "needs 1.00 CPU, 0.95 of 0.95 left in the root domain of CPUs 0");
	assert_usage(a, 996147, 996147);
	assert_true(admit(a, "g1/vcpu0", 1000, 10000, 0, NULL));
	assert_usage(a, 104857, 996147);
	assert_true(admit(a, "g1/vcpu1", 8500, 10000, 0, NULL));
}

static void test_unlimited(void **state)
{
	g_autoptr(VsAdmission) a = admission("0-1", -1, 1000000, 0.05);
	double used, capacity;

	/* sched_rt_runtime_us = -1: the kernel checks neither bandwidth nor
	 * affinity. */
	for (int i = 0; i < 8; i++) {
		g_autofree char *key = g_strdup_printf("g1/vcpu%d", i);
		assert_true(admit(a, key, 10000, 10000, 1, NULL));
	}
	vs_admission_usage(a, &used, &capacity);
	assert_true(used == 8.0);
	assert_true(capacity == -1.0);
	/* Still no invalid parameters. */
	assert_refused_like(a, 0, 10000, 0, "invalid reservation 0/10000 µs");
}

static void test_no_bandwidth(void **state)
{
	g_autoptr(VsAdmission) zero = admission("0-1", 0, 1000000, 0);
	g_autoptr(VsAdmission) unknown = admission("0-1", 0, 0, 0);

	assert_refused(zero, "g1/vcpu0", 1000, 10000, 0,
		       "the kernel allows deadline tasks no bandwidth (sched_rt_runtime_us is 0)");
	assert_usage(zero, 0, 0);
	assert_refused_like(unknown, 1000, 10000, 0, "limit is unknown");
	assert_usage(unknown, 0, 0);
}

static void test_narrow_span(void **state)
{
	g_autoptr(VsAdmission) a = admission("0-3", 950000, 1000000, 0.05);

	assert_refused(a, "g1/vcpu0", 1000, 10000, 3, "its affinity spans 3 of the 4 CPUs of the root "
		       "domain of CPUs 0-3, and the kernel refuses a deadline task narrower than its "
		       "root domain (a cpuset partition is needed)");
	assert_true(admit(a, "g1/vcpu0", 1000, 10000, 4, NULL));
	assert_true(admit(a, "g1/vcpu1", 1000, 10000, 8, NULL));
	assert_true(admit(a, "g1/vcpu2", 1000, 10000, 0, NULL));
}

static void test_invalid(void **state)
{
	g_autoptr(VsAdmission) a = admission("0-1", 950000, 1000000, 0.05);

	assert_refused(a, "g1/vcpu0", 2000, 1000, 0,
		       "invalid reservation 2000/1000 µs: runtime must not exceed the period");
	assert_refused_like(a, -5, 1000, 0, "runtime and period must be positive");
	assert_refused_like(a, 0, 0, 0, "runtime and period must be positive");
	assert_refused_like(a, 1, 1000, 0, "at least 1024 ns");
	assert_refused_like(a, 1000, (int64_t)1 << 40, 0, "the period is too long");
	assert_usage(a, 0, 1887438);
}

/* ---- temporary roots ---- */

/* ---- the fair-server probe ---- */

#define FS "/sys/kernel/debug/sched/fair_server"

/* A two-CPU host with the 950000/1000000 limit, plus the files given. */
static VsSys *host_root(const char *path1, const char *contents1, const char *path2,
			const char *contents2, const char *path3, const char *contents3,
			const char *path4, const char *contents4)
{
	VsSys *sys = temp_root(
		"/sys/devices/system/cpu/online", "0-1\n",
		"/proc/meminfo", "MemTotal: 1024 kB\nMemAvailable: 512 kB\n",
		"/proc/self/mountinfo",
		"40 30 0:37 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n",
		"/sys/fs/cgroup/cgroup.controllers", "cpuset cpu memory\n",
		"/proc/sys/kernel/sched_rt_runtime_us", "950000\n",
		"/proc/sys/kernel/sched_rt_period_us", "1000000\n",
		NULL);
	const char *files[][2] = {
		{ path1, contents1 }, { path2, contents2 }, { path3, contents3 }, { path4, contents4 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *full = NULL;
		g_autofree char *parent = NULL;

		if (!files[i][0])
			continue;
		full = vs_sys_path(sys, files[i][0]);
		parent = g_path_get_dirname(full);
		assert_int_equal(g_mkdir_with_parents(parent, 0755), 0);
		if (files[i][1])
			assert_true(g_file_set_contents(full, files[i][1], -1, NULL));
		else
			assert_int_equal(g_mkdir_with_parents(full, 0755), 0);
	}
	return sys;
}

static double probed_share(VsSys *sys)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VsHost) host = vs_host_collect(sys, &error);
	double share;

	if (!host) {
		print_error("%s\n", error->message);
		fail();
	}
	vs_host_probe_caps(host, sys);
	share = host->caps.dl_server_share_per_cpu;
	temp_root_free(sys);
	return share;
}

static void assert_share(double got, double want)
{
	if (fabs(got - want) > 1e-12) {
		print_error("share %g, expected %g\n", got, want);
		fail();
	}
}

static void test_fair_server_probe(void **state)
{
	g_autoptr(GError) error = NULL;
	VsSys *sys;
	g_autoptr(VsHost) host = NULL;
	g_autoptr(VsAdmission) a = NULL;

	/* debugfs readable: the mean of the online CPUs' servers. */
	assert_share(probed_share(host_root(FS "/cpu0/runtime", "50000000\n",
					   FS "/cpu0/period", "1000000000\n",
					   FS "/cpu1/runtime", "100000000\n",
					   FS "/cpu1/period", "1000000000\n")), 0.075);
	/* debugfs locked down (the directory is there, the files cannot be
	 * read): the kernel's default. */
	assert_share(probed_share(host_root(FS "/cpu0", NULL, NULL, NULL, NULL, NULL, NULL, NULL)), 0.05);
	/* One CPU unreadable: the default, not half a mean. */
	assert_share(probed_share(host_root(FS "/cpu0/runtime", "0\n",
					   FS "/cpu0/period", "1000000000\n",
					   "/proc/sys/kernel/osrelease", "6.18.44-fc-v782\n",
					   NULL, NULL)), 0.05);
	/* No debugfs: by release. */
	assert_share(probed_share(host_root("/proc/sys/kernel/osrelease", "6.18.44-fc-v782\n",
					   NULL, NULL, NULL, NULL, NULL, NULL)), 0.05);
	assert_share(probed_share(host_root("/proc/sys/kernel/osrelease", "6.12.0\n",
					   NULL, NULL, NULL, NULL, NULL, NULL)), 0.05);
	assert_share(probed_share(host_root("/proc/sys/kernel/osrelease", "7.0.1\n",
					   NULL, NULL, NULL, NULL, NULL, NULL)), 0.05);
	assert_share(probed_share(host_root("/proc/sys/kernel/osrelease", "6.11.9-amd64\n",
					   NULL, NULL, NULL, NULL, NULL, NULL)), 0);
	assert_share(probed_share(host_root("/proc/sys/kernel/osrelease", "6.1.0-27-cloud-amd64\n",
					   NULL, NULL, NULL, NULL, NULL, NULL)), 0);
	assert_share(probed_share(host_root(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)), 0);

	/* The probe feeds admission: 0.9·M on such a kernel. */
	sys = host_root("/proc/sys/kernel/osrelease", "6.18.0\n", NULL, NULL, NULL, NULL, NULL, NULL);
	host = vs_host_collect(sys, &error);
	assert_non_null(host);
	vs_host_probe_caps(host, sys);
	a = vs_admission_new(host);
	assert_usage(a, 0, 1887438);
	temp_root_free(sys);
}

/* ---- identity ---- */

/* vCPU 0 of the real-tcg fixture: QEMU 9140, thread 9148, started at tick
 * 46870. */
static VsThread fixture_thread(void)
{
	return (VsThread){
		.pid = 9140, .tid = 9148, .start_time = 46870, .comm = (char *)"CPU 0/TCG", .cpu = -1,
	};
}

static VsSys *fixture(const char *name)
{
	g_autofree char *root = g_build_filename(VS_TEST_DATA, name, NULL);

	return vs_sys_new(root);
}

static void test_verify(void **state)
{
	g_autoptr(VsSys) sys = fixture("real-tcg");
	g_autoptr(VsSys) missing = fixture("missing-thread");
	VsThread t = fixture_thread();

	assert_int_equal(vs_thread_verify(sys, &t), 0);
	t.start_time = 46871;
	assert_int_equal(vs_thread_verify(sys, &t), -ESRCH);
	t = fixture_thread();
	t.comm = (char *)"CPU 1/TCG";
	assert_int_equal(vs_thread_verify(sys, &t), -ESRCH);
	t.comm = (char *)"CPU 0/TC";
	assert_int_equal(vs_thread_verify(sys, &t), -ESRCH);
	t.comm = (char *)"CPU 0/TCG ";
	assert_int_equal(vs_thread_verify(sys, &t), -ESRCH);
	t.comm = NULL;
	assert_int_equal(vs_thread_verify(sys, &t), -ESRCH);
	/* Gone, in another process, or never found. */
	t = fixture_thread();
	t.tid = 9150;
	assert_int_equal(vs_thread_verify(sys, &t), -ESRCH);
	t = fixture_thread();
	t.pid = 9141;
	assert_int_equal(vs_thread_verify(sys, &t), -ESRCH);
	t = fixture_thread();
	t.tid = 0;
	assert_int_equal(vs_thread_verify(sys, &t), -ESRCH);
	/* The status XML of missing-thread names TID 102 for vCPU 1; /proc
	 * has no such thread. Its vCPU 0 is there. */
	t = (VsThread){ .pid = 100, .tid = 102, .start_time = 0, .comm = (char *)"CPU 1/KVM" };
	assert_int_equal(vs_thread_verify(missing, &t), -ESRCH);
}

static void test_verify_garbage(void **state)
{
	VsSys *sys = temp_root("/proc/5/task/6/stat", "6 CPU 0/KVM S 1 2 3\n",
			       "/proc/5/task/7/stat", "7 (CPU 0/KVM) S 1 2\n", NULL);
	VsThread t = { .pid = 5, .tid = 6, .start_time = 1, .comm = (char *)"CPU 0/KVM" };

	assert_int_equal(vs_thread_verify(sys, &t), -EINVAL);
	t.tid = 7;
	assert_int_equal(vs_thread_verify(sys, &t), -EINVAL);
	temp_root_free(sys);
}

/* ---- set, clear, get through a fake ops table ---- */

typedef struct Fake {
	guint setattr_calls, getattr_calls;
	int setattr_r;          /* what sched_setattr returns */
	VsSchedAttr set;        /* the last attr set */
	VsSchedAttr before;     /* the one before it */
	bool garble_readback;   /* sched_getattr returns a different runtime */
	int getattr_r;
	const char *affinity;   /* what sched_getaffinity reports */
} Fake;

static Fake fake;

static int fake_setaffinity(pid_t tid, const cpu_set_t *set, size_t setsize)
{
	return -ENOSYS;
}

static int fake_getaffinity(pid_t tid, cpu_set_t *set, size_t setsize)
{
	g_autoptr(VsCpuSet) cpus = vs_cpuset_parse(fake.affinity, NULL);

	assert_non_null(cpus);
	assert_int_equal(tid, 9148);
	CPU_ZERO_S(setsize, set);
	for (int c = vs_cpuset_next(cpus, 0); c >= 0; c = vs_cpuset_next(cpus, (guint)c + 1))
		CPU_SET_S((size_t)c, setsize, set);
	return 0;
}

static int fake_setattr(pid_t tid, const VsSchedAttr *attr)
{
	assert_int_equal(tid, 9148);
	fake.setattr_calls++;
	if (fake.setattr_r < 0)
		return fake.setattr_r;
	fake.before = fake.set;
	fake.set = *attr;
	return 0;
}

static int fake_getattr(pid_t tid, VsSchedAttr *attr)
{
	assert_int_equal(tid, 9148);
	fake.getattr_calls++;
	if (fake.getattr_r < 0)
		return fake.getattr_r;
	*attr = fake.set;
	if (fake.garble_readback)
		attr->sched_runtime += 1000;
	return 0;
}

static int fake_prctl_sched_core(unsigned long cmd, pid_t pid, unsigned long type)
{
	return -EINVAL;
}

static const VsSysOps fake_ops = {
	.sched_setaffinity = fake_setaffinity,
	.sched_getaffinity = fake_getaffinity,
	.sched_setattr = fake_setattr,
	.sched_getattr = fake_getattr,
	.prctl_sched_core = fake_prctl_sched_core,
};

/* A root holding the real-tcg thread's stat and an online CPU list, with
 * the fake ops. */
static VsSys *fake_root(void)
{
	g_autofree char *stat_path = g_build_filename(VS_TEST_DATA,
						      "real-tcg/proc/9140/task/9148/stat", NULL);
	g_autofree char *stat = NULL;
	VsSys *sys;

	assert_true(g_file_get_contents(stat_path, &stat, NULL, NULL));
	sys = temp_root("/proc/9140/task/9148/stat", stat,
			"/sys/devices/system/cpu/online", "0-3\n", NULL);
	sys->ops = &fake_ops;
	fake = (Fake){ .set = { .size = sizeof(VsSchedAttr), .sched_policy = SCHED_OTHER },
		       .affinity = "0-3" };
	return sys;
}

/* @error is of @code and its message contains @fragment. */
static void assert_error(const GError *error, int code, const char *fragment)
{
	assert_non_null(error);
	if (!g_error_matches(error, VS_ERROR, code) || !strstr(error->message, fragment)) {
		print_error("unexpected error %d: %s\n", error->code, error->message);
		fail();
	}
}

static void test_set(void **state)
{
	VsSys *sys = fake_root();
	VsThread t = fixture_thread();
	g_autoptr(GError) error = NULL;
	VsSchedAttr got;

	assert_int_equal(vs_deadline_set(sys, &t, 2000, 10000, &error), 0);
	assert_null(error);
	assert_int_equal(fake.setattr_calls, 1);
	assert_int_equal(fake.getattr_calls, 1);
	assert_int_equal(fake.set.size, sizeof(VsSchedAttr));
	assert_int_equal(fake.set.sched_policy, SCHED_DEADLINE);
	assert_int_equal(fake.set.sched_flags, 0);
	assert_int_equal(fake.set.sched_runtime, 2000000);
	assert_int_equal(fake.set.sched_deadline, 10000000);
	assert_int_equal(fake.set.sched_period, 10000000);

	assert_int_equal(vs_deadline_get(sys, &t, &got), 0);
	assert_int_equal(got.sched_policy, SCHED_DEADLINE);
	assert_int_equal(got.sched_runtime, 2000000);

	/* The read-back disagrees. */
	fake.garble_readback = true;
	assert_int_equal(vs_deadline_set(sys, &t, 3000, 10000, &error), -EIO);
	assert_error(error, VS_ERROR_SYSTEM, "reads back as policy 6 with runtime 3001000 ns");
	g_clear_error(&error);
	fake.garble_readback = false;
	fake.getattr_r = -ESRCH;
	assert_int_equal(vs_deadline_set(sys, &t, 3000, 10000, &error), -ESRCH);
	assert_error(error, VS_ERROR_SYSTEM, "reading it back failed");
	temp_root_free(sys);
}

static void test_set_refused(void **state)
{
	VsSys *sys = fake_root();
	VsThread t = fixture_thread();
	g_autoptr(GError) error = NULL;

	/* EBUSY: said once, no retry, no read-back. */
	fake.setattr_r = -EBUSY;
	assert_int_equal(vs_deadline_set(sys, &t, 2000, 10000, &error), -EBUSY);
	assert_error(error, VS_ERROR_UNAVAILABLE,
		     "SCHED_DEADLINE 2000/10000 µs refused for thread 9148 (CPU 0/TCG) of process "
		     "9140: not enough deadline bandwidth left in its root domain (EBUSY)");
	assert_int_equal(fake.setattr_calls, 1);
	assert_int_equal(fake.getattr_calls, 0);
	g_clear_error(&error);

	/* EPERM with a narrow affinity: the affinity is named. */
	fake.setattr_r = -EPERM;
	fake.affinity = "0";
	assert_int_equal(vs_deadline_set(sys, &t, 2000, 10000, &error), -EPERM);
	assert_error(error, VS_ERROR_DENIED,
		     "refused for thread 9148 (CPU 0/TCG) of process 9140: its affinity (CPUs 0) is "
		     "narrower than its root domain (the online CPUs 0-3");
	assert_int_equal(fake.setattr_calls, 2);
	g_clear_error(&error);

	/* EPERM with a full affinity: the other causes. */
	fake.affinity = "0-7";
	assert_int_equal(vs_deadline_set(sys, &t, 2000, 10000, &error), -EPERM);
	assert_error(error, VS_ERROR_DENIED, "lacks CAP_SYS_NICE, sched_rt_runtime_us is 0");
	g_clear_error(&error);

	fake.setattr_r = -EINVAL;
	assert_int_equal(vs_deadline_set(sys, &t, 2000, 10000, &error), -EINVAL);
	assert_error(error, VS_ERROR_INVALID, "sched_deadline_period_{min,max}_us");
	g_clear_error(&error);

	fake.setattr_r = -ESRCH;
	assert_int_equal(vs_deadline_set(sys, &t, 2000, 10000, &error), -ESRCH);
	assert_error(error, VS_ERROR_NOT_FOUND, "is gone");
	g_clear_error(&error);

	fake.setattr_r = -ENOMEM;
	assert_int_equal(vs_deadline_set(sys, &t, 2000, 10000, &error), -ENOMEM);
	assert_error(error, VS_ERROR_SYSTEM, g_strerror(ENOMEM));
	g_clear_error(&error);
	assert_int_equal(fake.getattr_calls, 0);
	temp_root_free(sys);
}

static void test_set_checks_first(void **state)
{
	VsSys *sys = fake_root();
	VsThread t = fixture_thread();
	g_autoptr(GError) error = NULL;
	VsSchedAttr got = { .sched_policy = 99 };

	/* Another thread behind the TID: nothing is called. */
	t.start_time++;
	assert_int_equal(vs_deadline_set(sys, &t, 2000, 10000, &error), -ESRCH);
	assert_error(error, VS_ERROR_NOT_FOUND,
		     "thread 9148 (CPU 0/TCG) of process 9140 is gone or is no longer the thread "
		     "collected");
	g_clear_error(&error);
	assert_int_equal(vs_deadline_clear(sys, &t, 0, &error), -ESRCH);
	g_clear_error(&error);
	assert_int_equal(vs_deadline_get(sys, &t, &got), -ESRCH);
	assert_int_equal(got.sched_policy, 99);

	/* Parameters the kernel cannot take. */
	t = fixture_thread();
	assert_int_equal(vs_deadline_set(sys, &t, 20000, 10000, &error), -EINVAL);
	assert_error(error, VS_ERROR_INVALID, "runtime must not exceed the period");
	g_clear_error(&error);
	assert_int_equal(vs_deadline_clear(sys, &t, 20, &error), -EINVAL);
	assert_error(error, VS_ERROR_INVALID, "nice 20 is outside -20..19");
	assert_int_equal(fake.setattr_calls, 0);
	assert_int_equal(fake.getattr_calls, 0);

	/* get passes on the syscall's error and leaves *ret alone. */
	fake.getattr_r = -EPERM;
	assert_int_equal(vs_deadline_get(sys, &t, &got), -EPERM);
	assert_int_equal(got.sched_policy, 99);
	temp_root_free(sys);
}

static void test_clear(void **state)
{
	VsSys *sys = fake_root();
	VsThread t = fixture_thread();
	g_autoptr(GError) error = NULL;

	/* From SCHED_DEADLINE: first the smallest reservation (1024 ns every
	 * sched_deadline_period_max_us), then SCHED_OTHER. */
	assert_int_equal(vs_deadline_set(sys, &t, 2000, 10000, &error), 0);
	assert_int_equal(vs_deadline_clear(sys, &t, 5, &error), 0);
	assert_null(error);
	assert_int_equal(fake.setattr_calls, 3);
	assert_int_equal(fake.before.sched_policy, SCHED_DEADLINE);
	assert_int_equal(fake.before.sched_runtime, 1024);
	assert_int_equal(fake.before.sched_deadline, UINT64_C(4194304000));
	assert_int_equal(fake.before.sched_period, UINT64_C(4194304000));
	assert_int_equal(fake.set.sched_policy, SCHED_OTHER);
	assert_int_equal(fake.set.sched_nice, 5);
	assert_int_equal(fake.set.sched_runtime, 0);
	assert_int_equal(fake.set.sched_period, 0);
	/* Read-back of set; policy and read-back of clear. */
	assert_int_equal(fake.getattr_calls, 3);

	/* From SCHED_OTHER: one call. */
	assert_int_equal(vs_deadline_clear(sys, &t, -20, &error), 0);
	assert_int_equal(fake.setattr_calls, 4);
	assert_int_equal(fake.set.sched_nice, -20);

	/* The longest period is the kernel's setting when it can be read. */
	temp_write(sys, "/proc/sys/kernel/sched_deadline_period_max_us", "2000000\n");
	assert_int_equal(vs_deadline_set(sys, &t, 2000, 10000, &error), 0);
	assert_int_equal(vs_deadline_clear(sys, &t, 0, &error), 0);
	assert_int_equal(fake.before.sched_runtime, 1024);
	assert_int_equal(fake.before.sched_period, UINT64_C(2000000000));
	assert_int_equal(fake.set.sched_policy, SCHED_OTHER);

	/* A thread that is gone by the time it is shrunk. */
	assert_int_equal(vs_deadline_set(sys, &t, 2000, 10000, &error), 0);
	fake.setattr_r = -ESRCH;
	assert_int_equal(vs_deadline_clear(sys, &t, 0, &error), -ESRCH);
	assert_error(error, VS_ERROR_NOT_FOUND, "is gone");
	g_clear_error(&error);
	fake.setattr_r = 0;

	fake.setattr_r = -EPERM;
	assert_int_equal(vs_deadline_clear(sys, &t, 0, &error), -EPERM);
	assert_error(error, VS_ERROR_DENIED, "SCHED_OTHER (nice 0) refused for thread 9148");
	temp_root_free(sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_without_fair_server),
		cmocka_unit_test(test_limit_with_fair_server),
		cmocka_unit_test(test_exact_fit),
		cmocka_unit_test(test_refusal_message),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_unlimited),
		cmocka_unit_test(test_no_bandwidth),
		cmocka_unit_test(test_narrow_span),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_fair_server_probe),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_verify_garbage),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_set_refused),
		cmocka_unit_test(test_set_checks_first),
		cmocka_unit_test(test_clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
