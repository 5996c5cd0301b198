/* The control server; see server.h. One GSource per file descriptor (the
 * listening socket and each client), each watching only the conditions it
 * can act on now and carrying its own deadline (the idle timeout, or the
 * end of an accept pause), so an idle server costs nothing and no client
 * can make the daemon spin or wait. */
#include "config.h"

#include "ctl/server.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Bytes read from one client per dispatch, so one busy client cannot
 * starve the others. */
#define READ_BUDGET (64 * 1024)
#define READ_CHUNK (16 * 1024)
/* A client with this much output not yet taken gets no more requests
 * processed (nor read) until it takes some. */
#define OUT_HIGH_WATER (64 * 1024)
/* Connections accepted per dispatch of the listening socket. */
#define ACCEPT_BUDGET 16
/* How long accepting pauses when the process is out of file descriptors. */
#define ACCEPT_PAUSE_US (1000 * 1000)

/* A GSource for one file descriptor: calls @func with the conditions that
 * are pending (0 when only the ready time passed). */
typedef gboolean (*WatchFunc)(gpointer owner, GIOCondition cond);

typedef struct Watch {
	GSource source;
	gpointer tag;
	WatchFunc func;
	gpointer owner;
} Watch;

static gboolean watch_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	Watch *w = (Watch *)source;

	return w->func(w->owner, g_source_query_unix_fd(source, w->tag));
}

static GSourceFuncs watch_funcs = {
	.dispatch = watch_dispatch,
};

static Watch *watch_new(GMainContext *context, int fd, GIOCondition cond, WatchFunc func,
			gpointer owner)
{
	Watch *w = (Watch *)g_source_new(&watch_funcs, sizeof(Watch));

	w->tag = g_source_add_unix_fd(&w->source, fd, cond);
	w->func = func;
	w->owner = owner;
	g_source_set_name(&w->source, "vsched control socket");
	g_source_attach(&w->source, context);
	return w;
}

static void watch_free(Watch *w)
{
	g_source_destroy(&w->source);
	g_source_unref(&w->source);
}

struct VsCtlServer {
	char *path;
	VsCtlBackend backend;
	GMainContext *context;
	int fd;
	dev_t dev;         /* of the socket inode this server bound */
	ino_t ino;
	Watch *listen_watch;
	GPtrArray *clients;
	char *warning;
	guint idle_timeout_ms;
};

typedef struct Client {
	VsCtlServer *server;
	int fd;
	uid_t uid;
	Watch *watch;
	VsCtlReader *reader;
	GByteArray *out;
	gsize out_pos;          /* first byte of out not yet sent */
	gint64 idle_us;
	gint64 last_active;     /* monotonic time of the last byte in or out */
	bool eof;               /* the peer sent all it will send */
	bool closing;           /* answer nothing more; close once out is sent */
} Client;

static void client_free(Client *c)
{
	watch_free(c->watch);
	close(c->fd);
	vs_ctl_reader_free(c->reader);
	g_byte_array_unref(c->out);
	g_free(c);
}

/* Closes @c; it must not be used afterwards. */
static void client_close(Client *c)
{
	g_ptr_array_remove_fast(c->server->clients, c);
}

static gsize client_out_pending(const Client *c)
{
	return c->out->len - c->out_pos;
}

static void client_queue(Client *c, const VsCtlReply *reply)
{
	gsize len;
	g_autofree char *msg = vs_ctl_reply_encode(reply, &len);

	g_byte_array_append(c->out, (const guint8 *)msg, (guint)len);
}

/* Sends what the peer takes without blocking. Returns 0 or -errno when the
 * connection is broken. */
static int client_flush(Client *c, gint64 now)
{
	while (client_out_pending(c) > 0) {
		ssize_t n = send(c->fd, c->out->data + c->out_pos, client_out_pending(c),
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		c->out_pos += (gsize)n;
		c->last_active = now;
	}
	if (c->out_pos == c->out->len) {
		g_byte_array_set_size(c->out, 0);
		c->out_pos = 0;
	} else if (c->out_pos >= c->out->len / 2) {
		g_byte_array_remove_range(c->out, 0, (guint)c->out_pos);
		c->out_pos = 0;
	}
	return 0;
}

/* Reads what is there, up to READ_BUDGET. Returns 0 or -errno when the
 * connection is broken; sets c->eof at end of stream. */
static int client_read(Client *c, gint64 now)
{
	guint8 buf[READ_CHUNK];
	gsize total = 0;

	while (total < READ_BUDGET) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		if (n == 0) {
			c->eof = true;
			break;
		}
		vs_ctl_reader_feed(c->reader, buf, (gsize)n);
		c->last_active = now;
		total += (gsize)n;
	}
	return 0;
}

VsCtlReply *vs_ctl_server_answer(const VsCtlBackend *backend, const char *msg, gsize len,
				  bool privileged)
{
	VsCtlReply *reply = NULL;
	g_autoptr(VsCtlRequest) req = vs_ctl_request_decode(msg, len, &reply);

	if (!req)
		return reply;
	return vs_ctl_methods_call(backend, req, privileged);
}

static VsCtlReply *client_answer(Client *c, const char *msg, gsize len)
{
	return vs_ctl_server_answer(&c->server->backend, msg, len, c->uid == 0);
}

/* Answers buffered requests until the output reaches the high-water mark.
 * Returns true when it stopped there with requests possibly left. */
static bool client_process(Client *c)
{
	while (!c->closing) {
		g_autoptr(VsCtlReply) reply = NULL;
		g_autofree char *msg = NULL;
		gsize len;
		int r;

		if (client_out_pending(c) >= OUT_HIGH_WATER)
			return true;
		r = vs_ctl_reader_pop(c->reader, &msg, &len);
		if (r == 0)
			break;
		if (r < 0) {
			JsonObject *params = json_object_new();

			json_object_set_int_member(params, "limit", VS_CTL_REQUEST_MAX);
			reply = vs_ctl_reply_new_error(VS_CTL_ERROR_MESSAGE_TOO_LARGE, params);
			c->closing = true;
		} else {
			reply = client_answer(c, msg, len);
		}
		client_queue(c, reply);
	}
	return false;
}

static gboolean client_io(gpointer owner, GIOCondition cond)
{
	Client *c = owner;
	gint64 now = g_source_get_time(&c->watch->source);
	GIOCondition want = 0;
	bool more;

	if (cond & G_IO_ERR) {
		client_close(c);
		return G_SOURCE_CONTINUE;
	}
	/* HUP counts as readable: read() then tells what is left. */
	if ((cond & (G_IO_IN | G_IO_HUP)) && !c->eof && !c->closing && client_read(c, now) < 0) {
		client_close(c);
		return G_SOURCE_CONTINUE;
	}
	do {
		more = client_process(c);
		if (client_flush(c, now) < 0) {
			client_close(c);
			return G_SOURCE_CONTINUE;
		}
	} while (more && client_out_pending(c) < OUT_HIGH_WATER);

	if (client_out_pending(c) == 0 && (c->closing || c->eof)) {
		client_close(c);
		return G_SOURCE_CONTINUE;
	}
	if (now - c->last_active >= c->idle_us) {
		client_close(c);
		return G_SOURCE_CONTINUE;
	}
	if (!c->eof && !c->closing && client_out_pending(c) < OUT_HIGH_WATER)
		want |= G_IO_IN;
	if (client_out_pending(c) > 0)
		want |= G_IO_OUT;
	g_source_modify_unix_fd(&c->watch->source, c->watch->tag, want);
	g_source_set_ready_time(&c->watch->source, c->last_active + c->idle_us);
	return G_SOURCE_CONTINUE;
}

static void client_new(VsCtlServer *server, int fd, uid_t uid)
{
	Client *c = g_new0(Client, 1);

	c->server = server;
	c->fd = fd;
	c->uid = uid;
	c->reader = vs_ctl_reader_new(VS_CTL_REQUEST_MAX);
	c->out = g_byte_array_new();
	c->idle_us = (gint64)server->idle_timeout_ms * 1000;
	c->watch = watch_new(server->context, fd, G_IO_IN, client_io, c);
	c->last_active = g_source_get_time(&c->watch->source);
	g_source_set_ready_time(&c->watch->source, c->last_active + c->idle_us);
	g_ptr_array_add(server->clients, c);
}

/* Takes one connection off the listening socket. Returns 0 (also when the
 * connection was refused), -EAGAIN when none is waiting, or -errno when
 * accepting must pause (out of file descriptors or memory). */
static int server_accept_one(VsCtlServer *server)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(server->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		switch (errno) {
		case EAGAIN:
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			return -errno;
		default:
			/* The connection failed before we took it (ECONNABORTED,
			 * EINTR, EPERM, ...): nothing to answer. */
			return 0;
		}
	}
	if (server->clients->len >= VS_CTL_CLIENTS_MAX ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		close(fd);
		return 0;
	}
	client_new(server, fd, cred.uid);
	return 0;
}

static gboolean listen_io(gpointer owner, GIOCondition cond)
{
	VsCtlServer *server = owner;
	GSource *source = &server->listen_watch->source;
	gint64 now = g_source_get_time(source);
	gint64 paused_until = g_source_get_ready_time(source);

	if (paused_until >= 0) {
		if (now < paused_until)
			return G_SOURCE_CONTINUE;
		g_source_set_ready_time(source, -1);
		g_source_modify_unix_fd(source, server->listen_watch->tag, G_IO_IN);
	}
	for (int i = 0; i < ACCEPT_BUDGET; i++) {
		int r = server_accept_one(server);

		if (r == -EAGAIN)
			break;
		if (r < 0) {
			g_source_modify_unix_fd(source, server->listen_watch->tag, 0);
			g_source_set_ready_time(source, now + ACCEPT_PAUSE_US);
			break;
		}
	}
	return G_SOURCE_CONTINUE;
}

/* Fails when @path is there and is not a stale socket; removes a stale one. */
static bool remove_stale_socket(const char *path, const struct sockaddr_un *addr, GError **error)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return true;
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "cannot stat %s: %s", path,
			    g_strerror(errno));
		return false;
	}
	if (!S_ISSOCK(st.st_mode)) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM,
			    "%s exists and is not a socket; not removing it", path);
		return false;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "socket: %s", g_strerror(errno));
		return false;
	}
	r = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	r = r < 0 ? -errno : 0;
	close(fd);
	if (r == 0 || r == -EAGAIN) {
		g_set_error(error, VS_ERROR, VS_ERROR_UNAVAILABLE,
			    "another vschedd is already serving %s", path);
		return false;
	}
	if (r != -ECONNREFUSED && r != -ENOENT) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "cannot check the old socket %s: %s",
			    path, g_strerror(-r));
		return false;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "cannot remove the stale socket %s: %s",
			    path, g_strerror(errno));
		return false;
	}
	return true;
}

/* Looks up the group @name. Returns 0, -ENOENT when there is no such group,
 * or another -errno. */
static int lookup_group(const char *name, gid_t *ret_gid)
{
	gsize size = 4096;

	for (;;) {
		g_autofree char *buf = g_malloc(size);
		struct group grp, *found = NULL;
		int r = getgrnam_r(name, &grp, buf, size, &found);

		if (r == ERANGE && size < 1024 * 1024) {
			size *= 2;
			continue;
		}
		if (r != 0)
			return -r;
		if (!found)
			return -ENOENT;
		*ret_gid = found->gr_gid;
		return 0;
	}
}

/* Gives the socket its group and mode (see vs_ctl_server_new()). */
static bool set_access(VsCtlServer *server, const char *group, GError **error)
{
	gid_t gid = 0;
	int r;

	if (!group || !*group)
		return true;
	r = lookup_group(group, &gid);
	if (r == -ENOENT) {
		server->warning = g_strdup_printf("group '%s' does not exist: the socket is 0600 "
						  "and only root can use vschedctl", group);
		return true;
	}
	if (r < 0) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "cannot look up group '%s': %s", group,
			    g_strerror(-r));
		return false;
	}
	if (chown(server->path, (uid_t)-1, gid) < 0 || chmod(server->path, 0660) < 0) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "cannot give %s to group '%s': %s",
			    server->path, group, g_strerror(errno));
		return false;
	}
	return true;
}

/* Creates, binds and listens on the socket. */
static bool server_listen(VsCtlServer *server, const char *group, GError **error)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	g_autofree char *dir = g_path_get_dirname(server->path);
	struct stat st;
	mode_t old_umask;
	int r;

	if (strlen(server->path) >= sizeof(addr.sun_path)) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
			    "socket path %s is longer than %zu bytes", server->path,
			    sizeof(addr.sun_path) - 1);
		return false;
	}
	strcpy(addr.sun_path, server->path);
	/* A directory we create is 0755 whatever the umask, so that the
	 * socket's group can reach the socket. */
	if (!g_file_test(dir, G_FILE_TEST_IS_DIR) &&
	    (g_mkdir_with_parents(dir, 0755) < 0 || chmod(dir, 0755) < 0)) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "cannot create %s: %s", dir,
			    g_strerror(errno));
		return false;
	}
	if (!remove_stale_socket(server->path, &addr, error))
		return false;

	server->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (server->fd < 0) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "socket: %s", g_strerror(errno));
		return false;
	}
	/* Born 0600: nobody else may connect before the group is set. */
	old_umask = umask(0177);
	r = bind(server->fd, (const struct sockaddr *)&addr, sizeof(addr));
	r = r < 0 ? -errno : 0;
	umask(old_umask);
	if (r < 0) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "cannot bind %s: %s", server->path,
			    g_strerror(-r));
		return false;
	}
	if (lstat(server->path, &st) < 0) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "cannot stat %s: %s", server->path,
			    g_strerror(errno));
		return false;
	}
	server->dev = st.st_dev;
	server->ino = st.st_ino;
	if (!set_access(server, group, error))
		return false;
	if (listen(server->fd, 64) < 0) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "cannot listen on %s: %s",
			    server->path, g_strerror(errno));
		return false;
	}
	return true;
}

VsCtlServer *vs_ctl_server_new(const char *path, const char *group, const VsCtlBackend *backend,
			       GError **error)
{
	g_autoptr(VsCtlServer) server = g_new0(VsCtlServer, 1);

	server->path = g_strdup(path);
	server->backend = *backend;
	server->context = g_main_context_ref_thread_default();
	server->fd = -1;
	server->clients = g_ptr_array_new_with_free_func((GDestroyNotify)client_free);
	server->idle_timeout_ms = VS_CTL_IDLE_TIMEOUT_MS;
	if (!server_listen(server, group, error))
		return NULL;
	server->listen_watch = watch_new(server->context, server->fd, G_IO_IN, listen_io, server);
	return g_steal_pointer(&server);
}

void vs_ctl_server_free(VsCtlServer *server)
{
	struct stat st;

	if (!server)
		return;
	g_ptr_array_unref(server->clients);
	if (server->listen_watch)
		watch_free(server->listen_watch);
	if (server->fd >= 0) {
		close(server->fd);
		/* Unlink only our own socket, not one a successor bound since. */
		if (server->ino && lstat(server->path, &st) == 0 && st.st_dev == server->dev &&
		    st.st_ino == server->ino)
			unlink(server->path);
	}
	g_main_context_unref(server->context);
	g_free(server->warning);
	g_free(server->path);
	g_free(server);
}

const char *vs_ctl_server_warning(const VsCtlServer *server)
{
	return server->warning;
}

void vs_ctl_server_set_idle_timeout(VsCtlServer *server, guint timeout_ms)
{
	server->idle_timeout_ms = timeout_ms;
}
