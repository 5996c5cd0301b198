/* PSI memory trigger file descriptors (Documentation/accounting/psi.rst):
 * "some" and "full" triggers written to /proc/pressure/memory through the
 * sys layer's root, each polled for POLLPRI by a GSource in the main loop,
 * so that memory pressure wakes the daemon at once instead of at the next
 * tick. When arming fails (no PSI, a fixture file that cannot poll, a window
 * the kernel refuses) the caller logs why and relies on the avg10 figures
 * read every tick. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "host/sys.h"
#include "mem/mem.h"

typedef struct VsPsiTrigger VsPsiTrigger;

/* Called from the main loop when a trigger fires (@full: the "full"
 * trigger) or fails (@failed: the kernel reported an error on the fd, or
 * the fd is no longer valid; that trigger's source is removed and the
 * caller falls back to polling). The callback may free the trigger set. */
typedef void (*VsPsiTriggerFunc)(bool full, bool failed, gpointer user_data);

/* The window vsched asks for: @want_us rounded up to a multiple of
 * @min_window_us (the kernel's smallest allowed window for our
 * capabilities, host->caps.psi_min_window_us; 0 = no constraint), and into
 * the kernel's 500 ms .. 10 s range. */
int64_t vs_mem_psi_trigger_window_us(int64_t want_us, uint32_t min_window_us);

/* Arms the triggers of @conf (MemoryTrigger*=; a stall of 0 arms none) on
 * /proc/pressure/memory below @sys's root, attached to the thread-default
 * main context. Returns 0 and a new trigger set in @ret_trigger (with no fd
 * when both stalls are 0), or a negative errno with @error saying which
 * trigger could not be armed and why; nothing stays armed then. */
int vs_mem_psi_trigger_new(const VsSys *sys, const VsMemConf *conf, uint32_t min_window_us,
			   VsPsiTriggerFunc func, gpointer user_data,
			   VsPsiTrigger **ret_trigger, GError **error);

/* How many "some" and "full" events fired since the last call (the
 * counters are reset); either pointer may be NULL. */
void vs_mem_psi_trigger_take_events(VsPsiTrigger *t, guint *ret_some, guint *ret_full);

/* The trigger lines written ("some 150000 2000000"), for status output;
 * NULL-terminated, owned by @t. */
const char *const *vs_mem_psi_trigger_lines(const VsPsiTrigger *t);

/* The fds armed (for tests); -1 when that trigger is not armed. */
int vs_mem_psi_trigger_fd(const VsPsiTrigger *t, bool full);

/* Removes the sources and closes the fds. */
void vs_mem_psi_trigger_free(VsPsiTrigger *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsPsiTrigger, vs_mem_psi_trigger_free)
