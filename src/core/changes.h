/* What changed in the inventory between two snapshots, as sentences for the
 * log: guests that appeared or vanished, state changes, vCPU count changes,
 * QEMU restarts (same UUID, new PID) and thread discovery problems. Pure. */
#pragma once

#include <glib.h>

#include "core/snapshot.h"

typedef struct VsChange {
	char *domain;   /* the guest's name */
	char *message;  /* "appeared: running, 2/4 vCPUs, 512.0 MiB" */
	bool warning;   /* worth a warning rather than an info line */
} VsChange;

/* The changes from @old (NULL: nothing known) to @new, in a stable order
 * (by name). Returns a new array of VsChange, owned by the caller. */
GPtrArray *vs_changes_between(const VsSnapshot *old, const VsSnapshot *new);

/* A 64-bit digest of the running guests' threads by identity (UUID, QEMU
 * PID, each online vCPU's index, TID and start time, the emulator and I/O
 * thread TIDs), in snapshot order: equal digests mean, but for a 2^-64
 * chance, the same threads. Hashes binary values; allocates nothing. */
uint64_t vs_changes_threads_hash(const VsSnapshot *snap);
