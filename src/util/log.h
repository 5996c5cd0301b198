/* Logging for the daemon: to the journal with structured fields when running
 * under systemd (JOURNAL_STREAM set), else to stderr with a level prefix.
 * Library code does not log: it returns errors, and the caller that decides
 * what to do logs once, with context. */
#pragma once

#include <stdbool.h>
#include <syslog.h>

typedef enum {
	VS_LOG_AUTO,    /* journal when JOURNAL_STREAM says stderr is the journal */
	VS_LOG_STDERR,
	VS_LOG_JOURNAL,
	VS_LOG_SYSLOG,  /* a detached daemon without a journal */
} VsLogTarget;

void vs_log_init(VsLogTarget target, int max_priority);
/* Changes only the least important priority logged. */
void vs_log_set_level(int max_priority);
bool vs_log_to_journal(void);

/* Logs at @priority (LOG_ERR..LOG_DEBUG). @domain, when not NULL, is the
 * guest the message is about: a VSCHED_DOMAIN= journal field and a
 * "domain: " prefix on stderr. */
void vs_log_full(int priority, const char *domain, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define vs_log_err(...)     vs_log_full(LOG_ERR, NULL, __VA_ARGS__)
#define vs_log_warn(...)    vs_log_full(LOG_WARNING, NULL, __VA_ARGS__)
#define vs_log_notice(...)  vs_log_full(LOG_NOTICE, NULL, __VA_ARGS__)
#define vs_log_info(...)    vs_log_full(LOG_INFO, NULL, __VA_ARGS__)
#define vs_log_debug(...)   vs_log_full(LOG_DEBUG, NULL, __VA_ARGS__)
