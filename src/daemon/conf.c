/* vschedd.conf parsing and validation from the key table; see conf.h. */
#include "config.h"

#include "daemon/conf.h"
#include "util/error.h"
#include "util/ini.h"
#include "util/units.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <syslog.h>

#define MB (INT64_C(1) << 20)
#define GB (INT64_C(1) << 30)
#define TB (INT64_C(1) << 40)

#define KEY(sec, nm, ty, def, mn, mx, field, empty, restart, hl) \
	{ sec, nm, ty, def, mn, mx, offsetof(VsConf, field), empty, restart, hl }

const VsConfKey vs_conf_keys[] = {
	KEY("Daemon", "TickInterval", VS_CONF_DURATION, "1s", 10000, 60000000, tick_interval_us,
	    false, false,
	    "Time between periodic ticks (collect, plan, act). Events (a guest starting, "
	    "a vCPU added, libvirtd returning) run a tick sooner."),
	KEY("Daemon", "EventDebounce", VS_CONF_DURATION, "50ms", 0, 5000000, event_debounce_us,
	    false, false,
	    "How long to gather events before the tick they cause, so a burst of events "
	    "costs one tick."),
	KEY("Daemon", "StealSampleTicks", VS_CONF_NUMBER, "5", 1, 10, steal_sample_ticks, false,
	    false,
	    "Every how many ticks the steal counters of a guest that needs no per-tick figures "
	    "are read (a whole number; 1: every guest every tick); the guests take turns. A "
	    "guest is read every tick while its CoSchedule= is relaxed, a steal condition it "
	    "uses is shorter than 6 such intervals, its steal alert is on, or it had 10% steal "
	    "or more; the counters are cumulative, so nothing is lost in between."),
	KEY("Daemon", "LibvirtURI", VS_CONF_STRING, "qemu:///system", 0, 0, libvirt_uri,
	    false, true, "The libvirt connection to manage."),
	KEY("Daemon", "LibvirtStatusDir", VS_CONF_PATH, "/run/libvirt/qemu", 0, 0, libvirt_status_dir,
	    false, true,
	    "Where libvirt keeps the status XML of running domains; vCPU thread IDs are "
	    "read from there and checked against /proc."),
	KEY("Daemon", "ControlSocket", VS_CONF_PATH, "/run/vsched/vschedd.sock", 0, 0, control_socket,
	    false, true, "The control socket that vschedctl talks to."),
	KEY("Daemon", "ControlGroup", VS_CONF_STRING, "vsched", 0, 0, control_group,
	    true, true,
	    "Members of this group may use the read-only verbs of vschedctl. Empty, or a "
	    "group that does not exist: root only."),
	KEY("Daemon", "PolicyDirectory", VS_CONF_PATH, "", 0, 0, policy_dir, true, false,
	    "Where the policy files (*.policy) are read from, in lexical order. Empty: the "
	    "policy.d directory beside this file."),
	KEY("Daemon", "OverridesFile", VS_CONF_PATH, "/var/lib/vsched/overrides.json", 0, 0,
	    overrides_file, false, true,
	    "Where temporary overrides from vschedctl are kept, so that they survive a restart."),
	KEY("Daemon", "SysRoot", VS_CONF_PATH, "", 0, 0, sysroot, true, true,
	    "Read /proc, /sys and libvirt's run-time files below this directory instead of "
	    "/. For tests against fixture trees; leave empty on real hosts."),
	KEY("Daemon", "LogLevel", VS_CONF_LOG_LEVEL, "info", 0, 0, log_level, false, false,
	    "Least important messages logged: err, warning, notice, info or debug."),
	KEY("Daemon", "ManagedCPUs", VS_CONF_CPULIST, "", 0, 0, managed_cpus, true, false,
	    "The host CPUs whose time vsched hands out to vCPUs (a CPU list like 2-15). "
	    "Housekeeping CPUs in it are left out. Empty: every online CPU but the "
	    "housekeeping CPUs."),
	KEY("Daemon", "HousekeepingCPUs", VS_CONF_CPULIST, "", 0, 0, housekeeping_cpus, true, false,
	    "The host CPUs kept for the host and for QEMU's emulator and I/O threads; no vCPU "
	    "runs there. Empty: CPU 0 when the host has more than one online CPU, else none; "
	    "none: no housekeeping CPU (emulator threads then run on the shared pool)."),
	KEY("Daemon", "OvercommitLimit", VS_CONF_NUMBER, "4", 1, 1000, overcommit_limit, false,
	    false,
	    "How many vCPUs the shared pool may carry per CPU before the guests placed past "
	    "it get a warning in their reasons (they are placed all the same)."),
	KEY("Daemon", "AppliedFile", VS_CONF_PATH, "/run/vsched/applied.json", 0, 0, applied_file,
	    false, true,
	    "Where vschedd records every CPU setting it changed and the value it found before, "
	    "so that a restarted daemon neither repeats nor forgets them and a clean stop "
	    "restores them."),
	KEY("Daemon", "Act", VS_CONF_BOOL, "yes", 0, 0, act, false, false,
	    "Whether vschedd changes CPU settings. no: it plans every tick and logs what it "
	    "would set, as vschedd --dry-run does."),
	KEY("Daemon", "MemoryBudget", VS_CONF_SIZE, "", 64 * MB, 1024 * TB, mem.budget, true, false,
	    "The most memory all running guests together may hold, as balloon targets; vsched "
	    "shrinks them to fit even when the host is not short. Empty: no budget."),
	KEY("Daemon", "MemorySoftAvailable", VS_CONF_PERCENT, "20%", 1, 90,
	    mem.available_pct[VS_MEM_SOFT], false, false,
	    "MemAvailable below this share of MemTotal puts the host in the soft memory state: "
	    "no memory is given back and guests are shrunk until it is above the line again."),
	KEY("Daemon", "MemoryHardAvailable", VS_CONF_PERCENT, "10%", 1, 90,
	    mem.available_pct[VS_MEM_HARD], false, false,
	    "MemAvailable below this share of MemTotal puts the host in the hard memory state: "
	    "guests are shrunk continuously at the host rate."),
	KEY("Daemon", "MemoryCriticalAvailable", VS_CONF_PERCENT, "5%", 1, 90,
	    mem.available_pct[VS_MEM_CRITICAL], false, false,
	    "MemAvailable below this share of MemTotal puts the host in the critical memory "
	    "state: guests are shrunk at MemoryCriticalStepFactor times the rates."),
	KEY("Daemon", "MemorySoftPressure", VS_CONF_PERCENT, "5%", 0, 100, mem.soft_psi_some, false,
	    false,
	    "PSI memory pressure (some, avg10) at or above this enters the soft memory state. "
	    "100%: PSI averages never do."),
	KEY("Daemon", "MemoryHardPressure", VS_CONF_PERCENT, "20%", 0, 100, mem.hard_psi_some, false,
	    false,
	    "PSI memory pressure (some, avg10) at or above this enters the hard memory state. "
	    "100%: PSI averages never do."),
	KEY("Daemon", "MemoryCriticalPressure", VS_CONF_PERCENT, "10%", 0, 100, mem.critical_psi_full,
	    false, false,
	    "PSI memory pressure (full, avg10: every task stalled) at or above this enters the "
	    "critical memory state. 100%: PSI averages never do."),
	KEY("Daemon", "MemorySoftSwap", VS_CONF_PERCENT, "50%", 0, 100, mem.soft_swap_pct, false,
	    false,
	    "Swap in use at or above this share of SwapTotal enters the soft memory state. 0%: "
	    "swap use is not looked at."),
	KEY("Daemon", "MemoryHysteresis", VS_CONF_PERCENT, "5%", 0, 50, mem.hysteresis_pct, false,
	    false,
	    "A memory state is left only when MemAvailable is this many points of MemTotal above "
	    "its line (swap use this many points below), and PSI under half its threshold."),
	KEY("Daemon", "MemoryMinDwell", VS_CONF_DURATION, "10s", 0, 600000000, mem.min_dwell_us,
	    false, false,
	    "The least time the host stays in a memory state before it may step down to a lower "
	    "one (stepping up is immediate)."),
	KEY("Daemon", "MemoryTriggerWindow", VS_CONF_DURATION, "2s", 500000, 10000000,
	    mem.trigger_window_us, false, false,
	    "The window of the PSI memory triggers, rounded up to what the kernel allows vschedd "
	    "(whole 2s without CAP_SYS_RESOURCE)."),
	KEY("Daemon", "MemoryTriggerSome", VS_CONF_DURATION, "150ms", 0, 10000000, mem.trigger_some_us,
	    false, false,
	    "A PSI trigger wakes vschedd when some tasks stall this long on memory within the "
	    "window; it then enters at least the soft memory state. 0: not armed."),
	KEY("Daemon", "MemoryTriggerFull", VS_CONF_DURATION, "100ms", 0, 10000000, mem.trigger_full_us,
	    false, false,
	    "A PSI trigger wakes vschedd when all tasks stall this long on memory within the "
	    "window; it then enters at least the hard memory state. 0: not armed."),
	KEY("Daemon", "MemoryHostStepPerSecond", VS_CONF_SIZE, "1G", 1 * MB, 1024 * TB,
	    mem.host_step_per_s, false, false,
	    "How much all balloon targets together may change per second, in either direction."),
	KEY("Daemon", "MemoryCriticalStepFactor", VS_CONF_NUMBER, "4", 1, 100,
	    mem.critical_step_factor, false, false,
	    "In the critical memory state the host rate and each guest's MaxStepPerSecond= are "
	    "multiplied by this."),
	KEY("Daemon", "MemoryMinChange", VS_CONF_SIZE, "16M", 0, 16 * GB, mem.min_change, false, false,
	    "Balloon target changes smaller than this are skipped, unless they reach a floor or "
	    "the maximum."),
	KEY("Daemon", "MemoryStatsPeriod", VS_CONF_DURATION, "1s", 1000000, 60000000,
	    mem.stats_period_us, false, false,
	    "The balloon statistics period vschedd sets on each guest (whole seconds); statistics "
	    "older than three periods are stale."),
	KEY("Daemon", "MetricsDirectory", VS_CONF_PATH, "", 0, 0, metrics_dir, true, false,
	    "A directory where vschedd writes its metrics as vsched.prom, atomically, for "
	    "node_exporter's textfile collector. Empty: no file (vschedctl metrics prints them)."),
	KEY("Daemon", "MetricsInterval", VS_CONF_DURATION, "15s", 1000000, 3600000000,
	    metrics_interval_us, false, false,
	    "How often the metrics file in MetricsDirectory= is written."),
	KEY("Daemon", "DropCapabilities", VS_CONF_BOOL, "yes", 0, 0, drop_capabilities, false,
	    true,
	    "Whether vschedd drops, once started, every capability but those it uses "
	    "(CAP_SYS_NICE, CAP_NET_ADMIN, CAP_SYS_RESOURCE). no: for debugging only."),
	{ NULL },
};

static const char *const yes_words[] = { "yes", "true", "on", "1", NULL };
static const char *const no_words[] = { "no", "false", "off", "0", NULL };

static const char *const log_levels[] = { "emerg", "alert", "crit", "err", "warning",
					  "notice", "info", "debug", NULL };

/* Stores @value for @key into @conf; false with @ret_why on a bad value. */
static bool set_value(VsConf *conf, const VsConfKey *key, const char *value, char **ret_why)
{
	void *field = (char *)conf + key->offset;
	g_autoptr(GError) error = NULL;

	if (value[0] == '\0' && !key->allow_empty) {
		*ret_why = g_strdup("must not be empty");
		return false;
	}
	switch (key->type) {
	case VS_CONF_DURATION: {
		int64_t us;
		if (vs_parse_duration_us(value, &us, &error) < 0) {
			*ret_why = g_strdup(error->message);
			return false;
		}
		if (us < key->min || us > key->max) {
			g_autofree char *lo = vs_format_duration_us(key->min);
			g_autofree char *hi = vs_format_duration_us(key->max);
			*ret_why = g_strdup_printf("out of range %s..%s", lo, hi);
			return false;
		}
		*(int64_t *)field = us;
		return true;
	}
	case VS_CONF_PATH:
		if (value[0] != '\0' && value[0] != '/') {
			*ret_why = g_strdup("must be an absolute path");
			return false;
		}
		G_GNUC_FALLTHROUGH;
	case VS_CONF_STRING:
		g_free(*(char **)field);
		*(char **)field = g_strdup(value);
		return true;
	case VS_CONF_LOG_LEVEL:
		for (int i = 0; log_levels[i]; i++) {
			if (g_ascii_strcasecmp(value, log_levels[i]) == 0) {
				*(int *)field = i;
				return true;
			}
		}
		*ret_why = g_strdup("must be one of err, warning, notice, info, debug");
		return false;
	case VS_CONF_CPULIST: {
		VsCpuSet *set = NULL;

		if (g_ascii_strcasecmp(value, "none") == 0) {
			set = vs_cpuset_new();
		} else if (value[0] != '\0') {
			set = vs_cpuset_parse(value, &error);
			if (!set) {
				*ret_why = g_strdup(error->message);
				return false;
			}
		}
		vs_cpuset_free(*(VsCpuSet **)field);
		*(VsCpuSet **)field = set;
		return true;
	}
	case VS_CONF_NUMBER: {
		char *end = NULL;
		double v = g_ascii_strtod(value, &end);

		if (end == value || *end != '\0' || !(v >= (double)key->min && v <= (double)key->max)) {
			*ret_why = g_strdup_printf("must be a number from %" G_GINT64_FORMAT " to %"
						   G_GINT64_FORMAT, key->min, key->max);
			return false;
		}
		*(double *)field = v;
		return true;
	}
	case VS_CONF_BOOL:
		for (int i = 0; yes_words[i]; i++) {
			if (g_ascii_strcasecmp(value, yes_words[i]) == 0 ||
			    g_ascii_strcasecmp(value, no_words[i]) == 0) {
				*(bool *)field = g_ascii_strcasecmp(value, yes_words[i]) == 0;
				return true;
			}
		}
		*ret_why = g_strdup("must be yes or no");
		return false;
	case VS_CONF_SIZE: {
		uint64_t bytes = 0;

		if (value[0] != '\0' && vs_parse_size(value, &bytes, &error) < 0) {
			*ret_why = g_strdup(error->message);
			return false;
		}
		if (value[0] != '\0' && (bytes < (uint64_t)key->min || bytes > (uint64_t)key->max)) {
			g_autofree char *lo = vs_format_size((uint64_t)key->min);
			g_autofree char *hi = vs_format_size((uint64_t)key->max);
			*ret_why = g_strdup_printf("out of range %s..%s", lo, hi);
			return false;
		}
		*(uint64_t *)field = bytes;
		return true;
	}
	case VS_CONF_PERCENT: {
		char *end = NULL;
		double v = g_ascii_strtod(value, &end);

		if (end != value && *end == '%')
			end++;
		if (end == value || *end != '\0' || !(v >= (double)key->min && v <= (double)key->max)) {
			*ret_why = g_strdup_printf("must be a percentage from %" G_GINT64_FORMAT "%% to %"
						   G_GINT64_FORMAT "%%", key->min, key->max);
			return false;
		}
		*(double *)field = v;
		return true;
	}
	}
	g_assert_not_reached();
}

VsConf *vs_conf_new_default(void)
{
	g_autoptr(VsConf) conf = g_new0(VsConf, 1);

	for (const VsConfKey *k = vs_conf_keys; k->name; k++) {
		g_autofree char *why = NULL;
		if (!set_value(conf, k, k->default_value, &why))
			g_error("built-in default %s=%s is invalid: %s", k->name, k->default_value, why);
	}
	return g_steal_pointer(&conf);
}

static const VsConfKey *find_key(const char *section, const char *name)
{
	for (const VsConfKey *k = vs_conf_keys; k->name; k++)
		if (strcmp(k->section, section) == 0 && strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static void report_unknown(const VsIni *ini, const VsIniEntry *e, GPtrArray *errors)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	const char *hint;

	for (const VsConfKey *k = vs_conf_keys; k->name; k++)
		if (strcmp(k->section, e->section) == 0)
			g_ptr_array_add(names, (gpointer)k->name);
	g_ptr_array_add(names, NULL);
	hint = vs_ini_suggest(e->key, (const char *const *)names->pdata);
	g_ptr_array_add(errors, g_strdup_printf("%s:%u: unknown key %s= in [%s]%s%s%s", ini->origin,
						e->line, e->key, e->section,
						hint ? " (did you mean " : "", hint ? hint : "",
						hint ? "=?)" : ""));
}

/* The Memory*= keys that must agree with each other; adds each problem to
 * @errors and returns false when there is any. */
static bool mem_conf_check(const VsMemConf *m, const char *path, GPtrArray *errors)
{
	guint n = errors->len;

	if (!(m->available_pct[VS_MEM_SOFT] > m->available_pct[VS_MEM_HARD] &&
	      m->available_pct[VS_MEM_HARD] > m->available_pct[VS_MEM_CRITICAL]))
		g_ptr_array_add(errors, g_strdup_printf("%s: MemorySoftAvailable=%g%% > MemoryHardAvailable=%g%% > "
							"MemoryCriticalAvailable=%g%% must hold", path,
							m->available_pct[VS_MEM_SOFT],
							m->available_pct[VS_MEM_HARD],
							m->available_pct[VS_MEM_CRITICAL]));
	if (m->available_pct[VS_MEM_SOFT] + m->hysteresis_pct > 100)
		g_ptr_array_add(errors, g_strdup_printf("%s: MemorySoftAvailable= plus MemoryHysteresis= exceeds "
							"100%%: the soft state could never be left", path));
	if (m->trigger_some_us > m->trigger_window_us || m->trigger_full_us > m->trigger_window_us)
		g_ptr_array_add(errors, g_strdup_printf("%s: MemoryTriggerSome= and MemoryTriggerFull= must not "
							"exceed MemoryTriggerWindow=", path));
	if (m->stats_period_us % G_USEC_PER_SEC != 0)
		g_ptr_array_add(errors, g_strdup_printf("%s: MemoryStatsPeriod= must be whole seconds "
							"(libvirt sets the period in seconds)", path));
	return errors->len == n;
}

VsConf *vs_conf_load(const char *path, bool must_exist, GPtrArray *errors, GPtrArray *warnings)
{
	g_autoptr(VsConf) conf = vs_conf_new_default();
	g_autoptr(VsIni) ini = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	guint n_errors = errors->len;

	if (!g_file_test(path, G_FILE_TEST_EXISTS) && !must_exist)
		return g_steal_pointer(&conf);
	ini = vs_ini_load(path, &error);
	if (!ini) {
		g_ptr_array_add(errors, g_strdup_printf("%s: cannot read: %s", path, error->message));
		return NULL;
	}
	for (guint i = 0; i < ini->errors->len; i++)
		g_ptr_array_add(errors, g_strdup(g_ptr_array_index(ini->errors, i)));
	for (guint i = 0; i < ini->sections->len; i++) {
		const VsIniEntry *s = g_ptr_array_index(ini->sections, i);
		if (strcmp(s->section, "Daemon") != 0)
			g_ptr_array_add(errors, g_strdup_printf("%s:%u: unknown section [%s] (vschedd.conf has only [Daemon])",
								ini->origin, s->line, s->section));
	}
	for (guint i = 0; i < ini->entries->len; i++) {
		const VsIniEntry *e = g_ptr_array_index(ini->entries, i);
		const VsConfKey *k = find_key(e->section, e->key);
		g_autofree char *why = NULL;

		if (strcmp(e->section, "Daemon") != 0)
			continue; /* the section itself was reported */
		if (!k) {
			report_unknown(ini, e, errors);
			continue;
		}
		if (g_hash_table_contains(seen, k->name))
			g_ptr_array_add(warnings, g_strdup_printf("%s:%u: %s= set again; the last value counts",
								  ini->origin, e->line, k->name));
		g_hash_table_add(seen, (gpointer)k->name);
		if (!set_value(conf, k, e->value, &why))
			g_ptr_array_add(errors, g_strdup_printf("%s:%u: %s=%s: %s", ini->origin, e->line,
								k->name, e->value, why));
	}
	if (errors->len > n_errors)
		return NULL;
	if (conf->managed_cpus && vs_cpuset_is_empty(conf->managed_cpus)) {
		g_ptr_array_add(errors, g_strdup_printf("%s: ManagedCPUs=none: vsched needs at least "
							"one CPU for vCPUs (leave it empty for every "
							"CPU but the housekeeping ones)", path));
		return NULL;
	}
	if (!mem_conf_check(&conf->mem, path, errors))
		return NULL;
	if (conf->steal_sample_ticks != (double)(guint)conf->steal_sample_ticks) {
		g_ptr_array_add(errors, g_strdup_printf("%s: StealSampleTicks=%g: must be a whole "
							"number of ticks", path,
							conf->steal_sample_ticks));
		return NULL;
	}
	if (conf->event_debounce_us >= conf->tick_interval_us)
		g_ptr_array_add(warnings, g_strdup_printf("%s: EventDebounce is not shorter than TickInterval: "
							  "events will not make ticks come sooner", path));
	return g_steal_pointer(&conf);
}

const char **vs_conf_keep_restart_keys(VsConf *next, const VsConf *running)
{
	GPtrArray *names = g_ptr_array_new();

	for (const VsConfKey *k = vs_conf_keys; k->name; k++) {
		char **slot;
		const char *in_force;

		if (!k->needs_restart)
			continue;
		if (k->type == VS_CONF_BOOL) {
			bool *flag = (bool *)((char *)next + k->offset);
			bool flag_in_force = *(const bool *)((const char *)running + k->offset);

			if (*flag != flag_in_force) {
				*flag = flag_in_force;
				g_ptr_array_add(names, (gpointer)k->name);
			}
			continue;
		}
		/* Else only string-like keys need a restart. */
		g_assert(k->type == VS_CONF_STRING || k->type == VS_CONF_PATH);
		slot = (char **)((char *)next + k->offset);
		in_force = *(char *const *)((const char *)running + k->offset);
		if (g_strcmp0(*slot, in_force) == 0)
			continue;
		g_free(*slot);
		*slot = g_strdup(in_force);
		g_ptr_array_add(names, (gpointer)k->name);
	}
	g_ptr_array_add(names, NULL);
	return (const char **)g_ptr_array_free(names, FALSE);
}

char *vs_conf_policy_dir(const VsConf *conf, const char *config_path)
{
	g_autofree char *dir = NULL;

	if (conf->policy_dir[0])
		return g_strdup(conf->policy_dir);
	dir = g_path_get_dirname(config_path);
	return g_build_filename(dir, "policy.d", NULL);
}

int vs_conf_cpu_sets(const VsConf *conf, const VsCpuSet *online, VsCpuSet **ret_managed,
		     VsCpuSet **ret_housekeeping, GError **error)
{
	g_autoptr(VsCpuSet) hk = NULL;
	g_autoptr(VsCpuSet) managed = NULL;

	if (conf->housekeeping_cpus) {
		hk = vs_cpuset_copy(conf->housekeeping_cpus);
		vs_cpuset_intersect(hk, online);
	} else {
		hk = vs_cpuset_new();
		if (vs_cpuset_count(online) > 1)
			vs_cpuset_add(hk, (guint)vs_cpuset_next(online, 0));
	}
	managed = conf->managed_cpus ? vs_cpuset_copy(conf->managed_cpus) : vs_cpuset_copy(online);
	vs_cpuset_intersect(managed, online);
	vs_cpuset_subtract(managed, hk);
	if (vs_cpuset_is_empty(managed)) {
		g_autofree char *on = vs_cpuset_format(online);
		g_autofree char *h = vs_cpuset_format(hk);
		g_autofree char *m = conf->managed_cpus ? vs_cpuset_format(conf->managed_cpus)
							: g_strdup("(every online CPU)");

		g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
			    "no CPU left for vCPUs: ManagedCPUs=%s less the housekeeping CPUs (%s) "
			    "among the online CPUs %s", m, h[0] ? h : "none", on);
		return -EINVAL;
	}
	*ret_managed = g_steal_pointer(&managed);
	*ret_housekeeping = g_steal_pointer(&hk);
	return 0;
}

void vs_conf_free(VsConf *conf)
{
	if (!conf)
		return;
	for (const VsConfKey *k = vs_conf_keys; k->name; k++) {
		if (k->type == VS_CONF_STRING || k->type == VS_CONF_PATH)
			g_free(*(char **)((char *)conf + k->offset));
		else if (k->type == VS_CONF_CPULIST)
			vs_cpuset_free(*(VsCpuSet **)((char *)conf + k->offset));
	}
	g_free(conf);
}
