/* CPU sets: a growable bitmap of CPU numbers, parsed from and formatted to
 * the kernel's list syntax ("0-3,8,10-11") used by sysfs, cgroup cpuset files
 * and taskset. Shared by the host model, the planners and the CLI. */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* Largest CPU number accepted from any input (sysfs, config, CLI). */
#define VS_CPU_MAX 8191

typedef struct VsCpuSet VsCpuSet;

/* A new empty set; free with vs_cpuset_free(). */
VsCpuSet *vs_cpuset_new(void);
VsCpuSet *vs_cpuset_copy(const VsCpuSet *set);
void vs_cpuset_free(VsCpuSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsCpuSet, vs_cpuset_free)

/* Parses a CPU list ("0-3,8"; empty or blank gives the empty set). Returns
 * a new set, or NULL with @error naming the offending part. */
VsCpuSet *vs_cpuset_parse(const char *text, GError **error);
/* Formats as a compact CPU list ("" for the empty set); caller frees. */
char *vs_cpuset_format(const VsCpuSet *set);
/* Appends the same list to @out (no string of its own: the actuator
 * describes every affinity it sets). */
void vs_cpuset_format_to(GString *out, const VsCpuSet *set);

void vs_cpuset_add(VsCpuSet *set, guint cpu);
void vs_cpuset_remove(VsCpuSet *set, guint cpu);
bool vs_cpuset_has(const VsCpuSet *set, guint cpu);
guint vs_cpuset_count(const VsCpuSet *set);
bool vs_cpuset_equal(const VsCpuSet *a, const VsCpuSet *b);
/* A 64-bit digest of the CPUs of @set: equal sets (vs_cpuset_equal())
 * have equal digests, whatever their allocated length. */
guint64 vs_cpuset_hash(const VsCpuSet *set);
bool vs_cpuset_is_empty(const VsCpuSet *set);
/* Adds every CPU of @other to @set. */
void vs_cpuset_union(VsCpuSet *set, const VsCpuSet *other);
/* Keeps only the CPUs also in @other. */
void vs_cpuset_intersect(VsCpuSet *set, const VsCpuSet *other);
/* Removes every CPU of @other from @set. */
void vs_cpuset_subtract(VsCpuSet *set, const VsCpuSet *other);
/* The next CPU in the set at or after @from, or -1 when there is none:
 * for (int c = vs_cpuset_next(s, 0); c >= 0; c = vs_cpuset_next(s, c + 1)) */
int vs_cpuset_next(const VsCpuSet *set, guint from);
