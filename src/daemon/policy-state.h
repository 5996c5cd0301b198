/* The daemon's policy state: the policy set in force (the last good one),
 * why the latest load was refused if it was, the watch on the policy
 * directory, and the overrides with their persistence. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "policy/policy.h"

typedef struct VsPolicyState VsPolicyState;

/* State for policies in @dir and overrides kept in @overrides_path. Loads
 * neither; call vs_policy_state_load() and vs_policy_state_load_overrides(). */
VsPolicyState *vs_policy_state_new(const char *dir, const char *overrides_path);
void vs_policy_state_free(VsPolicyState *ps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsPolicyState, vs_policy_state_free)

/* Reads the policy directory (changed to @dir when not NULL). A set with any
 * error never takes effect: the last good set stays and the error is kept
 * for status. Every diagnostic is logged. Returns true when the new set is
 * in force. */
bool vs_policy_state_load(VsPolicyState *ps, const char *dir);
/* Reads the overrides file; a missing file is no override, a bad one is
 * logged and set aside as FILE.bad so that the daemon starts clean. */
void vs_policy_state_load_overrides(VsPolicyState *ps, int64_t now_us);
/* Writes the overrides atomically. Returns 0 or -errno (logged). */
int vs_policy_state_save_overrides(VsPolicyState *ps);
/* Drops expired overrides, logs each, and saves when any was dropped.
 * Returns true when any was dropped. */
bool vs_policy_state_expire(VsPolicyState *ps, int64_t now_us);
/* Calls @on_change (debounced by @debounce_ms) when a file in the policy
 * directory is created, changed or removed. */
void vs_policy_state_watch(VsPolicyState *ps, guint debounce_ms, GSourceFunc on_change, gpointer data);

const VsPolicySet *vs_policy_state_set(const VsPolicyState *ps);
VsOverrides *vs_policy_state_overrides(VsPolicyState *ps);
const char *vs_policy_state_dir(const VsPolicyState *ps);
/* The first error of the last refused load, or NULL when the set in force is
 * the latest. */
const char *vs_policy_state_error(const VsPolicyState *ps);
