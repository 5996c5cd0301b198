/* The cgroup v2 writer (see cgroup-write.h): every value vsched sets in a
 * guest's cgroups goes through vs_cgroup_set(), which reads the previous
 * value, writes, reads back and compares in the file's normal form, and
 * names the file and the errno when anything fails.
 *
 * Why direct file access and not libcgroup: libcgroup 2.0 (Debian 12 has
 * 2.0.2) keeps the API of its v1 days. Its headers address a group by name
 * across the hierarchies cached once by cgroup_init() (init.h: "there is
 * currently no way to refresh this cache"), queue values with
 * cgroup_set_value_string() and write them all in cgroup_modify_cgroup(),
 * whose failure is an ECG* code plus cgroup_get_last_errno() without the
 * file it concerns; nothing reads a value back. 2.0 did teach its tools
 * (cgset, cgget, cgcreate) to find a cgroup2 mount (libcgroup issue #12),
 * so "v1 only" is no longer true of it, but the version-aware calls
 * (cgroup_get_controller_version, cgroup_cgxset) arrived only in 3.0, and
 * it knows nothing of threaded cgroups (cgroup.threads, cgroup.type) or
 * cpuset partitions, which libvirt's vcpuN cgroups and deadline vCPUs
 * need. Writing the files of a known directory through the sys layer gives
 * per-file errors, read-back and fixture-tree tests for a few lines.
 *
 * A VsCgroupFile holds one file open so that a caller acting on the same
 * value tick after tick (the CPU actuator) reads and writes it without
 * opening it again: on this kind of host the open and close cost several
 * times the read and the write. */
#include "config.h"

#include "host/cgroup-write.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

typedef enum {
	KIND_STRING,
	KIND_INT,       /* cpu.weight, cpu.max.burst, ... */
	KIND_MAX,       /* cpu.max: "QUOTA|max [PERIOD]" */
	KIND_LIST,      /* cpuset.cpus, cpuset.mems: "0-3,8" */
	KIND_PARTITION, /* cpuset.cpus.partition: "member", "root", "isolated", "root invalid (...)" */
} ValueKind;

static ValueKind value_kind(const char *file)
{
	static const char *const ints[] = {
		"cpu.weight", "cpu.weight.nice", "cpu.max.burst", "cpu.idle",
	};
	static const char *const lists[] = {
		"cpuset.cpus", "cpuset.mems", "cpuset.cpus.exclusive",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(ints); i++)
		if (strcmp(file, ints[i]) == 0)
			return KIND_INT;
	for (size_t i = 0; i < G_N_ELEMENTS(lists); i++)
		if (strcmp(file, lists[i]) == 0)
			return KIND_LIST;
	if (strcmp(file, "cpu.max") == 0)
		return KIND_MAX;
	if (strcmp(file, "cpuset.cpus.partition") == 0)
		return KIND_PARTITION;
	return KIND_STRING;
}

/* A copy of @s without surrounding white space. */
static char *stripped(const char *s)
{
	return g_strstrip(g_strdup(s));
}

/* The span of @s without surrounding white space (as g_strstrip() cuts
 * it): its start, and its length in *@ret_len. */
static const char *trimmed(const char *s, size_t *ret_len)
{
	size_t n;

	while (g_ascii_isspace(*s))
		s++;
	n = strlen(s);
	while (n && g_ascii_isspace(s[n - 1]))
		n--;
	*ret_len = n;
	return s;
}

/* Parsed in place, without a copy of the whole value: the actuator
 * compares every value it writes with what it reads back. */
static bool parse_int(const char *s, int64_t *ret)
{
	char t[64];
	size_t n;
	const char *p = trimmed(s, &n);
	gint64 v;

	if (n >= sizeof(t))
		return false;
	memcpy(t, p, n);
	t[n] = '\0';
	if (!g_ascii_string_to_signed(t, 10, G_MININT64, G_MAXINT64, &v, NULL))
		return false;
	*ret = v;
	return true;
}

/* cpu.max: quota (-1 for "max") and period (0 when absent). */
static bool parse_max(const char *s, int64_t *ret_quota, int64_t *ret_period)
{
	g_autofree char *t = stripped(s);
	g_auto(GStrv) words = g_strsplit_set(t, " \t\n", -1);
	guint n = 0;
	int64_t quota, period = 0;

	/* Drop the empty words that runs of blanks leave. */
	for (guint i = 0; words[i]; i++)
		if (words[i][0] != '\0')
			words[n++] = words[i];
		else
			g_free(words[i]);
	words[n] = NULL;
	if (n < 1 || n > 2)
		return false;
	if (strcmp(words[0], "max") == 0)
		quota = -1;
	else if (!parse_int(words[0], &quota) || quota < 0)
		return false;
	if (n == 2 && (!parse_int(words[1], &period) || period <= 0))
		return false;
	*ret_quota = quota;
	*ret_period = period;
	return true;
}

/* The state word of cpuset.cpus.partition ("root" of "root invalid
 * (...)"), and whether the kernel marks it invalid; the reason, when the
 * kernel gives one, in *ret_reason (may be NULL; caller frees). */
static char *partition_state(const char *s, bool *ret_invalid, char **ret_reason)
{
	g_autofree char *t = stripped(s);
	const char *space = strchr(t, ' ');
	char *state = g_strndup(t, space ? (size_t)(space - t) : strlen(t));
	const char *rest = space ? space + 1 : "";

	*ret_invalid = g_str_has_prefix(rest, "invalid");
	if (ret_reason) {
		const char *open = strchr(rest, '(');
		const char *close = strrchr(rest, ')');

		*ret_reason = open && close && close > open
			? g_strndup(open + 1, (size_t)(close - open - 1)) : NULL;
	}
	return state;
}

bool vs_cgroup_value_matches(const char *file, const char *written, const char *read)
{
	switch (value_kind(file)) {
	case KIND_INT: {
		int64_t a, b;

		return parse_int(written, &a) && parse_int(read, &b) && a == b;
	}
	case KIND_MAX: {
		int64_t wq, wp, rq, rp;

		if (!parse_max(written, &wq, &wp) || !parse_max(read, &rq, &rp))
			return false;
		return wq == rq && (wp == 0 || wp == rp);
	}
	case KIND_LIST: {
		g_autoptr(VsCpuSet) a = vs_cpuset_parse(written, NULL);
		g_autoptr(VsCpuSet) b = vs_cpuset_parse(read, NULL);

		return a && b && vs_cpuset_equal(a, b);
	}
	case KIND_PARTITION: {
		bool w_invalid, r_invalid;
		g_autofree char *w = partition_state(written, &w_invalid, NULL);
		g_autofree char *r = partition_state(read, &r_invalid, NULL);

		return !w_invalid && !r_invalid && strcmp(w, r) == 0;
	}
	case KIND_STRING: {
		size_t na, nb;
		const char *a = trimmed(written, &na);
		const char *b = trimmed(read, &nb);

		return na == nb && memcmp(a, b, na) == 0;
	}
	}
	return false;
}

static int system_error(GError **error, const VsSys *sys, const char *path, int r,
			const char *what, const char *value)
{
	g_autofree char *full = vs_sys_path(sys, path);

	if (value)
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "cannot %s %s to %s: %s",
			    what, value, full, g_strerror(-r));
	else
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "cannot %s %s: %s",
			    what, full, g_strerror(-r));
	return r;
}

/* Writes @previous back after a failed read-back; a sentence for the error
 * message saying how that went. */
static char *put_back(const VsSys *sys, const char *path, const char *file, const char *previous)
{
	g_autofree char *value = NULL;
	bool invalid;
	int r;

	/* A partition's state word is what can be written ("root invalid
	 * (...)" cannot). */
	if (value_kind(file) == KIND_PARTITION)
		value = partition_state(previous, &invalid, NULL);
	else
		value = g_strdup(previous);
	r = vs_sys_write(sys, path, value);
	if (r < 0)
		return g_strdup_printf("; writing back the previous value \"%s\" failed too: %s",
				       value, g_strerror(-r));
	return g_strdup_printf("; the previous value \"%s\" was written back", value);
}

/* The most a cgroup file vsched sets can hold (a CPU list of a large host
 * fits many times). */
#define FD_READ_LIMIT (64 * 1024)

/* A file whose kernel side shows one value in one record (the files of
 * value_kind() and v1's cpu.shares): a read shorter than the buffer has
 * all of it, so no second read is needed to see the end. A file of many
 * records (cgroup.threads) can return a short read before its end. */
static bool one_record(const char *file)
{
	return value_kind(file) != KIND_STRING || strcmp(file, "cpu.shares") == 0;
}

/* Reads the whole of @fd from offset 0 (a cgroup file shows its current
 * value at every read from 0), trailing white space stripped; one read
 * when @one_rec (see one_record()) and it comes back short. */
static int fd_read_line(int fd, bool one_rec, char **ret_line)
{
	g_autoptr(GString) s = g_string_sized_new(64);
	char chunk[1024];

	for (;;) {
		ssize_t n = pread(fd, chunk, sizeof(chunk), (off_t)s->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		if (s->len + (size_t)n > FD_READ_LIMIT)
			return -EFBIG;
		g_string_append_len(s, chunk, n);
		if (one_rec && (size_t)n < sizeof(chunk))
			break;
	}
	if (memchr(s->str, '\0', s->len))
		return -EINVAL;
	*ret_line = g_strchomp(g_string_free(g_steal_pointer(&s), FALSE));
	return 0;
}

/* Replaces the contents of @fd by @value in one write. A cgroup file
 * takes the write whole; the truncation is for the plain files of test
 * trees (@regular), which a kernel file does not need. 0 or -errno. */
static int fd_write(int fd, bool regular, const char *value)
{
	size_t len = strlen(value);
	ssize_t n;

	/* A file that refuses the truncation (/dev/null, procfs) shows its
	 * real answer at the write. */
	if (regular && ftruncate(fd, 0) < 0)
		errno = 0;
	do
		n = pwrite(fd, value, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == ESPIPE) {
		/* Some kernel files refuse positioned writes but not write(2). */
		if (lseek(fd, 0, SEEK_SET) < 0)
			errno = 0;
		do
			n = write(fd, value, len);
		while (n < 0 && errno == EINTR);
	}
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

struct VsCgroupFile {
	const VsSys *sys;
	char *path;     /* DIR/FILE, as given (without the sys prefix) */
	const char *file; /* its last component, inside @path */
	int fd;
	bool regular;   /* a plain file of a test tree: truncated before a write */
	bool one_rec;   /* see one_record() */
};

int vs_cgroup_file_open(const VsSys *sys, const char *dir, const char *file,
			VsCgroupFile **ret_file, GError **error)
{
	g_autofree char *path = g_build_filename(dir, file, NULL);
	VsCgroupFile *f;
	int fd;

	fd = vs_sys_open(sys, path, O_RDWR);
	if (fd == -ENOENT)
		return system_error(error, sys, path, fd, "read", NULL);
	if (fd < 0)
		return system_error(error, sys, path, fd, "open", NULL);
	f = g_new0(VsCgroupFile, 1);
	f->sys = sys;
	f->path = g_steal_pointer(&path);
	f->file = f->path + strlen(f->path) - strlen(file);
	f->fd = fd;
	/* Under a root prefix the files are plain ones of a test tree; the
	 * real ones are kernfs files (which report S_IFREG too). */
	f->regular = !vs_sys_is_real(sys);
	f->one_rec = one_record(file);
	*ret_file = f;
	return 0;
}

void vs_cgroup_file_free(VsCgroupFile *f)
{
	if (!f)
		return;
	close(f->fd);
	g_free(f->path);
	g_free(f);
}

int vs_cgroup_file_read(VsCgroupFile *f, char **ret_value, GError **error)
{
	int r = fd_read_line(f->fd, f->one_rec, ret_value);

	return r < 0 ? system_error(error, f->sys, f->path, r, "read", NULL) : 0;
}

int vs_cgroup_file_write(VsCgroupFile *f, const char *value, const char *previous,
			 GError **error)
{
	g_autofree char *now = NULL;
	int r;

	r = fd_write(f->fd, f->regular, value);
	if (r < 0)
		return system_error(error, f->sys, f->path, r, "write", value);
	r = fd_read_line(f->fd, f->one_rec, &now);
	if (r < 0)
		return system_error(error, f->sys, f->path, r, "read back", NULL);

	if (!vs_cgroup_value_matches(f->file, value, now)) {
		g_autofree char *full = vs_sys_path(f->sys, f->path);
		g_autofree char *after = put_back(f->sys, f->path, f->file, previous);
		g_autofree char *reason = NULL;
		bool invalid = false;
		g_autofree char *state = value_kind(f->file) == KIND_PARTITION
			? partition_state(now, &invalid, &reason) : NULL;

		if (invalid) {
			g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM,
				    "%s: the kernel made an invalid %s partition: %s (it reads \"%s\")%s",
				    full, state, reason ? reason : "no reason given", now, after);
			return -EINVAL;
		}
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM,
			    "wrote %s to %s but it reads back \"%s\"%s", value, full, now, after);
		return -EIO;
	}
	return 0;
}

int vs_cgroup_set(const VsSys *sys, const char *dir, const char *file, const char *value,
		  char **ret_previous, GError **error)
{
	g_autoptr(VsCgroupFile) f = NULL;
	g_autofree char *previous = NULL;
	int r;

	/* One descriptor for the read, the write and the read-back: opening
	 * a cgroup file costs more than reading or writing it. */
	r = vs_cgroup_file_open(sys, dir, file, &f, NULL);
	if (r < 0) {
		g_autofree char *path = g_build_filename(dir, file, NULL);

		/* Not writable: the write is what is refused. */
		return r == -ENOENT ? system_error(error, sys, path, r, "read", NULL)
				    : system_error(error, sys, path, r, "write", value);
	}
	r = vs_cgroup_file_read(f, &previous, error);
	if (r < 0)
		return r;
	r = vs_cgroup_file_write(f, value, previous, error);
	if (r < 0)
		return r;
	if (ret_previous)
		*ret_previous = g_steal_pointer(&previous);
	return 0;
}

int vs_cgroup_available(const VsCgroupInfo *cg, const char *controller, GError **error)
{
	if (cg->v2_mount && vs_cgroup_has_controller(cg->v2_controllers, controller))
		return 0;
	g_set_error(error, VS_ERROR, VS_ERROR_UNAVAILABLE,
		    "cgroup v2 has no %s controller on this host", controller);
	return -EOPNOTSUPP;
}

/* Whether the blank-separated words of @line (cgroup.subtree_control)
 * include @word. */
static bool has_word(const char *line, const char *word)
{
	g_auto(GStrv) words = g_strsplit_set(line, " \t\n", -1);

	return g_strv_contains((const char *const *)words, word);
}

/* The path of @dir relative to the v2 mount ("machine/x" for
 * "/sys/fs/cgroup/machine/x"), "" for the mount itself, NULL when @dir is
 * not inside it. Points into @dir. */
static const char *inside_mount(const VsCgroupInfo *cg, const char *dir)
{
	size_t n;

	if (!cg->v2_mount)
		return NULL;
	n = strlen(cg->v2_mount);
	while (n > 0 && cg->v2_mount[n - 1] == '/')
		n--;
	if (strncmp(dir, cg->v2_mount, n) != 0)
		return NULL;
	if (dir[n] == '\0')
		return dir + n;
	if (dir[n] != '/')
		return NULL;
	while (dir[n] == '/')
		n++;
	return dir + n;
}

/* Enables @controller in @parent/cgroup.subtree_control unless it is
 * there already. */
static int enable_in(const VsSys *sys, const char *parent, const char *controller,
		     GError **error)
{
	g_autofree char *path = g_build_filename(parent, "cgroup.subtree_control", NULL);
	g_autofree char *line = NULL, *now = NULL;
	g_autofree char *value = g_strconcat("+", controller, NULL);
	int r;

	r = vs_sys_read_line(sys, path, &line);
	if (r < 0)
		return system_error(error, sys, path, r, "read", NULL);
	if (has_word(line, controller))
		return 0;
	r = vs_sys_write(sys, path, value);
	if (r < 0)
		return system_error(error, sys, path, r, "write", value);
	r = vs_sys_read_line(sys, path, &now);
	if (r < 0)
		return system_error(error, sys, path, r, "read back", NULL);
	if (!has_word(now, controller)) {
		g_autofree char *full = vs_sys_path(sys, path);

		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM,
			    "wrote %s to %s but it reads back \"%s\"", value, full, now);
		return -EIO;
	}
	return 0;
}

int vs_cgroup_enable(const VsSys *sys, const VsCgroupInfo *cg, const char *dir,
		     const char *controller, GError **error)
{
	const char *rel;
	g_auto(GStrv) parts = NULL;
	g_autofree char *parent = NULL;
	int r;

	r = vs_cgroup_available(cg, controller, error);
	if (r < 0)
		return r;
	rel = inside_mount(cg, dir);
	if (!rel) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
			    "%s is not inside the cgroup v2 mount %s", dir, cg->v2_mount);
		return -EINVAL;
	}
	/* Every ancestor from the root down to @dir's parent. */
	parts = g_strsplit(rel, "/", -1);
	parent = g_strdup(cg->v2_mount);
	for (guint i = 0; parts[i]; i++) {
		char *next;

		if (parts[i][0] == '\0')
			continue;
		r = enable_in(sys, parent, controller, error);
		if (r < 0)
			return r;
		next = g_build_filename(parent, parts[i], NULL);
		g_free(parent);
		parent = next;
	}
	return 0;
}

/* Availability, then the controller enabled where @dir lacks @file. */
static int prepare(const VsSys *sys, const VsCgroupInfo *cg, const char *dir,
		   const char *controller, const char *file, GError **error)
{
	g_autofree char *path = g_build_filename(dir, file, NULL);
	int r = vs_cgroup_available(cg, controller, error);

	if (r < 0 || vs_sys_exists(sys, path))
		return r;
	return vs_cgroup_enable(sys, cg, dir, controller, error);
}

static int range_error(GError **error, const char *dir, const char *file, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);

static int range_error(GError **error, const char *dir, const char *file, const char *fmt, ...)
{
	g_autofree char *why = NULL;
	va_list ap;

	va_start(ap, fmt);
	why = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "not writing %s/%s: %s", dir, file, why);
	return -ERANGE;
}

int vs_cgroup_set_weight(const VsSys *sys, const VsCgroupInfo *cg, const char *dir,
			 uint64_t weight, char **ret_previous, GError **error)
{
	g_autofree char *value = NULL;
	int r;

	r = vs_cgroup_available(cg, "cpu", error);
	if (r < 0)
		return r;
	if (weight < VS_CGROUP_WEIGHT_MIN || weight > VS_CGROUP_WEIGHT_MAX)
		return range_error(error, dir, "cpu.weight", "weight %" G_GUINT64_FORMAT
				   " is outside %d-%d", weight, VS_CGROUP_WEIGHT_MIN,
				   VS_CGROUP_WEIGHT_MAX);
	r = prepare(sys, cg, dir, "cpu", "cpu.weight", error);
	if (r < 0)
		return r;
	value = g_strdup_printf("%" G_GUINT64_FORMAT, weight);
	return vs_cgroup_set(sys, dir, "cpu.weight", value, ret_previous, error);
}

int vs_cgroup_limit_value(double limit_pct, char **ret_value)
{
	double quota;

	if (!isfinite(limit_pct) || limit_pct < 0)
		return -EINVAL;
	if (limit_pct == 0) {
		*ret_value = g_strdup_printf("max %d", VS_CGROUP_PERIOD_US);
		return 0;
	}
	quota = round(limit_pct / 100.0 * VS_CGROUP_PERIOD_US);
	if (quota < VS_CGROUP_QUOTA_MIN_US ||
	    quota > (double)VS_CGROUP_PERIOD_US * (VS_CPU_MAX + 1))
		return -ERANGE;
	*ret_value = g_strdup_printf("%.0f %d", quota, VS_CGROUP_PERIOD_US);
	return 0;
}

int vs_cgroup_set_limit(const VsSys *sys, const VsCgroupInfo *cg, const char *dir,
			double limit_pct, char **ret_previous, GError **error)
{
	g_autofree char *value = NULL;
	int r;

	r = vs_cgroup_available(cg, "cpu", error);
	if (r < 0)
		return r;
	r = vs_cgroup_limit_value(limit_pct, &value);
	if (r < 0)
		return range_error(error, dir, "cpu.max",
				   "a limit of %g%% of a CPU gives no quota between %d and %d µs per %d µs",
				   limit_pct, VS_CGROUP_QUOTA_MIN_US,
				   VS_CGROUP_PERIOD_US * (VS_CPU_MAX + 1), VS_CGROUP_PERIOD_US);
	r = prepare(sys, cg, dir, "cpu", "cpu.max", error);
	if (r < 0)
		return r;
	return vs_cgroup_set(sys, dir, "cpu.max", value, ret_previous, error);
}

int vs_cgroup_set_burst(const VsSys *sys, const VsCgroupInfo *cg, const char *dir,
			uint64_t burst_us, char **ret_previous, GError **error)
{
	g_autofree char *value = NULL;
	int r;

	r = vs_cgroup_available(cg, "cpu", error);
	if (r < 0)
		return r;
	/* The kernel caps burst at the quota, itself at most VS_CPU_MAX + 1
	 * CPUs' worth of a period; anything above cannot be meant. */
	if (burst_us > (uint64_t)VS_CGROUP_PERIOD_US * (VS_CPU_MAX + 1))
		return range_error(error, dir, "cpu.max.burst", "a burst of %" G_GUINT64_FORMAT
				   " µs exceeds any quota", burst_us);
	r = prepare(sys, cg, dir, "cpu", "cpu.max.burst", error);
	if (r < 0)
		return r;
	value = g_strdup_printf("%" G_GUINT64_FORMAT, burst_us);
	return vs_cgroup_set(sys, dir, "cpu.max.burst", value, ret_previous, error);
}

static int set_list(const VsSys *sys, const VsCgroupInfo *cg, const char *dir,
		    const char *file, const VsCpuSet *set, char **ret_previous, GError **error)
{
	g_autofree char *value = vs_cpuset_format(set);
	int r;

	r = prepare(sys, cg, dir, "cpuset", file, error);
	if (r < 0)
		return r;
	/* A lone newline: an empty write(2) is not a write to every file
	 * system, and cpuset strips the blank. */
	return vs_cgroup_set(sys, dir, file, value[0] ? value : "\n", ret_previous, error);
}

int vs_cgroup_set_cpus(const VsSys *sys, const VsCgroupInfo *cg, const char *dir,
		       const VsCpuSet *cpus, char **ret_previous, GError **error)
{
	return set_list(sys, cg, dir, "cpuset.cpus", cpus, ret_previous, error);
}

int vs_cgroup_set_mems(const VsSys *sys, const VsCgroupInfo *cg, const char *dir,
		       const VsCpuSet *nodes, char **ret_previous, GError **error)
{
	return set_list(sys, cg, dir, "cpuset.mems", nodes, ret_previous, error);
}

int vs_cgroup_set_partition(const VsSys *sys, const VsCgroupInfo *cg, const char *dir,
			    const char *mode, char **ret_previous, GError **error)
{
	g_autofree char *previous = NULL;
	bool invalid;
	int r;

	if (strcmp(mode, "root") != 0 && strcmp(mode, "isolated") != 0 &&
	    strcmp(mode, "member") != 0) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
			    "not writing %s/cpuset.cpus.partition: \"%s\" is not root, isolated or member",
			    dir, mode);
		return -EINVAL;
	}
	r = prepare(sys, cg, dir, "cpuset", "cpuset.cpus.partition", error);
	if (r < 0)
		return r;
	r = vs_cgroup_set(sys, dir, "cpuset.cpus.partition", mode, &previous, error);
	if (r < 0)
		return r;
	if (ret_previous)
		*ret_previous = partition_state(previous, &invalid, NULL);
	return 0;
}

int vs_cgroup_attach_thread(const VsSys *sys, const char *dir, pid_t tid, GError **error)
{
	g_autofree char *path = g_build_filename(dir, "cgroup.threads", NULL);
	g_autofree char *value = g_strdup_printf("%d", (int)tid);
	g_autofree char *now = NULL;
	g_auto(GStrv) tids = NULL;
	int r;

	r = vs_sys_write(sys, path, value);
	if (r < 0)
		return system_error(error, sys, path, r, "write", value);
	r = vs_sys_read(sys, path, &now);
	if (r < 0)
		return system_error(error, sys, path, r, "read back", NULL);
	tids = g_strsplit_set(now, " \t\n", -1);
	if (!g_strv_contains((const char *const *)tids, value)) {
		g_autofree char *full = vs_sys_path(sys, path);

		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM,
			    "wrote %s to %s but the thread is not listed there", value, full);
		return -EIO;
	}
	return 0;
}

/* Whether @name is a libvirt per-thread cgroup: "emulator" or "vcpuN". */
static bool is_thread_group(const char *name)
{
	const char *p;

	if (strcmp(name, "emulator") == 0)
		return true;
	if (!g_str_has_prefix(name, "vcpu") || name[4] == '\0')
		return false;
	for (p = name + 4; *p; p++)
		if (!g_ascii_isdigit(*p))
			return false;
	return true;
}

/* Drops the last component of the absolute path @path in place when it is
 * @pred-true; returns whether it did. */
static bool drop_last(char *path, bool (*pred)(const char *name))
{
	char *slash = strrchr(path, '/');

	if (!slash || !pred(slash + 1))
		return false;
	*slash = '\0';
	return true;
}

static bool is_libvirt_nest(const char *name)
{
	return strcmp(name, "libvirt") == 0;
}

char *vs_cgroup_domain_dir(const VsDomain *dom, const VsCgroupInfo *cg)
{
	g_autofree char *path = NULL;
	size_t n;

	if (!dom->cgroup_path || dom->cgroup_path[0] != '/' || !cg->v2_mount)
		return NULL;
	/* With the cpu controller on v1 the inventory holds the v1 path. */
	if (vs_cgroup_has_controller(cg->v1_controllers, "cpu"))
		return NULL;
	path = g_strdup(dom->cgroup_path);
	n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	drop_last(path, is_thread_group);
	drop_last(path, is_libvirt_nest);
	if (path[0] == '\0' || strcmp(path, "/") == 0)
		return NULL;
	return g_build_filename(cg->v2_mount, path, NULL);
}

char *vs_cgroup_vcpu_dir(const char *domain_dir, guint vcpu)
{
	g_autofree char *name = g_strdup_printf("vcpu%u", vcpu);

	if (g_str_has_suffix(domain_dir, ".scope"))
		return g_build_filename(domain_dir, "libvirt", name, NULL);
	return g_build_filename(domain_dir, name, NULL);
}
