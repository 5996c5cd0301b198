/* Filling a planner guest (VsMemGuest, mem/mem.h) from the inventory's
 * domain, its effective policy and its sanitized statistics, so that the
 * daemon and the tests read the [Memory] keys in one place. Pure. */
#pragma once

#include "mem/mem.h"
#include "policy/policy.h"
#include "virt/domain.h"

/* Fills @g from @dom (UUID, name borrowed, balloon size and maximum),
 * @stats (copied; NULL: no statistics, flagged missing) and the [Memory]
 * keys of @e (Balloon, Floor, Shares, Margin, IdleTax, MaxStepPerSecond,
 * Target with its origin; @e NULL: the key table's defaults). The actuator's fields (last_target,
 * last_target_us, not_following, not_following_why) are zeroed; the caller
 * sets them. */
void vs_mem_guest_init(VsMemGuest *g, const VsDomain *dom, const VsEffectivePolicy *e,
		       const VsMemStats *stats);
