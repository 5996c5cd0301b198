#!/bin/sh
# The systemd unit (conf/vschedd.service.in): `systemd-analyze verify`
# accepts it with ExecStart= pointing at the built daemon (verify wants the
# binary to exist), and `systemd-analyze security --offline` gives the
# exposure level that doc/security.md records (so the page is re-done when
# the unit changes). Works without systemd as PID 1; SKIP without
# systemd-analyze.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze not found (Debian: systemd)"
	exit 77
fi
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
daemon=$(cd "$top_builddir/src/daemon" && pwd)
sed "s|@sbindir@|$daemon|g" "$top_srcdir/conf/vschedd.service.in" >"$tmp/vschedd.service"

if ! (cd "$tmp" && systemd-analyze verify --man=no ./vschedd.service) >"$tmp/verify" 2>&1 ||
	[ -s "$tmp/verify" ]; then
	cat "$tmp/verify"
	echo "FAIL: systemd-analyze verify complains about the unit"
	exit 1
fi
echo "ok: systemd-analyze verify"

(cd "$tmp" && systemd-analyze security --offline=true ./vschedd.service) >"$tmp/security" 2>&1
level=$(sed -n 's/^→ Overall exposure level for vschedd.service: \([0-9.]*\) .*/\1/p' "$tmp/security")
recorded=$(sed -n 's/^Overall exposure level: \*\*\([0-9.]*\) .*/\1/p' "$top_srcdir/doc/security.md")
if [ -z "$level" ] || [ "$level" != "$recorded" ]; then
	cat "$tmp/security"
	echo "FAIL: exposure level ${level:-?}, doc/security.md records ${recorded:-nothing}"
	exit 1
fi
# Every exposure left has its reason in doc/security.md.
sed -n 's/^✗ \([A-Za-z]*\)=.*/\1/p' "$tmp/security" | sort -u | while read -r key; do
	grep -q "^| \`$key=" "$top_srcdir/doc/security.md" ||
		grep -q "^| .*\`$key=" "$top_srcdir/doc/security.md" || {
		echo "FAIL: doc/security.md gives no reason for the exposure $key="
		exit 1
	}
done || exit 1
echo "ok: exposure level $level, as doc/security.md records, every exposure explained"

# The unit's bounding set is the daemon's table plus CAP_CHOWN.
for cap in $(sed -n 's/^CapabilityBoundingSet=//p' "$top_srcdir/conf/vschedd.service.in"); do
	name=$(echo "$cap" | tr 'A-Z' 'a-z')
	[ "$cap" = CAP_CHOWN ] && continue
	grep -q "\"$name\"" "$top_srcdir/src/daemon/privileges.c" || {
		echo "FAIL: $cap is in the unit's bounding set but not in src/daemon/privileges.c"
		exit 1
	}
done
echo "ok: the bounding set matches the capabilities vschedd keeps"
