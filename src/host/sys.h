/* The sys layer: every read or write of /proc, /sys, cgroupfs and libvirt's
 * run-time files goes through a VsSys, which prefixes paths with a root
 * ("" on a real host, a fixture tree in tests), and every syscall that acts
 * on a thread goes through its ops table, which tests can replace.
 *
 * Errors are negative errno values; ret_* parameters are untouched on
 * failure. */
#pragma once

#include <glib.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* struct sched_attr of sched_setattr(2), under our own name because glibc
 * 2.36 does not declare it. */
typedef struct VsSchedAttr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;   /* ns, SCHED_DEADLINE */
	uint64_t sched_deadline;  /* ns */
	uint64_t sched_period;    /* ns */
	uint32_t sched_util_min;
	uint32_t sched_util_max;
} VsSchedAttr;

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif

/* Syscalls that act on (or ask about) threads. Each returns 0 or -errno. */
typedef struct VsSysOps {
	int (*sched_setaffinity)(pid_t tid, const cpu_set_t *set, size_t setsize);
	int (*sched_getaffinity)(pid_t tid, cpu_set_t *set, size_t setsize);
	int (*sched_setattr)(pid_t tid, const VsSchedAttr *attr);
	int (*sched_getattr)(pid_t tid, VsSchedAttr *attr);
	/* prctl(PR_SCHED_CORE, cmd, pid, type, 0) */
	int (*prctl_sched_core)(unsigned long cmd, pid_t pid, unsigned long type);
} VsSysOps;

typedef struct VsSys {
	char *root;            /* "" for the real system; never NULL */
	const VsSysOps *ops;   /* the real syscalls unless a test replaced them */
} VsSys;

/* The real syscalls. */
extern const VsSysOps vs_sys_real_ops;

/* A sys layer rooted at @root (NULL or "" for the real system), using the
 * real syscalls. Free with vs_sys_free(). */
VsSys *vs_sys_new(const char *root);
void vs_sys_free(VsSys *sys);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsSys, vs_sys_free)

/* True when this layer reads the running system (no fixture root). */
bool vs_sys_is_real(const VsSys *sys);

/* The host path for an absolute system @path ("/proc/1/stat"); caller frees. */
char *vs_sys_path(const VsSys *sys, const char *path);

/* Reads a whole file (up to 16 MiB) into a NUL-terminated string. */
int vs_sys_read(const VsSys *sys, const char *path, char **ret_contents);
/* Reads a file and strips trailing white space. */
int vs_sys_read_line(const VsSys *sys, const char *path, char **ret_line);
/* Reads a file holding one unsigned decimal number. -EINVAL if it does not. */
int vs_sys_read_u64(const VsSys *sys, const char *path, uint64_t *ret_value);
/* Writes @value to an existing file (no O_CREAT; O_TRUNC), in one write(2). */
int vs_sys_write(const VsSys *sys, const char *path, const char *value);
/* open(2) of the prefixed path with O_CLOEXEC added; returns fd or -errno. */
int vs_sys_open(const VsSys *sys, const char *path, int flags);
/* stat(2) of the prefixed path. */
int vs_sys_stat(const VsSys *sys, const char *path, struct stat *ret_stat);
/* True when the prefixed path exists. */
bool vs_sys_exists(const VsSys *sys, const char *path);
/* The entry names of a directory (without . and ..), sorted; caller frees
 * with g_strfreev. */
int vs_sys_list_dir(const VsSys *sys, const char *path, char ***ret_names);
