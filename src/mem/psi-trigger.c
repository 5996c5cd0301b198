/* PSI memory triggers in the main loop; see psi-trigger.h.
 *
 * A trigger is a line "some|full STALL_US WINDOW_US" written, with its NUL,
 * to an fd of /proc/pressure/memory opened O_RDWR; the kernel then reports
 * POLLPRI on that fd when the stall within a window reaches the threshold,
 * and POLLERR when the trigger is gone. Only a procfs file can do that: a
 * fixture root's regular file is refused before anything is written to it
 * (statfs says it is not procfs), so tests on fixtures exercise the
 * fallback, which is the avg10 figures read every tick. */
#include "config.h"

#include "mem/psi-trigger.h"
#include "util/error.h"
#include "util/units.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#define PSI_PATH "/proc/pressure/memory"
#define KERNEL_MIN_WINDOW_US 500000
#define KERNEL_MAX_WINDOW_US 10000000

typedef struct VsPsiTriggerOne {
	VsPsiTrigger *owner;
	bool full;
	int fd;
	GSource *source;
	guint events;
} VsPsiTriggerOne;

struct VsPsiTrigger {
	VsPsiTriggerOne one[2];      /* [0] some, [1] full */
	char *lines[3];
	VsPsiTriggerFunc func;
	gpointer user_data;
};

int64_t vs_mem_psi_trigger_window_us(int64_t want_us, uint32_t min_window_us)
{
	int64_t w = CLAMP(want_us, KERNEL_MIN_WINDOW_US, KERNEL_MAX_WINDOW_US);

	if (min_window_us > 0) {
		w = (w + min_window_us - 1) / min_window_us * min_window_us;
		if (w > KERNEL_MAX_WINDOW_US && min_window_us <= KERNEL_MAX_WINDOW_US)
			w = KERNEL_MAX_WINDOW_US / min_window_us * min_window_us;
	}
	return w;
}

static void one_close(VsPsiTriggerOne *o)
{
	if (o->source) {
		g_source_destroy(o->source);
		g_source_unref(o->source);
	}
	o->source = NULL;
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
}

static gboolean on_ready(int fd, GIOCondition cond, gpointer data)
{
	VsPsiTriggerOne *o = data;
	VsPsiTrigger *t = o->owner;

	(void)fd;
	if (cond & (G_IO_ERR | G_IO_HUP | G_IO_NVAL)) {
		/* GLib destroys the source; the reference goes in one_close().
		 * POLLNVAL: the fd is no longer open, and its number may be
		 * someone else's by now: not closed again. */
		if (!(cond & G_IO_NVAL))
			close(o->fd);
		o->fd = -1;
		if (t->func)
			t->func(o->full, true, t->user_data);
		return G_SOURCE_REMOVE;
	}
	o->events++;
	/* Nothing of @o is touched after the callback: it may free @t. */
	if (t->func)
		t->func(o->full, false, t->user_data);
	return G_SOURCE_CONTINUE;
}

/* Opens and arms one trigger; returns 0 or -errno with @error. */
static int arm(const VsSys *sys, VsPsiTriggerOne *o, const char *line, GError **error)
{
	g_autofree char *path = vs_sys_path(sys, PSI_PATH);
	struct statfs sfs;
	int fd;

	fd = vs_sys_open(sys, PSI_PATH, O_RDWR | O_NONBLOCK);
	if (fd < 0) {
		g_set_error(error, VS_ERROR, fd == -ENOENT ? VS_ERROR_NOT_FOUND : VS_ERROR_SYSTEM,
			    "cannot open %s for a PSI trigger: %s%s", path, g_strerror(-fd),
			    fd == -ENOENT ? " (kernel without PSI)" :
			    fd == -EOPNOTSUPP ? " (PSI disabled: psi=0 on the kernel command line)" : "");
		return fd;
	}
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC) {
		close(fd);
		g_set_error(error, VS_ERROR, VS_ERROR_UNAVAILABLE,
			    "%s is not a procfs file (a fixture root?): it cannot signal PSI events",
			    path);
		return -EOPNOTSUPP;
	}
	if (write(fd, line, strlen(line) + 1) < 0) {
		int r = -errno;

		close(fd);
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "cannot arm the PSI trigger \"%s\" on %s: "
			    "%s%s", line, path, g_strerror(-r),
			    r == -EINVAL ? " (the window must be a multiple of 2s without "
					   "CAP_SYS_RESOURCE)" : "");
		return r;
	}
	o->fd = fd;
	o->source = g_unix_fd_source_new(fd, G_IO_PRI | G_IO_ERR | G_IO_HUP);
	g_source_set_callback(o->source, G_SOURCE_FUNC(on_ready), o, NULL);
	g_source_attach(o->source, g_main_context_get_thread_default());
	return 0;
}

int vs_mem_psi_trigger_new(const VsSys *sys, const VsMemConf *conf, uint32_t min_window_us,
			   VsPsiTriggerFunc func, gpointer user_data,
			   VsPsiTrigger **ret_trigger, GError **error)
{
	g_autoptr(VsPsiTrigger) t = g_new0(VsPsiTrigger, 1);
	int64_t window = vs_mem_psi_trigger_window_us(conf->trigger_window_us, min_window_us);
	int64_t stall[2] = { conf->trigger_some_us, conf->trigger_full_us };
	guint n = 0;

	t->func = func;
	t->user_data = user_data;
	for (int i = 0; i < 2; i++) {
		int r;

		t->one[i].owner = t;
		t->one[i].full = i == 1;
		t->one[i].fd = -1;
		if (stall[i] <= 0)
			continue;
		t->lines[n] = g_strdup_printf("%s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT,
					      i ? "full" : "some", MIN(stall[i], window), window);
		r = arm(sys, &t->one[i], t->lines[n], error);
		n++;
		if (r < 0)
			return r;
	}
	*ret_trigger = g_steal_pointer(&t);
	return 0;
}

void vs_mem_psi_trigger_take_events(VsPsiTrigger *t, guint *ret_some, guint *ret_full)
{
	if (ret_some)
		*ret_some = t->one[0].events;
	if (ret_full)
		*ret_full = t->one[1].events;
	t->one[0].events = 0;
	t->one[1].events = 0;
}

const char *const *vs_mem_psi_trigger_lines(const VsPsiTrigger *t)
{
	return (const char *const *)t->lines;
}

int vs_mem_psi_trigger_fd(const VsPsiTrigger *t, bool full)
{
	return t->one[full ? 1 : 0].fd;
}

void vs_mem_psi_trigger_free(VsPsiTrigger *t)
{
	if (!t)
		return;
	one_close(&t->one[0]);
	one_close(&t->one[1]);
	for (int i = 0; i < 2; i++)
		g_free(t->lines[i]);
	g_free(t);
}
