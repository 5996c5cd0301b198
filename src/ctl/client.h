/* The client side of the control protocol, for vschedctl and the tests:
 * connect to the daemon's socket, send one request, wait (with a timeout)
 * for its reply. Blocking and synchronous; errors come back as GErrors whose
 * messages are written for the operator. */
#pragma once

#include <glib.h>

#include "ctl/proto.h"

/* The socket vschedctl talks to unless --socket or $VSCHED_SOCKET says
 * otherwise (the daemon's ControlSocket= default). */
#define VS_CTL_DEFAULT_SOCKET "/run/vsched/vschedd.sock"
/* How long vs_ctl_client_call() waits for a reply by default. */
#define VS_CTL_CLIENT_TIMEOUT_MS (30 * 1000)

typedef struct VsCtlClient VsCtlClient;

/* Connects to the control socket at @path. Returns the client, or NULL with
 * @error: VS_ERROR_UNAVAILABLE when nothing listens there (the message names
 * the path and asks whether vschedd is running), VS_ERROR_DENIED when the
 * socket may not be opened, VS_ERROR_SYSTEM otherwise. */
VsCtlClient *vs_ctl_client_connect(const char *path, GError **error);
/* Closes the connection; NULL is allowed. */
void vs_ctl_client_free(VsCtlClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsCtlClient, vs_ctl_client_free)

/* Sends a request for @method with @parameters (borrowed; NULL: none) and
 * waits up to @timeout_ms for the reply. Returns the reply (which may be an
 * error reply: check ->error), or NULL with @error when the connection
 * failed, the daemon closed it, the reply was malformed or did not come in
 * time (VS_ERROR_UNAVAILABLE for those two). */
VsCtlReply *vs_ctl_client_call(VsCtlClient *client, const char *method, JsonObject *parameters,
			       guint timeout_ms, GError **error);
/* Sends @len bytes of an already framed message (normally ending with its
 * NUL) and waits for one reply, as vs_ctl_client_call() does. When the
 * daemon closes the connection while the message is being sent (a message
 * over the limit), the reply it sent before closing is still returned. */
VsCtlReply *vs_ctl_client_transact(VsCtlClient *client, const char *msg, gsize len,
				   guint timeout_ms, GError **error);
