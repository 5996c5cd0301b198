/* Test helper: temporary sys-layer roots built from (path, contents) pairs,
 * for unit tests of code that reads /proc, /sys and cgroup files through a
 * VsSys. Failures stop the test (cmocka assertions). */
#pragma once

#include "host/sys.h"

/* A new temporary root holding the given files: pairs of system path and
 * contents, NULL-terminated. Remove with temp_root_free(). */
VsSys *temp_root(const char *path, ...) G_GNUC_NULL_TERMINATED;
/* Writes (or replaces) one file below the root, creating its directories. */
void temp_write(const VsSys *sys, const char *path, const char *contents);
/* Removes the whole tree and frees @sys. */
void temp_root_free(VsSys *sys);
