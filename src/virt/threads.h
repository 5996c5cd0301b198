/* QEMU process and thread discovery for one running domain, from libvirt's
 * status XML (<status_dir>/<name>.xml, or the <name>.pid file) and /proc,
 * all read through the sys layer so that tests run on fixture trees. The
 * vCPU TIDs the status XML names are cross-checked against the threads'
 * comm in /proc ("CPU n/KVM", "CPU n/TCG"); /proc wins, and every
 * disagreement is described in the domain's threads_problem.
 *
 * The parsers are exported for the unit tests; each returns 0 or -EINVAL
 * and leaves ret_* untouched on failure. */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <sys/types.h>

#include "host/sys.h"
#include "virt/domain.h"

/* What vsched uses of libvirt's status XML (<domstatus pid=..>). */
typedef struct VsThreadsStatus {
	pid_t pid;             /* QEMU PID, 0 when the file has none */
	char *name;            /* <domain><name>, NULL when absent */
	char *uuid;            /* <domain><uuid>, NULL when absent */
	GArray *vcpu_tids;     /* pid_t by vCPU id from <vcpus><vcpu id pid>, 0 when not listed */
} VsThreadsStatus;

void vs_threads_status_free(VsThreadsStatus *status);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsThreadsStatus, vs_threads_status_free)

/* Parses a status XML document. Returns 0 and a new VsThreadsStatus, or
 * -EINVAL with @error (VS_ERROR_INVALID) saying what is wrong. */
int vs_threads_parse_status(const char *xml, VsThreadsStatus **ret_status, GError **error);

/* Parses /proc/PID/stat or /proc/PID/task/TID/stat: the start time (field
 * 22, clock ticks) and the CPU it last ran on (field 39; -1 when the line is
 * too short to have it). The comm may hold spaces and parentheses. */
int vs_threads_parse_stat(const char *text, uint64_t *ret_start_time, int *ret_cpu);

/* Parses /proc/PID/cgroup. @ret_path gets the path of the v1 hierarchy
 * holding the cpu controller when there is one, else the v2 ("0::") path;
 * @ret_v1_cpuset the path of the v1 cpuset hierarchy, or NULL. Both new
 * strings. -EINVAL when neither path is there. */
int vs_threads_parse_cgroup(const char *text, char **ret_path, char **ret_v1_cpuset);

typedef enum {
	VS_THREAD_KIND_EMULATOR,   /* anything else */
	VS_THREAD_KIND_VCPU,       /* "CPU n/KVM", "CPU n/TCG" */
	VS_THREAD_KIND_IO,         /* "IO iothreadN": a libvirt <iothread> */
} VsThreadKind;

/* Classifies a QEMU thread by its comm; for a vCPU thread @ret_vcpu (may be
 * NULL) gets its index. QEMU's own monitor I/O thread ("IO mon_iothread")
 * is an emulator thread. */
VsThreadKind vs_threads_classify(const char *comm, guint *ret_vcpu);

/* Finds the QEMU process of the running domain @dom (by dom->name, and
 * checked against dom->uuid when set), and fills dom->pid, pid_start_time,
 * cgroup_path, cgroup_v1_cpuset, the thread of each of dom->vcpus (whose
 * length is libvirt's maximum vCPU count and whose online flags are
 * libvirt's), emulator_threads, io_threads and threads_problem. Returns 0
 * when the process was found and verified to be QEMU (threads_problem may
 * still describe an inconsistency), or -ESRCH when no such process was
 * found: then dom->pid is 0, no thread is filled and threads_problem says
 * why. */
int vs_threads_collect(const VsSys *sys, const char *status_dir, VsDomain *dom);
