/* One policy file: parsing its text into [Match] criteria and settings with
 * line numbers, every mistake reported at once with file, line and key
 * (unknown sections and keys with a "did you mean", keys in the wrong
 * section, bad values, contradictions between keys, and warnings for what
 * works but is likely a mistake), and matching a domain against the file. */
#include "config.h"

#include "policy/policy-private.h"
#include "util/ini.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

static void setting_free(VsPolicySetting *s)
{
	vs_policy_value_free(s->value);
	g_free(s);
}

static VsPolicyFile *file_new(const char *path)
{
	VsPolicyFile *f = g_new0(VsPolicyFile, 1);
	g_autofree char *base = g_path_get_basename(path);

	f->path = g_strdup(path);
	if (g_str_has_suffix(base, ".policy") && strlen(base) > strlen(".policy"))
		base[strlen(base) - strlen(".policy")] = '\0';
	f->name = g_steal_pointer(&base);
	f->match_names = g_ptr_array_new_with_free_func(g_free);
	f->match_uuids = g_ptr_array_new_with_free_func(g_free);
	f->match_classes = g_ptr_array_new_with_free_func(g_free);
	f->settings = g_ptr_array_new_with_free_func((GDestroyNotify)setting_free);
	return f;
}

void vs_policy_file_free(VsPolicyFile *f)
{
	if (!f)
		return;
	g_free(f->path);
	g_free(f->name);
	g_ptr_array_unref(f->match_names);
	g_ptr_array_unref(f->match_uuids);
	g_ptr_array_unref(f->match_classes);
	g_ptr_array_unref(f->settings);
	g_free(f);
}

static bool known_section(const char *name)
{
	return g_strv_contains(vs_policy_sections, name);
}

/* Splits an INI reader error "ORIGIN:LINE: TEXT" into its line and text. */
static guint split_ini_error(const char *origin, const char *err, const char **ret_text)
{
	size_t n = strlen(origin);
	char *end;
	unsigned long line;

	*ret_text = err;
	if (strncmp(err, origin, n) != 0 || err[n] != ':' || !g_ascii_isdigit(err[n + 1]))
		return 0;
	line = strtoul(err + n + 1, &end, 10);
	if (end[0] != ':' || end[1] != ' ' || line > G_MAXUINT)
		return 0;
	*ret_text = end + 2;
	return (guint)line;
}

static void report_section(const char *path, const VsIniEntry *s, GPtrArray *diags)
{
	const char *hint = vs_ini_suggest(s->section, vs_policy_sections);

	if (hint)
		vs_policy_diag_add(diags, path, s->line, NULL, false,
				   "unknown section [%s] (did you mean [%s]?)", s->section, hint);
	else
		vs_policy_diag_add(diags, path, s->line, NULL, false,
				   "unknown section [%s]; sections: [Match], [CPU], [Memory], "
				   "[Hotplug], [Steal]", s->section);
}

static void report_unknown_key(const char *path, const VsIniEntry *e, GPtrArray *diags)
{
	g_autoptr(GPtrArray) here = g_ptr_array_new();
	g_autoptr(GPtrArray) all = g_ptr_array_new();
	g_autofree char *listed = NULL;
	const char *hint;

	for (const VsPolicyKey *k = vs_policy_keys; k->name; k++) {
		if (strcmp(k->name, e->key) == 0) {
			vs_policy_diag_add(diags, path, e->line, e->key, false,
					   "%s= belongs in [%s], not [%s]", e->key, k->section,
					   e->section);
			return;
		}
		if (strcmp(k->section, e->section) == 0)
			g_ptr_array_add(here, (gpointer)k->name);
		else
			g_ptr_array_add(all, (gpointer)k->name);
	}
	g_ptr_array_add(here, NULL);
	g_ptr_array_add(all, NULL);

	hint = vs_ini_suggest(e->key, (const char *const *)here->pdata);
	if (hint) {
		vs_policy_diag_add(diags, path, e->line, e->key, false,
				   "unknown key %s= in [%s] (did you mean %s=?)", e->key, e->section,
				   hint);
		return;
	}
	hint = vs_ini_suggest(e->key, (const char *const *)all->pdata);
	if (hint) {
		const VsPolicyKey *k = vs_policy_key_lookup(hint);
		vs_policy_diag_add(diags, path, e->line, e->key, false,
				   "unknown key %s= in [%s] (did you mean %s= in [%s]?)", e->key,
				   e->section, hint, k->section);
		return;
	}
	listed = g_strjoinv("=, ", (char **)here->pdata);
	vs_policy_diag_add(diags, path, e->line, e->key, false, "unknown key %s= in [%s]; keys: %s=",
			   e->key, e->section, listed);
}

/* The last setting of a key in @f, or NULL. */
static const VsPolicySetting *setting_get(const VsPolicyFile *f, const char *section,
					  const char *name)
{
	for (guint i = f->settings->len; i > 0; i--) {
		const VsPolicySetting *s = g_ptr_array_index(f->settings, i - 1);
		if (strcmp(s->key->section, section) == 0 && strcmp(s->key->name, name) == 0)
			return s;
	}
	return NULL;
}

static bool enum_is(const VsPolicySetting *s, const char *choice)
{
	return s && strcmp(s->value->str, choice) == 0;
}

/* Keys that have no effect while the section's switch is off. */
static void check_switch(const VsPolicyFile *f, const char *section, const char *name,
			 GPtrArray *diags)
{
	const VsPolicySetting *sw = setting_get(f, section, name);

	if (!sw || sw->value->b)
		return;
	for (guint i = 0; i < f->settings->len; i++) {
		const VsPolicySetting *s = g_ptr_array_index(f->settings, i);
		if (s == sw || strcmp(s->key->section, section) != 0)
			continue;
		vs_policy_diag_add(diags, f->path, s->line, s->key->name, true,
				   "%s=%s: no effect while %s=%s (line %u)", s->key->name,
				   s->value->text, name, sw->value->text, sw->line);
	}
}

/* Contradictions (errors) and likely mistakes (warnings) across keys. */
static void check_cross(const VsPolicyFile *f, GPtrArray *diags)
{
	const VsPolicySetting *min = setting_get(f, "Hotplug", "MinVCPUs");
	const VsPolicySetting *max = setting_get(f, "Hotplug", "MaxVCPUs");
	const VsPolicySetting *placement = setting_get(f, "CPU", "Placement");
	const VsPolicySetting *limit = setting_get(f, "CPU", "Limit");
	const VsPolicySetting *cosched = setting_get(f, "CPU", "CoSchedule");

	if (min && max && min->value->i > max->value->i)
		vs_policy_diag_add(diags, f->path, min->line, "MinVCPUs", false,
				   "MinVCPUs=%s: more than MaxVCPUs=%s (line %u)", min->value->text,
				   max->value->text, max->line);
	if (enum_is(placement, "dedicated") && limit)
		vs_policy_diag_add(diags, f->path, limit->line, "Limit", true,
				   "Limit=%s: a cap on dedicated CPUs (Placement=dedicated, line %u) "
				   "leaves them idle", limit->value->text, placement->line);
	if (enum_is(cosched, "gang") && !enum_is(placement, "dedicated") && !limit &&
	    !setting_get(f, "CPU", "Reservation"))
		vs_policy_diag_add(diags, f->path, cosched->line, "CoSchedule", true,
				   "CoSchedule=gang: gang scheduling on shared CPUs needs aligned "
				   "periods: give a Reservation= or a Limit=");
	check_switch(f, "Memory", "Balloon", diags);
	check_switch(f, "Hotplug", "Enable", diags);
}

/* Records a valid value of @key from line @line into @f; takes @value. */
static void file_add(VsPolicyFile *f, const VsPolicyKey *key, VsPolicyValue *value, guint line)
{
	VsPolicySetting *s;

	if (strcmp(key->section, "Match") == 0) {
		GPtrArray *to = key->type == VS_PTYPE_GLOB ? f->match_names :
				key->type == VS_PTYPE_UUID ? f->match_uuids : f->match_classes;
		g_ptr_array_add(to, g_steal_pointer(&value->str));
		vs_policy_value_free(value);
		return;
	}
	if (!key->repeatable) {
		for (guint i = 0; i < f->settings->len; i++) {
			if (((VsPolicySetting *)g_ptr_array_index(f->settings, i))->key == key) {
				g_ptr_array_remove_index(f->settings, i);
				break;
			}
		}
	}
	s = g_new0(VsPolicySetting, 1);
	s->key = key;
	s->value = value;
	s->line = line;
	g_ptr_array_add(f->settings, s);
}

VsPolicyFile *vs_policy_file_parse(const char *path, const char *text, GPtrArray *diags)
{
	g_autoptr(VsIni) ini = vs_ini_parse(path, text);
	g_autoptr(VsPolicyFile) f = file_new(path);
	g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
	guint errors_before = vs_policy_diags_errors(diags);
	const VsIniEntry *match_header = NULL;
	bool match_keys = false;

	for (guint i = 0; i < ini->errors->len; i++) {
		const char *msg;
		guint line = split_ini_error(path, g_ptr_array_index(ini->errors, i), &msg);
		vs_policy_diag_add(diags, path, line, NULL, false, "%s", msg);
	}
	for (guint i = 0; i < ini->sections->len; i++) {
		const VsIniEntry *s = g_ptr_array_index(ini->sections, i);
		if (!known_section(s->section))
			report_section(path, s, diags);
		else if (!match_header && strcmp(s->section, "Match") == 0)
			match_header = s;
	}
	for (guint i = 0; i < ini->entries->len; i++) {
		const VsIniEntry *e = g_ptr_array_index(ini->entries, i);
		const VsPolicyKey *k;
		guint prev;
		g_autofree char *why = NULL;
		VsPolicyValue *value;

		if (!known_section(e->section))
			continue; /* the section was reported */
		if (strcmp(e->section, "Match") == 0)
			match_keys = true;
		k = vs_policy_key_find(e->section, e->key);
		if (!k) {
			report_unknown_key(path, e, diags);
			continue;
		}
		prev = GPOINTER_TO_UINT(g_hash_table_lookup(seen, k));
		if (prev && !k->repeatable)
			vs_policy_diag_add(diags, path, e->line, k->name, true,
					   "%s=%s: set again (first on line %u); the last value counts",
					   k->name, e->value, prev);
		if (!prev)
			g_hash_table_insert(seen, (gpointer)k, GUINT_TO_POINTER(e->line));
		value = vs_policy_value_parse(k, e->value, &why);
		if (!value) {
			vs_policy_diag_add(diags, path, e->line, k->name, false, "%s=%s: %s", k->name,
					   e->value, why);
			continue;
		}
		file_add(f, k, value, e->line);
	}
	check_cross(f, diags);
	if (!match_header)
		vs_policy_diag_add(diags, path, 0, NULL, true,
				   "no [Match] section: this file matches every guest");
	else if (!match_keys)
		vs_policy_diag_add(diags, path, match_header->line, NULL, true,
				   "[Match] has no Name=, UUID= or Class=: this file matches every guest");
	if (vs_policy_diags_errors(diags) > errors_before)
		return NULL;
	return g_steal_pointer(&f);
}

static bool any_glob(const GPtrArray *globs, const char *name)
{
	for (guint i = 0; name && i < globs->len; i++)
		if (fnmatch(g_ptr_array_index(globs, i), name, 0) == 0)
			return true;
	return false;
}

static bool any_equal(const GPtrArray *values, const char *s, bool ignore_case)
{
	for (guint i = 0; s && i < values->len; i++) {
		const char *v = g_ptr_array_index(values, i);
		if (ignore_case ? g_ascii_strcasecmp(v, s) == 0 : strcmp(v, s) == 0)
			return true;
	}
	return false;
}

bool vs_policy_file_matches(const VsPolicyFile *f, const char *name, const char *uuid,
			    const char *class_name)
{
	if (f->match_names->len && !any_glob(f->match_names, name))
		return false;
	if (f->match_uuids->len && !any_equal(f->match_uuids, uuid, true))
		return false;
	if (f->match_classes->len && !any_equal(f->match_classes, class_name, false))
		return false;
	return true;
}
