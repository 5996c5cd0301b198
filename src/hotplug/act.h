/* The hotplug actuator: each tick it plans every running guest's vCPU
 * count (hotplug/plan.h) from its policy and its steal series, and carries
 * the decisions out through libvirt (virt/vcpus.h) on worker threads, so a
 * guest slow to answer an ACPI request or an agent that does not answer
 * never stalls the daemon's loop.
 *
 * An operation is verified, not trusted: an ACPI change is done when the
 * inventory shows the new count of online vCPU threads (an unplug needs
 * the guest's cooperation and may complete after libvirt has given up
 * waiting; libvirt may then go on counting the vCPU, so an unplug is
 * verified by QEMU's threads alone, the guest's count is QEMU's while
 * libvirt's is higher, unplugs then name their vCPU and plugs wait until
 * libvirt catches up: vs_hotplug_acpi_check(), doc/design.md), an agent
 * change when the agent reports the new count of online guest CPUs. One
 * that is not done within VS_HOTPLUG_TIMEOUT_US is a failure: the guest is
 * marked, the failure reported once, and the guest left alone for a
 * back-off that doubles with each consecutive failure
 * (vs_hotplug_backoff_us()), never retried every tick. With Method=agent
 * the guest's online count comes from the agent, asked every
 * VS_HOTPLUG_AGENT_REFRESH_US; a guest whose agent does not answer gets the
 * reason "agent method: no guest agent answering" and nothing is done (no
 * silent fall-back to ACPI).
 *
 * Library code: it does not log; it adds VsActEvent messages for the caller
 * to log. Main-thread only, except for the workers it runs itself. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "core/snapshot.h"
#include "hotplug/plan.h"
#include "policy/policy.h"
#include "sched/act.h"
#include "steal/account.h"
#include "virt/virt.h"

/* How long an operation may take before it counts as failed. */
#define VS_HOTPLUG_TIMEOUT_US (INT64_C(30) * G_USEC_PER_SEC)
/* How often the guest agent is asked for the online CPUs (Method=agent). */
#define VS_HOTPLUG_AGENT_REFRESH_US (INT64_C(5) * G_USEC_PER_SEC)

typedef struct VsHotplugAct VsHotplugAct;

/* Called in the main context when an operation's libvirt calls returned,
 * so the caller can tick soon and verify. */
typedef void (*VsHotplugWake)(gpointer data);

/* The steal series of the guest @uuid, or NULL (borrowed). */
typedef const VsStealSeries *(*VsHotplugSeriesFunc)(gpointer data, const char *uuid);

/* An actuator acting through @virt (borrowed; must outlive it). */
VsHotplugAct *vs_hotplug_act_new(VsVirt *virt, VsHotplugWake wake, gpointer wake_data);
/* Frees it; operations still running finish on their own and are forgotten. */
void vs_hotplug_act_free(VsHotplugAct *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsHotplugAct, vs_hotplug_act_free)

typedef struct VsHotplugTickInput {
	const VsSnapshot *snapshot;
	const VsPolicySet *policies;
	const VsOverrides *overrides;
	VsHotplugSeriesFunc series;
	gpointer series_data;
	bool acting;                  /* false: dry run, decisions are only reported */
	VsPolicyCache *policy_cache;  /* NULL: each guest's policy merged afresh */
} VsHotplugTickInput;

/* One tick: verifies the operations in flight, plans every running guest
 * and starts the operations the plans ask for. Adds what happened to
 * @events (VsActEvent). */
void vs_hotplug_act_tick(VsHotplugAct *a, const VsHotplugTickInput *in, GPtrArray *events);

/* For a clean stop: waits, running the thread-default main context, until
 * no operation is in flight or @timeout_us passed, and calls the wake
 * function no more. Returns how many are still running (their results
 * will be dropped). */
guint vs_hotplug_act_wait(VsHotplugAct *a, int64_t timeout_us);

/* What the actuator knows of one guest, for `vschedctl show` and
 * `explain`. Strings are the actuator's, valid until the next tick. */
typedef struct VsHotplugStatus {
	bool enabled;
	VsHotplugMethod method;
	guint current;                /* 0: not known */
	guint min, max;               /* the bounds in force */
	guint target;                 /* of the operation in flight or the last decision; 0: none */
	const char *reason;           /* the last decision's reason */
	const char *pending;          /* the operation in flight, or NULL */
	const char *last_action;      /* the last completed change, or NULL */
	int64_t last_action_wall_us;  /* when it completed (wall clock); 0: never */
	const char *failure;          /* the last failure while backing off, or NULL */
	int64_t backoff_until_wall_us; /* 0: no back-off */
	guint failures;               /* consecutive failures */
} VsHotplugStatus;

/* The status of the guest @uuid, or NULL when it has not been planned. */
const VsHotplugStatus *vs_hotplug_act_status(const VsHotplugAct *a, const char *uuid);
