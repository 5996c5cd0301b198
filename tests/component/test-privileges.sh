#!/bin/bash
# Component test of the capabilities the running vschedd keeps
# (src/daemon/privileges.c): with the default DropCapabilities=yes its
# CapEff, CapPrm and CapBnd (/proc/PID/status) are exactly those of the
# table that this process had (CAP_SYS_NICE, CAP_NET_ADMIN, and
# CAP_SYS_RESOURCE where root has it), CapInh and CapAmb are empty, and the
# daemon still serves; with DropCapabilities=no it keeps them all. Needs
# root (SKIP otherwise): a process without capabilities has none to drop.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: not root: there are no capabilities to drop"
	exit 77
fi
# capability numbers: CAP_NET_ADMIN 12, CAP_SYS_NICE 23, CAP_SYS_RESOURCE 24.
own=$((16#$(sed -n 's/^CapPrm:\t//p' /proc/self/status)))
want=$(( own & ((1 << 12) | (1 << 23) | (1 << 24)) ))
capset() { echo $((16#$(sed -n "s/^$1:\t//p" "/proc/$pid/status"))); }

make_fixture_root
write_config
start_daemon
echo "# DropCapabilities=yes: only the table's capabilities"
for set in CapEff CapPrm CapBnd; do
	got=$(capset $set)
	[ "$got" = "$want" ] || fail "$set is $(printf %x "$got"), want $(printf %x "$want")"
done
for set in CapInh CapAmb; do
	[ "$(capset $set)" = 0 ] || fail "$set is not empty"
done
grep -q "capabilities kept: .*cap_sys_nice" "$tmp/daemon.log" || fail "the kept set is not logged"
"$VSCHEDCTL" list > /dev/null || fail "list failed with the dropped capabilities"
"$VSCHEDCTL" tick > /dev/null || fail "tick failed with the dropped capabilities"
stop_daemon

echo "# under the unit's CapabilityBoundingSet= (no CAP_SETPCAP): the socket gets its"
echo "# group with CAP_CHOWN, then only the table's capabilities are left"
group=$(getent group 1 | cut -d: -f1)
[ -n "$group" ] || fail "no group with gid 1 to give the socket"
unit_caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$src/conf/vschedd.service.in")
bounding=$(echo "$unit_caps" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
write_config "ControlGroup=$group"
# The same PID as the daemon: setpriv and the script exec it.
printf '#!/bin/sh\nexec setpriv --bounding-set=-all,%s --inh-caps=-all %s "$@"\n' \
	"$bounding" "$VSCHEDD" > "$tmp/vschedd-unit"
chmod +x "$tmp/vschedd-unit"
real=$VSCHEDD
VSCHEDD=$tmp/vschedd-unit
start_daemon
VSCHEDD=$real
[ "$(stat -c %G "$tmp/run/vschedd.sock")" = "$group" ] || fail "the socket is not group $group"
[ "$(capset CapEff)" = "$want" ] || fail "CapEff is $(printf %x "$(capset CapEff)"), want $(printf %x "$want")"
[ "$(capset CapPrm)" = "$want" ] || fail "CapPrm is $(printf %x "$(capset CapPrm)")"
grep -q "bounding set left as given" "$tmp/daemon.log" || fail "no note on the bounding set"
"$VSCHEDCTL" list > /dev/null || fail "list failed under the unit's bounding set"
stop_daemon

echo "# DropCapabilities=no: every capability stays"
write_config "DropCapabilities=no"
start_daemon
[ "$(capset CapEff)" = "$own" ] || fail "CapEff is $(printf %x "$(capset CapEff)"), want $(printf %x "$own")"
stop_daemon
echo "ok: privileges"
