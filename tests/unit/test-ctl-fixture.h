/* A fake daemon for the control tests: a host, a snapshot and a daemon
 * status built from literals, served through a VsCtlBackend that counts
 * the ticks and reloads it was asked for. Shared by the unit tests of the
 * methods and the component test of the server. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "core/snapshot.h"
#include "ctl/methods.h"

typedef struct CtlFake {
	VsHost *host;
	VsSnapshot *snapshot;     /* NULL: "before the first tick" */
	guint ticks_requested;
	guint reloads_requested;
} CtlFake;

/* A fake daemon; when @ready, with a snapshot of the domains "db1"
 * (running, id 3, 2 of 4 vCPUs online, vCPU 1 without a thread, balloon
 * statistics, one emulator and one I/O thread) and "web" (shut off, no
 * statistics), plus @n_extra running domains "vm0000", "vm0001", ... */
CtlFake *ctl_fake_new(bool ready, guint n_extra);
void ctl_fake_free(CtlFake *fake);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtlFake, ctl_fake_free)

/* The backend that serves @fake. */
VsCtlBackend ctl_fake_backend(CtlFake *fake);
