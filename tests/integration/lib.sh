# Shell helpers for the integration tier (TESTING.md): real libvirtd, real
# QEMU TCG guests booted from the test guest of tests/guest/, and the real
# vschedd/vschedctl of the build tree. Source it from a bash test script:
#
#   . "$(dirname "$0")/lib.sh"
#   vst_init            # skip (exit 77) unless root with qemu and libvirtd
#   guest_define_start "$(vst_name db)" 2 3 256 idle db
#
# Everything a test creates is named with a per-run prefix (vst-PID-) or
# lives in a per-run temporary directory, and is removed by a trap on exit:
# guests are destroyed (and undefined), vschedd is stopped, libvirtd is
# started again if the test stopped it. On failure the daemon log and the
# guest consoles are printed. JSON is read with python3. Integration tests
# run one at a time per host (a lock in /tmp). Environment: VSCHED_SKIP_REAL
# (when set: SKIP), VSCHED_GUEST_CACHE (default /var/cache/vsched-test/guest).
# shellcheck shell=bash

if [ -z "${BASH_VERSION:-}" ]; then
	echo "lib.sh: needs bash" >&2
	exit 99
fi

VST_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VST_SRCDIR=${top_srcdir:-$(cd "$VST_LIBDIR/../.." && pwd)}
VST_BUILDDIR=${top_builddir:-$PWD}
VST_URI=qemu:///system
VST_STATUS_DIR=/run/libvirt/qemu
VST_GUEST_CACHE=${VSCHED_GUEST_CACHE:-/var/cache/vsched-test/guest}
VST_PREFIX="vst-$$-"
VSCHEDD="$VST_BUILDDIR/src/daemon/vschedd"
VSCHEDCTL="$VST_BUILDDIR/src/ctl/vschedctl"
VST_TMPDIR=
VST_DOMAINS=()
VST_DAEMON_PID=
VST_DAEMON_LOG=
VST_LIBVIRTD_STOPPED=0
VST_LOCK_FD=
VST_PY=/usr/bin/python3
[ -x "$VST_PY" ] || VST_PY=$(command -v python3 || echo python3)

vst_log() {
	echo "[$(date +%T)] $*"
}

# A test step: what the following lines check.
vst_step() {
	echo
	echo "[$(date +%T)] == $*"
}

vst_fail() {
	echo "[$(date +%T)] FAIL: $*" >&2
	exit 1
}

vst_skip() {
	echo "SKIP: $*"
	exit 77
}

# Skips the test unless it can run here, then prepares the run: temporary
# directory, cleanup trap, libvirtd (tools/libvirtd-setup.sh, which may edit
# /etc/libvirt/qemu.conf and says so) and the cached test guest.
vst_init() {
	[ -z "${VSCHED_SKIP_REAL:-}" ] || vst_skip "VSCHED_SKIP_REAL is set ($VSCHED_SKIP_REAL)"
	[ "$(id -u)" = 0 ] || vst_skip "needs root"
	command -v qemu-system-x86_64 >/dev/null || vst_skip "qemu-system-x86_64 not installed"
	command -v libvirtd >/dev/null || vst_skip "libvirtd not installed"
	command -v virsh >/dev/null || vst_skip "virsh not installed"
	command -v "$VST_PY" >/dev/null || vst_skip "python3 not installed"

	# One integration test at a time on this host: they share libvirtd, and
	# some stop it.
	exec {VST_LOCK_FD}>/tmp/vsched-integration.lock
	if ! flock -w 900 "$VST_LOCK_FD"; then
		echo "FAIL: another integration test held /tmp/vsched-integration.lock for 15 min" >&2
		exit 1
	fi

	VST_TMPDIR=$(mktemp -d /tmp/vst-$$.XXXXXX)
	# Non-root peers (the permission test) must reach sockets in here.
	chmod 0711 "$VST_TMPDIR"
	trap vst_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	vst_log "setting up libvirtd"
	"$VST_SRCDIR/tools/libvirtd-setup.sh" {VST_LOCK_FD}>&- || vst_fail "tools/libvirtd-setup.sh failed"
	guest_cleanup_stale
	vst_log "building (or reusing) the test guest in $VST_GUEST_CACHE"
	"$VST_SRCDIR/tests/guest/build-guest.sh" "$VST_GUEST_CACHE" ||
		vst_fail "tests/guest/build-guest.sh failed"
}

# Requires the daemon and the CLI of the build tree.
vst_require_binaries() {
	[ -x "$VSCHEDD" ] || vst_fail "$VSCHEDD not built"
	[ -x "$VSCHEDCTL" ] || vst_fail "$VSCHEDCTL not built"
}

vst_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$VST_DAEMON_PID" ] && kill -0 "$VST_DAEMON_PID" 2>/dev/null; then
		kill -TERM "$VST_DAEMON_PID" 2>/dev/null
		vst_wait_pid "$VST_DAEMON_PID" 20 || kill -KILL "$VST_DAEMON_PID" 2>/dev/null
		wait "$VST_DAEMON_PID" 2>/dev/null
	fi
	if [ "$VST_LIBVIRTD_STOPPED" = 1 ]; then
		"$VST_SRCDIR/tools/libvirtd-setup.sh" {VST_LOCK_FD}>&- >/dev/null || echo "cleanup: could not restart libvirtd" >&2
	fi
	guest_cleanup
	if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -n "$VST_TMPDIR" ]; then
		vst_dump_logs
	fi
	[ -n "$VST_TMPDIR" ] && rm -rf "$VST_TMPDIR"
	exit "$rc"
}

vst_dump_logs() {
	local f
	if [ -n "$VST_DAEMON_LOG" ] && [ -e "$VST_DAEMON_LOG" ]; then
		echo "---- last lines of $VST_DAEMON_LOG"
		tail -n 60 "$VST_DAEMON_LOG"
	fi
	for f in "$VST_TMPDIR"/*.console.log; do
		[ -e "$f" ] || continue
		echo "---- guest console $f (vsched lines)"
		grep -a "VSCHED-GUEST" "$f" | tail -n 10
	done
}

# Waits up to @2 seconds for process @1 to exit; false on timeout.
vst_wait_pid() {
	local pid=$1 i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# vst_wait_until TIMEOUT WHAT CMD...: runs CMD every half second until it
# succeeds; fails the test after TIMEOUT seconds, showing CMD's last output.
vst_wait_until() {
	local timeout=$1 what=$2 deadline out
	shift 2
	deadline=$((SECONDS + timeout))
	while :; do
		if out=$("$@" 2>&1); then
			vst_log "ok: $what"
			return 0
		fi
		[ "$SECONDS" -ge "$deadline" ] && break
		sleep 0.5
	done
	vst_fail "$what: not true within ${timeout}s; last check said: $out"
}

# The full domain name for @1 in this run (guest_cleanup removes these).
vst_name() {
	echo "$VST_PREFIX$1"
}

virsh_() {
	virsh -q -c "$VST_URI" "$@"
}

# The console log of guest @1.
guest_console() {
	echo "$VST_TMPDIR/$1.console.log"
}

# guest_define_start [--persistent] [--agent] [--no-balloon] [--append ARGS]
#                    NAME [VCPUS] [MAXVCPUS] [MEM_MIB] [MODE] [CLASS]
# Starts a TCG guest (transient unless --persistent) that boots the test
# guest kernel directly, with VCPUS of MAXVCPUS vCPUs online, MEM_MIB of
# memory, a virtio balloon with 2 s stats (none with --no-balloon), the guest
# agent's channel with --agent, the guest init's extra kernel parameters
# ARGS (tests/guest/init: vsched.burnfor=, vsched.fill=, vsched.nomod=), its
# serial console in a file, and <vsched:policy class="CLASS"/> metadata
# when CLASS is given. NAME must carry this run's prefix (vst_name).
guest_define_start() {
	local persistent=0 opts=()
	while :; do
		case "${1:-}" in
		--persistent) persistent=1 ;;
		--agent | --no-balloon) opts+=("$1") ;;
		--append)
			opts+=("$1" "$2")
			shift
			;;
		*) break ;;
		esac
		shift
	done
	local name=$1 vcpus=${2:-1} maxvcpus=${3:-${2:-1}} mem=${4:-256} mode=${5:-idle} class=${6:-}
	local xml="$VST_TMPDIR/$name.xml"
	case "$name" in
	"$VST_PREFIX"*) ;;
	*) vst_fail "guest_define_start: $name lacks this run's prefix $VST_PREFIX" ;;
	esac
	[ -s "$VST_GUEST_CACHE/vmlinuz" ] || vst_fail "no test guest in $VST_GUEST_CACHE"
	"$VST_SRCDIR/tests/guest/domain-xml.sh" "${opts[@]}" "$name" "$vcpus" "$maxvcpus" "$mem" "$mode" \
		"${class:--}" "$(guest_console "$name")" "$VST_GUEST_CACHE" >"$xml" ||
		vst_fail "guest_define_start: bad arguments for $name"
	VST_DOMAINS+=("$name")
	if [ "$persistent" = 1 ]; then
		virsh_ define "$xml" >/dev/null || vst_fail "virsh define $name failed"
		virsh_ start "$name" >/dev/null || vst_fail "virsh start $name failed"
	else
		virsh_ create "$xml" >/dev/null || vst_fail "virsh create $name failed"
	fi
	vst_log "started guest $name ($vcpus of $maxvcpus vCPUs, $mem MiB, mode $mode${class:+, class $class}${opts[*]:+, ${opts[*]}})"
}

# guest_agent_wait NAME TIMEOUT: waits until the guest agent of NAME answers
# guest-ping through libvirt.
guest_agent_wait() {
	local name=$1 timeout=${2:-60} deadline
	deadline=$((SECONDS + timeout))
	until virsh_ qemu-agent-command "$name" '{"execute":"guest-ping"}' >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || vst_fail "guest agent of $name not answering within ${timeout}s"
		sleep 1
	done
	vst_log "guest $name: agent answers"
}

# guest_last_state NAME: the guest's last "nproc=N memtotal=KB oom=N" line.
guest_last_state() {
	grep -a "VSCHED-GUEST .*nproc=" "$(guest_console "$1")" 2>/dev/null | tail -n 1 |
		sed 's/^.*\(nproc=\)/\1/' | tr -d '\r'
}

# guest_wait_ready NAME TIMEOUT: waits for the guest's READY line.
guest_wait_ready() {
	local name=$1 timeout=${2:-120} log deadline
	log=$(guest_console "$name")
	deadline=$((SECONDS + timeout))
	until grep -q "VSCHED-GUEST READY" "$log" 2>/dev/null; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			tail -n 20 "$log" 2>/dev/null
			vst_fail "guest $name not ready within ${timeout}s"
		fi
		sleep 0.5
	done
	vst_log "guest $name: $(grep -a -m1 "VSCHED-GUEST READY" "$log" | tr -d '\r')"
}

# Destroys and undefines every domain this run created (by its prefix).
guest_cleanup() {
	local name
	if ! virsh_ list --all --name >/dev/null 2>&1; then
		[ "${#VST_DOMAINS[@]}" = 0 ] && return 0
		# Our guests outlive libvirtd; it must run to remove them.
		"$VST_SRCDIR/tools/libvirtd-setup.sh" {VST_LOCK_FD}>&- >/dev/null ||
			echo "cleanup: libvirtd unreachable; guests ${VST_DOMAINS[*]} may be left" >&2
	fi
	for name in $(virsh_ list --all --name 2>/dev/null); do
		case "$name" in
		"$VST_PREFIX"*)
			virsh_ destroy "$name" >/dev/null 2>&1
			virsh_ undefine "$name" >/dev/null 2>&1
			;;
		esac
	done
}

# Removes the guests of earlier runs that did not clean up (killed, or
# libvirtd away at the time): vst-PID-* whose test process is gone. Under
# the host-wide lock no other test's guests exist meanwhile.
guest_cleanup_stale() {
	local name pid
	for name in $(virsh_ list --all --name 2>/dev/null); do
		case "$name" in
		vst-[0-9]*-*) ;;
		*) continue ;;
		esac
		pid=${name#vst-}
		pid=${pid%%-*}
		[ "$pid" != $$ ] && ! kill -0 "$pid" 2>/dev/null || continue
		vst_log "removing $name, left by an earlier run"
		virsh_ destroy "$name" >/dev/null 2>&1
		virsh_ undefine "$name" >/dev/null 2>&1
	done
}

# The QEMU PID of running domain @1, from libvirt's pid file.
qemu_pid() {
	local pid
	pid=$(cat "$VST_STATUS_DIR/$1.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
	echo "$pid"
}

# Prints "n tid" for each vCPU thread (comm "CPU n/TCG" or "CPU n/KVM") of
# domain @1's QEMU, by vCPU index.
qemu_vcpu_tids() {
	local pid task comm n
	pid=$(qemu_pid "$1") || return 1
	for task in /proc/"$pid"/task/*; do
		comm=$(cat "$task/comm" 2>/dev/null) || continue
		case "$comm" in
		"CPU "*/TCG | "CPU "*/KVM)
			n=${comm#CPU }
			echo "${n%/*} ${task##*/}"
			;;
		esac
	done | sort -n
}

# Writes a vschedd configuration for this run (control socket, policy
# directory and overrides file in the run's temporary directory) to @1 (default TMPDIR/vschedd.conf) and prints its
# path. Extra "Key=value" lines for [Daemon] may follow.
daemon_write_config() {
	local conf=${1:-$VST_TMPDIR/vschedd.conf} line
	shift || true
	mkdir -p "$VST_TMPDIR/run"
	chmod 0711 "$VST_TMPDIR/run"
	{
		echo "[Daemon]"
		echo "TickInterval=1s"
		echo "LibvirtURI=$VST_URI"
		echo "LibvirtStatusDir=$VST_STATUS_DIR"
		echo "ControlSocket=$VST_TMPDIR/run/vschedd.sock"
		echo "ControlGroup=vsched"
		echo "PolicyDirectory=$VST_TMPDIR/policy.d"
		echo "OverridesFile=$VST_TMPDIR/overrides.json"
		echo "LogLevel=debug"
		for line in "$@"; do
			echo "$line"
		done
	} >"$conf"
	echo "$conf"
}

# daemon_start CONFIG [ARGS...]: runs vschedd --foreground in the background
# (log: TMPDIR/vschedd.log), exports VSCHED_SOCKET from the config's
# ControlSocket= and waits until `vschedctl status` answers (30 s).
daemon_start() {
	local conf=$1 deadline
	shift
	VSCHED_SOCKET=$(sed -n 's/^ControlSocket=//p' "$conf")
	[ -n "$VSCHED_SOCKET" ] || vst_fail "$conf has no ControlSocket="
	export VSCHED_SOCKET
	VST_DAEMON_LOG="$VST_TMPDIR/vschedd.log"
	"$VSCHEDD" --foreground --config "$conf" "$@" {VST_LOCK_FD}>&- >>"$VST_DAEMON_LOG" 2>&1 &
	VST_DAEMON_PID=$!
	deadline=$((SECONDS + 30))
	until [ -S "$VSCHED_SOCKET" ] && ctl status >/dev/null 2>&1; do
		kill -0 "$VST_DAEMON_PID" 2>/dev/null ||
			vst_fail "vschedd exited at start: $(tail -n 20 "$VST_DAEMON_LOG")"
		[ "$SECONDS" -ge "$deadline" ] && vst_fail "vschedd does not answer on $VSCHED_SOCKET within 30s"
		sleep 0.2
	done
	vst_log "vschedd running (pid $VST_DAEMON_PID, socket $VSCHED_SOCKET)"
}

# Sends SIGTERM to vschedd and waits (20 s); returns its exit status.
daemon_stop() {
	local pid=$VST_DAEMON_PID rc
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	if ! vst_wait_pid "$pid" 20; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		VST_DAEMON_PID=
		vst_fail "vschedd did not exit within 20s of SIGTERM"
	fi
	wait "$pid"
	rc=$?
	VST_DAEMON_PID=
	return "$rc"
}

# vschedctl of the build tree, on this run's socket.
ctl() {
	"$VSCHEDCTL" --socket "$VSCHED_SOCKET" "$@"
}

# vst_json EXPR: evaluates the Python expression EXPR with `d` bound to the
# JSON document on stdin; prints strings as they are, other values as JSON.
vst_json() {
	"$VST_PY" -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v))
' "$1"
}

# Stops the system libvirtd (by the PID in its pid file); vst_cleanup starts
# it again if the test does not.
libvirtd_stop() {
	local pid
	pid=$(cat /run/libvirtd.pid 2>/dev/null)
	[ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = libvirtd ] ||
		pid=$(pgrep -x libvirtd | head -n1)
	[ -n "$pid" ] || vst_fail "libvirtd is not running"
	VST_LIBVIRTD_STOPPED=1
	kill -TERM "$pid"
	vst_wait_pid "$pid" 30 || vst_fail "libvirtd (pid $pid) did not stop"
	vst_log "stopped libvirtd (pid $pid)"
}

libvirtd_start() {
	"$VST_SRCDIR/tools/libvirtd-setup.sh" {VST_LOCK_FD}>&- || vst_fail "could not start libvirtd"
	VST_LIBVIRTD_STOPPED=0
}

# thread_cpus TID: the thread's allowed CPUs as the kernel lists them
# (Cpus_allowed_list of /proc/TID/status, e.g. "0-1").
thread_cpus() {
	sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null
}

# thread_policy TID: the scheduling policy name as chrt prints it
# ("SCHED_OTHER", "SCHED_DEADLINE").
thread_policy() {
	chrt -p "$1" 2>/dev/null | sed -n 's/.*current scheduling policy: \([A-Z_]*\).*/\1/p'
}

# daemon_fd_kinds: the running vschedd's descriptors as "OTHER HELD STALE":
# HELD are those it keeps open on a guest's /proc threads and cgroup files
# (their number follows the running guests), STALE those of them whose file
# is gone (a thread that exited, a cgroup removed), OTHER the rest.
daemon_fd_kinds() {
	local fd target other=0 held=0 stale=0
	for fd in /proc/"$VST_DAEMON_PID"/fd/*; do
		target=$(readlink "$fd" 2>/dev/null) || continue
		case "$target" in
		/proc/[0-9]*/task/* | /sys/fs/cgroup/*)
			held=$((held + 1))
			[ -e "$target" ] || stale=$((stale + 1))
			;;
		*) other=$((other + 1)) ;;
		esac
	done
	echo "$other $held $stale"
}

# daemon_rss_kib: resident memory of the running vschedd (VmRSS, KiB).
daemon_rss_kib() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$VST_DAEMON_PID/status" 2>/dev/null
}
