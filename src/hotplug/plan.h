/* The hotplug planner: how many vCPUs a guest should have online, from its
 * [Hotplug] policy, its load and steal over time, what vsched did to it
 * last and whether an operation is still running or has failed. Pure: no
 * I/O, no clock, no logging; the caller passes the condition states it
 * evaluated (vs_hotplug_signals() does that on the steal series) and the
 * time, and gets a target with a reason, or a reason for doing nothing.
 *
 * Precedence, first match wins (doc/design.md, "Hotplug"):
 *   1. Enable=no, an operation in flight, a back-off after a failure: nothing;
 *   2. an override (VCPUs=, `vschedctl setvcpus`): straight to its count;
 *   3. a count outside MinVCPUs..MaxVCPUs (clamped to the domain's
 *      maximum): back inside, at once;
 *   4. the Cooldown since the last change: nothing;
 *   5. ContentionDown holds: Step down (the host cannot run more vCPUs,
 *      however busy the guest is: more would only spin on preempted lock
 *      holders), and the vCPUs so removed are remembered;
 *   6. vCPUs removed for contention while contention has not stayed clear
 *      for ContentionDown's duration: hold (ScaleUp waits too, so the two
 *      never alternate);
 *   7. ScaleUp holds, or contention has cleared with vCPUs still owed: Step
 *      up;
 *   8. ScaleDown holds: Step down (and forget the vCPUs owed);
 *   9. nothing.
 * Hysteresis: a load or steal condition counts only when its whole
 * duration lies after the last change, so figures measured with the old
 * vCPU count never drive the next step; together with the gap between the
 * ScaleUp and ScaleDown thresholds and the Cooldown this keeps a guest at
 * the edge from flapping. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "policy/policy.h"
#include "steal/account.h"

typedef enum {
	VS_HOTPLUG_ACPI,              /* libvirt plugs and unplugs vCPUs (threads come and go) */
	VS_HOTPLUG_AGENT,             /* the guest agent onlines and offlines guest CPUs */
} VsHotplugMethod;

/* "acpi" or "agent"; a static string. */
const char *vs_hotplug_method_name(VsHotplugMethod m);

/* A guest's [Hotplug] keys, as the planner reads them. */
typedef struct VsHotplugPolicy {
	bool enable;
	guint min_vcpus;              /* 1 when unset */
	guint max_vcpus;              /* 0 when unset: the domain's maximum */
	VsHotplugMethod method;
	bool has_scale_up, has_scale_down, has_contention_down;
	VsCondition scale_up, scale_down, contention_down;
	const char *scale_up_text;    /* the conditions as written (borrowed) */
	const char *scale_down_text;
	const char *contention_down_text;
	int64_t cooldown_us;
	guint step;
	guint vcpus;                  /* VCPUs= (an override from setvcpus), 0 when unset */
	VsOrigin vcpus_origin;        /* where VCPUs= comes from: */
	const char *vcpus_from;       /* the override's id or the file's path (borrowed) */
	guint vcpus_line;             /* the file's line */
} VsHotplugPolicy;

/* Reads the [Hotplug] keys of @eff into @ret (its strings are borrowed from
 * @eff, which must outlive it). */
void vs_hotplug_policy_from(const VsEffectivePolicy *eff, VsHotplugPolicy *ret);

/* The bounds the planner keeps to: MinVCPUs and MaxVCPUs clamped to
 * 1..@domain_max (and min <= max). */
void vs_hotplug_bounds(const VsHotplugPolicy *p, guint domain_max, guint *ret_min, guint *ret_max);

/* What the conditions say at one tick. */
typedef struct VsHotplugSignals {
	bool scale_up, scale_down, contention_down;
	/* ContentionDown's comparison has failed on every interval of its
	 * duration: the contention has cleared, not just dipped. */
	bool contention_clear;
	double cpu_pct, contention_pct; /* the newest interval's figures; negative: none */
} VsHotplugSignals;

/* Evaluates @p's conditions on a guest's steal series. With the agent
 * method @threads vCPU threads run but only @online guest CPUs are online;
 * the figures are per online CPU (the offline ones idle on the host). */
void vs_hotplug_signals(const VsHotplugPolicy *p, const VsStealSeries *series, guint threads,
			guint online, VsHotplugSignals *ret);

/* Why a decision changes the count. */
typedef enum {
	VS_HOTPLUG_NONE,
	VS_HOTPLUG_OVERRIDE,
	VS_HOTPLUG_BOUNDS,
	VS_HOTPLUG_CONTENTION_DOWN,
	VS_HOTPLUG_CONTENTION_RESTORE,
	VS_HOTPLUG_SCALE_UP,
	VS_HOTPLUG_SCALE_DOWN,
} VsHotplugKind;

/* "override", "bounds", ...; a static string. */
const char *vs_hotplug_kind_name(VsHotplugKind k);

/* Everything the planner knows about one guest at one tick. Times are
 * monotonic µs. */
typedef struct VsHotplugInput {
	const VsHotplugPolicy *policy;
	guint domain_max;             /* the domain's maximum vCPUs */
	guint current;                /* online vCPUs (acpi: libvirt's; agent: the guest's);
				       * 0: not known */
	const VsHotplugSignals *signals;
	int64_t now_us;
	int64_t last_change_us;       /* when the last change completed; 0: never */
	guint contention_owed;        /* vCPUs removed for contention, not yet given back */
	const char *pending;          /* the operation in flight, or NULL */
	int64_t backoff_until_us;     /* no action before this (after a failure) */
	const char *backoff_why;      /* what failed */
	const char *unknown_why;      /* why @current is 0 */
} VsHotplugInput;

typedef struct VsHotplugDecision {
	VsHotplugKind kind;           /* VS_HOTPLUG_NONE: keep the count */
	guint target;                 /* the count to set (when kind != NONE) */
	char *reason;                 /* one sentence, always set */
} VsHotplugDecision;

/* Plans one guest. Fills @ret (the caller frees ret->reason). */
void vs_hotplug_plan(const VsHotplugInput *in, VsHotplugDecision *ret);

/* The vCPUs owed after a change from @from to @to of kind @kind, when
 * @owed were owed before: contention steps add to it, steps up pay it
 * back, an idle step down forgets it. */
guint vs_hotplug_owed_after(VsHotplugKind kind, guint from, guint to, guint owed);

/* Where an ACPI change in flight stands, judged from libvirt's live count
 * and QEMU's vCPU threads (the inventory). */
typedef enum {
	VS_HOTPLUG_ACPI_WAIT,         /* not done yet, still within the time-out */
	VS_HOTPLUG_ACPI_DONE,         /* libvirt's count and the threads are at the target */
	VS_HOTPLUG_ACPI_DONE_LIBVIRT_BEHIND, /* an unplug QEMU completed (the threads are at
				       * the target) after libvirt stopped waiting: libvirt
				       * still counts the vCPUs removed */
	VS_HOTPLUG_ACPI_REFUSED,      /* libvirt said no, other than by a time-out */
	VS_HOTPLUG_ACPI_IGNORED,      /* an unplug the guest did not carry out in time */
	VS_HOTPLUG_ACPI_NOT_DONE,     /* a plug not done in time */
} VsHotplugAcpiState;

/* One look at an ACPI change in flight. */
typedef struct VsHotplugAcpiCheck {
	guint from, target;
	guint libvirt;                /* libvirt's live vCPU count */
	guint threads;                /* QEMU's vCPU threads */
	bool returned;                /* libvirt's call returned ... */
	int r;                        /* ... with this (0, -ETIMEDOUT, -EIO) */
	int64_t elapsed_us;           /* since the request */
	int64_t timeout_us;
} VsHotplugAcpiCheck;

/* Judges @c. An unplug counts as done when QEMU's threads are at the
 * target once libvirt returned, whatever libvirt still counts: libvirt
 * (9.0) updates its count only on QEMU's DEVICE_DELETED event for the vCPU
 * or when libvirtd reconnects, and QEMU (7.2, TCG) never sends that event
 * (doc/design.md, "Hotplug"). */
VsHotplugAcpiState vs_hotplug_acpi_check(const VsHotplugAcpiCheck *c);

/* The back-off after @failures consecutive failures (1 or more): 30 s
 * doubling to at most 30 min. */
int64_t vs_hotplug_backoff_us(guint failures);
