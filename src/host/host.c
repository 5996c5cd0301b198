/* The host model as a whole: vs_host_collect() gathers topology, memory,
 * pressure and cgroup layout through the sys layer, vs_host_refresh()
 * re-reads what changes every tick, vs_host_free() releases everything.
 * Also holds the small file helpers (host-private.h) that every reader of
 * src/host/ uses, so that they all name the failing file the same way. */
#include "config.h"

#include "host/host.h"
#include "host/host-private.h"
#include "util/error.h"

#include <errno.h>
#include <stdarg.h>

int vs_host_file_error(GError **error, const VsSys *sys, const char *path, int r)
{
	g_autofree char *full = vs_sys_path(sys, path);

	g_set_error(error, VS_ERROR, r == -ENOENT ? VS_ERROR_NOT_FOUND : VS_ERROR_SYSTEM,
		    "%s: %s", full, g_strerror(-r));
	return r;
}

int vs_host_file_invalid(GError **error, const VsSys *sys, const char *path,
			 const char *fmt, ...)
{
	g_autofree char *full = vs_sys_path(sys, path);
	g_autofree char *reason = NULL;
	va_list ap;

	va_start(ap, fmt);
	reason = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "%s: %s", full, reason);
	return -EINVAL;
}

int vs_host_read_int(const VsSys *sys, const char *path, int64_t *ret_value,
		     GError **error)
{
	g_autofree char *line = NULL;
	gint64 v;
	int r = vs_sys_read_line(sys, path, &line);

	if (r == -ENOENT)
		return r;
	if (r < 0)
		return vs_host_file_error(error, sys, path, r);
	if (!g_ascii_string_to_signed(line, 10, G_MININT64, G_MAXINT64, &v, NULL))
		return vs_host_file_invalid(error, sys, path, "\"%s\" is not a number", line);
	*ret_value = v;
	return 0;
}

int vs_host_read_cpuset(const VsSys *sys, const char *path, VsCpuSet **ret_set,
			GError **error)
{
	g_autofree char *line = NULL;
	g_autoptr(GError) parse_error = NULL;
	VsCpuSet *set;
	int r = vs_sys_read_line(sys, path, &line);

	if (r == -ENOENT)
		return r;
	if (r < 0)
		return vs_host_file_error(error, sys, path, r);
	set = vs_cpuset_parse(line, &parse_error);
	if (!set)
		return vs_host_file_invalid(error, sys, path, "%s", parse_error->message);
	*ret_set = set;
	return 0;
}

/* Reads memory and pressure into the given places; all or nothing. */
static int read_tick_state(const VsSys *sys, VsMemInfo *ret_mem, VsPsi *ret_psi_memory,
			   VsPsi *ret_psi_cpu, GError **error)
{
	VsMemInfo mem;
	VsPsi psi_memory, psi_cpu;
	int r;

	r = vs_meminfo_read(sys, &mem, error);
	if (r < 0)
		return r;
	r = vs_psi_read(sys, "memory", &psi_memory, error);
	if (r < 0)
		return r;
	r = vs_psi_read(sys, "cpu", &psi_cpu, error);
	if (r < 0)
		return r;
	*ret_mem = mem;
	*ret_psi_memory = psi_memory;
	*ret_psi_cpu = psi_cpu;
	return 0;
}

VsHost *vs_host_collect(const VsSys *sys, GError **error)
{
	g_autoptr(VsHost) host = g_new0(VsHost, 1);

	if (vs_topology_read(sys, &host->topology, error) < 0)
		return NULL;
	if (read_tick_state(sys, &host->mem, &host->psi_memory, &host->psi_cpu, error) < 0)
		return NULL;
	if (vs_cgroup_discover(sys, &host->cgroup, error) < 0)
		return NULL;
	return g_steal_pointer(&host);
}

int vs_host_refresh(VsHost *host, const VsSys *sys, GError **error)
{
	return read_tick_state(sys, &host->mem, &host->psi_memory, &host->psi_cpu, error);
}

void vs_host_free(VsHost *host)
{
	if (!host)
		return;
	vs_topology_clear(&host->topology);
	vs_cgroup_info_clear(&host->cgroup);
	vs_host_caps_clear(&host->caps);
	g_free(host);
}
