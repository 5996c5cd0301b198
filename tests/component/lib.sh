# Shell helpers for the component tests that run the real vschedd and
# vschedctl against a fixture sysroot and the libvirt test driver. Source it
# from a bash test; it creates $tmp (removed on exit, with a daemon still
# running killed) and sets VSCHEDD, VSCHEDCTL, src and build.
# shellcheck shell=bash

src=${top_srcdir:?top_srcdir must be set (run through make check)}
build=${top_builddir:?top_builddir must be set (run through make check)}
VSCHEDD="$build/src/daemon/vschedd"
VSCHEDCTL="$build/src/ctl/vschedctl"
tmp=$(mktemp -d /tmp/vsched-component-XXXXXX)
pid=""

cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# fail MESSAGE: print it and the daemon's log, and fail the test.
fail() {
	echo "FAIL: $*" >&2
	[ -f "$tmp/daemon.log" ] && { echo "--- daemon log"; cat "$tmp/daemon.log"; } >&2
	exit 1
}

# json FILE EXPR: a Python expression over the parsed JSON (as j).
json() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# wait_for SECONDS COMMAND...: poll until the command succeeds.
wait_for() {
	local deadline=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# make_fixture_root: $tmp/root from this machine's host fixture and the
# libvirt test driver's QEMU processes (tests/data/virt/testdrv-root).
make_fixture_root() {
	mkdir -p "$tmp/root"
	cp -a "$src/tests/data/hosts/flat2/." "$tmp/root/"
	cp -a "$src/tests/data/virt/testdrv-root/." "$tmp/root/"
	chmod -R u+w "$tmp/root"
}

# write_config [EXTRA LINE...]: $tmp/vschedd.conf for the fixture root and
# the test driver, control socket in $tmp; exports VSCHED_SOCKET.
write_config() {
	local line
	{
		echo "[Daemon]"
		echo "TickInterval=200ms"
		echo "LibvirtURI=test://$src/tests/data/virt/testdrv.xml"
		echo "LibvirtStatusDir=/run/libvirt/qemu"
		echo "ControlSocket=$tmp/run/vschedd.sock"
		echo "ControlGroup="
		echo "OverridesFile=$tmp/state/overrides.json"
		echo "SysRoot=$tmp/root"
		for line in "$@"; do
			echo "$line"
		done
	} > "$tmp/vschedd.conf"
	export VSCHED_SOCKET="$tmp/run/vschedd.sock"
}

# start_daemon [ARGS...]: vschedd in the background (log $tmp/daemon.log),
# waiting until it answers.
start_daemon() {
	"$VSCHEDD" --foreground --config "$tmp/vschedd.conf" "$@" >> "$tmp/daemon.log" 2>&1 &
	pid=$!
	wait_for 10 "$VSCHEDCTL" status || fail "no answer on the control socket"
}

# stop_daemon: SIGTERM, and the exit status must be 0.
stop_daemon() {
	local rc=0
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	pid=""
	[ "$rc" = 0 ] || fail "vschedd exited with $rc on SIGTERM"
}
