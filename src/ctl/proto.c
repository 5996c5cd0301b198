/* The control protocol's framing, decoding and encoding; see proto.h and
 * doc/control-protocol.md. Nothing here touches a socket: the server and
 * the client feed bytes in and write the encoded messages out. */
#include "config.h"

#include "ctl/proto.h"
#include "util/error.h"

#include <errno.h>
#include <string.h>

struct VsCtlReader {
	GByteArray *buf;
	gsize start;      /* first byte not yet returned */
	gsize tail;       /* bytes after the last NUL in buf: an incomplete message */
	gsize max;
	bool overflow;    /* a message grew over max: no more input is kept */
};

VsCtlReader *vs_ctl_reader_new(gsize max)
{
	VsCtlReader *reader = g_new0(VsCtlReader, 1);

	reader->buf = g_byte_array_new();
	reader->max = max;
	return reader;
}

void vs_ctl_reader_free(VsCtlReader *reader)
{
	if (!reader)
		return;
	g_byte_array_unref(reader->buf);
	g_free(reader);
}

void vs_ctl_reader_feed(VsCtlReader *reader, const void *data, gsize len)
{
	const guint8 *last_nul;

	if (reader->overflow || len == 0)
		return;
	g_byte_array_append(reader->buf, data, (guint)len);
	last_nul = memrchr(data, '\0', len);
	if (last_nul)
		reader->tail = len - (gsize)(last_nul - (const guint8 *)data) - 1;
	else
		reader->tail += len;
	if (reader->tail > reader->max) {
		/* Keep the complete messages before it; they are answered first. */
		g_byte_array_set_size(reader->buf, reader->buf->len - (guint)reader->tail);
		reader->tail = 0;
		reader->overflow = true;
	}
}

/* Drops the bytes already returned, when that is worth a move. */
static void reader_compact(VsCtlReader *reader)
{
	if (reader->start == reader->buf->len) {
		g_byte_array_set_size(reader->buf, 0);
		reader->start = 0;
	} else if (reader->start >= reader->buf->len / 2) {
		g_byte_array_remove_range(reader->buf, 0, (guint)reader->start);
		reader->start = 0;
	}
}

int vs_ctl_reader_pop(VsCtlReader *reader, char **ret_msg, gsize *ret_len)
{
	const guint8 *begin;
	const guint8 *nul;
	gsize len;

	/* A complete message is buffered only when there is more than the
	 * incomplete tail; this avoids rescanning a tail that grows slowly. */
	if (reader->buf->len - reader->start <= reader->tail) {
		if (!reader->overflow)
			return 0;
		g_byte_array_set_size(reader->buf, 0);
		reader->start = reader->tail = 0;
		return -EMSGSIZE;
	}
	/* Only now: an empty array's data is NULL, and NULL + 0 is undefined. */
	begin = reader->buf->data + reader->start;
	nul = memchr(begin, '\0', reader->buf->len - reader->start - reader->tail);
	g_assert(nul);
	len = (gsize)(nul - begin);
	if (len > reader->max) {
		g_byte_array_set_size(reader->buf, 0);
		reader->start = reader->tail = 0;
		reader->overflow = true;
		return -EMSGSIZE;
	}
	*ret_msg = g_strndup((const char *)begin, len);
	*ret_len = len;
	reader->start += len + 1;
	reader_compact(reader);
	return 1;
}

gsize vs_ctl_reader_pending(const VsCtlReader *reader)
{
	return reader->buf->len - reader->start;
}

void vs_ctl_request_free(VsCtlRequest *req)
{
	if (!req)
		return;
	g_free(req->method);
	if (req->parameters)
		json_object_unref(req->parameters);
	g_free(req);
}

VsCtlReply *vs_ctl_reply_new(JsonObject *parameters)
{
	VsCtlReply *reply = g_new0(VsCtlReply, 1);

	reply->parameters = parameters ? parameters : json_object_new();
	return reply;
}

VsCtlReply *vs_ctl_reply_new_error(const char *error, JsonObject *parameters)
{
	VsCtlReply *reply = vs_ctl_reply_new(parameters);

	reply->error = g_strdup(error);
	return reply;
}

VsCtlReply *vs_ctl_reply_new_error_string(const char *error, const char *key, const char *value)
{
	JsonObject *params = json_object_new();

	json_object_set_string_member(params, key, value);
	return vs_ctl_reply_new_error(error, params);
}

VsCtlReply *vs_ctl_reply_invalid_parameter(const char *name)
{
	return vs_ctl_reply_new_error_string(VS_CTL_ERROR_INVALID_PARAMETER, "parameter", name);
}

void vs_ctl_reply_free(VsCtlReply *reply)
{
	if (!reply)
		return;
	g_free(reply->error);
	if (reply->parameters)
		json_object_unref(reply->parameters);
	g_free(reply);
}

/* One dot-separated part of an interface name: letters, digits and inner
 * dashes; @first says whether it must start with a letter. */
static bool interface_part_ok(const char *p, gsize len, bool first)
{
	if (len == 0 || p[0] == '-' || p[len - 1] == '-')
		return false;
	if (first && !g_ascii_isalpha(p[0]))
		return false;
	for (gsize i = 0; i < len; i++)
		if (!g_ascii_isalnum(p[i]) && p[i] != '-')
			return false;
	return true;
}

bool vs_ctl_name_is_qualified(const char *name)
{
	const char *member = strrchr(name, '.');
	const char *p = name;
	guint parts = 0;

	if (!member || !g_ascii_isupper(member[1]))
		return false;
	for (const char *m = member + 1; *m; m++)
		if (!g_ascii_isalnum(*m))
			return false;
	while (p < member) {
		const char *dot = memchr(p, '.', (gsize)(member - p));
		const char *end = dot ? dot : member;

		if (!interface_part_ok(p, (gsize)(end - p), parts == 0))
			return false;
		parts++;
		p = end + 1;
	}
	return parts >= 2;
}

/* Checks what json-glib's lenient parser would otherwise accept or recurse
 * on: outside double-quoted strings only the characters of strict JSON may
 * appear (no single-quoted strings, no comments), there is at most one
 * top-level array or object, and arrays and objects nest at most
 * VS_CTL_DEPTH_MAX deep. Returns NULL when fine, else a reason
 * (static string). */
static const char *prescan(const char *msg, gsize len)
{
	guint depth = 0, values = 0;
	bool in_string = false;

	for (gsize i = 0; i < len; i++) {
		char c = msg[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (depth == 0 && ++values > 1)
				return "not JSON: more than one value";
			if (++depth > VS_CTL_DEPTH_MAX)
				return "nested deeper than " G_STRINGIFY(VS_CTL_DEPTH_MAX) " levels";
		} else if (c == ']' || c == '}') {
			if (depth > 0)
				depth--;
		} else if (!g_ascii_isalnum(c) && !strchr(" \t\r\n,:-+.", c)) {
			return "not JSON: a character outside a string that JSON does not allow";
		}
	}
	return NULL;
}

/* Parses @msg as one JSON object. Returns its node, or NULL with a reason
 * for the peer in *ret_reason (caller frees). */
static JsonNode *parse_object(const char *msg, gsize len, char **ret_reason)
{
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) error = NULL;
	const char *reason;
	JsonNode *root;

	if (!g_utf8_validate(msg, (gssize)len, NULL)) {
		*ret_reason = g_strdup("not UTF-8");
		return NULL;
	}
	reason = prescan(msg, len);
	if (reason) {
		*ret_reason = g_strdup(reason);
		return NULL;
	}
	parser = json_parser_new_immutable();
	if (!json_parser_load_from_data(parser, msg, (gssize)len, &error)) {
		*ret_reason = g_strdup_printf("not JSON: %s", error->message);
		return NULL;
	}
	root = json_parser_get_root(parser);
	if (!root) {
		*ret_reason = g_strdup("empty message");
		return NULL;
	}
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		*ret_reason = g_strdup_printf("not a JSON object but %s", json_node_type_name(root));
		return NULL;
	}
	return json_node_ref(root);
}

static bool node_is_string(JsonNode *node)
{
	return node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING;
}

static bool node_is_boolean(JsonNode *node)
{
	return node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_BOOLEAN;
}

static VsCtlReply *invalid_message(char *reason)
{
	g_autofree char *owned = reason;

	return vs_ctl_reply_new_error_string(VS_CTL_ERROR_INVALID_MESSAGE, "reason", owned);
}

/* The "parameters" member of @obj: a new reference to it, {} when absent or
 * null, or NULL when it is something else. */
static JsonObject *get_parameters(JsonObject *obj)
{
	JsonNode *node = json_object_get_member(obj, "parameters");

	if (!node || JSON_NODE_HOLDS_NULL(node))
		return json_object_new();
	if (!JSON_NODE_HOLDS_OBJECT(node))
		return NULL;
	return json_object_ref(json_node_get_object(node));
}

VsCtlRequest *vs_ctl_request_decode(const char *msg, gsize len, VsCtlReply **ret_error)
{
	static const char *const unsupported[] = { "more", "oneway", "upgrade" };
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(VsCtlRequest) req = NULL;
	char *reason = NULL;
	JsonObject *obj;
	JsonNode *method;

	root = parse_object(msg, len, &reason);
	if (!root) {
		*ret_error = invalid_message(reason);
		return NULL;
	}
	obj = json_node_get_object(root);
	method = json_object_get_member(obj, "method");
	if (!node_is_string(method)) {
		*ret_error = invalid_message(g_strdup("no \"method\" string"));
		return NULL;
	}
	if (!vs_ctl_name_is_qualified(json_node_get_string(method))) {
		*ret_error = invalid_message(g_strdup_printf("\"%s\" is not a qualified method name",
							     json_node_get_string(method)));
		return NULL;
	}
	req = g_new0(VsCtlRequest, 1);
	req->method = g_strdup(json_node_get_string(method));
	req->parameters = get_parameters(obj);
	if (!req->parameters) {
		*ret_error = invalid_message(g_strdup("\"parameters\" is not an object"));
		return NULL;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(unsupported); i++) {
		JsonNode *flag = json_object_get_member(obj, unsupported[i]);

		if (!flag || JSON_NODE_HOLDS_NULL(flag))
			continue;
		if (!node_is_boolean(flag) || json_node_get_boolean(flag)) {
			*ret_error = vs_ctl_reply_invalid_parameter(unsupported[i]);
			return NULL;
		}
	}
	return g_steal_pointer(&req);
}

/* Serializes @obj (borrowed) and appends the NUL; *ret_len counts it. */
static char *encode_object(JsonObject *obj, gsize *ret_len)
{
	g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), obj);
	g_autoptr(JsonGenerator) gen = json_generator_new();
	gsize len;
	char *text;

	json_generator_set_root(gen, root);
	text = json_generator_to_data(gen, &len);
	*ret_len = len + 1;
	return text;
}

char *vs_ctl_request_encode(const char *method, JsonObject *parameters, gsize *ret_len)
{
	g_autoptr(JsonObject) obj = json_object_new();

	json_object_set_string_member(obj, "method", method);
	if (parameters)
		json_object_set_object_member(obj, "parameters", json_object_ref(parameters));
	return encode_object(obj, ret_len);
}

char *vs_ctl_reply_encode(const VsCtlReply *reply, gsize *ret_len)
{
	g_autoptr(JsonObject) obj = json_object_new();

	if (reply->error)
		json_object_set_string_member(obj, "error", reply->error);
	json_object_set_object_member(obj, "parameters", json_object_ref(reply->parameters));
	return encode_object(obj, ret_len);
}

VsCtlReply *vs_ctl_reply_decode(const char *msg, gsize len, GError **error)
{
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *reason = NULL;
	JsonObject *obj, *params;
	JsonNode *name;

	root = parse_object(msg, len, &reason);
	if (!root) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "malformed reply: %s", reason);
		return NULL;
	}
	obj = json_node_get_object(root);
	name = json_object_get_member(obj, "error");
	if (name && (!node_is_string(name) || !vs_ctl_name_is_qualified(json_node_get_string(name)))) {
		g_set_error_literal(error, VS_ERROR, VS_ERROR_INVALID,
				    "malformed reply: \"error\" is not a qualified name");
		return NULL;
	}
	params = get_parameters(obj);
	if (!params) {
		g_set_error_literal(error, VS_ERROR, VS_ERROR_INVALID,
				    "malformed reply: \"parameters\" is not an object");
		return NULL;
	}
	if (name)
		return vs_ctl_reply_new_error(json_node_get_string(name), params);
	return vs_ctl_reply_new(params);
}

bool vs_ctl_param_string(const VsCtlRequest *req, const char *name,
			 const char **ret_value, VsCtlReply **ret_error)
{
	JsonNode *node = json_object_get_member(req->parameters, name);

	if (!node_is_string(node)) {
		*ret_error = vs_ctl_reply_invalid_parameter(name);
		return false;
	}
	*ret_value = json_node_get_string(node);
	return true;
}

bool vs_ctl_param_string_opt(const VsCtlRequest *req, const char *name,
			     const char **ret_value, VsCtlReply **ret_error)
{
	JsonNode *node = json_object_get_member(req->parameters, name);

	if (!node || JSON_NODE_HOLDS_NULL(node)) {
		*ret_value = NULL;
		return true;
	}
	return vs_ctl_param_string(req, name, ret_value, ret_error);
}

bool vs_ctl_param_strv(const VsCtlRequest *req, const char *name, char ***ret_strv,
		       VsCtlReply **ret_error)
{
	JsonNode *node = json_object_get_member(req->parameters, name);
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	JsonArray *arr;

	if (!node || !JSON_NODE_HOLDS_ARRAY(node) ||
	    json_array_get_length(json_node_get_array(node)) == 0) {
		*ret_error = vs_ctl_reply_invalid_parameter(name);
		return false;
	}
	arr = json_node_get_array(node);
	for (guint i = 0; i < json_array_get_length(arr); i++) {
		JsonNode *element = json_array_get_element(arr, i);

		if (!node_is_string(element)) {
			*ret_error = vs_ctl_reply_invalid_parameter(name);
			return false;
		}
		g_strv_builder_add(builder, json_node_get_string(element));
	}
	*ret_strv = g_strv_builder_end(builder);
	return true;
}

bool vs_ctl_param_uint_opt(const VsCtlRequest *req, const char *name, gint64 def,
			   gint64 *ret_value, VsCtlReply **ret_error)
{
	JsonNode *node = json_object_get_member(req->parameters, name);

	if (!node || JSON_NODE_HOLDS_NULL(node)) {
		*ret_value = def;
		return true;
	}
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64 ||
	    json_node_get_int(node) < 0) {
		*ret_error = vs_ctl_reply_invalid_parameter(name);
		return false;
	}
	*ret_value = json_node_get_int(node);
	return true;
}

bool vs_ctl_param_check_known(const VsCtlRequest *req, const char *const *allowed,
			      VsCtlReply **ret_error)
{
	JsonObjectIter iter;
	const char *name;

	json_object_iter_init(&iter, req->parameters);
	while (json_object_iter_next(&iter, &name, NULL)) {
		if (!allowed || !g_strv_contains(allowed, name)) {
			*ret_error = vs_ctl_reply_invalid_parameter(name);
			return false;
		}
	}
	return true;
}
