/* The sys layer; see sys.h. */
#include "config.h"

#include "host/sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define READ_LIMIT (16u << 20)

static int real_setaffinity(pid_t tid, const cpu_set_t *set, size_t setsize)
{
	return sched_setaffinity(tid, setsize, set) < 0 ? -errno : 0;
}

static int real_getaffinity(pid_t tid, cpu_set_t *set, size_t setsize)
{
	return sched_getaffinity(tid, setsize, set) < 0 ? -errno : 0;
}

static int real_setattr(pid_t tid, const VsSchedAttr *attr)
{
	return syscall(SYS_sched_setattr, tid, attr, 0) < 0 ? -errno : 0;
}

static int real_getattr(pid_t tid, VsSchedAttr *attr)
{
	return syscall(SYS_sched_getattr, tid, attr, sizeof(*attr), 0) < 0 ? -errno : 0;
}

static int real_prctl_sched_core(unsigned long cmd, pid_t pid, unsigned long type)
{
#ifndef PR_SCHED_CORE
#define PR_SCHED_CORE 62
#endif
	return prctl(PR_SCHED_CORE, cmd, (unsigned long)pid, type, 0UL) < 0 ? -errno : 0;
}

const VsSysOps vs_sys_real_ops = {
	.sched_setaffinity = real_setaffinity,
	.sched_getaffinity = real_getaffinity,
	.sched_setattr = real_setattr,
	.sched_getattr = real_getattr,
	.prctl_sched_core = real_prctl_sched_core,
};

VsSys *vs_sys_new(const char *root)
{
	VsSys *sys = g_new0(VsSys, 1);
	size_t n;

	sys->root = g_strdup(root ? root : "");
	/* "/tmp/fixture/" and "/tmp/fixture" mean the same root. */
	n = strlen(sys->root);
	while (n > 0 && sys->root[n - 1] == '/')
		sys->root[--n] = '\0';
	sys->ops = &vs_sys_real_ops;
	return sys;
}

void vs_sys_free(VsSys *sys)
{
	if (!sys)
		return;
	g_free(sys->root);
	g_free(sys);
}

bool vs_sys_is_real(const VsSys *sys)
{
	return sys->root[0] == '\0';
}

char *vs_sys_path(const VsSys *sys, const char *path)
{
	g_return_val_if_fail(path[0] == '/', NULL);
	return g_strconcat(sys->root, path, NULL);
}

int vs_sys_open(const VsSys *sys, const char *path, int flags)
{
	g_autofree char *full = vs_sys_path(sys, path);
	int fd = open(full, flags | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int vs_sys_read(const VsSys *sys, const char *path, char **ret_contents)
{
	int fd = vs_sys_open(sys, path, O_RDONLY);
	g_autoptr(GByteArray) buf = NULL;

	if (fd < 0)
		return fd;
	/* Grown as needed: callers keep what they read (a thread's comm in
	 * every snapshot), and most files are a few bytes. */
	buf = g_byte_array_new();
	for (;;) {
		guint8 chunk[4096];
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			int r = -errno;
			if (r == -EINTR)
				continue;
			close(fd);
			return r;
		}
		if (n == 0)
			break;
		if (buf->len + (size_t)n > READ_LIMIT) {
			close(fd);
			return -EFBIG;
		}
		g_byte_array_append(buf, chunk, (guint)n);
	}
	close(fd);
	g_byte_array_append(buf, (const guint8 *)"", 1);
	*ret_contents = (char *)g_byte_array_free(g_steal_pointer(&buf), FALSE);
	return 0;
}

int vs_sys_read_line(const VsSys *sys, const char *path, char **ret_line)
{
	char *s = NULL;
	int r = vs_sys_read(sys, path, &s);

	if (r < 0)
		return r;
	g_strchomp(s);
	*ret_line = s;
	return 0;
}

int vs_sys_read_u64(const VsSys *sys, const char *path, uint64_t *ret_value)
{
	g_autofree char *s = NULL;
	guint64 v;
	int r = vs_sys_read_line(sys, path, &s);

	if (r < 0)
		return r;
	if (!g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, &v, NULL))
		return -EINVAL;
	*ret_value = v;
	return 0;
}

int vs_sys_write(const VsSys *sys, const char *path, const char *value)
{
	/* O_TRUNC as a shell redirection does: proc, sys and cgroup files
	 * ignore it, and a fixture file then holds exactly what was written. */
	int fd = vs_sys_open(sys, path, O_WRONLY | O_TRUNC);
	size_t len = strlen(value);
	ssize_t n;
	int r = 0;

	if (fd < 0)
		return fd;
	n = write(fd, value, len);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != len)
		r = -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

int vs_sys_stat(const VsSys *sys, const char *path, struct stat *ret_stat)
{
	g_autofree char *full = vs_sys_path(sys, path);
	struct stat st;

	if (stat(full, &st) < 0)
		return -errno;
	*ret_stat = st;
	return 0;
}

bool vs_sys_exists(const VsSys *sys, const char *path)
{
	g_autofree char *full = vs_sys_path(sys, path);

	return access(full, F_OK) == 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vs_sys_list_dir(const VsSys *sys, const char *path, char ***ret_names)
{
	g_autofree char *full = vs_sys_path(sys, path);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	DIR *dir = opendir(full);
	struct dirent *de;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		g_ptr_array_add(names, g_strdup(de->d_name));
	}
	closedir(dir);
	g_ptr_array_sort(names, compare_names);
	g_ptr_array_add(names, NULL);
	*ret_names = (char **)g_ptr_array_free(g_steal_pointer(&names), FALSE);
	return 0;
}
