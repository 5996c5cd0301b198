/* Temporary sys-layer roots for unit tests; see test-temp-root.h. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <ftw.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "unit/test-temp-root.h"

VsSys *temp_root(const char *path, ...)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vsched-test-XXXXXX", &error);
	VsSys *sys;
	va_list ap;

	assert_non_null(dir);
	sys = vs_sys_new(dir);
	va_start(ap, path);
	for (const char *p = path; p; p = va_arg(ap, const char *))
		temp_write(sys, p, va_arg(ap, const char *));
	va_end(ap);
	return sys;
}

void temp_write(const VsSys *sys, const char *path, const char *contents)
{
	g_autofree char *full = vs_sys_path(sys, path);
	g_autofree char *parent = g_path_get_dirname(full);

	assert_int_equal(g_mkdir_with_parents(parent, 0755), 0);
	assert_true(g_file_set_contents(full, contents, -1, NULL));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void temp_root_free(VsSys *sys)
{
	assert_int_equal(nftw(sys->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
	vs_sys_free(sys);
}
