/* libvirt's event loop on a private GLib main context; see event.h.
 *
 * Each libvirt watch (fd) or timer is a record in a table keyed by its id,
 * with the GSource that implements it on the private context (none while
 * disabled). libvirt may add, update and remove them from any thread; the
 * table is under one mutex, and callbacks are called without it held, so
 * that they may call back into these functions. Free callbacks run from
 * an idle source on the event thread, never inside the remove call, as
 * libvirt requires. */
#include "config.h"

#include "virt/event.h"

#include <glib-unix.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdbool.h>

typedef struct {
	int id;
	bool is_timer;
	int fd;                        /* watch */
	int events;                    /* watch: virEventHandleType bits */
	int interval;                  /* timer: ms, -1 disabled, 0 every iteration */
	virEventHandleCallback handle_cb;
	virEventTimeoutCallback timer_cb;
	void *opaque;
	virFreeCallback ff;
	GSource *source;               /* NULL while disabled */
} Watch;

static GMutex lock;
static GHashTable *watches;            /* id → Watch */
static int next_id = 1;
static GMainContext *context;

static GIOCondition events_to_condition(int events)
{
	GIOCondition cond = 0;

	if (events & VIR_EVENT_HANDLE_READABLE)
		cond |= G_IO_IN;
	if (events & VIR_EVENT_HANDLE_WRITABLE)
		cond |= G_IO_OUT;
	if (events & VIR_EVENT_HANDLE_ERROR)
		cond |= G_IO_ERR;
	if (events & VIR_EVENT_HANDLE_HANGUP)
		cond |= G_IO_HUP;
	return cond;
}

static int condition_to_events(GIOCondition cond)
{
	int events = 0;

	if (cond & G_IO_IN)
		events |= VIR_EVENT_HANDLE_READABLE;
	if (cond & G_IO_OUT)
		events |= VIR_EVENT_HANDLE_WRITABLE;
	if (cond & G_IO_ERR)
		events |= VIR_EVENT_HANDLE_ERROR;
	if (cond & (G_IO_HUP | G_IO_NVAL))
		events |= VIR_EVENT_HANDLE_HANGUP;
	return events;
}

static gboolean dispatch_handle(gint fd, GIOCondition cond, gpointer data)
{
	int id = GPOINTER_TO_INT(data);
	virEventHandleCallback cb = NULL;
	void *opaque = NULL;
	Watch *w;

	g_mutex_lock(&lock);
	w = g_hash_table_lookup(watches, GINT_TO_POINTER(id));
	if (w) {
		cb = w->handle_cb;
		opaque = w->opaque;
	}
	g_mutex_unlock(&lock);
	if (cb)
		cb(id, fd, condition_to_events(cond), opaque);
	return G_SOURCE_CONTINUE;
}

static gboolean dispatch_timer(gpointer data)
{
	int id = GPOINTER_TO_INT(data);
	virEventTimeoutCallback cb = NULL;
	void *opaque = NULL;
	Watch *w;

	g_mutex_lock(&lock);
	w = g_hash_table_lookup(watches, GINT_TO_POINTER(id));
	if (w) {
		cb = w->timer_cb;
		opaque = w->opaque;
	}
	g_mutex_unlock(&lock);
	if (cb)
		cb(id, opaque);
	return G_SOURCE_CONTINUE;
}

static void stop_source(Watch *w)
{
	if (!w->source)
		return;
	g_source_destroy(w->source);
	g_clear_pointer(&w->source, g_source_unref);
}

/* (Re)creates the GSource of @w for its current events or interval. Under
 * the lock. */
static void arm(Watch *w)
{
	stop_source(w);
	if (w->is_timer) {
		if (w->interval < 0)
			return;
		w->source = w->interval == 0 ? g_idle_source_new()
					     : g_timeout_source_new((guint)w->interval);
		g_source_set_callback(w->source, dispatch_timer, GINT_TO_POINTER(w->id), NULL);
	} else {
		if (w->events == 0)
			return;
		w->source = g_unix_fd_source_new(w->fd, events_to_condition(w->events));
		g_source_set_callback(w->source, (GSourceFunc)(void (*)(void))dispatch_handle,
				      GINT_TO_POINTER(w->id), NULL);
	}
	g_source_attach(w->source, context);
}

static int add(Watch *w)
{
	int id;

	g_mutex_lock(&lock);
	id = w->id = next_id++;
	g_hash_table_insert(watches, GINT_TO_POINTER(id), w);
	arm(w);
	g_mutex_unlock(&lock);
	return id;
}

static gboolean run_free(gpointer data)
{
	Watch *w = data;

	w->ff(w->opaque);
	return G_SOURCE_REMOVE;
}

static int remove_watch(int id, bool is_timer)
{
	Watch *w;

	g_mutex_lock(&lock);
	w = g_hash_table_lookup(watches, GINT_TO_POINTER(id));
	if (!w || w->is_timer != is_timer) {
		g_mutex_unlock(&lock);
		return -1;
	}
	g_hash_table_steal(watches, GINT_TO_POINTER(id));
	stop_source(w);
	g_mutex_unlock(&lock);
	if (w->ff) {
		GSource *idle = g_idle_source_new();
		g_source_set_callback(idle, run_free, w, g_free);
		g_source_attach(idle, context);
		g_source_unref(idle);
	} else {
		g_free(w);
	}
	return 0;
}

static void update(int id, bool is_timer, int value)
{
	Watch *w;

	g_mutex_lock(&lock);
	w = g_hash_table_lookup(watches, GINT_TO_POINTER(id));
	if (w && w->is_timer == is_timer) {
		int *field = is_timer ? &w->interval : &w->events;
		if (*field != value) {
			*field = value;
			arm(w);
		}
	}
	g_mutex_unlock(&lock);
}

static int add_handle(int fd, int events, virEventHandleCallback cb, void *opaque,
		      virFreeCallback ff)
{
	Watch *w = g_new0(Watch, 1);

	w->fd = fd;
	w->events = events;
	w->handle_cb = cb;
	w->opaque = opaque;
	w->ff = ff;
	return add(w);
}

static void update_handle(int id, int events)
{
	update(id, false, events);
}

static int remove_handle(int id)
{
	return remove_watch(id, false);
}

static int add_timeout(int interval, virEventTimeoutCallback cb, void *opaque,
		       virFreeCallback ff)
{
	Watch *w = g_new0(Watch, 1);

	w->is_timer = true;
	w->interval = interval;
	w->timer_cb = cb;
	w->opaque = opaque;
	w->ff = ff;
	return add(w);
}

static void update_timeout(int id, int interval)
{
	update(id, true, interval);
}

static int remove_timeout(int id)
{
	return remove_watch(id, true);
}

static gpointer event_thread(gpointer data)
{
	for (;;)
		g_main_context_iteration(context, TRUE);
	return NULL;
}

static void quiet_error(void *data, virErrorPtr error)
{
	/* Errors reach callers as GError ("libvirt: <message>"). */
}

void vs_event_init(void)
{
	static gsize done;

	if (!g_once_init_enter(&done))
		return;
	virSetErrorFunc(NULL, quiet_error);
	virInitialize();
	context = g_main_context_new();
	watches = g_hash_table_new(g_direct_hash, g_direct_equal);
	virEventRegisterImpl(add_handle, update_handle, remove_handle,
			     add_timeout, update_timeout, remove_timeout);
	g_thread_unref(g_thread_new("vs-libvirt-ev", event_thread, NULL));
	g_once_init_leave(&done, 1);
}
