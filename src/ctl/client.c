/* The control protocol client; see client.h. One request at a time on one
 * connection; the socket is non-blocking and every wait is a poll(2) with
 * what is left of the caller's timeout. */
#include "config.h"

#include "ctl/client.h"
#include "util/error.h"

#include <errno.h>
#include <glib-unix.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct VsCtlClient {
	char *path;
	int fd;
	VsCtlReader *reader;
};

void vs_ctl_client_free(VsCtlClient *client)
{
	if (!client)
		return;
	if (client->fd >= 0)
		close(client->fd);
	vs_ctl_reader_free(client->reader);
	g_free(client->path);
	g_free(client);
}

static void set_connect_error(GError **error, const char *path, int err)
{
	switch (err) {
	case ENOENT:
	case ECONNREFUSED:
		g_set_error(error, VS_ERROR, VS_ERROR_UNAVAILABLE,
			    "cannot connect to %s: %s (is vschedd running?)", path, g_strerror(err));
		break;
	case EACCES:
	case EPERM:
		g_set_error(error, VS_ERROR, VS_ERROR_DENIED,
			    "cannot connect to %s: %s (root or the socket's group is needed)", path,
			    g_strerror(err));
		break;
	case EAGAIN:
	case ETIMEDOUT:
		g_set_error(error, VS_ERROR, VS_ERROR_UNAVAILABLE,
			    "cannot connect to %s: vschedd does not accept connections", path);
		break;
	default:
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "cannot connect to %s: %s", path,
			    g_strerror(err));
		break;
	}
}

VsCtlClient *vs_ctl_client_connect(const char *path, GError **error)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	/* connect(2) on a Unix socket waits for room in the listener's
	 * backlog at most this long (SO_SNDTIMEO). */
	struct timeval tv = { .tv_sec = VS_CTL_CLIENT_TIMEOUT_MS / 1000 };
	g_autoptr(VsCtlClient) client = g_new0(VsCtlClient, 1);

	client->fd = -1;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
			    "socket path %s is longer than %zu bytes", path, sizeof(addr.sun_path) - 1);
		return NULL;
	}
	strcpy(addr.sun_path, path);
	client->path = g_strdup(path);
	client->reader = vs_ctl_reader_new(VS_CTL_REPLY_MAX);
	client->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (client->fd < 0) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "socket: %s", g_strerror(errno));
		return NULL;
	}
	if (setsockopt(client->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(client->fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0) {
		set_connect_error(error, path, errno);
		return NULL;
	}
	if (!g_unix_set_fd_nonblocking(client->fd, TRUE, NULL)) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "cannot make the socket non-blocking: %s",
			    g_strerror(errno));
		return NULL;
	}
	return g_steal_pointer(&client);
}

/* Waits for @events on the socket until @deadline (monotonic µs). Returns
 * 0, or -ETIMEDOUT. */
static int wait_fd(int fd, short events, gint64 deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		gint64 left = deadline - g_get_monotonic_time();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, (int)MIN((left + 999) / 1000, G_MAXINT));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* After a failed send(2)/recv(2) on the non-blocking socket: 0 to try again
 * (interrupted, or the socket became ready for @events before @deadline),
 * else -EPIPE for a reset peer, -ETIMEDOUT, or the call's -errno. */
static int after_io_failure(int fd, short events, gint64 deadline)
{
	if (errno == EINTR)
		return 0;
	if (errno == ECONNRESET)
		return -EPIPE;
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return -errno;
	return wait_fd(fd, events, deadline);
}

/* Sends all of @msg. Returns 0, -EPIPE when the daemon closed the
 * connection, -ETIMEDOUT, or another -errno. */
static int send_all(VsCtlClient *client, const char *msg, gsize len, gint64 deadline)
{
	gsize done = 0;

	while (done < len) {
		ssize_t n = send(client->fd, msg + done, len - done, MSG_NOSIGNAL);
		int r;

		if (n >= 0) {
			done += (gsize)n;
			continue;
		}
		r = after_io_failure(client->fd, POLLOUT, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Reads until one complete reply is buffered and returns it (caller frees)
 * with 0, or -errno: -EPIPE at end of stream, -EMSGSIZE, -ETIMEDOUT. */
static int receive_one(VsCtlClient *client, gint64 deadline, char **ret_msg, gsize *ret_len)
{
	for (;;) {
		char buf[16 * 1024];
		ssize_t n;
		int r = vs_ctl_reader_pop(client->reader, ret_msg, ret_len);

		if (r > 0)
			return 0;
		if (r < 0)
			return r;
		n = recv(client->fd, buf, sizeof(buf), 0);
		if (n > 0) {
			vs_ctl_reader_feed(client->reader, buf, (gsize)n);
			continue;
		}
		if (n == 0)
			return -EPIPE;
		r = after_io_failure(client->fd, POLLIN, deadline);
		if (r < 0)
			return r;
	}
}

static void set_io_error(GError **error, const VsCtlClient *client, int r, guint timeout_ms)
{
	if (r == -EPIPE)
		g_set_error(error, VS_ERROR, VS_ERROR_UNAVAILABLE,
			    "vschedd closed the connection on %s without a reply", client->path);
	else if (r == -ETIMEDOUT)
		g_set_error(error, VS_ERROR, VS_ERROR_UNAVAILABLE,
			    "no reply from vschedd on %s within %.1f s", client->path, timeout_ms / 1000.0);
	else if (r == -EMSGSIZE)
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
			    "the reply from vschedd on %s is larger than %d bytes", client->path,
			    VS_CTL_REPLY_MAX);
	else
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "talking to vschedd on %s: %s",
			    client->path, g_strerror(-r));
}

VsCtlReply *vs_ctl_client_transact(VsCtlClient *client, const char *msg, gsize len,
				   guint timeout_ms, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	g_autofree char *answer = NULL;
	gsize answer_len;
	int r;

	r = send_all(client, msg, len, deadline);
	/* A daemon that closed while we were sending may have said why. */
	if (r < 0 && r != -EPIPE) {
		set_io_error(error, client, r, timeout_ms);
		return NULL;
	}
	r = receive_one(client, deadline, &answer, &answer_len);
	if (r < 0) {
		set_io_error(error, client, r, timeout_ms);
		return NULL;
	}
	return vs_ctl_reply_decode(answer, answer_len, error);
}

VsCtlReply *vs_ctl_client_call(VsCtlClient *client, const char *method, JsonObject *parameters,
			       guint timeout_ms, GError **error)
{
	gsize len;
	g_autofree char *msg = vs_ctl_request_encode(method, parameters, &len);

	return vs_ctl_client_transact(client, msg, len, timeout_ms, error);
}
