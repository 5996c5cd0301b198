/* Appending numbers to a GString without printf: the actuator's hot path
 * (thread keys, CPU lists, the Applied record) formats thousands of them
 * per tick, and a printf call costs several times the digits it writes. */
#pragma once

#include <glib.h>
#include <stdint.h>

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
