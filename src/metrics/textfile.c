/* The node_exporter textfile: the metrics text written atomically into the
 * collector's directory; see metrics.h. */
#include "config.h"

#include "metrics/metrics.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes all of @len bytes; 0 or -errno. */
static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int vs_metrics_textfile_write(const char *dir, const char *text, GError **error)
{
	g_autofree char *path = g_build_filename(dir, VS_METRICS_TEXTFILE_NAME, NULL);
	/* Hidden and not ending in .prom: the collector never reads it half-written. */
	g_autofree char *tmp = g_build_filename(dir, "." VS_METRICS_TEXTFILE_NAME ".tmp", NULL);
	int fd, r;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		r = -errno;
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "%s: %s", tmp, g_strerror(-r));
		return r;
	}
	/* The mode of an existing file, or one narrowed by the umask, is set anew. */
	r = write_all(fd, text, strlen(text));
	if (r == 0 && fchmod(fd, 0644) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "%s: %s", path, g_strerror(-r));
		return r;
	}
	return 0;
}
