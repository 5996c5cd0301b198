/* Parsing and formatting of the units operators write in vschedd.conf,
 * policy files and on the command line: durations ("10ms", "30s", "2min")
 * and sizes ("512M", "4G", "1024K"). One implementation, so that every
 * place accepts the same spellings and prints the same errors. */
#pragma once

#include <glib.h>
#include <stdint.h>

/* Parses a duration into microseconds. Accepts an unsigned decimal number
 * (fractions allowed: "1.5s") followed by one of us, ms, s, min, h; a bare
 * number means seconds. Returns 0, or -EINVAL with a message in @error. */
int vs_parse_duration_us(const char *text, int64_t *ret_us, GError **error);
/* Formats microseconds compactly ("1s", "500ms", "1.5s", "250us"); caller frees. */
char *vs_format_duration_us(int64_t us);

/* Parses a size into bytes. Accepts a decimal number with an optional
 * binary suffix K, M, G, T (or KiB, MiB, GiB, TiB; B alone means bytes).
 * Returns 0, or -EINVAL / -ERANGE with a message in @error. */
int vs_parse_size(const char *text, uint64_t *ret_bytes, GError **error);
/* Formats bytes with the largest binary unit that keeps one decimal
 * ("512.0 MiB", "3.2 GiB", "800 B"); caller frees. */
char *vs_format_size(uint64_t bytes);
