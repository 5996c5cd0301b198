/* The control server: listens on the daemon's Unix socket and answers
 * control requests (doc/control-protocol.md) from the thread-default GLib
 * main context, without threads and without ever blocking on a client:
 * input is read as it comes, replies wait in a per-client output buffer
 * until the peer takes them, and a client that does not read its replies
 * is not read from until it does. Every client-controlled resource has a
 * limit: clients at once, request size, idle time. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "ctl/methods.h"

/* At most this many clients at once; more are closed on accept. */
#define VS_CTL_CLIENTS_MAX 32
/* A client that neither sends nor takes a byte for this long is closed. */
#define VS_CTL_IDLE_TIMEOUT_MS (60 * 1000)

typedef struct VsCtlServer VsCtlServer;

/* Serves the control API on the Unix socket @path for @backend (copied;
 * backend->data must outlive the server). Creates the parent directory
 * (0755) when missing and replaces a stale socket, but fails when a live
 * daemon answers on @path or @path is not a socket. The socket is owned by
 * root and group @group with mode 0660; when @group is NULL or empty it is
 * 0600, and when the group does not exist it is 0600 too and
 * vs_ctl_server_warning() says so. Returns the server, or NULL with @error
 * (VS_ERROR_SYSTEM, VS_ERROR_UNAVAILABLE when another daemon answers). */
VsCtlServer *vs_ctl_server_new(const char *path, const char *group, const VsCtlBackend *backend,
			       GError **error);
/* Closes every client, stops listening and unlinks the socket (when it is
 * still the one this server bound). */
void vs_ctl_server_free(VsCtlServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsCtlServer, vs_ctl_server_free)

/* A sentence for the daemon's log about something that did not go as
 * configured (the socket group does not exist), or NULL. Borrowed. */
const char *vs_ctl_server_warning(const VsCtlServer *server);
/* Changes the idle timeout (VS_CTL_IDLE_TIMEOUT_MS by default) for clients
 * that connect from now on. */
void vs_ctl_server_set_idle_timeout(VsCtlServer *server, guint timeout_ms);
/* Answers one message of @len bytes from a client (without its NUL), as
 * the server does: decodes and validates it as a request, then calls the
 * method, refusing one that writes unless @privileged (the peer is uid 0).
 * Returns a new reply or error reply. The fuzz target of the protocol
 * calls it too. */
VsCtlReply *vs_ctl_server_answer(const VsCtlBackend *backend, const char *msg, gsize len,
				 bool privileged);
