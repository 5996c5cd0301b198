/* Durations and sizes; see units.h. */
#include "config.h"

#include "util/units.h"
#include "util/error.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct Unit {
	const char *suffix;
	double factor;
} Unit;

/* Splits "1.5ms" into 1.5 and "ms"; false when no number leads. */
static bool split_number(const char *text, double *ret_value, const char **ret_suffix)
{
	char *end;
	double v;

	while (g_ascii_isspace(*text))
		text++;
	if (!g_ascii_isdigit(*text))
		return false;
	v = g_ascii_strtod(text, &end);
	if (!isfinite(v) || v < 0)
		return false;
	while (g_ascii_isspace(*end))
		end++;
	*ret_value = v;
	*ret_suffix = end;
	return true;
}

static bool find_unit(const Unit *units, const char *suffix, double *ret_factor)
{
	g_autofree char *s = g_strchomp(g_strdup(suffix));

	for (const Unit *u = units; u->suffix; u++) {
		if (g_ascii_strcasecmp(s, u->suffix) == 0) {
			*ret_factor = u->factor;
			return true;
		}
	}
	return false;
}

int vs_parse_duration_us(const char *text, int64_t *ret_us, GError **error)
{
	static const Unit units[] = {
		{ "", 1e6 }, { "us", 1 }, { "usec", 1 }, { "ms", 1e3 }, { "msec", 1e3 },
		{ "s", 1e6 }, { "sec", 1e6 }, { "min", 60e6 }, { "m", 60e6 },
		{ "h", 3600e6 }, { NULL, 0 },
	};
	const char *suffix;
	double v, factor;

	if (!split_number(text, &v, &suffix) || !find_unit(units, suffix, &factor)) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
			    "\"%s\" is not a duration (a number with us, ms, s, min or h, like 500ms or 2s)",
			    text);
		return -EINVAL;
	}
	v *= factor;
	if (v > (double)INT64_MAX / 2) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "\"%s\" is too long a duration", text);
		return -ERANGE;
	}
	*ret_us = (int64_t)llround(v);
	return 0;
}

char *vs_format_duration_us(int64_t us)
{
	static const struct { const char *suffix; int64_t factor; } units[] = {
		{ "h", 3600000000LL }, { "min", 60000000LL }, { "s", 1000000 }, { "ms", 1000 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(units); i++) {
		if (llabs(us) < units[i].factor)
			continue;
		if (us % units[i].factor == 0)
			return g_strdup_printf("%" G_GINT64_FORMAT "%s", us / units[i].factor, units[i].suffix);
		if (units[i].factor >= 1000000 || us >= 10 * units[i].factor)
			return g_strdup_printf("%.1f%s", (double)us / (double)units[i].factor, units[i].suffix);
	}
	return g_strdup_printf("%" G_GINT64_FORMAT "us", us);
}

int vs_parse_size(const char *text, uint64_t *ret_bytes, GError **error)
{
	static const Unit units[] = {
		{ "", 1 }, { "B", 1 },
		{ "K", 1024.0 }, { "KiB", 1024.0 },
		{ "M", 1048576.0 }, { "MiB", 1048576.0 },
		{ "G", 1073741824.0 }, { "GiB", 1073741824.0 },
		{ "T", 1099511627776.0 }, { "TiB", 1099511627776.0 },
		{ NULL, 0 },
	};
	const char *suffix;
	double v, factor;

	if (!split_number(text, &v, &suffix) || !find_unit(units, suffix, &factor)) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
			    "\"%s\" is not a size (a number with K, M, G or T, like 512M or 4G)", text);
		return -EINVAL;
	}
	v *= factor;
	if (v >= 18446744073709551616.0) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "\"%s\" is too large a size", text);
		return -ERANGE;
	}
	*ret_bytes = (uint64_t)llround(v);
	return 0;
}

char *vs_format_size(uint64_t bytes)
{
	static const char *const names[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	int i = -1;

	while (v >= 1024.0 && i + 1 < (int)G_N_ELEMENTS(names)) {
		v /= 1024.0;
		i++;
	}
	if (i < 0)
		return g_strdup_printf("%" G_GUINT64_FORMAT " B", bytes);
	return g_strdup_printf("%.1f %s", v, names[i]);
}
