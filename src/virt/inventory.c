/* The inventory: one VsDomain per libvirt domain, collected each tick.
 *
 * Per domain: identity, state, vCPU and memory sizes, the vsched metadata;
 * then for running domains the QEMU process and threads (threads.c); then
 * one bulk statistics call for all domains (stats.c), matched by UUID.
 * libvirt's list is fetched fresh every time, so nothing from a previous
 * connection survives a reconnect. */
#include "config.h"

#include <errno.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>

#include "util/cputime.h"
#include "util/error.h"
#include "virt/conn.h"
#include "virt/stats.h"
#include "virt/threads.h"
#include "virt/virt.h"

#define KIB 1024u

#define STATS_WANTED (VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | \
		      VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU)

static void metadata_start(GMarkupParseContext *ctx, const char *element,
			   const char **names, const char **values,
			   gpointer user_data, GError **error)
{
	char **ret_class = user_data;

	if (g_slist_length((GSList *)g_markup_parse_context_get_element_stack(ctx)) != 1)
		return;
	for (guint i = 0; names[i]; i++)
		if (strcmp(names[i], "class") == 0)
			*ret_class = g_strdup(values[i]);
}

/* The class attribute of the metadata's root element; NULL when it has
 * none or the XML does not parse. */
static char *metadata_class(const char *xml)
{
	static const GMarkupParser parser = { .start_element = metadata_start };
	GMarkupParseContext *ctx;
	char *class = NULL;
	bool ok;

	ctx = g_markup_parse_context_new(&parser, 0, &class, NULL);
	ok = g_markup_parse_context_parse(ctx, xml, -1, NULL) &&
	     g_markup_parse_context_end_parse(ctx, NULL);
	g_markup_parse_context_free(ctx);
	if (!ok)
		g_clear_pointer(&class, g_free);
	return class;
}

/* Marks which vCPUs libvirt reports online. */
static void mark_online(virDomainPtr d, bool active, VsDomain *dom)
{
	guint max = dom->vcpus->len;
	g_autofree virVcpuInfo *info = g_new0(virVcpuInfo, MAX(max, 1));
	int n = active ? virDomainGetVcpus(d, info, (int)max, NULL, 0) : -1;

	if (n < 0) {
		/* Inactive, or no per-vCPU info: the first @vcpus_current. */
		virResetLastError();
		for (guint i = 0; i < max; i++)
			g_array_index(dom->vcpus, VsVcpu, i).online = i < dom->vcpus_current;
		return;
	}
	for (int i = 0; i < n; i++)
		if (info[i].number < max)
			g_array_index(dom->vcpus, VsVcpu, info[i].number).online = true;
}

/* Collects one domain. Returns 0 with a new domain, 1 when the domain has
 * vanished, or -errno with @error set. */
static int collect_one(VsVirt *virt, virDomainPtr d, VsDomain **ret_dom, GError **error)
{
	g_autoptr(VsDomain) dom = NULL;
	char uuid[VIR_UUID_STRING_BUFLEN];
	virDomainInfo info;
	unsigned int flags;
	int state, reason, active, cur, max;
	char *metadata;

	if (virDomainGetUUIDString(d, uuid) < 0 ||
	    virDomainGetState(d, &state, &reason, 0) < 0 ||
	    virDomainGetInfo(d, &info) < 0 ||
	    (active = virDomainIsActive(d)) < 0)
		goto fail;

	flags = active ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG;
	cur = virDomainGetVcpusFlags(d, flags);
	max = cur < 0 ? -1 : virDomainGetVcpusFlags(d, flags | VIR_DOMAIN_VCPU_MAXIMUM);
	if (max < 0) {
		if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN)
			goto fail;
		virResetLastError();
		cur = max = info.nrVirtCpu;
	}
	max = CLAMP(max, 0, VS_CPU_MAX + 1);
	cur = CLAMP(cur, 0, max);

	dom = vs_domain_new(virDomainGetName(d), (guint)max);
	g_strlcpy(dom->uuid, uuid, sizeof(dom->uuid));
	dom->id = active ? (int)virDomainGetID(d) : -1;
	dom->state = state;
	dom->state_reason = reason;
	dom->vcpus_current = (guint)cur;
	dom->vcpus_max = (guint)max;
	dom->mem_current = (uint64_t)info.memory * KIB;
	dom->mem_max = (uint64_t)info.maxMem * KIB;
	mark_online(d, active, dom);

	metadata = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, VS_METADATA_NS, 0);
	if (metadata) {
		dom->metadata_xml = metadata;
		dom->vsched_class = metadata_class(metadata);
	} else if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN_METADATA) {
		virResetLastError();
	} else {
		goto fail;
	}

	*ret_dom = g_steal_pointer(&dom);
	return 0;

fail:
	if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN) {
		virResetLastError();
		return 1;
	}
	return vs_conn_fail(virt, error);
}

/* Finds the QEMU threads of the running domains of @domains (through the
 * cache, which re-reads only what changed). */
static void collect_threads(VsVirt *virt, GPtrArray *domains)
{
	VsThreadsCache *cache = vs_conn_threads_cache(virt);

	for (guint i = 0; i < domains->len; i++) {
		VsDomain *dom = g_ptr_array_index(domains, i);

		if (dom->id >= 0)
			vs_threads_cache_collect(cache, vs_conn_sys(virt), vs_conn_status_dir(virt),
						 dom);
	}
	vs_threads_cache_sweep(cache);
}

/* Applies one bulk statistics call to @domains; @ret_parse_us gets the CPU
 * time spent parsing it. */
static int collect_stats(VsVirt *virt, GPtrArray *domains, int64_t *ret_parse_us,
			 GError **error)
{
	int64_t t0;
	g_autoptr(GHashTable) by_uuid = g_hash_table_new(g_str_hash, g_str_equal);
	virDomainStatsRecordPtr *records = NULL;
	int n;

	n = virConnectGetAllDomainStats(vs_conn_get(virt), STATS_WANTED, &records, 0);
	if (n < 0) {
		if (virGetLastErrorCode() == VIR_ERR_NO_SUPPORT) {
			virResetLastError();
			return 0;
		}
		return vs_conn_fail(virt, error);
	}
	t0 = vs_thread_cpu_us();
	for (guint i = 0; i < domains->len; i++) {
		VsDomain *dom = g_ptr_array_index(domains, i);
		g_hash_table_insert(by_uuid, dom->uuid, dom);
	}
	for (int i = 0; i < n; i++) {
		char uuid[VIR_UUID_STRING_BUFLEN];
		VsDomain *dom;

		if (virDomainGetUUIDString(records[i]->dom, uuid) < 0)
			continue;
		dom = g_hash_table_lookup(by_uuid, uuid);
		if (dom)
			vs_stats_parse(dom, records[i]->params, records[i]->nparams);
	}
	virDomainStatsRecordListFree(records);
	*ret_parse_us = vs_thread_cpu_us() - t0;
	return 0;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
	const VsDomain *x = *(VsDomain *const *)a, *y = *(VsDomain *const *)b;

	return strcmp(x->name, y->name);
}

int vs_virt_collect(VsVirt *virt, GPtrArray **ret_domains, GError **error)
{
	return vs_virt_collect_costed(virt, ret_domains, NULL, error);
}

int vs_virt_collect_costed(VsVirt *virt, GPtrArray **ret_domains, VsVirtCost *ret_cost,
			   GError **error)
{
	g_autoptr(GPtrArray) domains = NULL;
	virConnectPtr conn = vs_conn_get(virt);
	virDomainPtr *list = NULL;
	VsVirtCost cost = { 0 };
	int64_t t0;
	int n, r = 0;

	if (!conn) {
		g_set_error(error, VS_ERROR, VS_ERROR_UNAVAILABLE,
			    "not connected to libvirt (%s)", vs_virt_uri(virt));
		return -ENOTCONN;
	}
	n = virConnectListAllDomains(conn, &list, 0);
	if (n < 0)
		return vs_conn_fail(virt, error);

	domains = g_ptr_array_new_with_free_func((GDestroyNotify)vs_domain_free);
	for (int i = 0; i < n; i++) {
		VsDomain *dom = NULL;

		if (r >= 0) {
			r = collect_one(virt, list[i], &dom, error);
			if (r == 0)
				g_ptr_array_add(domains, dom);
		}
		virDomainFree(list[i]);
	}
	free(list);
	if (r < 0)
		return r;
	/* After every libvirt call of the listing, so that the cost of each
	 * side can be told apart; a guest stopping in between is found gone
	 * in /proc, as it would be in the middle of the listing. */
	t0 = vs_thread_cpu_us();
	collect_threads(virt, domains);
	cost.threads_us = vs_thread_cpu_us() - t0;
	r = collect_stats(virt, domains, &cost.stats_us, error);
	if (r < 0)
		return r;
	g_ptr_array_sort(domains, compare_names);
	*ret_domains = g_steal_pointer(&domains);
	if (ret_cost)
		*ret_cost = cost;
	return 0;
}
