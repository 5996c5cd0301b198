/* A reader for INI-style files in the manner of systemd units, used by
 * vschedd.conf and the policy files: "[Section]" headers, "Key=Value" lines,
 * comments starting with '#' or ';', blank lines. Keys may repeat (the
 * caller decides whether that appends or overrides). Every entry keeps its
 * line number so that errors can name file and line. */
#pragma once

#include <glib.h>

typedef struct VsIniEntry {
	char *section;   /* never NULL */
	char *key;
	char *value;     /* white space trimmed; may be empty */
	guint line;      /* 1-based */
} VsIniEntry;

typedef struct VsIni {
	char *origin;        /* the file name used in messages */
	GPtrArray *entries;  /* VsIniEntry, in file order */
	GPtrArray *sections; /* VsIniEntry with key == NULL: each section header once */
	GPtrArray *errors;   /* char *, "origin:line: message", syntax errors in order */
} VsIni;

/* Parses @text (NUL-terminated). Lines with syntax errors are recorded in
 * ->errors and skipped; the rest is kept, so a caller can report every
 * mistake of a file at once. Never fails; free with vs_ini_free(). */
VsIni *vs_ini_parse(const char *origin, const char *text);
/* Reads and parses a file; NULL with @error when it cannot be read. */
VsIni *vs_ini_load(const char *path, GError **error);
void vs_ini_free(VsIni *ini);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsIni, vs_ini_free)

/* The closest of @candidates (NULL-terminated) to @word by edit distance,
 * ignoring case, when it is close enough to be a likely typo; else NULL. */
const char *vs_ini_suggest(const char *word, const char *const *candidates);
