/* Snapshot ownership and lookup; see snapshot.h. */
#include "config.h"

#include "core/snapshot.h"

#include <string.h>

VsSnapshot *vs_snapshot_new(uint64_t tick, int64_t mono_us, int64_t wall_us,
			    const VsHost *host, GPtrArray *domains, bool virt_connected)
{
	VsSnapshot *snap = g_new0(VsSnapshot, 1);

	snap->tick = tick;
	snap->mono_us = mono_us;
	snap->wall_us = wall_us;
	snap->host = host;
	snap->domains = domains ? domains
				: g_ptr_array_new_with_free_func((GDestroyNotify)vs_domain_free);
	snap->virt_connected = virt_connected;
	return snap;
}

void vs_snapshot_free(VsSnapshot *snap)
{
	if (!snap)
		return;
	g_ptr_array_unref(snap->domains);
	g_free(snap);
}

const VsDomain *vs_snapshot_find_domain(const VsSnapshot *snap, const char *ref)
{
	guint64 id;
	bool is_id = g_ascii_string_to_unsigned(ref, 10, 1, G_MAXINT, &id, NULL);

	for (guint i = 0; i < snap->domains->len; i++) {
		const VsDomain *d = g_ptr_array_index(snap->domains, i);
		if (is_id && d->id == (int)id)
			return d;
	}
	for (guint i = 0; i < snap->domains->len; i++) {
		const VsDomain *d = g_ptr_array_index(snap->domains, i);
		if (g_ascii_strcasecmp(d->uuid, ref) == 0)
			return d;
	}
	for (guint i = 0; i < snap->domains->len; i++) {
		const VsDomain *d = g_ptr_array_index(snap->domains, i);
		if (strcmp(d->name, ref) == 0)
			return d;
	}
	return NULL;
}
