/* Applied: what the CPU actuator changed on the host and what was there
 * before, per thread (identified by TID and start time, with PID and comm
 * for the identity check) and per kind of setting: the CPU affinity, the
 * scheduling policy (vsched only ever sets SCHED_DEADLINE, so an entry of
 * that kind means "this thread runs a reservation vsched gave it"), the
 * nice value (a boost of relaxed co-scheduling, cosched.h), and a cgroup
 * v2 file of a guest (cpu.weight, cpu.max, cpu.max.burst, cpuset.cpus,
 * cpuset.mems), identified by directory and file and owned by the guest's
 * QEMU main thread: when that thread is gone, libvirt has removed the
 * cgroup and there is nothing to restore.
 *
 * The actuator records the original value before its first change of a
 * setting and the current value after every change; the daemon persists the
 * record as JSON in AppliedFile (written atomically, by the actuator once
 * before the first change of a run that records originals and once after
 * its last change) and
 * loads it at start, so that a daemon killed with SIGKILL and started again
 * neither forgets the originals nor repeats a change that is in place, and a
 * clean stop can put every original back (invariant 4 of ARCHITECTURE.md).
 *
 * The record itself is plain data: no I/O except vs_applied_save(),
 * vs_applied_load() and vs_applied_drop_stale() (which checks thread
 * identities through the sys layer). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/snapshot.h"
#include "host/sys.h"
#include "util/cpuset.h"
#include "virt/domain.h"

typedef enum {
	VS_APPLIED_AFFINITY,
	VS_APPLIED_DEADLINE,
	VS_APPLIED_CGROUP,
	VS_APPLIED_NICE,        /* a nice boost of relaxed co-scheduling (cosched.h) */
} VsAppliedKind;

typedef struct VsAppliedEntry {
	VsAppliedKind kind;
	char uuid[37];          /* the domain the thread belongs to */
	char *domain;           /* its name, for messages */
	char *what;             /* "vcpu0", "emulator", "iothread", for messages */
	VsThread thread;        /* identity only: pid, tid, start_time, comm (no affinity);
				 * for VS_APPLIED_CGROUP the guest's QEMU main thread */
	/* VS_APPLIED_AFFINITY */
	VsCpuSet *orig_cpus;    /* the affinity found before the first change */
	VsCpuSet *cur_cpus;     /* the affinity vsched set last */
	/* VS_APPLIED_DEADLINE: the policy found before (restored by
	 * vs_deadline_clear() when it was SCHED_OTHER), and the reservation. */
	uint32_t orig_policy;
	int orig_nice;
	uint32_t orig_priority;
	int64_t runtime_us, period_us;
	/* VS_APPLIED_CGROUP: the file, what it held before vsched's first
	 * write and what vsched wrote last, as the file shows them. */
	char *dir;              /* host path of the cgroup directory */
	char *file;             /* "cpu.weight", ... (vs_applied_cgroup_file_ok()) */
	guint cg_hash;          /* vs_applied_cgroup_hash(dir, file) */
	char *orig_value;
	char *cur_value;
	/* VS_APPLIED_NICE: the nice found before (orig_nice) and the one set. */
	int cur_nice;
	/* The entry's JSON object as vs_applied_to_json() made it: its
	 * identity and original (which never change) and its current value,
	 * NULL when the value changed since (entries change only through the
	 * functions below, which drop it) or not made yet. */
	char *json_head;
	size_t json_head_len;
	char *json_tail;
	size_t json_tail_len;
} VsAppliedEntry;

typedef struct VsApplied {
	GPtrArray *entries;     /* VsAppliedEntry, in the order they were made */
	GHashTable *index;      /* the entries, each its own key: (kind, tid, start_time),
				 * for a cgroup (dir, file) */
	/* Counts the changes of the record (an entry added, changed or
	 * removed; setting the value an entry holds is none): a caller that
	 * saved at one count need not save again at the same. */
	guint64 changes;
} VsApplied;

/* Longest AppliedFile accepted at load (a host has far fewer threads). */
#define VS_APPLIED_MAX_BYTES (16u << 20)

VsApplied *vs_applied_new(void);
void vs_applied_free(VsApplied *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsApplied, vs_applied_free)

/* The entry of @kind for thread @t (by TID and start time), or NULL. */
VsAppliedEntry *vs_applied_find(const VsApplied *a, VsAppliedKind kind, const VsThread *t);
/* Records that vsched set the affinity of @t (in domain @uuid / @domain,
 * the thread being @what) to @cpus, the thread's affinity having been
 * @orig before. When an entry exists only its current value changes (the
 * original is the one found before the first change); else a new entry
 * copies everything. Returns the entry (owned by @a). */
VsAppliedEntry *vs_applied_set_affinity(VsApplied *a, const char *uuid, const char *domain,
					const char *what, const VsThread *t, const VsCpuSet *orig,
					const VsCpuSet *cpus);
/* Records that vsched gave @t the reservation @runtime_us/@period_us, its
 * policy having been @orig before; same rules as vs_applied_set_affinity(). */
VsAppliedEntry *vs_applied_set_deadline(VsApplied *a, const char *uuid, const char *domain,
					const char *what, const VsThread *t,
					const VsSchedAttr *orig, int64_t runtime_us,
					int64_t period_us);
/* The cgroup entry of @dir/@file, or NULL. */
VsAppliedEntry *vs_applied_find_cgroup(const VsApplied *a, const char *dir, const char *file);
/* The hash of the cgroup file @dir/@file: a caller that looks one file up
 * several times computes it once and passes it to the _hashed functions
 * (a cgroup path is ~50 bytes, hashed in full each time otherwise). */
guint vs_applied_cgroup_hash(const char *dir, const char *file);
/* vs_applied_find_cgroup() with @hash, vs_applied_cgroup_hash(@dir, @file). */
VsAppliedEntry *vs_applied_find_cgroup_hashed(const VsApplied *a, const char *dir,
					      const char *file, guint hash);
/* Whether vsched manages @file in guest cgroups (the files a cgroup entry
 * may name). */
bool vs_applied_cgroup_file_ok(const char *file);
/* Records that vsched wrote @value to @dir/@file of the guest @uuid /
 * @domain (@what: "guest", "vcpu0"), owned by the guest's QEMU main thread
 * @owner, the file having held @orig before; same rules as
 * vs_applied_set_affinity(). Returns the entry (owned by @a). */
VsAppliedEntry *vs_applied_set_cgroup(VsApplied *a, const char *uuid, const char *domain,
				      const char *what, const VsThread *owner, const char *dir,
				      const char *file, const char *orig, const char *value);
/* vs_applied_set_cgroup() with @hash, vs_applied_cgroup_hash(@dir, @file). */
VsAppliedEntry *vs_applied_set_cgroup_hashed(VsApplied *a, const char *uuid, const char *domain,
					     const char *what, const VsThread *owner,
					     const char *dir, const char *file, guint hash,
					     const char *orig, const char *value);
/* Records that vsched set the nice value of @t to @nice, it having been
 * @orig_nice before; same rules as vs_applied_set_affinity(). */
VsAppliedEntry *vs_applied_set_nice(VsApplied *a, const char *uuid, const char *domain,
				    const char *what, const VsThread *t, int orig_nice, int nice);
/* Forgets @e (an entry of @a), e.g. once its original is back. */
void vs_applied_remove(VsApplied *a, const VsAppliedEntry *e);
/* Forgets every entry whose thread is not among the threads (vCPU,
 * emulator, I/O) of its domain in @snap (the domain stopped, or the thread
 * ended; for a cgroup entry, the guest's QEMU main thread): there is
 * nothing left to restore. Returns how many were dropped. */
guint vs_applied_retain_snapshot(VsApplied *a, const VsSnapshot *snap);
/* Forgets every entry whose thread is gone or is another thread now
 * (vs_thread_verify() says -ESRCH or -ENOENT), adding a sentence for each to @dropped (char *). Returns how
 * many were dropped. */
guint vs_applied_drop_stale(VsApplied *a, const VsSys *sys, GPtrArray *dropped);

/* The JSON document of AppliedFile; caller frees. Keeps each entry's JSON
 * in the entry (VsAppliedEntry.json) for the next call. */
char *vs_applied_to_json(VsApplied *a);
/* Parses a document made by vs_applied_to_json(). Entries that do not
 * validate (a bad TID, CPU list or reservation, a missing member) are
 * skipped with a sentence in @warnings (char *); an empty or blank document
 * is an empty record. Returns NULL with @error (VS_ERROR_INVALID) when the
 * document as a whole is unusable: not JSON, not an object, another
 * version, too long. */
VsApplied *vs_applied_from_json(const char *json, GPtrArray *warnings, GError **error);
/* Writes @a to @path atomically (a temporary file renamed over it),
 * creating the directory when missing. 0 or -errno with @error. */
int vs_applied_save(VsApplied *a, const char *path, GError **error);
/* Reads @path: a missing file is an empty record. NULL with @error when the
 * file cannot be read or vs_applied_from_json() refuses it. */
VsApplied *vs_applied_load(const char *path, GPtrArray *warnings, GError **error);
