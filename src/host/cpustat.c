/* cpu.stat throttled time and /proc/stat busy time; see cpustat.h. */
#include "config.h"

#include "host/cpustat.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* cpu.stat of v2 has about a dozen lines; 4 KiB leaves room. */
#define CPUSTAT_MAX_BYTES 4096

typedef struct Held {
	int fd;
	guint64 used_round;    /* the round of the last use */
	guint64 read_round;    /* the round of ns (0: none) */
	uint64_t ns;           /* the throttled time read in read_round */
} Held;

struct VsCpustat {
	const VsSys *sys;
	GHashTable *held;      /* dir (owned) -> Held */
	guint64 round;         /* sweeps so far plus one */
	guint keep;            /* sweeps a descriptor stays open unused, plus one */
};

int vs_cpustat_parse_throttled(const char *text, uint64_t *ret_ns)
{
	/* Line by line without copying: this runs for every vCPU each tick. */
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char value[24];
		size_t skip;
		guint64 v, scale;

		if (len >= strlen("throttled_usec ") && g_str_has_prefix(line, "throttled_usec ")) {
			skip = strlen("throttled_usec ");
			scale = 1000;
		} else if (len >= strlen("throttled_time ") && g_str_has_prefix(line, "throttled_time ")) {
			skip = strlen("throttled_time ");
			scale = 1;
		} else {
			line = end ? end + 1 : NULL;
			continue;
		}
		if (len - skip >= sizeof(value))
			return -EINVAL;
		memcpy(value, line + skip, len - skip);
		value[len - skip] = '\0';
		if (!g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT64 / scale, &v, NULL))
			return -EINVAL;
		*ret_ns = v * scale;
		return 0;
	}
	return -ENODATA;
}

int vs_cpustat_parse_proc_stat(const char *text, uint64_t *ret_busy, uint64_t *ret_total)
{
	/* cpu user nice system idle iowait irq softirq steal guest guest_nice */
	g_autofree char *line = NULL;
	g_auto(GStrv) f = NULL;
	const char *end;
	guint64 v[8] = { 0 };
	guint n;

	if (!g_str_has_prefix(text, "cpu "))
		return -EINVAL;
	end = strchr(text, '\n');
	line = end ? g_strndup(text, (gsize)(end - text)) : g_strdup(text);
	f = g_strsplit_set(line + 4, " ", -1);
	n = 0;
	for (size_t i = 0; f[i] && n < G_N_ELEMENTS(v); i++) {
		if (f[i][0] == '\0')
			continue;
		if (!g_ascii_string_to_unsigned(f[i], 10, 0, G_MAXUINT64 / 16, &v[n], NULL))
			return -EINVAL;
		n++;
	}
	if (n < 4)
		return -EINVAL;
	*ret_busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	*ret_total = *ret_busy + v[3] + v[4];
	return 0;
}

int vs_cpustat_read_host(const VsSys *sys, uint64_t *ret_busy, uint64_t *ret_total)
{
	g_autofree char *text = NULL;
	int r = vs_sys_read(sys, "/proc/stat", &text);

	if (r < 0)
		return r;
	return vs_cpustat_parse_proc_stat(text, ret_busy, ret_total);
}

int vs_cpustat_parse_unlimited(const char *text, bool v1, bool *ret_unlimited)
{
	const char *end = text + strcspn(text, " \n");
	gint64 quota;

	if (end == text)
		return -EINVAL;
	if (!v1) {
		if ((size_t)(end - text) == 3 && strncmp(text, "max", 3) == 0) {
			*ret_unlimited = true;
			return 0;
		}
	}
	{
		g_autofree char *word = g_strndup(text, (gsize)(end - text));

		if (!g_ascii_string_to_signed(word, 10, v1 ? -1 : 0, G_MAXINT64, &quota, NULL))
			return -EINVAL;
	}
	*ret_unlimited = quota < 0;
	return 0;
}

int vs_cpustat_read_unlimited(const VsSys *sys, const char *dir, bool v1, bool *ret_unlimited)
{
	g_autofree char *path = g_build_filename(dir, v1 ? "cpu.cfs_quota_us" : "cpu.max", NULL);
	g_autofree char *text = NULL;
	int r = vs_sys_read(sys, path, &text);

	if (r < 0)
		return r;
	return vs_cpustat_parse_unlimited(text, v1, ret_unlimited);
}

static void held_free(gpointer data)
{
	Held *h = data;

	close(h->fd);
	g_free(h);
}

VsCpustat *vs_cpustat_new(const VsSys *sys)
{
	VsCpustat *c = g_new0(VsCpustat, 1);

	c->sys = sys;
	c->held = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, held_free);
	c->round = 1;
	c->keep = 1;
	return c;
}

void vs_cpustat_free(VsCpustat *c)
{
	if (!c)
		return;
	g_hash_table_unref(c->held);
	g_free(c);
}

int vs_cpustat_throttled(VsCpustat *c, const char *dir, uint64_t *ret_ns)
{
	Held *h = g_hash_table_lookup(c->held, dir);
	char buf[CPUSTAT_MAX_BYTES];
	ssize_t n;
	int r;

	if (!h) {
		g_autofree char *path = g_build_filename(dir, "cpu.stat", NULL);
		int fd = vs_sys_open(c->sys, path, O_RDONLY);

		if (fd < 0)
			return fd;
		h = g_new0(Held, 1);
		h->fd = fd;
		g_hash_table_insert(c->held, g_strdup(dir), h);
	}
	h->used_round = c->round;
	do
		n = pread(h->fd, buf, sizeof(buf) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r = -errno;
		g_hash_table_remove(c->held, dir);
		return r;
	}
	buf[n] = '\0';
	r = vs_cpustat_parse_throttled(buf, &h->ns);
	if (r < 0) {
		g_hash_table_remove(c->held, dir);
		return r;
	}
	h->read_round = c->round;
	*ret_ns = h->ns;
	return 0;
}

int vs_cpustat_throttled_once(VsCpustat *c, const char *dir, uint64_t *ret_ns)
{
	Held *h = g_hash_table_lookup(c->held, dir);

	if (h && h->read_round == c->round) {
		h->used_round = c->round;
		*ret_ns = h->ns;
		return 0;
	}
	return vs_cpustat_throttled(c, dir, ret_ns);
}

static gboolean unused(gpointer key, gpointer value, gpointer data)
{
	const Held *h = value;
	const VsCpustat *c = data;

	return c->round - h->used_round >= c->keep;
}

void vs_cpustat_set_keep(VsCpustat *c, guint sweeps)
{
	c->keep = MAX(sweeps, 1);
}

guint vs_cpustat_sweep(VsCpustat *c)
{
	guint closed = g_hash_table_foreach_remove(c->held, unused, c);

	c->round++;
	return closed;
}
