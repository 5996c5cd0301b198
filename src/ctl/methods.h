/* The methods of the control API: the table (name, whether the method
 * changes state, handler) and the handlers, which render the daemon's
 * latest snapshot, host model, own status and policies as the JSON
 * described in doc/control-protocol.md, explain a guest's effective policy
 * and change the overrides. Handlers reach the daemon only through a
 * VsCtlBackend, so tests call them with snapshots and policy sets built
 * from literals. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "core/snapshot.h"
#include "ctl/proto.h"
#include "hotplug/act.h"
#include "mem/view.h"
#include "policy/policy.h"
#include "sched/cosched.h"
#include "sched/cpuplan.h"
#include "steal/report.h"

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
	/* The policy set in force (never NULL after start; may be empty). */
	const VsPolicySet *(*policies)(gpointer data);
	/* The policy state for status: directory, number of files, and the last
	 * refused reload's first error (NULL when the set in force is the latest). */
	void (*policy_status)(gpointer data, const char **ret_dir, const char **ret_error);
	/* The overrides; the server changes them through the vs_overrides_* API and
	 * then calls overrides_changed so the daemon persists them and re-plans. */
	VsOverrides *(*overrides)(gpointer data);
	void (*overrides_changed)(gpointer data);
	/* The planners' reasons for a domain at the last tick, as a NULL-terminated
	 * array of sentences (borrowed), or NULL when none. */
	const char *const *(*reasons)(gpointer data, const char *uuid);
	/* What the CPU plan of the last tick says about vCPU @index of the
	 * domain @uuid (borrowed), or NULL; the member may be NULL too. */
	const VsCpuVcpuPlan *(*vcpu_plan)(gpointer data, const char *uuid, guint index);
	gpointer data;
	/* The steal report of the last tick (borrowed), or NULL when steal
	 * accounting does not run; org.vsched.Steal then answers NotReady. A
	 * backend without this member (NULL) has no steal accounting either. */
	const VsStealReport *(*steal)(gpointer data);
	/* What the hotplug actuator knows of the domain @uuid (borrowed), or
	 * NULL (not planned yet, or no hotplug step: a NULL member). */
	const VsHotplugStatus *(*hotplug)(gpointer data, const char *uuid);
	/* The metrics of the daemon's state now, as Prometheus text
	 * (metrics/metrics.h); caller frees. A backend without this member
	 * (NULL) has none: org.vsched.Metrics then answers NotReady. */
	char *(*metrics)(gpointer data);
	/* The co-scheduling planner's report on guest @uuid at the last tick
	 * (skew, boosts, reasons; borrowed), or NULL; a backend without this
	 * member (NULL) reports no skew. */
	const VsCoschedGuestReport *(*cosched)(gpointer data, const char *uuid);
	/* The memory step's view of the last tick (borrowed), or NULL before
	 * the first; org.vsched.Memory then answers NotReady. A backend without
	 * this member (NULL) has no memory step either. */
	const VsMemView *(*mem)(gpointer data);
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
