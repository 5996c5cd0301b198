/* The fake daemon of the control tests; see test-ctl-fixture.h. */
#include "config.h"

#include "unit/test-ctl-fixture.h"

#include <libvirt/libvirt.h>
#include <string.h>

const char ctl_fake_policy_all[] =
	"# every guest\n"
	"[Match]\n"
	"Name=*\n"
	"\n"
	"[CPU]\n"
	"Weight=50\n"
	"\n"
	"[Memory]\n"
	"Floor=256M\n";

const char ctl_fake_policy_db[] =
	"[Match]\n"
	"Class=db\n"
	"\n"
	"[CPU]\n"
	"Weight=200\n"
	"Placement=dedicated\n";

/* Parses the fake policy files into a set, as the daemon would load them. */
static VsPolicySet *fake_policies(void)
{
	static const struct {
		const char *name;
		const char *text;
	} files[] = {
		{ "10-all.policy", ctl_fake_policy_all },
		{ "20-db.policy", ctl_fake_policy_db },
	};
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	VsPolicySet *set = g_new0(VsPolicySet, 1);

	set->dir = g_strdup(CTL_FAKE_POLICY_DIR);
	set->files = g_ptr_array_new_with_free_func((GDestroyNotify)vs_policy_file_free);
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *path = g_build_filename(CTL_FAKE_POLICY_DIR, files[i].name, NULL);
		VsPolicyFile *f = vs_policy_file_parse(path, files[i].text, diags);

		g_assert_nonnull(f);
		g_ptr_array_add(set->files, f);
	}
	g_assert_cmpuint(diags->len, ==, 0);
	return set;
}

static VsHost *fake_host(void)
{
	VsHost *host = g_new0(VsHost, 1);
	static const char *const v2[] = { "hugetlb", NULL };
	static const char *const v1[] = { "cpu", "cpuset", "memory", NULL };

	host->topology.online = vs_cpuset_parse("0-1", NULL);
	host->topology.n_nodes = 1;
	host->mem.total = 25217077248;
	host->mem.available = 24100000000;
	host->mem.free = 20000000000;
	host->psi_memory.available = true;
	host->psi_memory.some.avg10 = 1.5;
	host->psi_memory.has_full = true;
	host->psi_memory.full.avg10 = 0.25;
	host->psi_cpu.available = true;
	host->psi_cpu.some.avg10 = 3.0;
	host->cgroup.mode = VS_CGROUP_HYBRID;
	host->cgroup.v2_mount = g_strdup("/sys/fs/cgroup/unified");
	host->cgroup.v2_controllers = g_strdupv((char **)v2);
	host->cgroup.v1_controllers = g_strdupv((char **)v1);
	host->caps.deadline.ok = true;
	host->caps.psi.ok = true;
	host->caps.taskstats.ok = true;
	host->caps.sched_core.detail = g_strdup("prctl(PR_SCHED_CORE): Invalid argument");
	host->caps.cgroup_v2_cpu.detail = g_strdup("cpu is not on the v2 hierarchy");
	host->caps.psi_min_window_us = 2000000;
	return host;
}

static void set_thread(VsThread *t, pid_t pid, pid_t tid, const char *comm, int cpu,
		       const char *affinity)
{
	t->pid = pid;
	t->tid = tid;
	t->start_time = (uint64_t)tid * 10;
	t->comm = g_strdup(comm);
	t->cpu = cpu;
	t->affinity = vs_cpuset_parse(affinity, NULL);
}

static VsDomain *fake_db1(void)
{
	VsDomain *d = vs_domain_new("db1", 4);
	VsVcpu *v0 = &g_array_index(d->vcpus, VsVcpu, 0);
	VsVcpu *v1 = &g_array_index(d->vcpus, VsVcpu, 1);
	VsThread t = { 0 };

	strcpy(d->uuid, "c7a5fdbd-cdaf-9455-926a-d65c16db1809");
	d->id = 3;
	d->state = VIR_DOMAIN_RUNNING;
	d->state_reason = 1;
	d->vsched_class = g_strdup("db");
	d->pid = 4242;
	d->pid_start_time = 123456;
	d->cgroup_path = g_strdup("/machine/qemu-3-db1.libvirt-qemu");
	d->vcpus_current = 2;
	d->vcpus_max = 4;
	d->mem_current = d->mem_max = 536870912;
	d->has_stats = true;
	d->cpu_time_ns = 81234567;

	v0->online = true;
	set_thread(&v0->thread, 4242, 4250, "CPU 0/TCG", 1, "0-1");
	v0->has_stats = true;
	v0->time_ns = 80000000;
	v0->delay_ns = 1200000;
	v0->state = 1;
	/* vCPU 1 is plugged in but discovery found no thread for it. */
	v1->online = true;
	v1->thread.pid = 4242;

	set_thread(&t, 4242, 4242, "qemu-system-x86", 0, "0-1");
	g_array_append_val(d->emulator_threads, t);
	set_thread(&t, 4242, 4260, "IO iothread1", 1, "1");
	g_array_append_val(d->io_threads, t);

	d->balloon.have = VS_BALLOON_CURRENT | VS_BALLOON_AVAILABLE | VS_BALLOON_LAST_UPDATE;
	d->balloon.current = 536870912;
	d->balloon.available = 500000000;
	d->balloon.last_update = 1700000000;
	d->balloon.rss = 999; /* not in @have: must not be shown */
	return d;
}

static VsDomain *fake_web(void)
{
	VsDomain *d = vs_domain_new("web", 1);

	strcpy(d->uuid, "0c7f3e2a-1111-4222-8333-444455556666");
	d->state = VIR_DOMAIN_SHUTOFF;
	d->state_reason = 1;
	d->vcpus_current = d->vcpus_max = 1;
	d->mem_current = d->mem_max = 268435456;
	return d;
}

CtlFake *ctl_fake_new(bool ready, guint n_extra)
{
	static const char *const db1_reasons[] = {
		"vcpu0 of db1 -> CPU 1: dedicated placement (policy 20-db.policy:6)", NULL
	};
	CtlFake *fake = g_new0(CtlFake, 1);
	GPtrArray *doms;

	fake->host = fake_host();
	fake->policies = fake_policies();
	fake->overrides = vs_overrides_new();
	fake->reasons = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      (GDestroyNotify)g_strfreev);
	g_hash_table_insert(fake->reasons, g_strdup("c7a5fdbd-cdaf-9455-926a-d65c16db1809"),
			    g_strdupv((char **)db1_reasons));
	if (!ready)
		return fake;
	doms = g_ptr_array_new_with_free_func((GDestroyNotify)vs_domain_free);
	g_ptr_array_add(doms, fake_db1());
	for (guint i = 0; i < n_extra; i++) {
		g_autofree char *name = g_strdup_printf("vm%04u", i);
		VsDomain *d = vs_domain_new(name, 2);

		g_snprintf(d->uuid, sizeof(d->uuid), "00000000-0000-4000-8000-%012u", i);
		d->id = 100 + (int)i;
		d->state = VIR_DOMAIN_RUNNING;
		d->vcpus_current = d->vcpus_max = 2;
		d->mem_current = d->mem_max = 1073741824;
		g_ptr_array_add(doms, d);
	}
	g_ptr_array_add(doms, fake_web());
	fake->snapshot = vs_snapshot_new(7, 1000, 2000, fake->host, doms, true);
	return fake;
}

void ctl_fake_free(CtlFake *fake)
{
	if (!fake)
		return;
	vs_snapshot_free(fake->snapshot);
	vs_host_free(fake->host);
	vs_policy_set_free(fake->policies);
	vs_overrides_free(fake->overrides);
	g_free(fake->policy_error);
	g_hash_table_unref(fake->reasons);
	g_free(fake);
}

static const VsSnapshot *fake_snapshot(gpointer data)
{
	CtlFake *fake = data;

	return fake->snapshot;
}

static void fake_status(gpointer data, VsDaemonStatus *ret)
{
	/* Six ticks: one planning tick (cpu 400 µs) and five cheap ones. */
	static const VsTickCost cost = {
		.ticks = 6,
		.last_us = { 10, 300, 200, 40, 60, 5, 20, 15 },
		.total_us = { 60, 1800, 1200, 240, 360, 30, 500, 90 },
		.max_us = { 12, 320, 230, 45, 70, 9, 400, 16 },
	};

	*ret = (VsDaemonStatus){
		.version = "0.1.0",
		.uptime_us = 5230000,
		.ticks = 6,
		.last_tick_us = 812,
		.last_collect_us = 790,
		.cost = &cost,
		.tick_interval_us = 1000000,
		.libvirt_uri = "test:///default",
		.libvirt_connected = true,
		.config_path = "/etc/vsched/vschedd.conf",
	};
}

static void fake_tick(gpointer data)
{
	CtlFake *fake = data;

	fake->ticks_requested++;
}

static void fake_reload(gpointer data)
{
	CtlFake *fake = data;

	fake->reloads_requested++;
}

static const VsPolicySet *fake_policies_in_force(gpointer data)
{
	CtlFake *fake = data;

	return fake->policies;
}

static void fake_policy_status(gpointer data, const char **ret_dir, const char **ret_error)
{
	CtlFake *fake = data;

	*ret_dir = fake->policies->dir;
	*ret_error = fake->policy_error;
}

static VsOverrides *fake_overrides(gpointer data)
{
	CtlFake *fake = data;

	return fake->overrides;
}

static void fake_overrides_changed(gpointer data)
{
	CtlFake *fake = data;

	fake->overrides_changed++;
}

static const char *const *fake_reasons(gpointer data, const char *uuid)
{
	CtlFake *fake = data;

	return g_hash_table_lookup(fake->reasons, uuid);
}

VsCtlBackend ctl_fake_backend(CtlFake *fake)
{
	return (VsCtlBackend){
		.snapshot = fake_snapshot,
		.status = fake_status,
		.request_tick = fake_tick,
		.request_reload = fake_reload,
		.policies = fake_policies_in_force,
		.policy_status = fake_policy_status,
		.overrides = fake_overrides,
		.overrides_changed = fake_overrides_changed,
		.reasons = fake_reasons,
		.data = fake,
	};
}
