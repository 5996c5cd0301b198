/* Diagnostics of policy files and overrides: one problem each, with file,
 * line, key and a full sentence in the one format every message of the
 * policy core uses ("FILE:LINE: Key=value: what is wrong and what is
 * allowed"), and whether it is an error or only a warning. */
#include "config.h"

#include "policy/policy-private.h"

#include <stdarg.h>

void vs_policy_diag_add(GPtrArray *diags, const char *file, guint line, const char *key,
			bool warning, const char *fmt, ...)
{
	VsPolicyDiag *d = g_new0(VsPolicyDiag, 1);
	g_autofree char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	d->file = g_strdup(file);
	d->line = line;
	d->key = g_strdup(key);
	d->warning = warning;
	if (line)
		d->message = g_strdup_printf("%s:%u: %s", file, line, text);
	else
		d->message = g_strdup_printf("%s: %s", file, text);
	g_ptr_array_add(diags, d);
}

void vs_policy_diag_free(VsPolicyDiag *d)
{
	if (!d)
		return;
	g_free(d->file);
	g_free(d->key);
	g_free(d->message);
	g_free(d);
}

GPtrArray *vs_policy_diags_new(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)vs_policy_diag_free);
}

guint vs_policy_diags_errors(const GPtrArray *diags)
{
	guint n = 0;

	for (guint i = 0; i < diags->len; i++)
		n += !((const VsPolicyDiag *)g_ptr_array_index(diags, i))->warning;
	return n;
}
