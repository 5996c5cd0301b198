/* The Prometheus text format writer; see writer.h. */
#include "config.h"

#include "metrics/writer.h"

#include <math.h>
#include <stdbool.h>

static const char *type_name(VsMetricsType type)
{
	switch (type) {
	case VS_METRICS_COUNTER:
		return "counter";
	case VS_METRICS_GAUGE:
		return "gauge";
	case VS_METRICS_HISTOGRAM:
		return "histogram";
	}
	g_assert_not_reached();
}

/* HELP text: backslash and newline are escaped, double quotes are not. */
static void escape_help(GString *out, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (*p == '\\')
			g_string_append(out, "\\\\");
		else if (*p == '\n')
			g_string_append(out, "\\n");
		else
			g_string_append_c(out, *p);
	}
}

void vs_metrics_writer_family(GString *out, const char *name, VsMetricsType type,
			      const char *help)
{
	g_string_append_printf(out, "# HELP %s ", name);
	escape_help(out, help);
	g_string_append_printf(out, "\n# TYPE %s %s\n", name, type_name(type));
}

void vs_metrics_writer_escape_label(GString *out, const char *value)
{
	for (const char *p = value; *p; p++) {
		if (*p == '\\')
			g_string_append(out, "\\\\");
		else if (*p == '"')
			g_string_append(out, "\\\"");
		else if (*p == '\n')
			g_string_append(out, "\\n");
		else
			g_string_append_c(out, *p);
	}
}

/* The shortest %g text of @value that reads back as the same double. */
static void shortest(char *buf, size_t size, double value)
{
	for (int precision = 1; precision <= 17; precision++) {
		char format[8];

		g_snprintf(format, sizeof(format), "%%.%dg", precision);
		g_ascii_formatd(buf, (int)size, format, value);
		if (g_ascii_strtod(buf, NULL) == value)
			return;
	}
}

void vs_metrics_writer_value(GString *out, double value)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	if (isnan(value))
		g_string_append(out, "NaN");
	else if (isinf(value))
		g_string_append(out, value > 0 ? "+Inf" : "-Inf");
	else if (value == floor(value) && fabs(value) < 1e15)
		g_string_append_printf(out, "%.0f", value);
	else {
		shortest(buf, sizeof(buf), value);
		g_string_append(out, buf);
	}
}

void vs_metrics_writer_sample(GString *out, const char *name, const char *const *labels,
			      double value)
{
	bool open = false;

	g_string_append(out, name);
	for (guint i = 0; labels && labels[i]; i += 2) {
		if (!labels[i + 1])
			continue;
		g_string_append_printf(out, "%s%s=\"", open ? "," : "{", labels[i]);
		vs_metrics_writer_escape_label(out, labels[i + 1]);
		g_string_append_c(out, '"');
		open = true;
	}
	if (open)
		g_string_append_c(out, '}');
	g_string_append_c(out, ' ');
	vs_metrics_writer_value(out, value);
	g_string_append_c(out, '\n');
}
