/* /proc/PID/task/TID/schedstat on held descriptors; see schedstat.h. */
#include "config.h"

#include "host/schedstat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A schedstat line is three numbers of at most 20 digits. */
#define LINE_MAX_BYTES 128

typedef struct Held {
	int fd;
	pid_t pid;
	uint64_t start_time;
	guint64 read_round;    /* the sweep round of the last read */
} Held;

struct VsSchedstat {
	const VsSys *sys;
	GHashTable *held;      /* tid (GINT_TO_POINTER) -> Held */
	guint64 round;         /* sweeps so far */
	guint keep;            /* sweeps a descriptor stays open unread, plus one */
};

/* One unsigned decimal number at *@p, then white space; advances *@p. */
static bool parse_u64(const char **p, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (**p < '0' || **p > '9')
		return false;
	errno = 0;
	v = strtoull(*p, &end, 10);
	if (errno != 0)
		return false;
	if (*end != '\0' && *end != ' ' && *end != '\n')
		return false;
	while (*end == ' ' || *end == '\n')
		end++;
	*p = end;
	*ret = v;
	return true;
}

int vs_schedstat_parse(const char *text, uint64_t *ret_run_ns, uint64_t *ret_delay_ns,
		       uint64_t *ret_count)
{
	const char *p = text;
	uint64_t run, delay, count;

	if (!parse_u64(&p, &run) || !parse_u64(&p, &delay) || !parse_u64(&p, &count) || *p != '\0')
		return -EINVAL;
	*ret_run_ns = run;
	*ret_delay_ns = delay;
	*ret_count = count;
	return 0;
}

static char *schedstat_path(pid_t pid, pid_t tid)
{
	return g_strdup_printf("/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
}

/* Reads and parses the file on @fd from offset 0 into @item. */
static int read_fd(int fd, VsThreadCount *item)
{
	char buf[LINE_MAX_BYTES];
	ssize_t n;

	do
		n = pread(fd, buf, sizeof(buf) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return vs_schedstat_parse(buf, &item->run_ns, &item->delay_ns, &item->count);
}

int vs_schedstat_read_once(const VsSys *sys, VsThreadCount *item)
{
	g_autofree char *path = schedstat_path(item->pid, item->tid);
	int fd = vs_sys_open(sys, path, O_RDONLY);

	if (fd < 0) {
		item->error = fd == -ENOENT ? -ESRCH : fd;
		return item->error;
	}
	item->error = read_fd(fd, item);
	close(fd);
	return item->error;
}

static void held_free(gpointer data)
{
	Held *h = data;

	close(h->fd);
	g_free(h);
}

VsSchedstat *vs_schedstat_new(const VsSys *sys)
{
	VsSchedstat *s = g_new0(VsSchedstat, 1);

	s->sys = sys;
	s->held = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, held_free);
	s->keep = 1;
	return s;
}

void vs_schedstat_free(VsSchedstat *s)
{
	if (!s)
		return;
	g_hash_table_unref(s->held);
	g_free(s);
}

int vs_schedstat_read(VsSchedstat *s, VsThreadCount *item)
{
	gpointer key = GINT_TO_POINTER(item->tid);
	Held *h = g_hash_table_lookup(s->held, key);
	int r;

	if (h && (h->pid != item->pid || h->start_time != item->start_time)) {
		/* Another thread now has this TID. */
		g_hash_table_remove(s->held, key);
		h = NULL;
	}
	if (!h) {
		g_autofree char *path = schedstat_path(item->pid, item->tid);
		int fd = vs_sys_open(s->sys, path, O_RDONLY);

		if (fd < 0) {
			item->error = fd == -ENOENT ? -ESRCH : fd;
			return item->error;
		}
		h = g_new0(Held, 1);
		h->fd = fd;
		h->pid = item->pid;
		h->start_time = item->start_time;
		g_hash_table_insert(s->held, key, h);
	}
	h->read_round = s->round;
	r = read_fd(h->fd, item);
	if (r < 0)
		g_hash_table_remove(s->held, key);
	item->error = r;
	return r;
}

static gboolean unused(gpointer key, gpointer value, gpointer data)
{
	const Held *h = value;
	const VsSchedstat *s = data;

	return s->round - h->read_round >= s->keep;
}

void vs_schedstat_set_keep(VsSchedstat *s, guint sweeps)
{
	s->keep = MAX(sweeps, 1);
}

void vs_schedstat_forget(VsSchedstat *s, pid_t tid)
{
	g_hash_table_remove(s->held, GINT_TO_POINTER(tid));
}

guint vs_schedstat_sweep(VsSchedstat *s)
{
	guint closed = g_hash_table_foreach_remove(s->held, unused, s);

	s->round++;
	return closed;
}

guint vs_schedstat_n_open(const VsSchedstat *s)
{
	return g_hash_table_size(s->held);
}
