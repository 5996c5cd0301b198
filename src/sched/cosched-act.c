/* The co-scheduling actuator; see cosched-act.h. */
#include "config.h"

#include "sched/cosched-act.h"
#include "sched/deadline.h"
#include "util/error.h"

#include <errno.h>
#include <pthread.h>
#include <syslog.h>

#ifndef SCHED_BATCH
#define SCHED_BATCH 3
#endif
#ifndef SCHED_IDLE
#define SCHED_IDLE 5
#endif
/* prctl(PR_SCHED_CORE) commands (linux/prctl.h) and the thread scope. */
#define CORE_CREATE 1
#define CORE_SHARE_TO 2
#define CORE_SHARE_FROM 3
#define CORE_SCOPE_THREAD 0

struct VsCoschedAct {
	const VsSys *sys;
	VsApplied *applied;
	char *applied_path;
	GHashTable *failed;      /* "KIND|TID:START|DELTA" reported, not retried */
	GHashTable *cookies;     /* "TID:START" → VsThread * */
	bool save_failed;
};

static void thread_free(gpointer data)
{
	vs_thread_clear(data);
	g_free(data);
}

VsCoschedAct *vs_cosched_act_new(const VsSys *sys, VsApplied *applied, const char *applied_path)
{
	VsCoschedAct *act = g_new0(VsCoschedAct, 1);

	act->sys = sys;
	act->applied = applied;
	act->applied_path = g_strdup(applied_path);
	act->failed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	act->cookies = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, thread_free);
	return act;
}

void vs_cosched_act_free(VsCoschedAct *act)
{
	if (!act)
		return;
	g_free(act->applied_path);
	g_hash_table_unref(act->failed);
	g_hash_table_unref(act->cookies);
	g_free(act);
}

GHashTable *vs_cosched_act_cookies(const VsCoschedAct *act)
{
	return act->cookies;
}

static void event(GPtrArray *events, int priority, const char *domain, const char *format, ...)
	G_GNUC_PRINTF(4, 5);

static void event(GPtrArray *events, int priority, const char *domain, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vs_act_event_addv(events, priority, domain, format, ap);
	va_end(ap);
}

static char *thread_key(const VsThread *t)
{
	return g_strdup_printf("%d:%" G_GUINT64_FORMAT, (int)t->tid, t->start_time);
}

static char *fail_key(const VsCoschedAction *a)
{
	g_autofree char *tk = thread_key(&a->thread);

	return g_strdup_printf("%d|%s|%d", (int)a->kind, tk, a->delta);
}

static void save(VsCoschedAct *act, GPtrArray *events)
{
	g_autoptr(GError) error = NULL;

	if (vs_applied_save(act->applied, act->applied_path, &error) == 0) {
		act->save_failed = false;
		return;
	}
	if (!act->save_failed)
		event(events, LOG_WARNING, NULL, "cannot record the nice boosts in %s: %s; a "
		      "restarted vschedd would not know what to restore", act->applied_path,
		      error->message);
	act->save_failed = true;
}

/* Sets @t's nice to @nice keeping its policy, identity-checked and read
 * back; *@ret_before gets the nice found. 0 or -errno with @error. */
static int set_nice(VsCoschedAct *act, const VsThread *t, int nice, int *ret_before,
		    GError **error)
{
	VsSchedAttr now = { 0 }, after = { 0 };
	VsSchedAttr attr = { .size = sizeof(attr) };
	int r;

	r = vs_deadline_get(act->sys, t, &now);
	if (r < 0) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "sched_getattr: %s", g_strerror(-r));
		return r;
	}
	if (now.sched_policy != SCHED_OTHER && now.sched_policy != SCHED_BATCH &&
	    now.sched_policy != SCHED_IDLE) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "scheduling policy %u has no nice "
			    "value", now.sched_policy);
		return -EINVAL;
	}
	if (ret_before)
		*ret_before = now.sched_nice;
	if (now.sched_nice == nice)
		return 0;
	attr.sched_policy = now.sched_policy;
	attr.sched_nice = nice;
	r = act->sys->ops->sched_setattr(t->tid, &attr);
	if (r < 0) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "sched_setattr: %s", g_strerror(-r));
		return r;
	}
	r = vs_deadline_get(act->sys, t, &after);
	if (r == 0 && after.sched_nice != nice) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "set nice %d, but the kernel reports %d",
			    nice, after.sched_nice);
		return -EIO;
	}
	return 0;
}

static void failed(VsCoschedAct *act, const VsCoschedAction *a, int r, const char *why,
		   GPtrArray *events)
{
	g_autofree char *what = vs_cosched_action_describe(a);

	g_hash_table_add(act->failed, fail_key(a));
	if (r == -ESRCH)
		event(events, LOG_DEBUG, a->domain, "not set: %s: the thread is gone", what);
	else
		event(events, LOG_WARNING, a->domain, "could not set %s: %s; not retried while the "
		      "plan stays", what, why);
}

static bool act_nice(VsCoschedAct *act, const VsCoschedAction *a, GPtrArray *events)
{
	const VsAppliedEntry *e = vs_applied_find(act->applied, VS_APPLIED_NICE, &a->thread);
	g_autoptr(GError) error = NULL;
	g_autofree char *what = vs_cosched_action_describe(a);
	VsSchedAttr now = { 0 };
	int orig, target, before = 0;
	int r;

	if (e) {
		orig = e->orig_nice;
	} else {
		r = vs_deadline_get(act->sys, &a->thread, &now);
		if (r < 0) {
			failed(act, a, r, g_strerror(-r), events);
			return false;
		}
		orig = now.sched_nice;
	}
	target = MAX(-20, orig - a->delta);
	if (e && e->cur_nice == target) {
		/* In place, unless someone changed it since: then put it back. */
		r = vs_deadline_get(act->sys, &a->thread, &now);
		if (r == 0 && now.sched_nice == target)
			return false;
	}
	r = set_nice(act, &a->thread, target, &before, &error);
	if (r < 0) {
		failed(act, a, r, error->message, events);
		if (r == -ESRCH && e)
			vs_applied_remove(act->applied, e);
		return r == -ESRCH && e;
	}
	vs_applied_set_nice(act->applied, a->uuid, a->domain, a->what, &a->thread, orig, target);
	event(events, LOG_INFO, a->domain, "set %s: nice %d (was %d): %s", what, target, before,
	      a->reason);
	return true;
}

static bool act_nice_clear(VsCoschedAct *act, const VsCoschedAction *a, GPtrArray *events)
{
	const VsAppliedEntry *e = vs_applied_find(act->applied, VS_APPLIED_NICE, &a->thread);
	g_autoptr(GError) error = NULL;
	g_autofree char *what = vs_cosched_action_describe(a);
	int orig, r;

	if (!e)
		return false;
	orig = e->orig_nice;
	r = set_nice(act, &a->thread, orig, NULL, &error);
	if (r < 0 && r != -ESRCH) {
		failed(act, a, r, error->message, events);
		return false;
	}
	vs_applied_remove(act->applied, e);
	if (r == 0)
		event(events, LOG_INFO, a->domain, "set %s: nice %d: %s", what, orig, a->reason);
	return true;
}

/* What a helper thread does: pull the cookie of @from (none: keep its
 * own, which it has not), then push it to @to. */
typedef struct CoreShare {
	const VsSysOps *ops;
	pid_t from;              /* 0: none */
	pid_t to;
	int r;
} CoreShare;

static void *core_share_thread(void *data)
{
	CoreShare *s = data;

	s->r = 0;
	if (s->from > 0)
		s->r = s->ops->prctl_sched_core(CORE_SHARE_FROM, s->from, CORE_SCOPE_THREAD);
	if (s->r == 0)
		s->r = s->ops->prctl_sched_core(CORE_SHARE_TO, s->to, CORE_SCOPE_THREAD);
	return NULL;
}

/* Shares @from's cookie (0: no cookie) to @to from a helper thread. */
static int core_share(const VsSys *sys, pid_t from, pid_t to)
{
	CoreShare s = { .ops = sys->ops, .from = from, .to = to };
	pthread_t thread;
	int r;

	r = pthread_create(&thread, NULL, core_share_thread, &s);
	if (r != 0)
		return -r;
	pthread_join(thread, NULL);
	return s.r;
}

static bool act_core(VsCoschedAct *act, const VsCoschedAction *a, GPtrArray *events)
{
	g_autofree char *what = vs_cosched_action_describe(a);
	VsThread *copy;
	int r;

	r = vs_thread_verify(act->sys, &a->thread);
	if (r == 0 && a->kind == VS_COSCHED_ACTION_CORE_SHARE)
		r = vs_thread_verify(act->sys, &a->leader);
	if (r < 0) {
		failed(act, a, -ESRCH, "the thread is not the one collected", events);
		return false;
	}
	if (a->kind == VS_COSCHED_ACTION_CORE_CREATE)
		r = act->sys->ops->prctl_sched_core(CORE_CREATE, a->thread.tid, CORE_SCOPE_THREAD);
	else
		r = core_share(act->sys, a->leader.tid, a->thread.tid);
	if (r < 0) {
		failed(act, a, r, g_strerror(-r), events);
		return false;
	}
	copy = g_new0(VsThread, 1);
	vs_thread_copy(copy, &a->thread);
	g_hash_table_replace(act->cookies, thread_key(&a->thread), copy);
	event(events, LOG_INFO, a->domain, "set %s", what);
	return true;
}

/* Keeps only what the plan still asks for in the failure memory. */
static void prune_failed(VsCoschedAct *act, const VsCoschedPlan *plan)
{
	g_autoptr(GHashTable) keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTableIter it;
	gpointer k;

	for (guint i = 0; i < plan->actions->len; i++)
		g_hash_table_add(keys, fail_key(g_ptr_array_index(plan->actions, i)));
	g_hash_table_iter_init(&it, act->failed);
	while (g_hash_table_iter_next(&it, &k, NULL))
		if (!g_hash_table_contains(keys, k))
			g_hash_table_iter_remove(&it);
}

guint vs_cosched_act_run(VsCoschedAct *act, const VsCoschedPlan *plan, GPtrArray *events)
{
	guint changed = 0;
	bool recorded = false;

	prune_failed(act, plan);
	for (guint i = 0; i < plan->actions->len; i++) {
		const VsCoschedAction *a = g_ptr_array_index(plan->actions, i);
		g_autofree char *key = fail_key(a);
		bool done = false;

		if (g_hash_table_contains(act->failed, key))
			continue;
		switch (a->kind) {
		case VS_COSCHED_ACTION_NICE:
			done = act_nice(act, a, events);
			recorded |= done;
			break;
		case VS_COSCHED_ACTION_NICE_CLEAR:
			done = act_nice_clear(act, a, events);
			recorded |= done;
			break;
		case VS_COSCHED_ACTION_CORE_CREATE:
		case VS_COSCHED_ACTION_CORE_SHARE:
			done = act_core(act, a, events);
			break;
		}
		changed += done;
	}
	if (recorded)
		save(act, events);
	return changed;
}

guint vs_cosched_act_restore_all(VsCoschedAct *act, GPtrArray *events)
{
	guint restored = 0;
	bool any = false;
	GHashTableIter it;
	gpointer value;

	for (guint i = act->applied->entries->len; i > 0; i--) {
		const VsAppliedEntry *e = g_ptr_array_index(act->applied->entries, i - 1);
		g_autoptr(GError) error = NULL;
		int r;

		if (e->kind != VS_APPLIED_NICE)
			continue;
		r = set_nice(act, &e->thread, e->orig_nice, NULL, &error);
		if (r == 0)
			restored++;
		else if (r != -ESRCH && r != -ENOENT)
			event(events, LOG_WARNING, e->domain, "could not restore the nice of %s (TID "
			      "%d) to %d: %s", e->what, (int)e->thread.tid, e->orig_nice,
			      error->message);
		vs_applied_remove(act->applied, e);
		any = true;
	}
	g_hash_table_iter_init(&it, act->cookies);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		const VsThread *t = value;
		int r = vs_thread_verify(act->sys, t);

		if (r == 0)
			r = core_share(act->sys, 0, t->tid);
		if (r == 0)
			restored++;
		else if (r != -ESRCH && r != -ENOENT)
			event(events, LOG_WARNING, NULL, "could not remove the core-scheduling cookie "
			      "of TID %d: %s", (int)t->tid, g_strerror(-r));
	}
	g_hash_table_remove_all(act->cookies);
	if (any)
		save(act, events);
	return restored;
}
