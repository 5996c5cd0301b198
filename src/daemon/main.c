/* vschedd: command line, configuration check, and start of the daemon. */
#include "config.h"

#include "daemon/conf.h"
#include "daemon/daemon.h"
#include "daemon/heap.h"
#include "policy/policy.h"
#include "util/log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char *opt_config;
static gboolean opt_foreground;
static gboolean opt_dry_run;
static gboolean opt_check;
static gboolean opt_version;
static gboolean opt_debug;

static const GOptionEntry entries[] = {
	{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
	  "Configuration file (default " VS_CONF_DEFAULT_PATH ")", "PATH" },
	{ "foreground", 'f', 0, G_OPTION_ARG_NONE, &opt_foreground,
	  "Do not detach; log to stderr (or the journal under systemd)", NULL },
	{ "dry-run", 'n', 0, G_OPTION_ARG_NONE, &opt_dry_run,
	  "Collect and plan every tick, log the plan, change nothing", NULL },
	{ "check-config", 0, 0, G_OPTION_ARG_NONE, &opt_check,
	  "Check the configuration, print \"configuration OK\" or every error, and exit", NULL },
	{ "debug", 'd', 0, G_OPTION_ARG_NONE, &opt_debug, "Log debug messages too", NULL },
	{ "version", 'V', 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL },
	{ NULL },
};

/* Checks the policy directory the configuration names; prints every
 * diagnostic. Returns true when it has no error. */
static bool check_policies(const VsConf *conf, const char *config_path)
{
	g_autofree char *dir = vs_conf_policy_dir(conf, config_path);
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicySet) set = vs_policy_set_load_dir(dir, diags);

	for (guint i = 0; i < diags->len; i++) {
		const VsPolicyDiag *d = g_ptr_array_index(diags, i);
		fprintf(stderr, "%s: %s\n", d->warning ? "warning" : "error", d->message);
	}
	return set != NULL;
}

int main(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("- vsched host resource manager daemon");
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(VsConf) conf = NULL;
	g_autoptr(VsDaemon) vsd = NULL;
	int log_level;
	const char *path;

	vs_heap_setup();
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "vschedd: %s (see vschedd --help)\n", error->message);
		return 2;
	}
	if (argc > 1) {
		fprintf(stderr, "vschedd: unexpected argument \"%s\" (see vschedd --help)\n", argv[1]);
		return 2;
	}
	if (opt_version) {
		printf("vschedd %s\n", PACKAGE_VERSION);
		return 0;
	}
	path = opt_config ? opt_config : VS_CONF_DEFAULT_PATH;
	/* The default file may be absent (built-in defaults); a named one must exist. */
	conf = vs_conf_load(path, opt_config != NULL || opt_check, errors, warnings);
	for (guint i = 0; i < warnings->len; i++)
		fprintf(stderr, "warning: %s\n", (char *)g_ptr_array_index(warnings, i));
	for (guint i = 0; i < errors->len; i++)
		fprintf(stderr, "error: %s\n", (char *)g_ptr_array_index(errors, i));
	if (opt_check) {
		if (!conf)
			return 1;
		return check_policies(conf, path) ? (printf("configuration OK\n"), 0) : 1;
	}
	if (!conf) {
		fprintf(stderr, "vschedd: not started: %s has %u error(s)\n", path, errors->len);
		return 1;
	}
	if (opt_debug)
		conf->log_level = LOG_DEBUG;
	log_level = conf->log_level;
	vs_log_init(VS_LOG_AUTO, log_level);

	vsd = vs_daemon_new(path, g_steal_pointer(&conf), opt_dry_run, &error);
	if (!vsd) {
		vs_log_err("cannot read the host: %s", error->message);
		return 1;
	}
	if (!opt_foreground) {
		if (daemon(0, 0) < 0) {
			vs_log_err("cannot detach: %s", g_strerror(errno));
			return 1;
		}
		vs_log_init(VS_LOG_SYSLOG, log_level);
	}
	return vs_daemon_run(vsd);
}
