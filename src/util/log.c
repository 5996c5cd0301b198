/* Log sink selection and formatting; see log.h. */
#include "config.h"

#include "util/log.h"

#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-journal.h>

static bool use_journal;
static int max_prio = LOG_INFO;

void vs_log_init(VsLogTarget target, int max_priority)
{
	max_prio = max_priority;
	if (target == VS_LOG_AUTO)
		use_journal = getenv("JOURNAL_STREAM") != NULL;
	else
		use_journal = target == VS_LOG_JOURNAL;
}

bool vs_log_to_journal(void)
{
	return use_journal;
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

	if (use_journal) {
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
