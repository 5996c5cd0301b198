/* The daemon's policy set, directory watch and override persistence; see
 * policy-state.h. */
#include "config.h"

#include "daemon/policy-state.h"
#include "util/log.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

struct VsPolicyState {
	char *dir;
	VsPolicySet *set;
	char *error;
	VsOverrides *overrides;
	char *overrides_path;

	GFileMonitor *monitor;
	gulong monitor_handler;
	guint debounce_ms;
	guint debounce_source;
	GSourceFunc on_change;
	gpointer on_change_data;
};

VsPolicyState *vs_policy_state_new(const char *dir, const char *overrides_path)
{
	VsPolicyState *ps = g_new0(VsPolicyState, 1);

	ps->dir = g_strdup(dir);
	ps->overrides_path = g_strdup(overrides_path);
	ps->set = g_new0(VsPolicySet, 1);
	ps->set->files = g_ptr_array_new_with_free_func((GDestroyNotify)vs_policy_file_free);
	ps->overrides = vs_overrides_new();
	return ps;
}

void vs_policy_state_free(VsPolicyState *ps)
{
	if (!ps)
		return;
	g_clear_handle_id(&ps->debounce_source, g_source_remove);
	if (ps->monitor) {
		g_signal_handler_disconnect(ps->monitor, ps->monitor_handler);
		g_file_monitor_cancel(ps->monitor);
		g_object_unref(ps->monitor);
	}
	vs_policy_set_free(ps->set);
	vs_overrides_free(ps->overrides);
	g_free(ps->dir);
	g_free(ps->error);
	g_free(ps->overrides_path);
	g_free(ps);
}

static void log_diags(const GPtrArray *diags)
{
	for (guint i = 0; i < diags->len; i++) {
		const VsPolicyDiag *d = g_ptr_array_index(diags, i);
		vs_log_full(d->warning ? LOG_WARNING : LOG_ERR, NULL, "policy: %s", d->message);
	}
}

bool vs_policy_state_load(VsPolicyState *ps, const char *dir)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	VsPolicySet *set;

	if (dir && g_strcmp0(dir, ps->dir) != 0) {
		g_free(ps->dir);
		ps->dir = g_strdup(dir);
	}
	set = vs_policy_set_load_dir(ps->dir, diags);
	log_diags(diags);
	if (!set) {
		const VsPolicyDiag *first = NULL;
		for (guint i = 0; i < diags->len && !first; i++) {
			const VsPolicyDiag *d = g_ptr_array_index(diags, i);
			if (!d->warning)
				first = d;
		}
		g_free(ps->error);
		ps->error = g_strdup(first ? first->message : "the policy set could not be read");
		vs_log_err("policy: %s has %u error(s); the policies in force stay (%u file(s))",
			   ps->dir, vs_policy_diags_errors(diags), ps->set->files->len);
		return false;
	}
	vs_policy_set_free(ps->set);
	ps->set = set;
	g_clear_pointer(&ps->error, g_free);
	vs_log_notice("policy: %u file(s) from %s in force", set->files->len, ps->dir);
	return true;
}

void vs_policy_state_load_overrides(VsPolicyState *ps, int64_t now_us)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autofree char *text = NULL;
	VsOverrides *loaded;

	if (!g_file_get_contents(ps->overrides_path, &text, NULL, &error)) {
		if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			vs_log_warn("overrides: %s; starting without overrides", error->message);
		return;
	}
	loaded = vs_overrides_from_json(text, now_us, diags);
	log_diags(diags);
	if (!loaded) {
		g_autofree char *aside = g_strconcat(ps->overrides_path, ".bad", NULL);
		vs_log_err("overrides: %s is unreadable; moved aside to %s, starting without overrides",
			   ps->overrides_path, aside);
		if (g_rename(ps->overrides_path, aside) < 0)
			vs_log_err("overrides: cannot move %s aside: %s", ps->overrides_path, g_strerror(errno));
		return;
	}
	vs_overrides_free(ps->overrides);
	ps->overrides = loaded;
	if (loaded->items->len)
		vs_log_notice("overrides: %u restored from %s", loaded->items->len, ps->overrides_path);
}

int vs_policy_state_save_overrides(VsPolicyState *ps)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *json = vs_overrides_to_json(ps->overrides);
	g_autofree char *dir = g_path_get_dirname(ps->overrides_path);

	if (g_mkdir_with_parents(dir, 0755) < 0) {
		int r = -errno;
		vs_log_err("overrides: cannot create %s: %s", dir, g_strerror(-r));
		return r;
	}
	/* g_file_set_contents writes a temporary file and renames it over. */
	if (!g_file_set_contents_full(ps->overrides_path, json, -1,
				      G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error)) {
		vs_log_err("overrides: cannot save: %s; they stay in force until vschedd stops",
			   error->message);
		return -EIO;
	}
	return 0;
}

bool vs_policy_state_expire(VsPolicyState *ps, int64_t now_us)
{
	g_autoptr(GPtrArray) gone = vs_overrides_expire(ps->overrides, now_us);

	if (!gone || gone->len == 0)
		return false;
	for (guint i = 0; i < gone->len; i++) {
		const VsOverride *o = g_ptr_array_index(gone, i);
		vs_log_full(LOG_NOTICE, o->domain_name, "override %s %s.%s=%s expired", o->id,
			    o->key->section, o->key->name, o->value->text);
	}
	vs_policy_state_save_overrides(ps);
	return true;
}

static gboolean on_debounced(gpointer data)
{
	VsPolicyState *ps = data;

	ps->debounce_source = 0;
	ps->on_change(ps->on_change_data);
	return G_SOURCE_REMOVE;
}

static void on_dir_changed(GFileMonitor *monitor, GFile *file, GFile *other,
			   GFileMonitorEvent event, gpointer data)
{
	VsPolicyState *ps = data;

	if (event == G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED)
		return;
	/* Restart the delay on every event: an editor's save is several. */
	g_clear_handle_id(&ps->debounce_source, g_source_remove);
	ps->debounce_source = g_timeout_add(ps->debounce_ms, on_debounced, ps);
}

void vs_policy_state_watch(VsPolicyState *ps, guint debounce_ms, GSourceFunc on_change, gpointer data)
{
	g_autoptr(GFile) dir = g_file_new_for_path(ps->dir);
	g_autoptr(GError) error = NULL;

	if (ps->monitor) {
		g_signal_handler_disconnect(ps->monitor, ps->monitor_handler);
		g_file_monitor_cancel(ps->monitor);
		g_clear_object(&ps->monitor);
	}
	ps->debounce_ms = debounce_ms;
	ps->on_change = on_change;
	ps->on_change_data = data;
	ps->monitor = g_file_monitor_directory(dir, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
	if (!ps->monitor) {
		vs_log_warn("policy: cannot watch %s (%s); reload with SIGHUP", ps->dir, error->message);
		return;
	}
	ps->monitor_handler = g_signal_connect(ps->monitor, "changed", G_CALLBACK(on_dir_changed), ps);
}

const VsPolicySet *vs_policy_state_set(const VsPolicyState *ps)
{
	return ps->set;
}

VsOverrides *vs_policy_state_overrides(VsPolicyState *ps)
{
	return ps->overrides;
}

const char *vs_policy_state_dir(const VsPolicyState *ps)
{
	return ps->dir;
}

const char *vs_policy_state_error(const VsPolicyState *ps)
{
	return ps->error;
}
