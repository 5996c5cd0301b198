/* Guest agent commands off the main loop. A guest agent can take seconds
 * to answer or hang, so its commands run in a worker thread with a
 * connection to libvirt of its own (virDomainQemuAgentCommand from
 * libvirt-qemu, with a short timeout); the caller queues requests and
 * collects the replies at its next tick. At most one request per guest is
 * in flight. The connection is opened on the first request and again
 * after libvirt went away.
 *
 * It does not log: a failure is a reply with the error's text. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* The longest an agent command may take, in seconds. */
#define VS_AGENT_TIMEOUT_S 2

typedef struct VsAgent VsAgent;

/* One command's outcome. */
typedef struct VsAgentReply {
	char uuid[37];
	int64_t mono_us;          /* monotonic time midway through the command */
	char *reply;              /* the agent's JSON reply, or NULL on failure */
	char *error;              /* why there is none, or NULL */
} VsAgentReply;

void vs_agent_reply_free(VsAgentReply *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsAgentReply, vs_agent_reply_free)

/* A worker for libvirt at @uri (NULL: qemu:///system); no thread runs
 * until the first request. */
VsAgent *vs_agent_new(const char *uri);
/* Stops the worker, waiting for the command in flight (at most the
 * timeout), and drops what is queued. */
void vs_agent_free(VsAgent *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsAgent, vs_agent_free)

/* Queues @command (a JSON agent command) for the guest @uuid. Returns
 * false, queuing nothing, when a request for that guest is still in
 * flight or the worker thread cannot be started. */
bool vs_agent_request(VsAgent *a, const char *uuid, const char *command);
/* Whether a request for @uuid is queued or running. */
bool vs_agent_pending(VsAgent *a, const char *uuid);
/* The replies that arrived since the last call, oldest first (a new array
 * of VsAgentReply, possibly empty). */
GPtrArray *vs_agent_take_replies(VsAgent *a);
