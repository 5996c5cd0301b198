/* The vCPU placement planner; the rules are in placement.h.
 *
 * One run builds a Planner: the host's cores (online SMT threads grouped by
 * their sibling sets, with node and LLC), per-CPU arrays indexed by CPU id
 * (core, home load, spread rank, marks) and the running sets of taken
 * CPUs. Dedicated guests are placed first (kept placements, then new ones,
 * so that a guest re-placed after a topology change never takes the CPUs of
 * one that keeps its own), then the shared pool is what is left, then the
 * shared vCPUs get their homes (kept ones first again), then every guest
 * its emulator affinity. Costs: O(cores) per dedicated guest, O(log pool)
 * per new shared vCPU (a heap of the pool by load; O(affinity) when
 * AllowedCPUs narrows it), O(1) per kept vCPU; plus a few sentences per
 * guest, which is where most of the time goes. */
#include "config.h"

#include "sched/placement.h"
#include "util/error.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NO_CORE G_MAXUINT

/* One core: its online SMT threads (ascending) and where it sits. */
typedef struct Core {
	guint first;          /* index of its first thread in Planner.threads */
	guint n_threads;
	guint node_index;     /* index into Planner.nodes */
	int llc;
} Core;

/* Planning state of one input guest. */
typedef struct GuestState {
	const VsPlacementGuest *in;
	VsGuestPlacement *out;
	const VsGuestPlacement *prev;  /* its placement in the previous plan */
	bool first;                    /* sort key: served before the others */
	bool allowed_unusable;         /* AllowedCPUs has no managed CPU (reason given) */
	bool placed;                   /* dedicated CPUs decided */
} GuestState;

typedef struct Planner {
	const VsPlacementInput *in;
	guint n_ids;            /* highest online CPU id + 1 */
	GArray *cores;          /* Core */
	GArray *threads;        /* guint CPU ids, grouped by core */
	GArray *nodes;          /* int NUMA node ids, ascending */
	guint *cpu_core;        /* per CPU id: core index, NO_CORE when offline */
	guint *rank;            /* per CPU id: home tie-break, threads 0 of all cores first */
	guint *load;            /* per CPU id: shared vCPUs with their home there */
	guint *cpu_mark;        /* per CPU id: last guest mark that used it */
	guint *core_mark;       /* per core: last guest mark that used it */
	guint mark;
	VsCpuSet *online;
	VsCpuSet *hk;           /* housekeeping ∩ online */
	VsCpuSet *usable;       /* managed ∩ online − housekeeping */
	VsCpuSet *taken;        /* dedicated and idle CPUs so far (⊆ usable) */
	guint n_free;           /* |usable − taken| */
	guint reserve;          /* CPUs dedicated placement leaves in the pool */
	char *pool_text;
	char *hk_text;
	GuestState *st;
	VsPlacement *plan;
} Planner;

static void planner_clear(Planner *p)
{
	g_clear_pointer(&p->cores, g_array_unref);
	g_clear_pointer(&p->threads, g_array_unref);
	g_clear_pointer(&p->nodes, g_array_unref);
	g_clear_pointer(&p->cpu_core, g_free);
	g_clear_pointer(&p->rank, g_free);
	g_clear_pointer(&p->load, g_free);
	g_clear_pointer(&p->cpu_mark, g_free);
	g_clear_pointer(&p->core_mark, g_free);
	g_clear_pointer(&p->online, vs_cpuset_free);
	g_clear_pointer(&p->hk, vs_cpuset_free);
	g_clear_pointer(&p->usable, vs_cpuset_free);
	g_clear_pointer(&p->taken, vs_cpuset_free);
	g_clear_pointer(&p->pool_text, g_free);
	g_clear_pointer(&p->hk_text, g_free);
	g_clear_pointer(&p->st, g_free);
	g_clear_pointer(&p->plan, vs_placement_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Planner, planner_clear)

static void guest_placement_free(gpointer data)
{
	VsGuestPlacement *g = data;

	for (guint i = 0; g->pinned && i < g->n_vcpus; i++)
		vs_cpuset_free(g->pinned[i]);
	g_free(g->pinned);
	g_free(g->vcpus);
	g_free(g->uuid);
	g_free(g->name);
	g_free(g->provenance);
	vs_cpuset_free(g->cpus);
	vs_cpuset_free(g->idle);
	vs_cpuset_free(g->emulator);
	vs_cpuset_free(g->mems);
	g_ptr_array_unref(g->reasons);
	g_free(g);
}

void vs_placement_free(VsPlacement *plan)
{
	if (!plan)
		return;
	g_hash_table_unref(plan->by_uuid);
	g_ptr_array_unref(plan->guests);
	vs_cpuset_free(plan->pool);
	vs_cpuset_free(plan->dedicated);
	vs_cpuset_free(plan->idle);
	g_free(plan->pool_reason);
	g_free(plan);
}

const VsGuestPlacement *vs_placement_find(const VsPlacement *plan, const char *uuid)
{
	return g_hash_table_lookup(plan->by_uuid, uuid);
}

/* "policy 10-db.policy:4" or "the built-in default". */
static const char *origin(const char *provenance, char *buf, size_t size)
{
	if (!provenance)
		return "the built-in default";
	g_snprintf(buf, size, "policy %s", provenance);
	return buf;
}

char *vs_placement_vcpu_reason(const VsGuestPlacement *g, guint vcpu)
{
	const VsVcpuPlacement *v;
	g_autofree char *aff = NULL;
	const char *kept;
	char buf[256];

	g_return_val_if_fail(vcpu < g->n_vcpus, NULL);
	v = &g->vcpus[vcpu];
	kept = v->kept ? ", kept from the last plan" : "";
	if (g->got == VS_PLACE_DEDICATED)
		return g_strdup_printf("vcpu%u of %s → CPU %u: dedicated (%s)%s", vcpu, g->name,
				       v->cpu, origin(g->provenance, buf, sizeof(buf)), kept);
	aff = vs_cpuset_format(v->affinity);
	return g_strdup_printf("vcpu%u of %s → shared pool %s, home CPU %u: %s (%s)%s", vcpu,
			       g->name, aff, v->cpu,
			       g->asked == VS_PLACE_DEDICATED ?
			       "dedicated asked but not possible, see the guest's reasons" :
			       "shared", origin(g->provenance, buf, sizeof(buf)), kept);
}

static int invalid(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static int invalid(GError **error, const char *format, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, format);
	msg = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_set_error_literal(error, VS_ERROR, VS_ERROR_INVALID, msg);
	return -EINVAL;
}

/* Checks what the sets cannot check themselves. */
static int validate(const VsPlacementInput *in, GError **error)
{
	g_autoptr(GHashTable) uuids = NULL;

	if (!in->topology || !in->topology->cpus || in->topology->cpus->len == 0)
		return invalid(error, "placement needs the host topology, and it lists no CPU");
	if (!in->managed)
		return invalid(error, "placement needs the managed CPU set");
	if (!(in->overcommit_limit > 0) || isinf(in->overcommit_limit))
		return invalid(error,
			       "overcommit limit %g is not a positive number of vCPUs per CPU",
			       in->overcommit_limit);
	for (guint i = 0; i < in->topology->cpus->len; i++) {
		const VsCpu *cpu = &g_array_index(in->topology->cpus, VsCpu, i);

		if (cpu->node < 0 || cpu->node > VS_CPU_MAX)
			return invalid(error, "CPU %u of the topology is on NUMA node %d", cpu->id,
				       cpu->node);
	}
	if (in->n_guests > 0 && !in->guests)
		return invalid(error, "%u guests announced but none given", in->n_guests);

	uuids = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < in->n_guests; i++) {
		const VsPlacementGuest *g = &in->guests[i];
		const VsPlacementGuest *other;

		if (!g->uuid || !g->uuid[0] || !g->name || !g->name[0])
			return invalid(error, "guest %u of the input has no UUID or no name", i);
		if (g->n_vcpus == 0)
			return invalid(error, "guest %s (%s) has no vCPU to place", g->name,
				       g->uuid);
		if (g->n_vcpus > VS_PLACEMENT_MAX_VCPUS)
			return invalid(error, "guest %s has %u vCPUs, more than %d", g->name,
				       g->n_vcpus, VS_PLACEMENT_MAX_VCPUS);
		if ((guint)g->mode > VS_PLACE_DEDICATED || (guint)g->siblings > VS_SIBLINGS_SHARE ||
		    (guint)g->emulator > VS_EMU_VCPUS)
			return invalid(error,
				       "guest %s has an unknown placement, siblings or emulator mode",
				       g->name);
		other = g_hash_table_lookup(uuids, g->uuid);
		if (other)
			return invalid(error, "guests %s and %s have the same UUID %s", other->name,
				       g->name, g->uuid);
		g_hash_table_insert(uuids, (gpointer)g->uuid, (gpointer)g);
	}
	return 0;
}

/* Index of NUMA node @node in p->nodes, adding it in order. */
static guint node_index(Planner *p, int node)
{
	guint i = 0;

	while (i < p->nodes->len && g_array_index(p->nodes, int, i) < node)
		i++;
	if (i == p->nodes->len || g_array_index(p->nodes, int, i) != node)
		g_array_insert_val(p->nodes, i, node);
	return i;
}

/* Groups the online CPUs into cores and fills the per-CPU arrays. */
static void build_topology(Planner *p)
{
	const GArray *cpus = p->in->topology->cpus;
	g_autofree int *core_node = NULL;

	p->online = vs_cpuset_new();
	for (guint i = 0; i < cpus->len; i++) {
		const VsCpu *cpu = &g_array_index(cpus, VsCpu, i);

		vs_cpuset_add(p->online, cpu->id);
		p->n_ids = MAX(p->n_ids, cpu->id + 1);
	}
	p->cores = g_array_new(FALSE, TRUE, sizeof(Core));
	p->threads = g_array_new(FALSE, FALSE, sizeof(guint));
	p->nodes = g_array_new(FALSE, FALSE, sizeof(int));
	p->cpu_core = g_new(guint, p->n_ids);
	for (guint c = 0; c < p->n_ids; c++)
		p->cpu_core[c] = NO_CORE;
	p->rank = g_new0(guint, p->n_ids);
	p->load = g_new0(guint, p->n_ids);
	p->cpu_mark = g_new0(guint, p->n_ids);

	/* Node indices shift while nodes are discovered: keep ids, index later. */
	core_node = g_new(int, cpus->len);
	for (guint i = 0; i < cpus->len; i++) {
		const VsCpu *cpu = &g_array_index(cpus, VsCpu, i);
		Core core = { .first = p->threads->len, .llc = cpu->llc };
		g_autoptr(VsCpuSet) threads = NULL;

		if (p->cpu_core[cpu->id] != NO_CORE)
			continue;
		/* The CPU itself and its online siblings not yet in a core. */
		threads = cpu->siblings ? vs_cpuset_copy(cpu->siblings) : vs_cpuset_new();
		vs_cpuset_intersect(threads, p->online);
		vs_cpuset_add(threads, cpu->id);
		for (int c = vs_cpuset_next(threads, 0); c >= 0;
		     c = vs_cpuset_next(threads, (guint)c + 1)) {
			guint t = (guint)c;

			if (p->cpu_core[t] != NO_CORE)
				continue;
			p->cpu_core[t] = p->cores->len;
			p->rank[t] = core.n_threads;
			g_array_append_val(p->threads, t);
			core.n_threads++;
		}
		core_node[p->cores->len] = cpu->node;
		node_index(p, cpu->node);
		g_array_append_val(p->cores, core);
	}
	for (guint i = 0; i < p->cores->len; i++)
		g_array_index(p->cores, Core, i).node_index = node_index(p, core_node[i]);
	/* Home tie-break: the first thread of every core, then the second... */
	for (guint c = 0; c < p->n_ids; c++)
		p->rank[c] = p->rank[c] * p->n_ids + c;
	p->core_mark = g_new0(guint, p->cores->len);
}

static const guint *core_threads(const Planner *p, const Core *core)
{
	return &g_array_index(p->threads, guint, core->first);
}

static int core_node_id(const Planner *p, const Core *core)
{
	return g_array_index(p->nodes, int, core->node_index);
}

/* True when every thread of @core is usable and not taken. */
static bool core_free(const Planner *p, const Core *core)
{
	const guint *t = core_threads(p, core);

	for (guint i = 0; i < core->n_threads; i++) {
		if (!vs_cpuset_has(p->usable, t[i]) || vs_cpuset_has(p->taken, t[i]))
			return false;
	}
	return true;
}

static bool allows(const VsPlacementGuest *g, guint cpu)
{
	return !g->allowed || vs_cpuset_has(g->allowed, cpu);
}

static void add_reason(VsGuestPlacement *g, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void add_reason(VsGuestPlacement *g, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	g_ptr_array_add(g->reasons, g_strdup_vprintf(format, ap));
	va_end(ap);
}

static VsGuestPlacement *guest_placement_new(const VsPlacementGuest *in)
{
	VsGuestPlacement *g = g_new0(VsGuestPlacement, 1);

	g->uuid = g_strdup(in->uuid);
	g->name = g_strdup(in->name);
	g->provenance = g_strdup(in->provenance);
	g->asked = in->mode;
	g->got = VS_PLACE_SHARED;
	g->siblings = in->siblings;
	g->emulator_asked = in->emulator;
	g->satisfied = true;
	g->n_vcpus = in->n_vcpus;
	g->vcpus = g_new0(VsVcpuPlacement, in->n_vcpus);
	g->cpus = vs_cpuset_new();
	g->idle = vs_cpuset_new();
	g->mems = vs_cpuset_new();
	g->reasons = g_ptr_array_new_with_free_func(g_free);
	return g;
}

/* Gives @s the dedicated CPUs @cpus (vCPU i on cpus[i]) on the cores
 * @cores; the cores' other threads become idle. */
static void commit_dedicated(Planner *p, GuestState *s, const guint *cpus, const GArray *cores,
			     bool kept)
{
	VsGuestPlacement *g = s->out;

	g->pinned = g_new(VsCpuSet *, g->n_vcpus);
	for (guint i = 0; i < g->n_vcpus; i++) {
		const Core *core = &g_array_index(p->cores, Core, p->cpu_core[cpus[i]]);

		g->pinned[i] = vs_cpuset_new();
		vs_cpuset_add(g->pinned[i], cpus[i]);
		g->vcpus[i].affinity = g->pinned[i];
		g->vcpus[i].cpu = cpus[i];
		g->vcpus[i].kept = kept;
		vs_cpuset_add(g->cpus, cpus[i]);
		vs_cpuset_add(g->mems, (guint)core_node_id(p, core));
	}
	for (guint i = 0; i < cores->len; i++) {
		const Core *core = &g_array_index(p->cores, Core, g_array_index(cores, guint, i));
		const guint *t = core_threads(p, core);

		for (guint j = 0; j < core->n_threads; j++) {
			if (!vs_cpuset_has(g->cpus, t[j]))
				vs_cpuset_add(g->idle, t[j]);
		}
	}
	vs_cpuset_union(p->taken, g->cpus);
	vs_cpuset_union(p->taken, g->idle);
	vs_cpuset_union(p->plan->dedicated, g->cpus);
	vs_cpuset_union(p->plan->idle, g->idle);
	p->n_free -= vs_cpuset_count(g->cpus) + vs_cpuset_count(g->idle);
	g->got = VS_PLACE_DEDICATED;
	s->placed = true;
}

/* The sentence after "dedicated (policy …): CPUs 0-3" about the idle threads. */
static char *idle_text(const VsGuestPlacement *g)
{
	g_autofree char *idle = NULL;

	if (vs_cpuset_is_empty(g->idle))
		return g_strdup(g->siblings == VS_SIBLINGS_SHARE ?
				", whole cores shared only among its own vCPUs (Siblings=share)" :
				"");
	idle = vs_cpuset_format(g->idle);
	if (g->siblings == VS_SIBLINGS_ISOLATE)
		return g_strdup_printf(", one per core; their SMT siblings %s kept idle "
				       "(Siblings=isolate)", idle);
	return g_strdup_printf(", whole cores shared only among its own vCPUs; CPU(s) %s of its "
			       "cores kept idle, for no other guest to use (Siblings=share)", idle);
}

/* The CPUs a dedicated guest keeps, one per vCPU, when they stay valid:
 * those of the previous plan, or without one, those its vCPUs are pinned
 * to now (@ret_source says which); NULL when there are none. */
static const guint *kept_cpus(const GuestState *s, guint *buf, const char **ret_source)
{
	const VsGuestPlacement *prev = s->prev;
	const VsPlacementGuest *in = s->in;

	if (prev) {
		if (prev->got != VS_PLACE_DEDICATED || prev->n_vcpus != in->n_vcpus ||
		    prev->siblings != in->siblings)
			return NULL;
		for (guint i = 0; i < in->n_vcpus; i++)
			buf[i] = prev->vcpus[i].cpu;
		*ret_source = "from the last plan";
		return buf;
	}
	*ret_source = "where its vCPUs were pinned when vschedd started";
	return in->current;
}

/* Keeps the dedicated CPUs of kept_cpus() when they are all still valid. */
static bool keep_dedicated(Planner *p, GuestState *s)
{
	const VsPlacementGuest *in = s->in;
	g_autoptr(GArray) cores = NULL;
	g_autofree guint *cpus = NULL;
	g_autofree guint *buf = g_new(guint, MAX(in->n_vcpus, 1));
	g_autofree char *list = NULL, *idle = NULL, *nodes = NULL;
	const char *source = NULL;
	const guint *from = kept_cpus(s, buf, &source);
	char obuf[256];
	guint mark;

	if (!from)
		return false;
	mark = ++p->mark;
	cores = g_array_new(FALSE, FALSE, sizeof(guint));
	cpus = g_new(guint, in->n_vcpus);
	for (guint i = 0; i < in->n_vcpus; i++) {
		guint cpu = from[i];
		guint core;

		if (cpu >= p->n_ids || p->cpu_core[cpu] == NO_CORE || !allows(in, cpu) ||
		    p->cpu_mark[cpu] == mark)
			return false;
		core = p->cpu_core[cpu];
		if (p->core_mark[core] == mark) {
			if (in->siblings == VS_SIBLINGS_ISOLATE)
				return false;
		} else {
			if (!core_free(p, &g_array_index(p->cores, Core, core)))
				return false;
			p->core_mark[core] = mark;
			g_array_append_val(cores, core);
		}
		p->cpu_mark[cpu] = mark;
		cpus[i] = cpu;
	}
	commit_dedicated(p, s, cpus, cores, true);
	list = vs_cpuset_format(s->out->cpus);
	idle = idle_text(s->out);
	nodes = vs_cpuset_format(s->out->mems);
	add_reason(s->out, "dedicated (%s): kept CPUs %s %s%s; NUMA node%s %s",
		   origin(in->provenance, obuf, sizeof(obuf)), list, source, idle,
		   vs_cpuset_count(s->out->mems) > 1 ? "s" : "", nodes);
	return true;
}

/* A free core a guest may take, with its sort keys. */
typedef struct Candidate {
	guint core;
	guint node_rank;      /* position of its node in the order nodes are used */
	guint llc_free;       /* free candidate cores in its node's LLC */
	int llc;
	guint first_cpu;
} Candidate;

static int candidate_cmp(const void *a, const void *b)
{
	const Candidate *x = a, *y = b;

	if (x->node_rank != y->node_rank)
		return x->node_rank < y->node_rank ? -1 : 1;
	if (x->llc_free != y->llc_free)
		return x->llc_free > y->llc_free ? -1 : 1;
	if (x->llc != y->llc)
		return x->llc < y->llc ? -1 : 1;
	return x->first_cpu < y->first_cpu ? -1 : x->first_cpu > y->first_cpu;
}

/* The node order for a spread: most free cores first, then lowest id. */
static void rank_nodes(guint n_nodes, const guint *node_cores, guint *ret_rank)
{
	for (guint i = 0; i < n_nodes; i++) {
		guint r = 0;

		for (guint j = 0; j < n_nodes; j++) {
			if (node_cores[j] > node_cores[i] ||
			    (node_cores[j] == node_cores[i] && j < i))
				r++;
		}
		ret_rank[i] = r;
	}
}

/* Sets llc_free of each candidate: how many candidates share its node and LLC. */
static void count_llcs(Candidate *cands, guint n)
{
	g_autoptr(GArray) groups = g_array_new(FALSE, FALSE, sizeof(guint)); /* candidate index */
	g_autoptr(GArray) counts = g_array_new(FALSE, TRUE, sizeof(guint));
	g_autofree guint *group_of = g_new(guint, n);

	for (guint i = 0; i < n; i++) {
		guint k = 0;

		for (; k < groups->len; k++) {
			const Candidate *rep = &cands[g_array_index(groups, guint, k)];

			if (rep->node_rank == cands[i].node_rank && rep->llc == cands[i].llc)
				break;
		}
		if (k == groups->len) {
			guint zero = 0;

			g_array_append_val(groups, i);
			g_array_append_val(counts, zero);
		}
		g_array_index(counts, guint, k)++;
		group_of[i] = k;
	}
	for (guint i = 0; i < n; i++)
		cands[i].llc_free = g_array_index(counts, guint, group_of[i]);
}

/* Places @s on new dedicated CPUs; false (with the reason) when they do
 * not exist, and @s stays for the shared pool. */
static bool place_dedicated(Planner *p, GuestState *s)
{
	const VsPlacementGuest *in = s->in;
	bool isolate = in->siblings == VS_SIBLINGS_ISOLATE;
	guint n_nodes = p->nodes->len;
	g_autofree guint *node_cores = g_new0(guint, n_nodes);
	g_autofree guint *node_cap = g_new0(guint, n_nodes);
	g_autofree guint *node_rank = g_new0(guint, n_nodes);
	g_autofree Candidate *cands = g_new(Candidate, p->cores->len);
	g_autofree guint *cpus = g_new(guint, in->n_vcpus);
	g_autoptr(GArray) cores = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autofree char *list = NULL, *idle = NULL, *nodes = NULL;
	guint n_cands = 0, total_cap = 0, n_taken = 0, n_idle = 0;
	int fit = -1;
	char buf[256];

	for (guint i = 0; i < p->cores->len; i++) {
		const Core *core = &g_array_index(p->cores, Core, i);
		const guint *t = core_threads(p, core);
		guint cap = 0;

		if (!core_free(p, core))
			continue;
		for (guint j = 0; j < core->n_threads; j++)
			cap += allows(in, t[j]);
		if (cap == 0)
			continue;
		if (isolate)
			cap = 1;
		/* node_rank holds the node's index until the nodes are ranked. */
		cands[n_cands++] = (Candidate){ .core = i, .llc = core->llc, .first_cpu = t[0],
						.node_rank = core->node_index };
		node_cores[core->node_index]++;
		node_cap[core->node_index] += cap;
		total_cap += cap;
	}
	if (total_cap < in->n_vcpus) {
		add_reason(s->out, "no free core for %u dedicated vCPUs (%u free%s, %s asks "
			   "dedicated): placed in the shared pool", in->n_vcpus, total_cap,
			   isolate ? "" : " CPUs on whole cores",
			   origin(in->provenance, buf, sizeof(buf)));
		return false;
	}

	for (guint i = 0; i < n_nodes; i++) {
		if (node_cap[i] >= in->n_vcpus &&
		    (fit < 0 || node_cores[i] > node_cores[fit]))
			fit = (int)i;
	}
	if (fit >= 0) {
		guint k = 0;

		for (guint i = 0; i < n_cands; i++) {
			if (cands[i].node_rank == (guint)fit)
				cands[k++] = cands[i];
		}
		n_cands = k;
		for (guint i = 0; i < n_cands; i++)
			cands[i].node_rank = 0;
	} else {
		rank_nodes(n_nodes, node_cores, node_rank);
		for (guint i = 0; i < n_cands; i++)
			cands[i].node_rank = node_rank[cands[i].node_rank];
	}
	count_llcs(cands, n_cands);
	qsort(cands, n_cands, sizeof(Candidate), candidate_cmp);

	for (guint i = 0; i < n_cands && n_taken < in->n_vcpus; i++) {
		const Core *core = &g_array_index(p->cores, Core, cands[i].core);
		const guint *t = core_threads(p, core);
		guint used = 0;

		for (guint j = 0; j < core->n_threads && n_taken < in->n_vcpus; j++) {
			if (!allows(in, t[j]) || (isolate && used > 0))
				continue;
			cpus[n_taken++] = t[j];
			used++;
		}
		n_idle += core->n_threads - used;
		g_array_append_val(cores, cands[i].core);
	}

	if (p->n_free < n_taken + n_idle + p->reserve) {
		add_reason(s->out, "no free core for %u dedicated vCPUs (%u free, but the shared "
			   "pool must keep a CPU for the shared guests; %s asks dedicated): placed "
			   "in the shared pool", in->n_vcpus, total_cap,
			   origin(in->provenance, buf, sizeof(buf)));
		return false;
	}

	commit_dedicated(p, s, cpus, cores, false);
	list = vs_cpuset_format(s->out->cpus);
	idle = idle_text(s->out);
	nodes = vs_cpuset_format(s->out->mems);
	if (fit >= 0) {
		add_reason(s->out, "dedicated (%s): CPUs %s%s; NUMA node %s, the one with most "
			   "free cores", origin(in->provenance, buf, sizeof(buf)), list, idle, nodes);
	} else {
		guint best = 0;

		for (guint i = 0; i < n_nodes; i++)
			best = MAX(best, node_cap[i]);
		add_reason(s->out, "dedicated (%s): CPUs %s%s; %u vCPUs do not fit in one NUMA "
			   "node (at most %u free in one): spread over nodes %s",
			   origin(in->provenance, buf, sizeof(buf)), list, idle, in->n_vcpus, best,
			   nodes);
	}
	return true;
}

static gint guest_cmp(gconstpointer a, gconstpointer b)
{
	const GuestState *x = *(GuestState *const *)a, *y = *(GuestState *const *)b;
	int r;

	if (x->first != y->first)
		return x->first ? -1 : 1;
	r = strcmp(x->in->name, y->in->name);
	return r ? r : strcmp(x->in->uuid, y->in->uuid);
}

/* True when AllowedCPUs of @s leaves none of @set. */
static bool allowed_misses(const GuestState *s, const VsCpuSet *set)
{
	g_autoptr(VsCpuSet) both = NULL;

	if (!s->in->allowed)
		return false;
	both = vs_cpuset_copy(set);
	vs_cpuset_intersect(both, s->in->allowed);
	return vs_cpuset_is_empty(both);
}

static void allowed_reason(GuestState *s)
{
	g_autofree char *allowed = vs_cpuset_format(s->in->allowed);

	add_reason(s->out, "AllowedCPUs=%s has no managed CPU: placed on the shared pool", allowed);
	s->out->satisfied = false;
	s->allowed_unusable = true;
}

/* Places the dedicated guests: kept placements, then new ones in order. */
static void plan_dedicated(Planner *p, GPtrArray *order)
{
	for (guint i = 0; i < order->len; i++) {
		GuestState *s = order->pdata[i];

		keep_dedicated(p, s);
	}
	for (guint i = 0; i < order->len; i++) {
		GuestState *s = order->pdata[i];

		if (!s->placed && !place_dedicated(p, s))
			s->out->satisfied = false;
	}
}

/* The set the shared vCPUs float over: the pool, or when dedicated
 * placement used all of it, the housekeeping CPUs, or the managed ones. */
static void choose_pool(Planner *p, bool needed)
{
	VsPlacement *plan = p->plan;

	plan->pool = vs_cpuset_copy(p->usable);
	vs_cpuset_subtract(plan->pool, p->taken);
	if (!needed || !vs_cpuset_is_empty(plan->pool))
		return;
	if (!vs_cpuset_is_empty(p->hk)) {
		vs_cpuset_union(plan->pool, p->hk);
		plan->pool_reason = g_strdup_printf(
			"every managed CPU is dedicated or kept idle: shared vCPUs float over the "
			"housekeeping CPUs %s", p->hk_text);
	} else {
		g_autofree char *all = vs_cpuset_format(p->usable);

		vs_cpuset_union(plan->pool, p->usable);
		plan->pool_reason = g_strdup_printf(
			"every managed CPU is dedicated or kept idle and there is no housekeeping "
			"CPU: shared vCPUs float over the managed CPUs %s, beside dedicated ones",
			all);
	}
}

/* The home-choice key of @cpu for the guest of the current mark, smallest
 * best: a CPU the guest has no home on yet, then the least loaded, then
 * (balance scheduling on SMT) one on a core the guest has no home on, then
 * the lowest rank. */
static bool cpu_used(const Planner *p, guint cpu)
{
	return p->cpu_mark[cpu] == p->mark;
}

static bool core_used(const Planner *p, guint cpu)
{
	return p->core_mark[p->cpu_core[cpu]] == p->mark;
}

static guint64 home_key(const Planner *p, guint cpu)
{
	return (guint64)cpu_used(p, cpu) << 63 | (guint64)MIN(p->load[cpu], G_MAXINT32) << 32 |
	       (guint64)core_used(p, cpu) << 31 | p->rank[cpu];
}

/* The CPU of @aff with the smallest home_key(): a scan, for guests whose
 * AllowedCPUs make their affinity differ from the pool. */
static guint pick_home_scan(const Planner *p, const VsCpuSet *aff)
{
	guint64 best_key = G_MAXUINT64;
	guint best = 0;

	for (int c = vs_cpuset_next(aff, 0); c >= 0; c = vs_cpuset_next(aff, (guint)c + 1)) {
		guint64 key = home_key(p, (guint)c);

		if (key < best_key) {
			best_key = key;
			best = (guint)c;
		}
	}
	return best;
}

/* The pool's CPUs as a binary min-heap by (load, rank), so that choosing
 * the home of each of 8000 vCPUs costs O(log n), not O(pool). A CPU whose
 * load grows while in the heap (a home chosen by pick_home_scan()) moves
 * down with heap_grew(). */
typedef struct HomeHeap {
	guint *cpus;
	guint len;
	guint *pos;        /* per CPU id: its index in cpus */
	guint *aside;      /* CPUs popped but skipped by the current choice */
} HomeHeap;

static bool heap_less(const Planner *p, guint a, guint b)
{
	return p->load[a] != p->load[b] ? p->load[a] < p->load[b] : p->rank[a] < p->rank[b];
}

static void heap_set(HomeHeap *h, guint i, guint cpu)
{
	h->cpus[i] = cpu;
	h->pos[cpu] = i;
}

static void heap_sift_up(const Planner *p, HomeHeap *h, guint i)
{
	guint cpu = h->cpus[i];

	while (i > 0 && heap_less(p, cpu, h->cpus[(i - 1) / 2])) {
		heap_set(h, i, h->cpus[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(h, i, cpu);
}

static void heap_sift_down(const Planner *p, HomeHeap *h, guint i)
{
	guint cpu = h->cpus[i];

	for (;;) {
		guint child = 2 * i + 1;

		if (child >= h->len)
			break;
		if (child + 1 < h->len && heap_less(p, h->cpus[child + 1], h->cpus[child]))
			child++;
		if (!heap_less(p, h->cpus[child], cpu))
			break;
		heap_set(h, i, h->cpus[child]);
		i = child;
	}
	heap_set(h, i, cpu);
}

static void heap_push(const Planner *p, HomeHeap *h, guint cpu)
{
	heap_set(h, h->len++, cpu);
	heap_sift_up(p, h, h->len - 1);
}

static guint heap_pop(const Planner *p, HomeHeap *h)
{
	guint top = h->cpus[0];

	if (--h->len > 0) {
		heap_set(h, 0, h->cpus[h->len]);
		heap_sift_down(p, h, 0);
	}
	return top;
}

/* The load of @cpu, in the heap, went up by one. */
static void heap_grew(const Planner *p, HomeHeap *h, guint cpu)
{
	heap_sift_down(p, h, h->pos[cpu]);
}

static void heap_init(const Planner *p, HomeHeap *h, const VsCpuSet *pool)
{
	guint n = vs_cpuset_count(pool);

	h->cpus = g_new(guint, MAX(n, 1u));
	h->aside = g_new(guint, MAX(n, 1u));
	h->pos = g_new0(guint, p->n_ids);
	h->len = 0;
	for (int c = vs_cpuset_next(pool, 0); c >= 0; c = vs_cpuset_next(pool, (guint)c + 1))
		heap_push(p, h, (guint)c);
}

static void heap_clear(HomeHeap *h)
{
	g_clear_pointer(&h->cpus, g_free);
	g_clear_pointer(&h->pos, g_free);
	g_clear_pointer(&h->aside, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HomeHeap, heap_clear)

/* Gives the next home in the whole pool and counts it in the load: the
 * same CPU as pick_home_scan() over the pool. CPUs pop in (load, rank)
 * order: the first the guest uses neither the CPU nor the core of wins,
 * unless a CPU it does not use came out before with less load; when it
 * uses every CPU, the first popped. */
static guint pick_home_heap(Planner *p, HomeHeap *h)
{
	guint n_aside = 0, pick = G_MAXUINT, unused = G_MAXUINT;

	while (h->len > 0) {
		guint c = heap_pop(p, h);

		if (unused != G_MAXUINT && p->load[c] > p->load[h->aside[unused]]) {
			h->aside[n_aside++] = c;
			break;
		}
		if (!cpu_used(p, c) && !core_used(p, c)) {
			pick = c;
			break;
		}
		if (!cpu_used(p, c) && unused == G_MAXUINT)
			unused = n_aside;
		h->aside[n_aside++] = c;
	}
	if (pick == G_MAXUINT) {
		guint i = unused != G_MAXUINT ? unused : 0;

		pick = h->aside[i];
		h->aside[i] = h->aside[--n_aside];
	}
	p->load[pick]++;
	heap_push(p, h, pick);
	for (guint i = 0; i < n_aside; i++)
		heap_push(p, h, h->aside[i]);
	return pick;
}

/* The affinity of the shared vCPUs of @s: the pool within AllowedCPUs. */
static VsCpuSet *shared_affinity(Planner *p, GuestState *s)
{
	VsCpuSet *aff = vs_cpuset_copy(p->plan->pool);
	g_autofree char *allowed = NULL;

	if (!s->in->allowed)
		return aff;
	vs_cpuset_intersect(aff, s->in->allowed);
	if (!vs_cpuset_is_empty(aff))
		return aff;
	vs_cpuset_union(aff, p->plan->pool);
	if (s->allowed_unusable)
		return aff;
	allowed = vs_cpuset_format(s->in->allowed);
	if (allowed_misses(s, p->usable))
		add_reason(s->out, "AllowedCPUs=%s has no managed CPU: placed on the shared pool",
			   allowed);
	else
		add_reason(s->out, "AllowedCPUs=%s has no CPU in the shared pool (they are "
			   "dedicated to other guests or kept idle): placed on the whole shared "
			   "pool", allowed);
	s->out->satisfied = false;
	return aff;
}

/* Adds the NUMA nodes of the CPUs of @cpus to @nodes. */
static void add_nodes(const Planner *p, const VsCpuSet *cpus, VsCpuSet *nodes)
{
	for (int c = vs_cpuset_next(cpus, 0); c >= 0; c = vs_cpuset_next(cpus, (guint)c + 1)) {
		const Core *core = &g_array_index(p->cores, Core, p->cpu_core[c]);

		vs_cpuset_add(nodes, (guint)core_node_id(p, core));
	}
}

/* Sets the affinity and home of every shared vCPU: kept homes first. */
static void plan_shared(Planner *p, GPtrArray *order)
{
	VsPlacement *plan = p->plan;
	guint pool_cpus = vs_cpuset_count(plan->pool);
	g_autoptr(VsCpuSet) pool_mems = vs_cpuset_new();
	g_auto(HomeHeap) heap = { 0 };
	g_autofree char *warning = NULL;
	guint running = 0;
	char buf[256];

	add_nodes(p, plan->pool, pool_mems);
	for (guint i = 0; i < order->len; i++) {
		GuestState *s = order->pdata[i];
		VsGuestPlacement *g = s->out;
		const VsGuestPlacement *prev = s->prev;
		g_autoptr(VsCpuSet) aff = shared_affinity(p, s);

		vs_cpuset_union(g->cpus, aff);
		for (guint v = 0; v < g->n_vcpus; v++) {
			VsVcpuPlacement *vp = &g->vcpus[v];

			vp->affinity = g->cpus;
			if (prev && prev->got == VS_PLACE_SHARED && v < prev->n_vcpus &&
			    vs_cpuset_has(aff, prev->vcpus[v].cpu)) {
				vp->cpu = prev->vcpus[v].cpu;
				vp->kept = true;
				p->load[vp->cpu]++;
			}
		}
	}

	heap_init(p, &heap, plan->pool);
	for (guint i = 0; i < order->len; i++) {
		GuestState *s = order->pdata[i];
		VsGuestPlacement *g = s->out;
		bool in_pool = vs_cpuset_equal(g->cpus, plan->pool);
		g_autoptr(VsCpuSet) homes = vs_cpuset_new();
		g_autofree char *aff_text = NULL, *homes_text = NULL, *kept_text = NULL;
		guint n_cores = 0, n_kept = 0;

		p->mark++;
		for (guint v = 0; v < g->n_vcpus; v++) {
			if (g->vcpus[v].kept) {
				p->cpu_mark[g->vcpus[v].cpu] = p->mark;
				p->core_mark[p->cpu_core[g->vcpus[v].cpu]] = p->mark;
				n_kept++;
			}
		}
		for (guint v = 0; v < g->n_vcpus; v++) {
			VsVcpuPlacement *vp = &g->vcpus[v];

			if (!vp->kept) {
				if (in_pool) {
					vp->cpu = pick_home_heap(p, &heap);
				} else {
					vp->cpu = pick_home_scan(p, g->cpus);
					p->load[vp->cpu]++;
					heap_grew(p, &heap, vp->cpu);
				}
				p->cpu_mark[vp->cpu] = p->mark;
				p->core_mark[p->cpu_core[vp->cpu]] = p->mark;
			}
			vs_cpuset_add(homes, vp->cpu);
		}
		for (int c = vs_cpuset_next(homes, 0); c >= 0;
		     c = vs_cpuset_next(homes, (guint)c + 1)) {
			guint core = p->cpu_core[c];

			if (p->core_mark[core] == p->mark) {
				p->core_mark[core] = 0;
				n_cores++;
			}
		}
		if (in_pool) {
			vs_cpuset_union(g->mems, pool_mems);
			aff_text = g_strdup(p->pool_text);
		} else {
			add_nodes(p, g->cpus, g->mems);
			aff_text = vs_cpuset_format(g->cpus);
		}
		homes_text = vs_cpuset_format(homes);
		if (n_kept)
			kept_text = g_strdup_printf("; %u of its %u homes kept from the last plan",
						    n_kept, g->n_vcpus);
		add_reason(g, "shared (%s): %u vCPU(s) float over %s %s, with homes on CPU(s) %s "
			   "(%u CPU(s) on %u core(s))%s",
			   origin(s->in->provenance, buf, sizeof(buf)), g->n_vcpus,
			   in_pool ? "the shared pool" : "the CPUs", aff_text, homes_text,
			   vs_cpuset_count(homes), n_cores, kept_text ? kept_text : "");

		running += g->n_vcpus;
		g->overcommitted = (double)running > plan->overcommit_limit * pool_cpus;
	}
	plan->pool_vcpus = running;
	plan->pool_load = pool_cpus ? (double)running / pool_cpus : 0;
	plan->overcommitted = plan->pool_load > plan->overcommit_limit;
	if (!plan->overcommitted)
		return;
	/* The guests served after the limit was passed: new arrivals last. */
	warning = g_strdup_printf("warning: placed in an overcommitted shared pool: %u vCPUs on "
				  "%u CPUs (%.2f per CPU, limit %.2f)", running, pool_cpus,
				  plan->pool_load, plan->overcommit_limit);
	for (guint i = 0; i < order->len; i++) {
		GuestState *s = order->pdata[i];

		if (s->out->overcommitted)
			g_ptr_array_add(s->out->reasons, g_strdup(warning));
	}
}

/* Sets the emulator affinity of @s: the first non-empty choice of its mode. */
static void place_emulator(Planner *p, GuestState *s)
{
	static const char *const mode_names[] = { "housekeeping", "shared", "vcpus" };
	VsGuestPlacement *g = s->out;
	const VsCpuSet *sets[] = { p->hk, p->plan->pool, g->cpus };
	const char *names[] = { "the housekeeping CPUs", "the shared pool", "its own vCPU CPUs" };
	static const guint orders[][3] = {
		[VS_EMU_HOUSEKEEPING] = { 0, 1, 2 },
		[VS_EMU_SHARED] = { 1, 0, 2 },
		[VS_EMU_VCPUS] = { 2, 2, 2 },
	};
	const guint *order = orders[s->in->emulator];
	g_autofree char *text = NULL;
	guint k = 0;

	while (vs_cpuset_is_empty(sets[order[k]]))
		k++;
	g->emulator = vs_cpuset_copy(sets[order[k]]);
	text = vs_cpuset_format(g->emulator);
	if (k == 0)
		add_reason(g, "emulator threads on %s %s (EmulatorPlacement=%s)", names[order[0]],
			   text, mode_names[s->in->emulator]);
	else
		add_reason(g, "emulator threads on %s %s: EmulatorPlacement=%s but %s %s empty",
			   names[order[k]], text, mode_names[s->in->emulator], names[order[0]],
			   order[0] == 1 ? "is" : "are");
}

int vs_placement_plan(const VsPlacementInput *in, VsPlacement **ret, GError **error)
{
	g_auto(Planner) p = { .in = in };
	g_autoptr(GPtrArray) dedicated = g_ptr_array_new();
	g_autoptr(GPtrArray) shared = g_ptr_array_new();
	g_autofree char *managed = NULL;
	VsPlacement *plan;
	bool want_pool = false;
	int r;

	r = validate(in, error);
	if (r < 0)
		return r;
	build_topology(&p);
	p.hk = in->housekeeping ? vs_cpuset_copy(in->housekeeping) : vs_cpuset_new();
	vs_cpuset_intersect(p.hk, p.online);
	p.usable = vs_cpuset_copy(in->managed);
	vs_cpuset_intersect(p.usable, p.online);
	vs_cpuset_subtract(p.usable, p.hk);
	p.hk_text = vs_cpuset_format(p.hk);
	if (vs_cpuset_is_empty(p.usable)) {
		managed = vs_cpuset_format(in->managed);
		return invalid(error, "the managed CPUs \"%s\" leave no online CPU for vCPUs "
			       "outside the housekeeping CPUs \"%s\"", managed, p.hk_text);
	}
	p.taken = vs_cpuset_new();
	p.n_free = vs_cpuset_count(p.usable);

	plan = p.plan = g_new0(VsPlacement, 1);
	plan->guests = g_ptr_array_new_full(in->n_guests, guest_placement_free);
	plan->by_uuid = g_hash_table_new(g_str_hash, g_str_equal);
	plan->dedicated = vs_cpuset_new();
	plan->idle = vs_cpuset_new();
	plan->overcommit_limit = in->overcommit_limit;

	p.st = g_new0(GuestState, in->n_guests);
	for (guint i = 0; i < in->n_guests; i++) {
		GuestState *s = &p.st[i];

		s->in = &in->guests[i];
		s->out = guest_placement_new(s->in);
		s->prev = in->previous ? vs_placement_find(in->previous, s->in->uuid) : NULL;
		g_ptr_array_add(plan->guests, s->out);
		g_hash_table_insert(plan->by_uuid, s->out->uuid, s->out);
		if (s->in->mode == VS_PLACE_DEDICATED && allowed_misses(s, p.usable))
			allowed_reason(s);
		if (s->in->mode == VS_PLACE_DEDICATED && !s->allowed_unusable) {
			s->first = s->prev ? s->prev->got == VS_PLACE_DEDICATED
					   : s->in->current != NULL;
			g_ptr_array_add(dedicated, s);
		} else {
			want_pool = true;
		}
	}
	p.reserve = want_pool ? 1 : 0;
	g_ptr_array_sort(dedicated, guest_cmp);
	plan_dedicated(&p, dedicated);

	for (guint i = 0; i < in->n_guests; i++) {
		GuestState *s = &p.st[i];

		if (s->placed)
			continue;
		s->first = s->prev && s->prev->got == VS_PLACE_SHARED;
		g_ptr_array_add(shared, s);
	}
	choose_pool(&p, shared->len > 0);
	p.pool_text = vs_cpuset_format(plan->pool);
	g_ptr_array_sort(shared, guest_cmp);
	plan_shared(&p, shared);

	for (guint i = 0; i < in->n_guests; i++)
		place_emulator(&p, &p.st[i]);

	*ret = g_steal_pointer(&p.plan);
	return 0;
}
