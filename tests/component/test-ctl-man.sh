#!/bin/sh
# Checks doc/vschedctl.1 against the program: every verb that `vschedctl
# help` lists has an entry (a .TP tag) in the VERBS section, and every
# option it lists is in OPTIONS; and groff renders the page without a
# warning.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
page="$top_srcdir/doc/vschedctl.1"
ctl="$top_builddir/src/ctl/vschedctl"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

if ! "$ctl" help >"$tmp/help"; then
	echo "FAIL: $ctl help failed"
	exit 1
fi
# "  policy check [--dir DIR | FILE...]" -> "policy check"; "  list [--all]" -> "list".
sed -n '/^Verbs:/,/^$/p' "$tmp/help" |
	sed -n 's/^  \([a-z][a-z]*\)\( [a-z][a-z]*\)\{0,1\}\( .*\)\{0,1\}$/\1\2/p' >"$tmp/verbs"
sed -n 's/^  \(-., \)\{0,1\}\(--[a-z]*\).*/\2/p' "$tmp/help" >"$tmp/options"
if [ "$(wc -l <"$tmp/verbs")" -lt 10 ] || [ "$(wc -l <"$tmp/options")" -lt 6 ]; then
	echo "FAIL: could not read the verbs and options from '$ctl help':"
	cat "$tmp/help"
	exit 1
fi
# The tags of the page's entries, without macros, quotes and escapes.
awk '/^\.SH/ { section = $2 } prev == ".TP" { print section "\t" $0 } { prev = $1 }' "$page" |
	sed 's/^\([A-Z]*\)\t\.[BIR]* /\1\t/; s/\\f[BIRP]//g; s/\\-/-/g; s/"//g' >"$tmp/tags"

status=0
while read -r verb; do
	if ! grep -q "^VERBS	$verb\( \|$\)" "$tmp/tags"; then
		echo "FAIL: $page has no entry for the verb '$verb'"
		status=1
	fi
done <"$tmp/verbs"
while read -r option; do
	if ! grep -q "^OPTIONS	.*$option\( \|,\|$\)" "$tmp/tags"; then
		echo "FAIL: $page has no entry for the option '$option'"
		status=1
	fi
done <"$tmp/options"
[ $status -eq 0 ] || exit 1
echo "ok: $page documents the $(wc -l <"$tmp/verbs") verbs and $(wc -l <"$tmp/options") options of vschedctl help"

if ! command -v groff >/dev/null 2>&1; then
	echo "ok: groff not installed (Debian: groff-base); rendering not checked"
	exit 0
fi
if ! groff -man -Tutf8 -ww -z "$page" 2>"$tmp/warn" || [ -s "$tmp/warn" ]; then
	cat "$tmp/warn"
	echo "FAIL: groff warns about $page"
	exit 1
fi
echo "ok: groff renders $page without warnings"
