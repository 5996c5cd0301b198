/* The methods of the control API: the table (name, whether the method
 * changes state, handler) and the handlers, which render the daemon's
 * latest snapshot, host model and own status as the JSON described in
 * doc/control-protocol.md. Handlers reach the daemon only through a
 * VsCtlBackend, so tests call them with snapshots built from literals. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "core/snapshot.h"
#include "ctl/proto.h"

/* What the control server asks of the daemon. Called in the main context
 * that serves the socket. */
typedef struct VsCtlBackend {
	/* The latest snapshot (borrowed), or NULL before the first tick. */
	const VsSnapshot *(*snapshot)(gpointer data);
	/* Fills @ret; its strings stay the daemon's and are only read until
	 * the handler returns. */
	void (*status)(gpointer data, VsDaemonStatus *ret);
	/* Runs a tick soon. */
	void (*request_tick)(gpointer data);
	/* Re-reads the configuration, as SIGHUP does. */
	void (*request_reload)(gpointer data);
	gpointer data;
} VsCtlBackend;

typedef VsCtlReply *(*VsCtlHandler)(const VsCtlBackend *backend, const VsCtlRequest *req);

typedef struct VsCtlMethod {
	const char *name;     /* "org.vsched.Status" */
	bool writes;          /* only uid 0 may call it */
	VsCtlHandler handler; /* returns a new reply or error reply */
} VsCtlMethod;

/* The method called @name, or NULL when there is none. */
const VsCtlMethod *vs_ctl_method_lookup(const char *name);

/* Answers @req: MethodNotFound for an unknown method, PermissionDenied for
 * a method that writes when @privileged is false, else what the handler
 * says. Returns a new reply. */
VsCtlReply *vs_ctl_methods_call(const VsCtlBackend *backend, const VsCtlRequest *req,
				bool privileged);
