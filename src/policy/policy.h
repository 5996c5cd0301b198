/* Policies: the declarative files in /etc/vsched/policy.d/ that say what
 * vsched does with each guest, how they match guests, how the matching files
 * merge into one effective policy per guest with the provenance of every
 * value, and temporary overrides from the CLI.
 *
 * One table of keys (vs_policy_keys) drives parsing, validation, the
 * `vschedctl policy keys` listing and the vsched.policy(5) man page.
 *
 * Everything here is pure: no I/O except vs_policy_set_load_dir() and the
 * file reading of vs_policy_set_load_files(), no clock (callers pass the
 * time), no logging. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/cpuset.h"

typedef enum {
	VS_PTYPE_GLOB,        /* [Match] Name=: shell glob on the domain name */
	VS_PTYPE_UUID,        /* [Match] UUID= */
	VS_PTYPE_WORD,        /* [Match] Class=: [A-Za-z0-9_.-]+ */
	VS_PTYPE_ENUM,        /* one of key->choices */
	VS_PTYPE_BOOL,        /* yes/no/true/false/1/0/on/off */
	VS_PTYPE_INT,         /* integer in [min, max] */
	VS_PTYPE_PERCENT,     /* "50%" (or "50"): 0..max percent, may exceed 100 for caps of several CPUs */
	VS_PTYPE_SIZE,        /* bytes: "512M", "4G" (util/units.h) */
	VS_PTYPE_DURATION,    /* µs: "10ms", "30s" (util/units.h) */
	VS_PTYPE_CPULIST,     /* "2-7,10" */
	VS_PTYPE_RESERVATION, /* "RUNTIME/PERIOD", e.g. "2ms/10ms"; runtime <= period */
	VS_PTYPE_CONDITION,   /* "steal>20% for 30s", see VsCondition */
	VS_PTYPE_PIN,         /* "VCPU:CPULIST", e.g. "0:2-3"; vCPU in [min, max] */
} VsPolicyType;

typedef struct VsPolicyKey {
	const char *section;          /* "Match", "CPU", "Memory", "Hotplug", "Steal" */
	const char *name;
	VsPolicyType type;
	const char *const *choices;   /* VS_PTYPE_ENUM: NULL-terminated */
	int64_t min, max;             /* INT, PERCENT (percent), SIZE, DURATION (µs) ranges; 0,0 = unbounded */
	const char *default_value;    /* as an operator would write it; NULL: unset by default */
	bool repeatable;              /* may appear several times in a file (values accumulate;
				       * for PIN, a later value for the same vCPU replaces an
				       * earlier one, also across files and overrides) */
	const char *help;             /* one or two sentences for `policy keys` and the man page */
} VsPolicyKey;

/* The key table, terminated by an entry with name == NULL. */
extern const VsPolicyKey vs_policy_keys[];
const VsPolicyKey *vs_policy_key_find(const char *section, const char *name);
/* Finds a key by "Section.Name" or by a bare name when that is unique
 * (for `vschedctl override DOMAIN Weight=200`), ignoring case. */
const VsPolicyKey *vs_policy_key_lookup(const char *spec);
/* What values @key allows, as an operator would write them: "1..10000",
 * "dedicated|shared", "16M..16T". Used in error messages, `vschedctl policy
 * keys` and the man page. Caller frees. */
char *vs_policy_key_range(const VsPolicyKey *key);
/* A short name of @type for listings: "integer", "size", "condition". */
const char *vs_policy_type_name(VsPolicyType type);

typedef enum {
	VS_METRIC_STEAL,              /* all steal, % of wall time per vCPU */
	VS_METRIC_STEAL_CONTENTION,
	VS_METRIC_STEAL_CAP,
	VS_METRIC_STEAL_RESERVATION,
	VS_METRIC_CPU,                /* vCPU utilisation, % */
} VsMetric;

/* The names of the metrics as a condition spells them, indexed by VsMetric,
 * NULL-terminated: "steal", "steal.contention", ... */
extern const char *const vs_policy_metrics[];

typedef enum { VS_CMP_GT, VS_CMP_GE, VS_CMP_LT, VS_CMP_LE } VsCmp;

/* "steal.contention>20% for 30s": metric, comparison, threshold in percent,
 * and how long it must hold (0 = at once). */
typedef struct VsCondition {
	VsMetric metric;
	VsCmp cmp;
	double threshold;
	int64_t for_us;
} VsCondition;

typedef struct VsPolicyValue {
	VsPolicyType type;
	char *text;                   /* as written (trimmed), for messages and explain */
	union {
		char *str;            /* GLOB, UUID (lower case), WORD, ENUM */
		bool b;
		int64_t i;            /* INT */
		double percent;       /* PERCENT */
		uint64_t bytes;       /* SIZE */
		int64_t us;           /* DURATION */
		VsCpuSet *cpus;       /* CPULIST */
		struct { int64_t runtime_us, period_us; } res;
		VsCondition cond;
		struct { VsCpuSet *cpus; guint vcpu; } pin; /* PIN */
	};
} VsPolicyValue;

/* Parses @text as a value of @key. Returns a new value, or NULL with @ret_why
 * set to what is allowed ("out of range 1..10000", "not a duration (...)"). */
VsPolicyValue *vs_policy_value_parse(const VsPolicyKey *key, const char *text, char **ret_why);
VsPolicyValue *vs_policy_value_copy(const VsPolicyValue *v);
void vs_policy_value_free(VsPolicyValue *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsPolicyValue, vs_policy_value_free)

/* One problem in a policy file, or in an override. */
typedef struct VsPolicyDiag {
	char *file;                   /* path or "override" */
	guint line;                   /* 0 when not tied to a line */
	char *key;                    /* "Weight", or NULL */
	char *message;                /* full sentence: "file:line: Weight=20000: out of range 1..10000" */
	bool warning;                 /* works, but likely a mistake */
} VsPolicyDiag;
void vs_policy_diag_free(VsPolicyDiag *d);
/* A new GPtrArray for diagnostics (frees its VsPolicyDiag). */
GPtrArray *vs_policy_diags_new(void);
/* Number of errors (not warnings) in @diags. */
guint vs_policy_diags_errors(const GPtrArray *diags);

typedef struct VsPolicySetting {
	const VsPolicyKey *key;
	VsPolicyValue *value;
	guint line;
} VsPolicySetting;

typedef struct VsPolicyFile {
	char *path;
	char *name;                   /* basename without ".policy": "10-db" */
	GPtrArray *match_names;       /* char * globs */
	GPtrArray *match_uuids;       /* char * lower-case UUIDs */
	GPtrArray *match_classes;     /* char * */
	GPtrArray *settings;          /* VsPolicySetting, non-Match keys, file order */
} VsPolicyFile;

/* Parses one policy file's text. Adds every error and warning to @diags
 * (file:line, key, what is allowed, "did you mean" for unknown keys, cross-key
 * contradictions). Returns the file, or NULL when it has any error. */
VsPolicyFile *vs_policy_file_parse(const char *path, const char *text, GPtrArray *diags);
void vs_policy_file_free(VsPolicyFile *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsPolicyFile, vs_policy_file_free)
/* True when @f applies to the domain: every [Match] key present matches
 * (any of its values), and a file without [Match] keys matches every guest. */
bool vs_policy_file_matches(const VsPolicyFile *f, const char *name, const char *uuid,
			    const char *class_name);

typedef struct VsPolicySet {
	char *dir;                    /* NULL when loaded from a list of files */
	GPtrArray *files;             /* VsPolicyFile, lexical order of file name */
} VsPolicySet;

/* Loads every "*.policy" in @dir in lexical order (a missing directory is an
 * empty set). Returns NULL when any file has an error; all diagnostics of all
 * files go to @diags. */
VsPolicySet *vs_policy_set_load_dir(const char *dir, GPtrArray *diags);
/* Loads the named files, in the order given. Same contract. */
VsPolicySet *vs_policy_set_load_files(const char *const *paths, GPtrArray *diags);
void vs_policy_set_free(VsPolicySet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsPolicySet, vs_policy_set_free)

/* A temporary change of one key for one domain, from `vschedctl override`. */
typedef struct VsOverride {
	char *id;                     /* "ov-<n>", unique in its VsOverrides */
	char *domain_uuid;
	char *domain_name;            /* for display; the UUID is what matches */
	const VsPolicyKey *key;
	VsPolicyValue *value;
	int64_t created_us;           /* wall clock, µs since the epoch */
	int64_t expires_us;           /* wall clock; 0 = until cleared */
} VsOverride;

typedef struct VsOverrides {
	GPtrArray *items;             /* VsOverride */
	guint64 next_id;
} VsOverrides;

VsOverrides *vs_overrides_new(void);
void vs_overrides_free(VsOverrides *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsOverrides, vs_overrides_free)
/* Validates "Key=Value" assignments (keys by vs_policy_key_lookup; [Match]
 * keys refused) and adds them all, or none when any is bad (each problem
 * added to @diags). An override of the same key for the same domain replaces
 * the older one. @for_us 0 = until cleared. Returns the number added, or
 * -EINVAL when any assignment (or a negative @for_us, or a @uuid that is not
 * a UUID) is bad. */
int vs_overrides_set(VsOverrides *o, const char *uuid, const char *name,
		     const char *const *assignments, int64_t now_us, int64_t for_us,
		     GPtrArray *diags);
/* Removes the domain's overrides of @key ("Section.Name" or bare name), or all
 * of them when @key is NULL. Returns how many were removed, or -ENOENT for
 * an unknown key. */
int vs_overrides_clear(VsOverrides *o, const char *uuid, const char *key);
/* Drops overrides expired at @now_us; returns them (caller frees the array),
 * so the caller can log each. */
GPtrArray *vs_overrides_expire(VsOverrides *o, int64_t now_us);

/* Serialises to and from the JSON document kept in
 * /var/lib/vsched/overrides.json. Loading validates every entry through the
 * key table and skips (with a warning diag) what no longer validates or has
 * expired; an empty or blank document is an empty set. Returns NULL (with an
 * error diag) when the document as a whole is unusable: not JSON, not an
 * object, another version. Caller frees both results. */
char *vs_overrides_to_json(const VsOverrides *o);
VsOverrides *vs_overrides_from_json(const char *json, int64_t now_us, GPtrArray *diags);

typedef enum {
	VS_ORIGIN_DEFAULT,
	VS_ORIGIN_FILE,
	VS_ORIGIN_OVERRIDE,
} VsOrigin;

typedef struct VsEffectiveEntry {
	const VsPolicyKey *key;
	const VsPolicyValue *value;   /* borrowed from the set/overrides/defaults; NULL: unset */
	VsOrigin origin;
	const char *file;             /* VS_ORIGIN_FILE: path */
	guint line;
	const char *override_id;      /* VS_ORIGIN_OVERRIDE */
	int64_t expires_us;           /* VS_ORIGIN_OVERRIDE: 0 = until cleared */
} VsEffectiveEntry;

typedef struct VsEffectivePolicy {
	GArray *entries;              /* VsEffectiveEntry: every non-Match key in table order */
	GPtrArray *files;             /* char * names of the matching files, in order */
} VsEffectivePolicy;

/* Merges for one domain: defaults, then every matching file in order (a later
 * file overrides an earlier one key by key), then the domain's overrides that
 * have not expired at @now_us. The result borrows from @set and @overrides,
 * which must outlive it. */
VsEffectivePolicy *vs_policy_effective(const VsPolicySet *set, const VsOverrides *overrides,
				       const char *name, const char *uuid, const char *class_name,
				       int64_t now_us);
void vs_effective_policy_free(VsEffectivePolicy *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsEffectivePolicy, vs_effective_policy_free)
/* The entry of a key ("CPU", "Weight"), or NULL when the table has no such key.
 * A repeatable key that holds several values (Pin=) has one entry per value,
 * next to each other in @e->entries; this returns the first. */
const VsEffectiveEntry *vs_effective_get(const VsEffectivePolicy *e, const char *section,
					 const char *name);

/* Effective policies kept across ticks, one per guest UUID, merged again
 * only when the set, the overrides or the guest's name or class change
 * (src/policy/cache.c). */
typedef struct VsPolicyCache VsPolicyCache;

VsPolicyCache *vs_policy_cache_new(void);
void vs_policy_cache_free(VsPolicyCache *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsPolicyCache, vs_policy_cache_free)
/* Starts a round (a tick) with the policies in force at @now_us: drops
 * every policy when @set or @overrides changed in what can be told without
 * walking them (another object, number of files or overrides, next
 * override ID, number expired), else the policies of guests not looked
 * up during the last round. @set and @overrides must outlive the round. */
void vs_policy_cache_begin(VsPolicyCache *c, const VsPolicySet *set,
			   const VsOverrides *overrides, int64_t now_us);
/* The guest's effective policy (borrowed: valid until the next begin,
 * invalidate or lookup of the same UUID), merged now when not cached. */
const VsEffectivePolicy *vs_policy_cache_get(VsPolicyCache *c, const char *name,
					     const char *uuid, const char *class_name);
/* Drops every policy: for a change begin cannot see (a set reloaded at
 * the old one's address). */
void vs_policy_cache_invalidate(VsPolicyCache *c);
/* A number that changes whenever every policy is dropped (begin on a
 * change, invalidate): what derived per-guest values can be kept under. */
uint64_t vs_policy_cache_stamp(const VsPolicyCache *c);
/* How many policies were merged since the last begin (for tests and the
 * benchmark's reading of a tick). */
guint vs_policy_cache_made(const VsPolicyCache *c);
/* For planners that take an optional cache: the guest's policy from @c
 * (borrowed), or without @c merged now from @set and @overrides into
 * *@ret_owned, which the caller frees. */
const VsEffectivePolicy *vs_policy_cache_or_merge(VsPolicyCache *c, const VsPolicySet *set,
						  const VsOverrides *overrides, const char *name,
						  const char *uuid, const char *class_name,
						  int64_t now_us, VsEffectivePolicy **ret_owned);
