/* The entitlement of each vCPU from the CPU plan; see entitlement.h. */
#include "config.h"

#include "steal/entitlement.h"

#include <stdlib.h>
#include <string.h>

/* One guest of the plan. */
typedef struct Guest {
	const VsDomain *dom;
	double weight;             /* Weight= */
	double limit;              /* Limit= in CPUs; negative: none */
	bool policy_read;
	guint n_shared;            /* its vCPUs without a reservation */
} Guest;

/* One vCPU of the plan. */
typedef struct Item {
	const VsCpuAction *affinity;
	const VsCpuAction *deadline; /* NULL: no reservation */
	guint index;
	Guest *guest;
	double weight, max;        /* its weight and upper bound in its group */
	double cpus;
	char *cpus_text;           /* its affinity, formatted (the group's key) */
	struct Group *group;       /* NULL when reserved */
} Item;

typedef struct Group {
	char *cpus_text;           /* borrowed from its first item */
	double capacity;           /* CPU left on its CPUs when it was served */
	const VsCpuSet *cpus;
	guint n_cpus;
	GPtrArray *items;          /* Item * */
} Group;

static void entitlement_clear(gpointer data)
{
	VsStealEntitlement *e = data;

	g_free(e->reason);
}

static void item_free(gpointer data)
{
	Item *it = data;

	g_free(it->cpus_text);
	g_free(it);
}

static void group_free(gpointer data)
{
	Group *g = data;

	g_ptr_array_unref(g->items);
	g_free(g);
}

/* The vCPU index of a "vcpuN" action, or false for other threads. */
static bool vcpu_index(const char *what, guint *ret)
{
	guint64 n;
	char *end = NULL;

	if (!what || strncmp(what, "vcpu", 4) != 0 || !g_ascii_isdigit(what[4]))
		return false;
	n = g_ascii_strtoull(what + 4, &end, 10);
	if (*end || n > G_MAXUINT)
		return false;
	*ret = (guint)n;
	return true;
}

static char *item_key(const char *uuid, const char *what)
{
	return g_strdup_printf("%s/%s", uuid, what);
}

/* Weight= and Limit= of @g's domain. */
static void guest_policy(const VsStealEntitlementInput *in, Guest *g)
{
	g_autoptr(VsEffectivePolicy) eff = vs_policy_effective(
		in->policies, in->overrides, g->dom->name, g->dom->uuid, g->dom->vsched_class,
		in->now_us);
	const VsEffectiveEntry *weight = vs_effective_get(eff, "CPU", "Weight");
	const VsEffectiveEntry *limit = vs_effective_get(eff, "CPU", "Limit");

	g->weight = weight && weight->value ? (double)weight->value->i : 100.0;
	g->limit = limit && limit->value ? limit->value->percent / 100.0 : -1.0;
}

static gint compare_groups(gconstpointer a, gconstpointer b)
{
	const Group *x = *(Group *const *)a, *y = *(Group *const *)b;

	if (x->n_cpus != y->n_cpus)
		return x->n_cpus < y->n_cpus ? -1 : 1;
	return strcmp(x->cpus_text, y->cpus_text);
}

static gint compare_by_bound(gconstpointer a, gconstpointer b)
{
	const Item *x = *(Item *const *)a, *y = *(Item *const *)b;
	double rx = x->max / x->weight, ry = y->max / y->weight;

	return rx < ry ? -1 : rx > ry;
}

/* The capacity left on the CPUs of @set in @left (indexed by CPU). */
static double capacity_of(const VsCpuSet *set, const double *left, guint n_left)
{
	double c = 0;

	for (int cpu = vs_cpuset_next(set, 0); cpu >= 0; cpu = vs_cpuset_next(set, (guint)cpu + 1))
		if ((guint)cpu < n_left)
			c += left[cpu];
	return c;
}

/* Takes @used off the CPUs of @set in proportion to what each has left
 * (@total of them), so none goes below 0. */
static void take(const VsCpuSet *set, double *left, guint n_left, double used, double total)
{
	for (int cpu = vs_cpuset_next(set, 0); cpu >= 0; cpu = vs_cpuset_next(set, (guint)cpu + 1)) {
		if ((guint)cpu >= n_left)
			continue;
		left[cpu] -= total > 0 ? used * left[cpu] / total : 0;
		if (left[cpu] < 0)
			left[cpu] = 0;
	}
}

/* Weighted max-min fair shares of @capacity among @g's vCPUs, each bounded
 * by its max: the vCPUs whose bound is below the common level get their
 * bound, the others share the rest by weight. */
static void water_fill(Group *g, double capacity)
{
	g_autoptr(GPtrArray) order = g_ptr_array_copy(g->items, NULL, NULL);
	double weight = 0, left = MAX(capacity, 0.0);
	guint i;

	for (i = 0; i < order->len; i++)
		weight += ((Item *)g_ptr_array_index(order, i))->weight;
	g_ptr_array_sort(order, compare_by_bound);
	for (i = 0; i < order->len; i++) {
		Item *it = g_ptr_array_index(order, i);

		if (it->max > it->weight * left / weight)
			break;
		it->cpus = it->max;
		left -= it->max;
		weight -= it->weight;
	}
	for (; i < order->len; i++) {
		Item *it = g_ptr_array_index(order, i);

		it->cpus = it->weight * left / weight;
	}
}

static char *shared_reason(const Item *it, const Group *g)
{
	double total = 0;
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < g->items->len; i++)
		total += ((Item *)g_ptr_array_index(g->items, i))->weight;
	if (g->items->len == 1 && g->n_cpus == 1)
		g_string_append_printf(s, "alone on CPU %s", g->cpus_text);
	else
		g_string_append_printf(s, "weight %.4g of %.4g on CPUs %s (%.2f CPUs left for them)",
				       it->weight, total, g->cpus_text, g->capacity);
	if (it->cpus >= it->max - 1e-9) {
		if (it->guest->limit >= 0 && it->max < 1.0)
			g_string_append_printf(s, ", capped by Limit=%.4g%% over %u vCPU(s)",
					       it->guest->limit * 100.0, it->guest->n_shared);
		else
			g_string_append(s, ", at most one CPU");
	}
	return g_string_free(s, FALSE);
}

GArray *vs_steal_entitlement_compute(const VsStealEntitlementInput *in)
{
	GArray *out = g_array_new(FALSE, TRUE, sizeof(VsStealEntitlement));
	g_autoptr(GHashTable) guests = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	g_autoptr(GHashTable) deadlines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
								 NULL);
	g_autoptr(GHashTable) by_cpus = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(item_free), groups = NULL;
	g_autofree double *left = NULL;
	guint n_left = 0;

	g_array_set_clear_func(out, entitlement_clear);
	if (!in->plan || !in->snapshot)
		return out;
	groups = g_ptr_array_new_with_free_func(group_free);

	for (guint i = 0; in->snapshot->domains && i < in->snapshot->domains->len; i++) {
		const VsDomain *dom = g_ptr_array_index(in->snapshot->domains, i);
		Guest *g = g_new0(Guest, 1);

		g->dom = dom;
		g_hash_table_replace(guests, (gpointer)dom->uuid, g);
	}
	for (guint i = 0; i < in->plan->actions->len; i++) {
		const VsCpuAction *a = g_ptr_array_index(in->plan->actions, i);

		if (a->kind == VS_CPU_ACTION_DEADLINE && a->period_us > 0)
			g_hash_table_replace(deadlines, item_key(a->uuid, a->what), (gpointer)a);
	}
	for (guint i = 0; i < in->plan->actions->len; i++) {
		const VsCpuAction *a = g_ptr_array_index(in->plan->actions, i);
		g_autofree char *key = NULL;
		Guest *g;
		Item *it;
		guint index;
		int last;

		if (a->kind != VS_CPU_ACTION_AFFINITY || !a->cpus || vs_cpuset_is_empty(a->cpus) ||
		    !vcpu_index(a->what, &index))
			continue;
		g = g_hash_table_lookup(guests, a->uuid);
		if (!g)
			continue;
		key = item_key(a->uuid, a->what);
		it = g_new0(Item, 1);
		it->affinity = a;
		it->deadline = g_hash_table_lookup(deadlines, key);
		it->index = index;
		it->guest = g;
		it->cpus_text = vs_cpuset_format(a->cpus);
		if (!it->deadline)
			g->n_shared++;
		for (last = vs_cpuset_next(a->cpus, 0); last >= 0;) {
			int next = vs_cpuset_next(a->cpus, (guint)last + 1);

			if (next < 0)
				break;
			last = next;
		}
		n_left = MAX(n_left, (guint)last + 1);
		g_ptr_array_add(items, it);
	}

	left = g_new(double, MAX(n_left, 1));
	for (guint cpu = 0; cpu < n_left; cpu++)
		left[cpu] = 1.0;
	/* Reservations first: the kernel gives them their bandwidth. */
	for (guint i = 0; i < items->len; i++) {
		Item *it = g_ptr_array_index(items, i);
		const VsCpuSet *cpus = it->affinity->cpus;
		double share;

		if (!it->deadline)
			continue;
		it->cpus = MIN(1.0, (double)it->deadline->runtime_us / (double)it->deadline->period_us);
		share = it->cpus / (double)vs_cpuset_count(cpus);
		for (int cpu = vs_cpuset_next(cpus, 0); cpu >= 0;
		     cpu = vs_cpuset_next(cpus, (guint)cpu + 1))
			left[cpu] = MAX(0.0, left[cpu] - share);
	}
	/* The others, by groups of equal affinity. */
	for (guint i = 0; i < items->len; i++) {
		Item *it = g_ptr_array_index(items, i);
		Group *g;

		if (it->deadline)
			continue;
		if (!it->guest->policy_read) {
			guest_policy(in, it->guest);
			it->guest->policy_read = true;
		}
		it->weight = it->guest->weight / (double)it->guest->n_shared;
		it->max = 1.0;
		if (it->guest->limit >= 0)
			it->max = MIN(1.0, it->guest->limit / (double)it->guest->n_shared);
		g = g_hash_table_lookup(by_cpus, it->cpus_text);
		if (!g) {
			g = g_new0(Group, 1);
			g->cpus_text = it->cpus_text;
			g->cpus = it->affinity->cpus;
			g->n_cpus = vs_cpuset_count(g->cpus);
			g->items = g_ptr_array_new();
			g_hash_table_insert(by_cpus, g->cpus_text, g);
			g_ptr_array_add(groups, g);
		}
		g_ptr_array_add(g->items, it);
		it->group = g;
	}
	g_ptr_array_sort(groups, compare_groups);
	for (guint i = 0; i < groups->len; i++) {
		Group *g = g_ptr_array_index(groups, i);
		double used = 0;

		g->capacity = capacity_of(g->cpus, left, n_left);
		water_fill(g, g->capacity);
		for (guint k = 0; k < g->items->len; k++)
			used += ((Item *)g_ptr_array_index(g->items, k))->cpus;
		take(g->cpus, left, n_left, used, g->capacity);
	}

	for (guint i = 0; i < items->len; i++) {
		Item *it = g_ptr_array_index(items, i);
		VsStealEntitlement e = { .index = it->index, .cpus = it->cpus };

		g_strlcpy(e.uuid, it->affinity->uuid, sizeof(e.uuid));
		if (it->deadline)
			e.reason = g_strdup_printf(
				"SCHED_DEADLINE reservation %" G_GINT64_FORMAT "us/%" G_GINT64_FORMAT
				"us",
				it->deadline->runtime_us, it->deadline->period_us);
		else
			e.reason = shared_reason(it, it->group);
		g_array_append_val(out, e);
	}
	return out;
}

const VsStealEntitlement *vs_steal_entitlement_find(const GArray *list, const char *uuid,
						    guint index)
{
	for (guint i = 0; i < list->len; i++) {
		const VsStealEntitlement *e = &g_array_index(list, VsStealEntitlement, i);

		if (e->index == index && g_ascii_strcasecmp(e->uuid, uuid) == 0)
			return e;
	}
	return NULL;
}
