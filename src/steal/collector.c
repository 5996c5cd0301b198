/* The steal collector; see collector.h. */
#include "config.h"

#include "steal/collector.h"

#include "host/cpustat.h"
#include "host/thread-counters.h"
#include "steal/condition.h"
#include "steal/guest.h"
#include "virt/threads.h"

#include <errno.h>
#include <string.h>

#define TCG_SUFFIX "/TCG"

typedef struct Vcpu {
	guint index;
	VsStealVcpu *acct;
	pid_t pid, tid;               /* of the last reading */
	uint64_t start_time;
	int64_t last_seen_us;         /* last tick with a reading */
	/* The cgroups, as last read. */
	char *cgroup;                 /* the thread's cpu cgroup directory */
	GPtrArray *guest_dirs;        /* directories above it up to the guest's */
	uint64_t cgroup_gen;
	uint64_t readings;            /* readings of its counters so far */
	uint64_t cgroup_reading;      /* reading of the last cgroup read; 0: never */
	uint64_t cgroup_due;          /* reading of the next one */
	bool cgroup_v1;               /* under the v1 cpu mount (else v2) */
	/* Whether the cgroup had no CPU limit of its own at the last read
	 * (cpu.max "max", cpu.cfs_quota_us -1): its throttled time cannot
	 * grow, so its cpu.stat is read only at the cgroup reads. */
	bool unlimited;
	bool has_own;                 /* own_throttled_ns holds a reading */
	uint64_t own_throttled_ns;
	/* For the report. */
	char *problem;
	char *throttle_problem;
	uint64_t reserved_runtime_ns, reserved_period_ns;
	bool has_paths;
	int64_t paths_mono_us;
	uint64_t paths[2][2];         /* [VsCountersSource][run, delay] */
} Vcpu;

typedef struct Guest {
	char uuid[37];
	char *name;
	char *class_name;
	GHashTable *vcpus;            /* index -> Vcpu */
	VsStealSeries *series;        /* guest intervals: its vCPUs' per tick */
	bool tcg;
	bool alert;
	char *alert_condition;
	/* [Steal] Alert= (a copy) and GuestTolerance= as last looked up. */
	VsPolicyValue *policy_alert;
	double policy_tolerance_pct;
	/* The policy cache's stamp then (vs_policy_cache_stamp(), never 0);
	 * 0: not looked up since made or renamed. */
	uint64_t policy_stamp;
	/* Sampling (see collector.h): read every tick while a consumer needs
	 * it, else when (ticks + sample_spread) % sample_ticks is 0. From the
	 * policy as last looked up: */
	bool relaxed;                 /* CPU CoSchedule=relaxed */
	int64_t shortest_us;          /* its shortest condition; -1: none */
	bool busy;                    /* the last interval's steal was high */
	guint sample_spread;
	int64_t read_us;              /* last tick its vCPUs were read */
	uint64_t seen_tick;           /* last tick its domain was in the snapshot */
	VsStealPoint tick_sum;        /* its vCPUs' intervals of this tick */
	uint64_t tick_sum_tick;       /* the tick tick_sum is of; 0: none */
	/* The guest agent's view. */
	VsStealGuestSample *agent_last;
	VsStealGuestSeries *agent_series;
	int64_t agent_next_us;        /* when to ask next (monotonic); 0: now */
	guint agent_failures;         /* in a row */
	bool agent_asked;             /* a request is out */
	guint agent_replies, agent_rejected;
	char *agent_problem;
	VsStealGuestVerdict verdict;  /* over 1 min, at the last alerts() */
	double tolerance_pct;
	bool mismatch;                /* a mismatch episode is on (logged) */
} Guest;

struct VsStealCollector {
	const VsSys *sys;
	const VsHost *host;
	VsThreadCounters *counters;   /* the path read every tick */
	VsThreadCounters *check;      /* the other path, or NULL */
	VsCpustat *cpustat;
	GHashTable *guests;           /* uuid -> Guest */
	GHashTable *entitlements;     /* uuid -> GArray of double by vCPU index, -1: none */
	/* Built when asked (vs_steal_collector_report()), not at every tick:
	 * its guests are emptied by whatever changes what it shows (a tick, an
	 * agent reply, entitlements, alerts). */
	VsStealReport *report;
	bool report_built;
	uint64_t ticks;
	uint64_t next_gen;
	guint sample_ticks;           /* 1: every guest every tick */
	int64_t last_mono_us;         /* of the previous tick; 0: none */
	int64_t tick_us;              /* mean time between ticks; 0: unknown */
	bool has_host_stat;
	uint64_t host_busy, host_total;
	/* The guest cgroups' throttled time last summed this tick
	 * (read_throttled()): the vCPUs of a guest come one after the other
	 * and share those directories. */
	const GPtrArray *guest_dirs_memo;  /* a vCPU's, valid for this tick */
	uint64_t guest_memo_tick, guest_memo_ns;
	int guest_memo_r;
};

/* One vCPU to read this tick. */
typedef struct Work {
	Guest *guest;
	Vcpu *vcpu;
	const VsVcpu *vv;
} Work;

static void vcpu_free(gpointer data)
{
	Vcpu *v = data;

	vs_steal_vcpu_free(v->acct);
	g_free(v->cgroup);
	if (v->guest_dirs)
		g_ptr_array_unref(v->guest_dirs);
	g_free(v->problem);
	g_free(v->throttle_problem);
	g_free(v);
}

static void guest_free(gpointer data)
{
	Guest *g = data;

	g_free(g->name);
	g_free(g->class_name);
	g_hash_table_unref(g->vcpus);
	vs_steal_series_free(g->series);
	g_free(g->alert_condition);
	vs_policy_value_free(g->policy_alert);
	vs_steal_guest_sample_free(g->agent_last);
	vs_steal_guest_series_free(g->agent_series);
	g_free(g->agent_problem);
	g_free(g);
}

VsStealCollector *vs_steal_collector_new(const VsSys *sys, const VsHost *host)
{
	VsStealCollector *c = g_new0(VsStealCollector, 1);
	bool taskstats = host->caps.taskstats.ok;

	c->sys = sys;
	c->host = host;
	c->counters = vs_thread_counters_new(sys, taskstats ? VS_COUNTERS_TASKSTATS
							    : VS_COUNTERS_SCHEDSTAT);
	if (vs_thread_counters_source(c->counters) == VS_COUNTERS_TASKSTATS)
		c->check = vs_thread_counters_new(sys, VS_COUNTERS_SCHEDSTAT);
	c->cpustat = vs_cpustat_new(sys);
	c->guests = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, guest_free);
	c->entitlements = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						(GDestroyNotify)g_array_unref);
	c->report = vs_steal_report_new();
	c->next_gen = 1;
	c->sample_ticks = 1;
	return c;
}

void vs_steal_collector_free(VsStealCollector *c)
{
	if (!c)
		return;
	vs_thread_counters_free(c->counters);
	vs_thread_counters_free(c->check);
	vs_cpustat_free(c->cpustat);
	g_hash_table_unref(c->guests);
	g_hash_table_unref(c->entitlements);
	vs_steal_report_free(c->report);
	g_free(c);
}

void vs_steal_collector_set_sampling(VsStealCollector *c, guint ticks)
{
	c->sample_ticks = MAX(ticks, 1);
	/* Held descriptors stay open between a guest's readings. */
	vs_thread_counters_set_keep(c->counters, c->sample_ticks);
	if (c->check)
		vs_thread_counters_set_keep(c->check, c->sample_ticks);
	vs_cpustat_set_keep(c->cpustat, c->sample_ticks);
}

static void rebuild_report(VsStealCollector *c);

/* Forgets the report's guests (they borrow the vCPUs' strings): the next
 * vs_steal_collector_report() builds them again. */
static void report_drop(VsStealCollector *c)
{
	if (!c->report_built)
		return;
	g_ptr_array_set_size(c->report->guests, 0);
	c->report_built = false;
}

const VsStealReport *vs_steal_collector_report(VsStealCollector *c)
{
	if (!c->report_built) {
		rebuild_report(c);
		c->report_built = true;
	}
	return c->report;
}

const VsStealSeries *vs_steal_collector_vcpu_series(const VsStealCollector *c, const char *uuid,
						    guint index)
{
	const Guest *g = g_hash_table_lookup(c->guests, uuid);
	const Vcpu *v = g ? g_hash_table_lookup(g->vcpus, GUINT_TO_POINTER(index)) : NULL;

	return v ? v->acct->series : NULL;
}

const VsStealSeries *vs_steal_collector_series(const VsStealCollector *c, const char *uuid)
{
	const Guest *g = g_hash_table_lookup(c->guests, uuid);

	return g ? g->series : NULL;
}

void vs_steal_collector_set_entitlement(VsStealCollector *c, const char *uuid, guint index,
					double cpus)
{
	GArray *cpus_of = g_hash_table_lookup(c->entitlements, uuid);
	double none = -1.0;

	report_drop(c);
	if (cpus < 0) {
		if (cpus_of && index < cpus_of->len)
			g_array_index(cpus_of, double, index) = none;
		return;
	}
	if (!cpus_of) {
		cpus_of = g_array_new(FALSE, FALSE, sizeof(double));
		g_hash_table_insert(c->entitlements, g_strdup(uuid), cpus_of);
	}
	while (cpus_of->len <= index)
		g_array_append_val(cpus_of, none);
	g_array_index(cpus_of, double, index) = cpus;
}

void vs_steal_collector_clear_entitlements(VsStealCollector *c)
{
	report_drop(c);
	g_hash_table_remove_all(c->entitlements);
}

static double entitlement_in(const GArray *cpus_of, guint index)
{
	return cpus_of && index < cpus_of->len ? g_array_index(cpus_of, double, index) : -1.0;
}

static double entitlement_of(const VsStealCollector *c, const char *uuid, guint index)
{
	return entitlement_in(g_hash_table_lookup(c->entitlements, uuid), index);
}

static Guest *guest_get(VsStealCollector *c, const VsDomain *dom)
{
	Guest *g = g_hash_table_lookup(c->guests, dom->uuid);

	if (!g) {
		g = g_new0(Guest, 1);
		g_strlcpy(g->uuid, dom->uuid, sizeof(g->uuid));
		g->vcpus = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, vcpu_free);
		/* Conditions and the agent's cross-check walk the guest's
		 * per-tick intervals: kept as long as they reach back, which
		 * alerts() sets from the guest's policy. */
		g->series = vs_steal_series_new();
		g->agent_series = vs_steal_guest_series_new();
		g->tolerance_pct = -1;
		g->sample_spread = g_str_hash(g->uuid) >> 8;
		g_hash_table_insert(c->guests, g->uuid, g);
	}
	if (g_strcmp0(g->name, dom->name) != 0) {
		g_free(g->name);
		g->name = g_strdup(dom->name);
		g->policy_stamp = 0;
	}
	if (g_strcmp0(g->class_name, dom->vsched_class) != 0) {
		g_free(g->class_name);
		g->class_name = g_strdup(dom->vsched_class);
		g->policy_stamp = 0;
	}
	return g;
}

static Vcpu *vcpu_get(Guest *g, guint index)
{
	Vcpu *v = g_hash_table_lookup(g->vcpus, GUINT_TO_POINTER(index));

	if (!v) {
		v = g_new0(Vcpu, 1);
		v->index = index;
		v->acct = vs_steal_vcpu_new();
		g_hash_table_insert(g->vcpus, GUINT_TO_POINTER(index), v);
	}
	return v;
}

static void set_problem(char **slot, char *text)
{
	g_free(*slot);
	*slot = text;
}

/* Whether @name is a thread group libvirt makes per thread ("vcpu3",
 * "emulator", "iothread1"). */
static bool is_thread_group(const char *name)
{
	if (strcmp(name, "emulator") == 0)
		return true;
	for (const char *prefix = "vcpu"; prefix; prefix = prefix[0] == 'v' ? "iothread" : NULL) {
		size_t n = strlen(prefix);

		if (strncmp(name, prefix, n) == 0 && name[n] && strspn(name + n, "0123456789") ==
								      strlen(name + n))
			return true;
	}
	return false;
}

/* The directories above the thread's cgroup @dir whose throttling holds the
 * thread back and that belong to the guest: the guest's own directory
 * (the parent of a libvirt "vcpuN" group) and, in a systemd layout, the
 * scope above libvirt's "libvirt" nest. Empty when @dir is not a per-thread
 * group (the thread sits in the guest's cgroup itself). */
static GPtrArray *guest_dirs_of(const char *dir)
{
	GPtrArray *dirs = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *base = g_path_get_basename(dir);
	g_autofree char *parent = NULL;

	if (!is_thread_group(base))
		return dirs;
	parent = g_path_get_dirname(dir);
	g_ptr_array_add(dirs, g_strdup(parent));
	g_free(base);
	base = g_path_get_basename(parent);
	if (strcmp(base, "libvirt") == 0)
		g_ptr_array_add(dirs, g_path_get_dirname(parent));
	return dirs;
}

/* Reads the cpu cgroup of @w's thread from /proc/PID/task/TID/cgroup
 * (through the sys layer) into the vCPU state, and whether that cgroup has
 * a CPU limit of its own; a change of directories starts a new throttle
 * generation. The next read is due VS_STEAL_CGROUP_REFRESH_TICKS readings
 * later (the first ones spread over that many readings by TID). */
static void refresh_cgroup(VsStealCollector *c, Vcpu *v)
{
	const VsCgroupInfo *cg = &c->host->cgroup;
	g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/cgroup", (int)v->pid, (int)v->tid);
	g_autofree char *text = NULL, *rel = NULL, *cpuset = NULL, *dir = NULL;
	const char *mount;
	int r;

	v->cgroup_due = v->readings + (v->cgroup_reading
					       ? VS_STEAL_CGROUP_REFRESH_TICKS
					       : 1 + (guint)v->tid % VS_STEAL_CGROUP_REFRESH_TICKS);
	v->cgroup_reading = v->readings;
	v->unlimited = false;
	v->has_own = false;
	r = vs_sys_read(c->sys, path, &text);
	if (r < 0) {
		set_problem(&v->throttle_problem, g_strdup_printf("%s: %s", path, g_strerror(-r)));
		return;
	}
	if (vs_threads_parse_cgroup(text, &rel, &cpuset) < 0) {
		set_problem(&v->throttle_problem,
			    g_strdup_printf("%s names no cpu or v2 cgroup", path));
		return;
	}
	mount = vs_cgroup_has_controller(cg->v1_controllers, "cpu") ? cg->v1_cpu_mount
								     : cg->v2_mount;
	if (!mount) {
		set_problem(&v->throttle_problem,
			    g_strdup("no mount of the cgroup hierarchy with the cpu controller"));
		return;
	}
	dir = g_build_filename(mount, rel, NULL);
	if (g_strcmp0(dir, v->cgroup) != 0) {
		g_free(v->cgroup);
		v->cgroup = g_steal_pointer(&dir);
		if (v->guest_dirs)
			g_ptr_array_unref(v->guest_dirs);
		v->guest_dirs = guest_dirs_of(v->cgroup);
		v->cgroup_gen = c->next_gen++;
	}
	v->cgroup_v1 = mount == cg->v1_cpu_mount;
	/* A thread in its guest's own cgroup: that one's cpu.stat is read
	 * once per tick anyway. Unreadable: read cpu.stat every tick. */
	if (v->guest_dirs->len == 0 ||
	    vs_cpustat_read_unlimited(c->sys, v->cgroup, v->cgroup_v1, &v->unlimited) < 0)
		v->unlimited = false;
}

static bool same_dirs(const GPtrArray *a, const GPtrArray *b)
{
	if (a == b)
		return true;
	if (a->len != b->len)
		return false;
	for (guint i = 0; i < a->len; i++)
		if (strcmp(g_ptr_array_index(a, i), g_ptr_array_index(b, i)) != 0)
			return false;
	return true;
}

/* The throttled time of @v's own cgroup and of the guest's above it into
 * @s; has_throttled stays false (and the problem is noted) when any of
 * them cannot be read. */
static void read_throttled(VsStealCollector *c, Vcpu *v, VsStealSample *s)
{
	uint64_t own = 0, guest = 0;
	int r;

	if (!v->cgroup)
		return;
	if (v->unlimited && v->has_own) {
		own = v->own_throttled_ns;
		r = 0;
	} else {
		r = vs_cpustat_throttled_once(c->cpustat, v->cgroup, &own);
		v->has_own = r == 0;
		v->own_throttled_ns = own;
	}
	if (r == 0 && c->guest_memo_tick == c->ticks && same_dirs(c->guest_dirs_memo, v->guest_dirs)) {
		r = c->guest_memo_r;
		guest = c->guest_memo_ns;
	} else if (r == 0) {
		for (guint i = 0; r == 0 && i < v->guest_dirs->len; i++) {
			uint64_t t = 0;

			r = vs_cpustat_throttled_once(c->cpustat, g_ptr_array_index(v->guest_dirs, i),
						      &t);
			guest += t;
		}
		c->guest_dirs_memo = v->guest_dirs;
		c->guest_memo_tick = c->ticks;
		c->guest_memo_r = r;
		c->guest_memo_ns = guest;
	}
	if (r < 0) {
		set_problem(&v->throttle_problem,
			    g_strdup_printf("no throttled time in cpu.stat under %s: %s", v->cgroup,
					    r == -ENODATA ? "the cpu controller is not enabled there"
							  : g_strerror(-r)));
		return;
	}
	g_clear_pointer(&v->throttle_problem, g_free);
	s->has_throttled = true;
	s->throttle_gen = v->cgroup_gen;
	s->vcpu_throttled_ns = own;
	s->guest_throttled_ns = guest;
}

/* The thread's SCHED_DEADLINE reservation, through the sys layer's ops
 * (not on a fixture root with the real ops: its TIDs are not this
 * kernel's). */
static void read_reservation(VsStealCollector *c, Vcpu *v)
{
	VsSchedAttr attr = { .size = sizeof(attr) };

	v->reserved_runtime_ns = v->reserved_period_ns = 0;
	if (!vs_sys_is_real(c->sys) && c->sys->ops == &vs_sys_real_ops)
		return;
	if (c->sys->ops->sched_getattr(v->tid, &attr) < 0 || attr.sched_policy != SCHED_DEADLINE)
		return;
	v->reserved_runtime_ns = attr.sched_runtime;
	v->reserved_period_ns = attr.sched_period ? attr.sched_period : attr.sched_deadline;
}

/* Whether @g's vCPUs are read at this tick of the snapshot at @mono_us
 * (see sampling in collector.h): policy_stamp 0 is a policy not looked up
 * yet. */
static bool guest_due(const VsStealCollector *c, const Guest *g, int64_t mono_us)
{
	/* A condition shorter than VS_STEAL_SAMPLE_MIN_POINTS intervals
	 * (of sample_ticks mean ticks); any condition while the tick's length
	 * is not known. */
	bool short_condition =
		g->shortest_us >= 0 &&
		(c->tick_us == 0 ||
		 g->shortest_us < VS_STEAL_SAMPLE_MIN_POINTS * (int64_t)c->sample_ticks * c->tick_us);

	if (c->sample_ticks <= 1 || g->policy_stamp == 0 || g->relaxed || short_condition ||
	    g->busy || g->alert || g->mismatch || mono_us - g->read_us >= VS_STEAL_MAX_GAP_US / 2)
		return true;
	return (c->ticks + g->sample_spread) % c->sample_ticks == 0;
}

/* The vCPUs to read this tick: the online vCPUs with a thread of the
 * running guests of @snap that are due, and those without a baseline.
 * Marks the guests seen with this tick. */
static GArray *gather(VsStealCollector *c, const VsSnapshot *snap)
{
	GArray *work = g_array_new(FALSE, FALSE, sizeof(Work));

	for (guint i = 0; snap->domains && i < snap->domains->len; i++) {
		const VsDomain *dom = g_ptr_array_index(snap->domains, i);
		Guest *g;
		bool due;

		if (dom->pid <= 0 || !dom->vcpus)
			continue;
		g = guest_get(c, dom);
		g->seen_tick = c->ticks;
		g->tcg = false;
		due = guest_due(c, g, snap->mono_us);
		if (due)
			g->read_us = snap->mono_us;
		for (guint k = 0; k < dom->vcpus->len; k++) {
			const VsVcpu *vv = &g_array_index(dom->vcpus, VsVcpu, k);
			Vcpu *v;
			Work w;

			if (!vv->online || vv->thread.tid <= 0) {
				v = g_hash_table_lookup(g->vcpus, GUINT_TO_POINTER(vv->index));
				if (v)
					set_problem(&v->problem, g_strdup(vv->online ? "no thread found"
										     : "offline"));
				continue;
			}
			if (vv->thread.comm && g_str_has_suffix(vv->thread.comm, TCG_SUFFIX))
				g->tcg = true;
			v = vcpu_get(g, vv->index);
			if (!due && v->acct->has_last && !v->problem)
				continue;
			w = (Work){ .guest = g, .vcpu = v, .vv = vv };
			g_array_append_val(work, w);
		}
	}
	return work;
}

/* Reads the other path for the same threads and keeps both readings. */
static void cross_read(VsStealCollector *c, GArray *work, const VsThreadCount *items)
{
	g_autofree VsThreadCount *again = g_memdup2(items, sizeof(*items) * work->len);
	VsCountersSource first = vs_thread_counters_source(c->counters);
	VsCountersSource second = vs_thread_counters_source(c->check);

	if (first == second)
		return;
	vs_thread_counters_read(c->check, again, work->len);
	for (guint i = 0; i < work->len; i++) {
		Vcpu *v = g_array_index(work, Work, i).vcpu;

		if (items[i].error < 0 || again[i].error < 0)
			continue;
		v->has_paths = true;
		v->paths_mono_us = c->report->mono_us;
		v->paths[first][0] = items[i].run_ns;
		v->paths[first][1] = items[i].delay_ns;
		v->paths[second][0] = again[i].run_ns;
		v->paths[second][1] = again[i].delay_ns;
	}
}

static void read_host_cpu(VsStealCollector *c)
{
	uint64_t busy, total;

	c->report->has_host_cpu = false;
	if (vs_cpustat_read_host(c->sys, &busy, &total) < 0) {
		c->has_host_stat = false;
		return;
	}
	if (c->has_host_stat && total > c->host_total && busy >= c->host_busy) {
		c->report->has_host_cpu = true;
		c->report->host_busy_pct =
			100.0 * (double)(busy - c->host_busy) / (double)(total - c->host_total);
	}
	c->has_host_stat = true;
	c->host_busy = busy;
	c->host_total = total;
}

static gint compare_vcpu_reports(gconstpointer a, gconstpointer b)
{
	const VsStealVcpuReport *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static gint compare_guest_reports(gconstpointer a, gconstpointer b)
{
	const VsStealGuestReport *x = *(VsStealGuestReport *const *)a;
	const VsStealGuestReport *y = *(VsStealGuestReport *const *)b;

	return g_strcmp0(x->name, y->name);
}

static char *guest_view(const Guest *g, int64_t now_us);

/* The guest agent's part of @gr, from @g. */
static void fill_agent(VsStealGuestReport *gr, const Guest *g, int64_t now_us)
{
	g_free(gr->guest_view);
	gr->guest_view = guest_view(g, now_us);
	gr->guest_verdict = vs_steal_guest_verdict_name(g->verdict);
	gr->guest_tolerance_pct = g->tolerance_pct;
	gr->agent_replies = g->agent_replies;
	gr->agent_rejected = g->agent_rejected;
	g_free(gr->agent_problem);
	gr->agent_problem = g_strdup(g->agent_problem);
	if (gr->guest_cpus)
		g_array_unref(gr->guest_cpus);
	gr->guest_cpus = g->agent_last ? g_array_copy(g->agent_last->cpus) : NULL;
	for (guint w = 0; w < VS_STEAL_N_WINDOWS; w++)
		gr->guest_windows[w] = vs_steal_guest_series_window(g->agent_series, w);
}

static VsStealGuestReport *guest_report(const VsStealCollector *c, const Guest *g)
{
	VsStealGuestReport *gr = vs_steal_guest_report_new(g->uuid, g->name);
	GHashTableIter iter;
	gpointer value;

	for (guint w = 0; w < VS_STEAL_N_WINDOWS; w++)
		gr->windows[w] = vs_steal_series_window(g->series, w);
	fill_agent(gr, g, c->report->mono_us);
	gr->alert = g->alert;
	gr->alert_condition = g_strdup(g->alert_condition);
	g_hash_table_iter_init(&iter, g->vcpus);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		const Vcpu *v = value;
		VsStealVcpuReport vr = {
			.index = v->index,
			.tid = v->problem ? 0 : v->tid,
			.last_result = vs_steal_result_name(v->acct->last_result),
			.resets = v->acct->resets,
			.clamps = v->acct->clamps,
			.total = v->acct->total,
			.problem = v->problem,
			.cgroup = v->cgroup,
			.guest_cgroup = v->guest_dirs && v->guest_dirs->len
						? g_ptr_array_index(v->guest_dirs, 0)
						: NULL,
			.throttle_problem = v->throttle_problem,
			.reserved_runtime_ns = v->reserved_runtime_ns,
			.reserved_period_ns = v->reserved_period_ns,
			.entitlement = entitlement_of(c, g->uuid, v->index),
			.has_paths = v->has_paths,
			.paths_mono_us = v->paths_mono_us,
			.taskstats_run_ns = v->paths[VS_COUNTERS_TASKSTATS][0],
			.taskstats_delay_ns = v->paths[VS_COUNTERS_TASKSTATS][1],
			.schedstat_run_ns = v->paths[VS_COUNTERS_SCHEDSTAT][0],
			.schedstat_delay_ns = v->paths[VS_COUNTERS_SCHEDSTAT][1],
		};

		for (guint w = 0; w < VS_STEAL_N_WINDOWS; w++)
			vr.windows[w] = vs_steal_series_window(v->acct->series, w);
		g_array_append_val(gr->vcpus, vr);
	}
	g_array_sort(gr->vcpus, compare_vcpu_reports);
	return gr;
}

static void rebuild_report(VsStealCollector *c)
{
	const char *why = vs_thread_counters_why(c->counters);
	GHashTableIter iter;
	gpointer value;

	c->report->source = vs_counters_source_name(vs_thread_counters_source(c->counters));
	g_free(c->report->source_why);
	c->report->source_why = g_strdup(why);
	c->report->check_source =
		c->check && vs_thread_counters_source(c->check) !=
				    vs_thread_counters_source(c->counters)
			? vs_counters_source_name(vs_thread_counters_source(c->check))
			: NULL;
	g_ptr_array_set_size(c->report->guests, 0);
	g_hash_table_iter_init(&iter, c->guests);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		g_ptr_array_add(c->report->guests, guest_report(c, value));
	g_ptr_array_sort(c->report->guests, compare_guest_reports);
}

/* Closes the descriptors held for @v's thread: a vCPU the collector stops
 * following (its guest gone, or no reading for too long) is read no more,
 * so the sweeps, which count readings, would keep them for long. */
static void vcpu_forget(VsStealCollector *c, const Vcpu *v)
{
	if (!v->tid)
		return;
	vs_thread_counters_forget(c->counters, v->tid);
	if (c->check)
		vs_thread_counters_forget(c->check, v->tid);
}

static gboolean guest_unseen(gpointer key, gpointer value, gpointer data)
{
	VsStealCollector *c = data;
	const Guest *g = value;
	GHashTableIter iter;
	gpointer v;

	if (g->seen_tick == c->ticks)
		return FALSE;
	g_hash_table_iter_init(&iter, g->vcpus);
	while (g_hash_table_iter_next(&iter, NULL, &v))
		vcpu_forget(c, v);
	return TRUE;
}

typedef struct StaleCheck {
	VsStealCollector *c;
	int64_t now_us;
} StaleCheck;

static gboolean vcpu_stale(gpointer key, gpointer value, gpointer data)
{
	const StaleCheck *check = data;
	const Vcpu *v = value;

	if (check->now_us - v->last_seen_us <= VS_STEAL_MAX_GAP_US)
		return FALSE;
	vcpu_forget(check->c, v);
	return TRUE;
}

void vs_steal_collector_tick(VsStealCollector *c, const VsSnapshot *snap)
{
	g_autoptr(GPtrArray) ticked = g_ptr_array_new();
	const Guest *entitled_guest = NULL;
	const GArray *entitled = NULL;
	g_autoptr(GArray) work = NULL;
	g_autofree VsThreadCount *items = NULL;
	GHashTableIter iter;
	gpointer value;

	report_drop(c);
	c->ticks++;
	if (c->last_mono_us && snap->mono_us > c->last_mono_us)
		c->tick_us = c->tick_us ? (7 * c->tick_us + snap->mono_us - c->last_mono_us) / 8
					: snap->mono_us - c->last_mono_us;
	c->last_mono_us = snap->mono_us;
	c->report->tick = snap->tick;
	c->report->mono_us = snap->mono_us;
	work = gather(c, snap);
	items = g_new0(VsThreadCount, MAX(work->len, 1));
	for (guint i = 0; i < work->len; i++) {
		const Work *w = &g_array_index(work, Work, i);

		items[i].pid = w->vv->thread.pid;
		items[i].tid = w->vv->thread.tid;
		items[i].start_time = w->vv->thread.start_time;
	}
	vs_thread_counters_read(c->counters, items, work->len);
	if (c->check && (c->ticks - 1) % VS_STEAL_CROSS_CHECK_TICKS == 0)
		cross_read(c, work, items);

	for (guint i = 0; i < work->len; i++) {
		const Work *w = &g_array_index(work, Work, i);
		Vcpu *v = w->vcpu;
		VsStealSample s = { 0 };
		VsStealPoint p;
		Guest *g = w->guest;
		bool moved = v->tid != items[i].tid || v->start_time != items[i].start_time ||
			     v->pid != items[i].pid;

		if (items[i].error < 0) {
			set_problem(&v->problem,
				    g_strdup_printf("TID %d: %s", (int)items[i].tid,
						    items[i].error == -ESRCH ? "thread gone"
									     : g_strerror(-items[i].error)));
			continue;
		}
		g_clear_pointer(&v->problem, g_free);
		if (v->tid != items[i].tid)
			vcpu_forget(c, v);   /* the old thread's */
		v->pid = items[i].pid;
		v->tid = items[i].tid;
		v->start_time = items[i].start_time;
		v->last_seen_us = snap->mono_us;
		v->readings++;
		if (moved || v->cgroup_reading == 0 || v->readings >= v->cgroup_due)
			refresh_cgroup(c, v);
		read_reservation(c, v);

		s.mono_us = snap->mono_us;
		s.tid = items[i].tid;
		s.start_time = items[i].start_time;
		s.run_ns = items[i].run_ns;
		s.delay_ns = items[i].delay_ns;
		read_throttled(c, v, &s);
		s.reserved_runtime_ns = v->reserved_runtime_ns;
		s.reserved_period_ns = v->reserved_period_ns;
		s.has_libvirt = w->vv->has_stats;
		s.libvirt_delay_ns = w->vv->delay_ns;
		if (g != entitled_guest) {
			/* The vCPUs of a guest come one after the other. */
			entitled_guest = g;
			entitled = g_hash_table_lookup(c->entitlements, g->uuid);
		}
		s.entitlement = entitlement_in(entitled, v->index);
		if (vs_steal_vcpu_feed(v->acct, &s, &p) != VS_STEAL_DELTA)
			continue;
		if (g->tick_sum_tick != c->ticks) {
			g->tick_sum = (VsStealPoint){ 0 };
			g->tick_sum_tick = c->ticks;
			g_ptr_array_add(ticked, g);
		}
		vs_steal_point_add(&g->tick_sum, &p, true);
	}
	vs_cpustat_sweep(c->cpustat);

	/* One guest interval per tick, from the vCPUs that gave one. */
	for (guint i = 0; i < ticked->len; i++) {
		Guest *g = g_ptr_array_index(ticked, i);

		g->tick_sum.flags = 0;
		vs_steal_series_push(g->series, &g->tick_sum);
		g->busy = vs_steal_pct(g->tick_sum.steal_ns, &g->tick_sum) >=
			  VS_STEAL_SAMPLE_BUSY_PCT;
	}
	g_hash_table_foreach_remove(c->guests, guest_unseen, c);
	g_hash_table_iter_init(&iter, c->guests);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		Guest *g = value;

		StaleCheck check = { .c = c, .now_us = snap->mono_us };

		g_hash_table_foreach_remove(g->vcpus, vcpu_stale, &check);
	}
	read_host_cpu(c);
}

GPtrArray *vs_steal_collector_agent_due(VsStealCollector *c, int64_t now_us)
{
	GPtrArray *due = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, c->guests);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		Guest *g = value;

		if (g->agent_asked || now_us < g->agent_next_us)
			continue;
		g->agent_asked = true;
		g_ptr_array_add(due, g_strdup(g->uuid));
	}
	g_ptr_array_sort(due, (GCompareFunc)g_strcmp0);
	return due;
}

/* Backs @g off after a failure, noting @problem (taken). */
static void agent_failed(Guest *g, int64_t mono_us, char *problem)
{
	int64_t wait = VS_STEAL_AGENT_INTERVAL_US;

	for (guint i = 0; i < g->agent_failures && wait < VS_STEAL_AGENT_BACKOFF_MAX_US; i++)
		wait *= 2;
	g->agent_failures++;
	g->agent_next_us = mono_us + MIN(wait * 2, VS_STEAL_AGENT_BACKOFF_MAX_US);
	g_free(g->agent_problem);
	g->agent_problem = problem;
}

void vs_steal_collector_agent_reply(VsStealCollector *c, const char *uuid, int64_t mono_us,
				    const char *reply, const char *error)
{
	Guest *g = g_hash_table_lookup(c->guests, uuid);
	g_autoptr(VsStealGuestSample) sample = NULL;
	g_autoptr(GError) local = NULL;
	VsStealGuestPoint p;
	VsStealGuestResult r;

	if (!g)
		return;
	report_drop(c);
	g->agent_asked = false;
	if (!reply) {
		agent_failed(g, mono_us, g_strdup(error ? error : "no reply"));
		return;
	}
	if (vs_steal_guest_parse(reply, mono_us, &sample, &local) < 0) {
		g->agent_rejected++;
		agent_failed(g, mono_us,
			     g_strdup_printf("guest-get-cpustats reply rejected: %s", local->message));
		return;
	}
	g->agent_replies++;
	g->agent_failures = 0;
	g->agent_next_us = mono_us + VS_STEAL_AGENT_INTERVAL_US;
	g_clear_pointer(&g->agent_problem, g_free);
	r = vs_steal_guest_delta(g->agent_last, sample, &p);
	if (r == VS_STEAL_GUEST_IGNORED)
		return;
	if (r == VS_STEAL_GUEST_DELTA) {
		vs_steal_guest_add_host(&p, g->series);
		vs_steal_guest_series_push(g->agent_series, &p);
	}
	vs_steal_guest_sample_free(g->agent_last);
	g->agent_last = g_steal_pointer(&sample);
}

/* The sentence on what the guest reports, for the report. */
static char *guest_view(const Guest *g, int64_t now_us)
{
	VsStealGuestPoint w = vs_steal_guest_series_window(g->agent_series, VS_STEAL_WINDOW_1M);
	double guest = vs_steal_guest_pct(&w), host = vs_steal_guest_host_pct(&w);
	g_autofree char *clamped =
		w.clamped ? g_strdup_printf("; %u interval(s) clamped: the guest claimed more "
					    "steal than wall time", w.clamped)
			  : g_strdup("");

	if (g->agent_problem && g->agent_next_us > now_us)
		return g_strdup_printf("guest agent: %s; next try in %" G_GINT64_FORMAT " s%s",
				       g->agent_problem,
				       (g->agent_next_us - now_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC,
				       g->tcg ? "; TCG: the guest has no steal clock" : "");
	if (g->agent_problem)
		return g_strdup_printf("guest agent: %s; asking again%s", g->agent_problem,
				       g->tcg ? "; TCG: the guest has no steal clock" : "");
	switch (g->verdict) {
	case VS_STEAL_GUEST_AGREE:
		return g_strdup_printf("guest reports %.1f%% steal, host %.1f%% over 1m: agree "
				       "(GuestTolerance=%g%%)%s",
				       guest, host, g->tolerance_pct, clamped);
	case VS_STEAL_GUEST_NO_STEAL_CLOCK:
		return g_strdup_printf("guest reports no steal (no paravirtual steal clock: TCG?); "
				       "host %.1f%% over 1m%s",
				       host, clamped);
	case VS_STEAL_GUEST_MISMATCH:
		return g_strdup_printf("mismatch: guest reports %.1f%% steal, host %.1f%% over 1m "
				       "(GuestTolerance=%g%%)%s",
				       guest, host, g->tolerance_pct, clamped);
	case VS_STEAL_GUEST_UNAVAILABLE:
		break;
	}
	if (g->agent_last)
		return g_strdup_printf("guest agent answers (%u CPUs); no interval to compare yet",
				       g->agent_last->cpus->len);
	return g_strdup(g->tcg ? "guest agent not heard yet; TCG: the guest has no steal clock"
			       : "guest agent not heard yet");
}

/* Compares the guest's steal with the host's at @tolerance_pct; returns
 * the message when a mismatch starts or ends, else NULL. */
static char *guest_compare(Guest *g, double tolerance_pct)
{
	VsStealGuestPoint w = vs_steal_guest_series_window(g->agent_series, VS_STEAL_WINDOW_1M);
	char *message = NULL;

	g->tolerance_pct = tolerance_pct;
	g->verdict = vs_steal_guest_verdict(&w, tolerance_pct);
	if (g->verdict == VS_STEAL_GUEST_MISMATCH && !g->mismatch) {
		g->mismatch = true;
		message = g_strdup_printf("%s: the guest reports %.1f%% steal, the host accounts "
					  "%.1f%% over the last minute: beyond GuestTolerance=%g%%",
					  g->name, vs_steal_guest_pct(&w),
					  vs_steal_guest_host_pct(&w), tolerance_pct);
	} else if (g->mismatch && (g->verdict == VS_STEAL_GUEST_AGREE ||
				   g->verdict == VS_STEAL_GUEST_NO_STEAL_CLOCK)) {
		g->mismatch = false;
		message = g_strdup_printf("%s: the guest's steal and the host's agree again (%s)",
					  g->name, vs_steal_guest_verdict_name(g->verdict));
	}
	return message;
}

/* "db1: steal alert: COND holds (last tick: ...)" for @g. */
static char *alert_started(const Guest *g, const char *condition)
{
	VsStealPoint p = { 0 };

	vs_steal_series_nth_newest(g->series, 0, &p);
	return g_strdup_printf("%s: steal alert: %s holds (last tick: steal %.1f%%, "
			       "contention %.1f%%, cap %.1f%%, reservation %.1f%%)",
			       g->name, condition, vs_steal_pct(p.steal_ns, &p),
			       vs_steal_pct(p.contention_ns, &p), vs_steal_pct(p.cap_ns, &p),
			       vs_steal_pct(p.reservation_ns, &p));
}

/* Looks @g's [Steal] Alert= and GuestTolerance= (and what sampling needs)
 * up again when the policy cache dropped its policies (a change of the
 * policies or overrides, a reload) or the guest's name or class changed. */
static void guest_policy(Guest *g, VsPolicyCache *policies)
{
	uint64_t stamp = vs_policy_cache_stamp(policies);
	const VsEffectivePolicy *eff;
	const VsEffectiveEntry *e;

	if (g->policy_stamp == stamp)
		return;
	eff = vs_policy_cache_get(policies, g->name, g->uuid, g->class_name);
	vs_steal_series_set_fine(g->series, MAX(vs_condition_longest(eff),
						VS_STEAL_AGENT_INTERVAL_US));
	e = vs_effective_get(eff, "Steal", "GuestTolerance");
	g->policy_tolerance_pct = e && e->value ? e->value->percent : 5.0;
	e = vs_effective_get(eff, "Steal", "Alert");
	g_clear_pointer(&g->policy_alert, vs_policy_value_free);
	if (e && e->value && e->value->type == VS_PTYPE_CONDITION)
		g->policy_alert = vs_policy_value_copy(e->value);
	e = vs_effective_get(eff, "CPU", "CoSchedule");
	g->relaxed = e && e->value && e->value->type == VS_PTYPE_ENUM &&
		     strcmp(e->value->str, "relaxed") == 0;
	g->shortest_us = vs_condition_shortest(eff);
	g->policy_stamp = stamp;
}

static gint compare_guests(gconstpointer a, gconstpointer b)
{
	const Guest *x = *(Guest *const *)a;
	const Guest *y = *(Guest *const *)b;

	return g_strcmp0(x->name, y->name);
}

GPtrArray *vs_steal_collector_alerts(VsStealCollector *c, VsPolicyCache *policies)
{
	GPtrArray *messages = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) guests = g_ptr_array_sized_new(g_hash_table_size(c->guests));
	GHashTableIter iter;
	gpointer value;

	report_drop(c);
	g_hash_table_iter_init(&iter, c->guests);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		g_ptr_array_add(guests, value);
	/* By name, as the report lists them, so that the messages come in a
	 * stable order. */
	g_ptr_array_sort(guests, compare_guests);
	for (guint i = 0; i < guests->len; i++) {
		Guest *g = g_ptr_array_index(guests, i);
		const VsPolicyValue *cond = NULL;
		bool holds = false;
		char *message;

		guest_policy(g, policies);
		message = guest_compare(g, g->policy_tolerance_pct);
		if (message)
			g_ptr_array_add(messages, message);
		if (g->policy_alert) {
			cond = g->policy_alert;
			holds = vs_condition_holds(&cond->cond, g->series);
		}
		if (holds && !g->alert)
			g_ptr_array_add(messages, alert_started(g, cond->text));
		else if (!holds && g->alert)
			g_ptr_array_add(messages,
					g_strdup_printf("%s: steal alert ended: %s no longer holds",
							g->name, g->alert_condition ? g->alert_condition
										    : "the condition"));
		g->alert = holds;
		if (g_strcmp0(g->alert_condition, cond ? cond->text : NULL) != 0) {
			g_free(g->alert_condition);
			g->alert_condition = cond ? g_strdup(cond->text) : NULL;
		}
	}
	return messages;
}
