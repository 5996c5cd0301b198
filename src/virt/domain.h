/* The inventory's view of one libvirt domain (guest), as collected in one
 * tick. Plain data: filled by src/virt/, read by planners and the control
 * server. Sizes are bytes, times nanoseconds. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/cpuset.h"

/* The vsched XML namespace for <metadata>: <vsched:policy class="db"/>. */
#define VS_METADATA_NS "https://vsched.dev/xmlns/domain/1"
#define VS_METADATA_PREFIX "vsched"

/* A QEMU thread: its identity (acting on a TID is allowed only while pid,
 * tid, start_time and comm all match what was collected: invariant 1 of
 * ARCHITECTURE.md) and where it runs. */
typedef struct VsThread {
	pid_t pid;             /* the QEMU process */
	pid_t tid;             /* 0 when no thread was found */
	uint64_t start_time;   /* field 22 of /proc/PID/task/TID/stat, clock ticks */
	char *comm;            /* "CPU 0/KVM", "CPU 0/TCG", "IO iothread1", ... */
	int cpu;               /* CPU it last ran on (stat field 39), -1 unknown */
	VsCpuSet *affinity;    /* Cpus_allowed_list of /proc/PID/task/TID/status; NULL unknown */
} VsThread;

typedef struct VsVcpu {
	guint index;
	bool online;           /* libvirt says this vCPU is plugged in */
	VsThread thread;
	/* From bulk stats (valid when has_stats). */
	bool has_stats;
	uint64_t time_ns;      /* vcpu.N.time */
	uint64_t delay_ns;     /* vcpu.N.delay: run_delay, what KVM reports as steal */
	int state;             /* vcpu.N.state (virVcpuState) */
} VsVcpu;

/* Guest memory statistics from the balloon driver (virtio-balloon stats).
 * Untrusted: the guest reports them. Each field is valid when its bit is set
 * in @have. Sizes in bytes. */
typedef enum {
	VS_BALLOON_CURRENT = 1 << 0,
	VS_BALLOON_MAXIMUM = 1 << 1,
	VS_BALLOON_SWAP_IN = 1 << 2,
	VS_BALLOON_SWAP_OUT = 1 << 3,
	VS_BALLOON_MAJOR_FAULT = 1 << 4,
	VS_BALLOON_MINOR_FAULT = 1 << 5,
	VS_BALLOON_UNUSED = 1 << 6,
	VS_BALLOON_AVAILABLE = 1 << 7,
	VS_BALLOON_USABLE = 1 << 8,
	VS_BALLOON_RSS = 1 << 9,
	VS_BALLOON_LAST_UPDATE = 1 << 10,
	VS_BALLOON_DISK_CACHES = 1 << 11,
} VsBalloonField;

typedef struct VsBalloonStats {
	guint have;            /* VsBalloonField bits */
	uint64_t current, maximum;
	uint64_t swap_in, swap_out;         /* bytes */
	uint64_t major_fault, minor_fault;  /* counts */
	uint64_t unused, available, usable, rss, disk_caches;
	int64_t last_update;                /* guest's time of the stats, seconds since epoch */
} VsBalloonStats;

typedef struct VsDomain {
	char uuid[37];
	char *name;
	int id;                /* -1 when not running */
	int state;             /* virDomainState */
	int state_reason;
	char *vsched_class;    /* from <metadata><vsched:policy class=".."/>; NULL if none */
	char *metadata_xml;    /* the whole vsched metadata element, NULL if none */

	pid_t pid;             /* QEMU PID, 0 when not running or not found */
	uint64_t pid_start_time;
	char *cgroup_path;     /* of the QEMU process, from /proc/PID/cgroup; v2 path or
				* the cpu controller's path on v1 */
	char *cgroup_v1_cpuset; /* cpuset controller's path on v1/hybrid, NULL otherwise */

	guint vcpus_current, vcpus_max;
	uint64_t mem_current, mem_max;      /* bytes */
	GArray *vcpus;         /* VsVcpu, by index, vcpus_max entries */
	GArray *emulator_threads; /* VsThread: QEMU threads that are neither vCPU nor I/O */
	GArray *io_threads;    /* VsThread: "IO iothreadN" threads */
	/* Set when vCPU thread discovery found an inconsistency between the
	 * status XML, /proc and libvirt (e.g. a TID whose comm names another
	 * vCPU); NULL when consistent. */
	char *threads_problem;
	/* Set when the threads are borrowed (the thread discovery cache shares
	 * them between snapshots: vs_domain_threads_share()): the vCPU
	 * threads' comm and affinity and the two thread arrays belong to this
	 * reference, which vs_domain_free() releases. Read them as usual;
	 * change them only after vs_domain_threads_unshare(). */
	gpointer threads_ref;
	GDestroyNotify threads_ref_release;

	bool has_stats;
	uint64_t cpu_time_ns;  /* cpu.time */
	VsBalloonStats balloon;
} VsDomain;

/* A new domain named @name (copied) with @n_vcpus offline vCPUs (index set,
 * no thread, cpu -1), empty thread arrays, id -1 and no state; every array
 * has its clear function set. Free with vs_domain_free(). */
VsDomain *vs_domain_new(const char *name, guint n_vcpus);
void vs_domain_free(VsDomain *dom);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsDomain, vs_domain_free)
/* Makes @dom borrow the threads of @src (vCPU threads by index, as far as
 * both have vCPUs; the emulator and I/O thread arrays by reference) under
 * @ref, which it releases with @release when it no longer needs them; the
 * threads it had are freed first (vs_domain_threads_unshare()). @src must
 * not change while @ref is held. No allocation. */
void vs_domain_threads_share(VsDomain *dom, const VsDomain *src, gpointer ref,
			     GDestroyNotify release);
/* When @dom borrows its threads: forgets them (vCPUs without a thread,
 * empty thread arrays) and releases the reference, so that it can fill
 * its own; else nothing. */
void vs_domain_threads_unshare(VsDomain *dom);
/* Frees what @t owns (for GArray clear funcs). */
void vs_thread_clear(VsThread *t);
/* Copies @src into @dst (which owns nothing yet): comm and affinity are
 * duplicated. */
void vs_thread_copy(VsThread *dst, const VsThread *src);
/* The state as virsh prints it ("running", "shut off", ...); static string. */
const char *vs_domain_state_name(int state);
