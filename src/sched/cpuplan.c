/* The CPU plan: placement, pinning overrides and deadline admission turned
 * into per-thread actions with reasons; see cpuplan.h. */
#include "config.h"

#include "core/changes.h"
#include "sched/cgplan.h"
#include "sched/cpuplan.h"
#include "sched/deadline.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/strbuf.h"

#include <errno.h>
#include <string.h>

/* One running guest while planning. */
typedef struct Guest {
	const VsDomain *dom;
	VsEffectivePolicy *eff;
	char *provenance;          /* of Placement=, NULL: built-in default */
	GPtrArray *vcpus;          /* const VsVcpu *: online, with a thread, by index */
	const VsPolicyValue *reservation;
	char *reservation_from;    /* provenance of Reservation= */
	bool reserved;             /* admitted: every vCPU gets a DEADLINE action */
	bool was_reserved;         /* Applied has a reservation on one of its vCPUs */
	GPtrArray *reasons;        /* char * */
	char *reservation_note;    /* for show: NULL, "1ms/100ms" or "refused: ..." */
	GPtrArray *vcpu_cpus;      /* VsCpuSet: the planned affinity of each of vcpus */
} Guest;

static void guest_clear(Guest *g)
{
	g_clear_pointer(&g->eff, vs_effective_policy_free);
	g_free(g->provenance);
	g_clear_pointer(&g->vcpus, g_ptr_array_unref);
	g_free(g->reservation_from);
	g_clear_pointer(&g->reasons, g_ptr_array_unref);
	g_free(g->reservation_note);
	g_clear_pointer(&g->vcpu_cpus, g_ptr_array_unref);
}

void vs_cpu_action_free(VsCpuAction *a)
{
	if (!a)
		return;

	g_free(a->domain);
	g_free(a->what);
	vs_thread_clear(&a->thread);
	vs_cpuset_free(a->cpus);
	g_free(a->reason);
	g_free(a->dir);
	g_free(a->file);
	g_free(a->value);
	g_free(a);
}

static void vcpu_plan_free(gpointer data)
{
	VsCpuVcpuPlan *v = data;

	g_free(v->affinity);
	g_free(v->placement);
	g_free(v->reservation);
	g_free(v);
}

void vs_cpu_plan_free(VsCpuPlan *plan)
{
	if (!plan)
		return;
	g_ptr_array_unref(plan->actions);
	g_clear_pointer(&plan->placement, vs_placement_free);
	g_hash_table_unref(plan->reasons);
	g_hash_table_unref(plan->vcpus);
	g_free(plan);
}

char *vs_cpu_thread_key(const VsThread *t)
{
	GString *s = g_string_sized_new(32);

	/* Without printf: the actuator makes several per thread per tick. */
	vs_strbuf_append_int(s, t->tid);
	g_string_append_c(s, ':');
	vs_strbuf_append_uint(s, t->start_time);
	return g_string_free(s, FALSE);
}

char *vs_cpu_deadline_key(const VsThread *t, int64_t runtime_us, int64_t period_us)
{
	return g_strdup_printf("%d:%" G_GUINT64_FORMAT "/%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
			       (int)t->tid, t->start_time, runtime_us, period_us);
}

uint64_t vs_cpu_plan_inputs_hash(const VsSnapshot *snap)
{
	const VsHost *host = snap->host;
	uint64_t h = vs_changes_threads_hash(snap);

	for (guint i = 0; i < snap->domains->len; i++) {
		const VsDomain *dom = g_ptr_array_index(snap->domains, i);

		if (dom->pid <= 0)
			continue;
		h = vs_digest_str(h, dom->name);
		h = vs_digest_str(h, dom->vsched_class);
		h = vs_digest_str(h, dom->cgroup_path);
		h = vs_digest_str(h, dom->cgroup_v1_cpuset);
		h = vs_digest_mix(h, ((uint64_t)dom->vcpus_current << 32) | dom->vcpus_max);
		h = vs_digest_mix(h, (uint64_t)(uint32_t)dom->id);
	}
	if (!host)
		return h;
	h = vs_digest_mix(h, vs_cpuset_hash(host->topology.online));
	h = vs_digest_mix(h, (uint64_t)host->topology.smt | (uint64_t)host->caps.deadline.ok << 1 |
			   (uint64_t)host->caps.cpuset_partitions.ok << 2 |
			   (uint64_t)host->caps.cgroup_v2_cpu.ok << 3 |
			   (uint64_t)host->caps.cgroup_v2_cpuset.ok << 4);
	h = vs_digest_mix(h, (uint64_t)host->caps.rt_runtime_us);
	return vs_digest_mix(h, (uint64_t)host->caps.rt_period_us);
}

/* The key of vCPU @index of guest @uuid in a plan's vcpus table,
 * "UUID/INDEX"; caller frees. Without printf: one per vCPU per plan. */
static char *vcpu_key(const char *uuid, guint index)
{
	size_t n = strlen(uuid);
	char *key = g_malloc(n + 1 + VS_FMT_INT_MAX + 1);

	memcpy(key, uuid, n);
	key[n++] = '/';
	key[n + vs_fmt_uint(key + n, index)] = '\0';
	return key;
}

/* "10-db.policy:5", "override ov-3", or NULL for a built-in default. */
static char *provenance(const VsEffectiveEntry *e)
{
	g_autofree char *base = NULL;

	if (!e)
		return NULL;
	switch (e->origin) {
	case VS_ORIGIN_FILE:
		base = g_path_get_basename(e->file);
		return g_strdup_printf("%s:%u", base, e->line);
	case VS_ORIGIN_OVERRIDE:
		return g_strdup_printf("override %s", e->override_id);
	case VS_ORIGIN_DEFAULT:
		break;
	}
	return NULL;
}

/* "policy 10-db.policy:5" or "built-in default". */
static const char *from_text(const char *prov, char *buf, size_t size)
{
	if (!prov)
		return "built-in default";
	g_snprintf(buf, size, "%s%s", g_str_has_prefix(prov, "override") ? "" : "policy ", prov);
	return buf;
}

char *vs_cpu_plan_from(const VsEffectiveEntry *e)
{
	g_autofree char *prov = provenance(e);
	char buf[256];

	return g_strdup(from_text(prov, buf, sizeof(buf)));
}

static const char *enum_value(const VsEffectivePolicy *eff, const char *name, const char *def)
{
	const VsEffectiveEntry *e = vs_effective_get(eff, "CPU", name);

	return e && e->value ? e->value->str : def;
}

static int cmp_vcpu(gconstpointer a, gconstpointer b)
{
	const VsVcpu *x = *(const VsVcpu *const *)a, *y = *(const VsVcpu *const *)b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/* The Pin= entry of @eff for vCPU @index, or NULL. */
static const VsEffectiveEntry *pin_of(const VsEffectivePolicy *eff, guint index)
{
	for (guint i = 0; i < eff->entries->len; i++) {
		const VsEffectiveEntry *e = &g_array_index(eff->entries, VsEffectiveEntry, i);

		if (e->value && e->value->type == VS_PTYPE_PIN && e->value->pin.vcpu == index)
			return e;
	}
	return NULL;
}

static void add_reason(Guest *g, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void add_reason(Guest *g, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	g_ptr_array_add(g->reasons, g_strdup_vprintf(format, ap));
	va_end(ap);
}

static bool applied_reserved(const VsApplied *applied, const VsThread *t)
{
	return applied && vs_applied_find(applied, VS_APPLIED_DEADLINE, t);
}

/* Collects the running guests with at least one vCPU thread. */
static GArray *collect_guests(const VsCpuPlanInput *in)
{
	GArray *guests = g_array_new(FALSE, TRUE, sizeof(Guest));

	g_array_set_clear_func(guests, (GDestroyNotify)guest_clear);
	for (guint i = 0; i < in->snapshot->domains->len; i++) {
		const VsDomain *dom = g_ptr_array_index(in->snapshot->domains, i);
		Guest g = { .dom = dom };
		const VsEffectiveEntry *res;

		if (dom->pid <= 0 || dom->id < 0 || !dom->vcpus)
			continue;
		g.vcpus = g_ptr_array_sized_new(dom->vcpus->len);
		for (guint j = 0; j < dom->vcpus->len; j++) {
			const VsVcpu *v = &g_array_index(dom->vcpus, VsVcpu, j);

			if (v->online && v->thread.tid > 0)
				g_ptr_array_add(g.vcpus, (gpointer)v);
		}
		if (g.vcpus->len == 0) {
			g_ptr_array_unref(g.vcpus);
			continue;
		}
		g_ptr_array_sort(g.vcpus, cmp_vcpu);
		g.eff = vs_policy_effective(in->policies, in->overrides, dom->name, dom->uuid,
					    dom->vsched_class, in->now_us);
		g.provenance = provenance(vs_effective_get(g.eff, "CPU", "Placement"));
		res = vs_effective_get(g.eff, "CPU", "Reservation");
		if (res && res->value) {
			g.reservation = res->value;
			g.reservation_from = provenance(res);
		}
		for (guint j = 0; j < g.vcpus->len; j++)
			if (applied_reserved(in->applied,
					     &((const VsVcpu *)g_ptr_array_index(g.vcpus, j))->thread))
				g.was_reserved = true;
		g.reasons = g_ptr_array_new_with_free_func(g_free);
		g.vcpu_cpus = g_ptr_array_new_with_free_func((GDestroyNotify)vs_cpuset_free);
		g_array_append_val(guests, g);
	}
	return guests;
}

/* Whether a vCPU of a guest of @guests other than @self may run on @cpu. */
static bool other_guest_on(GArray *guests, const Guest *self, guint cpu)
{
	for (guint i = 0; i < guests->len; i++) {
		const Guest *o = &g_array_index(guests, Guest, i);

		if (o == self)
			continue;
		for (guint j = 0; j < o->vcpus->len; j++) {
			const VsThread *t = &((const VsVcpu *)g_ptr_array_index(o->vcpus, j))->thread;

			if (t->affinity && vs_cpuset_has(t->affinity, cpu))
				return true;
		}
	}
	return false;
}

/* The one CPU each vCPU of @g is pinned to now (a new array), or NULL when
 * one is pinned to none or several, or to a CPU another guest's vCPUs may
 * use too (then it was not a dedicated placement, e.g. a dedicated guest
 * that fell back to a one-CPU shared pool). */
static guint *current_cpus(GArray *guests, const Guest *g)
{
	g_autofree guint *cpus = g_new(guint, MAX(g->vcpus->len, 1));

	for (guint j = 0; j < g->vcpus->len; j++) {
		const VsThread *t = &((const VsVcpu *)g_ptr_array_index(g->vcpus, j))->thread;

		if (!t->affinity || vs_cpuset_count(t->affinity) != 1)
			return NULL;
		cpus[j] = (guint)vs_cpuset_next(t->affinity, 0);
		if (other_guest_on(guests, g, cpus[j]))
			return NULL;
	}
	return g_steal_pointer(&cpus);
}

static int placement_for(const VsCpuPlanInput *in, GArray *guests, VsPlacement **ret,
			 GError **error)
{
	g_autofree VsPlacementGuest *pg = g_new0(VsPlacementGuest, MAX(guests->len, 1));
	g_autoptr(GPtrArray) current = g_ptr_array_new_with_free_func(g_free);
	VsPlacementInput pin = {
		.topology = &in->snapshot->host->topology,
		.managed = in->managed,
		.housekeeping = in->housekeeping,
		.overcommit_limit = in->overcommit_limit,
		.guests = pg,
		.n_guests = guests->len,
		.previous = in->previous,
	};

	for (guint i = 0; i < guests->len; i++) {
		const Guest *g = &g_array_index(guests, Guest, i);
		const VsEffectiveEntry *allowed = vs_effective_get(g->eff, "CPU", "AllowedCPUs");
		const char *emu = enum_value(g->eff, "EmulatorPlacement", "housekeeping");

		pg[i] = (VsPlacementGuest){
			.uuid = g->dom->uuid,
			.name = g->dom->name,
			.n_vcpus = g->vcpus->len,
			.mode = strcmp(enum_value(g->eff, "Placement", "shared"), "dedicated") == 0
					? VS_PLACE_DEDICATED : VS_PLACE_SHARED,
			.siblings = strcmp(enum_value(g->eff, "Siblings", "isolate"), "share") == 0
					    ? VS_SIBLINGS_SHARE : VS_SIBLINGS_ISOLATE,
			.emulator = strcmp(emu, "shared") == 0 ? VS_EMU_SHARED :
				    strcmp(emu, "vcpus") == 0 ? VS_EMU_VCPUS : VS_EMU_HOUSEKEEPING,
			.allowed = allowed && allowed->value ? allowed->value->cpus : NULL,
			.provenance = g->provenance,
		};
		/* The first plan after a start keeps dedicated guests where the
		 * threads are (placement.h). */
		if (!in->previous) {
			guint *cpus = current_cpus(guests, g);

			g_ptr_array_add(current, cpus);
			pg[i].current = cpus;
		}
	}
	return vs_placement_plan(&pin, ret, error);
}

/* Decides the reservation of @g (admitting it in @adm) and notes why. */
static void admit_guest(const VsCpuPlanInput *in, VsAdmission *adm, Guest *g)
{
	const VsHost *host = in->snapshot->host;
	const VsTopology *topo = &host->topology;
	bool partitions = host->caps.cpuset_partitions.ok;
	g_autofree char *res_text = NULL;
	g_autofree char *why = NULL;
	char buf[256];
	guint admitted = 0;

	if (!g->reservation)
		return;
	res_text = g_strdup(g->reservation->text);
	if (!host->caps.deadline.ok) {
		why = g_strdup_printf("this host cannot run SCHED_DEADLINE (%s)",
				      host->caps.deadline.detail ? host->caps.deadline.detail : "no detail");
		goto refused;
	}
	for (guint j = 0; j < g->vcpus->len; j++) {
		const VsVcpu *v = g_ptr_array_index(g->vcpus, j);
		g_autofree char *key = vs_cpu_deadline_key(&v->thread,
							   g->reservation->res.runtime_us,
							   g->reservation->res.period_us);
		const char *kernel = in->refused ? g_hash_table_lookup(in->refused, key) : NULL;

		if (kernel) {
			why = g_strdup_printf("the kernel refused it for vcpu%u: %s", v->index, kernel);
			goto refused;
		}
		if (!partitions && pin_of(g->eff, v->index)) {
			g_autofree char *online = vs_cpuset_format(topo->online);

			why = g_strdup_printf("Pin= narrows vcpu%u below the root domain (CPUs %s), "
					      "which a deadline thread needs without cpuset "
					      "partitions", v->index, online);
			goto refused;
		}
	}
	for (guint j = 0; j < g->vcpus->len; j++) {
		const VsVcpu *v = g_ptr_array_index(g->vcpus, j);
		g_autofree char *key = g_strdup_printf("%s/vcpu%u", g->dom->uuid, v->index);
		VsDeadlineRequest req = {
			.key = key,
			.runtime_us = g->reservation->res.runtime_us,
			.period_us = g->reservation->res.period_us,
			.n_cpus_span = 0,
		};
		g_autofree char *no = NULL;

		if (!vs_admission_admit(adm, &req, &no)) {
			why = g_strdup_printf("vcpu%u %s", v->index, no ? no : "does not fit");
			break;
		}
		admitted++;
	}
	if (why) {
		for (guint j = 0; j < admitted; j++) {
			const VsVcpu *v = g_ptr_array_index(g->vcpus, j);
			g_autofree char *key = g_strdup_printf("%s/vcpu%u", g->dom->uuid, v->index);

			vs_admission_release(adm, key);
		}
		goto refused;
	}
	g->reserved = true;
	g->reservation_note = g_strdup(res_text);
	add_reason(g, "reservation %s admitted for each of %u vCPU(s) (%s)", res_text,
		   g->vcpus->len, from_text(g->reservation_from, buf, sizeof(buf)));
	if (!partitions) {
		g_autofree char *online = vs_cpuset_format(topo->online);

		add_reason(g, "reserved vCPUs may run on every online CPU (%s): without cpuset "
			   "partitions the kernel accepts a deadline thread only when its affinity "
			   "spans the whole root domain", online);
	}
	return;

refused:
	g->reservation_note = g_strdup_printf("refused: %s", why);
	add_reason(g, "reservation %s not given (%s): %s; the vCPUs keep their placement "
		   "without a deadline", res_text, from_text(g->reservation_from, buf, sizeof(buf)),
		   why);
}

/* Guests reserved by vsched before come first, then the snapshot's order. */
static GPtrArray *admission_order(GArray *guests)
{
	GPtrArray *order = g_ptr_array_new();

	for (int pass = 0; pass < 2; pass++)
		for (guint i = 0; i < guests->len; i++) {
			Guest *g = &g_array_index(guests, Guest, i);

			if (g->was_reserved == (pass == 0))
				g_ptr_array_add(order, g);
		}
	return order;
}

static VsCpuAction *action_new(VsCpuActionKind kind, const Guest *g, const char *what,
			       const VsThread *t)
{
	VsCpuAction *a = g_new0(VsCpuAction, 1);

	a->kind = kind;
	g_strlcpy(a->uuid, g->dom->uuid, sizeof(a->uuid));
	a->domain = g_strdup(g->dom->name);
	a->what = g_strdup(what);
	a->thread.pid = t->pid;
	a->thread.tid = t->tid;
	a->thread.start_time = t->start_time;
	a->thread.comm = g_strdup(t->comm);
	a->thread.cpu = t->cpu;
	a->thread.affinity = t->affinity ? vs_cpuset_copy(t->affinity) : NULL;
	return a;
}

/* The actions and reasons of the vCPUs of @g. */
static void plan_vcpus(const VsCpuPlanInput *in, Guest *g, const VsGuestPlacement *gp,
		       GPtrArray *actions, GHashTable *vcpus)
{
	const VsCpuSet *online = in->snapshot->host->topology.online;
	bool partitions = in->snapshot->host->caps.cpuset_partitions.ok;
	char buf[256];

	for (guint j = 0; j < g->vcpus->len; j++) {
		const VsVcpu *v = g_ptr_array_index(g->vcpus, j);
		const VsVcpuPlacement *vp = &gp->vcpus[j];
		const VsEffectiveEntry *pin = pin_of(g->eff, v->index);
		char what[4 + VS_FMT_INT_MAX + 1] = "vcpu";
		g_autoptr(VsCpuSet) cpus = NULL;
		g_autofree char *sentence = NULL;
		g_autofree char *pin_from = NULL;
		g_autofree char *cpus_text = NULL;
		VsCpuVcpuPlan *vplan = g_new0(VsCpuVcpuPlan, 1);
		VsCpuAction *a;

		what[4 + vs_fmt_uint(what + 4, v->index)] = '\0';
		if (pin) {
			cpus = vs_cpuset_copy(pin->value->pin.cpus);
			vs_cpuset_intersect(cpus, online);
			pin_from = provenance(pin);
		}
		if (cpus && !vs_cpuset_is_empty(cpus)) {
			cpus_text = vs_cpuset_format(cpus);
			sentence = g_strdup_printf("%s of %s → CPUs %s: pinned by Pin=%s (%s)", what,
						   g->dom->name, cpus_text, pin->value->text,
						   from_text(pin_from, buf, sizeof(buf)));
			vplan->placement = g_strdup_printf("pinned by Pin=%s", pin->value->text);
		} else {
			if (pin)
				add_reason(g, "Pin=%s ignored: none of its CPUs is online",
					   pin->value->text);
			g_clear_pointer(&cpus, vs_cpuset_free);
			if (g->reserved && !partitions) {
				cpus = vs_cpuset_copy(online);
				cpus_text = vs_cpuset_format(cpus);
				sentence = g_strdup_printf("%s of %s → CPUs %s: reservation %s needs "
							   "the whole root domain without cpuset "
							   "partitions (%s)", what, g->dom->name,
							   cpus_text, g->reservation->text,
							   from_text(g->reservation_from, buf,
								     sizeof(buf)));
				vplan->placement = g_strdup("root domain (deadline reservation)");
			} else {
				cpus = vs_cpuset_copy(vp->affinity);
				cpus_text = vs_cpuset_format(cpus);
				if (gp->got == VS_PLACE_DEDICATED) {
					vplan->placement = g_strdup_printf("dedicated CPU %u", vp->cpu);
					sentence = g_strdup_printf("%s of %s → CPU %u: dedicated (%s)%s",
								   what, g->dom->name, vp->cpu,
								   from_text(g->provenance, buf,
									     sizeof(buf)),
								   vp->kept ? ", kept from the last plan" : "");
				} else {
					vplan->placement = g_strdup_printf("shared pool %s, home CPU %u",
									   cpus_text, vp->cpu);
					sentence = g_strdup_printf(
						"%s of %s → shared pool %s, home CPU %u: %s (%s)%s", what,
						g->dom->name, cpus_text, vp->cpu,
						gp->asked == VS_PLACE_DEDICATED
							? "dedicated asked but not possible"
							: "shared",
						from_text(g->provenance, buf, sizeof(buf)),
						vp->kept ? ", kept from the last plan" : "");
				}
			}
		}
		vplan->affinity = g_strdup(cpus_text);
		vplan->reservation = g_strdup(g->reservation_note);
		g_hash_table_insert(vcpus, vcpu_key(g->dom->uuid, v->index), vplan);
		g_ptr_array_add(g->reasons, g_strdup(sentence));

		g_ptr_array_add(g->vcpu_cpus, vs_cpuset_copy(cpus));
		a = action_new(VS_CPU_ACTION_AFFINITY, g, what, &v->thread);
		a->cpus = g_steal_pointer(&cpus);
		a->reason = g_steal_pointer(&sentence);
		g_ptr_array_add(actions, a);

		if (g->reserved) {
			a = action_new(VS_CPU_ACTION_DEADLINE, g, what, &v->thread);
			a->runtime_us = g->reservation->res.runtime_us;
			a->period_us = g->reservation->res.period_us;
			a->reason = g_strdup_printf("%s of %s: SCHED_DEADLINE %s (%s)", what,
						    g->dom->name, g->reservation->text,
						    from_text(g->reservation_from, buf, sizeof(buf)));
			g_ptr_array_add(actions, a);
		} else if (applied_reserved(in->applied, &v->thread)) {
			a = action_new(VS_CPU_ACTION_DEADLINE_CLEAR, g, what, &v->thread);
			a->reason = g_strdup_printf("%s of %s: no reservation any more%s; back to the "
						    "scheduling policy it had before", what,
						    g->dom->name,
						    g->reservation ? " (refused)" : "");
			g_ptr_array_add(actions, a);
		}
	}
}

/* The affinity actions of the emulator and I/O threads of @g. */
static void plan_others(Guest *g, const VsGuestPlacement *gp, GPtrArray *actions)
{
	const GArray *lists[] = { g->dom->emulator_threads, g->dom->io_threads };
	const char *names[] = { "emulator", "iothread" };
	g_autofree char *cpus_text = vs_cpuset_format(gp->emulator);

	for (size_t l = 0; l < G_N_ELEMENTS(lists); l++) {
		for (guint i = 0; lists[l] && i < lists[l]->len; i++) {
			const VsThread *t = &g_array_index(lists[l], VsThread, i);
			VsCpuAction *a;

			if (t->tid <= 0)
				continue;
			a = action_new(VS_CPU_ACTION_AFFINITY, g, names[l], t);
			a->cpus = vs_cpuset_copy(gp->emulator);
			a->reason = g_strdup_printf("%s thread \"%s\" of %s → CPUs %s: the guest's "
						    "emulator placement", names[l],
						    t->comm ? t->comm : "", g->dom->name, cpus_text);
			g_ptr_array_add(actions, a);
		}
	}
}

/* The cgroup actions and reasons of @g (cgplan.h). */
static void plan_cgroups(const VsCpuPlanInput *in, Guest *g, const VsGuestPlacement *gp,
			 GPtrArray *actions)
{
	g_autofree guint *index = g_new0(guint, MAX(g->vcpus->len, 1));
	VsCgplanGuest cg = {
		.host = in->snapshot->host,
		.dom = g->dom,
		.eff = g->eff,
		.n_vcpus = g->vcpus->len,
		.vcpu_index = index,
		.vcpu_cpus = (VsCpuSet *const *)g->vcpu_cpus->pdata,
		.emulator = gp->emulator,
		.dedicated = gp->got == VS_PLACE_DEDICATED,
	};

	for (guint j = 0; j < g->vcpus->len; j++)
		index[j] = ((const VsVcpu *)g_ptr_array_index(g->vcpus, j))->index;
	vs_cgplan_guest(&cg, actions, g->reasons);
}

/* The key of what @a sets: the same key for an Applied entry of the same
 * setting (restore_key()). */
static char *action_key(const VsCpuAction *a)
{
	g_autofree char *tk = vs_cpu_thread_key(&a->thread);

	switch (a->kind) {
	case VS_CPU_ACTION_CGROUP:
		return g_strdup_printf("c|%s/%s", a->dir, a->file);
	case VS_CPU_ACTION_AFFINITY:
		return g_strdup_printf("a|%s", tk);
	case VS_CPU_ACTION_DEADLINE:
	case VS_CPU_ACTION_DEADLINE_CLEAR:
		break;
	}
	return g_strdup_printf("d|%s", tk);
}

static char *entry_key(const VsAppliedEntry *e)
{
	g_autofree char *tk = vs_cpu_thread_key(&e->thread);

	switch (e->kind) {
	case VS_APPLIED_CGROUP:
		return g_strdup_printf("c|%s/%s", e->dir, e->file);
	case VS_APPLIED_AFFINITY:
		return g_strdup_printf("a|%s", tk);
	case VS_APPLIED_NICE:
		return g_strdup_printf("n|%s", tk);
	case VS_APPLIED_DEADLINE:
		break;
	}
	return g_strdup_printf("d|%s", tk);
}

/* Restore actions for what Applied holds for the planned guests (@by_uuid:
 * uuid → Guest) that @actions no longer set: the policy stopped managing
 * it. */
static void plan_restores(const VsCpuPlanInput *in, GPtrArray *actions, GHashTable *by_uuid)
{
	g_autoptr(GHashTable) planned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	if (!in->applied)
		return;
	for (guint i = 0; i < actions->len; i++)
		g_hash_table_add(planned, action_key(g_ptr_array_index(actions, i)));
	for (guint i = 0; i < in->applied->entries->len; i++) {
		const VsAppliedEntry *e = g_ptr_array_index(in->applied->entries, i);
		g_autofree char *key = entry_key(e);
		Guest *g = g_hash_table_lookup(by_uuid, e->uuid);
		g_autofree char *orig = NULL;
		VsCpuAction *a;

		/* Nice boosts are co-scheduling's (cosched.h): it releases
		 * them itself. */
		if (!g || e->kind == VS_APPLIED_NICE || g_hash_table_contains(planned, key))
			continue;
		switch (e->kind) {
		case VS_APPLIED_CGROUP:
			a = action_new(VS_CPU_ACTION_CGROUP, g, e->what, &e->thread);
			a->dir = g_strdup(e->dir);
			a->file = g_strdup(e->file);
			a->value = g_strdup(e->orig_value);
			a->reason = g_strdup_printf("%s of %s no longer set by its policy: back to "
						    "\"%s\", its value before vsched", e->file,
						    e->what, e->orig_value);
			break;
		case VS_APPLIED_AFFINITY:
			orig = vs_cpuset_format(e->orig_cpus);
			a = action_new(VS_CPU_ACTION_AFFINITY, g, e->what, &e->thread);
			a->cpus = vs_cpuset_copy(e->orig_cpus);
			a->reason = g_strdup_printf("%s of %s no longer placed by vsched: affinity "
						    "back to CPUs %s, its value before vsched",
						    e->what, g->dom->name, orig);
			break;
		case VS_APPLIED_DEADLINE:
		default:
			a = action_new(VS_CPU_ACTION_DEADLINE_CLEAR, g, e->what, &e->thread);
			a->reason = g_strdup_printf("%s of %s no longer planned: back to the "
						    "scheduling policy it had before", e->what,
						    g->dom->name);
			break;
		}
		a->restore = true;
		add_reason(g, "%s", a->reason);
		g_ptr_array_add(actions, a);
	}
}

static int action_order(gconstpointer a, gconstpointer b)
{
	const VsCpuAction *x = *(const VsCpuAction *const *)a;
	const VsCpuAction *y = *(const VsCpuAction *const *)b;

	return (int)x->kind - (int)y->kind;
}

int vs_cpu_plan(const VsCpuPlanInput *in, VsCpuPlan **ret, GError **error)
{
	g_autoptr(GArray) guests = collect_guests(in);
	g_autoptr(VsPlacement) placement = NULL;
	g_autoptr(VsAdmission) adm = NULL;
	g_autoptr(GPtrArray) order = NULL;
	g_autoptr(GHashTable) by_uuid = NULL;
	VsCpuPlan *plan;

	if (guests->len > 0) {
		int r = placement_for(in, guests, &placement, error);
		if (r < 0)
			return r;
	}
	adm = vs_admission_new(in->snapshot->host);
	order = admission_order(guests);
	for (guint i = 0; i < order->len; i++)
		admit_guest(in, adm, g_ptr_array_index(order, i));

	plan = g_new0(VsCpuPlan, 1);
	plan->actions = g_ptr_array_new_with_free_func((GDestroyNotify)vs_cpu_action_free);
	plan->reasons = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      (GDestroyNotify)g_strfreev);
	plan->vcpus = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, vcpu_plan_free);
	by_uuid = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < guests->len; i++) {
		Guest *g = &g_array_index(guests, Guest, i);
		const VsGuestPlacement *gp = vs_placement_find(placement, g->dom->uuid);

		plan_vcpus(in, g, gp, plan->actions, plan->vcpus);
		plan_others(g, gp, plan->actions);
		plan_cgroups(in, g, gp, plan->actions);
		g_hash_table_insert(by_uuid, (gpointer)g->dom->uuid, g);
	}
	plan_restores(in, plan->actions, by_uuid);
	for (guint i = 0; i < guests->len; i++) {
		Guest *g = &g_array_index(guests, Guest, i);
		const VsGuestPlacement *gp = vs_placement_find(placement, g->dom->uuid);
		g_autoptr(GPtrArray) all = g_ptr_array_sized_new(
			gp->reasons->len + 1 + g->reasons->len + 1);

		for (guint j = 0; j < gp->reasons->len; j++)
			g_ptr_array_add(all, g_strdup(g_ptr_array_index(gp->reasons, j)));
		if (gp->overcommitted && placement->pool_reason)
			g_ptr_array_add(all, g_strdup(placement->pool_reason));
		/* Moved, not copied: the guest's are not needed any more. */
		for (guint j = 0; j < g->reasons->len; j++)
			g_ptr_array_add(all, g_ptr_array_index(g->reasons, j));
		g_ptr_array_set_free_func(g->reasons, NULL);
		g_ptr_array_set_size(g->reasons, 0);
		g_ptr_array_add(all, NULL);
		g_hash_table_insert(plan->reasons, g_strdup(g->dom->uuid),
				    g_ptr_array_free(g_steal_pointer(&all), FALSE));
	}
	/* g_ptr_array_sort is stable: within a kind, the order of the guests. */
	g_ptr_array_sort(plan->actions, action_order);
	plan->placement = g_steal_pointer(&placement);
	*ret = plan;
	return 0;
}

void vs_cpu_plan_drop_actions(VsCpuPlan *plan)
{
	for (guint i = 0; i < plan->actions->len; i++) {
		const VsCpuAction *a = g_ptr_array_index(plan->actions, i);

		if ((size_t)a->kind < G_N_ELEMENTS(plan->dropped))
			plan->dropped[a->kind]++;
	}
	/* The actions and the array (80 KiB for 10 000). */
	g_ptr_array_unref(plan->actions);
	plan->actions = g_ptr_array_new_with_free_func((GDestroyNotify)vs_cpu_action_free);
}

guint vs_cpu_plan_count(const VsCpuPlan *plan, VsCpuActionKind kind)
{
	guint n = (size_t)kind < G_N_ELEMENTS(plan->dropped) ? plan->dropped[kind] : 0;

	for (guint i = 0; i < plan->actions->len; i++)
		if (((const VsCpuAction *)g_ptr_array_index(plan->actions, i))->kind == kind)
			n++;
	return n;
}

const char *const *vs_cpu_plan_reasons(const VsCpuPlan *plan, const char *uuid)
{
	return g_hash_table_lookup(plan->reasons, uuid);
}

const VsCpuVcpuPlan *vs_cpu_plan_vcpu(const VsCpuPlan *plan, const char *uuid, guint index)
{
	g_autofree char *key = vcpu_key(uuid, index);

	return g_hash_table_lookup(plan->vcpus, key);
}

uint64_t vs_cpu_action_hash(const VsCpuAction *a)
{
	uint64_t h = vs_digest_mix((uint64_t)a->kind, 0);

	h = vs_digest_str(h, a->what);
	h = vs_digest_str(h, a->domain);
	switch (a->kind) {
	case VS_CPU_ACTION_AFFINITY:
		h = vs_digest_mix(h, (uint64_t)(uint32_t)a->thread.tid);
		return vs_digest_mix(h, vs_cpuset_hash(a->cpus));
	case VS_CPU_ACTION_DEADLINE:
		h = vs_digest_mix(h, (uint64_t)a->runtime_us);
		h = vs_digest_mix(h, (uint64_t)a->period_us);
		return vs_digest_mix(h, (uint64_t)(uint32_t)a->thread.tid);
	case VS_CPU_ACTION_DEADLINE_CLEAR:
		return vs_digest_mix(h, (uint64_t)(uint32_t)a->thread.tid);
	case VS_CPU_ACTION_CGROUP:
		h = vs_digest_str(h, a->dir);
		h = vs_digest_str(h, a->file);
		return vs_digest_str(h, a->value);
	}
	g_assert_not_reached();
}

char *vs_cpu_action_describe(const VsCpuAction *a)
{
	GString *s = g_string_sized_new(128);

	vs_cpu_action_describe_to(s, a);
	return g_string_free(s, FALSE);
}

void vs_cpu_action_describe_to(GString *s, const VsCpuAction *a)
{
	/* Without printf or GLib's appends (an insert each, before GLib
	 * 2.76): the actuator describes every change it makes. */
	vs_strbuf_puts(s, a->what);
	if (a->kind != VS_CPU_ACTION_CGROUP) {
		vs_strbuf_puts(s, " (TID ");
		vs_strbuf_append_int(s, a->thread.tid);
		vs_strbuf_put(s, ")", 1);
	}
	vs_strbuf_puts(s, " of ");
	vs_strbuf_puts(s, a->domain);
	switch (a->kind) {
	case VS_CPU_ACTION_AFFINITY:
		vs_strbuf_puts(s, ": affinity CPUs ");
		vs_cpuset_format_to(s, a->cpus);
		break;
	case VS_CPU_ACTION_DEADLINE:
		vs_strbuf_puts(s, ": SCHED_DEADLINE runtime ");
		vs_strbuf_append_int(s, a->runtime_us);
		vs_strbuf_puts(s, "us period ");
		vs_strbuf_append_int(s, a->period_us);
		vs_strbuf_puts(s, "us");
		break;
	case VS_CPU_ACTION_DEADLINE_CLEAR:
		vs_strbuf_puts(s, ": end of the deadline reservation");
		break;
	case VS_CPU_ACTION_CGROUP:
		vs_strbuf_puts(s, ": ");
		vs_strbuf_puts(s, a->dir);
		vs_strbuf_put(s, "/", 1);
		vs_strbuf_puts(s, a->file);
		vs_strbuf_puts(s, " = \"");
		vs_strbuf_puts(s, a->value);
		vs_strbuf_put(s, "\"", 1);
		break;
	}
}
