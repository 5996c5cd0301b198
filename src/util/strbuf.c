/* Decimal numbers appended to a GString; see strbuf.h. */
#include "config.h"

#include "util/strbuf.h"

void vs_strbuf_append_uint(GString *s, uint64_t v)
{
	char buf[20]; /* the digits of UINT64_MAX */
	size_t i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	vs_strbuf_put(s, buf + i, sizeof(buf) - i);
}

void vs_strbuf_append_int(GString *s, int64_t v)
{
	if (v < 0) {
		g_string_append_c(s, '-');
		/* -(v + 1) + 1: INT64_MIN has no positive int64_t. */
		vs_strbuf_append_uint(s, (uint64_t)(-(v + 1)) + 1);
		return;
	}
	vs_strbuf_append_uint(s, (uint64_t)v);
}
