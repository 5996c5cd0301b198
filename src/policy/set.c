/* A set of policy files: every "*.policy" of a directory in lexical order
 * (or a list of files, for `vschedctl policy check`), read and parsed. A set
 * is all or nothing: when any file has an error the set is not returned, so
 * that the caller keeps the last good one; every diagnostic of every file is
 * reported either way. The only file reading of the policy core is here. */
#include "config.h"

#include "policy/policy-private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A policy file is a few dozen lines; anything larger is a mistake. */
#define POLICY_FILE_MAX (1024 * 1024)

/* Reads @path whole; NULL with a reason in @ret_why. */
static char *read_text(const char *path, char **ret_why)
{
	g_autoptr(GString) text = g_string_new(NULL);
	FILE *fp = fopen(path, "re");
	char buf[16384];
	size_t n;

	if (!fp) {
		*ret_why = g_strdup_printf("cannot read: %s", g_strerror(errno));
		return NULL;
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0 && text->len <= POLICY_FILE_MAX)
		g_string_append_len(text, buf, (gssize)n);
	if (ferror(fp)) {
		*ret_why = g_strdup_printf("cannot read: %s", g_strerror(errno));
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	if (text->len > POLICY_FILE_MAX) {
		*ret_why = g_strdup_printf("larger than %d KiB; a policy file is a few lines of text",
					   POLICY_FILE_MAX / 1024);
		return NULL;
	}
	if (memchr(text->str, '\0', text->len)) {
		*ret_why = g_strdup("contains a NUL byte; a policy file is text");
		return NULL;
	}
	return g_string_free(g_steal_pointer(&text), FALSE);
}

static VsPolicySet *set_new(const char *dir)
{
	VsPolicySet *set = g_new0(VsPolicySet, 1);

	set->dir = g_strdup(dir);
	set->files = g_ptr_array_new_with_free_func((GDestroyNotify)vs_policy_file_free);
	return set;
}

void vs_policy_set_free(VsPolicySet *set)
{
	if (!set)
		return;
	g_free(set->dir);
	g_ptr_array_unref(set->files);
	g_free(set);
}

/* Parses each of @paths into @set; false when any has an error. */
static bool load_paths(VsPolicySet *set, const char *const *paths, GPtrArray *diags)
{
	bool ok = true;

	for (guint i = 0; paths[i]; i++) {
		g_autofree char *why = NULL;
		g_autofree char *text = read_text(paths[i], &why);
		VsPolicyFile *f;

		if (!text) {
			vs_policy_diag_add(diags, paths[i], 0, NULL, false, "%s", why);
			ok = false;
			continue;
		}
		f = vs_policy_file_parse(paths[i], text, diags);
		if (!f) {
			ok = false;
			continue;
		}
		g_ptr_array_add(set->files, f);
	}
	return ok;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

VsPolicySet *vs_policy_set_load_dir(const char *dir, GPtrArray *diags)
{
	g_autoptr(VsPolicySet) set = set_new(dir);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
	const char *name;

	if (!d) {
		if (g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return g_steal_pointer(&set);
		vs_policy_diag_add(diags, dir, 0, NULL, false, "cannot read the directory: %s",
				   error->message);
		return NULL;
	}
	while ((name = g_dir_read_name(d)))
		if (name[0] != '.' && g_str_has_suffix(name, ".policy"))
			g_ptr_array_add(names, g_strdup(name));
	g_ptr_array_sort(names, compare_names);
	for (guint i = 0; i < names->len; i++) {
		char *path = g_build_filename(dir, g_ptr_array_index(names, i), NULL);
		if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
			vs_policy_diag_add(diags, path, 0, NULL, true, "not a regular file; ignored");
			g_free(path);
			continue;
		}
		g_ptr_array_add(paths, path);
	}
	g_ptr_array_add(paths, NULL);
	if (!load_paths(set, (const char *const *)paths->pdata, diags))
		return NULL;
	return g_steal_pointer(&set);
}

VsPolicySet *vs_policy_set_load_files(const char *const *paths, GPtrArray *diags)
{
	g_autoptr(VsPolicySet) set = set_new(NULL);

	if (!load_paths(set, paths, diags))
		return NULL;
	return g_steal_pointer(&set);
}
