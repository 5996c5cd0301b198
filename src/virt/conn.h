/* What the rest of src/virt/ (the inventory, and the balloon, hotplug and
 * agent calls) needs of a VsVirt's connection: the live virConnectPtr, the
 * sys layer and status directory, and one way to turn a failed libvirt call
 * into a GError that also notices a lost connection. Not for use outside
 * src/virt/ (and its tests). */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "virt/threads-cache.h"
#include "virt/virt.h"

/* The open connection (borrowed; valid until the next main-loop iteration
 * or the next failing call), or NULL while disconnected. */
virConnectPtr vs_conn_get(VsVirt *virt);
const VsSys *vs_conn_sys(VsVirt *virt);
const char *vs_conn_status_dir(VsVirt *virt);
/* The thread discovery cache of the inventory (borrowed). */
VsThreadsCache *vs_conn_threads_cache(VsVirt *virt);

/* Call right after a libvirt call on @virt failed: sets @error to
 * "libvirt: <message>" (VS_ERROR_UNAVAILABLE when the connection is gone,
 * VS_ERROR_SYSTEM otherwise). When the error means the connection is lost,
 * drops it (DISCONNECTED event, reconnect scheduled) and returns -ENOTCONN;
 * otherwise returns -EIO. */
int vs_conn_fail(VsVirt *virt, GError **error);

/* Drops the connection as if libvirtd had closed it: emits DISCONNECTED
 * with @reason and schedules a reconnect. No-op while disconnected. */
void vs_conn_lost(VsVirt *virt, const char *reason);
