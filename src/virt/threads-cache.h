/* A cache of QEMU thread discovery (threads.h) across ticks. Finding a
 * guest's threads reads its status XML and three /proc files per thread;
 * with a thousand guests that is most of a tick, and it rarely changes.
 * The cache keeps what the last full discovery found for each guest and
 * hands it out again while
 * - the status XML is the same file, size and modification time (libvirt
 *   rewrites it when the QEMU process, its vCPUs or their TIDs change),
 * - /proc/PID/task has the same link count (2 + the number of threads, so
 *   a thread started or ended is seen),
 * - libvirt's vCPU count and online flags, the domain's name and its ID
 *   are the same, and
 * - the entry is younger than VS_THREADS_CACHE_REFRESH_TICKS collections
 *   (the first expiries are spread over that many collections, so that
 *   the full re-reads of a thousand guests do not all fall in one tick).
 * Otherwise, and whenever the discovery reported a problem, it runs the
 * full discovery. A hit shares the entry's threads with the domain
 * (vs_domain_threads_share(), counted references): no copy of each
 * thread's comm and affinity per snapshot.
 *
 * The first two are files, checked with a stat() each, and those two
 * calls were most of the cost of a tick at constant guests. They run for
 * an entry only every VS_THREADS_CACHE_VERIFY_TICKS collections (spread
 * over the guests), and at the next collection whenever libvirt says
 * something about the guest: its domain ID (a restart), vCPU count or
 * online flags, or name differ from the entry's (checked every
 * collection, without I/O), its state differs (paused, resumed), or
 * vs_threads_cache_invalidate() was called for it (the connection calls
 * it for each lifecycle, device and metadata event of the guest, and for
 * all guests when it connects or loses libvirtd). So a vCPU hot-plugged
 * is found at the first collection where libvirt reports it online; a
 * change that libvirt neither reports nor signals (an I/O thread started
 * by QEMU on its own) is found within VS_THREADS_CACHE_VERIFY_TICKS
 * collections. What a cached entry does not follow until its next
 * re-read: the CPU each thread last ran on and its affinity as /proc
 * showed them (only shown by `vschedctl show`; the actuator reads the
 * affinity back itself), and a thread replaced by another while the count
 * stays the same (the actuator verifies every thread's identity before
 * acting, invariant 1). */
#pragma once

#include <glib.h>

#include "host/sys.h"
#include "virt/domain.h"

#define VS_THREADS_CACHE_REFRESH_TICKS 300
#define VS_THREADS_CACHE_VERIFY_TICKS 10

typedef struct VsThreadsCache VsThreadsCache;

/* A new, empty cache; free with vs_threads_cache_free(). */
VsThreadsCache *vs_threads_cache_new(void);
void vs_threads_cache_free(VsThreadsCache *cache);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsThreadsCache, vs_threads_cache_free)

/* vs_threads_collect() of the running domain @dom, answered from @cache
 * when nothing it depends on changed (see above). Same return values. */
int vs_threads_cache_collect(VsThreadsCache *cache, const VsSys *sys, const char *status_dir,
			     VsDomain *dom);
/* Makes the next collection of the guest @uuid check its files (status
 * XML, thread count) again; NULL: of every guest held. For libvirt's
 * events and reconnections. */
void vs_threads_cache_invalidate(VsThreadsCache *cache, const char *uuid);
/* Ends one collection: forgets the domains not collected since the last
 * sweep. */
void vs_threads_cache_sweep(VsThreadsCache *cache);
/* The number of domains held (for tests). */
guint vs_threads_cache_size(const VsThreadsCache *cache);
