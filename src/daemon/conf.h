/* vschedd.conf: the daemon's own settings. One table of keys (section, name,
 * type, range, default, help) drives parsing, validation, error messages
 * and the vschedd.conf(5) man page, so they cannot drift apart. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "mem/mem.h"
#include "util/cpuset.h"

typedef struct VsConf {
	int64_t tick_interval_us;
	int64_t event_debounce_us;
	char *libvirt_uri;
	char *libvirt_status_dir;
	char *control_socket;
	char *control_group;
	char *policy_dir;       /* "" = policy.d beside the configuration file */
	char *overrides_file;
	char *sysroot;          /* "" on a real host; a fixture tree in tests */
	int log_level;          /* syslog priority */
	VsCpuSet *managed_cpus; /* NULL: every online CPU but the housekeeping ones */
	VsCpuSet *housekeeping_cpus; /* NULL: automatic (see vs_conf_cpu_sets); empty: none */
	double overcommit_limit; /* vCPUs per CPU of the shared pool */
	char *applied_file;
	bool act;               /* false: plan and log only, as --dry-run */
	VsMemConf mem;          /* the Memory*= keys (mem/mem.h) */
	char *metrics_dir;      /* node_exporter textfile directory; "" = none */
	int64_t metrics_interval_us;
	bool drop_capabilities; /* keep only the capabilities of daemon/privileges.h */
	double steal_sample_ticks; /* steal counters of guests without per-tick needs: every N ticks */
} VsConf;

typedef enum {
	VS_CONF_DURATION,
	VS_CONF_STRING,
	VS_CONF_PATH,           /* absolute path, or empty where the key allows */
	VS_CONF_LOG_LEVEL,
	VS_CONF_CPULIST,        /* a CPU list; empty: NULL (automatic); "none": the empty set */
	VS_CONF_NUMBER,         /* a decimal number in [min, max] (a double) */
	VS_CONF_BOOL,           /* yes/no/true/false/on/off/1/0 */
	VS_CONF_SIZE,           /* bytes ("512M", util/units.h) in [min, max] (a uint64_t);
				 * empty (where allowed): 0 */
	VS_CONF_PERCENT,        /* "20%" or "20", in [min, max] percent (a double) */
} VsConfType;

typedef struct VsConfKey {
	const char *section;
	const char *name;
	VsConfType type;
	const char *default_value;
	int64_t min, max;       /* for durations, µs; for numbers, percentages and sizes, the bounds */
	size_t offset;          /* in VsConf */
	bool allow_empty;
	bool needs_restart;     /* a SIGHUP reload cannot apply a change */
	const char *help;
} VsConfKey;

/* The key table, terminated by an entry with name == NULL. */
extern const VsConfKey vs_conf_keys[];

/* The built-in defaults. Free with vs_conf_free(). */
VsConf *vs_conf_new_default(void);
/* Reads @path over the defaults. A missing file is an error only when
 * @must_exist. Every problem is added to @errors ("file:line: Key=value:
 * why") and the result is NULL when there is any; warnings (things that
 * work but are likely mistakes) go to @warnings and do not fail. */
VsConf *vs_conf_load(const char *path, bool must_exist, GPtrArray *errors, GPtrArray *warnings);
/* For a reload: every key of @next that needs a restart to apply and
 * differs from @running gets the running value back, so that what the
 * daemon reports is what is in force. Returns the names of those keys,
 * NULL-terminated (caller frees the array only). */
const char **vs_conf_keep_restart_keys(VsConf *next, const VsConf *running);
void vs_conf_free(VsConf *conf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsConf, vs_conf_free)

/* The policy directory in force for a configuration read from @config_path:
 * PolicyDirectory= when set, else policy.d beside the file. Caller frees. */
char *vs_conf_policy_dir(const VsConf *conf, const char *config_path);

/* The CPU sets in force on a host whose online CPUs are @online: the
 * housekeeping CPUs (HousekeepingCPUs=, or automatically CPU 0 when the host
 * has more than one online CPU, the lowest online one when CPU 0 is not
 * online; "none": no CPU) and the managed CPUs (ManagedCPUs=, or every
 * online CPU but the housekeeping ones), both limited to @online. Returns 0
 * and two new sets, or -EINVAL with @error (VS_ERROR_INVALID) when no
 * managed CPU is left for vCPUs; ret_* are untouched then. */
int vs_conf_cpu_sets(const VsConf *conf, const VsCpuSet *online, VsCpuSet **ret_managed,
		     VsCpuSet **ret_housekeeping, GError **error);

/* The default configuration file path. */
#define VS_CONF_DEFAULT_PATH SYSCONFDIR "/vsched/vschedd.conf"
