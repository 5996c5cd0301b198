/* The CPU actuator; see act.h. Affinity goes through the sys layer's ops
 * table directly (one syscall each way); reservations through the deadline
 * primitives, which check identity and read back themselves. */
#include "config.h"

#include "sched/act.h"
#include "sched/deadline.h"
#include "util/error.h"

#include <errno.h>
#include <string.h>
#include <syslog.h>

/* Bits of the cpu_set_t used with the kernel: every CPU vsched accepts. */
#define SET_CPUS (VS_CPU_MAX + 1)

struct VsAct {
	const VsSys *sys;
	VsApplied *applied;
	char *applied_path;
	/* "KIND|TID:START|VALUE" of the actions that failed, so that they are
	 * reported once and not tried again while the plan asks for them. */
	GHashTable *failed;
	GHashTable *refused;    /* vs_cpu_deadline_key() → why */
	bool needs_replan;
	bool save_failed;       /* the last save failed (reported once) */
};

static void event_free(gpointer data)
{
	VsActEvent *e = data;

	g_free(e->domain);
	g_free(e->message);
	g_free(e);
}

GPtrArray *vs_act_events_new(void)
{
	return g_ptr_array_new_with_free_func(event_free);
}

static void add_event(GPtrArray *events, int priority, const char *domain, const char *format,
		      ...) G_GNUC_PRINTF(4, 5);

void vs_act_events_addv(GPtrArray *events, int priority, const char *domain, const char *format,
			va_list ap)
{
	VsActEvent *e = g_new0(VsActEvent, 1);

	e->priority = priority;
	e->domain = g_strdup(domain);
	e->message = g_strdup_vprintf(format, ap);
	g_ptr_array_add(events, e);
}

static void add_event(GPtrArray *events, int priority, const char *domain, const char *format,
		      ...)
{
	va_list ap;

	va_start(ap, format);
	vs_act_events_addv(events, priority, domain, format, ap);
	va_end(ap);
}

VsAct *vs_act_new(const VsSys *sys, VsApplied *applied, const char *applied_path)
{
	VsAct *act = g_new0(VsAct, 1);

	act->sys = sys;
	act->applied = applied;
	act->applied_path = g_strdup(applied_path);
	act->failed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	act->refused = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return act;
}

void vs_act_free(VsAct *act)
{
	if (!act)
		return;
	g_free(act->applied_path);
	g_hash_table_unref(act->failed);
	g_hash_table_unref(act->refused);
	g_free(act);
}

bool vs_act_needs_replan(const VsAct *act)
{
	return act->needs_replan;
}

GHashTable *vs_act_refused(const VsAct *act)
{
	return act->refused;
}

/* Reads @tid's affinity into a new set. 0 or -errno. */
static int get_affinity(const VsSys *sys, pid_t tid, VsCpuSet **ret)
{
	cpu_set_t *set = CPU_ALLOC(SET_CPUS);
	size_t size = CPU_ALLOC_SIZE(SET_CPUS);
	VsCpuSet *cpus;
	int r;

	CPU_ZERO_S(size, set);
	r = sys->ops->sched_getaffinity(tid, set, size);
	if (r < 0) {
		CPU_FREE(set);
		return r;
	}
	cpus = vs_cpuset_new();
	for (guint c = 0; c < SET_CPUS; c++)
		if (CPU_ISSET_S(c, size, set))
			vs_cpuset_add(cpus, c);
	CPU_FREE(set);
	*ret = cpus;
	return 0;
}

static int set_affinity(const VsSys *sys, pid_t tid, const VsCpuSet *cpus)
{
	cpu_set_t *set = CPU_ALLOC(SET_CPUS);
	size_t size = CPU_ALLOC_SIZE(SET_CPUS);
	int r;

	CPU_ZERO_S(size, set);
	for (int c = vs_cpuset_next(cpus, 0); c >= 0; c = vs_cpuset_next(cpus, (guint)c + 1))
		CPU_SET_S((guint)c, size, set);
	r = sys->ops->sched_setaffinity(tid, set, size);
	CPU_FREE(set);
	return r;
}

static char *fail_key(const VsCpuAction *a)
{
	g_autofree char *tk = vs_cpu_thread_key(&a->thread);
	g_autofree char *cpus = a->cpus ? vs_cpuset_format(a->cpus) : NULL;

	return g_strdup_printf("%d|%s|%s|%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, (int)a->kind,
			       tk, cpus ? cpus : "", a->runtime_us, a->period_us);
}

/* Remembers that @a failed and reports it (once: the caller skips what
 * is remembered). A thread that is gone is only worth a debug line. */
static void failed(VsAct *act, const VsCpuAction *a, const char *key, int r, const char *why,
		   GPtrArray *events)
{
	g_autofree char *what = vs_cpu_action_describe(a);

	g_hash_table_add(act->failed, g_strdup(key));
	if (r == -ESRCH)
		add_event(events, LOG_DEBUG, a->domain, "not set: %s: the thread is gone", what);
	else
		add_event(events, LOG_WARNING, a->domain, "could not set %s: %s; not retried "
			  "while the plan stays", what, why);
}

/* Returns true when it changed something. */
static bool act_affinity(VsAct *act, const VsCpuAction *a, const char *key, GPtrArray *events)
{
	VsAppliedEntry *e = vs_applied_find(act->applied, VS_APPLIED_AFFINITY, &a->thread);
	g_autoptr(VsCpuSet) now = NULL;
	g_autoptr(VsCpuSet) after = NULL;
	g_autofree char *what = NULL;
	g_autofree char *want = NULL;
	g_autofree char *got = NULL;
	int r;

	r = get_affinity(act->sys, a->thread.tid, &now);
	if (r < 0) {
		failed(act, a, key, r, g_strerror(-r), events);
		return false;
	}
	if (vs_cpuset_equal(now, a->cpus))
		return false;
	r = vs_thread_verify(act->sys, &a->thread);
	if (r < 0) {
		failed(act, a, key, -ESRCH, "the thread is not the one collected", events);
		return false;
	}
	r = set_affinity(act->sys, a->thread.tid, a->cpus);
	if (r < 0) {
		failed(act, a, key, r, g_strerror(-r), events);
		return false;
	}
	what = vs_cpu_action_describe(a);
	r = get_affinity(act->sys, a->thread.tid, &after);
	if (r < 0) {
		/* It was set; record what was asked so that a stop restores it. */
		vs_applied_set_affinity(act->applied, a->uuid, a->domain, a->what, &a->thread,
					e ? e->orig_cpus : now, a->cpus);
		failed(act, a, key, r, "set, but cannot be read back", events);
		return true;
	}
	vs_applied_set_affinity(act->applied, a->uuid, a->domain, a->what, &a->thread,
				e ? e->orig_cpus : now, after);
	if (!vs_cpuset_equal(after, a->cpus)) {
		want = vs_cpuset_format(a->cpus);
		got = vs_cpuset_format(after);
		g_hash_table_add(act->failed, g_strdup(key));
		add_event(events, LOG_WARNING, a->domain, "set %s, but the kernel reports CPUs %s "
			  "(a cpuset cgroup may restrict the thread); not retried while the plan "
			  "stays", what, got);
		return true;
	}
	got = vs_cpuset_format(now);
	add_event(events, LOG_INFO, a->domain, "set %s (was %s)", what, got);
	return true;
}

static bool act_deadline(VsAct *act, const VsCpuAction *a, const char *key, GPtrArray *events)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *what = vs_cpu_action_describe(a);
	VsSchedAttr now = { 0 };
	int r;

	r = vs_deadline_get(act->sys, &a->thread, &now);
	if (r < 0) {
		failed(act, a, key, r, g_strerror(-r), events);
		return false;
	}
	if (now.sched_policy == SCHED_DEADLINE &&
	    now.sched_runtime == (uint64_t)a->runtime_us * 1000 &&
	    now.sched_period == (uint64_t)a->period_us * 1000)
		return false;
	r = vs_deadline_set(act->sys, &a->thread, a->runtime_us, a->period_us, &error);
	if (r < 0) {
		if (r != -ESRCH) {
			g_autofree char *dk = vs_cpu_deadline_key(&a->thread, a->runtime_us,
								  a->period_us);
			g_hash_table_replace(act->refused, g_steal_pointer(&dk),
					     g_strdup(error ? error->message : g_strerror(-r)));
			act->needs_replan = true;
		}
		failed(act, a, key, r, error ? error->message : g_strerror(-r), events);
		return false;
	}
	if (now.sched_policy == SCHED_DEADLINE) {
		/* Someone else's reservation: what vsched restores is a plain thread. */
		now.sched_policy = 0;
		now.sched_nice = 0;
		now.sched_priority = 0;
	}
	vs_applied_set_deadline(act->applied, a->uuid, a->domain, a->what, &a->thread, &now,
				a->runtime_us, a->period_us);
	add_event(events, LOG_INFO, a->domain, "set %s", what);
	return true;
}

/* Puts back the policy recorded in @e. 0 or -errno with @error. */
static int restore_policy(VsAct *act, const VsAppliedEntry *e, GError **error)
{
	VsSchedAttr attr = {
		.size = sizeof(VsSchedAttr),
		.sched_policy = e->orig_policy,
		.sched_nice = e->orig_nice,
		.sched_priority = e->orig_priority,
	};
	int r;

	if (e->orig_policy == 0)
		return vs_deadline_clear(act->sys, &e->thread, e->orig_nice, error);
	/* A real-time or batch thread before: its attributes as they were. */
	r = vs_thread_verify(act->sys, &e->thread);
	if (r == 0)
		r = act->sys->ops->sched_setattr(e->thread.tid, &attr);
	if (r < 0)
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "sched_setattr: %s", g_strerror(-r));
	return r;
}

static bool act_clear(VsAct *act, const VsCpuAction *a, const char *key, GPtrArray *events)
{
	const VsAppliedEntry *e = vs_applied_find(act->applied, VS_APPLIED_DEADLINE, &a->thread);
	g_autoptr(GError) error = NULL;
	g_autofree char *what = vs_cpu_action_describe(a);
	int r;

	if (!e)
		return false;
	r = restore_policy(act, e, &error);
	if (r < 0) {
		failed(act, a, key, r, error ? error->message : g_strerror(-r), events);
		if (r == -ESRCH)
			vs_applied_remove(act->applied, e);
		return r == -ESRCH;
	}
	vs_applied_remove(act->applied, e);
	add_event(events, LOG_INFO, a->domain, "set %s", what);
	return true;
}

static void save(VsAct *act, GPtrArray *events)
{
	g_autoptr(GError) error = NULL;

	if (vs_applied_save(act->applied, act->applied_path, &error) == 0) {
		act->save_failed = false;
		return;
	}
	if (!act->save_failed)
		add_event(events, LOG_WARNING, NULL, "cannot record the applied CPU settings in %s: "
			  "%s; a restarted vschedd would not know what to restore",
			  act->applied_path, error->message);
	act->save_failed = true;
}

/* Keeps only what the plan still asks for in the failure memory, and only
 * refusals of threads the plan still has. */
static void prune_memory(VsAct *act, const VsCpuPlan *plan, GHashTable *keys)
{
	g_autoptr(GHashTable) threads = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTableIter it;
	gpointer k;

	for (guint i = 0; i < plan->actions->len; i++)
		g_hash_table_add(threads,
				 vs_cpu_thread_key(&((VsCpuAction *)g_ptr_array_index(plan->actions,
										       i))->thread));
	g_hash_table_iter_init(&it, act->failed);
	while (g_hash_table_iter_next(&it, &k, NULL))
		if (!g_hash_table_contains(keys, k))
			g_hash_table_iter_remove(&it);
	g_hash_table_iter_init(&it, act->refused);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		g_autofree char *thread = g_strndup(k, strcspn(k, "/"));

		if (!g_hash_table_contains(threads, thread))
			g_hash_table_iter_remove(&it);
	}
}

/* Write-ahead for affinities: records, before anything is changed, the
 * current affinity of every thread this plan will change for the first
 * time, so that one save before and one after the run suffice (instead of
 * one per thread, which is quadratic on a large host) and a daemon killed
 * mid-run still knows every original. Returns true when it recorded any. */
static bool record_affinity_originals(VsAct *act, const VsCpuPlan *plan)
{
	bool recorded = false;

	for (guint i = 0; i < plan->actions->len; i++) {
		const VsCpuAction *a = g_ptr_array_index(plan->actions, i);
		g_autoptr(VsCpuSet) now = NULL;
		g_autofree char *key = NULL;

		if (a->kind != VS_CPU_ACTION_AFFINITY ||
		    vs_applied_find(act->applied, VS_APPLIED_AFFINITY, &a->thread))
			continue;
		key = fail_key(a);
		if (g_hash_table_contains(act->failed, key))
			continue;
		if (get_affinity(act->sys, a->thread.tid, &now) < 0 || vs_cpuset_equal(now, a->cpus))
			continue;
		if (vs_thread_verify(act->sys, &a->thread) < 0)
			continue;
		vs_applied_set_affinity(act->applied, a->uuid, a->domain, a->what, &a->thread, now, now);
		recorded = true;
	}
	return recorded;
}

guint vs_act_run(VsAct *act, const VsCpuPlan *plan, GPtrArray *events)
{
	g_autoptr(GHashTable) keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	guint changed = 0;
	bool affinity_changed = false;

	act->needs_replan = false;
	for (guint i = 0; i < plan->actions->len; i++)
		g_hash_table_add(keys, fail_key(g_ptr_array_index(plan->actions, i)));
	prune_memory(act, plan, keys);

	if (record_affinity_originals(act, plan))
		save(act, events);
	for (guint i = 0; i < plan->actions->len; i++) {
		const VsCpuAction *a = g_ptr_array_index(plan->actions, i);
		g_autofree char *key = fail_key(a);

		if (g_hash_table_contains(act->failed, key))
			continue;
		switch (a->kind) {
		case VS_CPU_ACTION_AFFINITY:
			/* Its original is saved already: one save after the loop. */
			if (act_affinity(act, a, key, events)) {
				changed++;
				affinity_changed = true;
			}
			break;
		case VS_CPU_ACTION_DEADLINE:
		case VS_CPU_ACTION_DEADLINE_CLEAR:
			/* Few, and their originals are recorded as they are set. */
			if (a->kind == VS_CPU_ACTION_DEADLINE ? act_deadline(act, a, key, events)
							      : act_clear(act, a, key, events)) {
				changed++;
				save(act, events);
			}
			break;
		}
	}
	if (affinity_changed)
		save(act, events);
	return changed;
}

guint vs_act_restore_all(VsAct *act, GPtrArray *events)
{
	guint restored = 0;

	if (act->applied->entries->len == 0)
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		VsAppliedKind kind = pass == 0 ? VS_APPLIED_DEADLINE : VS_APPLIED_AFFINITY;

		for (guint i = act->applied->entries->len; i > 0; i--) {
			const VsAppliedEntry *e = g_ptr_array_index(act->applied->entries, i - 1);
			g_autoptr(GError) error = NULL;
			int r;

			if (e->kind != kind)
				continue;
			if (kind == VS_APPLIED_DEADLINE) {
				r = restore_policy(act, e, &error);
			} else {
				r = vs_thread_verify(act->sys, &e->thread);
				if (r == 0)
					r = set_affinity(act->sys, e->thread.tid, e->orig_cpus);
			}
			if (r == 0) {
				restored++;
			} else if (r != -ESRCH && r != -ENOENT) {
				g_autofree char *orig = e->orig_cpus ? vs_cpuset_format(e->orig_cpus)
								     : NULL;

				add_event(events, LOG_WARNING, e->domain,
					  "could not restore the %s of %s (TID %d) to %s: %s",
					  kind == VS_APPLIED_DEADLINE ? "scheduling policy" : "affinity",
					  e->what, (int)e->thread.tid,
					  orig ? orig : "its original policy",
					  error ? error->message : g_strerror(-r));
			}
			vs_applied_remove(act->applied, e);
		}
	}
	save(act, events);
	return restored;
}
