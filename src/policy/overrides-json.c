/* The JSON form of the overrides, kept in /var/lib/vsched/overrides.json so
 * that they survive a restart:
 *
 *   {"version":1,"next_id":N,"overrides":[{"id":"ov-3","domain_uuid":"...",
 *     "domain_name":"db1","key":"CPU.Weight","value":"200",
 *     "created_us":...,"expires_us":...}]}
 *
 * This is the one file of src/policy/ that uses json-glib (the rest is glib
 * only). The document is untrusted input: loading checks every member's type,
 * validates every entry through the key table like a new override, drops
 * expired entries, and reports what it skips instead of failing or crashing. */
#include "config.h"

#include "policy/policy-private.h"

#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

#define DOC_VERSION 1
/* Diagnostics name this instead of a path: the caller knows the path. */
#define ORIGIN "overrides.json"

char *vs_overrides_to_json(const VsOverrides *o)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "version");
	json_builder_add_int_value(b, DOC_VERSION);
	json_builder_set_member_name(b, "next_id");
	json_builder_add_int_value(b, (gint64)o->next_id);
	json_builder_set_member_name(b, "overrides");
	json_builder_begin_array(b);
	for (guint i = 0; i < o->items->len; i++) {
		const VsOverride *ov = g_ptr_array_index(o->items, i);
		g_autofree char *key = g_strdup_printf("%s.%s", ov->key->section, ov->key->name);

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "id");
		json_builder_add_string_value(b, ov->id);
		json_builder_set_member_name(b, "domain_uuid");
		json_builder_add_string_value(b, ov->domain_uuid);
		json_builder_set_member_name(b, "domain_name");
		json_builder_add_string_value(b, ov->domain_name);
		json_builder_set_member_name(b, "key");
		json_builder_add_string_value(b, key);
		json_builder_set_member_name(b, "value");
		json_builder_add_string_value(b, ov->value->text);
		json_builder_set_member_name(b, "created_us");
		json_builder_add_int_value(b, ov->created_us);
		json_builder_set_member_name(b, "expires_us");
		json_builder_add_int_value(b, ov->expires_us);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);

	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, TRUE);
	return json_generator_to_data(gen, NULL);
}

/* The string member @name of @obj, or NULL when missing or not a string. */
static const char *get_string(JsonObject *obj, const char *name)
{
	JsonNode *n = json_object_get_member(obj, name);

	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(n);
}

/* The integer member @name of @obj; false when missing or not an integer. */
static bool get_int(JsonObject *obj, const char *name, gint64 *ret)
{
	JsonNode *n = json_object_get_member(obj, name);

	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
		return false;
	*ret = json_node_get_int(n);
	return true;
}

/* The number of an id "ov-N", or 0 when it has another form. */
static guint64 id_number(const char *id)
{
	guint64 n;

	if (!g_str_has_prefix(id, "ov-") ||
	    !g_ascii_string_to_unsigned(id + 3, 10, 1, G_MAXUINT64 - 1, &n, NULL))
		return 0;
	return n;
}

static bool has_id(const VsOverrides *o, const char *id)
{
	for (guint i = 0; i < o->items->len; i++)
		if (strcmp(((const VsOverride *)g_ptr_array_index(o->items, i))->id, id) == 0)
			return true;
	return false;
}

/* Adds entry @i (counted from 1) of the document to @o, or says why it is skipped. */
static void load_entry(VsOverrides *o, JsonNode *node, guint i, int64_t now_us, GPtrArray *diags)
{
	JsonObject *obj = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
	const char *id, *uuid, *name, *key_spec, *text;
	const VsPolicyKey *key;
	g_autofree char *why = NULL;
	VsPolicyValue *value;
	gint64 created, expires;

	if (!obj) {
		vs_policy_diag_add(diags, ORIGIN, 0, NULL, true, "entry %u: not an object; skipped", i);
		return;
	}
	id = get_string(obj, "id");
	uuid = get_string(obj, "domain_uuid");
	name = get_string(obj, "domain_name");
	key_spec = get_string(obj, "key");
	text = get_string(obj, "value");
	if (!id || !uuid || !key_spec || !text || !get_int(obj, "created_us", &created) ||
	    !get_int(obj, "expires_us", &expires)) {
		vs_policy_diag_add(diags, ORIGIN, 0, NULL, true,
				   "entry %u: lacks id, domain_uuid, key, value, created_us or "
				   "expires_us, or has one of another type; skipped", i);
		return;
	}
	if (!id_number(id) || has_id(o, id)) {
		vs_policy_diag_add(diags, ORIGIN, 0, NULL, true,
				   "entry %u: id \"%s\" is not of the form ov-N or is taken; skipped",
				   i, id);
		return;
	}
	if (!g_uuid_string_is_valid(uuid) || created < 0 || expires < 0) {
		vs_policy_diag_add(diags, ORIGIN, 0, NULL, true,
				   "entry %u (%s): bad domain_uuid, created_us or expires_us; skipped",
				   i, id);
		return;
	}
	key = vs_policy_key_lookup(key_spec);
	if (!key || strcmp(key->section, "Match") == 0) {
		vs_policy_diag_add(diags, ORIGIN, 0, NULL, true,
				   "entry %u (%s): %s is not a key that can be overridden; skipped", i,
				   id, key_spec);
		return;
	}
	if (expires && expires <= now_us) {
		vs_policy_diag_add(diags, ORIGIN, 0, key->name, true,
				   "entry %u (%s): %s=%s for %s has expired; dropped", i, id, key->name,
				   text, name && name[0] ? name : uuid);
		return;
	}
	value = vs_policy_value_parse(key, text, &why);
	if (!value) {
		vs_policy_diag_add(diags, ORIGIN, 0, key->name, true, "entry %u (%s): %s=%s: %s; skipped",
				   i, id, key->name, text, why);
		return;
	}
	vs_overrides_add(o, vs_override_new(id, uuid, name, key, value, created, expires));
}

VsOverrides *vs_overrides_from_json(const char *json, int64_t now_us, GPtrArray *diags)
{
	g_autoptr(VsOverrides) o = vs_overrides_new();
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) error = NULL;
	JsonObject *root;
	JsonNode *items;
	gint64 version, next_id;
	guint64 max_id = 0;

	while (g_ascii_isspace(*json))
		json++;
	if (*json == '\0')
		return g_steal_pointer(&o);
	parser = json_parser_new_immutable();
	if (!json_parser_load_from_data(parser, json, -1, &error)) {
		vs_policy_diag_add(diags, ORIGIN, 0, NULL, false, "not JSON: %s", error->message);
		return NULL;
	}
	if (!json_parser_get_root(parser) || !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
		vs_policy_diag_add(diags, ORIGIN, 0, NULL, false, "not a JSON object");
		return NULL;
	}
	root = json_node_get_object(json_parser_get_root(parser));
	if (!get_int(root, "version", &version) || version != DOC_VERSION) {
		vs_policy_diag_add(diags, ORIGIN, 0, NULL, false,
				   "no \"version\": %d member; written by another version of vsched?",
				   DOC_VERSION);
		return NULL;
	}
	items = json_object_get_member(root, "overrides");
	if (items && !JSON_NODE_HOLDS_ARRAY(items)) {
		vs_policy_diag_add(diags, ORIGIN, 0, NULL, false, "\"overrides\" is not an array");
		return NULL;
	}
	if (items) {
		JsonArray *array = json_node_get_array(items);
		for (guint i = 0; i < json_array_get_length(array); i++)
			load_entry(o, json_array_get_element(array, i), i + 1, now_us, diags);
	}
	for (guint i = 0; i < o->items->len; i++)
		max_id = MAX(max_id, id_number(((VsOverride *)g_ptr_array_index(o->items, i))->id));
	/* Never hand out an id again, even when next_id is missing or wrong. */
	o->next_id = max_id + 1;
	if (get_int(root, "next_id", &next_id) && next_id > 0 && (guint64)next_id > o->next_id)
		o->next_id = (guint64)next_id;
	return g_steal_pointer(&o);
}
