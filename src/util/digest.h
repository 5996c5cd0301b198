/* 64-bit digests of a planner's inputs: the daemon's steps keep the digest
 * of what they planned from and plan again only when it changes (the CPU
 * step's thread identities and guests, the memory step's guests). Not
 * cryptographic, but 64 bits wide and fully mixed, so that two different
 * inputs sharing a digest (which would keep a stale plan) is not a concern
 * at thousands of guests. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Mixes @v into the digest @h: splitmix64's finaliser over both, so that
 * neither the order nor small differences cancel. */
static inline uint64_t vs_digest_mix(uint64_t h, uint64_t v)
{
	uint64_t z = h ^ (v + UINT64_C(0x9e3779b97f4a7c15) + (h << 6) + (h >> 2));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Mixes string @s into @h; NULL differs from "". */
static inline uint64_t vs_digest_str(uint64_t h, const char *s)
{
	return vs_digest_mix(h, s ? ((uint64_t)g_str_hash(s) << 1) | 1 : 0);
}

/* Mixes @n bytes at @p into @h, eight at a time. */
static inline uint64_t vs_digest_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t w;

	for (; n >= sizeof(w); n -= sizeof(w), b += sizeof(w)) {
		memcpy(&w, b, sizeof(w));
		h = vs_digest_mix(h, w);
	}
	w = 0;
	memcpy(&w, b, n);
	return vs_digest_mix(h, w ^ ((uint64_t)n << 56));
}
