/* The Snapshot: everything one tick collected about the host and its guests,
 * built by the daemon's collect step and read (never changed) by planners and
 * the control server. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/tick-cost.h"
#include "host/host.h"
#include "virt/domain.h"

typedef struct VsSnapshot {
	uint64_t tick;         /* tick number, from 1 */
	int64_t mono_us;       /* g_get_monotonic_time() at collection */
	int64_t wall_us;       /* g_get_real_time() at collection */
	const VsHost *host;    /* borrowed from the daemon; valid for this tick */
	GPtrArray *domains;    /* VsDomain, owned, sorted by name */
	bool virt_connected;   /* false: domains is what was known before the loss */
} VsSnapshot;

/* A new snapshot owning @domains (may be NULL: none). */
VsSnapshot *vs_snapshot_new(uint64_t tick, int64_t mono_us, int64_t wall_us,
			    const VsHost *host, GPtrArray *domains, bool virt_connected);
void vs_snapshot_free(VsSnapshot *snap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsSnapshot, vs_snapshot_free)

/* Finds a domain as virsh does: by id (a number), by UUID, or by name.
 * Returns NULL when none matches. */
const VsDomain *vs_snapshot_find_domain(const VsSnapshot *snap, const char *ref);

/* What the daemon says about itself in `vschedctl status`. */
typedef struct VsDaemonStatus {
	const char *version;
	int64_t uptime_us;
	uint64_t ticks;
	int64_t last_tick_us;      /* cost of the last tick (collect + plan + act) */
	int64_t last_collect_us;
	const VsTickCost *cost;    /* CPU time per tick phase; NULL when not measured */
	int64_t tick_interval_us;
	bool dry_run;
	const char *libvirt_uri;
	bool libvirt_connected;
	guint libvirt_reconnects;
	const char *config_path;
	const char *last_error;    /* last problem the daemon reported, or NULL */
} VsDaemonStatus;
