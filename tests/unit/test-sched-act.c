/* Unit tests for the CPU actuator (src/sched/act.c) carrying out real CPU
 * plans (src/sched/cpuplan.c) on a temporary tree: a guest's cgroup v2
 * files in libvirt's layout, /proc stat files giving its threads their
 * identities, and a fake ops table holding each thread's affinity. They
 * check that the cgroup values are written with their originals recorded
 * (and saved) first, that values in place are left alone, that a policy
 * no longer setting a value puts the original back and forgets it, that a
 * guest whose QEMU process is another one is not touched, and that a clean
 * stop restores cgroup values and affinities; that vsched changing its own
 * affinity again does not read it first (the read-back verifies) while a
 * change behind its back is still found; and that a reservation's
 * original is saved before sched_setattr, and forgotten again when the
 * kernel refuses. The kernel's side is tested in the lab
 * (tests/lab/lab-cpu.c). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/policy.h"
#include "sched/act.h"
#include "sched/cpuplan.h"
#include "unit/test-sched-topo.h"
#include "unit/test-temp-root.h"
#include "util/error.h"

#define UUID_DB "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
#define GUEST "/sys/fs/cgroup/machine/qemu-1-db.libvirt-qemu"
#define APPLIED "/run/vsched/applied.json"

/* The affinity of each thread (TID → VsCpuSet), as the fake kernel has it. */
static GHashTable *affinities;

/* When @watch_path is set, each affinity change looks at that file (the
 * Applied record) and counts the changes made while it was missing and
 * while it was another file than @watch_ino (a save renames a new file
 * over it). */
static const char *watch_path;
static ino_t watch_ino;
static guint watch_calls, watch_missing, watch_moved;

static void watch_applied(void)
{
	struct stat st;

	if (!watch_path)
		return;
	watch_calls++;
	if (stat(watch_path, &st) < 0)
		watch_missing++;
	else if (st.st_ino != watch_ino)
		watch_moved++;
}

static int fake_setaffinity(pid_t tid, const cpu_set_t *set, size_t setsize)
{
	VsCpuSet *cpus = vs_cpuset_new();

	watch_applied();

	for (guint c = 0; c < setsize * 8; c++)
		if (CPU_ISSET_S(c, setsize, set))
			vs_cpuset_add(cpus, c);
	g_hash_table_replace(affinities, GINT_TO_POINTER(tid), cpus);
	return 0;
}

/* How many sched_getaffinity calls the fake kernel saw. */
static guint n_getaffinity;

static int fake_getaffinity(pid_t tid, cpu_set_t *set, size_t setsize)
{
	const VsCpuSet *cpus = g_hash_table_lookup(affinities, GINT_TO_POINTER(tid));

	n_getaffinity++;
	if (!cpus)
		return -ESRCH;
	CPU_ZERO_S(setsize, set);
	for (int c = vs_cpuset_next(cpus, 0); c >= 0; c = vs_cpuset_next(cpus, (guint)c + 1))
		CPU_SET_S((size_t)c, setsize, set);
	return 0;
}

/* The scheduling attributes of each thread (TID → VsSchedAttr) when a
 * test gives the fake kernel deadline support (else ENOSYS); the Applied
 * file, which must hold a thread's reservation before it is made; what the
 * kernel answers a reservation (0 or -errno); and how many reservations
 * were made with the file not saying so. */
static GHashTable *attrs;
static const char *attrs_applied;
static int attrs_answer;
static guint unrecorded;

static int fake_setattr(pid_t tid, const VsSchedAttr *attr)
{
	if (!attrs)
		return -ENOSYS;
	if (attr->sched_policy == SCHED_DEADLINE && attr->sched_runtime != 1024) {
		g_autoptr(VsApplied) saved = vs_applied_load(attrs_applied, NULL, NULL);
		VsThread t = { .tid = tid, .start_time = (uint64_t)tid * 10 };

		if (!saved || !vs_applied_find(saved, VS_APPLIED_DEADLINE, &t))
			unrecorded++;
		if (attrs_answer < 0)
			return attrs_answer;
	}
	g_hash_table_replace(attrs, GINT_TO_POINTER(tid), g_memdup2(attr, sizeof(*attr)));
	return 0;
}

static int fake_getattr(pid_t tid, VsSchedAttr *attr)
{
	const VsSchedAttr *have;

	if (!attrs)
		return -ENOSYS;
	have = g_hash_table_lookup(attrs, GINT_TO_POINTER(tid));
	*attr = have ? *have : (VsSchedAttr){ .size = sizeof(*attr) };
	return 0;
}

static int fake_prctl(unsigned long cmd, pid_t pid, unsigned long type)
{
	return -EINVAL;
}

static const VsSysOps fake_ops = {
	.sched_setaffinity = fake_setaffinity,
	.sched_getaffinity = fake_getaffinity,
	.sched_setattr = fake_setattr,
	.sched_getattr = fake_getattr,
	.prctl_sched_core = fake_prctl,
};

/* A guest "db" (QEMU PID 1000, vCPU threads 1001-1002, I/O thread 1100) on
 * 8 CPUs of a pure cgroup v2 host, its files in a temporary root. */
typedef struct Fixture {
	VsSys *sys;
	VsTopology *topo;
	VsHost host;
	GPtrArray *domains;
	VsPolicySet *set;
	VsApplied *applied;
	VsAct *act;
	VsCpuSet *managed, *housekeeping;
	char *applied_path;
} Fixture;

/* A /proc/PID/task/TID/stat line with @start as field 22 and CPU 0. */
static char *stat_line(pid_t tid, const char *comm, uint64_t start)
{
	GString *s = g_string_new(NULL);

	g_string_printf(s, "%d (%s) S", (int)tid, comm);
	for (guint field = 4; field <= 52; field++)
		g_string_append_printf(s, " %" G_GUINT64_FORMAT, field == 22 ? start : 0);
	g_string_append_c(s, '\n');
	return g_string_free(s, FALSE);
}

static VsThread make_thread(pid_t pid, pid_t tid, const char *comm)
{
	return (VsThread){ .pid = pid, .tid = tid, .start_time = (uint64_t)tid * 10,
			   .comm = g_strdup(comm), .cpu = -1 };
}

static void add_thread(Fixture *f, const VsThread *t)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/stat", (int)t->pid, (int)t->tid);
	g_autofree char *line = stat_line(t->tid, t->comm, t->start_time);

	temp_write(f->sys, path, line);
	g_hash_table_replace(affinities, GINT_TO_POINTER(t->tid), vs_cpuset_parse("0-7", NULL));
}

static Fixture *fixture_new(void)
{
	Fixture *f = g_new0(Fixture, 1);
	VsDomain *dom = vs_domain_new("db", 2);
	VsThread emu = make_thread(1000, 1000, "qemu-system-x86");
	VsThread io = make_thread(1000, 1100, "IO iothread1");

	affinities = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)vs_cpuset_free);
	f->sys = temp_root(GUEST "/cpu.weight", "100\n",
			   GUEST "/cpu.max", "max 100000\n",
			   GUEST "/cpu.max.burst", "0\n",
			   GUEST "/cpuset.cpus", "\n",
			   GUEST "/cpuset.mems", "\n",
			   GUEST "/vcpu0/cpuset.cpus", "\n",
			   GUEST "/vcpu1/cpuset.cpus", "\n", NULL);
	f->sys->ops = &fake_ops;
	f->topo = sched_topo_new(SCHED_TOPO_1S_FLAT_8);
	f->host.topology = *f->topo;
	f->host.cgroup.mode = VS_CGROUP_V2;
	f->host.cgroup.v2_mount = g_strdup("/sys/fs/cgroup");
	f->host.cgroup.v2_controllers = g_strsplit("cpuset cpu io memory pids", " ", -1);
	f->host.cgroup.v1_controllers = g_new0(char *, 1);

	g_strlcpy(dom->uuid, UUID_DB, sizeof(dom->uuid));
	dom->id = 1;
	dom->pid = 1000;
	dom->state = 1;
	dom->cgroup_path = g_strdup("/machine/qemu-1-db.libvirt-qemu/emulator");
	for (guint i = 0; i < 2; i++) {
		VsVcpu *v = &g_array_index(dom->vcpus, VsVcpu, i);
		g_autofree char *comm = g_strdup_printf("CPU %u/TCG", i);

		v->online = true;
		v->thread = make_thread(1000, 1001 + (pid_t)i, comm);
		add_thread(f, &v->thread);
	}
	dom->vcpus_current = dom->vcpus_max = 2;
	add_thread(f, &emu);
	add_thread(f, &io);
	g_array_append_val(dom->emulator_threads, emu);
	g_array_append_val(dom->io_threads, io);
	f->domains = g_ptr_array_new_with_free_func((GDestroyNotify)vs_domain_free);
	g_ptr_array_add(f->domains, dom);

	f->set = g_new0(VsPolicySet, 1);
	f->set->files = g_ptr_array_new_with_free_func((GDestroyNotify)vs_policy_file_free);
	f->applied = vs_applied_new();
	f->applied_path = vs_sys_path(f->sys, APPLIED);
	f->act = vs_act_new(f->sys, f->applied, f->applied_path);
	vs_act_set_cgroup(f->act, &f->host.cgroup);
	f->managed = vs_cpuset_parse("0-7", NULL);
	f->housekeeping = vs_cpuset_parse("0", NULL);
	return f;
}

static void fixture_free(Fixture *f)
{
	vs_act_free(f->act);
	vs_applied_free(f->applied);
	g_free(f->applied_path);
	vs_policy_set_free(f->set);
	g_ptr_array_unref(f->domains);
	vs_cgroup_info_clear(&f->host.cgroup);
	sched_topo_free(f->topo);
	vs_cpuset_free(f->managed);
	vs_cpuset_free(f->housekeeping);
	temp_root_free(f->sys);
	g_clear_pointer(&affinities, g_hash_table_unref);
	g_clear_pointer(&attrs, g_hash_table_unref);
	g_free(f);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Fixture, fixture_free)

static void set_policy(Fixture *f, const char *text)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	VsPolicyFile *file;

	g_ptr_array_set_size(f->set->files, 0);
	if (!text)
		return;
	file = vs_policy_file_parse("/etc/vsched/policy.d/10-db.policy", text, diags);
	assert_non_null(file);
	g_ptr_array_add(f->set->files, file);
}

/* Plans and acts once; returns how many settings changed. */
static guint tick(Fixture *f, GPtrArray *events)
{
	g_autoptr(VsSnapshot) snap = vs_snapshot_new(1, 0, 0, &f->host,
						     g_ptr_array_ref(f->domains), true);
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCpuPlan) plan = NULL;
	VsCpuPlanInput in = {
		.snapshot = snap,
		.policies = f->set,
		.now_us = 1000,
		.managed = f->managed,
		.housekeeping = f->housekeeping,
		.overcommit_limit = 4,
		.applied = f->applied,
		.refused = vs_act_refused(f->act),
	};

	if (vs_cpu_plan(&in, &plan, &error) < 0)
		fail_msg("plan: %s", error->message);
	return vs_act_run(f->act, plan, events);
}

static void assert_file(const Fixture *f, const char *path, const char *want)
{
	g_autofree char *got = NULL;

	assert_int_equal(vs_sys_read_line(f->sys, path, &got), 0);
	if (strcmp(got, want) != 0)
		fail_msg("%s holds \"%s\", want \"%s\"", path, got, want);
}

static bool has_event(const GPtrArray *events, const char *needle)
{
	for (guint i = 0; i < events->len; i++)
		if (strstr(((const VsActEvent *)g_ptr_array_index(events, i))->message, needle))
			return true;
	return false;
}

static void assert_event(const GPtrArray *events, const char *needle)
{
	if (has_event(events, needle))
		return;
	for (guint i = 0; i < events->len; i++)
		print_message("  event: %s\n",
			      ((const VsActEvent *)g_ptr_array_index(events, i))->message);
	fail_msg("no event says \"%s\"", needle);
}

static void assert_affinity(pid_t tid, const char *want)
{
	g_autofree char *got = vs_cpuset_format(g_hash_table_lookup(affinities,
								    GINT_TO_POINTER(tid)));

	if (strcmp(got, want) != 0)
		fail_msg("TID %d runs on %s, want %s", (int)tid, got, want);
}

/* Set, left alone, restored when the policy stops setting it, restored
 * at a clean stop. */
static void test_set_and_restore(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GPtrArray) events = vs_act_events_new();
	g_autofree char *saved = NULL;
	g_autoptr(VsApplied) loaded = NULL;
	const VsAppliedEntry *e;

	set_policy(f, "[Match]\nName=db\n[CPU]\nWeight=300\nLimit=50%\n");
	assert_true(tick(f, events) > 0);
	assert_file(f, GUEST "/cpu.weight", "300");
	assert_file(f, GUEST "/cpu.max", "50000 100000");
	assert_file(f, GUEST "/cpu.max.burst", "0");         /* LimitBurst= unset */
	assert_file(f, GUEST "/cpuset.cpus", "0-7");          /* vCPUs 1-7, emulator 0 */
	assert_file(f, GUEST "/vcpu0/cpuset.cpus", "1-7");
	assert_file(f, GUEST "/vcpu1/cpuset.cpus", "1-7");
	assert_affinity(1001, "1-7");
	assert_affinity(1000, "0");
	assert_event(events, "set guest of db: " GUEST "/cpu.weight = \"300\" (was \"100\")");
	e = vs_applied_find_cgroup(f->applied, GUEST, "cpu.max");
	assert_non_null(e);
	assert_string_equal(e->orig_value, "max 100000");
	assert_string_equal(e->cur_value, "50000 100000");
	assert_string_equal(vs_applied_find_cgroup(f->applied, GUEST "/vcpu0",
						   "cpuset.cpus")->orig_value, "");
	/* Saved: a restarted daemon knows the originals. */
	loaded = vs_applied_load(f->applied_path, NULL, NULL);
	assert_non_null(loaded);
	assert_int_equal(loaded->entries->len, f->applied->entries->len);
	assert_string_equal(vs_applied_find_cgroup(loaded, GUEST, "cpu.weight")->orig_value, "100");

	/* In place: nothing to do. */
	g_ptr_array_set_size(events, 0);
	assert_int_equal(tick(f, events), 0);

	/* The policy file is deleted: weight and cap go back, the cpusets
	 * (still planned from the placement) stay. */
	set_policy(f, NULL);
	g_ptr_array_set_size(events, 0);
	assert_int_equal(tick(f, events), 2);
	assert_file(f, GUEST "/cpu.weight", "100");
	assert_file(f, GUEST "/cpu.max", "max 100000");
	assert_file(f, GUEST "/cpuset.cpus", "0-7");
	assert_event(events, "restored guest of db: " GUEST "/cpu.weight = \"100\" (was \"300\"): "
		     "cpu.weight of guest no longer set by its policy");
	assert_null(vs_applied_find_cgroup(f->applied, GUEST, "cpu.weight"));
	assert_null(vs_applied_find_cgroup(f->applied, GUEST, "cpu.max"));
	g_clear_pointer(&loaded, vs_applied_free);
	loaded = vs_applied_load(f->applied_path, NULL, NULL);
	assert_null(vs_applied_find_cgroup(loaded, GUEST, "cpu.max"));
	g_ptr_array_set_size(events, 0);
	assert_int_equal(tick(f, events), 0);

	/* Clean stop. */
	g_ptr_array_set_size(events, 0);
	assert_true(vs_act_restore_all(f->act, events) > 0);
	assert_file(f, GUEST "/cpuset.cpus", "");
	assert_file(f, GUEST "/vcpu0/cpuset.cpus", "");
	assert_affinity(1001, "0-7");
	assert_affinity(1000, "0-7");
	assert_int_equal(f->applied->entries->len, 0);
}

/* How many descriptors this process has open. */
static guint count_fds(void)
{
	g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
	guint n = 0;

	assert_non_null(dir);
	while (g_dir_read_name(dir))
		n++;
	return n;
}

/* The cgroup files are held open across ticks: a value changed behind
 * vsched's back (in place, as the kernel's files change) is read through
 * the held descriptor and set again; the descriptors of values the plan no
 * longer sets are closed. */
static void test_held_files(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GPtrArray) events = vs_act_events_new();
	guint held;

	set_policy(f, "[Match]\nName=db\n[CPU]\nWeight=300\nLimit=50%\n");
	assert_true(tick(f, events) > 0);
	held = count_fds();
	assert_int_equal(vs_sys_write(f->sys, GUEST "/cpu.weight", "200\n"), 0);
	g_ptr_array_set_size(events, 0);
	assert_int_equal(tick(f, events), 1);
	assert_file(f, GUEST "/cpu.weight", "300");
	assert_event(events, "set guest of db: " GUEST "/cpu.weight = \"300\" (was \"200\")");
	assert_int_equal(count_fds(), held);

	/* Restored, then no longer planned: cpu.weight and cpu.max closed. */
	set_policy(f, NULL);
	g_ptr_array_set_size(events, 0);
	assert_int_equal(tick(f, events), 2);
	assert_file(f, GUEST "/cpu.weight", "100");
	g_ptr_array_set_size(events, 0);
	assert_int_equal(tick(f, events), 0);
	assert_true(count_fds() <= held - 2);
}

/* Another QEMU process under the same PID (a restarted guest whose
 * cgroup got reused): nothing is written, and it is reported. */
static void test_other_instance(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GPtrArray) events = vs_act_events_new();
	g_autofree char *line = stat_line(1000, "qemu-system-x86", 999);

	temp_write(f->sys, "/proc/1000/task/1000/stat", line);
	set_policy(f, "[Match]\nName=db\n[CPU]\nWeight=300\n");
	tick(f, events);
	assert_file(f, GUEST "/cpu.weight", "100");
	assert_null(vs_applied_find_cgroup(f->applied, GUEST, "cpu.weight"));
	assert_event(events, "not set: guest of db: " GUEST "/cpu.weight = \"300\": the thread is gone");
}

/* A cgroup file the kernel refuses (here: the cgroup is gone) is reported
 * once and not tried again while the plan asks for it. */
static void test_failure_reported_once(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GPtrArray) events = vs_act_events_new();
	g_autofree char *dir = vs_sys_path(f->sys, GUEST "/vcpu1");
	g_autofree char *file = g_build_filename(dir, "cpuset.cpus", NULL);

	assert_int_equal(remove(file), 0);
	assert_int_equal(remove(dir), 0);
	tick(f, events);
	assert_event(events, "vcpu1/cpuset.cpus");
	assert_file(f, GUEST "/vcpu0/cpuset.cpus", "1-7");
	g_ptr_array_set_size(events, 0);
	tick(f, events);
	assert_false(has_event(events, "vcpu1/cpuset.cpus"));
}

/* vsched changing an affinity it set before (here: the housekeeping CPUs
 * grow) sets it without reading it first: one sched_getaffinity per
 * thread, the read-back, and the original stays the one found before the
 * first change. An affinity changed behind vsched's back is still read,
 * found and set again. */
static void test_retouch(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GPtrArray) events = vs_act_events_new();
	const VsThread vcpu0 = make_thread(1000, 1001, "CPU 0/TCG");

	assert_true(tick(f, events) > 0);
	assert_affinity(1001, "1-7");
	assert_affinity(1000, "0");

	vs_cpuset_free(f->housekeeping);
	f->housekeeping = vs_cpuset_parse("0-1", NULL);
	n_getaffinity = 0;
	g_ptr_array_set_size(events, 0);
	assert_int_equal(tick(f, events), 6); /* and the vcpuN cpusets */
	assert_int_equal(n_getaffinity, 4); /* four threads, read back once each */
	assert_affinity(1001, "2-7");
	assert_affinity(1000, "0-1");
	assert_event(events, "set vcpu0 (TID 1001) of db: affinity CPUs 2-7 (was 1-7)");
	assert_event(events, "vcpu0/cpuset.cpus = \"2-7\" (was \"1-7\")");
	assert_file(f, GUEST "/vcpu0/cpuset.cpus", "2-7");
	{
		const VsAppliedEntry *e = vs_applied_find(f->applied, VS_APPLIED_AFFINITY, &vcpu0);
		g_autofree char *orig = NULL;

		assert_non_null(e);
		orig = vs_cpuset_format(e->orig_cpus);
		assert_string_equal(orig, "0-7");
	}
	g_free((char *)vcpu0.comm);

	/* Behind vsched's back: found by the read of a value in place. */
	g_hash_table_replace(affinities, GINT_TO_POINTER(1001), vs_cpuset_parse("5", NULL));
	g_ptr_array_set_size(events, 0);
	assert_int_equal(tick(f, events), 1);
	assert_affinity(1001, "2-7");
	assert_event(events, "set vcpu0 (TID 1001) of db: affinity CPUs 2-7 (was 5)");
	g_ptr_array_set_size(events, 0);
	assert_int_equal(tick(f, events), 0);
}

/* The inode of @path (asserted to exist). */
static ino_t inode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

/* How often a run saves the Applied record: before its first change only
 * when it recorded a new original (first touch), so the file holds every
 * original before anything changes; once at its end when it changed only
 * what it had recorded already (re-touch), the changes made with the file
 * of the run before; not at all when nothing changed. */
static void test_saves_per_run(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GPtrArray) events = vs_act_events_new();
	g_autoptr(VsApplied) saved = NULL;
	const VsThread vcpu0 = make_thread(1000, 1001, "CPU 0/TCG");
	const VsAppliedEntry *e;
	g_autofree char *cur = NULL;
	ino_t before;

	/* First touch: saved before the first change. */
	watch_path = f->applied_path;
	watch_ino = 0;
	watch_calls = watch_missing = 0;
	assert_true(tick(f, events) > 0);
	assert_true(watch_calls > 0);
	assert_int_equal(watch_missing, 0);
	before = inode_of(f->applied_path);

	/* Re-touch: no save before or between the changes, one after. */
	vs_cpuset_free(f->housekeeping);
	f->housekeeping = vs_cpuset_parse("0-1", NULL);
	watch_ino = before;
	watch_calls = watch_missing = watch_moved = 0;
	g_ptr_array_set_size(events, 0);
	assert_int_equal(tick(f, events), 6);
	assert_int_equal(watch_calls, 4);
	assert_int_equal(watch_missing, 0);
	assert_int_equal(watch_moved, 0);
	assert_true(inode_of(f->applied_path) != before);
	saved = vs_applied_load(f->applied_path, NULL, NULL);
	e = vs_applied_find(saved, VS_APPLIED_AFFINITY, &vcpu0);
	assert_non_null(e);
	cur = vs_cpuset_format(e->cur_cpus);
	assert_string_equal(cur, "2-7");

	/* Nothing to change: no save. */
	before = inode_of(f->applied_path);
	g_ptr_array_set_size(events, 0);
	assert_int_equal(tick(f, events), 0);
	assert_true(inode_of(f->applied_path) == before);
	watch_path = NULL;
	g_free((char *)vcpu0.comm);
}

/* A reservation's original is in the Applied file before sched_setattr
 * makes it (all of a run's originals saved once, first); a reservation
 * the kernel refuses is reported, handed back to the planner, and its
 * entry goes again, from the file too; an earlier reservation of vsched's
 * that the kernel keeps when it refuses a new one keeps its entry. */
static void test_deadline_write_ahead(void **state)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GPtrArray) events = vs_act_events_new();
	g_autoptr(VsApplied) saved = NULL;
	VsThread vcpu1 = make_thread(1000, 1002, "CPU 1/TCG");
	const VsSchedAttr *got;

	attrs = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	attrs_applied = f->applied_path;
	attrs_answer = 0;
	unrecorded = 0;
	f->host.caps.deadline.ok = true;
	f->host.caps.rt_runtime_us = 950000;
	f->host.caps.rt_period_us = 1000000;
	set_policy(f, "[Match]\nName=db\n[CPU]\nReservation=1ms/10ms\n");
	assert_true(tick(f, events) > 0);
	got = g_hash_table_lookup(attrs, GINT_TO_POINTER(1002));
	assert_non_null(got);
	assert_int_equal(got->sched_policy, SCHED_DEADLINE);
	assert_int_equal(got->sched_runtime, 1000000);
	assert_int_equal(unrecorded, 0);
	saved = vs_applied_load(f->applied_path, NULL, NULL);
	assert_non_null(vs_applied_find(saved, VS_APPLIED_DEADLINE, &vcpu1));

	/* A larger one refused: the kernel keeps the old one, and so does
	 * the record. */
	attrs_answer = -EBUSY;
	set_policy(f, "[Match]\nName=db\n[CPU]\nReservation=2ms/10ms\n");
	g_ptr_array_set_size(events, 0);
	tick(f, events);
	assert_event(events, "not enough deadline bandwidth");
	assert_true(vs_act_needs_replan(f->act));
	assert_int_equal(vs_applied_find(f->applied, VS_APPLIED_DEADLINE, &vcpu1)->runtime_us, 1000);

	/* Ended at a clean stop; then refused on a fresh record: no entry. */
	g_ptr_array_set_size(events, 0);
	assert_true(vs_act_restore_all(f->act, events) > 0);
	assert_int_equal(((VsSchedAttr *)g_hash_table_lookup(attrs, GINT_TO_POINTER(1002)))
				 ->sched_policy, SCHED_OTHER);
	set_policy(f, "[Match]\nName=db\n[CPU]\nReservation=3ms/10ms\n");
	g_ptr_array_set_size(events, 0);
	tick(f, events);
	assert_event(events, "not enough deadline bandwidth");
	assert_null(vs_applied_find(f->applied, VS_APPLIED_DEADLINE, &vcpu1));
	g_clear_pointer(&saved, vs_applied_free);
	saved = vs_applied_load(f->applied_path, NULL, NULL);
	assert_null(vs_applied_find(saved, VS_APPLIED_DEADLINE, &vcpu1));
	g_free(vcpu1.comm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retouch),
		cmocka_unit_test(test_deadline_write_ahead),
		cmocka_unit_test(test_saves_per_run),
		cmocka_unit_test(test_set_and_restore),
		cmocka_unit_test(test_held_files),
		cmocka_unit_test(test_other_instance),
		cmocka_unit_test(test_failure_reported_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
