/* Metrics of the guests as the last tick collected them: how many in each
 * state, their vCPUs and the CPU time libvirt counts for each vCPU. */
#include "config.h"

#include "metrics/metrics.h"
#include "metrics/writer.h"

#include <libvirt/libvirt.h>

void vs_metrics_guests_write(const VsMetricsInput *in, GString *out)
{
	const VsSnapshot *snap = in->snapshot;
	g_autoptr(GHashTable) states = g_hash_table_new(g_str_hash, g_str_equal);
	guint n_running = 0;

	vs_metrics_writer_family(out, "vsched_guests", VS_METRICS_GAUGE,
				 "Guests (libvirt domains) by state, as of the last tick.");
	/* Running and shut off are always there, so a dashboard has a series. */
	g_hash_table_insert(states, (gpointer)vs_domain_state_name(VIR_DOMAIN_RUNNING),
			    GUINT_TO_POINTER(0));
	g_hash_table_insert(states, (gpointer)vs_domain_state_name(VIR_DOMAIN_SHUTOFF),
			    GUINT_TO_POINTER(0));
	for (guint i = 0; snap && i < snap->domains->len; i++) {
		const VsDomain *dom = g_ptr_array_index(snap->domains, i);
		const char *state = vs_domain_state_name(dom->state);
		guint n = GPOINTER_TO_UINT(g_hash_table_lookup(states, state));

		g_hash_table_insert(states, (gpointer)state, GUINT_TO_POINTER(n + 1));
		n_running += dom->pid > 0;
	}
	{
		g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(states),
						    (GCompareFunc)g_strcmp0);

		for (GList *l = keys; l; l = l->next) {
			const char *labels[] = { "state", l->data, NULL };

			vs_metrics_writer_sample(out, "vsched_guests", labels,
						 GPOINTER_TO_UINT(g_hash_table_lookup(states, l->data)));
		}
	}
	if (!snap || n_running == 0)
		return;

	vs_metrics_writer_family(out, "vsched_guest_vcpus", VS_METRICS_GAUGE,
				 "vCPUs online in a running guest.");
	for (guint i = 0; i < snap->domains->len; i++) {
		const VsDomain *dom = g_ptr_array_index(snap->domains, i);
		const char *labels[] = { "domain", dom->name, "uuid", dom->uuid, NULL };

		if (dom->pid > 0)
			vs_metrics_writer_sample(out, "vsched_guest_vcpus", labels, dom->vcpus_current);
	}
	vs_metrics_writer_family(out, "vsched_vcpu_run_seconds_total", VS_METRICS_COUNTER,
				 "CPU time a vCPU ran, as libvirt counts it (vcpu.N.time).");
	for (guint i = 0; i < snap->domains->len; i++) {
		const VsDomain *dom = g_ptr_array_index(snap->domains, i);

		for (guint j = 0; dom->pid > 0 && dom->vcpus && j < dom->vcpus->len; j++) {
			const VsVcpu *v = &g_array_index(dom->vcpus, VsVcpu, j);
			char index[16];
			const char *labels[] = { "domain", dom->name, "vcpu", index, NULL };

			if (!v->online || !v->has_stats)
				continue;
			g_snprintf(index, sizeof(index), "%u", v->index);
			vs_metrics_writer_sample(out, "vsched_vcpu_run_seconds_total", labels,
						 (double)v->time_ns / 1e9);
		}
	}
}
