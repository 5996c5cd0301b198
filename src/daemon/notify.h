/* The service manager protocol (sd_notify): READY, STATUS, STOPPING,
 * RELOADING and the watchdog. Every call does nothing when NOTIFY_SOCKET is
 * not set, so the daemon runs the same under systemd and by hand. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* True when a service manager listens (NOTIFY_SOCKET is set). */
bool vs_notify_enabled(void);
void vs_notify_ready(const char *status);
void vs_notify_status(const char *status);
void vs_notify_reloading(void);
void vs_notify_stopping(void);
void vs_notify_watchdog(void);
/* The watchdog interval the manager expects (µs), or 0 when there is none. */
uint64_t vs_notify_watchdog_usec(void);
