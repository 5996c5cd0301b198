/* sd_notify wrappers; see notify.h. */
#include "config.h"

#include "daemon/notify.h"

#include <glib.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>
#include <time.h>

bool vs_notify_enabled(void)
{
	return getenv("NOTIFY_SOCKET") != NULL;
}

void vs_notify_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void vs_notify_status(const char *status)
{
	sd_notifyf(0, "STATUS=%s", status);
}

void vs_notify_reloading(void)
{
	struct timespec ts;

	/* Type=notify-reload wants the monotonic time with RELOADING=1. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" G_GUINT64_FORMAT,
		   (guint64)ts.tv_sec * 1000000u + (guint64)ts.tv_nsec / 1000u);
}

void vs_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void vs_notify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

uint64_t vs_notify_watchdog_usec(void)
{
	uint64_t usec = 0;

	return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}
