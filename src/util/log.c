/* Log sink selection and formatting; see log.h. */
#include "config.h"

#include "util/log.h"

#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-journal.h>

static VsLogTarget sink = VS_LOG_STDERR;
static int max_prio = LOG_INFO;

void vs_log_init(VsLogTarget target, int max_priority)
{
	max_prio = max_priority;
	if (target == VS_LOG_AUTO)
		target = getenv("JOURNAL_STREAM") ? VS_LOG_JOURNAL : VS_LOG_STDERR;
	if (target == VS_LOG_SYSLOG && sink != VS_LOG_SYSLOG)
		openlog("vschedd", LOG_PID, LOG_DAEMON);
	sink = target;
}

void vs_log_set_level(int max_priority)
{
	max_prio = max_priority;
}

bool vs_log_to_journal(void)
{
	return sink == VS_LOG_JOURNAL;
}

static const char *prio_name(int priority)
{
	switch (priority) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void vs_log_full(int priority, const char *domain, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	if (priority > max_prio)
		return;
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);

	if (sink == VS_LOG_SYSLOG) {
		syslog(priority, "%s%s%s", domain ? domain : "", domain ? ": " : "", msg);
		return;
	}
	if (sink == VS_LOG_JOURNAL) {
		if (domain)
			sd_journal_send("MESSAGE=%s: %s", domain, msg, "PRIORITY=%d", priority,
					"VSCHED_DOMAIN=%s", domain, "SYSLOG_IDENTIFIER=vschedd", NULL);
		else
			sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", priority,
					"SYSLOG_IDENTIFIER=vschedd", NULL);
		return;
	}
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *ts = g_date_time_format(now, "%H:%M:%S.%f");
	ts[12] = '\0'; /* milliseconds are enough */
	fprintf(stderr, "%s vschedd %s: %s%s%s\n", ts, prio_name(priority),
		domain ? domain : "", domain ? ": " : "", msg);
}
