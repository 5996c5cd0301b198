#!/bin/sh
# Fails when doc/vsched.policy.5 is not what tools/gen-policy-man writes from
# the key table (run `make update-man` and commit the page), and when groff
# warns about the page.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
page="$top_srcdir/doc/vsched.policy.5"
gen="$top_builddir/tools/gen-policy-man"
out=$(mktemp) || exit 99
trap 'rm -f "$out" "$out.warn"' EXIT

if ! "$gen" >"$out"; then
	echo "FAIL: $gen failed"
	exit 1
fi
if ! diff -u "$page" "$out"; then
	echo "FAIL: $page differs from the output of tools/gen-policy-man: run make update-man"
	exit 1
fi
echo "ok: $page is what tools/gen-policy-man writes"

if ! command -v groff >/dev/null 2>&1; then
	echo "ok: groff not installed (Debian: groff-base); rendering not checked"
	exit 0
fi
if ! groff -man -Tutf8 -ww -z "$page" 2>"$out.warn" || [ -s "$out.warn" ]; then
	cat "$out.warn"
	echo "FAIL: groff warns about $page"
	exit 1
fi
echo "ok: groff renders $page without warnings"
