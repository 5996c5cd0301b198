/* The vCPU placement planner: decides, for every running guest, which host
 * CPUs each vCPU thread and the emulator threads may run on. It is pure: no
 * I/O, no clock, no logging; it takes plain inputs (the host topology, the
 * managed and housekeeping CPU sets from vschedd.conf, and per guest the
 * CPU keys of its effective policy) and the previous tick's result, and
 * returns a new VsPlacement with a human reason for every decision.
 *
 * Rules:
 * - Dedicated (Placement=dedicated): one CPU per vCPU from the managed CPUs
 *   minus the housekeeping CPUs, given to nobody else and kept out of the
 *   shared pool. A guest only takes whole free cores (every online thread of
 *   the core free). Siblings=isolate uses one thread per core and keeps the
 *   other threads idle, so a vCPU consumes a whole core; Siblings=share fills
 *   each core with the guest's own vCPUs before taking the next core, and a
 *   thread left over on its last core stays idle. A guest's vCPUs stay in
 *   one NUMA node when they fit (the node with most free whole cores, then
 *   the last-level cache with most free cores); otherwise they spread over
 *   the nodes with most free cores first, and a reason says so. The nodes
 *   used are reported for cpuset.mems.
 * - Shared (Placement=shared, and dedicated guests that could not get
 *   cores): every vCPU may run anywhere in the shared pool (managed minus
 *   housekeeping minus dedicated and idle CPUs), intersected with
 *   AllowedCPUs. For balance scheduling each vCPU also gets a "home" CPU:
 *   the least-loaded CPU of its affinity that no other vCPU of the same
 *   guest has its home on, on equal load one on a core the guest has no
 *   home on, so a guest's vCPUs never share a home CPU while the pool has
 *   enough CPUs, and spread over cores. Σ vCPUs / pool CPUs is
 *   reported; the guests served after it passed the overcommit limit are
 *   still placed, with a warning reason (guests are served in the order
 *   below, so these are the newest). While any guest asks for the shared pool,
 *   dedicated placement leaves at least one CPU in it.
 * - AllowedCPUs restricts both modes; when it leaves no usable CPU the guest
 *   floats over the whole shared pool and the reason names the key.
 * - Emulator threads: the housekeeping CPUs (EmulatorPlacement=housekeeping),
 *   the shared pool (shared) or the guest's own vCPU CPUs (vcpus); an empty
 *   choice falls back to the next of housekeeping, shared pool, own CPUs.
 * - Stability: given the previous plan, a dedicated guest that keeps its
 *   mode, Siblings and vCPU count keeps exactly its previous CPUs while they
 *   are still valid, and a shared vCPU keeps its home while that CPU is
 *   still in its affinity. Guests arriving take free CPUs; guests leaving
 *   free theirs; nobody else moves. When dedicated cores run out, guests are
 *   served in a fixed order (those dedicated in the previous plan first,
 *   then by name, then by UUID) and the later ones fall back to the shared
 *   pool with the reason. Shared guests are served likewise: those shared
 *   in the previous plan first. Without a previous plan (vschedd just
 *   started), the CPUs a dedicated guest's vCPUs are pinned to now stand
 *   in for it (VsPlacementGuest.current), so a restart moves nothing.
 * - Determinism: the result depends only on the input (never on hash
 *   order); the guests of the result are in the order of the input. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "host/host.h"
#include "util/cpuset.h"

/* Most vCPUs one guest may have (KVM's limit is 4096 on x86). */
#define VS_PLACEMENT_MAX_VCPUS 4096

typedef enum {
	VS_PLACE_SHARED,
	VS_PLACE_DEDICATED,
} VsPlacementMode;

typedef enum {
	VS_SIBLINGS_ISOLATE,
	VS_SIBLINGS_SHARE,
} VsSiblingsMode;

typedef enum {
	VS_EMU_HOUSEKEEPING,
	VS_EMU_SHARED,
	VS_EMU_VCPUS,
} VsEmulatorMode;

/* One running guest, from the snapshot and its effective policy. All
 * pointers are borrowed for the duration of vs_placement_plan(). */
typedef struct VsPlacementGuest {
	const char *uuid;
	const char *name;
	guint n_vcpus;              /* online vCPUs with threads, indices 0..n-1 */
	VsPlacementMode mode;
	VsSiblingsMode siblings;
	VsEmulatorMode emulator;
	const VsCpuSet *allowed;    /* NULL: any managed CPU */
	const char *provenance;     /* "10-db.policy:4"; NULL: built-in default */
	/* The one CPU each vCPU thread is pinned to now (n_vcpus entries), or
	 * NULL when not every vCPU is pinned to exactly one. Without a
	 * previous plan for the guest (the first plan after vschedd starts), a
	 * dedicated guest keeps these CPUs while they are valid, so that a
	 * restarted daemon does not shuffle the guests it had placed. */
	const guint *current;
} VsPlacementGuest;

typedef struct VsPlacement VsPlacement;

typedef struct VsPlacementInput {
	const VsTopology *topology;
	const VsCpuSet *managed;      /* CPUs vsched may give to vCPUs */
	const VsCpuSet *housekeeping; /* CPUs for emulator threads and the host; NULL: none */
	double overcommit_limit;      /* max vCPUs per CPU in the shared pool, e.g. 4.0 */
	const VsPlacementGuest *guests;
	guint n_guests;
	const VsPlacement *previous;  /* last tick's result; NULL on the first */
} VsPlacementInput;

/* Where one vCPU thread goes. */
typedef struct VsVcpuPlacement {
	const VsCpuSet *affinity; /* owned by the guest: pinned[i] when dedicated, else cpus */
	guint cpu;           /* dedicated: that CPU; shared: the home CPU */
	bool kept;           /* cpu is the one of the previous plan */
} VsVcpuPlacement;

/* Where one guest goes. */
typedef struct VsGuestPlacement {
	char *uuid;
	char *name;
	char *provenance;        /* NULL: built-in default */
	VsPlacementMode asked;
	VsPlacementMode got;     /* shared when a dedicated guest fell back */
	VsSiblingsMode siblings;
	VsEmulatorMode emulator_asked;
	bool satisfied;          /* got the mode asked, within AllowedCPUs */
	bool overcommitted;      /* placed after the shared pool passed its limit */
	guint n_vcpus;
	VsVcpuPlacement *vcpus;  /* n_vcpus entries */
	VsCpuSet **pinned;       /* dedicated: each vCPU's one-CPU set; NULL when shared */
	VsCpuSet *cpus;          /* union of the vCPU affinities */
	VsCpuSet *idle;          /* SMT threads kept idle because of this guest */
	VsCpuSet *emulator;      /* emulator (and I/O) thread affinity */
	VsCpuSet *mems;          /* NUMA node numbers, for cpuset.mems */
	GPtrArray *reasons;      /* char *: in the order of the decisions, emulator last */
} VsGuestPlacement;

struct VsPlacement {
	GPtrArray *guests;       /* VsGuestPlacement, in the order of the input */
	GHashTable *by_uuid;     /* uuid → VsGuestPlacement, for vs_placement_find() */
	VsCpuSet *pool;          /* the shared pool the shared vCPUs float over */
	VsCpuSet *dedicated;     /* CPUs of dedicated vCPUs */
	VsCpuSet *idle;          /* SMT threads kept idle */
	guint pool_vcpus;        /* vCPUs placed in the shared pool */
	double pool_load;        /* pool_vcpus per pool CPU */
	double overcommit_limit;
	bool overcommitted;      /* pool_load > overcommit_limit */
	char *pool_reason;       /* why the pool is not managed minus the rest, or NULL */
};

/* Plans the placement of every guest of @in. Returns 0 and a new plan in
 * *ret (free with vs_placement_free()), or -EINVAL with @error
 * (VS_ERROR_INVALID) naming what is wrong with the input (no topology, no
 * managed CPU left for vCPUs, a guest without vCPUs or with a duplicate
 * UUID, an overcommit limit that is not positive); *ret is untouched then. */
int vs_placement_plan(const VsPlacementInput *in, VsPlacement **ret, GError **error);

/* The placement of the guest with @uuid in @plan, or NULL; O(1). */
const VsGuestPlacement *vs_placement_find(const VsPlacement *plan, const char *uuid);

/* A sentence saying where vCPU @vcpu of @guest goes and why ("vcpu2 of db1
 * → CPU 6: dedicated (policy 10-db.policy:4)"); caller frees. Rendered on
 * demand, so that planning 8000 vCPUs formats no vCPU sentence. */
char *vs_placement_vcpu_reason(const VsGuestPlacement *guest, guint vcpu);

void vs_placement_free(VsPlacement *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsPlacement, vs_placement_free)
