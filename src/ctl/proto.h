/* The control protocol (doc/control-protocol.md) without sockets: a reader
 * that cuts a byte stream into NUL-terminated messages under a size limit,
 * the decoding and validation of requests and replies with json-glib, the
 * encoders for requests, replies and errors, and the parameter getters that
 * turn a missing or mistyped parameter into
 * org.varlink.service.InvalidParameter. The server, the client and the tests
 * share it, so both ends agree on every byte. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

/* The largest request the server accepts and the largest reply the client
 * accepts, in bytes, without the terminating NUL. */
#define VS_CTL_REQUEST_MAX (64 * 1024)
#define VS_CTL_REPLY_MAX (16 * 1024 * 1024)
/* Deepest nesting of arrays and objects in a message; deeper input is
 * rejected before the JSON parser (which recurses) sees it. */
#define VS_CTL_DEPTH_MAX 64

#define VS_CTL_ERROR_INVALID_MESSAGE "org.vsched.InvalidMessage"
#define VS_CTL_ERROR_MESSAGE_TOO_LARGE "org.vsched.MessageTooLarge"
#define VS_CTL_ERROR_PERMISSION_DENIED "org.vsched.PermissionDenied"
#define VS_CTL_ERROR_NOT_READY "org.vsched.NotReady"
#define VS_CTL_ERROR_NO_SUCH_DOMAIN "org.vsched.NoSuchDomain"
#define VS_CTL_ERROR_INVALID_OVERRIDE "org.vsched.InvalidOverride"
#define VS_CTL_ERROR_METHOD_NOT_FOUND "org.varlink.service.MethodNotFound"
#define VS_CTL_ERROR_INVALID_PARAMETER "org.varlink.service.InvalidParameter"

/* Cuts a byte stream into messages. */
typedef struct VsCtlReader VsCtlReader;

/* A reader that accepts messages of at most @max bytes (without the NUL).
 * Free with vs_ctl_reader_free(). */
VsCtlReader *vs_ctl_reader_new(gsize max);
/* Frees @reader and what it buffered; NULL is allowed. */
void vs_ctl_reader_free(VsCtlReader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsCtlReader, vs_ctl_reader_free)

/* Appends @len bytes read from the stream. Once a message grows over the
 * limit the reader keeps the complete messages before it, drops the rest
 * and everything fed later, and vs_ctl_reader_pop() reports -EMSGSIZE after
 * those messages. */
void vs_ctl_reader_feed(VsCtlReader *reader, const void *data, gsize len);
/* Takes the next complete message (NUL-terminated, the NUL not counted in
 * *ret_len; caller frees). Returns 1 with a message, 0 when no complete
 * message is buffered, -EMSGSIZE when the next message is over the limit
 * (from then on the reader stays in that state). */
int vs_ctl_reader_pop(VsCtlReader *reader, char **ret_msg, gsize *ret_len);
/* Bytes buffered and not yet returned (the start of an incomplete message). */
gsize vs_ctl_reader_pending(const VsCtlReader *reader);

/* A decoded request. */
typedef struct VsCtlRequest {
	char *method;            /* a qualified name: "org.vsched.Show" */
	JsonObject *parameters;  /* never NULL: empty when the request had none */
} VsCtlRequest;

/* Frees @req; NULL is allowed. */
void vs_ctl_request_free(VsCtlRequest *req);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsCtlRequest, vs_ctl_request_free)

/* A reply or an error, as a handler returns it and as the client gets it. */
typedef struct VsCtlReply {
	char *error;             /* qualified error name; NULL for a normal reply */
	JsonObject *parameters;  /* never NULL */
} VsCtlReply;

/* A reply carrying @parameters (ownership taken; NULL gives {}). */
VsCtlReply *vs_ctl_reply_new(JsonObject *parameters);
/* An error reply named @error, carrying @parameters (ownership taken; NULL
 * gives {}). */
VsCtlReply *vs_ctl_reply_new_error(const char *error, JsonObject *parameters);
/* An error reply @error with one string parameter: {@key: @value}. */
VsCtlReply *vs_ctl_reply_new_error_string(const char *error, const char *key, const char *value);
/* org.varlink.service.InvalidParameter for the parameter @name. */
VsCtlReply *vs_ctl_reply_invalid_parameter(const char *name);
/* Frees @reply; NULL is allowed. */
void vs_ctl_reply_free(VsCtlReply *reply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsCtlReply, vs_ctl_reply_free)

/* True when @name is a qualified Varlink name (an interface of at least two
 * dot-separated parts, then a member starting with an upper-case letter:
 * "org.vsched.Status"). */
bool vs_ctl_name_is_qualified(const char *name);

/* Decodes one request message of @len bytes. Returns the request, or NULL
 * with *ret_error set to the error reply to send (InvalidMessage for input
 * that is not a request, InvalidParameter for more/oneway/upgrade). */
VsCtlRequest *vs_ctl_request_decode(const char *msg, gsize len, VsCtlReply **ret_error);
/* Encodes a request for @method with @parameters (borrowed; NULL: none)
 * into a message with its terminating NUL, which *ret_len counts. Caller
 * frees. */
char *vs_ctl_request_encode(const char *method, JsonObject *parameters, gsize *ret_len);

/* Encodes @reply into a message with its terminating NUL, which *ret_len
 * counts. Caller frees. */
char *vs_ctl_reply_encode(const VsCtlReply *reply, gsize *ret_len);
/* Decodes one reply message of @len bytes. Returns the reply, or NULL with
 * @error (VS_ERROR_INVALID) saying what is wrong with it. */
VsCtlReply *vs_ctl_reply_decode(const char *msg, gsize len, GError **error);

/* Parameter getters. Each checks one parameter of @req and returns true
 * with *ret_value set (borrowed from @req), or false with *ret_error set to
 * an InvalidParameter reply naming it. */
bool vs_ctl_param_string(const VsCtlRequest *req, const char *name,
			 const char **ret_value, VsCtlReply **ret_error);
/* Like vs_ctl_param_string(), but an absent or null parameter is allowed
 * and gives *ret_value = NULL. */
bool vs_ctl_param_string_opt(const VsCtlRequest *req, const char *name,
			     const char **ret_value, VsCtlReply **ret_error);
/* A parameter that must be a non-empty array of strings. Returns true with
 * *ret_strv set to a new NULL-terminated copy (caller frees with
 * g_strfreev()), or false with *ret_error set. */
bool vs_ctl_param_strv(const VsCtlRequest *req, const char *name, char ***ret_strv,
		       VsCtlReply **ret_error);
/* An optional integer parameter that must not be negative: *ret_value is
 * @def when it is absent or null. */
bool vs_ctl_param_uint_opt(const VsCtlRequest *req, const char *name, gint64 def,
			   gint64 *ret_value, VsCtlReply **ret_error);
/* Fails with InvalidParameter for the first parameter of @req whose name is
 * not in the NULL-terminated list @allowed (NULL: the method takes none). */
bool vs_ctl_param_check_known(const VsCtlRequest *req, const char *const *allowed,
			      VsCtlReply **ret_error);
