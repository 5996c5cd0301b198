/* Helpers shared by the files of src/policy/ and by nothing else: adding a
 * diagnostic in the one message format, and the life cycle of a single
 * override (so that overrides.c and overrides-json.c build them alike). */
#pragma once

#include "policy/policy.h"

/* The sections of a policy file, in the order the man page lists them. */
extern const char *const vs_policy_sections[];

/* Adds a diagnostic to @diags. The message becomes "FILE:LINE: TEXT" (or
 * "FILE: TEXT" when @line is 0); @key may be NULL. */
void vs_policy_diag_add(GPtrArray *diags, const char *file, guint line, const char *key,
			bool warning, const char *fmt, ...) G_GNUC_PRINTF(6, 7);

/* A new override; takes @value, copies the strings. Free with vs_override_free(). */
VsOverride *vs_override_new(const char *id, const char *uuid, const char *name,
			    const VsPolicyKey *key, VsPolicyValue *value,
			    int64_t created_us, int64_t expires_us);
void vs_override_free(VsOverride *ov);
/* Adds @ov (taking it) to @o, dropping an older override of the same key for
 * the same domain. */
void vs_overrides_add(VsOverrides *o, VsOverride *ov);

/* False only when @a and @b are values of a repeatable key that hold
 * different slots (Pin= values for different vCPUs), so that both stay. */
bool vs_policy_value_same_slot(const VsPolicyValue *a, const VsPolicyValue *b);
