/* Helpers shared by the readers of src/host/ (topology.c, meminfo.c, psi.c,
 * cgroup.c, caps.c), implemented in host.c: they read small sysfs/procfs
 * files through the sys layer and turn failures into GErrors that name the
 * file, so that every reader reports errors the same way. Not for use
 * outside src/host/. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "host/sys.h"
#include "util/cpuset.h"

/* Sets @error to "FILE: reason" for a read of @path that failed with
 * @r (-errno): VS_ERROR_NOT_FOUND for -ENOENT, else VS_ERROR_SYSTEM.
 * FILE is the host path (root prefix included). Returns @r. */
int vs_host_file_error(GError **error, const VsSys *sys, const char *path, int r);

/* Sets @error (VS_ERROR_INVALID) to "FILE: " followed by the formatted
 * reason. Returns -EINVAL. */
int vs_host_file_invalid(GError **error, const VsSys *sys, const char *path,
			 const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* Reads a file holding one signed decimal number. Returns 0; -ENOENT when
 * the file does not exist (@error left unset: the caller decides whether
 * that is a failure); any other failure sets @error. */
int vs_host_read_int(const VsSys *sys, const char *path, int64_t *ret_value,
		     GError **error);

/* Reads a file holding a CPU list; same return convention as
 * vs_host_read_int(). The caller frees *ret_set. */
int vs_host_read_cpuset(const VsSys *sys, const char *path, VsCpuSet **ret_set,
			GError **error);
