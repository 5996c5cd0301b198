/* Pressure stall information: /proc/pressure/{memory,cpu,io}. Each file has
 * a "some" line and (memory, io, and cpu since Linux 5.13) a "full" line:
 *   some avg10=0.00 avg60=0.00 avg300=0.00 total=0
 * A missing file means the kernel has no PSI (or was booted with psi=0):
 * that is reported as available=false, not as an error. */
#include "config.h"

#include "host/host.h"
#include "host/host-private.h"
#include "util/error.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* Parses "avg10=1.23" (percent, 0..100) for the expected @key. */
static bool parse_avg(const char *token, const char *key, double *ret)
{
	size_t len = strlen(key);
	const char *s;
	char *end = NULL;
	double v;

	if (strncmp(token, key, len) != 0 || token[len] != '=')
		return false;
	s = token + len + 1;
	if (!g_ascii_isdigit(s[0]))
		return false;
	v = g_ascii_strtod(s, &end);
	if (*end != '\0' || !isfinite(v) || v > 100.0)
		return false;
	*ret = v;
	return true;
}

/* Parses one "some ..." / "full ..." line after its first word. */
static bool parse_line(char **tokens, VsPsiLine *ret)
{
	VsPsiLine line;
	guint64 total;

	if (g_strv_length(tokens) != 5)
		return false;
	if (!parse_avg(tokens[1], "avg10", &line.avg10) ||
	    !parse_avg(tokens[2], "avg60", &line.avg60) ||
	    !parse_avg(tokens[3], "avg300", &line.avg300))
		return false;
	if (strncmp(tokens[4], "total=", 6) != 0 ||
	    !g_ascii_string_to_unsigned(tokens[4] + 6, 10, 0, G_MAXUINT64, &total, NULL))
		return false;
	line.total_us = total;
	*ret = line;
	return true;
}

/* vs_psi_parse() with a reason for the operator. */
static int parse(const char *text, VsPsi *ret, GError **error)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	VsPsi psi = { .available = true };
	bool has_some = false;

	for (size_t n = 0; lines[n]; n++) {
		g_auto(GStrv) tokens = NULL;
		VsPsiLine *slot;
		bool *seen;

		if (lines[n][0] == '\0')
			continue;
		tokens = g_strsplit(lines[n], " ", -1);
		if (strcmp(tokens[0], "some") == 0) {
			slot = &psi.some;
			seen = &has_some;
		} else if (strcmp(tokens[0], "full") == 0) {
			slot = &psi.full;
			seen = &psi.has_full;
		} else {
			g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
				    "line %zu: \"%s\" is neither a \"some\" nor a \"full\" line",
				    n + 1, lines[n]);
			return -EINVAL;
		}
		if (*seen) {
			g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
				    "line %zu: a second \"%s\" line", n + 1, tokens[0]);
			return -EINVAL;
		}
		if (!parse_line(tokens, slot)) {
			g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
				    "line %zu: \"%s\" is not \"%s avg10=N avg60=N avg300=N total=N\"",
				    n + 1, lines[n], tokens[0]);
			return -EINVAL;
		}
		*seen = true;
	}
	if (!has_some) {
		g_set_error_literal(error, VS_ERROR, VS_ERROR_INVALID, "no \"some\" line");
		return -EINVAL;
	}
	*ret = psi;
	return 0;
}

int vs_psi_parse(const char *text, VsPsi *ret)
{
	return parse(text, ret, NULL);
}

int vs_psi_read(const VsSys *sys, const char *resource, VsPsi *ret, GError **error)
{
	g_autofree char *path = g_strdup_printf("/proc/pressure/%s", resource);
	g_autofree char *text = NULL;
	g_autoptr(GError) parse_error = NULL;
	int r = vs_sys_read(sys, path, &text);

	/* EOPNOTSUPP: the file exists but PSI was disabled at boot. */
	if (r == -ENOENT || r == -EOPNOTSUPP) {
		*ret = (VsPsi){ .available = false };
		return 0;
	}
	if (r < 0)
		return vs_host_file_error(error, sys, path, r);
	if (parse(text, ret, &parse_error) < 0)
		return vs_host_file_invalid(error, sys, path, "%s", parse_error->message);
	return 0;
}
