/* CPU time readers for steal accounting: the throttled time of a cgroup
 * from its cpu.stat (how long the cgroup's CPU bandwidth limit, cpu.max on
 * v2 or cpu.cfs_quota_us on v1, held its threads back), and the host's busy
 * time from /proc/stat.
 *
 * cgroup v2 reports "throttled_usec" (µs); v1 (the cpu controller of a
 * hybrid host, such as /sys/fs/cgroup/cpu/machine/qemu-1-x.libvirt-qemu/
 * vcpu0) reports "throttled_time" (ns). Both come back in nanoseconds. A
 * VsCpustat keeps one open descriptor per cgroup directory and preads it
 * each tick; files are reached through the sys layer.
 *
 * Errors are negative errno values; ret_* parameters are untouched on
 * failure. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "host/sys.h"

/* Parses a cpu.stat: throttled_usec (v2, converted to ns) or throttled_time
 * (v1, ns). Returns 0, or -ENODATA when the text has neither (a v2 cgroup
 * without the cpu controller reports only usage), -EINVAL for a malformed
 * value. */
int vs_cpustat_parse_throttled(const char *text, uint64_t *ret_ns);

/* Parses /proc/stat's first ("cpu ") line: @ret_busy gets the ticks spent
 * in user, nice, system, irq, softirq and steal, @ret_total those plus idle
 * and iowait (guest time is inside user already). -EINVAL when the line is
 * missing or malformed. */
int vs_cpustat_parse_proc_stat(const char *text, uint64_t *ret_busy, uint64_t *ret_total);
/* Reads and parses /proc/stat through @sys. */
int vs_cpustat_read_host(const VsSys *sys, uint64_t *ret_busy, uint64_t *ret_total);

/* Parses a cgroup's own CPU bandwidth limit: v2 cpu.max ("max 100000" or
 * "50000 100000") or, with @v1, cpu.cfs_quota_us ("-1" or "50000");
 * @ret_unlimited is true for "max" and -1. -EINVAL for anything else. A
 * cgroup without a limit of its own is never throttled itself (its
 * throttled time stays as it is); one above it may be. */
int vs_cpustat_parse_unlimited(const char *text, bool v1, bool *ret_unlimited);
/* Reads and parses that file of the cgroup directory @dir through @sys. */
int vs_cpustat_read_unlimited(const VsSys *sys, const char *dir, bool v1, bool *ret_unlimited);

typedef struct VsCpustat VsCpustat;

/* A reader with no descriptor open; @sys is borrowed and must outlive it. */
VsCpustat *vs_cpustat_new(const VsSys *sys);
void vs_cpustat_free(VsCpustat *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsCpustat, vs_cpustat_free)

/* The throttled time of the cgroup directory @dir (a host path such as
 * "/sys/fs/cgroup/cpu/machine/x/vcpu0"), from its cpu.stat on a held
 * descriptor. Errors as vs_cpustat_parse_throttled(), or the -errno of
 * opening or reading (the descriptor is then closed). */
int vs_cpustat_throttled(VsCpustat *c, const char *dir, uint64_t *ret_ns);
/* As vs_cpustat_throttled(), but a directory already read since the
 * previous sweep gives that reading again without a read: for callers that
 * meet one cgroup many times per tick (a guest's, above each of its vCPUs)
 * and sweep once per tick. */
int vs_cpustat_throttled_once(VsCpustat *c, const char *dir, uint64_t *ret_ns);
/* Closes the descriptors of directories not read since the previous
 * sweep, and starts a new round for vs_cpustat_throttled_once(); returns
 * how many it closed. */
guint vs_cpustat_sweep(VsCpustat *c);
/* Keeps a descriptor open while it was used within the last @sweeps
 * sweeps (at least 1, the default: only since the previous one). */
void vs_cpustat_set_keep(VsCpustat *c, guint sweeps);
