/* INI-style file reader; see ini.h. */
#include "config.h"

#include "util/ini.h"
#include "util/error.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

/* Longest line accepted; a longer one is an error, not a truncation. */
#define LINE_MAX_LEN 4096

static void entry_free(VsIniEntry *e)
{
	g_free(e->section);
	g_free(e->key);
	g_free(e->value);
	g_free(e);
}

static void add_error(VsIni *ini, guint line, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void add_error(VsIni *ini, guint line, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_ptr_array_add(ini->errors, g_strdup_printf("%s:%u: %s", ini->origin, line, msg));
}

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!g_ascii_isalnum(*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

VsIni *vs_ini_parse(const char *origin, const char *text)
{
	VsIni *ini = g_new0(VsIni, 1);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autofree char *section = NULL;

	ini->origin = g_strdup(origin);
	ini->entries = g_ptr_array_new_with_free_func((GDestroyNotify)entry_free);
	ini->sections = g_ptr_array_new_with_free_func((GDestroyNotify)entry_free);
	ini->errors = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; lines[i]; i++) {
		guint lineno = i + 1;
		char *line = g_strstrip(lines[i]);
		char *eq;

		if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
			continue;
		if (strlen(line) > LINE_MAX_LEN) {
			add_error(ini, lineno, "line longer than %d characters", LINE_MAX_LEN);
			continue;
		}
		if (!g_utf8_validate(line, -1, NULL)) {
			add_error(ini, lineno, "line is not valid UTF-8");
			continue;
		}
		if (line[0] == '[') {
			size_t n = strlen(line);
			g_autofree char *name = NULL;
			if (line[n - 1] != ']') {
				add_error(ini, lineno, "section header \"%s\" lacks its closing ']'", line);
				g_clear_pointer(&section, g_free);
				continue;
			}
			name = g_strstrip(g_strndup(line + 1, n - 2));
			if (!valid_name(name)) {
				add_error(ini, lineno, "\"%s\" is not a valid section name", line);
				g_clear_pointer(&section, g_free);
				continue;
			}
			g_free(section);
			section = g_steal_pointer(&name);
			VsIniEntry *h = g_new0(VsIniEntry, 1);
			h->section = g_strdup(section);
			h->line = lineno;
			g_ptr_array_add(ini->sections, h);
			continue;
		}
		eq = strchr(line, '=');
		if (!eq) {
			add_error(ini, lineno, "\"%s\" is neither a [Section] nor a Key=Value line", line);
			continue;
		}
		*eq = '\0';
		g_strchomp(line);
		if (!valid_name(line)) {
			add_error(ini, lineno, "\"%s\" is not a valid key name", line);
			continue;
		}
		if (!section) {
			add_error(ini, lineno, "%s= stands before any [Section] header", line);
			continue;
		}
		VsIniEntry *e = g_new0(VsIniEntry, 1);
		e->section = g_strdup(section);
		e->key = g_strdup(line);
		e->value = g_strstrip(g_strdup(eq + 1));
		e->line = lineno;
		g_ptr_array_add(ini->entries, e);
	}
	return ini;
}

VsIni *vs_ini_load(const char *path, GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) local = NULL;

	if (!g_file_get_contents(path, &text, NULL, &local)) {
		g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND, "%s", local->message);
		return NULL;
	}
	return vs_ini_parse(path, text);
}

void vs_ini_free(VsIni *ini)
{
	if (!ini)
		return;
	g_free(ini->origin);
	g_ptr_array_unref(ini->entries);
	g_ptr_array_unref(ini->sections);
	g_ptr_array_unref(ini->errors);
	g_free(ini);
}

/* Case-insensitive Levenshtein distance. */
static guint edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	g_autofree guint *row = g_new(guint, lb + 1);

	for (size_t j = 0; j <= lb; j++)
		row[j] = (guint)j;
	for (size_t i = 1; i <= la; i++) {
		guint diag = row[0];
		row[0] = (guint)i;
		for (size_t j = 1; j <= lb; j++) {
			guint up = row[j];
			guint cost = g_ascii_tolower(a[i - 1]) != g_ascii_tolower(b[j - 1]);
			row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), diag + cost);
			diag = up;
		}
	}
	return row[lb];
}

const char *vs_ini_suggest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	guint best_d = G_MAXUINT;
	guint limit = MAX(1u, (guint)strlen(word) / 3);

	for (guint i = 0; candidates[i]; i++) {
		guint d = edit_distance(word, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best_d <= limit ? best : NULL;
}
