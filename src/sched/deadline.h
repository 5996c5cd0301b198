/* SCHED_DEADLINE reservations for vCPU threads: admission control, and the
 * primitives that set, clear and read a thread's deadline parameters.
 *
 * Admission mirrors the kernel's test (kernel/sched/deadline.c) so that
 * vsched never asks for a reservation the kernel would refuse (invariant 3
 * of ARCHITECTURE.md). In a root domain of M CPUs the deadline tasks'
 * bandwidths (runtime/period) may sum to at most
 * M × sched_rt_runtime_us / sched_rt_period_us (0.95·M by default), and on
 * Linux 6.12+ the fair server of each CPU takes its share of that first
 * (0.05 per CPU by default), which leaves 0.90·M. The arithmetic is the
 * kernel's fixed point (bandwidth in units of 2^-20 CPU), so exact fits are
 * predicted exactly. sched_rt_runtime_us = -1 switches the kernel's
 * admission off, and ours with it. Deadline tasks vsched did not create are
 * not counted: the kernel refuses with EBUSY then, and the caller reports
 * it. One VsAdmission covers one root domain: the host's online CPUs.
 *
 * The kernel also refuses (EPERM) a deadline task whose affinity is
 * narrower than its root domain: pinning a deadline vCPU to a subset of the
 * CPUs needs a cpuset partition, which makes a root domain of its own.
 *
 * Leaving SCHED_DEADLINE directly, the kernel gives a thread's bandwidth
 * back only at its 0-lag time, and (seen on Linux 6.18) often never when the
 * thread is asleep then; vs_deadline_clear() avoids both by shrinking the
 * reservation to nothing first, so what vs_admission_release() forgets is
 * free in the kernel too.
 *
 * Every function that acts on a thread first checks that it is still the
 * thread that was collected (pid, tid, start time, comm), except the
 * _verified forms, whose caller has just checked it, and reads the result
 * back with sched_getattr. Nothing here retries. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "host/host.h"
#include "host/sys.h"
#include "virt/domain.h"

/* One reservation asked for: @key names the vCPU ("uuid/vcpuN"),
 * @n_cpus_span is how many CPUs the thread's affinity spans (0: the whole
 * root domain). */
typedef struct VsDeadlineRequest {
	const char *key;
	int64_t runtime_us, period_us;
	guint n_cpus_span;
} VsDeadlineRequest;

/* Bandwidth bookkeeping for one root domain. */
typedef struct VsAdmission VsAdmission;

/* A new, empty bookkeeping for @host's online CPUs, with the capacity the
 * kernel allows deadline tasks there: host->caps.rt_runtime_us /
 * rt_period_us per CPU minus host->caps.dl_server_share_per_cpu. Unlimited
 * when rt_runtime_us is -1; none when the limit could not be read (both 0).
 * Free with vs_admission_free(). */
VsAdmission *vs_admission_new(const VsHost *host);
void vs_admission_free(VsAdmission *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsAdmission, vs_admission_free)

/* Admits @req: true when it fits next to what is admitted already (and
 * records it), false with *ret_why (may be NULL; caller frees) saying why
 * not, e.g. "needs 0.20 CPU, 0.05 of 1.80 left in the root domain of CPUs
 * 0-1". Re-admitting an existing key replaces its request; when the
 * replacement does not fit, the old request stays admitted, as the kernel
 * keeps a thread's old parameters when it refuses new ones. */
bool vs_admission_admit(VsAdmission *a, const VsDeadlineRequest *req, char **ret_why);
/* Forgets the request of @key; nothing happens when there is none. */
void vs_admission_release(VsAdmission *a, const char *key);
/* Bandwidth admitted and capacity, in CPUs (1.0 = one whole CPU), for status
 * and explain; capacity is -1 when the kernel enforces no limit. Either
 * pointer may be NULL. */
void vs_admission_usage(const VsAdmission *a, double *ret_used, double *ret_capacity);

/* Sets SCHED_DEADLINE with @runtime_us every @period_us (deadline = period)
 * on @t after checking its identity, and verifies it with sched_getattr.
 * Returns 0, or -errno with @error explaining: -EINVAL for parameters the
 * kernel cannot take, -ESRCH when the thread is gone or replaced, -EPERM
 * (affinity narrower than the root domain, or no privilege), -EBUSY (not
 * enough bandwidth), -EIO when the read-back disagrees. Never retries. */
int vs_deadline_set(const VsSys *sys, const VsThread *t, int64_t runtime_us, int64_t period_us,
		    GError **error);
/* Puts @t back to SCHED_OTHER with @nice (-20..19), identity-checked and
 * read back. A deadline thread first gets the smallest reservation, so that
 * the kernel gives its bandwidth back at once (leaving SCHED_DEADLINE
 * directly gives it back only at the thread's 0-lag time, and not at all
 * when the thread sleeps then, as an idle vCPU does). Returns 0 or -errno
 * with @error set. */
int vs_deadline_clear(const VsSys *sys, const VsThread *t, int nice, GError **error);
/* vs_deadline_set() without its identity check, for a caller that has
 * verified @t itself just before (the actuator checks each thread once per
 * run through a held /proc descriptor). Same returns. */
int vs_deadline_set_verified(const VsSys *sys, const VsThread *t, int64_t runtime_us,
			     int64_t period_us, GError **error);
/* vs_deadline_clear() without its identity check, for a caller that has
 * verified @t just before, with the longest period the kernel takes read
 * by the caller (vs_deadline_period_max_ns(), once for many threads).
 * Same returns. */
int vs_deadline_clear_verified(const VsSys *sys, const VsThread *t, int nice,
			       uint64_t period_max_ns, GError **error);
/* The longest deadline period the kernel takes, in ns:
 * /proc/sys/kernel/sched_deadline_period_max_us, or the kernel's default
 * (~4 s) when it cannot be read. */
uint64_t vs_deadline_period_max_ns(const VsSys *sys);
/* Reads @t's scheduling attributes (through the ops table) into *ret,
 * identity-checked: for Applied's originals and for read-back. Returns 0,
 * -ESRCH when the thread is gone or replaced, or another -errno. */
int vs_deadline_get(const VsSys *sys, const VsThread *t, VsSchedAttr *ret);

/* Verifies @t's pid, tid, start time and comm against
 * /proc/PID/task/TID/stat right now (through the sys layer, so fixtures
 * work). Returns 0; -ESRCH when the thread is gone or is not the same
 * thread (TID reuse); another -errno when /proc cannot be read. */
int vs_thread_verify(const VsSys *sys, const VsThread *t);
/* The check of vs_thread_verify() on @text, the contents of the thread's
 * /proc/PID/task/TID/stat read by the caller (e.g. from a held fd): 0,
 * -ESRCH when it is another thread, -EINVAL when it does not parse. */
int vs_thread_verify_stat(const VsThread *t, const char *text);
