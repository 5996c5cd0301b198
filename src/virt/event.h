/* libvirt's event loop, run by vsched in one dedicated thread on a private
 * GLib main context.
 *
 * libvirt needs an event loop implementation for domain events, keepalive
 * and connection close notification. Since libvirt 6.1 its "default"
 * implementation (virEventRegisterDefaultImpl) puts its sources on GLib's
 * global default main context, which is also the daemon's main loop: a
 * thread running virEventRunDefaultImpl() would then dispatch the daemon's
 * own sources (timers, signals, control socket) whenever the main thread
 * does not hold that context, and libvirt callbacks would run inside the
 * daemon's loop while libvirt holds its locks. So vsched registers its own
 * implementation (virEventRegisterImpl), whose watches and timers live on a
 * private context that only the event thread iterates. */
#pragma once

/* Registers the implementation and starts the event thread, once per
 * process; must be called before the first virConnectOpen(). Also silences
 * libvirt's default printing of errors to stderr. */
void vs_event_init(void);
