/* Appending numbers to a GString without printf: the actuator's hot path
 * (thread keys, CPU lists, the Applied record) formats thousands of them
 * per tick, and a printf call costs several times the digits it writes. */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <string.h>

/* Appends the @n bytes at @p (not inside @s) to @s, as
 * g_string_append_len() does, but copied straight in when they fit: GLib
 * before 2.76 makes every append an insert, whose checks cost more than
 * the copy of a few bytes. */
static inline void vs_strbuf_put(GString *s, const char *p, size_t n)
{
	if (s->len + n < s->allocated_len) {
		memcpy(s->str + s->len, p, n);
		s->len += n;
		s->str[s->len] = '\0';
		return;
	}
	g_string_append_len(s, p, (gssize)n);
}

/* vs_strbuf_put() of the string @p. */
static inline void vs_strbuf_puts(GString *s, const char *p)
{
	vs_strbuf_put(s, p, strlen(p));
}

/* The longest decimal vs_fmt_int() or vs_fmt_uint() writes:
 * "-9223372036854775808", "18446744073709551615". */
#define VS_FMT_INT_MAX 20

/* Write @v in decimal into @buf (VS_FMT_INT_MAX bytes at least; no NUL)
 * and return the number of characters written: for keys built on the
 * stack, where even a GString's allocation counts. */
size_t vs_fmt_int(char *buf, int64_t v);
size_t vs_fmt_uint(char *buf, uint64_t v);
/* Appends @v in decimal ("-12", "0") to @s. */
void vs_strbuf_append_int(GString *s, int64_t v);
/* Appends @v in decimal to @s. */
void vs_strbuf_append_uint(GString *s, uint64_t v);
