/* The balloon calls of src/virt/: what a running guest's balloon device is
 * (from its live XML), setting its memory statistics period, and setting
 * its balloon target (virDomainSetMemoryFlags, live). Guests are named by
 * UUID, as in the inventory; every call is made in the main context, like
 * the rest of src/virt/. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "virt/virt.h"

typedef struct VsBalloonDevice {
	bool present;          /* a <memballoon> other than model='none' */
	char *model;           /* "virtio", ...; NULL when there is none */
	int stats_period;      /* <stats period='N'/>, seconds; 0 when unset */
} VsBalloonDevice;

void vs_balloon_device_clear(VsBalloonDevice *dev);

/* Reads the balloon device of the running domain @uuid from its live XML
 * into @ret (which the caller clears). Returns 0; -ENOENT when the domain
 * is gone or not running; -ENOTCONN or -EIO (with @error set) when libvirt
 * fails. */
int vs_virt_balloon_device(VsVirt *virt, const char *uuid, VsBalloonDevice *ret,
			   GError **error);

/* Sets the balloon statistics period of the running domain @uuid to
 * @seconds (live only). Returns 0, -ENOENT when the domain is gone, or
 * -ENOTCONN / -EIO with @error set. */
int vs_virt_set_balloon_period(VsVirt *virt, const char *uuid, int seconds, GError **error);

/* Asks the running domain @uuid's balloon for @bytes of guest memory
 * (rounded down to KiB; live only, the persistent definition is left
 * alone). Returns 0 once libvirt accepted the request (the guest follows,
 * or not, later); -ENOENT when the domain is gone; -ENOTCONN or -EIO with
 * @error set to libvirt's message. */
int vs_virt_set_balloon(VsVirt *virt, const char *uuid, uint64_t bytes, GError **error);
