/* Inventory differences between snapshots; see changes.h. */
#include "config.h"

#include "core/changes.h"

#include <string.h>
#include "util/digest.h"
#include "util/units.h"

static void change_free(VsChange *c)
{
	g_free(c->domain);
	g_free(c->message);
	g_free(c);
}

static void add(GPtrArray *out, const VsDomain *d, bool warning, char *message)
{
	VsChange *c = g_new0(VsChange, 1);

	c->domain = g_strdup(d->name);
	c->message = message;
	c->warning = warning;
	g_ptr_array_add(out, c);
}

/* The domains of @snap by UUID (borrowed); empty for no snapshot. A
 * thousand guests make a linear search per guest the costliest part. */
static GHashTable *by_uuid(const VsSnapshot *snap)
{
	GHashTable *table = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; snap && i < snap->domains->len; i++) {
		VsDomain *d = g_ptr_array_index(snap->domains, i);
		g_hash_table_insert(table, d->uuid, d);
	}
	return table;
}

static guint threads_found(const VsDomain *d)
{
	guint n = 0;

	for (guint i = 0; d->vcpus && i < d->vcpus->len; i++)
		n += g_array_index(d->vcpus, VsVcpu, i).thread.tid > 0;
	return n;
}

static void compare(GPtrArray *out, const VsDomain *o, const VsDomain *n)
{
	if (o->state != n->state)
		add(out, n, false, g_strdup_printf("state %s -> %s", vs_domain_state_name(o->state),
						   vs_domain_state_name(n->state)));
	if (o->pid && n->pid && (o->pid != n->pid || o->pid_start_time != n->pid_start_time))
		add(out, n, false, g_strdup_printf("QEMU process changed: PID %d -> %d", o->pid, n->pid));
	if (o->vcpus_current != n->vcpus_current)
		add(out, n, false, g_strdup_printf("vCPUs %u -> %u (of %u)", o->vcpus_current,
						   n->vcpus_current, n->vcpus_max));
	if (n->threads_problem && g_strcmp0(o->threads_problem, n->threads_problem) != 0)
		add(out, n, true, g_strdup_printf("vCPU threads: %s", n->threads_problem));
	if (!n->threads_problem && o->threads_problem)
		add(out, n, false, g_strdup("vCPU threads consistent again"));
	if (g_strcmp0(o->vsched_class, n->vsched_class) != 0)
		add(out, n, false, g_strdup_printf("class %s -> %s", o->vsched_class ? o->vsched_class : "(none)",
						   n->vsched_class ? n->vsched_class : "(none)"));
}

GPtrArray *vs_changes_between(const VsSnapshot *old, const VsSnapshot *new)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)change_free);
	g_autoptr(GHashTable) old_domains = by_uuid(old);
	g_autoptr(GHashTable) new_domains = by_uuid(new);

	for (guint i = 0; i < new->domains->len; i++) {
		const VsDomain *n = g_ptr_array_index(new->domains, i);
		const VsDomain *o = g_hash_table_lookup(old_domains, n->uuid);
		g_autofree char *mem = NULL;

		if (o) {
			compare(out, o, n);
			continue;
		}
		mem = vs_format_size(n->mem_current);
		if (n->pid)
			add(out, n, n->threads_problem != NULL,
			    g_strdup_printf("appeared: %s, %u/%u vCPUs (%u threads found), %s, QEMU PID %d%s%s",
					    vs_domain_state_name(n->state), n->vcpus_current, n->vcpus_max,
					    threads_found(n), mem, n->pid,
					    n->threads_problem ? "; " : "",
					    n->threads_problem ? n->threads_problem : ""));
		else
			add(out, n, false, g_strdup_printf("appeared: %s, %u/%u vCPUs, %s",
							   vs_domain_state_name(n->state), n->vcpus_current,
							   n->vcpus_max, mem));
	}
	for (guint i = 0; old && i < old->domains->len; i++) {
		const VsDomain *o = g_ptr_array_index(old->domains, i);
		if (!g_hash_table_contains(new_domains, o->uuid))
			add(out, o, false, g_strdup("vanished: libvirt no longer knows it"));
	}
	return out;
}

uint64_t vs_changes_threads_hash(const VsSnapshot *snap)
{
	uint64_t h = 0;

	for (guint i = 0; i < snap->domains->len; i++) {
		const VsDomain *dom = g_ptr_array_index(snap->domains, i);
		const GArray *lists[] = { dom->emulator_threads, dom->io_threads };

		if (dom->pid <= 0)
			continue;
		/* The UUID as the 36 characters of its text, 8 at a time. */
		for (size_t k = 0; k < sizeof(dom->uuid); k += 8) {
			uint64_t w = 0;

			memcpy(&w, dom->uuid + k, MIN(sizeof(w), sizeof(dom->uuid) - k));
			h = vs_digest_mix(h, w);
		}
		h = vs_digest_mix(h, (uint64_t)dom->pid);
		for (guint j = 0; dom->vcpus && j < dom->vcpus->len; j++) {
			const VsVcpu *v = &g_array_index(dom->vcpus, VsVcpu, j);

			if (v->online && v->thread.tid > 0) {
				h = vs_digest_mix(h, ((uint64_t)v->index << 32) | (uint32_t)v->thread.tid);
				h = vs_digest_mix(h, v->thread.start_time);
			}
		}
		/* Kinds and ends apart, so that a thread moving from one list
		 * to the other, or to the next guest, changes the digest. */
		for (size_t l = 0; l < G_N_ELEMENTS(lists); l++) {
			h = vs_digest_mix(h, UINT64_C(0xa5a5) + l);
			for (guint j = 0; lists[l] && j < lists[l]->len; j++)
				h = vs_digest_mix(h, (uint64_t)(uint32_t)g_array_index(lists[l], VsThread, j).tid);
		}
		h = vs_digest_mix(h, UINT64_C(0x5a5a));
	}
	return h;
}
