/* TASKSTATS over generic netlink; see taskstats.h.
 *
 * libnl-genl opens the socket and resolves the family; the batches are
 * built by hand in one buffer (one 28-byte request per thread, sent in one
 * datagram: the kernel's generic netlink handler walks every message of a
 * datagram) and the replies are taken with recvmmsg(), many datagrams per
 * system call, and parsed with libnl's attribute helpers. A request asks
 * for no acknowledgement, so each one yields exactly one message: the
 * reply, or an error naming the request's sequence number.
 *
 * The run time is taskstats' cpu_run_virtual_total, which is the task's
 * sum_exec_runtime: the same number as field 1 of /proc/PID/task/TID/
 * schedstat. (cpu_run_real_total is utime + stime, which the kernel
 * samples at ticks; it would disagree with schedstat by up to a tick.) */
#include "config.h"

#include "host/taskstats.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

/* Requests per datagram, and replies in flight: 256 replies of about
 * 500 bytes stay well under the receive buffer set below. */
#define BATCH 256
#define RCVBUF_BYTES (1 << 20)
/* Datagrams per recvmmsg() call, and the room for each (a reply is about
 * 500 bytes; an error echoes the 28-byte request). */
#define RECV_SLOTS 64
#define SLOT_BYTES 2048
#define REPLY_TIMEOUT_MS 1000

/* A request: netlink header, generic netlink header, one u32 attribute. */
#define REQ_LEN (NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN + 4)

struct VsTaskstats {
	struct nl_sock *sock;
	int fd;
	int family;
	uint32_t seq;
	uint8_t *send_buf;               /* BATCH requests */
	uint8_t *recv_buf;               /* RECV_SLOTS x SLOT_BYTES */
	struct mmsghdr msgs[RECV_SLOTS];
	struct iovec iov[RECV_SLOTS];
};

/* libnl returns its own error codes; the callers want errno values. */
static int nl_to_errno(int r)
{
	switch (-r) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_PERM:
		return -EPERM;
	case NLE_PROTO_MISMATCH:
	case NLE_AF_NOSUPPORT:
		return -EPROTONOSUPPORT;
	default:
		return -EIO;
	}
}

int vs_taskstats_open(VsTaskstats **ret)
{
	g_autoptr(VsTaskstats) ts = g_new0(VsTaskstats, 1);
	int r;

	ts->sock = nl_socket_alloc();
	if (!ts->sock)
		return -ENOMEM;
	r = genl_connect(ts->sock);
	if (r < 0)
		return nl_to_errno(r);
	r = genl_ctrl_resolve(ts->sock, TASKSTATS_GENL_NAME);
	if (r < 0)
		return nl_to_errno(r);
	if (r == 0)
		return -ENOENT;
	ts->family = r;
	ts->fd = nl_socket_get_fd(ts->sock);
	/* A full batch of replies must fit; without CAP_NET_ADMIN the kernel
	 * caps this at rmem_max, which is still far above what one batch needs. */
	nl_socket_set_buffer_size(ts->sock, RCVBUF_BYTES, 0);
	ts->send_buf = g_malloc0((size_t)BATCH * NLMSG_ALIGN(REQ_LEN));
	ts->recv_buf = g_malloc((size_t)RECV_SLOTS * SLOT_BYTES);
	ts->seq = 1;
	*ret = g_steal_pointer(&ts);
	return 0;
}

void vs_taskstats_free(VsTaskstats *ts)
{
	if (!ts)
		return;
	if (ts->sock)
		nl_socket_free(ts->sock);
	g_free(ts->send_buf);
	g_free(ts->recv_buf);
	g_free(ts);
}

/* Writes the request for @tid with sequence number @seq at @p. */
static void put_request(uint8_t *p, int family, uint32_t seq, pid_t tid)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)p;
	struct genlmsghdr *genl = (struct genlmsghdr *)(p + NLMSG_HDRLEN);
	struct nlattr *nla = (struct nlattr *)(p + NLMSG_HDRLEN + GENL_HDRLEN);
	uint32_t value = (uint32_t)tid;

	memset(p, 0, NLMSG_ALIGN(REQ_LEN));
	nlh->nlmsg_len = REQ_LEN;
	nlh->nlmsg_type = (uint16_t)family;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	genl->cmd = TASKSTATS_CMD_GET;
	genl->version = TASKSTATS_GENL_VERSION;
	nla->nla_len = NLA_HDRLEN + sizeof(value);
	nla->nla_type = TASKSTATS_CMD_ATTR_PID;
	memcpy((uint8_t *)nla + NLA_HDRLEN, &value, sizeof(value));
}

/* Reads a u64 member of struct taskstats at @offset from @stats, which has
 * @len bytes (older kernels send shorter structs; these members are in
 * every version). */
static bool stats_u64(const uint8_t *stats, size_t len, size_t offset, uint64_t *ret)
{
	if (offset + sizeof(uint64_t) > len)
		return false;
	memcpy(ret, stats + offset, sizeof(*ret));
	return true;
}

int vs_taskstats_parse_reply(const void *msg, size_t len, int family, pid_t *ret_pid,
			     uint64_t *ret_run_ns, uint64_t *ret_delay_ns, uint64_t *ret_count)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)msg;
	struct nlattr *attr, *inner;
	int rem, inner_rem;
	bool have_pid = false, have_stats = false;
	uint64_t run = 0, delay = 0, count = 0;
	uint32_t pid = 0;

	if (len < NLMSG_HDRLEN + GENL_HDRLEN || nlh->nlmsg_len > len ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN || nlh->nlmsg_type != family)
		return -EINVAL;
	nla_for_each_attr(attr, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		if (nla_type(attr) != TASKSTATS_TYPE_AGGR_PID)
			continue;
		nla_for_each_nested(inner, attr, inner_rem) {
			const uint8_t *data = nla_data(inner);
			size_t dlen = (size_t)nla_len(inner);

			if (nla_type(inner) == TASKSTATS_TYPE_PID && dlen >= sizeof(uint32_t)) {
				memcpy(&pid, data, sizeof(pid));
				have_pid = true;
			} else if (nla_type(inner) == TASKSTATS_TYPE_STATS) {
				have_stats =
					stats_u64(data, dlen, offsetof(struct taskstats,
								       cpu_run_virtual_total), &run) &&
					stats_u64(data, dlen, offsetof(struct taskstats,
								       cpu_delay_total), &delay) &&
					stats_u64(data, dlen, offsetof(struct taskstats, cpu_count),
						  &count);
			}
		}
	}
	if (!have_pid || !have_stats)
		return -EINVAL;
	*ret_pid = (pid_t)pid;
	*ret_run_ns = run;
	*ret_delay_ns = delay;
	*ret_count = count;
	return 0;
}

/* The item of the batch @items[0..n) that request @seq (first @seq0)
 * asked about, or NULL. */
static VsThreadCount *item_by_seq(VsThreadCount *items, size_t n, uint32_t seq0, uint32_t seq)
{
	uint32_t i = seq - seq0;

	return i < n ? &items[i] : NULL;
}

/* Handles one received message; returns the item it answered, or NULL
 * when it answers none of this batch (a late reply of an abandoned batch). */
static VsThreadCount *handle_message(VsTaskstats *ts, struct nlmsghdr *nlh, size_t len,
				     VsThreadCount *items, size_t n, uint32_t seq0,
				     const bool *done)
{
	VsThreadCount *item;

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *err = nlmsg_data(nlh);

		if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*err))
			return NULL;
		item = item_by_seq(items, n, seq0, err->msg.nlmsg_seq);
		if (!item || done[item - items])
			return NULL;
		item->error = err->error < 0 ? err->error : -EIO;
		return item;
	} else {
		pid_t pid;
		uint64_t run, delay, count;

		if (vs_taskstats_parse_reply(nlh, len, ts->family, &pid, &run, &delay, &count) < 0)
			return NULL;
		/* The reply's aggregate names the thread; the sequence number
		 * finds it in the batch without a search. */
		item = item_by_seq(items, n, seq0, nlh->nlmsg_seq);
		if (!item || item->tid != pid || done[item - items]) {
			item = NULL;
			for (size_t i = 0; i < n; i++) {
				if (items[i].tid == pid && !done[i]) {
					item = &items[i];
					break;
				}
			}
			if (!item)
				return NULL;
		}
		item->error = 0;
		item->run_ns = run;
		item->delay_ns = delay;
		item->count = count;
		return item;
	}
}

/* Sends the requests for one batch and takes its @n replies. */
static int query_batch(VsTaskstats *ts, VsThreadCount *items, size_t n)
{
	size_t stride = NLMSG_ALIGN(REQ_LEN), answered = 0;
	uint32_t seq0 = ts->seq;
	bool done[BATCH] = { false };
	ssize_t sent;

	for (size_t i = 0; i < n; i++)
		put_request(ts->send_buf + i * stride, ts->family, seq0 + (uint32_t)i, items[i].tid);
	ts->seq += (uint32_t)n;
	do
		sent = send(ts->fd, ts->send_buf, n * stride, 0);
	while (sent < 0 && errno == EINTR);
	if (sent < 0)
		return -errno;

	while (answered < n) {
		struct pollfd pfd = { .fd = ts->fd, .events = POLLIN };
		int got, r;

		for (size_t s = 0; s < RECV_SLOTS; s++) {
			ts->iov[s].iov_base = ts->recv_buf + s * SLOT_BYTES;
			ts->iov[s].iov_len = SLOT_BYTES;
			memset(&ts->msgs[s].msg_hdr, 0, sizeof(ts->msgs[s].msg_hdr));
			ts->msgs[s].msg_hdr.msg_iov = &ts->iov[s];
			ts->msgs[s].msg_hdr.msg_iovlen = 1;
		}
		got = recvmmsg(ts->fd, ts->msgs, RECV_SLOTS, MSG_DONTWAIT, NULL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			r = poll(&pfd, 1, REPLY_TIMEOUT_MS);
			if (r < 0 && errno != EINTR)
				return -errno;
			if (r == 0)
				return -ETIMEDOUT;
			continue;
		}
		for (int s = 0; s < got; s++) {
			struct nlmsghdr *nlh = ts->iov[s].iov_base;
			int left = (int)ts->msgs[s].msg_len;

			if (ts->msgs[s].msg_hdr.msg_flags & MSG_TRUNC)
				continue;
			for (; nlmsg_ok(nlh, left); nlh = nlmsg_next(nlh, &left)) {
				VsThreadCount *item = handle_message(ts, nlh, nlh->nlmsg_len, items, n,
								     seq0, done);
				if (item) {
					done[item - items] = true;
					answered++;
				}
			}
		}
	}
	return 0;
}

int vs_taskstats_query(VsTaskstats *ts, VsThreadCount *items, size_t n)
{
	for (size_t first = 0; first < n; first += BATCH) {
		size_t len = MIN((size_t)BATCH, n - first);
		int r;

		for (size_t i = first; i < first + len; i++)
			items[i].error = -ETIMEDOUT;
		r = query_batch(ts, items + first, len);
		if (r < 0) {
			/* Whatever this batch did not answer, and every later
			 * batch, gets the socket's error. */
			for (size_t i = first; i < n; i++)
				if (i >= first + len || items[i].error == -ETIMEDOUT)
					items[i].error = r;
			return r;
		}
	}
	return 0;
}
