/* vCPU count changes through libvirt; see vcpus.h. */
#include "config.h"

#include "virt/vcpus.h"

#include <errno.h>
#include <string.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "util/error.h"
#include "virt/conn.h"

struct VsVirtDomainRef {
	virDomainPtr dom;
};

/* Sets @error from the calling thread's last libvirt error; returns -EIO. */
static int fail(GError **error, const char *what)
{
	const virError *e = virGetLastError();

	g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "libvirt: %s: %s", what,
		    e && e->message ? e->message : "unknown error");
	return -EIO;
}

int vs_virt_domain_ref(VsVirt *virt, const char *uuid, VsVirtDomainRef **ret_ref,
		       GError **error)
{
	virConnectPtr conn = vs_conn_get(virt);
	virDomainPtr dom;
	VsVirtDomainRef *ref;

	if (!conn) {
		g_set_error(error, VS_ERROR, VS_ERROR_UNAVAILABLE, "libvirt: not connected");
		return -ENOTCONN;
	}
	dom = virDomainLookupByUUIDString(conn, uuid);
	if (!dom) {
		const virError *e = virGetLastError();

		if (e && e->code == VIR_ERR_NO_DOMAIN) {
			g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND, "libvirt: no domain %s",
				    uuid);
			return -ENOENT;
		}
		return vs_conn_fail(virt, error);
	}
	ref = g_new0(VsVirtDomainRef, 1);
	ref->dom = dom;
	*ret_ref = ref;
	return 0;
}

void vs_virt_domain_ref_free(VsVirtDomainRef *ref)
{
	if (!ref)
		return;
	virDomainFree(ref->dom);
	g_free(ref);
}

/* Sets @error from a failed call that changes vCPUs; -ETIMEDOUT when
 * libvirt gave up waiting for the guest's answer to an unplug (an
 * OPERATION_TIMEOUT "vcpu unplug request timed out"), which the guest may
 * still carry out, else -EIO. */
static int set_failed(GError **error, const char *what)
{
	const virError *e = virGetLastError();
	bool timed_out = e && (e->code == VIR_ERR_OPERATION_TIMEOUT ||
			       (e->message && strstr(e->message, "timed out")));

	fail(error, what);
	return timed_out ? -ETIMEDOUT : -EIO;
}

int vs_virt_set_vcpus_live(VsVirtDomainRef *ref, guint n, GError **error)
{
	if (virDomainSetVcpusFlags(ref->dom, n, VIR_DOMAIN_AFFECT_LIVE) == 0)
		return 0;
	return set_failed(error, "setting vCPUs");
}

int vs_virt_set_vcpu_live(VsVirtDomainRef *ref, guint vcpu, bool enable, GError **error)
{
	char map[16];
	g_autofree char *what = NULL;

	g_snprintf(map, sizeof(map), "%u", vcpu);
	if (virDomainSetVcpu(ref->dom, map, enable ? 1 : 0, VIR_DOMAIN_AFFECT_LIVE) == 0)
		return 0;
	what = g_strdup_printf("%s vCPU %u", enable ? "plugging" : "unplugging", vcpu);
	return set_failed(error, what);
}

void vs_guest_vcpus_free(VsGuestVcpus *g)
{
	if (!g)
		return;
	vs_cpuset_free(g->all);
	vs_cpuset_free(g->online);
	vs_cpuset_free(g->offlinable);
	g_free(g);
}

/* Parses the cpumap parameter @name of @params; an absent one is empty. */
static int cpumap_param(virTypedParameterPtr params, int n, const char *name, VsCpuSet **ret,
			GError **error)
{
	const char *text = NULL;
	VsCpuSet *set;

	if (virTypedParamsGetString(params, n, name, &text) < 0)
		return fail(error, "reading the agent's answer");
	if (!text || !*text) {
		*ret = vs_cpuset_new();
		return 0;
	}
	set = vs_cpuset_parse(text, error);
	if (!set) {
		g_prefix_error(error, "guest agent: %s=\"%s\": ", name, text);
		return -EINVAL;
	}
	*ret = set;
	return 0;
}

int vs_virt_guest_vcpus(VsVirtDomainRef *ref, VsGuestVcpus **ret_vcpus, GError **error)
{
	virTypedParameterPtr params = NULL;
	unsigned int n = 0;
	g_autoptr(VsGuestVcpus) g = g_new0(VsGuestVcpus, 1);
	int r;

	if (virDomainGetGuestVcpus(ref->dom, &params, &n, 0) < 0)
		return fail(error, "asking the guest agent for its CPUs");
	r = cpumap_param(params, (int)n, "vcpus", &g->all, error);
	if (r == 0)
		r = cpumap_param(params, (int)n, "online", &g->online, error);
	if (r == 0)
		r = cpumap_param(params, (int)n, "offlinable", &g->offlinable, error);
	virTypedParamsFree(params, (int)n);
	if (r < 0)
		return r;
	*ret_vcpus = g_steal_pointer(&g);
	return 0;
}

int vs_virt_set_guest_vcpus(VsVirtDomainRef *ref, const VsCpuSet *cpus, bool online,
			    GError **error)
{
	g_autofree char *map = vs_cpuset_format(cpus);

	if (virDomainSetGuestVcpus(ref->dom, map, online ? 1 : 0, 0) < 0)
		return fail(error, online ? "onlining guest CPUs" : "offlining guest CPUs");
	return 0;
}

VsCpuSet *vs_guest_vcpus_pick(const VsGuestVcpus *g, guint target, bool *ret_online)
{
	VsCpuSet *pick = vs_cpuset_new();
	guint online = vs_cpuset_count(g->online);

	if (target > online) {
		g_autoptr(VsCpuSet) offline = vs_cpuset_copy(g->all);
		guint need = target - online;

		vs_cpuset_subtract(offline, g->online);
		for (int c = vs_cpuset_next(offline, 0); c >= 0 && need > 0;
		     c = vs_cpuset_next(offline, (guint)c + 1), need--)
			vs_cpuset_add(pick, (guint)c);
		*ret_online = true;
	} else if (target < online) {
		g_autoptr(VsCpuSet) can = vs_cpuset_copy(g->online);
		g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint));
		guint need = online - target;

		vs_cpuset_intersect(can, g->offlinable);
		for (int c = vs_cpuset_next(can, 0); c >= 0; c = vs_cpuset_next(can, (guint)c + 1)) {
			guint id = (guint)c;
			g_array_append_val(ids, id);
		}
		for (guint i = ids->len; i > 0 && need > 0; i--, need--)
			vs_cpuset_add(pick, g_array_index(ids, guint, i - 1));
		*ret_online = false;
	} else {
		*ret_online = true;
	}
	return pick;
}
