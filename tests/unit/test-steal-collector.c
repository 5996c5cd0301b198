/* The steal collector (src/steal/collector.c) on a fixture tree: a guest
 * with two vCPU threads whose /proc/PID/task/TID/schedstat and cgroup
 * files, and whose libvirt v1 cpu cgroups' cpu.stat, the test rewrites
 * between ticks. Checks the report's figures and cgroups, a thread that
 * disappears and comes back (its next interval spans the gap), a
 * reservation from the sys layer's ops, entitlement, the libvirt
 * cross-check, [Steal] Alert= transitions, the guest agent's view (a
 * TCG guest's zero steal as "no steal clock", backoff after a failure and
 * a rejected reply, a mismatch episode logged once), and a guest that goes
 * away. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "steal/collector.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#define SEC (INT64_C(1000000))
#define MS_NS (UINT64_C(1000000))
#define PID 4242
#define UUID "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
#define CPU_MOUNT "/sys/fs/cgroup/cpu"
#define GUEST_DIR CPU_MOUNT "/machine/qemu-1-g.libvirt-qemu"

typedef struct Fixture {
	char *root;
	VsSys *sys;
	VsHost *host;
	VsSysOps ops;
} Fixture;

static pid_t deadline_tid;

static void put(const Fixture *f, const char *path, const char *text)
{
	g_autofree char *full = g_strconcat(f->root, path, NULL);
	g_autofree char *dir = g_path_get_dirname(full);

	FILE *fp;

	/* In place, as the kernel's files change: the collector holds them
	 * open (g_file_set_contents() would replace the file). */
	assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
	fp = fopen(full, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static void put_schedstat(const Fixture *f, pid_t tid, uint64_t run_ms, uint64_t delay_ms)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/schedstat", PID, (int)tid);
	g_autofree char *text = g_strdup_printf("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " 7\n",
						run_ms * MS_NS, delay_ms * MS_NS);

	put(f, path, text);
}

static void put_throttled(const Fixture *f, const char *dir, uint64_t ms)
{
	g_autofree char *path = g_strconcat(dir, "/cpu.stat", NULL);
	g_autofree char *text = g_strdup_printf("nr_periods 10\nnr_throttled 2\nthrottled_time %"
						G_GUINT64_FORMAT "\n", ms * MS_NS);

	put(f, path, text);
}

static void put_proc_stat(const Fixture *f, uint64_t busy, uint64_t idle)
{
	g_autofree char *text = g_strdup_printf("cpu  %" G_GUINT64_FORMAT " 0 0 %" G_GUINT64_FORMAT
						" 0 0 0 0 0 0\ncpu0 1 2 3 4\n", busy, idle);

	put(f, "/proc/stat", text);
}

static int fake_getattr(pid_t tid, VsSchedAttr *attr)
{
	if (tid != deadline_tid)
		return -ESRCH;
	*attr = (VsSchedAttr){ .size = sizeof(*attr), .sched_policy = SCHED_DEADLINE,
			       .sched_runtime = 2 * MS_NS, .sched_deadline = 10 * MS_NS,
			       .sched_period = 10 * MS_NS };
	return 0;
}

static int setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);
	static const char *const v1[] = { "cpu", "cpuacct", "cpuset", NULL };

	f->root = g_dir_make_tmp("vsched-steal-XXXXXX", NULL);
	assert_non_null(f->root);
	f->sys = vs_sys_new(f->root);
	f->ops = vs_sys_real_ops;
	f->ops.sched_getattr = fake_getattr;
	f->sys->ops = &f->ops;
	f->host = g_new0(VsHost, 1);
	f->host->cgroup.mode = VS_CGROUP_HYBRID;
	f->host->cgroup.v1_controllers = g_strdupv((char **)v1);
	f->host->cgroup.v2_controllers = g_new0(char *, 1);
	f->host->cgroup.v1_cpu_mount = g_strdup(CPU_MOUNT);
	/* taskstats cannot read a fixture: the collector must fall back. */
	f->host->caps.taskstats.ok = true;
	for (int i = 0; i < 2; i++) {
		g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/cgroup", PID, 100 + i);
		g_autofree char *text = g_strdup_printf(
			"9:cpuset:/machine/qemu-1-g.libvirt-qemu/vcpu%d\n"
			"1:cpu,cpuacct:/machine/qemu-1-g.libvirt-qemu/vcpu%d\n0::/\n", i, i);

		put(f, path, text);
	}
	*state = f;
	return 0;
}

static void remove_tree(const char *path)
{
	GDir *dir = g_dir_open(path, 0, NULL);
	const char *name;

	if (dir) {
		while ((name = g_dir_read_name(dir))) {
			g_autofree char *child = g_build_filename(path, name, NULL);

			remove_tree(child);
		}
		g_dir_close(dir);
	}
	g_remove(path);
}

static int teardown(void **state)
{
	Fixture *f = *state;

	remove_tree(f->root);
	vs_host_free(f->host);
	vs_sys_free(f->sys);
	g_free(f->root);
	g_free(f);
	return 0;
}

/* A snapshot at @t_s seconds holding guest "g" with vCPUs 0 and 1 (TIDs
 * 100 and @tid1; vCPU 1 offline when @tid1 is 0), libvirt's delays @lv0_ms
 * and @lv1_ms. */
static VsSnapshot *snapshot_at(const Fixture *f, int64_t t_s, pid_t tid1, uint64_t lv0_ms,
			       uint64_t lv1_ms)
{
	GPtrArray *domains = g_ptr_array_new_with_free_func((GDestroyNotify)vs_domain_free);
	VsDomain *d = vs_domain_new("g", 2);

	g_strlcpy(d->uuid, UUID, sizeof(d->uuid));
	d->id = 1;
	d->pid = PID;
	for (guint i = 0; i < 2; i++) {
		VsVcpu *v = &g_array_index(d->vcpus, VsVcpu, i);

		v->online = i == 0 || tid1 > 0;
		v->thread.pid = PID;
		v->thread.tid = i == 0 ? 100 : tid1;
		v->thread.start_time = 9000 + i;
		v->thread.comm = g_strdup_printf("CPU %u/TCG", i);
		v->has_stats = true;
		v->delay_ns = (i == 0 ? lv0_ms : lv1_ms) * MS_NS;
	}
	g_ptr_array_add(domains, d);
	return vs_snapshot_new((uint64_t)t_s, t_s * SEC, t_s * SEC, f->host, domains, true);
}

static const VsStealVcpuReport *vcpu_of(const VsStealGuestReport *g, guint index)
{
	for (guint i = 0; i < g->vcpus->len; i++) {
		const VsStealVcpuReport *v = &g_array_index(g->vcpus, VsStealVcpuReport, i);

		if (v->index == index)
			return v;
	}
	return NULL;
}

static void tick_tid(VsStealCollector *c, const Fixture *f, int64_t t_s, pid_t tid1, uint64_t lv0,
		     uint64_t lv1)
{
	g_autoptr(VsSnapshot) snap = snapshot_at(f, t_s, tid1, lv0, lv1);

	vs_steal_collector_tick(c, snap);
}

static void tick(VsStealCollector *c, const Fixture *f, int64_t t_s, uint64_t lv0, uint64_t lv1)
{
	tick_tid(c, f, t_s, 101, lv0, lv1);
}

/* As the daemon does at a tick: a round of the policy cache begun with
 * the policies in force at @now_us, then the alerts. */
static GPtrArray *alerts_at(VsStealCollector *c, VsPolicyCache *policies, const VsPolicySet *set,
			    const VsOverrides *overrides, int64_t now_us)
{
	vs_policy_cache_begin(policies, set, overrides, now_us);
	return vs_steal_collector_alerts(c, policies);
}

static void test_collect(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsStealCollector) c = vs_steal_collector_new(f->sys, f->host);
	const VsStealReport *r;
	const VsStealGuestReport *g;
	const VsStealVcpuReport *v0, *v1;
	const VsStealPoint *w;

	assert_int_equal(vs_steal_collector_report(c)->guests->len, 0);
	/* t = 1 s: baselines. */
	put_schedstat(f, 100, 1000, 500);
	put_schedstat(f, 101, 2000, 0);
	put_throttled(f, GUEST_DIR "/vcpu0", 0);
	put_throttled(f, GUEST_DIR "/vcpu1", 0);
	put_throttled(f, GUEST_DIR, 100);
	put_proc_stat(f, 100, 100);
	tick(c, f, 1, 500, 0);
	r = vs_steal_collector_report(c);
	assert_string_equal(r->source, "schedstat");
	assert_non_null(strstr(r->source_why, "fixture root"));
	assert_null(r->check_source);
	assert_false(r->has_host_cpu);
	assert_int_equal(r->guests->len, 1);
	g = g_ptr_array_index(r->guests, 0);
	assert_string_equal(g->name, "g");
	assert_string_equal(g->guest_view,
			    "guest agent not heard yet; TCG: the guest has no steal clock");
	assert_string_equal(g->guest_verdict, "unavailable");
	assert_null(g->guest_cpus);
	assert_int_equal(g->windows[VS_STEAL_WINDOW_10S].n, 0);
	v0 = vcpu_of(g, 0);
	assert_non_null(v0);
	assert_string_equal(v0->last_result, "first sample");
	assert_string_equal(v0->cgroup, GUEST_DIR "/vcpu0");
	assert_string_equal(v0->guest_cgroup, GUEST_DIR);
	assert_null(v0->throttle_problem);

	/* t = 2 s: vCPU 0 ran 400 ms and waited 600 ms, 450 ms of it while
	 * the guest's cgroup was throttled; vCPU 1 ran 1 s. */
	put_schedstat(f, 100, 1400, 1100);
	put_schedstat(f, 101, 3000, 0);
	put_throttled(f, GUEST_DIR, 550);
	put_proc_stat(f, 250, 150);
	vs_steal_collector_set_entitlement(c, UUID, 0, 0.5);
	tick(c, f, 2, 1100, 0);
	r = vs_steal_collector_report(c);
	assert_true(r->has_host_cpu);
	assert_float_equal(r->host_busy_pct, 75.0, 1e-9);
	g = g_ptr_array_index(r->guests, 0);
	v0 = vcpu_of(g, 0);
	v1 = vcpu_of(g, 1);
	w = &v0->windows[VS_STEAL_WINDOW_10S];
	assert_int_equal(w->n, 1);
	assert_int_equal(w->steal_ns, 600 * MS_NS);
	assert_int_equal(w->cap_ns, 450 * MS_NS);
	assert_int_equal(w->contention_ns, 150 * MS_NS);
	assert_int_equal(w->run_ns, 400 * MS_NS);
	assert_int_equal(w->deficit_ns, 100 * MS_NS);
	assert_float_equal(v0->entitlement, 0.5, 1e-12);
	assert_int_equal(vs_steal_check_libvirt(w), VS_STEAL_CHECK_AGREE);
	/* vCPU 1 did not wait: the guest's throttling is not its delay. */
	w = &v1->windows[VS_STEAL_WINDOW_10S];
	assert_int_equal(w->steal_ns, 0);
	assert_int_equal(w->cap_ns, 0);
	/* The guest: both vCPUs over 1 s. */
	w = &g->windows[VS_STEAL_WINDOW_10S];
	assert_int_equal(w->span_ns, 1000 * MS_NS);
	assert_int_equal(w->wall_ns, 2000 * MS_NS);
	assert_int_equal(w->steal_ns, 600 * MS_NS);
	assert_int_equal(w->run_ns, 1400 * MS_NS);

	/* t = 3 s: vCPU 1 has no sample (offline for a tick). */
	put_schedstat(f, 100, 1900, 1600);
	tick_tid(c, f, 3, 0, 1600, 0);
	g = g_ptr_array_index(vs_steal_collector_report(c)->guests, 0);
	v1 = vcpu_of(g, 1);
	assert_string_equal(v1->problem, "offline");
	assert_int_equal(v1->tid, 0);
	assert_int_equal(v1->windows[VS_STEAL_WINDOW_10S].n, 1);
	/* t = 4 s: back: its interval spans the 2 s since its last sample. */
	put_schedstat(f, 101, 4000, 500);
	put_schedstat(f, 100, 2400, 2100);
	tick(c, f, 4, 2100, 500);
	g = g_ptr_array_index(vs_steal_collector_report(c)->guests, 0);
	v1 = vcpu_of(g, 1);
	assert_null(v1->problem);
	w = &v1->windows[VS_STEAL_WINDOW_10S];
	assert_int_equal(w->n, 2);
	assert_int_equal(w->span_ns, 3000 * MS_NS);
	assert_int_equal(w->steal_ns, 500 * MS_NS);
	/* t = 5 s: the inventory names a thread that is gone. */
	tick_tid(c, f, 5, 102, 2100, 500);
	g = g_ptr_array_index(vs_steal_collector_report(c)->guests, 0);
	v1 = vcpu_of(g, 1);
	assert_non_null(v1->problem);
	assert_non_null(strstr(v1->problem, "TID 102: thread gone"));
	assert_int_equal(v1->windows[VS_STEAL_WINDOW_10S].n, 2);
}

static void test_reservation_and_problems(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsStealCollector) c = vs_steal_collector_new(f->sys, f->host);
	const VsStealGuestReport *g;
	const VsStealVcpuReport *v0, *v1;

	deadline_tid = 101;
	put_schedstat(f, 100, 0, 0);
	put_schedstat(f, 101, 0, 0);
	put_throttled(f, GUEST_DIR "/vcpu0", 0);
	put_throttled(f, GUEST_DIR, 0);
	/* vcpu1's cpu.stat is missing. */
	tick(c, f, 1, 0, 0);
	put_schedstat(f, 100, 500, 500);
	put_schedstat(f, 101, 200, 800);
	tick(c, f, 2, 500, 800);
	g = g_ptr_array_index(vs_steal_collector_report(c)->guests, 0);
	v0 = vcpu_of(g, 0);
	v1 = vcpu_of(g, 1);
	assert_int_equal(v0->reserved_period_ns, 0);
	assert_int_equal(v1->reserved_runtime_ns, 2 * MS_NS);
	assert_int_equal(v1->reserved_period_ns, 10 * MS_NS);
	assert_int_equal(v1->windows[VS_STEAL_WINDOW_10S].reservation_ns, 800 * MS_NS);
	assert_non_null(v1->throttle_problem);
	assert_non_null(strstr(v1->throttle_problem, "cpu.stat"));
	/* vCPU 0: no throttling, so contention. */
	assert_int_equal(v0->windows[VS_STEAL_WINDOW_10S].contention_ns, 500 * MS_NS);
	assert_int_equal(g->windows[VS_STEAL_WINDOW_10S].reservation_ns, 800 * MS_NS);
	deadline_tid = 0;
}

static void test_alerts(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsStealCollector) c = vs_steal_collector_new(f->sys, f->host);
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicySet) set = g_new0(VsPolicySet, 1);
	g_autoptr(VsOverrides) overrides = vs_overrides_new();
	g_autoptr(VsPolicyCache) policies = vs_policy_cache_new();
	g_autoptr(GPtrArray) m1 = NULL, m2 = NULL, m3 = NULL, m4 = NULL;
	VsPolicyFile *file;

	set->files = g_ptr_array_new_with_free_func((GDestroyNotify)vs_policy_file_free);
	file = vs_policy_file_parse("/etc/vsched/policy.d/50-steal.policy",
				    "[Steal]\nAlert=steal.contention>20% for 2s\n", diags);
	assert_non_null(file);
	g_ptr_array_add(set->files, file);

	put_schedstat(f, 100, 0, 0);
	put_schedstat(f, 101, 0, 0);
	put_throttled(f, GUEST_DIR "/vcpu0", 0);
	put_throttled(f, GUEST_DIR "/vcpu1", 0);
	put_throttled(f, GUEST_DIR, 0);
	tick(c, f, 1, 0, 0);
	m1 = alerts_at(c, policies, set, overrides, 1 * SEC);
	assert_int_equal(m1->len, 0);
	/* 50 % contention on both vCPUs for 1 s: not 2 s yet. */
	put_schedstat(f, 100, 500, 500);
	put_schedstat(f, 101, 500, 500);
	tick(c, f, 2, 0, 0);
	m2 = alerts_at(c, policies, set, overrides, 2 * SEC);
	assert_int_equal(m2->len, 0);
	put_schedstat(f, 100, 1000, 1000);
	put_schedstat(f, 101, 1000, 1000);
	tick(c, f, 3, 0, 0);
	m3 = alerts_at(c, policies, set, overrides, 3 * SEC);
	assert_int_equal(m3->len, 1);
	assert_non_null(strstr(g_ptr_array_index(m3, 0), "g: steal alert: steal.contention>20% for 2s holds"));
	assert_true(((VsStealGuestReport *)g_ptr_array_index(vs_steal_collector_report(c)->guests, 0))->alert);
	/* Quiet again: the alert ends. */
	put_schedstat(f, 100, 2000, 1000);
	put_schedstat(f, 101, 2000, 1000);
	tick(c, f, 4, 0, 0);
	m4 = alerts_at(c, policies, set, overrides, 4 * SEC);
	assert_int_equal(m4->len, 1);
	assert_non_null(strstr(g_ptr_array_index(m4, 0), "steal alert ended"));
}

/* The guest's [Steal] policy is looked up once and kept, but an override
 * set or cleared counts at the next call. */
static void test_alert_override(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsStealCollector) c = vs_steal_collector_new(f->sys, f->host);
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicySet) set = g_new0(VsPolicySet, 1);
	g_autoptr(VsOverrides) overrides = vs_overrides_new();
	g_autoptr(VsPolicyCache) policies = vs_policy_cache_new();
	const char *const alert[] = { "Alert=steal.contention>20%", NULL };
	g_autoptr(GPtrArray) m1 = NULL, m2 = NULL, m3 = NULL, m4 = NULL;

	set->files = g_ptr_array_new_with_free_func((GDestroyNotify)vs_policy_file_free);
	put_schedstat(f, 100, 0, 0);
	put_schedstat(f, 101, 0, 0);
	put_throttled(f, GUEST_DIR "/vcpu0", 0);
	put_throttled(f, GUEST_DIR "/vcpu1", 0);
	put_throttled(f, GUEST_DIR, 0);
	tick(c, f, 1, 0, 0);
	m1 = alerts_at(c, policies, set, overrides, 1 * SEC);
	assert_int_equal(m1->len, 0);
	put_schedstat(f, 100, 500, 500);
	put_schedstat(f, 101, 500, 500);
	tick(c, f, 2, 0, 0);
	m2 = alerts_at(c, policies, set, overrides, 2 * SEC);
	assert_int_equal(m2->len, 0);
	assert_int_equal(vs_overrides_set(overrides, UUID, "g", alert, 2 * SEC, 0, diags), 1);
	m3 = alerts_at(c, policies, set, overrides, 2 * SEC);
	assert_int_equal(m3->len, 1);
	assert_non_null(strstr(g_ptr_array_index(m3, 0), "g: steal alert: steal.contention>20% holds"));
	assert_int_equal(vs_overrides_clear(overrides, UUID, NULL), 1);
	m4 = alerts_at(c, policies, set, overrides, 2 * SEC);
	assert_int_equal(m4->len, 1);
	assert_non_null(strstr(g_ptr_array_index(m4, 0), "steal alert ended"));
}

/* A vCPU cgroup without a limit of its own (cfs_quota_us -1) cannot be
 * throttled itself: its cpu.stat is read when its cgroup is (re)read, not
 * at every tick; one with a limit is read at every tick. Both vCPUs wait
 * 600 ms; each cpu.stat claims 450 ms throttled. */
static void test_unlimited_vcpu_cgroup(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsStealCollector) c = vs_steal_collector_new(f->sys, f->host);
	const VsStealGuestReport *g;

	put(f, GUEST_DIR "/vcpu0/cpu.cfs_quota_us", "-1\n");
	put(f, GUEST_DIR "/vcpu1/cpu.cfs_quota_us", "50000\n");
	put_schedstat(f, 100, 0, 0);
	put_schedstat(f, 101, 0, 0);
	put_throttled(f, GUEST_DIR "/vcpu0", 0);
	put_throttled(f, GUEST_DIR "/vcpu1", 0);
	put_throttled(f, GUEST_DIR, 0);
	tick(c, f, 1, 0, 0);
	put_schedstat(f, 100, 400, 600);
	put_schedstat(f, 101, 400, 600);
	put_throttled(f, GUEST_DIR "/vcpu0", 450);
	put_throttled(f, GUEST_DIR "/vcpu1", 450);
	tick(c, f, 2, 0, 0);
	g = g_ptr_array_index(vs_steal_collector_report(c)->guests, 0);
	assert_int_equal(vcpu_of(g, 0)->windows[VS_STEAL_WINDOW_10S].cap_ns, 0);
	assert_null(vcpu_of(g, 0)->throttle_problem);
	assert_int_equal(vcpu_of(g, 1)->windows[VS_STEAL_WINDOW_10S].cap_ns, 450 * MS_NS);
}

/* An agent reply with steal @s0 and @s1 ms on guest CPUs 0 and 1. */
static char *agent_reply(uint64_t s0, uint64_t s1)
{
	return g_strdup_printf("{\"return\": ["
			       "{\"type\": \"linux\", \"cpu\": 0, \"user\": 10, \"nice\": 0, "
			       "\"system\": 0, \"idle\": 0, \"steal\": %" G_GUINT64_FORMAT "},"
			       "{\"type\": \"linux\", \"cpu\": 1, \"user\": 10, \"nice\": 0, "
			       "\"system\": 0, \"idle\": 0, \"steal\": %" G_GUINT64_FORMAT "}]}",
			       s0, s1);
}

/* Ticks at @t_s with both vCPUs at 50 % contention since t = 0. */
static void tick_contended(VsStealCollector *c, const Fixture *f, int64_t t_s)
{
	put_schedstat(f, 100, (uint64_t)t_s * 500, (uint64_t)t_s * 500);
	put_schedstat(f, 101, (uint64_t)t_s * 500, (uint64_t)t_s * 500);
	tick(c, f, t_s, 0, 0);
}

static void assert_due(VsStealCollector *c, int64_t t_s, bool want)
{
	g_autoptr(GPtrArray) due = vs_steal_collector_agent_due(c, t_s * SEC);

	assert_int_equal(due->len, want ? 1 : 0);
	if (want)
		assert_string_equal(g_ptr_array_index(due, 0), UUID);
}

static const VsStealGuestReport *only_guest(VsStealCollector *c)
{
	return g_ptr_array_index(vs_steal_collector_report(c)->guests, 0);
}

/* A TCG guest: the agent first fails (backed off 10 s), then answers
 * garbage (rejected, backed off 20 s), then answers with zero steal while
 * the host sees 50 %: "no steal clock", never a mismatch message. */
static void test_agent_no_clock(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsStealCollector) c = vs_steal_collector_new(f->sys, f->host);
	g_autoptr(VsPolicySet) set = g_new0(VsPolicySet, 1);
	g_autoptr(VsOverrides) overrides = vs_overrides_new();
	g_autoptr(VsPolicyCache) policies = vs_policy_cache_new();
	g_autofree char *zero = agent_reply(0, 0);
	const VsStealGuestReport *g;

	set->files = g_ptr_array_new_with_free_func((GDestroyNotify)vs_policy_file_free);
	put_throttled(f, GUEST_DIR "/vcpu0", 0);
	put_throttled(f, GUEST_DIR "/vcpu1", 0);
	put_throttled(f, GUEST_DIR, 0);
	tick_contended(c, f, 1);
	assert_due(c, 1, true);
	assert_due(c, 1, false); /* asked: not again until the reply */
	assert_null(only_guest(c)->agent_problem);
	vs_steal_collector_agent_reply(c, UUID, 1 * SEC, NULL, "QEMU guest agent is not connected");
	/* The reply shows at once: the report is built again when asked. */
	assert_string_equal(only_guest(c)->agent_problem, "QEMU guest agent is not connected");
	assert_due(c, 2, false);
	assert_due(c, 10, false);
	tick_contended(c, f, 2);
	g_ptr_array_unref(alerts_at(c, policies, set, overrides, 2 * SEC));
	g = only_guest(c);
	assert_string_equal(g->agent_problem, "QEMU guest agent is not connected");
	assert_non_null(strstr(g->guest_view, "guest agent: QEMU guest agent is not connected; "
						"next try in 9 s"));
	for (int64_t t = 3; t <= 11; t++)
		tick_contended(c, f, t);
	g_ptr_array_unref(alerts_at(c, policies, set, overrides, 11 * SEC));
	assert_non_null(strstr(only_guest(c)->guest_view, "is not connected; asking again"));
	assert_due(c, 11, true);
	vs_steal_collector_agent_reply(c, UUID, 11 * SEC, "{\"return\": 7}", NULL);
	assert_due(c, 30, false);
	assert_due(c, 31, true);
	for (int64_t t = 12; t <= 31; t++)
		tick_contended(c, f, t);
	vs_steal_collector_agent_reply(c, UUID, 31 * SEC, zero, NULL);
	for (int64_t t = 32; t <= 36; t++)
		tick_contended(c, f, t);
	assert_due(c, 36, true);
	vs_steal_collector_agent_reply(c, UUID, 36 * SEC, zero, NULL);
	{
		g_autoptr(GPtrArray) m = alerts_at(c, policies, set, overrides, 36 * SEC);

		assert_int_equal(m->len, 0);
	}
	g = only_guest(c);
	assert_null(g->agent_problem);
	assert_int_equal(g->agent_replies, 2);
	assert_int_equal(g->agent_rejected, 1);
	assert_string_equal(g->guest_verdict, "no steal clock");
	assert_float_equal(g->guest_tolerance_pct, 5.0, 1e-9);
	assert_string_equal(g->guest_view, "guest reports no steal (no paravirtual steal clock: "
					   "TCG?); host 50.0% over 1m");
	assert_int_equal(g->guest_windows[VS_STEAL_WINDOW_1M].n, 1);
	assert_int_equal(g->guest_windows[VS_STEAL_WINDOW_1M].guest_steal_ns, 0);
	assert_int_equal(g->guest_windows[VS_STEAL_WINDOW_1M].host_wall_ns, 10 * SEC * 1000);
	assert_non_null(g->guest_cpus);
	assert_int_equal(g->guest_cpus->len, 2);
}

/* The guest agrees first (50 % both sides), then reports 10 % while the
 * host sees 50 %: over 1 min 30 % against 50 %, beyond GuestTolerance=10%:
 * one message when the episode starts, none at the next tick. */
static void test_agent_mismatch(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsStealCollector) c = vs_steal_collector_new(f->sys, f->host);
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicySet) set = g_new0(VsPolicySet, 1);
	g_autoptr(VsOverrides) overrides = vs_overrides_new();
	g_autoptr(VsPolicyCache) policies = vs_policy_cache_new();
	g_autofree char *r1 = agent_reply(100, 100);
	g_autofree char *r6 = agent_reply(2600, 2600);
	g_autofree char *r11 = agent_reply(3100, 3100);
	g_autoptr(GPtrArray) m6 = NULL, m11 = NULL, m12 = NULL;
	VsPolicyFile *file;

	set->files = g_ptr_array_new_with_free_func((GDestroyNotify)vs_policy_file_free);
	file = vs_policy_file_parse("/etc/vsched/policy.d/50-steal.policy",
				    "[Steal]\nGuestTolerance=10%\n", diags);
	assert_non_null(file);
	g_ptr_array_add(set->files, file);
	put_throttled(f, GUEST_DIR "/vcpu0", 0);
	put_throttled(f, GUEST_DIR "/vcpu1", 0);
	put_throttled(f, GUEST_DIR, 0);
	tick_contended(c, f, 1);
	vs_steal_collector_agent_reply(c, UUID, 1 * SEC, r1, NULL);
	for (int64_t t = 2; t <= 6; t++)
		tick_contended(c, f, t);
	vs_steal_collector_agent_reply(c, UUID, 6 * SEC, r6, NULL);
	m6 = alerts_at(c, policies, set, overrides, 6 * SEC);
	assert_int_equal(m6->len, 0);
	assert_string_equal(only_guest(c)->guest_verdict, "agree");
	assert_string_equal(only_guest(c)->guest_view, "guest reports 50.0% steal, host 50.0% "
						       "over 1m: agree (GuestTolerance=10%)");
	for (int64_t t = 7; t <= 11; t++)
		tick_contended(c, f, t);
	vs_steal_collector_agent_reply(c, UUID, 11 * SEC, r11, NULL);
	m11 = alerts_at(c, policies, set, overrides, 11 * SEC);
	assert_int_equal(m11->len, 1);
	assert_string_equal(g_ptr_array_index(m11, 0),
			    "g: the guest reports 30.0% steal, the host accounts 50.0% over the "
			    "last minute: beyond GuestTolerance=10%");
	assert_string_equal(only_guest(c)->guest_verdict, "mismatch");
	tick_contended(c, f, 12);
	m12 = alerts_at(c, policies, set, overrides, 12 * SEC);
	assert_int_equal(m12->len, 0);
	assert_non_null(strstr(only_guest(c)->guest_view, "mismatch: guest reports 30.0% steal"));
}

/* How many of this process's descriptors are open on a schedstat file. */
static guint schedstat_fds(void)
{
	g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
	const char *name;
	guint n = 0;

	assert_non_null(dir);
	while ((name = g_dir_read_name(dir))) {
		g_autofree char *link = g_build_filename("/proc/self/fd", name, NULL);
		g_autofree char *target = g_file_read_link(link, NULL);

		if (target && g_str_has_suffix(target, "/schedstat"))
			n++;
	}
	return n;
}

static void test_guest_gone(void **state)
{
	Fixture *f = *state;
	g_autoptr(VsStealCollector) c = vs_steal_collector_new(f->sys, f->host);
	g_autoptr(VsSnapshot) empty = vs_snapshot_new(5, 5 * SEC, 5 * SEC, f->host, NULL, true);
	guint before = schedstat_fds();

	/* Sampling keeps descriptors open between a guest's readings; those
	 * of a guest that is gone are closed at once all the same. */
	vs_steal_collector_set_sampling(c, 5);
	put_schedstat(f, 100, 0, 0);
	put_schedstat(f, 101, 0, 0);
	tick(c, f, 1, 0, 0);
	assert_int_equal(vs_steal_collector_report(c)->guests->len, 1);
	assert_non_null(vs_steal_report_find(vs_steal_collector_report(c), "g"));
	assert_non_null(vs_steal_report_find(vs_steal_collector_report(c), UUID));
	assert_int_equal(schedstat_fds(), before + 2);
	vs_steal_collector_tick(c, empty);
	assert_int_equal(vs_steal_collector_report(c)->guests->len, 0);
	assert_null(vs_steal_report_find(vs_steal_collector_report(c), "g"));
	assert_int_equal(schedstat_fds(), before);
}

/* Ticks t = 1..@until s with sampling every 3 ticks under the policy
 * @text, both vCPUs running 100 ms and waiting @delay_ms per second, the
 * alerts looked at after each tick; returns vCPU 0's intervals. Checks
 * that the intervals taken cover the time from the baseline to the last
 * reading without a gap (the counters are cumulative) and that the
 * guest's series holds the same. */
static guint sampled_intervals(const Fixture *f, const char *text, uint64_t delay_ms,
			       int64_t until)
{
	g_autoptr(VsStealCollector) c = vs_steal_collector_new(f->sys, f->host);
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicySet) set = g_new0(VsPolicySet, 1);
	g_autoptr(VsOverrides) overrides = vs_overrides_new();
	g_autoptr(VsPolicyCache) policies = vs_policy_cache_new();
	const VsStealGuestReport *g;
	const VsStealVcpuReport *v0;
	VsStealPoint last = { 0 };
	VsPolicyFile *file;

	set->files = g_ptr_array_new_with_free_func((GDestroyNotify)vs_policy_file_free);
	file = vs_policy_file_parse("/etc/vsched/policy.d/50-t.policy", text, diags);
	assert_non_null(file);
	g_ptr_array_add(set->files, file);
	vs_steal_collector_set_sampling(c, 3);
	put_throttled(f, GUEST_DIR "/vcpu0", 0);
	put_throttled(f, GUEST_DIR "/vcpu1", 0);
	put_throttled(f, GUEST_DIR, 0);
	for (int64_t t = 1; t <= until; t++) {
		g_autoptr(GPtrArray) messages = NULL;

		put_schedstat(f, 100, (uint64_t)t * 100, (uint64_t)t * delay_ms);
		put_schedstat(f, 101, (uint64_t)t * 100, (uint64_t)t * delay_ms);
		tick(c, f, t, 0, 0);
		messages = alerts_at(c, policies, set, overrides, t * SEC);
	}
	g = only_guest(c);
	v0 = vcpu_of(g, 0);
	/* From the baseline at 1 s to the last reading, every ms counted. */
	assert_true(v0->total.n >= 1);
	assert_int_equal(v0->total.run_ns, v0->total.span_ns / 10);
	assert_int_equal(v0->total.steal_ns, v0->total.span_ns / 1000 * delay_ms);
	assert_true(v0->total.span_ns <= (uint64_t)(until - 1) * SEC * 1000);
	assert_true(v0->total.span_ns > (uint64_t)(until - 4) * SEC * 1000);
	/* The guest's newest interval is both vCPUs' newest. */
	assert_true(vs_steal_series_nth_newest(vs_steal_collector_series(c, UUID), 0, &last));
	assert_int_equal(last.n, 2);
	assert_int_equal(last.wall_ns, 2 * last.span_ns);
	return v0->total.n;
}

/* Sampling: a guest with a long condition only is read every third tick
 * (9 ticks after the baseline: 3 readings); relaxed co-scheduling, a
 * condition shorter than 6 intervals, or 10 % steal make it every tick. */
static void test_sampling(void **state)
{
	const Fixture *f = *state;

	assert_int_equal(sampled_intervals(f, "[Steal]\nAlert=steal>50% for 20s\n", 20, 10), 3);
	assert_int_equal(sampled_intervals(f, "[Steal]\nAlert=steal>50% for 20s\n"
					      "[CPU]\nCoSchedule=relaxed\n", 20, 10), 9);
	assert_int_equal(sampled_intervals(f, "[Steal]\nAlert=steal>50% for 10s\n", 20, 10), 9);
	/* 15 % steal: every tick once the first sampled interval shows it. */
	assert_true(sampled_intervals(f, "[Steal]\nAlert=steal>50% for 20s\n", 150, 10) >= 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_collect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reservation_and_problems, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alerts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_no_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlimited_vcpu_cgroup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alert_override, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sampling, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
