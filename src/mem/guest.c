/* Filling a planner guest from a domain, its policy and its statistics;
 * see guest.h. */
#include "config.h"

#include "mem/guest.h"

#include <string.h>

/* The value of [Memory] @name in @e; without @e (or an entry), the key
 * table's default, parsed into @tmp; NULL when the key is unset. */
static const VsPolicyValue *value_of(const VsEffectivePolicy *e, const char *name,
				     VsPolicyValue **tmp)
{
	const VsEffectiveEntry *en = e ? vs_effective_get(e, "Memory", name) : NULL;
	const VsPolicyKey *key;
	g_autofree char *why = NULL;

	if (en)
		return en->value;
	key = vs_policy_key_find("Memory", name);
	if (!key || !key->default_value)
		return NULL;
	vs_policy_value_free(*tmp);
	*tmp = vs_policy_value_parse(key, key->default_value, &why);
	return *tmp;
}

void vs_mem_guest_init(VsMemGuest *g, const VsDomain *dom, const VsEffectivePolicy *e,
		       const VsMemStats *stats)
{
	g_autoptr(VsPolicyValue) tmp = NULL;
	const VsPolicyValue *v;
	const VsEffectiveEntry *target = e ? vs_effective_get(e, "Memory", "Target") : NULL;

	memset(g, 0, sizeof(*g));
	g_strlcpy(g->uuid, dom->uuid, sizeof(g->uuid));
	g->name = dom->name;
	g->current = dom->mem_current;
	g->maximum = dom->mem_max;
	if (stats) {
		g->stats = *stats;
	} else {
		g->stats.flags = VS_MEM_STATS_MISSING;
		g->stats.current = dom->mem_current;
		g->stats.maximum = dom->mem_max;
		g_strlcpy(g->stats.problem, "No statistics collected yet.", sizeof(g->stats.problem));
	}
	v = value_of(e, "Balloon", &tmp);
	g->balloon = v && v->b;
	v = value_of(e, "Floor", &tmp);
	g->floor = v ? v->bytes : 0;
	v = value_of(e, "Shares", &tmp);
	g->shares = v ? v->i : 1;
	v = value_of(e, "Margin", &tmp);
	g->margin = v ? v->bytes : 0;
	v = value_of(e, "IdleTax", &tmp);
	g->idle_tax = v ? v->percent / 100.0 : 0;
	v = value_of(e, "MaxStepPerSecond", &tmp);
	g->max_step_per_s = v ? v->bytes : 0;
	if (target && target->value) {
		g->has_override = true;
		g->override_target = target->value->bytes;
		if (target->origin == VS_ORIGIN_OVERRIDE)
			g_snprintf(g->override_origin, sizeof(g->override_origin), "override %s",
				   target->override_id ? target->override_id : "");
		else
			g_snprintf(g->override_origin, sizeof(g->override_origin), "%s:%u",
				   target->file ? target->file : "policy", target->line);
	}
}
