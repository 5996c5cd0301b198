/* cgroup discovery: which cgroup hierarchies are mounted, from
 * /proc/self/mountinfo. A "cgroup2" mount is the unified (v2) hierarchy;
 * each "cgroup" mount is a v1 hierarchy whose controllers are named in its
 * super options ("rw,cpu,cpuacct"). The layout is V1 (only v1 hierarchies
 * with controllers), HYBRID (those plus a v2 mount, as on Debian hosts with
 * /sys/fs/cgroup/unified), V2 (only the v2 hierarchy; a controller-less v1
 * "name=systemd" mount beside it does not count) or NONE. The controllers
 * of the v2 hierarchy come from its root's cgroup.controllers, read through
 * the sys layer (mountinfo holds host paths; the root prefix is added).
 * The mount point of the v1 hierarchy with the cpu controller is kept too,
 * for readers of v1 cpu.stat files. */
#include "config.h"

#include "host/host.h"
#include "host/host-private.h"

#include <errno.h>
#include <string.h>

#define MOUNTINFO_PATH "/proc/self/mountinfo"

/* The controllers a v1 hierarchy can carry; other super options ("rw",
 * "name=systemd", "clone_children", ...) are not controllers. */
static const char *const v1_controller_names[] = {
	"blkio", "cpu", "cpuacct", "cpuset", "debug", "devices", "freezer",
	"hugetlb", "memory", "misc", "net_cls", "net_prio", "perf_event",
	"pids", "rdma",
};

const char *vs_cgroup_mode_name(VsCgroupMode mode)
{
	switch (mode) {
	case VS_CGROUP_NONE:
		return "none";
	case VS_CGROUP_V1:
		return "v1";
	case VS_CGROUP_HYBRID:
		return "hybrid";
	case VS_CGROUP_V2:
		return "v2";
	}
	return "unknown";
}

bool vs_cgroup_has_controller(char *const *controllers, const char *controller)
{
	for (size_t i = 0; controllers && controllers[i]; i++) {
		if (strcmp(controllers[i], controller) == 0)
			return true;
	}
	return false;
}

/* Undoes mountinfo's octal escapes ("\040" for a space) of a path. */
static char *unescape(const char *s)
{
	GString *out = g_string_sized_new(strlen(s));

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			int c = (s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0');

			g_string_append_c(out, (char)c);
			s += 4;
		} else {
			g_string_append_c(out, *s++);
		}
	}
	return g_string_free(out, FALSE);
}

/* Adds the controllers named in v1 super options to @v1 (a NULL-terminated
 * array; each controller once);
 * returns how many the options name. */
static guint add_v1_controllers(GPtrArray *v1, const char *super_options)
{
	g_auto(GStrv) options = g_strsplit(super_options, ",", -1);
	guint n = 0;

	for (size_t i = 0; options[i]; i++) {
		for (size_t c = 0; c < G_N_ELEMENTS(v1_controller_names); c++) {
			if (strcmp(options[i], v1_controller_names[c]) != 0)
				continue;
			n++;
			if (!vs_cgroup_has_controller((char **)v1->pdata, options[i]))
				g_ptr_array_add(v1, g_strdup(options[i]));
		}
	}
	return n;
}

/* Reads the v2 root's cgroup.controllers ("cpuset cpu io memory ..."). */
static int read_v2_controllers(const VsSys *sys, const char *mount, char ***ret,
			       GError **error)
{
	g_autofree char *path = g_build_filename(mount, "cgroup.controllers", NULL);
	g_autofree char *line = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new_null_terminated(8, g_free, TRUE);
	g_auto(GStrv) words = NULL;
	int r = vs_sys_read_line(sys, path, &line);

	if (r < 0)
		return vs_host_file_error(error, sys, path, r);
	words = g_strsplit_set(line, " \t\n", -1);
	for (size_t i = 0; words[i]; i++) {
		if (words[i][0] != '\0')
			g_ptr_array_add(names, g_strdup(words[i]));
	}
	*ret = (char **)g_ptr_array_free(g_steal_pointer(&names), FALSE);
	return 0;
}

int vs_cgroup_discover(const VsSys *sys, VsCgroupInfo *ret, GError **error)
{
	g_autofree char *text = NULL;
	g_autofree char *v2_mount = NULL;
	g_autofree char *v1_cpu_mount = NULL;
	g_auto(GStrv) lines = NULL;
	g_auto(GStrv) v2_controllers = NULL;
	g_autoptr(GPtrArray) v1 = g_ptr_array_new_null_terminated(8, g_free, TRUE);
	bool v2_root_seen = false, v1_seen = false;
	VsCgroupMode mode;
	int r;

	r = vs_sys_read(sys, MOUNTINFO_PATH, &text);
	if (r < 0)
		return vs_host_file_error(error, sys, MOUNTINFO_PATH, r);

	lines = g_strsplit(text, "\n", -1);
	for (size_t n = 0; lines[n]; n++) {
		g_auto(GStrv) f = NULL;
		guint nf, sep = 0;

		if (lines[n][0] == '\0')
			continue;
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
		f = g_strsplit(lines[n], " ", -1);
		nf = g_strv_length(f);
		for (guint i = 6; i < nf; i++) {
			if (strcmp(f[i], "-") == 0) {
				sep = i;
				break;
			}
		}
		if (sep == 0 || sep + 3 >= nf || f[4][0] != '/')
			return vs_host_file_invalid(error, sys, MOUNTINFO_PATH,
						    "line %zu is not a mountinfo line: \"%s\"",
						    n + 1, lines[n]);
		if (strcmp(f[sep + 1], "cgroup2") == 0) {
			bool is_root = strcmp(f[3], "/") == 0;

			/* The first mount of the hierarchy's root wins over bind
			 * mounts of a subtree. */
			if (!v2_mount || (is_root && !v2_root_seen)) {
				g_free(v2_mount);
				v2_mount = unescape(f[4]);
				v2_root_seen = is_root;
			}
		} else if (strcmp(f[sep + 1], "cgroup") == 0) {
			g_auto(GStrv) opts = g_strsplit(f[sep + 3], ",", -1);

			if (add_v1_controllers(v1, f[sep + 3]) > 0)
				v1_seen = true;
			/* The first mount of the cpu hierarchy's root. */
			if (!v1_cpu_mount && strcmp(f[3], "/") == 0 &&
			    g_strv_contains((const char *const *)opts, "cpu"))
				v1_cpu_mount = unescape(f[4]);
		}
	}

	if (v2_mount) {
		r = read_v2_controllers(sys, v2_mount, &v2_controllers, error);
		if (r < 0)
			return r;
		mode = v1_seen ? VS_CGROUP_HYBRID : VS_CGROUP_V2;
	} else {
		v2_controllers = g_new0(char *, 1);
		mode = v1_seen ? VS_CGROUP_V1 : VS_CGROUP_NONE;
	}

	ret->mode = mode;
	ret->v2_mount = g_steal_pointer(&v2_mount);
	ret->v2_controllers = g_steal_pointer(&v2_controllers);
	ret->v1_controllers = (char **)g_ptr_array_free(g_steal_pointer(&v1), FALSE);
	ret->v1_cpu_mount = g_steal_pointer(&v1_cpu_mount);
	return 0;
}

void vs_cgroup_info_clear(VsCgroupInfo *info)
{
	g_clear_pointer(&info->v2_mount, g_free);
	g_clear_pointer(&info->v2_controllers, g_strfreev);
	g_clear_pointer(&info->v1_controllers, g_strfreev);
	g_clear_pointer(&info->v1_cpu_mount, g_free);
	info->mode = VS_CGROUP_NONE;
}
