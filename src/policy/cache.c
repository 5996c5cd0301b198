/* Effective policies kept across ticks; see vs_policy_cache_new() in
 * policy.h.
 *
 * The planners of a tick (CPU co-scheduling, hotplug, memory) each need
 * every running guest's effective policy, and it changes only when the
 * policy set, the overrides, or the guest's name or class do. The cache
 * holds one merged policy per guest UUID and makes it again only then.
 * What it can tell without walking the files makes its stamp: the set
 * object and its number of files, the overrides object, its number of
 * overrides, its next override ID (every added override takes one) and
 * how many overrides have expired by now. A change the stamp cannot see
 * (a set reloaded at the old one's address with as many files) needs
 * vs_policy_cache_invalidate(), which the daemon calls on every reload
 * and override change. */
#include "config.h"

#include "policy/policy-private.h"

#include <string.h>

typedef struct Entry {
	char *name;
	char *class_name;
	VsEffectivePolicy *eff;
	uint64_t stamp;             /* the cache's stamp when made */
	uint64_t used;              /* the cache's round of the last lookup */
} Entry;

struct VsPolicyCache {
	GHashTable *entries;        /* UUID -> Entry */
	/* What the stamp was computed from. */
	const VsPolicySet *set;
	guint files;
	const VsOverrides *overrides;
	guint items, expired;
	guint64 next_id;
	int64_t now_us;
	uint64_t stamp;             /* 0: nothing computed yet */
	uint64_t round;             /* vs_policy_cache_begin() calls */
	guint made;                 /* merges since the last begin */
};

static void entry_free(gpointer data)
{
	Entry *e = data;

	g_free(e->name);
	g_free(e->class_name);
	vs_effective_policy_free(e->eff);
	g_free(e);
}

VsPolicyCache *vs_policy_cache_new(void)
{
	VsPolicyCache *c = g_new0(VsPolicyCache, 1);

	c->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, entry_free);
	return c;
}

void vs_policy_cache_free(VsPolicyCache *c)
{
	if (!c)
		return;
	g_hash_table_unref(c->entries);
	g_free(c);
}

void vs_policy_cache_invalidate(VsPolicyCache *c)
{
	/* The policies borrow from a set or overrides that may be gone. */
	g_hash_table_remove_all(c->entries);
	c->stamp++;
}

void vs_policy_cache_begin(VsPolicyCache *c, const VsPolicySet *set,
			   const VsOverrides *overrides, int64_t now_us)
{
	guint files = set && set->files ? set->files->len : 0;
	guint items = overrides ? overrides->items->len : 0;
	guint64 next_id = overrides ? overrides->next_id : 0;
	guint expired = 0;
	GHashTableIter it;
	gpointer value;

	for (guint i = 0; i < items; i++) {
		const VsOverride *o = g_ptr_array_index(overrides->items, i);

		if (o->expires_us && o->expires_us <= now_us)
			expired++;
	}
	c->now_us = now_us;
	c->made = 0;
	if (!c->stamp || set != c->set || files != c->files || overrides != c->overrides ||
	    items != c->items || next_id != c->next_id || expired != c->expired) {
		c->set = set;
		c->files = files;
		c->overrides = overrides;
		c->items = items;
		c->next_id = next_id;
		c->expired = expired;
		vs_policy_cache_invalidate(c);
		c->round++;
		return;
	}
	/* Guests not looked up during the last round have gone. */
	g_hash_table_iter_init(&it, c->entries);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (((Entry *)value)->used != c->round)
			g_hash_table_iter_remove(&it);
	c->round++;
}

const VsEffectivePolicy *vs_policy_cache_get(VsPolicyCache *c, const char *name,
					     const char *uuid, const char *class_name)
{
	Entry *e = g_hash_table_lookup(c->entries, uuid);

	if (!e) {
		e = g_new0(Entry, 1);
		g_hash_table_insert(c->entries, g_strdup(uuid), e);
	} else if (e->stamp == c->stamp && g_strcmp0(e->name, name) == 0 &&
		   g_strcmp0(e->class_name, class_name) == 0) {
		e->used = c->round;
		return e->eff;
	}
	g_free(e->name);
	e->name = g_strdup(name);
	g_free(e->class_name);
	e->class_name = g_strdup(class_name);
	vs_effective_policy_free(e->eff);
	e->eff = vs_policy_effective(c->set, c->overrides, name, uuid, class_name, c->now_us);
	e->stamp = c->stamp;
	e->used = c->round;
	c->made++;
	return e->eff;
}

uint64_t vs_policy_cache_stamp(const VsPolicyCache *c)
{
	return c->stamp;
}

guint vs_policy_cache_made(const VsPolicyCache *c)
{
	return c->made;
}

const VsEffectivePolicy *vs_policy_cache_or_merge(VsPolicyCache *c, const VsPolicySet *set,
						  const VsOverrides *overrides, const char *name,
						  const char *uuid, const char *class_name,
						  int64_t now_us, VsEffectivePolicy **ret_owned)
{
	if (c)
		return vs_policy_cache_get(c, name, uuid, class_name);
	*ret_owned = vs_policy_effective(set, overrides, name, uuid, class_name, now_us);
	return *ret_owned;
}
