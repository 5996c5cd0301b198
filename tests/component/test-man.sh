#!/bin/sh
# Every man page in doc/ renders without a warning, with groff (-ww) and as
# man(1) shows it (MANWIDTH=80 man --warnings -l), and every one is
# installed (dist_man_MANS in the Makefile). SKIP without groff; man is
# checked when installed (Debian: man-db).
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
if ! command -v groff >/dev/null 2>&1; then
	echo "SKIP: groff not found (Debian: groff-base)"
	exit 77
fi
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
# The installed pages: dist_man_MANS, its continuation lines joined.
sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$top_builddir/Makefile" |
	sed -n 's/^dist_man_MANS = //p' | tr ' \t' '\n\n' >"$tmp/installed"
status=0
n=0
for page in "$top_srcdir"/doc/*.[1-8]; do
	name=$(basename "$page")
	n=$((n + 1))
	if ! groff -man -Tutf8 -ww -z "$page" 2>"$tmp/warn" || [ -s "$tmp/warn" ]; then
		cat "$tmp/warn"
		echo "FAIL: groff warns about $name"
		status=1
	fi
	if command -v man >/dev/null 2>&1; then
		if ! MANWIDTH=80 man --warnings -l "$page" >"$tmp/out" 2>"$tmp/warn" ||
			[ -s "$tmp/warn" ] || [ ! -s "$tmp/out" ]; then
			cat "$tmp/warn"
			echo "FAIL: man -l warns about $name or shows nothing"
			status=1
		fi
	fi
	if ! grep -qx "doc/$name" "$tmp/installed"; then
		echo "FAIL: $name is not installed (not in dist_man_MANS)"
		status=1
	fi
done
[ "$n" -ge 4 ] || { echo "FAIL: only $n man pages in doc/"; exit 1; }
[ $status -eq 0 ] && echo "ok: $n man pages render cleanly and are installed"
exit $status
