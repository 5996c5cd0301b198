/* Capability probes: what this host lets vsched use, each with a sentence
 * for the operator (`vschedctl status`) saying why not when it cannot.
 * Probes that need the live kernel (SCHED_DEADLINE on a throw-away thread,
 * PR_SCHED_CORE, the TASKSTATS netlink family) run only on the real root;
 * on a fixture root they say "not probed: fixture root". The others come
 * from files read through the sys layer: PSI, cgroup v2 controllers and
 * partitions, CAP_SYS_RESOURCE (for the smallest PSI trigger window), the
 * RT bandwidth limit and the fair server's share of it. */
#include "config.h"

#include "host/host.h"
#include "host/host-private.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#define NOT_PROBED "not probed: fixture root"

/* Bit of CAP_SYS_RESOURCE in /proc/PID/status CapEff. */
#define CAP_SYS_RESOURCE_BIT 24
/* Without CAP_SYS_RESOURCE the kernel accepts PSI trigger windows only in
 * multiples of 2 s (TESTING.md); with it, from 500 ms. */
#define PSI_WINDOW_PRIVILEGED_US 500000u
#define PSI_WINDOW_UNPRIVILEGED_US 2000000u

/* The SCHED_DEADLINE probe: 100 µs every 10 ms. */
#define PROBE_RUNTIME_NS (100 * 1000)
#define PROBE_PERIOD_NS (10 * 1000 * 1000)

/* The fair server (dl_server): merged in Linux 6.12, with a default of
 * 50 ms every 1 s on each CPU (kernel/sched/fair.c). */
#define FAIR_SERVER_MAJOR 6u
#define FAIR_SERVER_MINOR 12u
#define FAIR_SERVER_RUNTIME_NS (50 * 1000 * 1000)
#define FAIR_SERVER_PERIOD_NS (1000 * 1000 * 1000)

#ifndef PR_SCHED_CORE_GET
#define PR_SCHED_CORE_GET 0
#endif
#define PIDTYPE_PID 0

static void cap_set(VsCap *cap, bool ok, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void cap_set(VsCap *cap, bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_free(cap->detail);
	cap->detail = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	cap->ok = ok;
}

typedef struct DeadlineProbe {
	const VsSysOps *ops;
	int set_r;      /* sched_setattr(SCHED_DEADLINE) */
	int reset_r;    /* sched_setattr(SCHED_OTHER) afterwards */
} DeadlineProbe;

static void *deadline_thread(void *data)
{
	DeadlineProbe *p = data;
	pid_t tid = gettid();
	VsSchedAttr dl = {
		.size = sizeof(dl),
		.sched_policy = SCHED_DEADLINE,
		.sched_runtime = PROBE_RUNTIME_NS,
		.sched_deadline = PROBE_PERIOD_NS,
		.sched_period = PROBE_PERIOD_NS,
	};
	VsSchedAttr other = { .size = sizeof(other), .sched_policy = SCHED_OTHER };

	p->set_r = p->ops->sched_setattr(tid, &dl);
	if (p->set_r == 0)
		p->reset_r = p->ops->sched_setattr(tid, &other);
	return NULL;
}

static void probe_deadline(VsCap *cap, const VsSys *sys)
{
	DeadlineProbe p = { .ops = sys->ops };
	pthread_t thread;
	int r;

	r = pthread_create(&thread, NULL, deadline_thread, &p);
	if (r != 0) {
		cap_set(cap, false, "SCHED_DEADLINE not probed: cannot start a thread: %s",
			g_strerror(r));
		return;
	}
	pthread_join(thread, NULL);
	if (p.set_r < 0)
		cap_set(cap, false, "SCHED_DEADLINE refused: %s", g_strerror(-p.set_r));
	else if (p.reset_r < 0)
		cap_set(cap, false, "SCHED_DEADLINE accepted, but going back to SCHED_OTHER failed: %s",
			g_strerror(-p.reset_r));
	else
		cap_set(cap, true, "SCHED_DEADLINE accepted (100 µs every 10 ms on a probe thread)");
}

static void probe_sched_core(VsCap *cap, const VsSys *sys)
{
	/* PR_SCHED_CORE_GET writes the cookie to the address in arg5, which
	 * the ops table passes as 0: a kernel with core scheduling gets as
	 * far as that copy and fails it with EFAULT. Without CONFIG_SCHED_CORE
	 * prctl() does not know the option (EINVAL); ENODEV means the kernel
	 * has it but this host has no SMT. */
	int r = sys->ops->prctl_sched_core(PR_SCHED_CORE_GET, 0, PIDTYPE_PID);

	if (r == 0 || r == -EFAULT)
		cap_set(cap, true, "core scheduling available (PR_SCHED_CORE)");
	else if (r == -EINVAL)
		cap_set(cap, false, "no core scheduling in this kernel (PR_SCHED_CORE: %s)",
			g_strerror(EINVAL));
	else if (r == -ENODEV)
		cap_set(cap, false, "core scheduling needs SMT, which this host does not have");
	else
		cap_set(cap, false, "PR_SCHED_CORE refused: %s", g_strerror(-r));
}

static void probe_taskstats(VsCap *cap)
{
	struct nl_sock *sock = nl_socket_alloc();
	int r;

	if (!sock) {
		cap_set(cap, false, "cannot allocate a netlink socket");
		return;
	}
	r = genl_connect(sock);
	if (r < 0) {
		cap_set(cap, false, "generic netlink unavailable: %s", nl_geterror(r));
	} else {
		r = genl_ctrl_resolve(sock, "TASKSTATS");
		if (r > 0)
			cap_set(cap, true, "TASKSTATS generic netlink family %d", r);
		else
			cap_set(cap, false, "no TASKSTATS family over generic netlink: %s",
				r < 0 ? nl_geterror(r) : "family id 0");
	}
	nl_socket_free(sock);
}

static void probe_psi(VsCap *cap, const VsSys *sys)
{
	if (vs_sys_exists(sys, "/proc/pressure/memory"))
		cap_set(cap, true, "PSI available (/proc/pressure)");
	else
		cap_set(cap, false, "/proc/pressure/memory is missing: kernel without PSI, or booted with psi=0");
}

/* Whether CapEff of /proc/self/status holds CAP_SYS_RESOURCE; false when
 * the file cannot be read or parsed (the cautious answer). */
static bool has_cap_sys_resource(const VsSys *sys)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	if (vs_sys_read(sys, "/proc/self/status", &text) < 0)
		return false;
	lines = g_strsplit(text, "\n", -1);
	for (size_t i = 0; lines[i]; i++) {
		guint64 mask;

		if (!g_str_has_prefix(lines[i], "CapEff:"))
			continue;
		if (!g_ascii_string_to_unsigned(g_strstrip(lines[i] + 7), 16, 0, G_MAXUINT64,
						&mask, NULL))
			return false;
		return (mask >> CAP_SYS_RESOURCE_BIT) & 1;
	}
	return false;
}

/* One controller on the v2 hierarchy, or why not. */
static void probe_v2_controller(VsCap *cap, const VsCgroupInfo *cg, const char *name)
{
	bool on_v1 = vs_cgroup_has_controller(cg->v1_controllers, name);

	if (vs_cgroup_has_controller(cg->v2_controllers, name)) {
		cap_set(cap, true, "%s controller on cgroup v2 (%s)", name, cg->v2_mount);
		return;
	}
	switch (cg->mode) {
	case VS_CGROUP_NONE:
		cap_set(cap, false, "no cgroup file system is mounted");
		break;
	case VS_CGROUP_V1:
		if (on_v1)
			cap_set(cap, false, "no cgroup v2 hierarchy (cgroup v1 only: %s is on cgroup v1)",
				name);
		else
			cap_set(cap, false, "no cgroup v2 hierarchy, and no %s controller on cgroup v1",
				name);
		break;
	case VS_CGROUP_HYBRID:
		if (on_v1)
			cap_set(cap, false, "cgroup v2 has no %s controller (hybrid layout: %s is on cgroup v1)",
				name, name);
		else
			cap_set(cap, false, "cgroup v2 has no %s controller (hybrid layout; %s is not on cgroup v1 either)",
				name, name);
		break;
	case VS_CGROUP_V2:
		cap_set(cap, false, "cgroup v2 has no %s controller: this kernel does not offer it",
			name);
		break;
	}
}

/* cpuset partitions: the v2 cpuset controller, and a cpuset.cpus.partition
 * file in some direct child of the v2 root (the root has none). */
static void probe_partitions(VsCap *cap, const VsSys *sys, const VsHostCaps *caps,
			     const VsCgroupInfo *cg)
{
	g_auto(GStrv) names = NULL;

	if (!caps->cgroup_v2_cpuset.ok) {
		cap_set(cap, false, "cpuset partitions need the cpuset controller on cgroup v2; %s",
			caps->cgroup_v2_cpuset.detail);
		return;
	}
	if (vs_sys_list_dir(sys, cg->v2_mount, &names) == 0) {
		for (size_t i = 0; names[i]; i++) {
			g_autofree char *path = g_build_filename(cg->v2_mount, names[i],
								 "cpuset.cpus.partition", NULL);

			if (vs_sys_exists(sys, path)) {
				cap_set(cap, true, "cpuset partitions available (%s)", path);
				return;
			}
		}
	}
	cap_set(cap, true, "cpuset v2 present; partition file not seen yet");
}

/* The RT bandwidth limit; both 0 when it cannot be read. */
static void read_rt_bandwidth(const VsSys *sys, VsHostCaps *caps)
{
	g_autoptr(GError) error = NULL;
	int64_t runtime, period;

	if (vs_host_read_int(sys, "/proc/sys/kernel/sched_rt_runtime_us", &runtime, &error) < 0 ||
	    vs_host_read_int(sys, "/proc/sys/kernel/sched_rt_period_us", &period, &error) < 0 ||
	    runtime < -1 || period <= 0) {
		caps->rt_runtime_us = 0;
		caps->rt_period_us = 0;
		return;
	}
	caps->rt_runtime_us = runtime;
	caps->rt_period_us = period;
}

/* The fair server's parameters on one CPU (ns), from debugfs; -errno when
 * debugfs is not mounted or is locked down (kernel lockdown refuses to open
 * its writable files, even for reading). */
static int read_fair_server(const VsSys *sys, guint cpu, uint64_t *ret_runtime,
			    uint64_t *ret_period)
{
	g_autofree char *runtime_path =
		g_strdup_printf("/sys/kernel/debug/sched/fair_server/cpu%u/runtime", cpu);
	g_autofree char *period_path =
		g_strdup_printf("/sys/kernel/debug/sched/fair_server/cpu%u/period", cpu);
	uint64_t runtime, period;
	int r;

	if ((r = vs_sys_read_u64(sys, runtime_path, &runtime)) < 0 ||
	    (r = vs_sys_read_u64(sys, period_path, &period)) < 0)
		return r;
	if (period == 0 || runtime > period)
		return -EINVAL;
	*ret_runtime = runtime;
	*ret_period = period;
	return 0;
}

/* Whether the kernel has a fair server: its debugfs directory is there, or
 * the release is 6.12 or later (where it was merged). */
static bool has_fair_server(const VsSys *sys)
{
	g_autofree char *release = NULL;
	guint major, minor;

	if (vs_sys_exists(sys, "/sys/kernel/debug/sched/fair_server"))
		return true;
	if (vs_sys_read_line(sys, "/proc/sys/kernel/osrelease", &release) < 0 ||
	    sscanf(release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > FAIR_SERVER_MAJOR ||
	       (major == FAIR_SERVER_MAJOR && minor >= FAIR_SERVER_MINOR);
}

/* The fair server's share of each CPU: the mean of what debugfs says for
 * the online CPUs when it can be read, else the kernel's default on
 * kernels that have one, else 0. */
static double probe_dl_server_share(const VsSys *sys, const VsTopology *topo)
{
	double sum = 0;
	guint n = 0;

	for (int c = topo->online ? vs_cpuset_next(topo->online, 0) : -1; c >= 0;
	     c = vs_cpuset_next(topo->online, (guint)c + 1)) {
		uint64_t runtime, period;

		if (read_fair_server(sys, (guint)c, &runtime, &period) < 0)
			break;
		sum += (double)runtime / (double)period;
		n++;
	}
	if (n > 0 && n == vs_cpuset_count(topo->online))
		return sum / n;
	if (has_fair_server(sys))
		return (double)FAIR_SERVER_RUNTIME_NS / FAIR_SERVER_PERIOD_NS;
	return 0;
}

void vs_host_probe_caps(VsHost *host, const VsSys *sys)
{
	VsHostCaps *caps = &host->caps;

	vs_host_caps_clear(caps);
	if (vs_sys_is_real(sys)) {
		probe_deadline(&caps->deadline, sys);
		probe_sched_core(&caps->sched_core, sys);
		probe_taskstats(&caps->taskstats);
	} else {
		cap_set(&caps->deadline, false, NOT_PROBED);
		cap_set(&caps->sched_core, false, NOT_PROBED);
		cap_set(&caps->taskstats, false, NOT_PROBED);
	}
	probe_psi(&caps->psi, sys);
	probe_v2_controller(&caps->cgroup_v2_cpu, &host->cgroup, "cpu");
	probe_v2_controller(&caps->cgroup_v2_cpuset, &host->cgroup, "cpuset");
	probe_v2_controller(&caps->cgroup_v2_memory, &host->cgroup, "memory");
	probe_partitions(&caps->cpuset_partitions, sys, caps, &host->cgroup);
	caps->psi_min_window_us = has_cap_sys_resource(sys) ? PSI_WINDOW_PRIVILEGED_US
							    : PSI_WINDOW_UNPRIVILEGED_US;
	read_rt_bandwidth(sys, caps);
	caps->dl_server_share_per_cpu = probe_dl_server_share(sys, &host->topology);
}

void vs_host_caps_clear(VsHostCaps *caps)
{
	VsCap *all[] = {
		&caps->deadline, &caps->cpuset_partitions, &caps->sched_core,
		&caps->taskstats, &caps->psi, &caps->cgroup_v2_cpu,
		&caps->cgroup_v2_cpuset, &caps->cgroup_v2_memory,
	};

	for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
		g_clear_pointer(&all[i]->detail, g_free);
	*caps = (VsHostCaps){ 0 };
}
