/* libFuzzer target for the policy parser: the input bytes, NUL-terminated,
 * as the text of one policy file. vs_policy_file_parse() must never crash,
 * leak or trip a sanitizer, whatever the bytes; every file it accepts must
 * also match and merge. Built and run by tests/fuzz/run-fuzz.sh. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *text = g_malloc(size + 1);
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicyFile) f = NULL;

	memcpy(text, data, size);
	text[size] = '\0';
	f = vs_policy_file_parse("fuzz.policy", text, diags);
	for (guint i = 0; i < diags->len; i++)
		g_assert(((VsPolicyDiag *)g_ptr_array_index(diags, i))->message);
	if (f) {
		g_autoptr(VsPolicySet) set = g_new0(VsPolicySet, 1);
		g_autoptr(VsEffectivePolicy) e = NULL;

		g_assert(vs_policy_diags_errors(diags) == 0);
		set->files = g_ptr_array_new();
		g_ptr_array_add(set->files, f);
		e = vs_policy_effective(set, NULL, "web-1", "6f1c2a0e-9a57-4e0b-8a63-0e4f8a1d2c3b",
					"db", 0);
		g_assert(e->entries->len > 0);
	} else {
		g_assert(vs_policy_diags_errors(diags) > 0);
	}
	return 0;
}
