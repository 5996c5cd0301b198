/* Test helper for the real-kernel deadline test and the deadline benchmark:
 * the identity of one of this process's own threads, as the inventory
 * would collect it, so that the identity-checked primitives of
 * src/sched/deadline.c can act on it. */
#pragma once

#include <sys/types.h>

#include "host/sys.h"
#include "virt/domain.h"

/* Fills *ret (pid, tid, start time, comm, cpu; no affinity) for thread
 * @tid of this process from /proc through @sys. Returns 0 or -errno;
 * release *ret with vs_thread_clear(). */
int sched_test_thread_identity(const VsSys *sys, pid_t tid, VsThread *ret);
