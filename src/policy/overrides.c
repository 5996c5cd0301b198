/* Overrides: temporary changes of single keys for single domains from
 * `vschedctl override`, validated by the same key table as the policy files,
 * each with an id and an optional expiry. Pure and in memory: the caller
 * passes the time and persists them (overrides-json.c). */
#include "config.h"

#include "policy/policy-private.h"
#include "util/ini.h"

#include <errno.h>
#include <string.h>

/* Diagnostics of overrides name this instead of a file. */
#define ORIGIN "override"

VsOverride *vs_override_new(const char *id, const char *uuid, const char *name,
			    const VsPolicyKey *key, VsPolicyValue *value,
			    int64_t created_us, int64_t expires_us)
{
	VsOverride *ov = g_new0(VsOverride, 1);

	ov->id = g_strdup(id);
	ov->domain_uuid = g_ascii_strdown(uuid, -1);
	ov->domain_name = g_strdup(name ? name : "");
	ov->key = key;
	ov->value = value;
	ov->created_us = created_us;
	ov->expires_us = expires_us;
	return ov;
}

void vs_override_free(VsOverride *ov)
{
	if (!ov)
		return;
	g_free(ov->id);
	g_free(ov->domain_uuid);
	g_free(ov->domain_name);
	vs_policy_value_free(ov->value);
	g_free(ov);
}

VsOverrides *vs_overrides_new(void)
{
	VsOverrides *o = g_new0(VsOverrides, 1);

	o->items = g_ptr_array_new_with_free_func((GDestroyNotify)vs_override_free);
	o->next_id = 1;
	return o;
}

void vs_overrides_free(VsOverrides *o)
{
	if (!o)
		return;
	g_ptr_array_unref(o->items);
	g_free(o);
}

void vs_overrides_add(VsOverrides *o, VsOverride *ov)
{
	for (guint i = 0; i < o->items->len; i++) {
		const VsOverride *old = g_ptr_array_index(o->items, i);
		if (old->key == ov->key && strcmp(old->domain_uuid, ov->domain_uuid) == 0 &&
		    vs_policy_value_same_slot(old->value, ov->value)) {
			g_ptr_array_remove_index(o->items, i);
			break;
		}
	}
	g_ptr_array_add(o->items, ov);
}

/* Validates one "Key=Value"; a new value and its key, or NULL with a diag. */
static VsPolicyValue *parse_assignment(const char *assignment, const VsPolicyKey **ret_key,
				       GPtrArray *diags)
{
	const char *eq = strchr(assignment, '=');
	g_autofree char *name = NULL;
	g_autofree char *why = NULL;
	const VsPolicyKey *key;
	VsPolicyValue *value;

	if (!eq) {
		vs_policy_diag_add(diags, ORIGIN, 0, NULL, false,
				   "\"%s\": not Key=Value (like Weight=200 or CPU.Weight=200)",
				   assignment);
		return NULL;
	}
	name = g_strstrip(g_strndup(assignment, (gsize)(eq - assignment)));
	key = vs_policy_key_lookup(name);
	if (!key) {
		g_autoptr(GPtrArray) names = g_ptr_array_new();
		const char *hint;
		for (const VsPolicyKey *k = vs_policy_keys; k->name; k++)
			g_ptr_array_add(names, (gpointer)k->name);
		g_ptr_array_add(names, NULL);
		hint = vs_ini_suggest(strchr(name, '.') ? strchr(name, '.') + 1 : name,
				      (const char *const *)names->pdata);
		vs_policy_diag_add(diags, ORIGIN, 0, name, false, "unknown key %s=%s%s%s", name,
				   hint ? " (did you mean " : "", hint ? hint : "", hint ? "=?)" : "");
		return NULL;
	}
	if (strcmp(key->section, "Match") == 0) {
		vs_policy_diag_add(diags, ORIGIN, 0, key->name, false,
				   "%s=%s: [Match] keys cannot be overridden", key->name, eq + 1);
		return NULL;
	}
	value = vs_policy_value_parse(key, eq + 1, &why);
	if (!value) {
		vs_policy_diag_add(diags, ORIGIN, 0, key->name, false, "%s=%s: %s", key->name,
				   eq + 1, why);
		return NULL;
	}
	*ret_key = key;
	return value;
}

int vs_overrides_set(VsOverrides *o, const char *uuid, const char *name,
		     const char *const *assignments, int64_t now_us, int64_t for_us,
		     GPtrArray *diags)
{
	g_autoptr(GPtrArray) made = g_ptr_array_new_with_free_func((GDestroyNotify)vs_override_free);
	bool ok = true;
	int n;

	if (!g_uuid_string_is_valid(uuid)) {
		vs_policy_diag_add(diags, ORIGIN, 0, NULL, false, "\"%s\" is not a domain UUID", uuid);
		ok = false;
	}
	if (for_us < 0) {
		vs_policy_diag_add(diags, ORIGIN, 0, NULL, false,
				   "a negative duration; give a positive one, or none for an "
				   "override until cleared");
		ok = false;
	}
	for (guint i = 0; assignments[i]; i++) {
		const VsPolicyKey *key = NULL;
		VsPolicyValue *value = parse_assignment(assignments[i], &key, diags);

		if (!value) {
			ok = false;
			continue;
		}
		if (ok)
			g_ptr_array_add(made, vs_override_new(NULL, uuid, name, key, value, now_us,
							      for_us ? now_us + for_us : 0));
		else
			vs_policy_value_free(value);
	}
	if (!ok)
		return -EINVAL;
	n = (int)made->len;
	/* Hand over in order, so that a key given twice keeps its last value. */
	while (made->len) {
		VsOverride *ov = g_ptr_array_steal_index(made, 0);
		ov->id = g_strdup_printf("ov-%" G_GUINT64_FORMAT, o->next_id++);
		vs_overrides_add(o, ov);
	}
	return n;
}

int vs_overrides_clear(VsOverrides *o, const char *uuid, const char *key)
{
	const VsPolicyKey *k = NULL;
	int removed = 0;

	if (key) {
		k = vs_policy_key_lookup(key);
		if (!k)
			return -ENOENT;
	}
	for (guint i = o->items->len; i > 0; i--) {
		const VsOverride *ov = g_ptr_array_index(o->items, i - 1);
		if (g_ascii_strcasecmp(ov->domain_uuid, uuid) != 0 || (k && ov->key != k))
			continue;
		g_ptr_array_remove_index(o->items, i - 1);
		removed++;
	}
	return removed;
}

GPtrArray *vs_overrides_expire(VsOverrides *o, int64_t now_us)
{
	GPtrArray *gone = g_ptr_array_new_with_free_func((GDestroyNotify)vs_override_free);

	for (guint i = 0; i < o->items->len;) {
		const VsOverride *ov = g_ptr_array_index(o->items, i);
		if (ov->expires_us && ov->expires_us <= now_us)
			g_ptr_array_add(gone, g_ptr_array_steal_index(o->items, i));
		else
			i++;
	}
	return gone;
}
