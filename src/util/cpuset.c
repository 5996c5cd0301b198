/* CPU sets as a growable array of 64-bit words; see cpuset.h. */
#include "config.h"

#include "util/cpuset.h"
#include "util/error.h"
#include "util/strbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WORD_BITS 64u

struct VsCpuSet {
	guint n_words;
	guint64 *words;
};

VsCpuSet *vs_cpuset_new(void)
{
	return g_new0(VsCpuSet, 1);
}

VsCpuSet *vs_cpuset_copy(const VsCpuSet *set)
{
	VsCpuSet *copy = vs_cpuset_new();

	copy->n_words = set->n_words;
	copy->words = g_memdup2(set->words, set->n_words * sizeof(guint64));
	return copy;
}

void vs_cpuset_free(VsCpuSet *set)
{
	if (!set)
		return;
	g_free(set->words);
	g_free(set);
}

static void grow(VsCpuSet *set, guint cpu)
{
	guint need = cpu / WORD_BITS + 1;

	if (need <= set->n_words)
		return;
	set->words = g_renew(guint64, set->words, need);
	memset(set->words + set->n_words, 0, (need - set->n_words) * sizeof(guint64));
	set->n_words = need;
}

void vs_cpuset_add(VsCpuSet *set, guint cpu)
{
	g_return_if_fail(cpu <= VS_CPU_MAX);
	grow(set, cpu);
	set->words[cpu / WORD_BITS] |= G_GUINT64_CONSTANT(1) << (cpu % WORD_BITS);
}

void vs_cpuset_remove(VsCpuSet *set, guint cpu)
{
	if (cpu / WORD_BITS < set->n_words)
		set->words[cpu / WORD_BITS] &= ~(G_GUINT64_CONSTANT(1) << (cpu % WORD_BITS));
}

bool vs_cpuset_has(const VsCpuSet *set, guint cpu)
{
	if (cpu / WORD_BITS >= set->n_words)
		return false;
	return (set->words[cpu / WORD_BITS] >> (cpu % WORD_BITS)) & 1;
}

guint vs_cpuset_count(const VsCpuSet *set)
{
	guint n = 0;

	for (guint i = 0; i < set->n_words; i++)
		n += (guint)__builtin_popcountll(set->words[i]);
	return n;
}

bool vs_cpuset_is_empty(const VsCpuSet *set)
{
	return vs_cpuset_next(set, 0) < 0;
}

bool vs_cpuset_equal(const VsCpuSet *a, const VsCpuSet *b)
{
	guint n = MAX(a->n_words, b->n_words);

	for (guint i = 0; i < n; i++) {
		guint64 wa = i < a->n_words ? a->words[i] : 0;
		guint64 wb = i < b->n_words ? b->words[i] : 0;
		if (wa != wb)
			return false;
	}
	return true;
}

guint64 vs_cpuset_hash(const VsCpuSet *set)
{
	guint64 h = G_GUINT64_CONSTANT(0xcbf29ce484222325);

	/* The non-zero words with their index, so that trailing zero words
	 * (a set that had a high CPU once) do not count. */
	for (guint i = 0; i < set->n_words; i++) {
		if (!set->words[i])
			continue;
		h = (h ^ i) * G_GUINT64_CONSTANT(0x100000001b3);
		h = (h ^ set->words[i]) * G_GUINT64_CONSTANT(0x100000001b3);
		h ^= h >> 29;
	}
	return h;
}

void vs_cpuset_union(VsCpuSet *set, const VsCpuSet *other)
{
	if (other->n_words == 0)
		return;
	grow(set, other->n_words * WORD_BITS - 1);
	for (guint i = 0; i < other->n_words; i++)
		set->words[i] |= other->words[i];
}

void vs_cpuset_intersect(VsCpuSet *set, const VsCpuSet *other)
{
	for (guint i = 0; i < set->n_words; i++)
		set->words[i] &= i < other->n_words ? other->words[i] : 0;
}

void vs_cpuset_subtract(VsCpuSet *set, const VsCpuSet *other)
{
	for (guint i = 0; i < set->n_words && i < other->n_words; i++)
		set->words[i] &= ~other->words[i];
}

int vs_cpuset_next(const VsCpuSet *set, guint from)
{
	for (guint i = from / WORD_BITS; i < set->n_words; i++) {
		guint64 w = set->words[i];
		if (i == from / WORD_BITS)
			w &= ~G_GUINT64_CONSTANT(0) << (from % WORD_BITS);
		if (w)
			return (int)(i * WORD_BITS + (guint)__builtin_ctzll(w));
	}
	return -1;
}

/* Parses one decimal CPU number at *p, advancing *p past it. */
static bool parse_cpu(const char **p, guint *ret_cpu)
{
	char *end;
	unsigned long v;

	if (!g_ascii_isdigit(**p))
		return false;
	errno = 0;
	v = strtoul(*p, &end, 10);
	if (errno || v > VS_CPU_MAX)
		return false;
	*p = end;
	*ret_cpu = (guint)v;
	return true;
}

VsCpuSet *vs_cpuset_parse(const char *text, GError **error)
{
	g_autoptr(VsCpuSet) set = vs_cpuset_new();
	g_auto(GStrv) parts = NULL;
	g_autofree char *stripped = g_strstrip(g_strdup(text));

	if (stripped[0] == '\0')
		return g_steal_pointer(&set);

	parts = g_strsplit(stripped, ",", -1);
	for (guint i = 0; parts[i]; i++) {
		const char *p = g_strstrip(parts[i]);
		guint lo, hi;

		if (!parse_cpu(&p, &lo))
			goto bad;
		hi = lo;
		if (*p == '-') {
			p++;
			if (!parse_cpu(&p, &hi) || hi < lo)
				goto bad;
		}
		if (*p != '\0')
			goto bad;
		for (guint c = lo; c <= hi; c++)
			vs_cpuset_add(set, c);
		continue;
bad:
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
			    "bad CPU list \"%s\": \"%s\" is not a CPU number or range (0..%d, like 2-7,10)",
			    stripped, parts[i], VS_CPU_MAX);
		return NULL;
	}
	return g_steal_pointer(&set);
}

void vs_cpuset_format_to(GString *out, const VsCpuSet *set)
{
	gsize start = out->len;
	int c = vs_cpuset_next(set, 0);

	while (c >= 0) {
		int end = c;
		while (vs_cpuset_has(set, (guint)end + 1))
			end++;
		if (out->len > start)
			vs_strbuf_put(out, ",", 1);
		vs_strbuf_append_uint(out, (guint)c);
		if (end != c) {
			vs_strbuf_put(out, "-", 1);
			vs_strbuf_append_uint(out, (guint)end);
		}
		c = vs_cpuset_next(set, (guint)end + 1);
	}
}

char *vs_cpuset_format(const VsCpuSet *set)
{
	GString *out = g_string_new(NULL);

	vs_cpuset_format_to(out, set);
	return g_string_free(out, FALSE);
}
