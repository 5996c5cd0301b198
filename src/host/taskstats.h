/* Per-thread CPU counters from the kernel's TASKSTATS generic netlink
 * family: run time (sum_exec_runtime, as taskstats' cpu_run_virtual_total)
 * and run delay (cpu_delay_total, the sched_info.run_delay that KVM turns
 * into the guest's steal time), for many threads at once over one socket.
 *
 * One VsTaskstats holds one libnl-genl socket. A query sends
 * TASKSTATS_CMD_GET (TASKSTATS_CMD_ATTR_PID) for a batch of TIDs in one
 * datagram, then receives the replies, matching each to its thread by the
 * PID in the reply's TASKSTATS_TYPE_AGGR_PID; the kernel's error answer for
 * a thread that is gone (-ESRCH) is matched by its sequence number. This
 * reads the live kernel only: there is no fixture root for netlink.
 *
 * Errors are negative errno values. */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <sys/types.h>

/* One thread's counters, as both collection paths (taskstats and
 * /proc/PID/task/TID/schedstat) return them. The caller sets pid, tid and
 * start_time (the thread's identity); a read sets error and, when error is
 * 0, the counters. */
typedef struct VsThreadCount {
	pid_t pid;             /* thread group (the QEMU process) */
	pid_t tid;
	uint64_t start_time;   /* /proc/PID/task/TID/stat field 22, clock ticks */
	int error;             /* 0, -ESRCH when the thread is gone, other -errno */
	uint64_t run_ns;       /* time on a CPU (sum_exec_runtime) */
	uint64_t delay_ns;     /* time runnable but waiting for a CPU (run_delay) */
	uint64_t count;        /* times it ran on a CPU (pcount) */
} VsThreadCount;

typedef struct VsTaskstats VsTaskstats;

/* Opens a generic netlink socket and resolves the TASKSTATS family.
 * Returns 0 and a new VsTaskstats, or -errno (-ENOENT: the kernel has no
 * TASKSTATS family; -EPROTONOSUPPORT: no generic netlink). */
int vs_taskstats_open(VsTaskstats **ret);
/* Closes the socket; NULL is allowed. */
void vs_taskstats_free(VsTaskstats *ts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsTaskstats, vs_taskstats_free)

/* Reads the counters of the @n threads of @items (tid set), in batches:
 * each item gets error 0 and its counters, or -ESRCH when the thread is
 * gone, or another -errno from the kernel. Returns 0 when every item was
 * answered, or -errno when the socket failed (the items not answered get
 * that error too; -ETIMEDOUT when the kernel did not answer within a
 * second). */
int vs_taskstats_query(VsTaskstats *ts, VsThreadCount *items, size_t n);

/* Parses one TASKSTATS reply message (a netlink message of @len bytes, as
 * received) of family @family: the PID of its aggregate and the counters.
 * Returns 0, -EINVAL when it is not a taskstats reply or is truncated.
 * Exported for the tests. */
int vs_taskstats_parse_reply(const void *msg, size_t len, int family, pid_t *ret_pid,
			     uint64_t *ret_run_ns, uint64_t *ret_delay_ns, uint64_t *ret_count);
