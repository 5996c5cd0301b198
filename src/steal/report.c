/* The steal report's memory management and the libvirt cross-check; see
 * report.h. */
#include "config.h"

#include "steal/report.h"

#include <string.h>

const char *vs_steal_check_name(VsStealCheck check)
{
	switch (check) {
	case VS_STEAL_CHECK_AGREE:
		return "agree";
	case VS_STEAL_CHECK_DISAGREE:
		return "disagree";
	case VS_STEAL_CHECK_UNAVAILABLE:
		break;
	}
	return "unavailable";
}

VsStealCheck vs_steal_check_libvirt(const VsStealPoint *w)
{
	uint64_t diff, allowed;

	if (w->libvirt_wall_ns == 0)
		return VS_STEAL_CHECK_UNAVAILABLE;
	diff = w->libvirt_delay_ns > w->libvirt_ours_ns ? w->libvirt_delay_ns - w->libvirt_ours_ns
							: w->libvirt_ours_ns - w->libvirt_delay_ns;
	allowed = MAX((uint64_t)((double)w->libvirt_wall_ns * VS_STEAL_CHECK_TOLERANCE),
		      (uint64_t)VS_STEAL_CHECK_MIN_NS);
	return diff <= allowed ? VS_STEAL_CHECK_AGREE : VS_STEAL_CHECK_DISAGREE;
}

VsStealGuestReport *vs_steal_guest_report_new(const char *uuid, const char *name)
{
	VsStealGuestReport *g = g_new0(VsStealGuestReport, 1);

	g_strlcpy(g->uuid, uuid, sizeof(g->uuid));
	g->name = g_strdup(name);
	g->vcpus = g_array_new(FALSE, TRUE, sizeof(VsStealVcpuReport));
	g->guest_verdict = vs_steal_guest_verdict_name(VS_STEAL_GUEST_UNAVAILABLE);
	return g;
}

void vs_steal_guest_report_free(VsStealGuestReport *g)
{
	if (!g)
		return;
	g_free(g->name);
	g_array_unref(g->vcpus);
	g_free(g->guest_view);
	g_free(g->agent_problem);
	if (g->guest_cpus)
		g_array_unref(g->guest_cpus);
	g_free(g->alert_condition);
	g_free(g);
}

VsStealReport *vs_steal_report_new(void)
{
	VsStealReport *r = g_new0(VsStealReport, 1);

	r->source = "schedstat";
	r->guests = g_ptr_array_new_with_free_func((GDestroyNotify)vs_steal_guest_report_free);
	return r;
}

void vs_steal_report_free(VsStealReport *r)
{
	if (!r)
		return;
	g_ptr_array_unref(r->guests);
	g_free(r->source_why);
	g_free(r);
}

const VsStealGuestReport *vs_steal_report_find(const VsStealReport *r, const char *ref)
{
	for (guint i = 0; i < r->guests->len; i++) {
		const VsStealGuestReport *g = g_ptr_array_index(r->guests, i);

		if (g_ascii_strcasecmp(g->uuid, ref) == 0 || g_strcmp0(g->name, ref) == 0)
			return g;
	}
	return NULL;
}
