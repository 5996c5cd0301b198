/* Decimal numbers appended to a GString; see strbuf.h. */
#include "config.h"

#include "util/strbuf.h"

#include <string.h>

/* Writes the digits of @v to end just before @end; returns where they start. */
static char *digits_before(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

size_t vs_fmt_uint(char *buf, uint64_t v)
{
	char tmp[VS_FMT_INT_MAX];
	char *start = digits_before(tmp + sizeof(tmp), v);
	size_t n = (size_t)(tmp + sizeof(tmp) - start);

	memcpy(buf, start, n);
	return n;
}

size_t vs_fmt_int(char *buf, int64_t v)
{
	if (v >= 0)
		return vs_fmt_uint(buf, (uint64_t)v);
	buf[0] = '-';
	/* -(v + 1) + 1: INT64_MIN has no positive int64_t. */
	return 1 + vs_fmt_uint(buf + 1, (uint64_t)(-(v + 1)) + 1);
}

void vs_strbuf_append_uint(GString *s, uint64_t v)
{
	char buf[VS_FMT_INT_MAX];

	vs_strbuf_put(s, buf, vs_fmt_uint(buf, v));
}

void vs_strbuf_append_int(GString *s, int64_t v)
{
	char buf[VS_FMT_INT_MAX];

	vs_strbuf_put(s, buf, vs_fmt_int(buf, v));
}
