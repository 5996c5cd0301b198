/* The effective policy of one domain: the defaults of the key table, then
 * every matching policy file in order (a later file overrides an earlier one
 * key by key), then the domain's live overrides, keeping for every key where
 * its value came from (default, file:line, or override id and expiry) so
 * that `vschedctl explain` and the planners' reasons can say why. */
#include "config.h"

#include "policy/policy-private.h"

#include <string.h>

/* The entry of @key in @e (entries are every non-Match key in table order). */
static VsEffectiveEntry *entry_of(const VsEffectivePolicy *e, const VsPolicyKey *key)
{
	for (guint i = 0; i < e->entries->len; i++) {
		VsEffectiveEntry *en = &g_array_index(e->entries, VsEffectiveEntry, i);
		if (en->key == key)
			return en;
	}
	return NULL;
}

/* Replaces the entry of @with->key by @with. A repeatable key keeps one
 * entry per slot (Pin=: per vCPU): @with replaces the entry of its slot, or
 * fills the key's unset entry, or is added after the key's last entry. */
static void entry_set(VsEffectivePolicy *e, VsEffectiveEntry with)
{
	guint last = 0;
	bool found = false;

	for (guint i = 0; i < e->entries->len; i++) {
		VsEffectiveEntry *en = &g_array_index(e->entries, VsEffectiveEntry, i);

		if (en->key != with.key)
			continue;
		if (!with.key->repeatable || !en->value ||
		    vs_policy_value_same_slot(en->value, with.value)) {
			*en = with;
			return;
		}
		last = i;
		found = true;
	}
	if (found)
		g_array_insert_val(e->entries, last + 1, with);
}

/* The entries of a domain no file matches: every non-Match key in table
 * order with its default, parsed once for the life of the process (the
 * values are shared by every effective policy and never freed). */
static const GArray *default_entries(void)
{
	static GArray *entries;

	if (g_once_init_enter(&entries)) {
		GArray *a = g_array_new(FALSE, TRUE, sizeof(VsEffectiveEntry));

		for (const VsPolicyKey *k = vs_policy_keys; k->name; k++) {
			VsEffectiveEntry en = { .key = k, .origin = VS_ORIGIN_DEFAULT };

			if (strcmp(k->section, "Match") == 0)
				continue;
			if (k->default_value) {
				en.value = vs_policy_value_parse(k, k->default_value, NULL);
				/* The table's own defaults are checked by the unit tests. */
				g_assert(en.value);
			}
			g_array_append_val(a, en);
		}
		g_once_init_leave(&entries, a);
	}
	return entries;
}

VsEffectivePolicy *vs_policy_effective(const VsPolicySet *set, const VsOverrides *overrides,
				       const char *name, const char *uuid, const char *class_name,
				       int64_t now_us)
{
	const GArray *defaults = default_entries();
	VsEffectivePolicy *e = g_new0(VsEffectivePolicy, 1);

	e->entries = g_array_sized_new(FALSE, TRUE, sizeof(VsEffectiveEntry), defaults->len + 4);
	g_array_append_vals(e->entries, defaults->data, defaults->len);
	e->files = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; set && i < set->files->len; i++) {
		const VsPolicyFile *f = g_ptr_array_index(set->files, i);

		if (!vs_policy_file_matches(f, name, uuid, class_name))
			continue;
		g_ptr_array_add(e->files, g_strdup(f->name));
		for (guint j = 0; j < f->settings->len; j++) {
			const VsPolicySetting *s = g_ptr_array_index(f->settings, j);

			entry_set(e, (VsEffectiveEntry){
				.key = s->key, .value = s->value, .origin = VS_ORIGIN_FILE,
				.file = f->path, .line = s->line,
			});
		}
	}

	for (guint i = 0; overrides && uuid && i < overrides->items->len; i++) {
		const VsOverride *ov = g_ptr_array_index(overrides->items, i);

		if (g_ascii_strcasecmp(ov->domain_uuid, uuid) != 0 ||
		    (ov->expires_us && ov->expires_us <= now_us))
			continue;
		entry_set(e, (VsEffectiveEntry){
			.key = ov->key, .value = ov->value, .origin = VS_ORIGIN_OVERRIDE,
			.override_id = ov->id, .expires_us = ov->expires_us,
		});
	}
	return e;
}

void vs_effective_policy_free(VsEffectivePolicy *e)
{
	if (!e)
		return;
	g_array_unref(e->entries);
	g_ptr_array_unref(e->files);
	g_free(e);
}

const VsEffectiveEntry *vs_effective_get(const VsEffectivePolicy *e, const char *section,
					 const char *name)
{
	const VsPolicyKey *key = vs_policy_key_find(section, name);

	return key ? entry_of(e, key) : NULL;
}
