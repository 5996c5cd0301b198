/* The libvirt connection of a VsVirt: connect, events, loss and reconnect.
 *
 * libvirt runs its event loop in vsched's event thread (event.c). Every
 * libvirt callback copies what it needs into a message and queues it, as
 * an idle source, on the GLib main context that called vs_virt_start(); the
 * message is delivered there, where @event_cb runs and where every other
 * libvirt call is made.
 *
 * Messages reach the VsVirt through a refcounted link whose pointer to the
 * VsVirt is cleared by vs_virt_free(), so a message queued before the free
 * is dropped instead of touching freed memory. Close notifications carry
 * the generation of the connection they came from, so a late one cannot
 * drop a newer connection.
 *
 * On loss (close callback, or a call failing in a way that means the
 * connection is gone) the connection is closed, DISCONNECTED is emitted and
 * reconnection is tried from the main loop after 0.5 s, 1 s, 2 s, 4 s, then
 * every 8 s; CONNECTED is emitted on success. */
#include "config.h"

#include "virt/conn.h"

#include <errno.h>
#include <libvirt/virterror.h>

#include "util/error.h"
#include "virt/event.h"

#define DEFAULT_URI "qemu:///system"
#define DEFAULT_STATUS_DIR "/run/libvirt/qemu"
#define BACKOFF_FIRST_MS 500u
#define BACKOFF_MAX_MS 8000u
#define KEEPALIVE_INTERVAL_S 2
#define KEEPALIVE_COUNT 3u

typedef struct {
	VsVirt *virt;          /* NULL once the VsVirt is freed; owner thread only */
	GMainContext *context; /* where messages go (a reference); set before any callback */
} Link;

/* The opaque of one libvirt callback registration. */
typedef struct {
	Link *link;            /* a reference */
	guint generation;
} CallbackData;

typedef struct {
	Link *link;            /* a reference */
	guint generation;
	bool closed;           /* the connection's close callback fired */
	VsVirtEventKind kind;
	char *uuid;
	char *name;
	char *detail;
} Message;

enum {
	EV_LIFECYCLE,
	EV_DEVICE_ADDED,
	EV_DEVICE_REMOVED,
	EV_BALLOON,
	EV_METADATA,
	N_EVENTS,
};

struct VsVirt {
	const VsSys *sys;
	char *uri;
	char *status_dir;
	VsVirtEventFunc event_cb;
	gpointer user_data;

	GMainContext *context; /* NULL until vs_virt_start() */
	Link *link;
	virConnectPtr conn;    /* NULL while disconnected */
	guint generation;      /* of @conn; incremented on each connect */
	int event_ids[N_EVENTS];
	CallbackData *close_data; /* ours: registered without a free callback */
	GSource *reconnect;
	guint attempt;         /* failed connection attempts in a row */
	bool down_announced;   /* DISCONNECTED emitted since the last CONNECTED */
	VsThreadsCache *threads_cache;
};

guint vs_virt_backoff_ms(guint attempt)
{
	if (attempt >= 4)
		return BACKOFF_MAX_MS;
	return MIN(BACKOFF_FIRST_MS << attempt, BACKOFF_MAX_MS);
}

static Link *link_ref(Link *link)
{
	return g_atomic_rc_box_acquire(link);
}

static void link_clear(gpointer data)
{
	Link *link = data;

	if (link->context)
		g_main_context_unref(link->context);
}

static void link_unref(Link *link)
{
	g_atomic_rc_box_release_full(link, link_clear);
}

static CallbackData *callback_data_new(VsVirt *virt)
{
	CallbackData *cb = g_new0(CallbackData, 1);

	cb->link = link_ref(virt->link);
	cb->generation = virt->generation;
	return cb;
}

static void callback_data_free(void *data)
{
	CallbackData *cb = data;

	link_unref(cb->link);
	g_free(cb);
}

static void message_free(gpointer data)
{
	Message *m = data;

	link_unref(m->link);
	g_free(m->uuid);
	g_free(m->name);
	g_free(m->detail);
	g_free(m);
}

static void emit(VsVirt *virt, VsVirtEventKind kind, const char *uuid,
		 const char *name, const char *detail)
{
	/* Whatever libvirt says, thread discovery looks at the files again. */
	if (kind == VS_VIRT_EVENT_CONNECTED || kind == VS_VIRT_EVENT_DISCONNECTED)
		vs_threads_cache_invalidate(virt->threads_cache, NULL);
	else if (uuid)
		vs_threads_cache_invalidate(virt->threads_cache, uuid);
	if (virt->event_cb)
		virt->event_cb(kind, uuid, name, detail, virt->user_data);
}

/* The last libvirt error as "libvirt: <message>"; caller frees. */
static char *last_error_text(void)
{
	const virError *e = virGetLastError();

	return g_strdup_printf("libvirt: %s", e && e->message ? e->message : "unknown error");
}

static void close_cb(virConnectPtr conn, int reason, void *opaque);

static void drop_connection(VsVirt *virt)
{
	virConnectPtr conn = g_steal_pointer(&virt->conn);

	if (!conn)
		return;
	for (int i = 0; i < N_EVENTS; i++) {
		if (virt->event_ids[i] >= 0)
			virConnectDomainEventDeregisterAny(conn, virt->event_ids[i]);
		virt->event_ids[i] = -1;
	}
	if (virt->close_data) {
		/* Synchronous with a running close callback (libvirt holds a
		 * lock around both), so the data can go right after. */
		virConnectUnregisterCloseCallback(conn, close_cb);
		g_clear_pointer(&virt->close_data, callback_data_free);
	}
	virConnectClose(conn);
	virResetLastError();
}

static gboolean reconnect_cb(gpointer data);

static void schedule_reconnect(VsVirt *virt)
{
	guint ms = vs_virt_backoff_ms(virt->attempt);

	if (virt->reconnect || !virt->context)
		return;
	if (virt->attempt < G_MAXUINT)
		virt->attempt++;
	virt->reconnect = g_timeout_source_new(ms);
	g_source_set_callback(virt->reconnect, reconnect_cb, virt, NULL);
	g_source_attach(virt->reconnect, virt->context);
}

static void cancel_reconnect(VsVirt *virt)
{
	if (!virt->reconnect)
		return;
	g_source_destroy(virt->reconnect);
	g_clear_pointer(&virt->reconnect, g_source_unref);
}

void vs_conn_lost(VsVirt *virt, const char *reason)
{
	if (!virt->conn)
		return;
	drop_connection(virt);
	virt->attempt = 0;
	virt->down_announced = true;
	schedule_reconnect(virt);
	emit(virt, VS_VIRT_EVENT_DISCONNECTED, NULL, NULL, reason);
}

static gboolean deliver(gpointer data)
{
	Message *m = data;
	VsVirt *virt = m->link->virt;

	if (!virt)
		return G_SOURCE_REMOVE;
	if (m->closed) {
		if (virt->conn && virt->generation == m->generation)
			vs_conn_lost(virt, m->detail);
		return G_SOURCE_REMOVE;
	}
	emit(virt, m->kind, m->uuid, m->name, m->detail);
	return G_SOURCE_REMOVE;
}

/* In the event thread: copies the identity of @dom and queues a message
 * for the main context. Takes @detail. */
static void post(CallbackData *cb, virDomainPtr dom, VsVirtEventKind kind,
		 bool closed, char *detail)
{
	Message *m = g_new0(Message, 1);
	GSource *idle;

	m->link = link_ref(cb->link);
	m->generation = cb->generation;
	m->closed = closed;
	m->kind = kind;
	m->detail = detail;
	if (dom) {
		char uuid[VIR_UUID_STRING_BUFLEN];
		if (virDomainGetUUIDString(dom, uuid) == 0)
			m->uuid = g_strdup(uuid);
		m->name = g_strdup(virDomainGetName(dom));
	}
	/* Always through an idle source, even when this thread owns the
	 * context: libvirt may hold its locks around this callback. */
	idle = g_idle_source_new();
	g_source_set_priority(idle, G_PRIORITY_DEFAULT);
	g_source_set_callback(idle, deliver, m, message_free);
	g_source_attach(idle, cb->link->context);
	g_source_unref(idle);
}

static const char *const event_names[] = {
	[VIR_DOMAIN_EVENT_DEFINED] = "defined",
	[VIR_DOMAIN_EVENT_UNDEFINED] = "undefined",
	[VIR_DOMAIN_EVENT_STARTED] = "started",
	[VIR_DOMAIN_EVENT_SUSPENDED] = "suspended",
	[VIR_DOMAIN_EVENT_RESUMED] = "resumed",
	[VIR_DOMAIN_EVENT_STOPPED] = "stopped",
	[VIR_DOMAIN_EVENT_SHUTDOWN] = "shutdown",
	[VIR_DOMAIN_EVENT_PMSUSPENDED] = "pmsuspended",
	[VIR_DOMAIN_EVENT_CRASHED] = "crashed",
};

/* The details of each event, as virsh event prints them (lower case). */
static const char *const *const event_details[] = {
	[VIR_DOMAIN_EVENT_DEFINED] = (const char *const[]){
		"added", "updated", "renamed", "from snapshot", NULL },
	[VIR_DOMAIN_EVENT_UNDEFINED] = (const char *const[]){
		"removed", "renamed", NULL },
	[VIR_DOMAIN_EVENT_STARTED] = (const char *const[]){
		"booted", "migrated", "restored", "from snapshot", "wakeup", NULL },
	[VIR_DOMAIN_EVENT_SUSPENDED] = (const char *const[]){
		"paused", "migrated", "i/o error", "watchdog", "restored", "from snapshot",
		"api error", "post-copy", "post-copy error", NULL },
	[VIR_DOMAIN_EVENT_RESUMED] = (const char *const[]){
		"unpaused", "migrated", "from snapshot", "post-copy", "post-copy error", NULL },
	[VIR_DOMAIN_EVENT_STOPPED] = (const char *const[]){
		"shutdown", "destroyed", "crashed", "migrated", "saved", "failed",
		"from snapshot", NULL },
	[VIR_DOMAIN_EVENT_SHUTDOWN] = (const char *const[]){
		"finished", "guest", "host", NULL },
	[VIR_DOMAIN_EVENT_PMSUSPENDED] = (const char *const[]){
		"memory", "disk", NULL },
	[VIR_DOMAIN_EVENT_CRASHED] = (const char *const[]){
		"panicked", "crashloaded", NULL },
};

/* "started (booted)"; unknown codes print as numbers. Caller frees. */
static char *lifecycle_text(int event, int detail)
{
	const char *name = NULL, *what = NULL;

	if (event >= 0 && (size_t)event < G_N_ELEMENTS(event_names)) {
		const char *const *details = event_details[event];
		name = event_names[event];
		for (int i = 0; details && details[i]; i++)
			if (i == detail)
				what = details[i];
	}
	if (!name)
		return g_strdup_printf("event %d (%d)", event, detail);
	if (!what)
		return g_strdup_printf("%s (%d)", name, detail);
	return g_strdup_printf("%s (%s)", name, what);
}

static int lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event, int detail,
			void *opaque)
{
	post(opaque, dom, VS_VIRT_EVENT_LIFECYCLE, false, lifecycle_text(event, detail));
	return 0;
}

static void device_added_cb(virConnectPtr conn, virDomainPtr dom, const char *alias,
			    void *opaque)
{
	post(opaque, dom, VS_VIRT_EVENT_DEVICE, false,
	     g_strdup_printf("device added: %s", alias));
}

static void device_removed_cb(virConnectPtr conn, virDomainPtr dom, const char *alias,
			      void *opaque)
{
	post(opaque, dom, VS_VIRT_EVENT_DEVICE, false,
	     g_strdup_printf("device removed: %s", alias));
}

static void balloon_cb(virConnectPtr conn, virDomainPtr dom, unsigned long long actual,
		       void *opaque)
{
	post(opaque, dom, VS_VIRT_EVENT_DEVICE, false,
	     g_strdup_printf("balloon changed: %llu KiB", actual));
}

static void metadata_cb(virConnectPtr conn, virDomainPtr dom, int type, const char *nsuri,
			void *opaque)
{
	char *detail;

	if (type == VIR_DOMAIN_METADATA_ELEMENT)
		detail = g_strdup_printf("metadata changed: %s", nsuri ? nsuri : "");
	else if (type == VIR_DOMAIN_METADATA_TITLE)
		detail = g_strdup("title changed");
	else
		detail = g_strdup("description changed");
	post(opaque, dom, VS_VIRT_EVENT_METADATA, false, detail);
}

static void close_cb(virConnectPtr conn, int reason, void *opaque)
{
	const char *why;

	switch (reason) {
	case VIR_CONNECT_CLOSE_REASON_ERROR:
		why = "I/O error";
		break;
	case VIR_CONNECT_CLOSE_REASON_EOF:
		why = "EOF from libvirtd";
		break;
	case VIR_CONNECT_CLOSE_REASON_KEEPALIVE:
		why = "keepalive timeout";
		break;
	case VIR_CONNECT_CLOSE_REASON_CLIENT:
		why = "closed by the client";
		break;
	default:
		why = "unknown reason";
		break;
	}
	post(opaque, NULL, VS_VIRT_EVENT_DISCONNECTED, true,
	     g_strdup_printf("connection closed: %s", why));
}

static int register_events(VsVirt *virt, GError **error)
{
	static const struct {
		int id;
		virConnectDomainEventGenericCallback cb;
	} events[N_EVENTS] = {
		[EV_LIFECYCLE] = { VIR_DOMAIN_EVENT_ID_LIFECYCLE,
				   VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb) },
		[EV_DEVICE_ADDED] = { VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
				      VIR_DOMAIN_EVENT_CALLBACK(device_added_cb) },
		[EV_DEVICE_REMOVED] = { VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
					VIR_DOMAIN_EVENT_CALLBACK(device_removed_cb) },
		[EV_BALLOON] = { VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE,
				 VIR_DOMAIN_EVENT_CALLBACK(balloon_cb) },
		[EV_METADATA] = { VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
				  VIR_DOMAIN_EVENT_CALLBACK(metadata_cb) },
	};

	virt->close_data = callback_data_new(virt);
	if (virConnectRegisterCloseCallback(virt->conn, close_cb, virt->close_data, NULL) < 0) {
		g_clear_pointer(&virt->close_data, callback_data_free);
		goto fail;
	}
	for (int i = 0; i < N_EVENTS; i++) {
		CallbackData *cb = callback_data_new(virt);
		int id = virConnectDomainEventRegisterAny(virt->conn, NULL, events[i].id,
							  events[i].cb, cb, callback_data_free);
		if (id < 0) {
			callback_data_free(cb);
			goto fail;
		}
		virt->event_ids[i] = id;
	}
	return 0;

fail:
	{
		g_autofree char *text = last_error_text();
		g_set_error(error, VS_ERROR, VS_ERROR_UNAVAILABLE, "%s", text);
	}
	return -EIO;
}

/* One connection attempt. */
static int connect_now(VsVirt *virt, GError **error)
{
	virConnectPtr conn = virConnectOpen(virt->uri);
	int r;

	if (!conn) {
		g_autofree char *text = last_error_text();
		g_set_error(error, VS_ERROR, VS_ERROR_UNAVAILABLE, "%s", text);
		return -ENOTCONN;
	}
	/* Local drivers (test:///) have no keepalive. */
	if (virConnectSetKeepAlive(conn, KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT) < 0 &&
	    !g_str_has_prefix(virt->uri, "test:")) {
		g_autofree char *text = last_error_text();
		g_set_error(error, VS_ERROR, VS_ERROR_UNAVAILABLE, "%s", text);
		virConnectClose(conn);
		return -EIO;
	}
	virResetLastError();
	virt->conn = conn;
	virt->generation++;
	r = register_events(virt, error);
	if (r < 0) {
		drop_connection(virt);
		return r;
	}
	return 0;
}

/* Tries to connect; emits CONNECTED, or DISCONNECTED once per outage and
 * schedules the next attempt. */
static void try_connect(VsVirt *virt)
{
	g_autoptr(GError) error = NULL;

	if (connect_now(virt, &error) < 0) {
		if (!virt->down_announced) {
			g_autofree char *detail = g_strdup_printf("cannot connect to %s: %s",
								  virt->uri, error->message);
			virt->down_announced = true;
			schedule_reconnect(virt);
			emit(virt, VS_VIRT_EVENT_DISCONNECTED, NULL, NULL, detail);
		} else {
			schedule_reconnect(virt);
		}
		return;
	}
	virt->attempt = 0;
	virt->down_announced = false;
	{
		g_autofree char *detail = g_strdup_printf("connected to %s", virt->uri);
		emit(virt, VS_VIRT_EVENT_CONNECTED, NULL, NULL, detail);
	}
}

static gboolean reconnect_cb(gpointer data)
{
	VsVirt *virt = data;

	g_clear_pointer(&virt->reconnect, g_source_unref);
	try_connect(virt);
	return G_SOURCE_REMOVE;
}

VsVirt *vs_virt_new(const VsSys *sys, const char *uri, const char *status_dir,
		    VsVirtEventFunc event_cb, gpointer user_data)
{
	VsVirt *virt = g_new0(VsVirt, 1);

	vs_event_init();
	virt->sys = sys;
	virt->uri = g_strdup(uri ? uri : DEFAULT_URI);
	virt->status_dir = g_strdup(status_dir ? status_dir : DEFAULT_STATUS_DIR);
	virt->event_cb = event_cb;
	virt->user_data = user_data;
	virt->threads_cache = vs_threads_cache_new();
	virt->link = g_atomic_rc_box_new0(Link);
	virt->link->virt = virt;
	for (int i = 0; i < N_EVENTS; i++)
		virt->event_ids[i] = -1;
	return virt;
}

void vs_virt_start(VsVirt *virt)
{
	if (virt->context)
		return;
	virt->context = g_main_context_ref_thread_default();
	virt->link->context = g_main_context_ref(virt->context);
	try_connect(virt);
}

bool vs_virt_is_connected(VsVirt *virt)
{
	return virt->conn != NULL;
}

const char *vs_virt_uri(VsVirt *virt)
{
	return virt->uri;
}

void vs_virt_free(VsVirt *virt)
{
	if (!virt)
		return;
	cancel_reconnect(virt);
	drop_connection(virt);
	virt->link->virt = NULL;
	link_unref(virt->link);
	if (virt->context)
		g_main_context_unref(virt->context);
	g_free(virt->uri);
	g_free(virt->status_dir);
	vs_threads_cache_free(virt->threads_cache);
	g_free(virt);
}

virConnectPtr vs_conn_get(VsVirt *virt)
{
	return virt->conn;
}

const VsSys *vs_conn_sys(VsVirt *virt)
{
	return virt->sys;
}

const char *vs_conn_status_dir(VsVirt *virt)
{
	return virt->status_dir;
}

VsThreadsCache *vs_conn_threads_cache(VsVirt *virt)
{
	return virt->threads_cache;
}

int vs_conn_fail(VsVirt *virt, GError **error)
{
	const virError *e = virGetLastError();
	int code = e ? e->code : VIR_ERR_OK;
	g_autofree char *text = last_error_text();
	bool lost = code == VIR_ERR_SYSTEM_ERROR || code == VIR_ERR_NO_CONNECT ||
		    code == VIR_ERR_INVALID_CONN;

	/* virConnectIsAlive() resets the last error: text is copied above. */
	if (!lost && virt->conn && virConnectIsAlive(virt->conn) == 0)
		lost = true;
	g_set_error(error, VS_ERROR, lost ? VS_ERROR_UNAVAILABLE : VS_ERROR_SYSTEM, "%s", text);
	if (!lost)
		return -EIO;
	{
		g_autofree char *reason = g_strdup_printf("connection lost: %s", text);
		vs_conn_lost(virt, reason);
	}
	return -ENOTCONN;
}
