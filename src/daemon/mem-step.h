/* The memory step of the daemon's tick: samples host pressure (meminfo,
 * PSI averages, PSI trigger events), runs the pressure state machine, keeps
 * each guest's sanitized balloon statistics, plans the balloon targets and
 * sets them through the balloon actuator, logging every state change and
 * every target change with its reason. It also owns the PSI trigger fds in
 * the main loop and measures the reaction time from a pressure event (a
 * trigger, a reload) to the first balloon command it causes. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "core/snapshot.h"
#include "daemon/conf.h"
#include "mem/view.h"
#include "policy/policy.h"
#include "virt/virt.h"

typedef struct VsMemStep VsMemStep;

/* Called from the main loop when a PSI trigger fires: the daemon runs a
 * tick at once. */
typedef void (*VsMemStepWakeFunc)(gpointer user_data);

/* A memory step acting through @virt, reading through @sys (both borrowed,
 * must outlive it). */
VsMemStep *vs_mem_step_new(const VsSys *sys, VsVirt *virt, VsMemStepWakeFunc wake,
			   gpointer user_data);
void vs_mem_step_free(VsMemStep *step);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsMemStep, vs_mem_step_free)

/* (Re)arms the PSI triggers for @conf on @host when their settings
 * changed since the last call, and logs what was armed or why nothing
 * was. */
void vs_mem_step_configure(VsMemStep *step, const VsConf *conf, const VsHost *host);

/* Notes a pressure-changing event that is not a trigger (@what: "the
 * configuration reload"); the first balloon command after it logs how long
 * it took. The next run plans whatever its input. */
void vs_mem_step_note_event(VsMemStep *step, const char *what);

/* Runs the step on @snap with the policies and overrides in force (the
 * guests' effective policies from @cache, begun for this tick; NULL: merged
 * afresh). When @acting, targets are set; otherwise each new target is
 * logged once as what would be set. The planner runs when its input changed
 * since the last plan, or an event was noted. */
void vs_mem_step_run(VsMemStep *step, const VsSnapshot *snap, const VsPolicySet *policies,
		     const VsOverrides *overrides, VsPolicyCache *cache, const VsConf *conf,
		     bool acting);

/* How many times the planner ran (for tests and benchmarks). */
guint vs_mem_step_plans_made(const VsMemStep *step);

/* The view of the last run (borrowed, valid until the next run), or NULL
 * before the first. */
const VsMemView *vs_mem_step_view(const VsMemStep *step);

/* The clean-stop summary: how many running guests are ballooned below
 * their maximum and by how much in all; they stay so (ARCHITECTURE.md,
 * invariant 4). Logs it. */
void vs_mem_step_stop(VsMemStep *step);
