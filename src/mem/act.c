/* The balloon actuator; see act.h. */
#include "config.h"

#include "mem/act.h"

#include <errno.h>
#include <stdarg.h>
#include <syslog.h>

#include "sched/act.h"
#include "util/units.h"
#include "virt/balloon.h"

typedef struct {
	int id;                /* libvirt id of the run this record is about */
	VsMemFollow follow;
	bool probed;           /* balloon device read for this run */
	char *last_error;      /* the last refusal reported, so it is said once */
} Guest;

struct VsMemAct {
	VsVirt *virt;
	GHashTable *guests;    /* UUID -> Guest */
};

static void guest_free(gpointer data)
{
	Guest *g = data;

	vs_mem_follow_clear(&g->follow);
	g_free(g->last_error);
	g_free(g);
}

static void add(GPtrArray *events, int priority, const char *domain, const char *format, ...)
	G_GNUC_PRINTF(4, 5);

static void add(GPtrArray *events, int priority, const char *domain, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vs_act_event_addv(events, priority, domain, format, ap);
	va_end(ap);
}

VsMemAct *vs_mem_act_new(VsVirt *virt)
{
	VsMemAct *act = g_new0(VsMemAct, 1);

	act->virt = virt;
	act->guests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, guest_free);
	return act;
}

void vs_mem_act_free(VsMemAct *act)
{
	if (!act)
		return;
	g_hash_table_unref(act->guests);
	g_free(act);
}

/* Active in libvirt (running or paused): it has a live balloon. */
static bool active(const VsDomain *dom)
{
	return dom->id >= 0;
}

/* Reads the balloon device of a newly running guest; marks it when there is
 * none and, when @acting, gives it a statistics period when it has none. */
static void probe(VsMemAct *act, const VsDomain *dom, Guest *g, bool acting, int period_s,
		  GPtrArray *events)
{
	g_autoptr(GError) error = NULL;
	VsBalloonDevice dev = { 0 };
	int r = vs_virt_balloon_device(act->virt, dom->uuid, &dev, &error);

	if (r == -ENOENT)
		return;
	if (r < 0) {
		add(events, LOG_WARNING, dom->name, "cannot read the balloon device: %s; "
		    "asking the balloon all the same", error->message);
		g->probed = true;
		return;
	}
	g->probed = true;
	if (!dev.present) {
		g_autofree char *size = vs_format_size(dom->mem_current);

		vs_mem_follow_no_device(&g->follow, "the guest has no balloon device "
					"(<memballoon model='none'/>)");
		add(events, LOG_WARNING, dom->name, "%s: vsched leaves its memory at %s",
		    g->follow.why, size);
	} else if (dev.stats_period == 0 && acting && period_s > 0) {
		r = vs_virt_set_balloon_period(act->virt, dom->uuid, period_s, &error);
		if (r == 0)
			add(events, LOG_INFO, dom->name, "balloon statistics enabled every %d s "
			    "(the guest had none): the memory planner needs them", period_s);
		else if (r != -ENOENT)
			add(events, LOG_WARNING, dom->name, "cannot enable balloon statistics: %s; "
			    "its memory is planned without them", error->message);
	}
	vs_balloon_device_clear(&dev);
}

void vs_mem_act_observe(VsMemAct *act, const VsSnapshot *snap, bool acting, int stats_period_s,
			GPtrArray *events)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTableIter iter;
	gpointer key;

	for (guint i = 0; i < snap->domains->len; i++) {
		const VsDomain *dom = g_ptr_array_index(snap->domains, i);
		Guest *g = g_hash_table_lookup(act->guests, dom->uuid);
		int changed;

		if (!active(dom))
			continue;
		if (g && g->id != dom->id) {
			/* Restarted: a new run, a new balloon. */
			g_hash_table_remove(act->guests, dom->uuid);
			g = NULL;
		}
		if (!g) {
			g = g_new0(Guest, 1);
			g->id = dom->id;
			g->follow.last_current = dom->mem_current;
			g_hash_table_insert(act->guests, g_strdup(dom->uuid), g);
		}
		g_hash_table_add(seen, (gpointer)dom->uuid);
		if (!g->probed)
			probe(act, dom, g, acting, stats_period_s, events);
		changed = vs_mem_follow_observe(&g->follow, dom->mem_current, snap->mono_us);
		if (changed == VS_MEM_FOLLOW_STUCK) {
			add(events, LOG_WARNING, dom->name, "does not follow its balloon target: %s; "
			    "not asked again for %d s unless its balloon moves", g->follow.why,
			    (int)(VS_MEM_FOLLOW_RETRY_US / G_USEC_PER_SEC));
		} else if (changed == VS_MEM_FOLLOW_CONVERGED) {
			g_autofree char *size = vs_format_size(dom->mem_current);
			double s = (double)(snap->mono_us - g->follow.asked_us) / 1e6;

			add(events, LOG_INFO, dom->name, "balloon at its target %s (%.1f s after the "
			    "request)", size, s);
		} else if (changed == VS_MEM_FOLLOW_MOVING) {
			add(events, LOG_NOTICE, dom->name, "its balloon moves again: vsched asks it "
			    "again");
		}
	}
	g_hash_table_iter_init(&iter, act->guests);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		if (!g_hash_table_contains(seen, key))
			g_hash_table_iter_remove(&iter);
}

const VsMemFollow *vs_mem_act_follow(const VsMemAct *act, const char *uuid)
{
	const Guest *g = g_hash_table_lookup(act->guests, uuid);

	return g ? &g->follow : NULL;
}

bool vs_mem_act_may_ask(const VsMemAct *act, const VsDomain *dom, uint64_t target,
			int64_t now_us)
{
	const Guest *g = g_hash_table_lookup(act->guests, dom->uuid);

	if (!g || g->id != dom->id)
		return false;
	if ((g->follow.state == VS_MEM_FOLLOW_MOVING ||
	     g->follow.state == VS_MEM_FOLLOW_CONVERGED) && g->follow.target == target)
		return false;
	return vs_mem_follow_may_ask(&g->follow, target, dom->mem_current, now_us);
}

int vs_mem_act_set(VsMemAct *act, const VsDomain *dom, uint64_t target, const char *reason,
		   int64_t now_us, GPtrArray *events)
{
	Guest *g = g_hash_table_lookup(act->guests, dom->uuid);
	g_autoptr(GError) error = NULL;
	g_autofree char *from = NULL;
	g_autofree char *to = NULL;
	int r;

	if (!vs_mem_act_may_ask(act, dom, target, now_us))
		return 1;
	r = vs_virt_set_balloon(act->virt, dom->uuid, target, &error);
	if (r == -ENOENT) {
		add(events, LOG_DEBUG, dom->name, "gone before its balloon target was set");
		g_hash_table_remove(act->guests, dom->uuid);
		return r;
	}
	if (r == -ENOTCONN)
		return r;
	if (r < 0) {
		if (g_strcmp0(g->last_error, error->message) != 0) {
			add(events, LOG_WARNING, dom->name, "libvirt refused the balloon target: %s; "
			    "not asked again for %d s", error->message,
			    (int)(VS_MEM_FOLLOW_RETRY_US / G_USEC_PER_SEC));
			g_free(g->last_error);
			g->last_error = g_strdup(error->message);
		}
		vs_mem_follow_failed(&g->follow, error->message, now_us);
		return -EIO;
	}
	g_clear_pointer(&g->last_error, g_free);
	from = vs_format_size(dom->mem_current);
	to = vs_format_size(target);
	add(events, LOG_INFO, dom->name, "balloon %s -> %s: %s", from, to, reason);
	vs_mem_follow_asked(&g->follow, target, dom->mem_current, now_us);
	return 0;
}
