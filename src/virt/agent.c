/* Guest agent commands in a worker thread; see agent.h. */
#include "config.h"

#include "virt/agent.h"

#include "virt/event.h"

#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>

typedef struct Request {
	char uuid[37];
	char *command;            /* NULL: stop */
} Request;

struct VsAgent {
	char *uri;
	GThread *thread;
	GAsyncQueue *requests;    /* Request * */
	GMutex lock;              /* guards pending and replies */
	GHashTable *pending;      /* uuid (owned) of requests queued or running */
	GPtrArray *replies;       /* VsAgentReply * */
	virConnectPtr conn;       /* the worker's own */
};

void vs_agent_reply_free(VsAgentReply *r)
{
	if (!r)
		return;
	g_free(r->reply);
	g_free(r->error);
	g_free(r);
}

static void request_free(Request *r)
{
	if (!r)
		return;
	g_free(r->command);
	g_free(r);
}

/* libvirt's last error of this thread, or @fallback. */
static char *last_error(const char *fallback)
{
	const char *msg = virGetLastErrorMessage();

	return g_strdup(msg && *msg && strcmp(msg, "no error") != 0 ? msg : fallback);
}

/* Runs @r on the worker's connection into @out. */
static void run(VsAgent *a, const Request *r, VsAgentReply *out)
{
	virDomainPtr dom;
	int64_t t0;

	if (a->conn && virConnectIsAlive(a->conn) != 1) {
		virConnectClose(a->conn);
		a->conn = NULL;
	}
	if (!a->conn) {
		a->conn = virConnectOpen(a->uri);
		if (!a->conn) {
			out->error = g_strdup_printf("cannot connect to %s: %s",
						     a->uri ? a->uri : "libvirt",
						     virGetLastErrorMessage());
			return;
		}
	}
	dom = virDomainLookupByUUIDString(a->conn, r->uuid);
	if (!dom) {
		out->error = last_error("domain not found");
		return;
	}
	t0 = g_get_monotonic_time();
	out->reply = virDomainQemuAgentCommand(dom, r->command, VS_AGENT_TIMEOUT_S, 0);
	out->mono_us = t0 + (g_get_monotonic_time() - t0) / 2;
	if (!out->reply)
		out->error = last_error("the guest agent gave no reply");
	virDomainFree(dom);
}

static gpointer worker(gpointer data)
{
	VsAgent *a = data;

	vs_event_init();
	for (;;) {
		g_autoptr(VsAgentReply) out = g_new0(VsAgentReply, 1);
		Request *r = g_async_queue_pop(a->requests);

		if (!r->command) {
			request_free(r);
			break;
		}
		g_strlcpy(out->uuid, r->uuid, sizeof(out->uuid));
		out->mono_us = g_get_monotonic_time();
		run(a, r, out);
		g_mutex_lock(&a->lock);
		g_hash_table_remove(a->pending, r->uuid);
		g_ptr_array_add(a->replies, g_steal_pointer(&out));
		g_mutex_unlock(&a->lock);
		request_free(r);
	}
	if (a->conn)
		virConnectClose(a->conn);
	a->conn = NULL;
	return NULL;
}

VsAgent *vs_agent_new(const char *uri)
{
	VsAgent *a = g_new0(VsAgent, 1);

	a->uri = g_strdup(uri);
	a->requests = g_async_queue_new_full((GDestroyNotify)request_free);
	g_mutex_init(&a->lock);
	a->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	a->replies = g_ptr_array_new_with_free_func((GDestroyNotify)vs_agent_reply_free);
	return a;
}

void vs_agent_free(VsAgent *a)
{
	if (!a)
		return;
	if (a->thread) {
		Request *stop = g_new0(Request, 1);

		/* Ahead of what is queued: only the command running is waited for. */
		g_async_queue_push_front(a->requests, stop);
		g_thread_join(a->thread);
	}
	g_async_queue_unref(a->requests);
	g_mutex_clear(&a->lock);
	g_hash_table_unref(a->pending);
	g_ptr_array_unref(a->replies);
	g_free(a->uri);
	g_free(a);
}

bool vs_agent_request(VsAgent *a, const char *uuid, const char *command)
{
	Request *r;

	g_mutex_lock(&a->lock);
	if (g_hash_table_contains(a->pending, uuid)) {
		g_mutex_unlock(&a->lock);
		return false;
	}
	g_hash_table_add(a->pending, g_strdup(uuid));
	g_mutex_unlock(&a->lock);
	if (!a->thread) {
		a->thread = g_thread_try_new("vs-agent", worker, a, NULL);
		if (!a->thread) {
			g_mutex_lock(&a->lock);
			g_hash_table_remove(a->pending, uuid);
			g_mutex_unlock(&a->lock);
			return false;
		}
	}
	r = g_new0(Request, 1);
	g_strlcpy(r->uuid, uuid, sizeof(r->uuid));
	r->command = g_strdup(command);
	g_async_queue_push(a->requests, r);
	return true;
}

bool vs_agent_pending(VsAgent *a, const char *uuid)
{
	bool pending;

	g_mutex_lock(&a->lock);
	pending = g_hash_table_contains(a->pending, uuid);
	g_mutex_unlock(&a->lock);
	return pending;
}

GPtrArray *vs_agent_take_replies(VsAgent *a)
{
	GPtrArray *out;

	g_mutex_lock(&a->lock);
	out = g_steal_pointer(&a->replies);
	a->replies = g_ptr_array_new_with_free_func((GDestroyNotify)vs_agent_reply_free);
	g_mutex_unlock(&a->lock);
	return out;
}
