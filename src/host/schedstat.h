/* Per-thread CPU counters from /proc/PID/task/TID/schedstat: "RUN DELAY
 * COUNT", the nanoseconds the thread ran (sum_exec_runtime), the
 * nanoseconds it waited runnable for a CPU (run_delay) and how many times
 * it ran. The fallback of taskstats (taskstats.h), and the second opinion
 * that checks it.
 *
 * A VsSchedstat keeps one open descriptor per thread identity (pid, tid,
 * start time) and reads it again with pread() each tick (about 0.5 µs,
 * against about 4.4 µs to open, read and close: TESTING.md). A held
 * descriptor stays bound to the thread it was opened for, so it can never
 * read a later thread that reuses the TID: it fails with ESRCH once the
 * thread is gone. A thread whose identity changes (same TID, other start
 * time) gets a new descriptor; descriptors of threads not read since the
 * last vs_schedstat_sweep() are closed by it. Files are opened through the
 * sys layer, so tests use fixture trees.
 *
 * Errors are negative errno values; ret_* parameters are untouched on
 * failure. */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <sys/types.h>

#include "host/sys.h"
#include "host/taskstats.h"

/* Parses the text of a schedstat file. Returns 0, or -EINVAL when it is
 * not three unsigned decimal numbers. */
int vs_schedstat_parse(const char *text, uint64_t *ret_run_ns, uint64_t *ret_delay_ns,
		       uint64_t *ret_count);

/* Reads /proc/@pid/task/@tid/schedstat once (open, read, close), into
 * @item's counters; sets and returns @item->error (-ESRCH when the thread
 * is gone). */
int vs_schedstat_read_once(const VsSys *sys, VsThreadCount *item);

typedef struct VsSchedstat VsSchedstat;

/* A reader with no descriptor open yet; @sys is borrowed and must outlive
 * it. Free with vs_schedstat_free(), which closes every descriptor. */
VsSchedstat *vs_schedstat_new(const VsSys *sys);
void vs_schedstat_free(VsSchedstat *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsSchedstat, vs_schedstat_free)

/* Reads the counters of @item (pid, tid and start_time set) on its held
 * descriptor, opening it first when this identity has none. Sets and
 * returns @item->error: 0, -ESRCH (or -ENOENT at open) when the thread is
 * gone, -EINVAL when the file does not parse. A descriptor that failed is
 * closed. */
int vs_schedstat_read(VsSchedstat *s, VsThreadCount *item);

/* Closes the descriptors of the threads not read since the previous
 * sweep (by default; see vs_schedstat_set_keep()); returns how many it
 * closed. */
guint vs_schedstat_sweep(VsSchedstat *s);
/* Keeps a descriptor open while it was read within the last @sweeps
 * sweeps (at least 1, the default): for callers that read some threads
 * only every few sweeps. */
void vs_schedstat_set_keep(VsSchedstat *s, guint sweeps);
/* Closes the descriptor held for thread @tid, if any: for a caller that
 * stops following the thread (its guest gone), so that a thread read only
 * now and then does not keep a descriptor until the sweeps close it. */
void vs_schedstat_forget(VsSchedstat *s, pid_t tid);

/* The number of descriptors held. */
guint vs_schedstat_n_open(const VsSchedstat *s);
