/* The hotplug actuator; see act.h. */
#include "config.h"

#include "hotplug/act.h"

#include <errno.h>
#include <gio/gio.h>
#include <stdarg.h>
#include <syslog.h>

#include "virt/vcpus.h"

/* Back-offs of agent questions that fail start here and double like those
 * of failed operations. */

/* One operation, shared by the guest record and the worker running it. */
typedef struct Op {
	VsHotplugMethod method;
	bool probe;                   /* only ask the agent for its CPUs */
	VsHotplugKind kind;
	guint from, target;
	VsVirtDomainRef *ref;
	VsCpuSet *unplug;             /* acpi: the vCPUs to unplug one by one;
				       * NULL: set the count */
	int64_t started_us;           /* monotonic */
	int64_t finished_us;
	bool finished;                /* the worker returned (main thread only) */
	/* Written by the worker, read after it finished. */
	int r;
	char *error;
	int online;                   /* agent: online guest CPUs after the call; -1 unknown */
	int total;                    /* agent: guest CPUs it knows */
} Op;

static void op_clear(gpointer data)
{
	Op *op = data;

	vs_virt_domain_ref_free(op->ref);
	vs_cpuset_free(op->unplug);
	g_free(op->error);
}

static Op *op_ref(Op *op)
{
	return g_atomic_rc_box_acquire(op);
}

static void op_unref(gpointer op)
{
	g_atomic_rc_box_release_full(op, op_clear);
}

/* The way from a finished worker back to the actuator, cleared when the
 * actuator is freed first. */
typedef struct Link {
	VsHotplugAct *act;
} Link;

static void link_unref(gpointer link)
{
	g_rc_box_release(link);
}

typedef struct Guest {
	char uuid[37];
	char *name;
	Op *op;                       /* in flight, or NULL */
	int64_t last_change_us;       /* monotonic; 0: never */
	guint owed;                   /* removed for contention, not yet given back */
	guint failures;
	int64_t backoff_until_us;     /* monotonic */
	guint behind_reported;        /* libvirt's stale count last reported; 0: none */
	/* The agent's last answer (Method=agent). */
	int64_t agent_at_us;          /* 0: never asked */
	int agent_online, agent_total;
	char *agent_problem;
	guint agent_failures;
	int64_t agent_retry_us;
	char *would;                  /* dry run: the decision last reported */
	char *pending_text;
	VsHotplugStatus status;       /* its strings: */
	char *reason;
	char *last_action;
	char *failure;
} Guest;

struct VsHotplugAct {
	VsVirt *virt;
	VsHotplugWake wake;
	gpointer wake_data;
	Link *link;
	GHashTable *guests;           /* uuid → Guest */
	guint running;                /* workers that have not returned */
};

static void guest_free(gpointer data)
{
	Guest *g = data;

	if (g->op)
		op_unref(g->op);
	g_free(g->name);
	g_free(g->agent_problem);
	g_free(g->would);
	g_free(g->pending_text);
	g_free(g->reason);
	g_free(g->last_action);
	g_free(g->failure);
	g_free(g);
}

VsHotplugAct *vs_hotplug_act_new(VsVirt *virt, VsHotplugWake wake, gpointer wake_data)
{
	VsHotplugAct *a = g_new0(VsHotplugAct, 1);

	a->virt = virt;
	a->wake = wake;
	a->wake_data = wake_data;
	a->link = g_rc_box_new0(Link);
	a->link->act = a;
	a->guests = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, guest_free);
	return a;
}

void vs_hotplug_act_free(VsHotplugAct *a)
{
	if (!a)
		return;
	a->link->act = NULL;
	link_unref(a->link);
	g_hash_table_unref(a->guests);
	g_free(a);
}

static void add_event(GPtrArray *events, int priority, const char *domain, const char *format,
		      ...) G_GNUC_PRINTF(4, 5);

static void add_event(GPtrArray *events, int priority, const char *domain, const char *format,
		      ...)
{
	VsActEvent *e = g_new0(VsActEvent, 1);
	va_list ap;

	e->priority = priority;
	e->domain = g_strdup(domain);
	va_start(ap, format);
	e->message = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_ptr_array_add(events, e);
}

/* The worker: the blocking libvirt calls of one operation. */
static void op_run(GTask *task, gpointer source, gpointer task_data, GCancellable *cancel)
{
	Op *op = task_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(VsGuestVcpus) before = NULL;
	g_autoptr(VsGuestVcpus) after = NULL;

	op->online = -1;
	if (op->method == VS_HOTPLUG_ACPI && op->unplug) {
		/* In turn; a time-out is no reason to stop (the guest may still
		 * let go), a refusal is. */
		for (int v = vs_cpuset_next(op->unplug, 0); v >= 0;
		     v = vs_cpuset_next(op->unplug, (guint)v + 1)) {
			g_autoptr(GError) e = NULL;
			int r = vs_virt_set_vcpu_live(op->ref, (guint)v, false, &e);

			/* Kept: the first time-out, or a refusal. */
			if (r < 0 && (op->r == 0 || r != -ETIMEDOUT)) {
				op->r = r;
				g_clear_error(&error);
				error = g_steal_pointer(&e);
			}
			if (r < 0 && r != -ETIMEDOUT)
				break;
		}
		goto out;
	}
	if (op->method == VS_HOTPLUG_ACPI) {
		op->r = vs_virt_set_vcpus_live(op->ref, op->target, &error);
		goto out;
	}
	op->r = vs_virt_guest_vcpus(op->ref, &before, &error);
	if (op->r < 0)
		goto out;
	op->online = (int)vs_cpuset_count(before->online);
	op->total = (int)vs_cpuset_count(before->all);
	if (op->probe)
		goto out;
	{
		bool online;
		g_autoptr(VsCpuSet) pick = vs_guest_vcpus_pick(before, op->target, &online);

		if (vs_cpuset_is_empty(pick)) {
			op->error = g_strdup_printf("the guest agent offers no CPU to take %s",
						    online ? "online" : "offline");
			op->r = -EINVAL;
			goto out_task;
		}
		op->r = vs_virt_set_guest_vcpus(op->ref, pick, online, &error);
	}
	if (op->r < 0)
		goto out;
	op->r = vs_virt_guest_vcpus(op->ref, &after, &error);
	if (op->r == 0) {
		op->online = (int)vs_cpuset_count(after->online);
		op->total = (int)vs_cpuset_count(after->all);
	}
out:
	if (error)
		op->error = g_strdup(error->message);
out_task:
	g_task_return_boolean(task, TRUE);
}

/* In the main context, once the worker returned. */
static void op_done(GObject *source, GAsyncResult *res, gpointer data)
{
	Link *link = data;
	Op *op = g_task_get_task_data(G_TASK(res));

	op->finished = true;
	op->finished_us = g_get_monotonic_time();
	if (!link->act)
		return;
	link->act->running--;
	if (link->act->wake)
		link->act->wake(link->act->wake_data);
}

/* Starts @op on a worker; the guest's record takes a reference. */
static void op_start(VsHotplugAct *a, Guest *g, Op *op)
{
	Link *link = g_rc_box_acquire(a->link);
	GTask *task = g_task_new(NULL, NULL, op_done, link);

	/* The link lives as long as the task, which outlives its callback. */
	g_object_set_data_full(G_OBJECT(task), "vsched-link", link, link_unref);
	g_task_set_task_data(task, op_ref(op), op_unref);
	g_task_run_in_thread(task, op_run);
	g_object_unref(task);
	a->running++;
	g_clear_pointer(&g->op, op_unref);
	g->op = op;
}

/* The running guest's online vCPU threads. */
static guint online_threads(const VsDomain *dom)
{
	guint n = 0;

	for (guint i = 0; dom->vcpus && i < dom->vcpus->len; i++) {
		const VsVcpu *v = &g_array_index(dom->vcpus, VsVcpu, i);

		if (v->online && v->thread.tid > 0)
			n++;
	}
	return n;
}

static void set_str(char **slot, char *value)
{
	g_free(*slot);
	*slot = value;
}

/* Records a failure of @g: reported once, then a back-off. */
static void fail(Guest *g, const VsSnapshot *snap, GPtrArray *events, char *why)
{
	int64_t backoff;

	g->failures++;
	backoff = vs_hotplug_backoff_us(g->failures);
	g->backoff_until_us = snap->mono_us + backoff;
	g->status.backoff_until_wall_us = snap->wall_us + backoff;
	g->status.failures = g->failures;
	add_event(events, LOG_WARNING, g->name,
		  "hotplug: %s; leaving the vCPU count alone for %" G_GINT64_FORMAT
		  " s (failure %u in a row)",
		  why, backoff / G_USEC_PER_SEC, g->failures);
	set_str(&g->failure, why);
	g->status.failure = g->failure;
}

/* Records a verified change of @g; @note (may be NULL) is added to the
 * description. */
static void succeed(Guest *g, const VsSnapshot *snap, GPtrArray *events, const Op *op,
		    const char *note)
{
	double took = (double)(snap->mono_us - op->started_us) / 1e6;

	g->owed = vs_hotplug_owed_after(op->kind, op->from, op->target, g->owed);
	/* The guest may have stalled until libvirt returned (TCG stops its
	 * vCPUs while QEMU adds one): figures count from then on. */
	g->last_change_us = MAX(snap->mono_us, op->finished ? op->finished_us : 0);
	g->failures = 0;
	g->backoff_until_us = 0;
	g->status.failures = 0;
	g->status.backoff_until_wall_us = 0;
	g_clear_pointer(&g->failure, g_free);
	g->status.failure = NULL;
	set_str(&g->last_action,
		g_strdup_printf("%u → %u vCPUs (%s, %s), verified %.1f s after the request%s%s",
				op->from, op->target, vs_hotplug_method_name(op->method),
				vs_hotplug_kind_name(op->kind), took, note ? " " : "",
				note ? note : ""));
	g->status.last_action = g->last_action;
	g->status.last_action_wall_us = snap->wall_us;
	add_event(events, LOG_INFO, g->name, "hotplug: %s", g->last_action);
}

/* Records the agent's answer carried by the finished @op. */
static void agent_answer(Guest *g, const VsSnapshot *snap, const Op *op)
{
	if (op->online >= 0) {
		g->agent_at_us = snap->mono_us;
		g->agent_online = op->online;
		g->agent_total = op->total;
		g->agent_failures = 0;
		g->agent_retry_us = 0;
		g_clear_pointer(&g->agent_problem, g_free);
	} else if (op->probe) {
		g->agent_failures++;
		g->agent_retry_us = snap->mono_us + vs_hotplug_backoff_us(g->agent_failures);
		g->agent_at_us = 0;
		set_str(&g->agent_problem,
			g_strdup_printf("agent method: no guest agent answering (%s)",
					op->error ? op->error : "no answer"));
	}
}

/* Checks @g's ACPI operation in flight against @dom; true when it is over. */
static bool verify_acpi(Guest *g, const VsDomain *dom, const VsSnapshot *snap, GPtrArray *events)
{
	const Op *op = g->op;
	guint threads = online_threads(dom);
	const char *libvirt;
	g_autofree char *note = NULL;
	VsHotplugAcpiCheck c = {
		.from = op->from,
		.target = op->target,
		.libvirt = dom->vcpus_current,
		.threads = threads,
		.returned = op->finished,
		.r = op->r,
		.elapsed_us = snap->mono_us - op->started_us,
		.timeout_us = VS_HOTPLUG_TIMEOUT_US,
	};

	switch (vs_hotplug_acpi_check(&c)) {
	case VS_HOTPLUG_ACPI_WAIT:
		return false;
	case VS_HOTPLUG_ACPI_DONE:
		succeed(g, snap, events, op, NULL);
		return true;
	case VS_HOTPLUG_ACPI_DONE_LIBVIRT_BEHIND:
		note = g_strdup_printf("by QEMU's vCPU threads (libvirt still counts %u)",
				       dom->vcpus_current);
		succeed(g, snap, events, op, note);
		return true;
	case VS_HOTPLUG_ACPI_REFUSED:
		fail(g, snap, events,
		     g_strdup_printf("%u → %u vCPUs (acpi) refused: %s", op->from, op->target,
				     op->error));
		return true;
	case VS_HOTPLUG_ACPI_IGNORED:
	case VS_HOTPLUG_ACPI_NOT_DONE:
		break;
	}
	libvirt = !op->finished ? "libvirt has not returned" : op->r < 0 ? op->error
									  : "libvirt accepted it";
	fail(g, snap, events,
	     g_strdup_printf("%u → %u vCPUs (acpi) not done after %" G_GINT64_FORMAT " s (%s); "
			     "the guest has %u vCPUs with %u threads%s",
			     op->from, op->target, VS_HOTPLUG_TIMEOUT_US / G_USEC_PER_SEC, libvirt,
			     dom->vcpus_current, threads,
			     op->target >= op->from || threads == op->target
				     ? ""
				     : ": it ignored the unplug request"));
	return true;
}

/* Checks @g's agent operation in flight; true when it is over. */
static bool verify_agent(Guest *g, const VsSnapshot *snap, GPtrArray *events)
{
	const Op *op = g->op;

	if (!op->finished) {
		if (snap->mono_us - op->started_us <= VS_HOTPLUG_TIMEOUT_US)
			return false;
		fail(g, snap, events,
		     g_strdup_printf("%u → %u guest CPUs (agent) not done after %" G_GINT64_FORMAT
				     " s: the agent has not answered",
				     op->from, op->target, VS_HOTPLUG_TIMEOUT_US / G_USEC_PER_SEC));
		return true;
	}
	agent_answer(g, snap, op);
	if (op->r == 0 && op->online == (int)op->target)
		succeed(g, snap, events, op, NULL);
	else if (op->error)
		fail(g, snap, events,
		     g_strdup_printf("%u → %u guest CPUs (agent) not done: %s", op->from, op->target,
				     op->error));
	else
		fail(g, snap, events,
		     g_strdup_printf("%u → %u guest CPUs (agent) not done: the guest kept %d online",
				     op->from, op->target, op->online));
	return true;
}

/* Checks @g's operation in flight; clears it when it is over. */
static void verify(Guest *g, const VsDomain *dom, const VsSnapshot *snap, GPtrArray *events)
{
	Op *op = g->op;
	bool over;

	if (op->probe) {
		over = op->finished || snap->mono_us - op->started_us > VS_HOTPLUG_TIMEOUT_US;
		if (op->finished) {
			agent_answer(g, snap, op);
		} else if (over) {
			Op late = { .probe = true, .online = -1, .error = (char *)"no answer in 30 s" };

			agent_answer(g, snap, &late);
		}
	} else if (op->method == VS_HOTPLUG_ACPI) {
		over = verify_acpi(g, dom, snap, events);
	} else {
		over = verify_agent(g, snap, events);
	}
	if (over)
		g_clear_pointer(&g->op, op_unref);
}

/* A new operation on @g's domain; NULL (with a failure recorded) when the
 * domain cannot be reached. */
static Op *op_new(VsHotplugAct *a, Guest *g, const VsSnapshot *snap, GPtrArray *events,
		  VsHotplugMethod method)
{
	g_autoptr(GError) error = NULL;
	VsVirtDomainRef *ref = NULL;
	Op *op;

	if (vs_virt_domain_ref(a->virt, g->uuid, &ref, &error) < 0) {
		fail(g, snap, events, g_strdup_printf("cannot reach the domain: %s", error->message));
		return NULL;
	}
	op = g_atomic_rc_box_new0(Op);
	op->method = method;
	op->ref = ref;
	op->started_us = snap->mono_us;
	op->online = -1;
	return op;
}

/* Asks the agent for the guest's CPUs when the last answer is old. */
static void agent_refresh(VsHotplugAct *a, Guest *g, const VsSnapshot *snap, GPtrArray *events)
{
	Op *op;

	if (g->op || snap->mono_us < g->agent_retry_us ||
	    (g->agent_at_us && snap->mono_us - g->agent_at_us < VS_HOTPLUG_AGENT_REFRESH_US))
		return;
	op = op_new(a, g, snap, events, VS_HOTPLUG_AGENT);
	if (!op)
		return;
	op->probe = true;
	op_start(a, g, op);
}

static const char *pending_text(Guest *g, const VsSnapshot *snap)
{
	const Op *op = g->op;
	double ago;

	if (!op)
		return NULL;
	ago = (double)(snap->mono_us - op->started_us) / 1e6;
	if (op->probe)
		set_str(&g->pending_text,
			g_strdup_printf("the guest agent's CPU list (asked %.1f s ago)", ago));
	else
		set_str(&g->pending_text,
			g_strdup_printf("%u → %u vCPUs (%s, requested %.1f s ago)", op->from,
					op->target, vs_hotplug_method_name(op->method), ago));
	return g->pending_text;
}

static Guest *guest_get(VsHotplugAct *a, const VsDomain *dom)
{
	Guest *g = g_hash_table_lookup(a->guests, dom->uuid);

	if (!g) {
		g = g_new0(Guest, 1);
		g_strlcpy(g->uuid, dom->uuid, sizeof(g->uuid));
		g_hash_table_insert(a->guests, g->uuid, g);
	}
	if (g_strcmp0(g->name, dom->name) != 0)
		set_str(&g->name, g_strdup(dom->name));
	return g;
}

/* The @n highest-numbered vCPUs of @dom that libvirt counts online and
 * that have a thread in QEMU, vCPU 0 excepted (it cannot be unplugged);
 * NULL when there are fewer. */
static VsCpuSet *unplug_pick(const VsDomain *dom, guint n)
{
	g_autoptr(VsCpuSet) pick = vs_cpuset_new();

	for (guint i = dom->vcpus ? dom->vcpus->len : 0; i-- > 1 && n > 0;) {
		const VsVcpu *v = &g_array_index(dom->vcpus, VsVcpu, i);

		if (v->online && v->thread.tid > 0) {
			vs_cpuset_add(pick, v->index);
			n--;
		}
	}
	return n == 0 ? g_steal_pointer(&pick) : NULL;
}

/* Reports, once per count, that libvirt counts vCPUs QEMU has removed. */
static void report_behind(Guest *g, const VsDomain *dom, guint threads, GPtrArray *events)
{
	if (dom->vcpus_current <= threads || threads == 0) {
		g->behind_reported = 0;
		return;
	}
	if (g->behind_reported == dom->vcpus_current)
		return;
	g->behind_reported = dom->vcpus_current;
	add_event(events, LOG_NOTICE, g->name,
		  "hotplug: libvirt counts %u vCPUs, QEMU runs %u vCPU threads: libvirt missed "
		  "the removal of %u (it updates its count on QEMU's DEVICE_DELETED event for "
		  "the vCPU, which QEMU 7.2 with TCG never sends, or when libvirtd reconnects); "
		  "vsched counts QEMU's threads, unplugs chosen vCPUs and adds none until "
		  "libvirt catches up",
		  dom->vcpus_current, threads, dom->vcpus_current - threads);
}

/* Plans one running guest and starts what the plan asks for. */
static void tick_guest(VsHotplugAct *a, const VsHotplugTickInput *in, const VsDomain *dom,
		       GPtrArray *events)
{
	const VsSnapshot *snap = in->snapshot;
	g_autoptr(VsEffectivePolicy) owned = NULL;
	const VsEffectivePolicy *eff = vs_policy_cache_or_merge(
		in->policy_cache, in->policies, in->overrides, dom->name, dom->uuid,
		dom->vsched_class, snap->wall_us, &owned);
	Guest *g = guest_get(a, dom);
	VsHotplugPolicy p;
	VsHotplugSignals sig;
	VsHotplugDecision d = { 0 };
	VsHotplugInput pin;
	guint threads = online_threads(dom);
	/* ACPI: QEMU's vCPU threads when libvirt counts more (its count has
	 * gone stale after an unplug, see verify_acpi()). */
	bool behind = threads > 0 && dom->vcpus_current > threads;
	guint current = behind ? threads : dom->vcpus_current;
	g_autoptr(VsCpuSet) unplug = NULL;
	Op *op;

	vs_hotplug_policy_from(eff, &p);
	if (g->op)
		verify(g, dom, snap, events);
	/* Not while a change is in flight: a new vCPU's thread may show a
	 * tick after libvirt counts it. */
	if (p.enable && p.method == VS_HOTPLUG_ACPI && !g->op)
		report_behind(g, dom, threads, events);
	if (p.enable && p.method == VS_HOTPLUG_AGENT) {
		if (in->acting)
			agent_refresh(a, g, snap, events);
		current = g->agent_at_us ? (guint)g->agent_online : 0;
	}
	/* Signals without a series are none; a guest without hotplug reads
	 * no series (its plan is "Enable=no" whatever they say). */
	vs_hotplug_signals(&p,
			   p.enable && in->series ? in->series(in->series_data, dom->uuid) : NULL,
			   threads, p.method == VS_HOTPLUG_AGENT ? current : threads, &sig);
	pin = (VsHotplugInput){
		.policy = &p,
		.domain_max = dom->vcpus_max,
		.current = current,
		.signals = &sig,
		.now_us = snap->mono_us,
		.last_change_us = g->last_change_us,
		.contention_owed = g->owed,
		.pending = pending_text(g, snap),
		.backoff_until_us = g->backoff_until_us,
		.backoff_why = g->failure,
		.unknown_why = g->agent_problem ? g->agent_problem
			       : in->acting     ? "waiting for the guest agent's answer"
						: "the guest agent is not asked in a dry run",
	};
	vs_hotplug_plan(&pin, &d);

	g->status.enabled = p.enable;
	g->status.method = p.method;
	g->status.current = current;
	vs_hotplug_bounds(&p, dom->vcpus_max, &g->status.min, &g->status.max);
	g->status.pending = pin.pending;
	set_str(&g->reason, d.reason);
	g->status.reason = g->reason;
	if (d.kind == VS_HOTPLUG_NONE) {
		g->status.target = g->op && !g->op->probe ? g->op->target : 0;
		return;
	}
	if (p.method == VS_HOTPLUG_ACPI && behind && d.target > current) {
		/* libvirt would fail (its vCPUs without a thread fail its
		 * check) or take the count for an unplug. */
		set_str(&g->reason,
			g_strdup_printf("%s; held: libvirt still counts %u vCPUs where QEMU runs "
					"%u, so vCPUs are added once libvirt catches up "
					"(libvirtd reconnecting)",
					d.reason, dom->vcpus_current, threads));
		g->status.reason = g->reason;
		g->status.target = 0;
		return;
	}
	if (p.method == VS_HOTPLUG_ACPI && d.target < current)
		unplug = unplug_pick(dom, current - d.target);
	g->status.target = d.target;
	if (!in->acting) {
		if (g_strcmp0(g->would, d.reason) != 0)
			add_event(events, LOG_INFO, g->name, "would change: %s", d.reason);
		set_str(&g->would, g_strdup(d.reason));
		return;
	}
	op = op_new(a, g, snap, events, p.method);
	if (!op)
		return;
	op->kind = d.kind;
	op->from = current;
	op->target = d.target;
	op->unplug = g_steal_pointer(&unplug);
	add_event(events, LOG_INFO, g->name, "%s", d.reason);
	op_start(a, g, op);
	g->status.pending = pending_text(g, snap);
}

void vs_hotplug_act_tick(VsHotplugAct *a, const VsHotplugTickInput *in, GPtrArray *events)
{
	const VsSnapshot *snap = in->snapshot;
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTableIter iter;
	gpointer key;

	/* While libvirt is away the guests are as last seen: wait. */
	if (!snap->virt_connected)
		return;
	for (guint i = 0; i < snap->domains->len; i++) {
		const VsDomain *dom = g_ptr_array_index(snap->domains, i);

		if (dom->pid <= 0 || dom->id < 0)
			continue;
		g_hash_table_add(seen, (gpointer)dom->uuid);
		tick_guest(a, in, dom, events);
	}
	/* A guest that stopped: its operations finish on their own. */
	g_hash_table_iter_init(&iter, a->guests);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		if (!g_hash_table_contains(seen, key))
			g_hash_table_iter_remove(&iter);
}

const VsHotplugStatus *vs_hotplug_act_status(const VsHotplugAct *a, const char *uuid)
{
	const Guest *g = g_hash_table_lookup(a->guests, uuid);

	return g ? &g->status : NULL;
}

guint vs_hotplug_act_wait(VsHotplugAct *a, int64_t timeout_us)
{
	int64_t deadline = g_get_monotonic_time() + timeout_us;

	a->wake = NULL;
	while (a->running > 0 && g_get_monotonic_time() < deadline)
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(10 * 1000);
	return a->running;
}
