/* The balloon actuator: asks guests for their balloon targets through
 * libvirt (src/virt/balloon.h), tracks whether each follows (follow.h), and
 * prepares guests for the memory planner: a guest whose balloon device has
 * no statistics period gets one (MemoryStatsPeriod=, live), a guest
 * without a balloon device is marked and never asked.
 *
 * One record per running guest, keyed by UUID and started afresh when the
 * guest's libvirt id changes (it restarted). Library code: it does not log;
 * it adds VsActEvent messages (sched/act.h) for the caller to log, each
 * problem once. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/snapshot.h"
#include "mem/follow.h"
#include "virt/virt.h"

typedef struct VsMemAct VsMemAct;

/* An actuator calling libvirt through @virt (borrowed; must outlive it). */
VsMemAct *vs_mem_act_new(VsVirt *virt);
void vs_mem_act_free(VsMemAct *act);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsMemAct, vs_mem_act_free)

/* Call each tick before planning, with the tick's snapshot: forgets guests
 * that stopped or vanished, starts a record for each newly running guest
 * (reading its balloon device once; when @acting, setting the statistics
 * period where it is 0), and updates every record's convergence from the
 * balloon's current size. Adds an event for each guest found without a
 * balloon device, stuck, or following again. @stats_period_s is the period
 * set on guests without one. */
void vs_mem_act_observe(VsMemAct *act, const VsSnapshot *snap, bool acting, int stats_period_s,
			GPtrArray *events);

/* The record of the running guest @uuid, or NULL when it has none. */
const VsMemFollow *vs_mem_act_follow(const VsMemAct *act, const char *uuid);

/* True when @dom would be asked for @target now (see
 * vs_mem_follow_may_ask); false for a guest without a record. */
bool vs_mem_act_may_ask(const VsMemAct *act, const VsDomain *dom, uint64_t target,
			int64_t now_us);

/* Asks @dom's balloon for @target bytes, @reason being the planner's
 * sentence (logged with the request). Returns 0 when libvirt accepted it,
 * 1 when it was not asked (no record, no balloon device, stuck or refused
 * and still backing off, or already moving to or at this target), -ENOENT when
 * the guest is gone (its record is dropped), -ENOTCONN when libvirt is
 * away, -EIO when libvirt refused (an event says why, once per message;
 * the guest is not asked again for VS_MEM_FOLLOW_RETRY_US). */
int vs_mem_act_set(VsMemAct *act, const VsDomain *dom, uint64_t target, const char *reason,
		   int64_t now_us, GPtrArray *events);
