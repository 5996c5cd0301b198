/* /proc/meminfo: the host's memory totals for the balloon planner. Sizes
 * in the file are kB and become bytes here. MemTotal and MemAvailable
 * (Linux >= 3.14) are required; MemFree, SwapTotal and SwapFree are read
 * when present and 0 otherwise. */
#include "config.h"

#include "host/host.h"
#include "host/host-private.h"
#include "util/error.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define MEMINFO_PATH "/proc/meminfo"

static const struct {
	const char *key;
	size_t offset;
} fields[] = {
	{ "MemTotal", offsetof(VsMemInfo, total) },
	{ "MemAvailable", offsetof(VsMemInfo, available) },
	{ "MemFree", offsetof(VsMemInfo, free) },
	{ "SwapTotal", offsetof(VsMemInfo, swap_total) },
	{ "SwapFree", offsetof(VsMemInfo, swap_free) },
};

/* Parses the value part of a line, "   24683620 kB", into bytes. */
static bool parse_kb(const char *s, uint64_t *ret_bytes)
{
	g_autofree char *copy = g_strstrip(g_strdup(s));
	char *unit = strchr(copy, ' ');
	guint64 kb;

	if (!unit || strcmp(unit, " kB") != 0)
		return false;
	*unit = '\0';
	if (!g_ascii_string_to_unsigned(copy, 10, 0, G_MAXUINT64 / 1024, &kb, NULL))
		return false;
	*ret_bytes = kb * 1024;
	return true;
}

/* vs_meminfo_parse() with a reason for the operator. */
static int parse(const char *text, VsMemInfo *ret, GError **error)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	VsMemInfo mem = { 0 };
	bool seen[G_N_ELEMENTS(fields)] = { false };

	for (size_t n = 0; lines[n]; n++) {
		const char *line = lines[n];
		const char *colon = strchr(line, ':');

		if (line[0] == '\0')
			continue;
		if (!colon || colon == line) {
			g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
				    "line %zu: \"%s\" is not \"Key: value\"", n + 1, line);
			return -EINVAL;
		}
		for (size_t f = 0; f < G_N_ELEMENTS(fields); f++) {
			size_t len = strlen(fields[f].key);
			uint64_t *slot = (uint64_t *)((char *)&mem + fields[f].offset);

			if ((size_t)(colon - line) != len || strncmp(line, fields[f].key, len) != 0)
				continue;
			if (seen[f]) {
				g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
					    "line %zu: %s appears twice", n + 1, fields[f].key);
				return -EINVAL;
			}
			if (!parse_kb(colon + 1, slot)) {
				g_autofree char *value = g_strstrip(g_strdup(colon + 1));

				g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
					    "line %zu: %s: \"%s\" is not a size in kB",
					    n + 1, fields[f].key, value);
				return -EINVAL;
			}
			seen[f] = true;
		}
	}
	if (!seen[0] || mem.total == 0) {
		g_set_error_literal(error, VS_ERROR, VS_ERROR_INVALID,
				    seen[0] ? "MemTotal is 0" : "no MemTotal line");
		return -EINVAL;
	}
	if (!seen[1]) {
		g_set_error_literal(error, VS_ERROR, VS_ERROR_INVALID,
				    "no MemAvailable line (it needs Linux 3.14 or later)");
		return -EINVAL;
	}
	*ret = mem;
	return 0;
}

int vs_meminfo_parse(const char *text, VsMemInfo *ret)
{
	return parse(text, ret, NULL);
}

int vs_meminfo_read(const VsSys *sys, VsMemInfo *ret, GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) parse_error = NULL;
	int r = vs_sys_read(sys, MEMINFO_PATH, &text);

	if (r < 0)
		return vs_host_file_error(error, sys, MEMINFO_PATH, r);
	if (parse(text, ret, &parse_error) < 0)
		return vs_host_file_invalid(error, sys, MEMINFO_PATH, "%s", parse_error->message);
	return 0;
}
