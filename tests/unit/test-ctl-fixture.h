/* A fake daemon for the control tests: a host, a snapshot, a daemon
 * status, a policy set and planner reasons built from literals, served
 * through a VsCtlBackend that counts the ticks, reloads and override
 * changes it was asked for. Shared by the unit tests of the methods and the
 * component test of the server. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "core/snapshot.h"
#include "ctl/methods.h"
#include "policy/policy.h"

/* Where the fake policy files live (never read: they are parsed from
 * literals). */
#define CTL_FAKE_POLICY_DIR "/etc/vsched/policy.d"

typedef struct CtlFake {
	VsHost *host;
	VsSnapshot *snapshot;     /* NULL: "before the first tick" */
	VsPolicySet *policies;
	VsOverrides *overrides;
	char *policy_error;       /* what policy_status reports; NULL: none */
	GHashTable *reasons;      /* UUID -> GStrv */
	guint ticks_requested;
	guint reloads_requested;
	guint overrides_changed;
} CtlFake;

/* The fake policy files: 10-all.policy matches every guest ([CPU]
 * Weight=50 on line 6, [Memory] Floor=256M on line 9), 20-db.policy the
 * class "db" ([CPU] Weight=200 on line 5, Placement=dedicated on line 6). */
extern const char ctl_fake_policy_all[];
extern const char ctl_fake_policy_db[];

/* A fake daemon; when @ready, with a snapshot of the domains "db1"
 * (running, id 3, class "db", 2 of 4 vCPUs online, vCPU 1 without a
 * thread, balloon statistics, one emulator and one I/O thread, one planner
 * reason) and "web" (shut off, no statistics, no reasons), plus @n_extra
 * running domains "vm0000", "vm0001", ... The policy set holds the two
 * files above and there are no overrides. */
CtlFake *ctl_fake_new(bool ready, guint n_extra);
void ctl_fake_free(CtlFake *fake);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtlFake, ctl_fake_free)

/* The backend that serves @fake. */
VsCtlBackend ctl_fake_backend(CtlFake *fake);
