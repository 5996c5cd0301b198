/* The daemon: owns the main loop, the configuration, the host model, the
 * libvirt inventory and the control server, and runs ticks (collect → plan →
 * act) periodically and on events. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "daemon/conf.h"

typedef struct VsDaemon VsDaemon;

/* A daemon for @conf (ownership taken), read from @config_path (for reloads
 * and messages). Collects the host model; NULL with @error when the host
 * cannot be read. Nothing listens or connects before vs_daemon_run(). */
VsDaemon *vs_daemon_new(const char *config_path, VsConf *conf, bool dry_run, GError **error);
/* Opens the control socket, connects to libvirt, handles signals and runs
 * ticks until SIGTERM/SIGINT. Returns the process exit code. */
int vs_daemon_run(VsDaemon *daemon);
void vs_daemon_free(VsDaemon *daemon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsDaemon, vs_daemon_free)
