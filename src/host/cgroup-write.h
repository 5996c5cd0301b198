/* The cgroup v2 writer: finds a guest's cgroup directories from the path
 * the inventory read in /proc/PID/cgroup, and sets cpu.weight, cpu.max,
 * cpu.max.burst, cpuset.cpus, cpuset.mems and cpuset.cpus.partition there,
 * each write preceded by a read of the previous value (for restore) and
 * followed by a read-back compared in the file's normal form. Directories
 * are host paths inside the v2 mount ("/sys/fs/cgroup/machine/
 * qemu-3-db1.libvirt-qemu"), reached through the sys layer.
 *
 * Errors are negative errno values, with @error (domain VS_ERROR) naming
 * the file and the reason; ret_* parameters are untouched on failure.
 * -EOPNOTSUPP (VS_ERROR_UNAVAILABLE) means the v2 hierarchy of this host
 * lacks the controller: the caller reports the feature as unavailable and
 * carries on with the rest. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "host/host.h"
#include "host/sys.h"
#include "util/cpuset.h"
#include "virt/domain.h"

/* The period vsched writes to cpu.max, µs (the kernel's default). */
#define VS_CGROUP_PERIOD_US 100000
/* The kernel's smallest cpu.max quota, µs. */
#define VS_CGROUP_QUOTA_MIN_US 1000
/* The range of cpu.weight. */
#define VS_CGROUP_WEIGHT_MIN 1
#define VS_CGROUP_WEIGHT_MAX 10000

/* The guest-level v2 directory of @dom: the v2 mount joined with its
 * cgroup path, less a trailing "/emulator" or "/vcpuN" (the QEMU thread's
 * own cgroup) and then less a trailing "/libvirt" (the child libvirt nests
 * in a systemd scope), as libvirt finds a guest's placement. NULL when the
 * guest's path is not a v2 path (no v2 hierarchy, or the cpu controller is
 * on cgroup v1 so that the inventory holds the v1 path), when it has none,
 * or when it is the root. Caller frees. */
char *vs_cgroup_domain_dir(const VsDomain *dom, const VsCgroupInfo *cg);

/* The cgroup of vCPU @vcpu that libvirt creates beside "emulator":
 * DOMAIN_DIR/vcpuN, or DOMAIN_DIR/libvirt/vcpuN when @domain_dir is a
 * systemd scope ("*.scope"). Caller frees. */
char *vs_cgroup_vcpu_dir(const char *domain_dir, guint vcpu);

/* 0 when the v2 hierarchy offers @controller ("cpu", "cpuset"); else
 * -EOPNOTSUPP with @error (VS_ERROR_UNAVAILABLE) saying "cgroup v2 has no
 * cpu controller on this host". */
int vs_cgroup_available(const VsCgroupInfo *cg, const char *controller, GError **error);

/* Writes @value to @dir/@file: reads the previous value (trailing white
 * space stripped) into *@ret_previous (may be NULL; caller frees), writes,
 * reads back and compares in the file's normal form (see
 * vs_cgroup_value_matches()). A write refused by the kernel returns its
 * -errno ("cannot write 20000 to DIR/cpu.weight: Invalid argument"); a
 * read-back that differs returns -EIO (-EINVAL for an invalid partition,
 * with the kernel's reason) after writing the previous value back. */
int vs_cgroup_set(const VsSys *sys, const char *dir, const char *file, const char *value,
		  char **ret_previous, GError **error);

/* One cgroup file held open for reads and writes (see
 * vs_cgroup_file_open()). */
typedef struct VsCgroupFile VsCgroupFile;

/* Opens @dir/@file for reading and writing into a new *@ret_file (free
 * with vs_cgroup_file_free()). -ENOENT ("cannot read"), or another -errno
 * ("cannot open") with @error. */
int vs_cgroup_file_open(const VsSys *sys, const char *dir, const char *file,
			VsCgroupFile **ret_file, GError **error);
void vs_cgroup_file_free(VsCgroupFile *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsCgroupFile, vs_cgroup_file_free)
/* Reads the value @f holds now, trailing white space stripped, into
 * *@ret_value (caller frees). -errno with @error; a held file of a cgroup
 * removed since it was opened reads -ENODEV (or -ENOENT): the caller drops
 * it and opens the file again. */
int vs_cgroup_file_read(VsCgroupFile *f, char **ret_value, GError **error);
/* Writes @value, reads back and compares as vs_cgroup_set() does; on a
 * read-back that differs, writes @previous (the value read before) back.
 * 0 or -errno with @error, as vs_cgroup_set(). */
int vs_cgroup_file_write(VsCgroupFile *f, const char *value, const char *previous,
			 GError **error);

/* Whether @read, what @file holds after writing @written, shows that the
 * write took effect: integers compare as numbers (cpu.weight,
 * cpu.max.burst), cpu.max as quota and period ("max" matches "max 100000"
 * when no period was written), CPU and node lists as sets ("0-1" matches
 * "0,1"), cpuset.cpus.partition by state ("root invalid (...)" does not
 * match "root"), anything else as strings without surrounding white
 * space. Pure. */
bool vs_cgroup_value_matches(const char *file, const char *written, const char *read);

/* Enables @controller in the cgroup.subtree_control of every ancestor of
 * @dir below and including the v2 root, where it is not enabled yet, each
 * write read back. -EINVAL when @dir is not inside the v2 mount;
 * -EOPNOTSUPP when the hierarchy lacks @controller. */
int vs_cgroup_enable(const VsSys *sys, const VsCgroupInfo *cg, const char *dir,
		     const char *controller, GError **error);

/* The cpu.max value for a cap of @limit_pct percent of one CPU over
 * VS_CGROUP_PERIOD_US ("20000 100000" for 20), "max 100000" for 0 (no
 * cap). -ERANGE when the quota would be under VS_CGROUP_QUOTA_MIN_US or
 * over what VS_CPU_MAX + 1 CPUs can use; -EINVAL for a negative or
 * non-finite @limit_pct. Pure; caller frees *@ret_value. */
int vs_cgroup_limit_value(double limit_pct, char **ret_value);

/* The typed setters. Each checks that the v2 hierarchy has the controller
 * (-EOPNOTSUPP), enables it in the ancestors' cgroup.subtree_control when
 * @dir lacks the file, validates the value (-ERANGE, nothing written), and
 * then works as vs_cgroup_set(), *@ret_previous (may be NULL) receiving the
 * file's previous contents for restore. */

/* cpu.weight, VS_CGROUP_WEIGHT_MIN..VS_CGROUP_WEIGHT_MAX. */
int vs_cgroup_set_weight(const VsSys *sys, const VsCgroupInfo *cg, const char *dir,
			 uint64_t weight, char **ret_previous, GError **error);
/* cpu.max from a percentage of one CPU; 0 removes the cap. */
int vs_cgroup_set_limit(const VsSys *sys, const VsCgroupInfo *cg, const char *dir,
			double limit_pct, char **ret_previous, GError **error);
/* cpu.max.burst in µs (0: no burst). */
int vs_cgroup_set_burst(const VsSys *sys, const VsCgroupInfo *cg, const char *dir,
			uint64_t burst_us, char **ret_previous, GError **error);
/* cpuset.cpus; the empty set writes "" (inherit the parent's CPUs). */
int vs_cgroup_set_cpus(const VsSys *sys, const VsCgroupInfo *cg, const char *dir,
		       const VsCpuSet *cpus, char **ret_previous, GError **error);
/* cpuset.mems: NUMA node numbers, in the same list syntax as CPUs. */
int vs_cgroup_set_mems(const VsSys *sys, const VsCgroupInfo *cg, const char *dir,
		       const VsCpuSet *nodes, char **ret_previous, GError **error);
/* cpuset.cpus.partition: @mode is "root", "isolated" or "member" (else
 * -EINVAL). A partition the kernel cannot make reads back "root invalid
 * (REASON)": that returns -EINVAL with REASON in @error, and the previous
 * state is written back. *@ret_previous holds the previous state's first
 * word ("member"), which is what writing it back needs. */
int vs_cgroup_set_partition(const VsSys *sys, const VsCgroupInfo *cg, const char *dir,
			    const char *mode, char **ret_previous, GError **error);

/* Moves thread @tid into @dir by writing it to @dir/cgroup.threads (the
 * directory must be in the thread's threaded subtree, as libvirt's vcpuN
 * and emulator cgroups are), and checks that cgroup.threads then lists it. */
int vs_cgroup_attach_thread(const VsSys *sys, const char *dir, pid_t tid, GError **error);
