/* Appending numbers to a GString without printf: the actuator's hot path
 * (thread keys, CPU lists, the Applied record) formats thousands of them
 * per tick, and a printf call costs several times the digits it writes. */
#pragma once

#include <glib.h>
#include <stdint.h>

/* Appends @v in decimal ("-12", "0") to @s. */
void vs_strbuf_append_int(GString *s, int64_t v);
/* Appends @v in decimal to @s. */
void vs_strbuf_append_uint(GString *s, uint64_t v);
