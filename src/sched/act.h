/* The CPU actuator: carries out a CPU plan (cpuplan.h) on the host through
 * the sys layer's ops table (sched_setaffinity, sched_getaffinity) and the
 * deadline primitives (deadline.h), and keeps the Applied record
 * (applied.h) and its file up to date.
 *
 * For each action: when the value is in place (read now) nothing is done;
 * else the thread's identity is verified (invariant 1: once per thread and
 * run, before the first of its actions, through a held descriptor of its
 * /proc stat file; its other actions in the run rely on that check), the
 * value found is recorded as the original before the first change (every
 * original of a run, affinities, cgroup values and policies alike, is saved
 * once before the first change, and the record once more after the last),
 * the value is set and read back, and the result recorded. A re-touch (the
 * Applied record holds the original, and the value vsched set last is not
 * the one planned) does not read what is in place first: the change is due
 * and the read-back verifies it; what was there is taken to be what vsched
 * set last.
 * A failure (the thread is gone; the kernel says EINVAL, EPERM or EBUSY; the
 * read-back disagrees) is reported once and the same value is not tried on
 * the same thread again while the plan keeps asking for it; a reservation
 * the kernel refused is handed back to the planner (vs_act_refused()), which
 * then leaves the vCPU on its placement without a deadline.
 *
 * A CGROUP action reads the file (enabling the controller in the
 * ancestors when a fresh cgroup lacks it; not on a re-touch of a file it
 * holds), does nothing when the value is in place, else records the original (all originals of a run are saved
 * before the first write), checks that the guest's QEMU main thread is
 * still the one collected, and writes and reads back as vs_cgroup_set()
 * does, on the file's descriptor held across runs (cgroup-write.h's
 * VsCgroupFile; closed when the plan stops setting the value, opened once
 * more when its cgroup was removed). A restore action (a setting the plan no longer makes) writes the
 * recorded original back and forgets the entry.
 *
 * Library code: it does not log, it adds VsActEvent messages for the caller
 * to log. */
#pragma once

#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>

#include "host/sys.h"
#include "sched/applied.h"
#include "sched/cpuplan.h"

/* A message for the log: syslog @priority, the guest it is about. */
typedef struct VsActEvent {
	int priority;
	char *domain;            /* NULL when not about one guest */
	char *message;
	bool packed;             /* @domain and @message are in the event's own
				  * allocation (not freed apart from it) */
} VsActEvent;

/* A new array for events (frees its VsActEvent). */
GPtrArray *vs_act_events_new(void);
/* Adds an event (the message formatted from @format and @ap) to @events. */
void vs_act_event_addv(GPtrArray *events, int priority, const char *domain, const char *format,
		       va_list ap) G_GNUC_PRINTF(4, 0);

typedef struct VsAct VsAct;

/* An actuator acting through @sys on the record @applied, which it saves to
 * @applied_path on every change. Both are borrowed and must outlive it. */
VsAct *vs_act_new(const VsSys *sys, VsApplied *applied, const char *applied_path);
void vs_act_free(VsAct *act);
/* The host's cgroup layout (borrowed, must outlive @act), which CGROUP
 * actions need to enable a controller in a fresh cgroup; without it such a
 * file that is missing fails with -ENOENT. */
void vs_act_set_cgroup(VsAct *act, const VsCgroupInfo *cg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsAct, vs_act_free)

/* Carries out @plan, adding events to @events. Returns how many settings
 * it changed. */
guint vs_act_run(VsAct *act, const VsCpuPlan *plan, GPtrArray *events);
/* True when the last vs_act_run() found a reservation refused by the
 * kernel that the plan did not know of: the caller should plan again. */
bool vs_act_needs_replan(const VsAct *act);
/* The reservations the kernel refused (vs_cpu_deadline_key() → why),
 * borrowed, for VsCpuPlanInput.refused. */
GHashTable *vs_act_refused(const VsAct *act);
/* Puts every recorded original back (policy first, then cgroup values,
 * then affinity), each thread (for cgroups, the guest's QEMU main thread)
 * identity-checked; forgets every entry (restored or gone) and saves
 * the empty record. Returns how many settings were restored. */
guint vs_act_restore_all(VsAct *act, GPtrArray *events);
