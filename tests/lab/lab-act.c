/* The kernel lab's proof of the CPU plan → act path on a real cgroup v2
 * (tests/lab/run-lab-act.sh boots it in a VM whose kernel runs with
 * cgroup_no_v1=all and 3 CPUs): the daemon's own code, vs_cpu_plan() and
 * vs_act_run(), sets a guest's cgroup values, and a changed policy and a
 * clean stop put them back.
 *
 * The guest is a forked process standing in for QEMU: its main thread and
 * two sleeping vCPU threads named "CPU 0/TCG" and "CPU 1/TCG", in the tree
 * libvirt makes under systemd: machine.slice/machine-qemu\x2d1\x2dlab.scope,
 * the process in its libvirt/ child, the threads in the threaded
 * libvirt/emulator, libvirt/vcpu0 and libvirt/vcpu1. The guest's domain is
 * built as the inventory builds it: its cgroup from /proc/PID/cgroup, its
 * threads' identities from /proc; the host model is read from the VM.
 *
 *  1. policy Placement=dedicated, Weight=300, Limit=50%, LimitBurst=10ms:
 *     plan and act; the scope must read cpu.weight 300, cpu.max
 *     "50000 100000", cpu.max.burst 10000, cpuset.cpus the vCPUs' and
 *     emulator's CPUs; each vcpuN cgroup its vCPU's CPU; each vCPU thread's
 *     affinity (sched_getaffinity) its CPU; the Applied record the values
 *     found before; acting again changes nothing.
 *  2. the policy is gone: plan and act; weight, cap and burst read their
 *     originals again and leave the Applied record; the cpusets stay.
 *  3. clean stop (vs_act_restore_all): the cpusets have their original
 *     effective CPUs (an empty original list comes back as the parent's
 *     where Linux 6.1 refuses an empty list in a cgroup with threads), the
 *     threads their original affinity, and the record is empty.
 * Ends with "LAB-ACT-RESULT: PASS" or "LAB-ACT-RESULT: FAIL <why>"; exits 0
 * on PASS, 1 on FAIL. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/cgroup-write.h"
#include "host/host.h"
#include "policy/policy.h"
#include "sched/act.h"
#include "sched/cpuplan.h"
#include "virt/threads.h"

#define SLICE "/sys/fs/cgroup/machine.slice"
#define SCOPE SLICE "/machine-qemu\\x2d1\\x2dlab.scope"
#define NEST SCOPE "/libvirt"
#define UUID "5b0c6c1e-3f2a-4d7e-9a41-0d6c1ab0c0de"
#define N_VCPUS 2
#define CPUS_NEEDED 3
#define POLICY "[Match]\nName=lab\n[CPU]\nPlacement=dedicated\nWeight=300\nLimit=50%\n" \
	       "LimitBurst=10ms\n"

static GString *why;

static void failed(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static void failed(const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	printf("LAB-ACT: FAILED: %s\n", msg);
	g_string_append_printf(why, "%s%s", why->len ? "; " : "", msg);
}

/* ---- the guest process ---- */

static void *sleeper(void *data)
{
	int fd = GPOINTER_TO_INT(data);
	pid_t tid = gettid();

	if (write(fd, &tid, sizeof(tid)) != sizeof(tid))
		_exit(2);
	for (;;)
		pause();
	return NULL;
}

/* A process with N_VCPUS named vCPU threads, which report their TIDs on
 * @report_fd; it ends when @ctl_fd closes. */
static G_GNUC_NORETURN void guest_main(int report_fd, int ctl_fd)
{
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "qemu-system-x86");
	for (int i = 0; i < N_VCPUS; i++) {
		g_autofree char *name = g_strdup_printf("CPU %d/TCG", i);
		pthread_t t;

		if (pthread_create(&t, NULL, sleeper, GINT_TO_POINTER(report_fd)) != 0)
			_exit(2);
		pthread_setname_np(t, name);
		/* One at a time, so that the TIDs come in vCPU order. */
		usleep(20000);
	}
	while (read(ctl_fd, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* The identity of thread @tid of @pid as the inventory collects it. */
static bool identity(const VsSys *sys, pid_t pid, pid_t tid, VsThread *ret)
{
	g_autofree char *stat_path = g_strdup_printf("/proc/%d/task/%d/stat", (int)pid, (int)tid);
	g_autofree char *comm_path = g_strdup_printf("/proc/%d/task/%d/comm", (int)pid, (int)tid);
	g_autofree char *stat = NULL, *comm = NULL;
	uint64_t start;
	int cpu;

	if (vs_sys_read(sys, stat_path, &stat) < 0 || vs_threads_parse_stat(stat, &start, &cpu) < 0 ||
	    vs_sys_read_line(sys, comm_path, &comm) < 0) {
		failed("cannot read the identity of thread %d", (int)tid);
		return false;
	}
	*ret = (VsThread){ .pid = pid, .tid = tid, .start_time = start,
			   .comm = g_steal_pointer(&comm), .cpu = cpu };
	return true;
}

static bool mk(const char *dir)
{
	if (mkdir(dir, 0755) == 0)
		return true;
	failed("mkdir %s: %s", dir, g_strerror(errno));
	return false;
}

static bool check(int r, GError *error, const char *what)
{
	if (r >= 0)
		return true;
	failed("%s: %s", what, error ? error->message : g_strerror(-r));
	return false;
}

/* Puts the guest in libvirt's systemd tree and builds its domain. */
static bool guest_place(const VsSys *sys, const VsCgroupInfo *cg, pid_t pid,
			const pid_t *tids, VsDomain *dom)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *pid_text = g_strdup_printf("%d", (int)pid);
	g_autofree char *procs = g_build_filename(NEST, "cgroup.procs", NULL);
	g_autofree char *emulator = g_build_filename(NEST, "emulator", NULL);
	g_autofree char *cgroup_file = g_strdup_printf("/proc/%d/cgroup", (int)pid);
	g_autofree char *text = NULL;
	VsThread main_thread;
	int r;

	if (!mk(SLICE) || !mk(SCOPE) || !mk(NEST) || !mk(emulator))
		return false;
	r = vs_sys_write(sys, procs, pid_text);
	if (!check(r, NULL, "moving the guest into " NEST))
		return false;
	r = vs_cgroup_set(sys, emulator, "cgroup.type", "threaded", NULL, &error);
	if (!check(r, error, "emulator threaded"))
		return false;
	for (int i = 0; i < N_VCPUS; i++) {
		g_autofree char *dir = vs_cgroup_vcpu_dir(SCOPE, (guint)i);

		if (!mk(dir))
			return false;
		r = vs_cgroup_set(sys, dir, "cgroup.type", "threaded", NULL, &error);
		if (r == 0)
			r = vs_cgroup_attach_thread(sys, dir, tids[i], &error);
		if (!check(r, error, dir))
			return false;
	}
	r = vs_cgroup_attach_thread(sys, emulator, pid, &error);
	if (!check(r, error, "main thread into emulator"))
		return false;
	/* As libvirt does: cpu and cpuset down to the vCPU cgroups. */
	{
		g_autofree char *vcpu0 = vs_cgroup_vcpu_dir(SCOPE, 0);

		r = vs_cgroup_enable(sys, cg, vcpu0, "cpu", &error);
		if (r == 0)
			r = vs_cgroup_enable(sys, cg, vcpu0, "cpuset", &error);
		if (!check(r, error, "enabling cpu and cpuset"))
			return false;
	}

	r = vs_sys_read(sys, cgroup_file, &text);
	if (r < 0 || vs_threads_parse_cgroup(text, &dom->cgroup_path, &dom->cgroup_v1_cpuset) < 0) {
		failed("%s cannot be read or parsed", cgroup_file);
		return false;
	}
	g_strlcpy(dom->uuid, UUID, sizeof(dom->uuid));
	dom->id = 1;
	dom->pid = pid;
	dom->state = 1;
	dom->vcpus_current = dom->vcpus_max = N_VCPUS;
	for (int i = 0; i < N_VCPUS; i++) {
		VsVcpu *v = &g_array_index(dom->vcpus, VsVcpu, i);

		v->online = true;
		if (!identity(sys, pid, tids[i], &v->thread))
			return false;
	}
	if (!identity(sys, pid, pid, &main_thread))
		return false;
	g_array_append_val(dom->emulator_threads, main_thread);
	printf("LAB-ACT: guest PID %d, vCPU TIDs %d %d, /proc cgroup %s\n", (int)pid, (int)tids[0],
	       (int)tids[1], dom->cgroup_path);
	return true;
}

/* ---- plan, act, check ---- */

typedef struct Lab {
	VsSys *sys;
	VsHost *host;
	GPtrArray *domains;
	VsPolicySet *set;
	VsApplied *applied;
	VsAct *act;
	VsCpuSet *managed, *housekeeping;
	VsCpuPlan *plan;
} Lab;

static void set_policy(Lab *lab, const char *text)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	VsPolicyFile *file;

	g_ptr_array_set_size(lab->set->files, 0);
	if (!text)
		return;
	file = vs_policy_file_parse("/etc/vsched/policy.d/10-lab.policy", text, diags);
	if (!file)
		failed("the lab policy does not parse");
	else
		g_ptr_array_add(lab->set->files, file);
}

/* Plans and acts once, printing the events; returns how many settings
 * changed, or -1 when planning failed. */
static int tick(Lab *lab)
{
	g_autoptr(VsSnapshot) snap = vs_snapshot_new(1, 0, 0, lab->host,
						     g_ptr_array_ref(lab->domains), true);
	g_autoptr(GPtrArray) events = vs_act_events_new();
	g_autoptr(GError) error = NULL;
	VsCpuPlanInput in = {
		.snapshot = snap,
		.policies = lab->set,
		.now_us = g_get_real_time(),
		.managed = lab->managed,
		.housekeeping = lab->housekeeping,
		.overcommit_limit = 4,
		.previous = lab->plan ? lab->plan->placement : NULL,
		.applied = lab->applied,
		.refused = vs_act_refused(lab->act),
	};
	VsCpuPlan *plan = NULL;
	guint changed;

	if (vs_cpu_plan(&in, &plan, &error) < 0) {
		failed("plan: %s", error->message);
		return -1;
	}
	g_clear_pointer(&lab->plan, vs_cpu_plan_free);
	lab->plan = plan;
	changed = vs_act_run(lab->act, plan, events);
	for (guint i = 0; i < events->len; i++)
		printf("LAB-ACT:   %s\n", ((VsActEvent *)g_ptr_array_index(events, i))->message);
	return (int)changed;
}

static void expect_file(Lab *lab, const char *dir, const char *file, const char *want)
{
	g_autofree char *path = g_build_filename(dir, file, NULL);
	g_autofree char *got = NULL;

	if (vs_sys_read_line(lab->sys, path, &got) < 0)
		failed("%s cannot be read", path);
	else if (!vs_cgroup_value_matches(file, want, got))
		failed("%s reads \"%s\", want \"%s\"", path, got, want);
	else
		printf("LAB-ACT:   %s/%s = \"%s\"\n", dir, file, got);
}

static char *affinity_of(Lab *lab, pid_t tid)
{
	cpu_set_t set;
	g_autoptr(VsCpuSet) cpus = vs_cpuset_new();

	CPU_ZERO(&set);
	if (lab->sys->ops->sched_getaffinity(tid, &set, sizeof(set)) < 0)
		return g_strdup("?");
	for (guint c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			vs_cpuset_add(cpus, c);
	return vs_cpuset_format(cpus);
}

static void expect_affinity(Lab *lab, pid_t tid, const char *want)
{
	g_autofree char *got = affinity_of(lab, tid);

	if (strcmp(got, want) != 0)
		failed("sched_getaffinity(%d) gives %s, want %s", (int)tid, got, want);
	else
		printf("LAB-ACT:   sched_getaffinity(%d) = %s\n", (int)tid, got);
}

/* The original the Applied record holds for @dir/@file, or "(none)". */
static const char *recorded(Lab *lab, const char *dir, const char *file)
{
	const VsAppliedEntry *e = vs_applied_find_cgroup(lab->applied, dir, file);

	return e ? e->orig_value : "(none)";
}

static void run(Lab *lab, const pid_t *tids)
{
	g_autofree char *orig_weight = NULL, *orig_max = NULL, *orig_burst = NULL;
	g_autofree char *orig_cpus = NULL, *orig_vcpu_cpus = NULL, *orig_aff = NULL;
	g_autofree char *orig_effective = NULL;
	g_autofree char *vcpu0 = vs_cgroup_vcpu_dir(SCOPE, 0);
	g_autofree char *vcpu1 = vs_cgroup_vcpu_dir(SCOPE, 1);
	const VsCpuVcpuPlan *p0, *p1;
	g_autoptr(VsCpuSet) guest_cpus = NULL, vcpu1_cpus = NULL;
	g_autofree char *guest_text = NULL;
	g_autoptr(GPtrArray) events = vs_act_events_new();

	/* What libvirt's tree holds before vsched. */
	if (vs_sys_read_line(lab->sys, SCOPE "/cpu.weight", &orig_weight) < 0 ||
	    vs_sys_read_line(lab->sys, SCOPE "/cpu.max", &orig_max) < 0 ||
	    vs_sys_read_line(lab->sys, SCOPE "/cpu.max.burst", &orig_burst) < 0 ||
	    vs_sys_read_line(lab->sys, SCOPE "/cpuset.cpus", &orig_cpus) < 0 ||
	    vs_sys_read_line(lab->sys, NEST "/vcpu0/cpuset.cpus", &orig_vcpu_cpus) < 0 ||
	    vs_sys_read_line(lab->sys, NEST "/vcpu0/cpuset.cpus.effective", &orig_effective) < 0) {
		failed("the guest's cgroup files cannot be read");
		return;
	}
	orig_aff = affinity_of(lab, tids[0]);
	printf("LAB-ACT: before: cpu.weight %s, cpu.max %s, cpu.max.burst %s, cpuset.cpus \"%s\", "
	       "vcpu0 cpuset.cpus \"%s\" (effective %s), vCPU affinity %s\n", orig_weight,
	       orig_max, orig_burst, orig_cpus, orig_vcpu_cpus, orig_effective, orig_aff);

	printf("LAB-ACT: (1) policy: %s\n", POLICY);
	set_policy(lab, POLICY);
	if (tick(lab) <= 0) {
		failed("the first plan changed nothing");
		return;
	}
	p0 = vs_cpu_plan_vcpu(lab->plan, UUID, 0);
	p1 = vs_cpu_plan_vcpu(lab->plan, UUID, 1);
	if (!p0 || !p1) {
		failed("the plan has no placement for the vCPUs");
		return;
	}
	guest_cpus = vs_cpuset_parse(p0->affinity, NULL);
	vcpu1_cpus = vs_cpuset_parse(p1->affinity, NULL);
	vs_cpuset_union(guest_cpus, vcpu1_cpus);
	vs_cpuset_union(guest_cpus, lab->housekeeping);
	guest_text = vs_cpuset_format(guest_cpus);
	printf("LAB-ACT:   planned: vcpu0 %s (%s), vcpu1 %s (%s)\n", p0->affinity, p0->placement,
	       p1->affinity, p1->placement);
	expect_file(lab, SCOPE, "cpu.weight", "300");
	expect_file(lab, SCOPE, "cpu.max", "50000 100000");
	expect_file(lab, SCOPE, "cpu.max.burst", "10000");
	expect_file(lab, SCOPE, "cpuset.cpus", guest_text);
	expect_file(lab, vcpu0, "cpuset.cpus", p0->affinity);
	expect_file(lab, vcpu1, "cpuset.cpus", p1->affinity);
	expect_affinity(lab, tids[0], p0->affinity);
	expect_affinity(lab, tids[1], p1->affinity);
	if (strcmp(recorded(lab, SCOPE, "cpu.weight"), orig_weight) != 0 ||
	    strcmp(recorded(lab, SCOPE, "cpu.max"), orig_max) != 0 ||
	    strcmp(recorded(lab, vcpu0, "cpuset.cpus"), orig_vcpu_cpus) != 0)
		failed("Applied holds weight %s, cap %s, vcpu0 CPUs \"%s\", not the originals",
		       recorded(lab, SCOPE, "cpu.weight"), recorded(lab, SCOPE, "cpu.max"),
		       recorded(lab, vcpu0, "cpuset.cpus"));
	if (tick(lab) != 0)
		failed("acting again on the same plan changed something");

	printf("LAB-ACT: (2) the policy file is removed\n");
	set_policy(lab, NULL);
	if (tick(lab) < 3)
		failed("removing the policy restored fewer than 3 settings");
	expect_file(lab, SCOPE, "cpu.weight", orig_weight);
	expect_file(lab, SCOPE, "cpu.max", orig_max);
	expect_file(lab, SCOPE, "cpu.max.burst", orig_burst);
	if (vs_applied_find_cgroup(lab->applied, SCOPE, "cpu.weight") ||
	    vs_applied_find_cgroup(lab->applied, SCOPE, "cpu.max"))
		failed("restored values are still in the Applied record");

	printf("LAB-ACT: (3) clean stop\n");
	vs_act_restore_all(lab->act, events);
	for (guint i = 0; i < events->len; i++)
		printf("LAB-ACT:   %s\n", ((VsActEvent *)g_ptr_array_index(events, i))->message);
	/* An empty original ("the parent's") comes back as the parent's
	 * list where the kernel refuses an empty one with threads inside
	 * (Linux 6.1): the CPUs in effect are the ones from before. */
	expect_file(lab, SCOPE, "cpuset.cpus.effective", orig_effective);
	expect_file(lab, vcpu0, "cpuset.cpus.effective", orig_effective);
	expect_file(lab, vcpu1, "cpuset.cpus.effective", orig_effective);
	expect_affinity(lab, tids[0], orig_aff);
	expect_affinity(lab, tids[1], orig_aff);
	if (lab->applied->entries->len != 0)
		failed("%u entries left in the Applied record", lab->applied->entries->len);
}

int main(void)
{
	g_autoptr(GError) error = NULL;
	Lab lab = { 0 };
	pid_t pid, tids[N_VCPUS];
	int report[2], ctl[2];
	bool pass;

	setvbuf(stdout, NULL, _IOLBF, 0);
	why = g_string_new(NULL);
	lab.sys = vs_sys_new(NULL);
	lab.host = vs_host_collect(lab.sys, &error);
	if (!lab.host) {
		printf("LAB-ACT-RESULT: FAIL host model: %s\n", error->message);
		return 1;
	}
	if (vs_cgroup_available(&lab.host->cgroup, "cpu", &error) < 0 ||
	    vs_cgroup_available(&lab.host->cgroup, "cpuset", &error) < 0) {
		printf("LAB-ACT-RESULT: FAIL %s\n", error->message);
		return 1;
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < CPUS_NEEDED) {
		printf("LAB-ACT-RESULT: FAIL needs %d CPUs online\n", CPUS_NEEDED);
		return 1;
	}
	lab.domains = g_ptr_array_new_with_free_func((GDestroyNotify)vs_domain_free);
	g_ptr_array_add(lab.domains, vs_domain_new("lab", N_VCPUS));
	lab.set = g_new0(VsPolicySet, 1);
	lab.set->files = g_ptr_array_new_with_free_func((GDestroyNotify)vs_policy_file_free);
	lab.applied = vs_applied_new();
	lab.act = vs_act_new(lab.sys, lab.applied, "/tmp/vsched/applied.json");
	vs_act_set_cgroup(lab.act, &lab.host->cgroup);
	lab.managed = vs_cpuset_copy(lab.host->topology.online);
	lab.housekeeping = vs_cpuset_parse("0", NULL);

	if (pipe(report) < 0 || pipe(ctl) < 0) {
		printf("LAB-ACT-RESULT: FAIL pipe: %s\n", g_strerror(errno));
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(report[0]);
		close(ctl[1]);
		guest_main(report[1], ctl[0]);
	}
	close(report[1]);
	close(ctl[0]);
	for (int i = 0; i < N_VCPUS; i++)
		if (pid < 0 || read(report[0], &tids[i], sizeof(pid_t)) != sizeof(pid_t))
			failed("the guest process did not start");
	if (why->len == 0 && guest_place(lab.sys, &lab.host->cgroup, pid, tids,
					 g_ptr_array_index(lab.domains, 0)))
		run(&lab, tids);

	close(ctl[1]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	for (int i = N_VCPUS - 1; i >= 0; i--) {
		g_autofree char *dir = vs_cgroup_vcpu_dir(SCOPE, (guint)i);
		rmdir(dir);
	}
	rmdir(NEST "/emulator");
	rmdir(NEST);
	rmdir(SCOPE);
	rmdir(SLICE);

	pass = why->len == 0;
	if (pass)
		printf("LAB-ACT-RESULT: PASS\n");
	else
		printf("LAB-ACT-RESULT: FAIL %s\n", why->str);
	g_clear_pointer(&lab.plan, vs_cpu_plan_free);
	vs_act_free(lab.act);
	vs_applied_free(lab.applied);
	vs_policy_set_free(lab.set);
	g_ptr_array_unref(lab.domains);
	vs_cpuset_free(lab.managed);
	vs_cpuset_free(lab.housekeeping);
	vs_host_free(lab.host);
	vs_sys_free(lab.sys);
	g_string_free(why, TRUE);
	return pass ? 0 : 1;
}
