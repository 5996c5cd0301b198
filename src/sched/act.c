/* The CPU actuator; see act.h. Affinity goes through the sys layer's ops
 * table directly (one syscall each way); reservations through the deadline
 * primitives (their _verified forms: the actuator checks identity itself,
 * once per thread and run), which read back themselves; cgroup values
 * through the cgroup v2 writer (cgroup-write.h), which reads back. */
#include "config.h"

#include "host/cgroup-write.h"
#include "sched/act.h"
#include "sched/deadline.h"
#include "util/error.h"
#include "util/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

/* The most /proc stat descriptors the actuator holds: far below the usual
 * 1024 open files, which the steal collector's descriptors share; threads
 * beyond it are checked by opening the file each time. */
#define STAT_FDS_MAX 512

/* The most cgroup files the actuator holds open (one per value the plan
 * sets); values beyond it are set by opening the file each time. */
#define CGROUP_FILES_MAX 256

/* Bits of the cpu_set_t used with the kernel: every CPU vsched accepts. */
#define SET_CPUS (VS_CPU_MAX + 1)

/* The tables below hold structs that are their own keys, found by
 * probing with a struct on the stack: no key is formatted or allocated per
 * action (string keys cost the actuator more than a syscall per action). */

/* What the actuator remembers of an action that failed (its kind, thread
 * and value), so that it is reported once and not tried again while the
 * plan asks for it. Each run makes one per action (ActState), borrowing
 * the action's strings and set; the copies in act->failed own theirs.
 * Hashed once, compared member by member; a cgroup action's path is
 * hashed once per run here (cg_hash), and every lookup of its Applied
 * entry and held file in the run uses that hash. */
typedef struct FailKey {
	guint hash;
	VsCpuActionKind kind;
	pid_t tid;
	uint64_t start_time;
	char *dir, *file, *value;       /* CGROUP */
	guint cg_hash;                  /* CGROUP: vs_applied_cgroup_hash(dir, file) */
	VsCpuSet *cpus;                 /* AFFINITY; may be NULL */
	int64_t runtime_us, period_us;  /* DEADLINE */
	bool owned;                     /* a copy in act->failed: owns the above */
	guint seen_run;                 /* the last run whose plan asked for it */
} FailKey;

/* A thread the actuator acts on (act->threads, by TID and start time): its
 * held /proc/PID/task/TID/stat descriptor, which identity checks read
 * again instead of opening the file each time (the open costs most; a
 * held descriptor keeps naming the thread it was opened for, so a reused
 * TID reads as gone), and the runs it was last verified in and named by
 * the plan. Each thread is checked once per run, before the first of its
 * actions (affinity, cgroup, reservation), and not again by the others
 * (invariant 1 asks for an identity checked in this tick). */
typedef struct HeldThread {
	pid_t tid;
	uint64_t start_time;
	int fd;                 /* -1: none held */
	guint verified_run;     /* 0: not verified yet */
	guint seen_run;
} HeldThread;

/* A cgroup file of a value the plan sets, held open (act->cg_files, by
 * directory and file): the write-ahead read, the write and the read-back
 * use it without opening the file, tick after tick. Closed when the plan
 * stops setting the value or the cgroup is found removed. */
typedef struct HeldFile {
	char *dir;
	char *file;
	guint hash;             /* vs_applied_cgroup_hash(dir, file) */
	VsCgroupFile *f;
	guint seen_run;
} HeldFile;

/* What one run found for one action of its plan (by index), made in the
 * write-ahead passes and used by the acting loop. */
typedef struct ActState {
	FailKey fk;
	VsCpuSet *aff_now;      /* the affinity read, the thread verified: to change */
	bool aff_in_place;      /* the affinity read is the one planned */
	char *cg_now;           /* the cgroup value read (or set last): to change */
	bool dl_pending;        /* the reservation is not in place: @dl_now was read */
	bool dl_fresh;          /* its original was recorded in this run */
	VsSchedAttr dl_now;
} ActState;

struct VsAct {
	const VsSys *sys;
	VsApplied *applied;
	char *applied_path;
	GHashTable *failed;     /* FailKey (owned), the actions that failed */
	GHashTable *refused;    /* vs_cpu_deadline_key() → why */
	bool needs_replan;
	bool save_failed;       /* the last save failed (reported once) */
	bool saved;             /* @saved_changes is known */
	guint64 saved_changes;  /* VsApplied.changes at this actuator's last save */
	const VsCgroupInfo *cgroup; /* borrowed; NULL: none given */
	guint run;              /* counts the runs (vs_act_run, vs_act_restore_all) */
	GHashTable *threads;    /* HeldThread */
	guint n_stat_fds;       /* the descriptors held in @threads */
	/* vs_deadline_period_max_ns(), read once per run when a reservation
	 * is cleared; 0 when not read in this run. */
	uint64_t period_max_ns;
	GHashTable *cg_files;   /* HeldFile */
	GString *text;          /* where add_set_event() makes a message */
};

static guint mix_hash(guint64 h, guint64 v)
{
	h = (h ^ v) * UINT64_C(0x9e3779b97f4a7c15);
	return (guint)(h ^ (h >> 29) ^ (h >> 47));
}

/* Fills @k for @a (borrowing its members). */
static void fail_key_init(FailKey *k, const VsCpuAction *a)
{
	guint64 h = ((guint64)(guint32)a->thread.tid << 3) | (guint64)a->kind;

	*k = (FailKey){ .kind = a->kind, .tid = a->thread.tid,
			.start_time = a->thread.start_time };
	h = mix_hash(h, a->thread.start_time);
	if (a->kind == VS_CPU_ACTION_CGROUP) {
		k->dir = a->dir;
		k->file = a->file;
		k->value = a->value;
		k->cg_hash = vs_applied_cgroup_hash(a->dir ? a->dir : "", a->file ? a->file : "");
		h = mix_hash(h, k->cg_hash);
		h = mix_hash(h, g_str_hash(a->value ? a->value : ""));
	} else {
		k->cpus = a->cpus;
		k->runtime_us = a->runtime_us;
		k->period_us = a->period_us;
		h = mix_hash(h, a->cpus ? vs_cpuset_hash(a->cpus) : 0);
		h = mix_hash(h, (guint64)a->runtime_us * 1000003u + (guint64)a->period_us);
	}
	k->hash = (guint)h;
}

static guint fail_key_hash(gconstpointer p)
{
	return ((const FailKey *)p)->hash;
}

static gboolean fail_key_equal(gconstpointer pa, gconstpointer pb)
{
	const FailKey *a = pa, *b = pb;

	if (a->kind != b->kind || a->tid != b->tid || a->start_time != b->start_time)
		return FALSE;
	if (a->kind == VS_CPU_ACTION_CGROUP)
		return g_strcmp0(a->dir, b->dir) == 0 && g_strcmp0(a->file, b->file) == 0 &&
		       g_strcmp0(a->value, b->value) == 0;
	if (!a->cpus != !b->cpus || (a->cpus && !vs_cpuset_equal(a->cpus, b->cpus)))
		return FALSE;
	return a->runtime_us == b->runtime_us && a->period_us == b->period_us;
}

static void fail_key_free(gpointer p)
{
	FailKey *k = p;

	if (k->owned) {
		g_free(k->dir);
		g_free(k->file);
		g_free(k->value);
		vs_cpuset_free(k->cpus);
	}
	g_free(k);
}

static guint held_thread_hash(gconstpointer p)
{
	const HeldThread *t = p;

	return mix_hash((guint64)(guint32)t->tid, t->start_time);
}

static gboolean held_thread_equal(gconstpointer pa, gconstpointer pb)
{
	const HeldThread *a = pa, *b = pb;

	return a->tid == b->tid && a->start_time == b->start_time;
}

static void held_thread_free(gpointer p)
{
	HeldThread *t = p;

	if (t->fd >= 0)
		close(t->fd);
	g_free(t);
}

static guint held_file_hash(gconstpointer p)
{
	return ((const HeldFile *)p)->hash;
}

static gboolean held_file_equal(gconstpointer pa, gconstpointer pb)
{
	const HeldFile *a = pa, *b = pb;

	return strcmp(a->dir, b->dir) == 0 && strcmp(a->file, b->file) == 0;
}

static void held_file_free(gpointer p)
{
	HeldFile *f = p;

	vs_cgroup_file_free(f->f);
	g_free(f->dir);
	g_free(f->file);
	g_free(f);
}

/* The held file of @dir/@file (@hash: vs_applied_cgroup_hash() of them),
 * or NULL. */
static HeldFile *held_file(const VsAct *act, const char *dir, const char *file, guint hash)
{
	HeldFile probe = { .dir = (char *)dir, .file = (char *)file, .hash = hash };

	return g_hash_table_lookup(act->cg_files, &probe);
}

/* Whether @k failed before (and is not to be tried again). */
static bool is_failed(const VsAct *act, const FailKey *k)
{
	return g_hash_table_size(act->failed) && g_hash_table_contains(act->failed, k);
}

/* Remembers that @k failed (a copy). */
static void fail_remember(VsAct *act, const FailKey *k)
{
	FailKey *copy;

	if (g_hash_table_contains(act->failed, k))
		return;
	copy = g_new(FailKey, 1);
	*copy = *k;
	copy->dir = g_strdup(k->dir);
	copy->file = g_strdup(k->file);
	copy->value = g_strdup(k->value);
	copy->cpus = k->cpus ? vs_cpuset_copy(k->cpus) : NULL;
	copy->owned = true;
	copy->seen_run = 0;
	g_hash_table_add(act->failed, copy);
}

static void event_free(gpointer data)
{
	VsActEvent *e = data;

	if (!e->packed) {
		g_free(e->domain);
		g_free(e->message);
	}
	g_free(e);
}

GPtrArray *vs_act_events_new(void)
{
	return g_ptr_array_new_with_free_func(event_free);
}

static void add_event(GPtrArray *events, int priority, const char *domain, const char *format,
		      ...) G_GNUC_PRINTF(4, 5);

void vs_act_event_addv(GPtrArray *events, int priority, const char *domain, const char *format,
		       va_list ap)
{
	VsActEvent *e = g_new0(VsActEvent, 1);

	e->priority = priority;
	e->domain = g_strdup(domain);
	e->message = g_strdup_vprintf(format, ap);
	g_ptr_array_add(events, e);
}

/* Adds the event of a change vsched made: "set DESCRIPTION" and, when
 * @was (or @was_cpus) is not NULL, " (was WAS)" with @was between @quote.
 * Made in the actuator's buffer, kept from run to run, and copied with the
 * guest's name into the event's own allocation (one per event): there is
 * one event per change (three per vCPU when a guest gets or loses a
 * reservation), and vschedd logs each. */
static void add_set_event(VsAct *act, GPtrArray *events, const VsCpuAction *a,
			  const char *quote, const char *was, const VsCpuSet *was_cpus)
{
	GString *s = act->text;
	size_t domain_len = a->domain ? strlen(a->domain) + 1 : 0;
	VsActEvent *e;
	char *p;

	g_string_truncate(s, 0);
	vs_strbuf_put(s, "set ", 4);
	vs_cpu_action_describe_to(s, a);
	if (was || was_cpus) {
		vs_strbuf_puts(s, " (was ");
		vs_strbuf_puts(s, quote);
		if (was_cpus)
			vs_cpuset_format_to(s, was_cpus);
		else
			vs_strbuf_puts(s, was);
		vs_strbuf_puts(s, quote);
		vs_strbuf_put(s, ")", 1);
	}
	e = g_malloc(sizeof(*e) + domain_len + s->len + 1);
	p = (char *)(e + 1);
	*e = (VsActEvent){ .priority = LOG_INFO, .packed = true };
	if (a->domain) {
		e->domain = memcpy(p, a->domain, domain_len);
		p += domain_len;
	}
	e->message = memcpy(p, s->str, s->len + 1);
	g_ptr_array_add(events, e);
}

static void add_event(GPtrArray *events, int priority, const char *domain, const char *format,
		      ...)
{
	va_list ap;

	va_start(ap, format);
	vs_act_event_addv(events, priority, domain, format, ap);
	va_end(ap);
}

VsAct *vs_act_new(const VsSys *sys, VsApplied *applied, const char *applied_path)
{
	VsAct *act = g_new0(VsAct, 1);

	act->sys = sys;
	act->applied = applied;
	act->applied_path = g_strdup(applied_path);
	act->failed = g_hash_table_new_full(fail_key_hash, fail_key_equal, fail_key_free, NULL);
	act->refused = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	act->threads = g_hash_table_new_full(held_thread_hash, held_thread_equal,
					     held_thread_free, NULL);
	act->cg_files = g_hash_table_new_full(held_file_hash, held_file_equal, held_file_free,
					      NULL);
	act->text = g_string_sized_new(256);
	return act;
}

void vs_act_free(VsAct *act)
{
	if (!act)
		return;
	g_free(act->applied_path);
	g_hash_table_unref(act->failed);
	g_hash_table_unref(act->refused);
	g_hash_table_unref(act->threads);
	g_hash_table_unref(act->cg_files);
	g_string_free(act->text, TRUE);
	g_free(act);
}

void vs_act_set_cgroup(VsAct *act, const VsCgroupInfo *cg)
{
	act->cgroup = cg;
}

bool vs_act_needs_replan(const VsAct *act)
{
	return act->needs_replan;
}

GHashTable *vs_act_refused(const VsAct *act)
{
	return act->refused;
}

/* Starts a run: every thread is to be verified again, and the kernel's
 * settings read again. */
static void run_begin(VsAct *act)
{
	act->run++;
	act->period_max_ns = 0;
}

/* The entry of @t in act->threads, made (holding no descriptor) when
 * missing. */
static HeldThread *held_thread(VsAct *act, const VsThread *t)
{
	HeldThread probe = { .tid = t->tid, .start_time = t->start_time };
	HeldThread *h = g_hash_table_lookup(act->threads, &probe);

	if (h)
		return h;
	h = g_new(HeldThread, 1);
	*h = probe;
	h->fd = -1;
	h->verified_run = 0;
	h->seen_run = act->run;
	g_hash_table_add(act->threads, h);
	return h;
}

/* Closes @h's descriptor (the thread is gone, or its file fails). */
static void held_thread_close(VsAct *act, HeldThread *h)
{
	if (h->fd < 0)
		return;
	close(h->fd);
	h->fd = -1;
	act->n_stat_fds--;
}

/* vs_thread_verify() through a held descriptor of the thread's stat file,
 * once per run and thread: 0, -ESRCH (gone, or another thread), or
 * another -errno. */
static int verify(VsAct *act, const VsThread *t)
{
	HeldThread *h;
	char text[1024];
	ssize_t n;
	int r;

	if (t->pid <= 0 || t->tid <= 0 || !t->comm)
		return -ESRCH;
	h = held_thread(act, t);
	if (h->verified_run == act->run)
		return 0;
	if (h->fd < 0 && act->n_stat_fds >= STAT_FDS_MAX) {
		r = vs_thread_verify(act->sys, t);
		if (r == 0)
			h->verified_run = act->run;
		return r;
	}
	if (h->fd < 0) {
		char path[64];
		int fd;

		g_snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)t->pid, (int)t->tid);
		fd = vs_sys_open(act->sys, path, O_RDONLY);
		if (fd < 0)
			return fd == -ENOENT ? -ESRCH : fd;
		h->fd = fd;
		act->n_stat_fds++;
	}
	do
		n = pread(h->fd, text, sizeof(text) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		r = n < 0 && errno != ESRCH ? -errno : -ESRCH;
		held_thread_close(act, h);
		return r;
	}
	text[n] = '\0';
	r = vs_thread_verify_stat(t, text);
	if (r == -ESRCH)
		held_thread_close(act, h);
	else if (r == 0)
		h->verified_run = act->run;
	return r;
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
	/* Word by word: testing each of the SET_CPUS bits cost more than the
	 * syscall (seen in a profile of bench-actuation). */
	for (size_t w = 0; w < size / sizeof(set->__bits[0]); w++) {
		unsigned long bits = set->__bits[w];

		while (bits) {
			vs_cpuset_add(cpus, (guint)(w * 8 * sizeof(bits)) +
					    (guint)__builtin_ctzl(bits));
			bits &= bits - 1;
		}
	}
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

/* Remembers that @a failed and reports it (once: the caller skips what
 * is remembered). A thread that is gone is only worth a debug line. */
static void failed(VsAct *act, const VsCpuAction *a, const FailKey *key, int r,
		   const char *why, GPtrArray *events)
{
	g_autofree char *what = vs_cpu_action_describe(a);

	fail_remember(act, key);
	if (r == -ESRCH)
		add_event(events, LOG_DEBUG, a->domain, "not set: %s: the thread is gone", what);
	else
		add_event(events, LOG_WARNING, a->domain, "could not set %s: %s; not retried "
			  "while the plan stays", what, why);
}

/* Returns true when it changed something. @checked is the affinity the
 * write-ahead pass read (borrowed), after which it verified the thread:
 * neither is done again; NULL when the pass did not look at @a. */
static bool act_affinity(VsAct *act, const VsCpuAction *a, const FailKey *key,
			 const VsCpuSet *checked, GPtrArray *events)
{
	VsAppliedEntry *e = vs_applied_find(act->applied, VS_APPLIED_AFFINITY, &a->thread);
	g_autoptr(VsCpuSet) now = NULL;
	g_autoptr(VsCpuSet) after = NULL;
	g_autofree char *what = NULL;
	g_autofree char *want = NULL;
	g_autofree char *got = NULL;
	int r;

	if (checked) {
		now = vs_cpuset_copy(checked);
	} else {
		if (e && e->cur_cpus && !vs_cpuset_equal(e->cur_cpus, a->cpus)) {
			/* Re-touch: the original is recorded and what vsched
			 * set last is not what the plan asks, so the change is
			 * due without reading what is in place first (the
			 * read-back below verifies the result); what was there
			 * is taken to be what vsched set last. */
			now = vs_cpuset_copy(e->cur_cpus);
		} else {
			r = get_affinity(act->sys, a->thread.tid, &now);
			if (r < 0) {
				failed(act, a, key, r, g_strerror(-r), events);
				return false;
			}
			if (vs_cpuset_equal(now, a->cpus)) {
				if (a->restore && e) {
					vs_applied_remove(act->applied, e);
					return true;
				}
				return false;
			}
		}
		r = verify(act, &a->thread);
		if (r < 0) {
			failed(act, a, key, -ESRCH, "the thread is not the one collected", events);
			return false;
		}
	}
	r = set_affinity(act->sys, a->thread.tid, a->cpus);
	if (r < 0) {
		failed(act, a, key, r, g_strerror(-r), events);
		return false;
	}
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
		what = vs_cpu_action_describe(a);
		fail_remember(act, key);
		add_event(events, LOG_WARNING, a->domain, "set %s, but the kernel reports CPUs %s "
			  "(a cpuset cgroup may restrict the thread); not retried while the plan "
			  "stays", what, got);
		return true;
	}
	if (a->restore) {
		got = vs_cpuset_format(now);
		what = vs_cpu_action_describe(a);
		vs_applied_remove(act->applied, vs_applied_find(act->applied, VS_APPLIED_AFFINITY,
								&a->thread));
		add_event(events, LOG_INFO, a->domain, "restored %s (was %s): %s", what, got,
			  a->reason);
		return true;
	}
	add_set_event(act, events, a, "", NULL, now);
	return true;
}

/* Whether @now is the reservation @a asks for. */
static bool deadline_in_place(const VsCpuAction *a, const VsSchedAttr *now)
{
	return now->sched_policy == SCHED_DEADLINE &&
	       now->sched_runtime == (uint64_t)a->runtime_us * 1000 &&
	       now->sched_period == (uint64_t)a->period_us * 1000;
}

/* Write-ahead for reservations, as for affinities: verifies every thread
 * the plan reserves and reads its policy; keeps what it read in @now
 * (action → VsSchedAttr) when the reservation is not in place, and records
 * the policy as the original of a thread vsched reserves for the first
 * time (@fresh holds those actions, whose entry goes again when the kernel
 * refuses). Returns true when it recorded any. */
static bool record_deadline_originals(VsAct *act, const VsCpuPlan *plan, ActState *st,
				      GPtrArray *events)
{
	bool recorded = false;

	for (guint i = 0; i < plan->actions->len; i++) {
		const VsCpuAction *a = g_ptr_array_index(plan->actions, i);
		VsSchedAttr attr = { .size = sizeof(attr) };
		int r;

		if (a->kind != VS_CPU_ACTION_DEADLINE || is_failed(act, &st[i].fk))
			continue;
		r = verify(act, &a->thread);
		if (r == 0)
			r = act->sys->ops->sched_getattr(a->thread.tid, &attr);
		if (r < 0) {
			failed(act, a, &st[i].fk, r, g_strerror(-r), events);
			continue;
		}
		if (deadline_in_place(a, &attr))
			continue;
		if (attr.sched_policy == SCHED_DEADLINE) {
			/* Someone else's reservation: what vsched restores is a
			 * plain thread. */
			attr.sched_policy = 0;
			attr.sched_nice = 0;
			attr.sched_priority = 0;
		}
		st[i].dl_now = attr;
		st[i].dl_pending = true;
		if (vs_applied_find(act->applied, VS_APPLIED_DEADLINE, &a->thread))
			continue;
		vs_applied_set_deadline(act->applied, a->uuid, a->domain, a->what, &a->thread, &attr,
					a->runtime_us, a->period_us);
		st[i].dl_fresh = true;
		recorded = true;
	}
	return recorded;
}

/* Sets @a's reservation on its thread, which the pass above verified in
 * this run, found with the policy @orig and recorded (@fresh: recorded in
 * this run, and forgotten again when the kernel refuses). Returns true
 * when it set the reservation. */
static bool act_deadline(VsAct *act, const VsCpuAction *a, const FailKey *key,
			 const VsSchedAttr *orig, bool fresh, GPtrArray *events)
{
	g_autoptr(GError) error = NULL;
	int r;

	r = verify(act, &a->thread);
	if (r == 0)
		r = vs_deadline_set_verified(act->sys, &a->thread, a->runtime_us, a->period_us,
					     &error);
	if (r < 0) {
		if (r != -ESRCH) {
			g_autofree char *dk = vs_cpu_deadline_key(&a->thread, a->runtime_us,
								  a->period_us);
			g_hash_table_replace(act->refused, g_steal_pointer(&dk),
					     g_strdup(error ? error->message : g_strerror(-r)));
			act->needs_replan = true;
		}
		failed(act, a, key, r, error ? error->message : g_strerror(-r), events);
		/* Not reserved: the entry recorded ahead goes (the kernel keeps
		 * an earlier reservation of vsched's when it refuses, and its
		 * entry stays). */
		if (fresh)
			vs_applied_remove(act->applied,
					  vs_applied_find(act->applied, VS_APPLIED_DEADLINE,
							  &a->thread));
		return false;
	}
	vs_applied_set_deadline(act->applied, a->uuid, a->domain, a->what, &a->thread, orig,
				a->runtime_us, a->period_us);
	add_set_event(act, events, a, NULL, NULL, NULL);
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
	int r = verify(act, &e->thread);

	if (r < 0) {
		g_set_error(error, VS_ERROR, r == -ESRCH ? VS_ERROR_NOT_FOUND : VS_ERROR_SYSTEM,
			    "thread %d (%s) of process %d: %s", (int)e->thread.tid,
			    e->thread.comm ? e->thread.comm : "?", (int)e->thread.pid,
			    r == -ESRCH ? "gone or no longer the thread recorded" : g_strerror(-r));
		return r;
	}
	if (e->orig_policy == 0) {
		/* The longest period, for the shrink: read once per run. */
		if (!act->period_max_ns)
			act->period_max_ns = vs_deadline_period_max_ns(act->sys);
		return vs_deadline_clear_verified(act->sys, &e->thread, e->orig_nice,
						  act->period_max_ns, error);
	}
	/* A real-time or batch thread before: its attributes as they were. */
	r = act->sys->ops->sched_setattr(e->thread.tid, &attr);
	if (r < 0)
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "sched_setattr: %s", g_strerror(-r));
	return r;
}

static bool act_clear(VsAct *act, const VsCpuAction *a, const FailKey *key, GPtrArray *events)
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
	add_event(events, LOG_INFO, a->domain, "set %s: %s", what, a->reason);
	return true;
}

static void save(VsAct *act, GPtrArray *events)
{
	g_autoptr(GError) error = NULL;

	/* What this actuator saved last is on disk still. */
	if (act->saved && act->saved_changes == act->applied->changes)
		return;
	if (vs_applied_save(act->applied, act->applied_path, &error) == 0) {
		act->save_failed = false;
		act->saved = true;
		act->saved_changes = act->applied->changes;
		return;
	}
	if (!act->save_failed)
		add_event(events, LOG_WARNING, NULL, "cannot record the applied CPU settings in %s: "
			  "%s; a restarted vschedd would not know what to restore",
			  act->applied_path, error->message);
	act->save_failed = true;
}

/* Reads @dir/@file through its held descriptor, opening and holding it on
 * first use. A held descriptor of a cgroup removed since (-ENODEV, or
 * -ENOENT) is closed and the file opened once more, which reads a cgroup
 * made again under the same name and returns -ENOENT for one that is gone;
 * @events says so. A file that cannot be opened for writing is read
 * without holding it (the write then says what is refused). 0 or -errno. */
static int held_read(VsAct *act, const char *dir, const char *file, guint hash,
		     char **ret_value, GPtrArray *events)
{
	HeldFile *h = held_file(act, dir, file, hash);
	VsCgroupFile *f;
	int r;

	if (h) {
		r = vs_cgroup_file_read(h->f, ret_value, NULL);
		if (r != -ENODEV && r != -ENOENT)
			return r;
		g_hash_table_remove(act->cg_files, h);
		add_event(events, LOG_DEBUG, NULL, "%s/%s: its cgroup was removed (%s); opening "
			  "it again", dir, file, g_strerror(-r));
	}
	if (g_hash_table_size(act->cg_files) >= CGROUP_FILES_MAX ||
	    vs_cgroup_file_open(act->sys, dir, file, &f, NULL) < 0) {
		g_autofree char *path = g_build_filename(dir, file, NULL);

		return vs_sys_read_line(act->sys, path, ret_value);
	}
	r = vs_cgroup_file_read(f, ret_value, NULL);
	if (r < 0) {
		vs_cgroup_file_free(f);
		return r;
	}
	h = g_new(HeldFile, 1);
	h->dir = g_strdup(dir);
	h->file = g_strdup(file);
	h->hash = hash;
	h->f = f;
	h->seen_run = act->run;
	g_hash_table_add(act->cg_files, h);
	return 0;
}

/* vs_cgroup_set() through the held descriptor of @dir/@file when there is
 * one and @previous (what the write-ahead pass read there, or what vsched
 * wrote last) is known, else through a descriptor of its own, which is
 * also how a held file whose cgroup was removed since is written. */
static int held_set(VsAct *act, const char *dir, const char *file, guint hash,
		    const char *value, const char *previous, GError **error)
{
	HeldFile *h = previous ? held_file(act, dir, file, hash) : NULL;
	g_autoptr(GError) local = NULL;
	int r;

	if (!h)
		return vs_cgroup_set(act->sys, dir, file, value, NULL, error);
	r = vs_cgroup_file_write(h->f, value, previous, &local);
	if (r != -ENODEV && r != -ENOENT) {
		if (r < 0)
			g_propagate_error(error, g_steal_pointer(&local));
		return r;
	}
	/* Removed since it was opened: a cgroup made again under the same
	 * name is written through a new descriptor, one that is gone says
	 * -ENOENT. */
	g_hash_table_remove(act->cg_files, h);
	return vs_cgroup_set(act->sys, dir, file, value, NULL, error);
}

/* Writes @value to @dir/@file through the cgroup v2 writer (read back).
 * The empty value of a cpuset list (the file's state in a fresh cgroup:
 * "the parent's") is written as a lone newline; a kernel that refuses an
 * empty list in a cgroup with threads (ENOSPC, Linux 6.1) gets the
 * parent's effective list instead, which is what the empty one meant, and
 * *@ret_instead (may be NULL; caller frees) says so. 0 or -errno with
 * @error. @previous is what the file held before (read by the caller
 * through held_read(), which lets the write use the held descriptor), or
 * NULL when not read; @hash is vs_applied_cgroup_hash(@dir, @file). */
static int cgroup_write(VsAct *act, const char *dir, const char *file, guint hash,
			const char *value, const char *previous, char **ret_instead,
			GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autofree char *parent = NULL, *effective = NULL, *list = NULL;
	int r;

	r = held_set(act, dir, file, hash, value[0] ? value : "\n", previous, &local);
	if (r != -ENOSPC || value[0] || !g_str_has_prefix(file, "cpuset.")) {
		if (r < 0)
			g_propagate_error(error, g_steal_pointer(&local));
		return r;
	}
	parent = g_path_get_dirname(dir);
	effective = g_strconcat(parent, "/", file, ".effective", NULL);
	if (vs_sys_read_line(act->sys, effective, &list) < 0 || !list[0]) {
		g_propagate_error(error, g_steal_pointer(&local));
		return r;
	}
	r = held_set(act, dir, file, hash, list, previous, error);
	if (r == 0 && ret_instead)
		*ret_instead = g_strdup_printf("the kernel refuses an empty %s in a cgroup with "
					       "threads, so it holds the parent's %s now", file,
					       list);
	return r;
}

/* Reads @a's file into *@ret_now (held_read()), enabling the controller
 * in the ancestors first when the file is missing (a fresh vcpuN
 * cgroup). */
static int cgroup_read(VsAct *act, const VsCpuAction *a, guint hash, char **ret_now,
		       GPtrArray *events, GError **error)
{
	int r = held_read(act, a->dir, a->file, hash, ret_now, events);

	if (r != -ENOENT || a->restore || !act->cgroup || !vs_sys_exists(act->sys, a->dir))
		return r;
	r = vs_cgroup_enable(act->sys, act->cgroup, a->dir,
			     g_str_has_prefix(a->file, "cpuset.") ? "cpuset" : "cpu", error);
	return r < 0 ? r : held_read(act, a->dir, a->file, hash, ret_now, events);
}

/* Whether @a (with the entry @e, or NULL) is a re-touch that needs no read
 * before its write: vsched has written this file before for the same guest
 * instance (the original is recorded), holds it open, and wrote a value
 * other than the one planned last, so the write is due. Restores are not
 * (they read first, which tells a removed cgroup, whose entry just goes). */
static bool retouch_cgroup(VsAct *act, const VsCpuAction *a, const VsAppliedEntry *e,
			   guint hash)
{
	if (a->restore || !e || !e->cur_value || e->thread.tid != a->thread.tid ||
	    e->thread.start_time != a->thread.start_time ||
	    vs_cgroup_value_matches(a->file, a->value, e->cur_value))
		return false;
	return held_file(act, a->dir, a->file, hash) != NULL;
}

/* Write-ahead for cgroup values, as for affinities: reads every file the
 * plan sets, keeps what it read in @st (cg_now) for the acting loop, records the original of every file about to change for the first
 * time, and forgets restore entries whose value is back already. Returns
 * true when the record changed. */
static bool record_cgroup_originals(VsAct *act, const VsCpuPlan *plan, ActState *st,
				    GPtrArray *events)
{
	bool recorded = false;

	for (guint i = 0; i < plan->actions->len; i++) {
		const VsCpuAction *a = g_ptr_array_index(plan->actions, i);
		const VsAppliedEntry *e;
		g_autoptr(GError) error = NULL;
		const FailKey *key = &st[i].fk;
		char *value = NULL;
		int r;

		if (a->kind != VS_CPU_ACTION_CGROUP)
			continue;
		if (is_failed(act, key))
			continue;
		e = vs_applied_find_cgroup_hashed(act->applied, a->dir, a->file, key->cg_hash);
		if (a->restore && !e)
			continue;
		if (retouch_cgroup(act, a, e, key->cg_hash)) {
			/* The write goes through the held file, and its
			 * read-back verifies it; what was there is taken to be
			 * what vsched wrote last. */
			st[i].cg_now = g_strdup(e->cur_value);
			continue;
		}
		r = cgroup_read(act, a, key->cg_hash, &value, events, &error);
		if (r < 0) {
			if (a->restore && (r == -ENOENT || r == -ESRCH)) {
				/* The cgroup is gone with its guest instance. */
				vs_applied_remove(act->applied, e);
				recorded = true;
			} else {
				failed(act, a, key, r, error ? error->message : g_strerror(-r),
				       events);
			}
			continue;
		}
		if (vs_cgroup_value_matches(a->file, a->value, value)) {
			if (a->restore) {
				vs_applied_remove(act->applied, e);
				recorded = true;
			}
			g_free(value);
			continue;
		}
		if (!a->restore && !e) {
			if (verify(act, &a->thread) < 0) {
				/* Another guest instance: the next tick sees it. */
				failed(act, a, key, -ESRCH, NULL, events);
				g_free(value);
				continue;
			}
			vs_applied_set_cgroup_hashed(act->applied, a->uuid, a->domain, a->what,
						     &a->thread, a->dir, a->file, key->cg_hash, value,
						     value);
			recorded = true;
		}
		st[i].cg_now = value;
	}
	return recorded;
}

/* Sets @a's value, which read @now before (the pass above). Returns true
 * when it changed something. */
static bool act_cgroup(VsAct *act, const VsCpuAction *a, const FailKey *key, const char *now,
		       GPtrArray *events)
{
	const VsAppliedEntry *e = vs_applied_find_cgroup_hashed(act->applied, a->dir, a->file,
								key->cg_hash);
	g_autoptr(GError) error = NULL;
	g_autofree char *what = NULL, *instead = NULL;
	int r;

	r = verify(act, &a->thread);
	if (r < 0) {
		failed(act, a, key, -ESRCH, "the guest's QEMU process is not the one collected",
		       events);
		return false;
	}
	r = cgroup_write(act, a->dir, a->file, key->cg_hash, a->value, now, &instead, &error);
	if (r < 0) {
		failed(act, a, key, r, error ? error->message : g_strerror(-r), events);
		return false;
	}
	if (a->restore) {
		what = vs_cpu_action_describe(a);
		if (e)
			vs_applied_remove(act->applied, e);
		add_event(events, LOG_INFO, a->domain, "restored %s (was \"%s\"): %s%s%s", what,
			  now, a->reason, instead ? "; " : "", instead ? instead : "");
		return true;
	}
	vs_applied_set_cgroup_hashed(act->applied, a->uuid, a->domain, a->what, &a->thread, a->dir,
				     a->file, key->cg_hash, e ? e->orig_value : now, a->value);
	add_set_event(act, events, a, "\"", now, NULL);
	return true;
}

/* Keeps only what the plan still asks for in the failure memory, only
 * refusals of threads the plan still has, and only the held descriptors
 * of threads and cgroup files the plan still acts on: what the plan names
 * is marked seen in this run, the rest goes. */
static void prune_memory(VsAct *act, const VsCpuPlan *plan, const ActState *st)
{
	GHashTableIter it;
	gpointer k;

	for (guint i = 0; i < plan->actions->len; i++) {
		const VsCpuAction *a = g_ptr_array_index(plan->actions, i);
		HeldThread probe = { .tid = a->thread.tid, .start_time = a->thread.start_time };
		HeldThread *t = g_hash_table_lookup(act->threads, &probe);
		FailKey *fk;

		if (t)
			t->seen_run = act->run;
		if (a->kind == VS_CPU_ACTION_CGROUP) {
			HeldFile *f = held_file(act, a->dir, a->file, st[i].fk.cg_hash);

			if (f)
				f->seen_run = act->run;
		}
		fk = g_hash_table_size(act->failed) ? g_hash_table_lookup(act->failed, &st[i].fk)
						    : NULL;
		if (fk)
			fk->seen_run = act->run;
	}
	g_hash_table_iter_init(&it, act->cg_files);
	while (g_hash_table_iter_next(&it, &k, NULL))
		if (((HeldFile *)k)->seen_run != act->run)
			g_hash_table_iter_remove(&it);
	g_hash_table_iter_init(&it, act->failed);
	while (g_hash_table_iter_next(&it, &k, NULL))
		if (((FailKey *)k)->seen_run != act->run)
			g_hash_table_iter_remove(&it);
	g_hash_table_iter_init(&it, act->refused);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		/* vs_cpu_deadline_key(): "TID:START_TIME/RUNTIME/PERIOD". */
		HeldThread probe = { 0 };
		const HeldThread *t;
		char *end = NULL;

		probe.tid = (pid_t)g_ascii_strtoll((const char *)k, &end, 10);
		if (end && *end == ':')
			probe.start_time = g_ascii_strtoull(end + 1, NULL, 10);
		t = g_hash_table_lookup(act->threads, &probe);
		if (!t || t->seen_run != act->run)
			g_hash_table_iter_remove(&it);
	}
	g_hash_table_iter_init(&it, act->threads);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		HeldThread *t = k;

		if (t->seen_run == act->run)
			continue;
		if (t->fd >= 0)
			act->n_stat_fds--;
		g_hash_table_iter_remove(&it);
	}
}

/* Write-ahead for affinities: records, before anything is changed, the
 * current affinity of every thread this plan will change for the first
 * time, so that one save before and one after the run suffice (instead of
 * one per thread, which is quadratic on a large host) and a daemon killed
 * mid-run still knows every original. What it read is kept in @st for
 * the acting loop: aff_now for an affinity to change on a thread it
 * verified, aff_in_place for one already right. Returns true when it
 * recorded any. */
static bool record_affinity_originals(VsAct *act, const VsCpuPlan *plan, ActState *st)
{
	bool recorded = false;

	for (guint i = 0; i < plan->actions->len; i++) {
		const VsCpuAction *a = g_ptr_array_index(plan->actions, i);
		g_autoptr(VsCpuSet) now = NULL;

		if (a->kind != VS_CPU_ACTION_AFFINITY ||
		    vs_applied_find(act->applied, VS_APPLIED_AFFINITY, &a->thread))
			continue;
		if (is_failed(act, &st[i].fk))
			continue;
		if (get_affinity(act->sys, a->thread.tid, &now) < 0)
			continue;
		if (vs_cpuset_equal(now, a->cpus)) {
			st[i].aff_in_place = true;
			continue;
		}
		if (verify(act, &a->thread) < 0)
			continue;
		vs_applied_set_affinity(act->applied, a->uuid, a->domain, a->what, &a->thread, now, now);
		st[i].aff_now = g_steal_pointer(&now);
		recorded = true;
	}
	return recorded;
}

guint vs_act_run(VsAct *act, const VsCpuPlan *plan, GPtrArray *events)
{
	guint n = plan->actions->len;
	/* What the run finds per action, with its failure key. */
	ActState *st = g_new0(ActState, n ? n : 1);
	guint changed = 0;
	bool batched_changed = false; /* the record changed: saved once after the loop */
	bool recorded;

	act->needs_replan = false;
	run_begin(act);
	for (guint i = 0; i < n; i++)
		fail_key_init(&st[i].fk, g_ptr_array_index(plan->actions, i));
	prune_memory(act, plan, st);

	/* Every original this run may change is recorded, and saved once,
	 * before the first change. */
	recorded = record_affinity_originals(act, plan, st);
	if (record_cgroup_originals(act, plan, st, events))
		recorded = true;
	if (record_deadline_originals(act, plan, st, events))
		recorded = true;
	if (recorded)
		save(act, events);
	for (guint i = 0; i < n; i++) {
		const VsCpuAction *a = g_ptr_array_index(plan->actions, i);
		const FailKey *key = &st[i].fk;

		if (is_failed(act, key))
			continue;
		switch (a->kind) {
		case VS_CPU_ACTION_AFFINITY:
			/* Its original is saved already: one save after the loop. */
			if (st[i].aff_in_place)
				break;
			if (act_affinity(act, a, key, st[i].aff_now, events)) {
				changed++;
				batched_changed = true;
			}
			break;
		case VS_CPU_ACTION_CGROUP:
			/* Only those the pass above found different. */
			if (st[i].cg_now && act_cgroup(act, a, key, st[i].cg_now, events)) {
				changed++;
				batched_changed = true;
			}
			break;
		case VS_CPU_ACTION_DEADLINE:
			/* Only those the pass above found not in place. */
			if (st[i].dl_pending) {
				bool fresh = st[i].dl_fresh;

				if (act_deadline(act, a, key, &st[i].dl_now, fresh, events)) {
					changed++;
					batched_changed = true;
				} else if (fresh) {
					batched_changed = true; /* its entry went again */
				}
			}
			break;
		case VS_CPU_ACTION_DEADLINE_CLEAR:
			/* A crash before the save after the loop leaves an entry
			 * whose restore is a harmless SCHED_OTHER. */
			if (act_clear(act, a, key, events)) {
				changed++;
				batched_changed = true;
			}
			break;
		}
	}
	if (batched_changed)
		save(act, events);
	for (guint i = 0; i < n; i++) {
		vs_cpuset_free(st[i].aff_now);
		g_free(st[i].cg_now);
	}
	g_free(st);
	return changed;
}

/* Puts back the cgroup value recorded in @e, when its guest instance (the
 * QEMU main thread) is still the one recorded. 0 or -errno (-ESRCH,
 * -ENOENT: gone) with @error; *@ret_instead as cgroup_write(). */
static int restore_cgroup(VsAct *act, const VsAppliedEntry *e, char **ret_instead,
			  GError **error)
{
	int r = verify(act, &e->thread);

	if (r < 0)
		return r;
	return cgroup_write(act, e->dir, e->file, e->cg_hash, e->orig_value, NULL, ret_instead,
			    error);
}

guint vs_act_restore_all(VsAct *act, GPtrArray *events)
{
	guint restored = 0;

	if (act->applied->entries->len == 0)
		return 0;
	run_begin(act);
	/* Reservations end first; cpusets widen before affinities. */
	for (int pass = 0; pass < 3; pass++) {
		VsAppliedKind kind = pass == 0 ? VS_APPLIED_DEADLINE :
				     pass == 1 ? VS_APPLIED_CGROUP : VS_APPLIED_AFFINITY;

		for (guint i = act->applied->entries->len; i > 0; i--) {
			const VsAppliedEntry *e = g_ptr_array_index(act->applied->entries, i - 1);
			g_autoptr(GError) error = NULL;
			g_autofree char *instead = NULL;
			int r;

			if (e->kind != kind)
				continue;
			if (kind == VS_APPLIED_DEADLINE) {
				r = restore_policy(act, e, &error);
			} else if (kind == VS_APPLIED_CGROUP) {
				r = restore_cgroup(act, e, &instead, &error);
			} else {
				r = verify(act, &e->thread);
				if (r == 0)
					r = set_affinity(act->sys, e->thread.tid, e->orig_cpus);
			}
			if (r == 0) {
				restored++;
				if (instead)
					add_event(events, LOG_NOTICE, e->domain,
						  "restored %s/%s of %s: %s", e->dir, e->file,
						  e->what, instead);
			} else if (r != -ESRCH && r != -ENOENT) {
				g_autofree char *orig = e->orig_cpus ? vs_cpuset_format(e->orig_cpus)
								     : NULL;

				if (kind == VS_APPLIED_CGROUP)
					add_event(events, LOG_WARNING, e->domain,
						  "could not restore %s/%s of %s to \"%s\": %s",
						  e->dir, e->file, e->what, e->orig_value,
						  error ? error->message : g_strerror(-r));
				else
					add_event(events, LOG_WARNING, e->domain,
						  "could not restore the %s of %s (TID %d) to %s: %s",
						  kind == VS_APPLIED_DEADLINE ? "scheduling policy"
									      : "affinity",
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
