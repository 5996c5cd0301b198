/* VsThreadCounters: the one interface to per-thread run time and run delay,
 * whichever path reads them: TASKSTATS over generic netlink (batched, the
 * cheaper per thread) when the host has it, else /proc/PID/task/TID/
 * schedstat on held descriptors. vs_thread_counters_new() takes the path
 * the caller asks for and falls back to schedstat, saying why; when the
 * taskstats socket fails later, the reader switches to schedstat for good
 * and says so too. On a fixture root only schedstat is possible (netlink
 * reaches the live kernel, not the fixture).
 *
 * Errors are negative errno values. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "host/sys.h"
#include "host/taskstats.h"

typedef enum {
	VS_COUNTERS_TASKSTATS,
	VS_COUNTERS_SCHEDSTAT,
} VsCountersSource;

/* "taskstats" or "schedstat"; a static string. */
const char *vs_counters_source_name(VsCountersSource source);

typedef struct VsThreadCounters VsThreadCounters;

/* A reader using @want: VS_COUNTERS_TASKSTATS falls back to schedstat when
 * the TASKSTATS family cannot be reached or @sys is a fixture root (see
 * vs_thread_counters_why()). @sys is borrowed and must outlive the reader. */
VsThreadCounters *vs_thread_counters_new(const VsSys *sys, VsCountersSource want);
void vs_thread_counters_free(VsThreadCounters *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsThreadCounters, vs_thread_counters_free)

/* The path this reader uses now. */
VsCountersSource vs_thread_counters_source(const VsThreadCounters *c);
/* Why it does not use the path it was asked for (an operator-facing
 * sentence), or NULL when it does. */
const char *vs_thread_counters_why(const VsThreadCounters *c);

/* Reads the counters of the @n threads of @items (pid, tid, start_time
 * set): each item gets error 0 and its counters, or -ESRCH for a thread
 * that is gone, or another -errno. Descriptors of threads in none of the
 * last `keep` calls (vs_thread_counters_set_keep(), 1 by default: this
 * one) are closed (schedstat), so a caller passes every thread it follows
 * at least once in that many calls. Returns the number of items read
 * without error. */
size_t vs_thread_counters_read(VsThreadCounters *c, VsThreadCount *items, size_t n);
/* Keeps schedstat descriptors open while their thread was in one of the
 * last @reads calls of vs_thread_counters_read() (at least 1, the
 * default). */
void vs_thread_counters_set_keep(VsThreadCounters *c, guint reads);
/* Closes what is held open for thread @tid (vs_schedstat_forget()). */
void vs_thread_counters_forget(VsThreadCounters *c, pid_t tid);
