#!/bin/bash
# The main job on a fresh Debian 12 host, as root: installs the build and
# run-time dependencies (tools/install-deps.sh), builds vsched in build/,
# makes libvirtd usable (tools/libvirtd-setup.sh), boots a small TCG demo
# guest "vsched-demo" (2 of 4 vCPUs, 512 MiB, class "general", so that
# conf/policy.d/50-general.policy applies) when libvirt has
# no domain at all, runs vschedd in the foreground with conf/vschedd.conf
# (with --dry-run when the host has guests of its own, so that the demo
# never changes them),
# prints `vschedctl list`, `show` and `explain`, and keeps vschedd running
# until Ctrl-C (the demo guest stays; `virsh destroy vsched-demo` removes it).
#
# Usage: tools/demo.sh [--once]
#   --once  print the inventory, stop vschedd and destroy the demo guest if
#           this run created it (for CI and tests); vschedd's log goes to a
#           file instead of the terminal.
# Environment: VSCHED_BUILD_DIR (default: build/ in the source tree).
set -euo pipefail

ONCE=0
case "${1:-}" in
--once) ONCE=1 ;;
"") ;;
-h | --help)
	sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"
	exit 0
	;;
*)
	echo "usage: tools/demo.sh [--once]" >&2
	exit 2
	;;
esac

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${VSCHED_BUILD_DIR:-$SRC/build}
CONF="$SRC/conf/vschedd.conf"
URI=qemu:///system
GUEST=vsched-demo
GUEST_CACHE=/var/cache/vsched-test/guest
CONSOLE_DIR=/var/log/vsched-demo

step() {
	echo
	echo "==> $*"
}

die() {
	echo "demo: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "run me as root (it installs packages and starts libvirtd)"

step "installing dependencies (tools/install-deps.sh)"
"$SRC/tools/install-deps.sh"

step "building in $BUILD"
if [ ! -x "$SRC/configure" ]; then
	(cd "$SRC" && autoreconf -fi)
fi
mkdir -p "$BUILD"
if [ ! -f "$BUILD/Makefile" ]; then
	(cd "$BUILD" && "$SRC/configure" -q)
fi
make -C "$BUILD" -j"$(nproc)" >/dev/null
VSCHEDD="$BUILD/src/daemon/vschedd"
VSCHEDCTL="$BUILD/src/ctl/vschedctl"

step "making libvirtd usable (tools/libvirtd-setup.sh)"
"$SRC/tools/libvirtd-setup.sh"

CREATED=0
DAEMON_PID=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -TERM "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null || true
	fi
	if [ "$CREATED" = 1 ] && [ "$ONCE" = 1 ]; then
		virsh -q -c "$URI" destroy "$GUEST" >/dev/null 2>&1 &&
			echo "demo: destroyed the demo guest $GUEST"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "$(virsh -q -c "$URI" list --all --name | tr -d '[:space:]')" ]; then
	step "no libvirt domain on this host: booting the demo guest $GUEST"
	"$SRC/tests/guest/build-guest.sh" "$GUEST_CACHE"
	mkdir -p "$CONSOLE_DIR"
	console="$CONSOLE_DIR/$GUEST.console.log"
	: >"$console"
	xml=$(mktemp /tmp/vsched-demo.XXXXXX.xml)
	"$SRC/tests/guest/domain-xml.sh" "$GUEST" 2 4 512 idle general "$console" "$GUEST_CACHE" >"$xml"
	CREATED=1
	virsh -q -c "$URI" create "$xml" >/dev/null || {
		rm -f "$xml"
		CREATED=0
		die "virsh create $GUEST failed"
	}
	rm -f "$xml"
	for _ in $(seq 1 240); do
		grep -q "VSCHED-GUEST READY" "$console" 2>/dev/null && break
		sleep 0.5
	done
	grep -a -m1 "VSCHED-GUEST READY" "$console" ||
		die "$GUEST did not boot within 120 s (console: $console)"
else
	step "libvirt already has domains; not creating a demo guest"
fi

SOCKET=$(sed -n 's/^ControlSocket=//p' "$CONF" | tail -n1)
SOCKET=${SOCKET:-/run/vsched/vschedd.sock}
mkdir -p "$(dirname "$SOCKET")"
if [ -S "$SOCKET" ] && "$VSCHEDCTL" --socket "$SOCKET" status >/dev/null 2>&1; then
	die "a vschedd already answers on $SOCKET; stop it first"
fi

# On a host that already runs guests, the demo only looks: vschedd plans and
# logs what it would do (--dry-run) without touching those guests' threads.
DRY=()
if [ "$CREATED" = 0 ]; then
	DRY=(--dry-run)
	echo "demo: this host has its own guests: vschedd runs with --dry-run and changes nothing"
fi
step "starting vschedd --foreground ${DRY[*]} --config $CONF"
"$VSCHEDD" --check-config --config "$CONF"
if [ "$ONCE" = 1 ]; then
	LOG=$(mktemp /tmp/vschedd-demo.XXXXXX.log)
	"$VSCHEDD" --foreground "${DRY[@]}" --config "$CONF" >"$LOG" 2>&1 &
else
	LOG=
	"$VSCHEDD" --foreground "${DRY[@]}" --config "$CONF" &
fi
DAEMON_PID=$!
for _ in $(seq 1 150); do
	"$VSCHEDCTL" --socket "$SOCKET" status >/dev/null 2>&1 && break
	kill -0 "$DAEMON_PID" 2>/dev/null || die "vschedd exited${LOG:+; its log: $LOG}"
	sleep 0.2
done
"$VSCHEDCTL" --socket "$SOCKET" status >/dev/null || die "vschedd does not answer on $SOCKET"
# Let a tick or two pass so that the inventory has guests' statistics.
sleep 2

step "vschedctl list"
"$VSCHEDCTL" --socket "$SOCKET" list
SHOW=$GUEST
if [ "$CREATED" = 0 ]; then
	SHOW=$(virsh -q -c "$URI" list --name | sed -n 1p)
fi
if [ -n "$SHOW" ]; then
	step "vschedctl show $SHOW"
	"$VSCHEDCTL" --socket "$SOCKET" show "$SHOW"
	step "vschedctl explain $SHOW"
	"$VSCHEDCTL" --socket "$SOCKET" explain "$SHOW"
fi

if [ "$ONCE" = 1 ]; then
	step "stopping vschedd (--once)"
	kill -TERM "$DAEMON_PID"
	rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	[ "$rc" = 0 ] || die "vschedd exited with status $rc; its log: $LOG"
	rm -f "$LOG"
	exit 0
fi

step "vschedd runs in the foreground (pid $DAEMON_PID); Ctrl-C stops it"
wait "$DAEMON_PID"
