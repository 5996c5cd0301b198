/* The libvirt connection and the inventory of guests. One VsVirt owns one
 * connection: it connects, registers lifecycle and device event callbacks,
 * notices when libvirtd goes away and reconnects with backoff, and on each
 * tick collects every domain (with its QEMU PID, cgroup path, vCPU, emulator
 * and I/O threads, and bulk stats) into VsDomain structs.
 *
 * libvirt calls are made only from the thread that owns the GLib main
 * context; events are delivered to @event_cb in that context. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "host/sys.h"
#include "virt/domain.h"

typedef enum {
	VS_VIRT_EVENT_CONNECTED,     /* (re)connected to libvirtd */
	VS_VIRT_EVENT_DISCONNECTED,  /* the connection was lost; reconnecting */
	VS_VIRT_EVENT_LIFECYCLE,     /* a domain started, stopped, was defined, ... */
	VS_VIRT_EVENT_DEVICE,        /* a device (vCPU, memory, balloon) changed */
	VS_VIRT_EVENT_METADATA,      /* the domain's <metadata> changed */
} VsVirtEventKind;

/* @uuid is NULL for connection events; @detail is a short operator-facing
 * text ("started (booted)", "connection closed: EOF from libvirtd"). */
typedef void (*VsVirtEventFunc)(VsVirtEventKind kind, const char *uuid,
				const char *name, const char *detail,
				gpointer user_data);

typedef struct VsVirt VsVirt;

/* A connection to @uri (NULL: qemu:///system). @status_dir is where libvirt
 * keeps domain status XML ("/run/libvirt/qemu" for qemu:///system), read
 * through @sys (borrowed; must outlive the VsVirt). Nothing connects before
 * vs_virt_start(). */
VsVirt *vs_virt_new(const VsSys *sys, const char *uri, const char *status_dir,
		    VsVirtEventFunc event_cb, gpointer user_data);
/* Connects now, or, when libvirtd is not there, keeps trying with backoff
 * (0.5 s doubling to 8 s) from the main loop. Events are delivered in the
 * thread-default main context of the caller; CONNECTED (or the first
 * DISCONNECTED) is emitted from within this call, and DISCONNECTED may be
 * emitted from within vs_virt_collect() when it finds the connection gone.
 * @event_cb must not free the VsVirt. */
void vs_virt_start(VsVirt *virt);
bool vs_virt_is_connected(VsVirt *virt);
const char *vs_virt_uri(VsVirt *virt);
/* Collects every domain of the connection. Returns 0 and a new array of
 * VsDomain (owned, sorted by name), or -ENOTCONN while disconnected (or
 * when the connection turns out to be lost), or another -errno; @error is
 * set on every failure. A domain that vanishes during collection is left
 * out, never half-filled. */
int vs_virt_collect(VsVirt *virt, GPtrArray **ret_domains, GError **error);

/* CPU time (µs, of the calling thread) one collection spent outside
 * libvirt: finding each running guest's QEMU threads (status XML, /proc,
 * cross-check) and parsing the bulk statistics. */
typedef struct VsVirtCost {
	int64_t threads_us;
	int64_t stats_us;
} VsVirtCost;

/* vs_virt_collect(), also filling @ret_cost (which may be NULL) on success. */
int vs_virt_collect_costed(VsVirt *virt, GPtrArray **ret_domains, VsVirtCost *ret_cost,
			   GError **error);
void vs_virt_free(VsVirt *virt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsVirt, vs_virt_free)

/* The delay before reconnection attempt @attempt (0 first): 500 ms
 * doubling to at most 8000 ms. */
guint vs_virt_backoff_ms(guint attempt);
