/* The co-scheduling actuator: carries out a co-scheduling plan
 * (cosched.h) through the sys layer's ops table and keeps the Applied
 * record (kind "nice") and its file up to date.
 *
 * A nice boost is set with sched_setattr() keeping the thread's policy
 * (only SCHED_OTHER, SCHED_BATCH and SCHED_IDLE threads have a nice), after
 * the identity check of vs_deadline_get(), and read back; the nice found
 * before the first change is recorded, so a clean stop (or a release) puts
 * it back and a daemon killed with SIGKILL finds it in AppliedFile.
 * Core-scheduling cookies go through prctl(PR_SCHED_CORE): CREATE on the
 * guest's first vCPU thread, then, from a short-lived helper thread (so
 * that no daemon thread keeps a cookie), SHARE_FROM that thread and
 * SHARE_TO each other vCPU thread; at a clean stop a helper without a
 * cookie shares "none" back to them. Cookies are not in AppliedFile: a
 * daemon restarted after SIGKILL makes new ones for the guests that ask.
 *
 * A failure is reported once per (thread, action, value) and not retried
 * while the plan asks for the same. Library code: no logging; events
 * (act.h) for the caller to log. */
#pragma once

#include <glib.h>

#include "host/sys.h"
#include "sched/act.h"
#include "sched/applied.h"
#include "sched/cosched.h"

typedef struct VsCoschedAct VsCoschedAct;

/* An actuator acting through @sys on @applied, saved to @applied_path on
 * every change; both borrowed, must outlive it. */
VsCoschedAct *vs_cosched_act_new(const VsSys *sys, VsApplied *applied, const char *applied_path);
void vs_cosched_act_free(VsCoschedAct *act);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsCoschedAct, vs_cosched_act_free)

/* Carries out @plan, adding events to @events. Returns how many settings
 * it changed. */
guint vs_cosched_act_run(VsCoschedAct *act, const VsCoschedPlan *plan, GPtrArray *events);
/* The threads given their guest's cookie ("TID:START" → VsThread),
 * borrowed, for VsCoschedInput.cookies. */
GHashTable *vs_cosched_act_cookies(const VsCoschedAct *act);
/* Puts back every nice Applied records (identity-checked) and removes the
 * cookies this actuator gave; forgets those entries and saves. Returns how
 * many settings were restored. */
guint vs_cosched_act_restore_all(VsCoschedAct *act, GPtrArray *events);
