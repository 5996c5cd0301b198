#!/bin/bash
# Integration test of the memory step on a real libvirtd with real QEMU TCG
# guests: three guests of 512 MiB, and two of 160 MiB, one whose balloon
# device has no driver (vsched.nomod=virtio_balloon) and one without a
# balloon device. vschedd starts without a budget (the guests hold their
# memory) and arms real PSI trigger fds (logged). A reload with
# MemoryBudget=1150M (of the 1856 MiB the five hold: all three must give,
# whatever order the planner takes them in) makes it shrink the three: each
# guest's MemTotal falls on its console, the targets fit the budget, no
# guest OOM-kills; the guest without a driver (given Floor=64M, since
# without statistics nothing else would let the planner ask it) is reported
# stuck once its balloon does not move, the one without a device at once,
# and both are left at their size.
# Lifting the budget (reload) gives the memory back: MemTotal returns.
# Then real host memory pressure (a reader thrashing a file through mmap in
# a 24 MiB memory cgroup) fires the PSI trigger, which the daemon handles in
# the main loop (log) and which moves the host state. The daemon's reaction
# times (from the reload or the trigger to the first balloon command) and
# the time to reclaim and to give back are printed as BENCH lines
# (doc/benchmarks.md). Needs root, qemu-system-x86_64 and libvirtd (else
# SKIP, exit 77); the PSI part needs the cgroup v1 memory controller.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail
. "$(dirname "$0")/lib.sh"

vst_init
vst_require_binaries

G1=$(vst_name m1)
G2=$(vst_name m2)
G3=$(vst_name m3)
NODRV=$(vst_name nodrv)
NODEV=$(vst_name nodev)
MIB=1048576
BUDGET_MIB=1150
SMALL_MIB=160
MEMCG=/sys/fs/cgroup/memory/vst-$$

# The memory cgroup of the PSI step goes with the test, whatever happens.
trap 'rc=$?; [ -d "$MEMCG" ] && rmdir "$MEMCG" 2>/dev/null; (exit $rc); vst_cleanup' EXIT

# memtotal NAME: the guest's last MemTotal (KiB) on its console.
memtotal() {
	guest_last_state "$1" | sed -n 's/.*memtotal=\([0-9]*\).*/\1/p'
}

# oom NAME: the guest's OOM-kill count on its console.
oom() {
	guest_last_state "$1" | sed -n 's/.*oom=\([0-9]*\).*/\1/p'
}

mem_json() {
	ctl mem --json
}

# mem_guest NAME EXPR: EXPR over the guest's entry (g) of `vschedctl mem`.
mem_guest() {
	mem_json | vst_json "[g for g in d['guests'] if g['name']=='$1'][0]$2"
}

# The sum of the three balloon guests' balloons, in MiB.
three_current_mib() {
	mem_json | vst_json "sum(g['current'] for g in d['guests'] if g['name'] in ('$G1','$G2','$G3')) // $MIB"
}

fell() {
	local now
	now=$(memtotal "$1")
	[ -n "$now" ] && [ "$now" -lt $(($2 - 64 * 1024)) ]
}

back() {
	local now
	now=$(memtotal "$1")
	[ -n "$now" ] && [ "$now" -ge $(($2 - 1024)) ]
}

following_is() {
	[ "$(mem_guest "$1" '["following"]')" = "$2" ]
}

# ms_since T0: milliseconds from the date +%s%N value T0 to now.
ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}

vst_step "five guests: three of 512 MiB, one without balloon driver, one without balloon device"
for g in "$G1" "$G2" "$G3"; do
	guest_define_start "$g" 1 1 512 idle
done
guest_define_start --append vsched.nomod=virtio_balloon "$NODRV" 1 1 "$SMALL_MIB" idle
guest_define_start --no-balloon "$NODEV" 1 1 "$SMALL_MIB" idle
for g in "$G1" "$G2" "$G3" "$NODRV" "$NODEV"; do
	guest_wait_ready "$g" 120
done
declare -A START
for g in "$G1" "$G2" "$G3"; do
	START[$g]=$(memtotal "$g")
	[ -n "${START[$g]}" ] || vst_fail "no MemTotal on the console of $g"
done

vst_step "vschedd without a budget: PSI triggers armed, the guest without a device reported"
conf=$(daemon_write_config "$VST_TMPDIR/vschedd.conf" "MemoryMinDwell=2s")
# Without a driver the guest reports no statistics, so the planner would
# never reclaim it below its size; Floor= lets it ask, and find it stuck.
mkdir -p "$VST_TMPDIR/policy.d"
printf '[Match]\nName=%s\n\n[Memory]\nFloor=64M\n' "$NODRV" >"$VST_TMPDIR/policy.d/10-nodrv.policy"
daemon_start "$conf"
vst_wait_until 20 "the PSI trigger fds are armed (log)" \
	grep -q "memory: PSI triggers armed on /proc/pressure/memory: some .* full " "$VST_DAEMON_LOG"
vst_log "$(grep -m1 "PSI triggers armed" "$VST_DAEMON_LOG")"
vst_wait_until 20 "$NODEV is reported without a balloon device" \
	grep -q "$NODEV: the guest has no balloon device" "$VST_DAEMON_LOG"
vst_wait_until 10 "$NODEV: following no-balloon" following_is "$NODEV" no-balloon
sleep 3
for g in "$G1" "$G2" "$G3"; do
	[ "$(memtotal "$g")" = "${START[$g]}" ] || vst_fail "$g was ballooned without a budget"
done

vst_step "a budget of $BUDGET_MIB MiB below what the guests hold (reload): the three shrink"
conf=$(daemon_write_config "$VST_TMPDIR/vschedd.conf" "MemoryMinDwell=2s" "MemoryBudget=${BUDGET_MIB}M")
t0=$(date +%s%N)
kill -HUP "$VST_DAEMON_PID"
for g in "$G1" "$G2" "$G3"; do
	vst_wait_until 60 "$g: MemTotal falls on its console" fell "$g" "${START[$g]}"
done
# The three give what the two that cannot move would have given.
vst_wait_until 60 "the three guests' balloons fit the budget beside the other two" \
	bash -c "[ \$(\"$VSCHEDCTL\" --socket \"$VSCHED_SOCKET\" mem --json | \"$VST_PY\" -c '
import json, sys
d = json.load(sys.stdin)
print(sum(g[\"current\"] for g in d[\"guests\"]) // $MIB)') -le $BUDGET_MIB ]"
reclaim_ms=$(ms_since "$t0")
reaction=$(grep "first balloon command .* after the configuration reload" "$VST_DAEMON_LOG" | head -n1)
[ -n "$reaction" ] || vst_fail "no reaction time logged for the reload"
reclaimed=$((3 * 512 - $(three_current_mib)))
echo "BENCH mem reload->first balloon command: $(sed 's/.*command \([0-9.]*\) ms.*/\1/' <<<"$reaction") ms"
echo "BENCH mem reclaim ${reclaimed} MiB across 3 guests: ${reclaim_ms} ms (reload to within budget)"
targets_fit() {
	[ "$(mem_json | vst_json 'd["host"]["targets_sum"] // 1048576')" -le "$BUDGET_MIB" ]
}
vst_wait_until 20 "the plan's targets fit the budget" targets_fit
ctl mem

vst_step "the guest without a balloon driver is reported stuck and left alone"
vst_wait_until 40 "$NODRV: following stuck" following_is "$NODRV" stuck
grep -q "$NODRV: does not follow its balloon target: the balloon stayed at $SMALL_MIB.0 MiB" "$VST_DAEMON_LOG" ||
	vst_fail "the stuck guest's report is not in the log"
[ "$(grep -c "$NODRV: does not follow its balloon target" "$VST_DAEMON_LOG")" = 1 ] ||
	vst_fail "the stuck guest was reported more than once"
asked=$(grep -c "$NODRV: balloon " "$VST_DAEMON_LOG")
sleep 4
[ "$(grep -c "$NODRV: balloon " "$VST_DAEMON_LOG")" = "$asked" ] ||
	vst_fail "the stuck guest is asked again every tick"
[ "$(mem_guest "$NODEV" '["current"]')" = $((SMALL_MIB * MIB)) ] || vst_fail "$NODEV's memory changed"
grep -q "$NODEV: balloon " "$VST_DAEMON_LOG" && vst_fail "the guest without a device was asked"
ctl explain "$NODRV" | grep -q "memory: the balloon is stuck" || vst_fail "explain does not say $NODRV is stuck"

vst_step "lifting the budget (reload) gives the memory back"
conf=$(daemon_write_config "$VST_TMPDIR/vschedd.conf" "MemoryMinDwell=2s")
before=$(grep -c "after the configuration reload" "$VST_DAEMON_LOG")
t0=$(date +%s%N)
kill -HUP "$VST_DAEMON_PID"
for g in "$G1" "$G2" "$G3"; do
	vst_wait_until 60 "$g: MemTotal back on its console" back "$g" "${START[$g]}"
done
give_ms=$(ms_since "$t0")
reaction=$(grep "first balloon command .* after the configuration reload" "$VST_DAEMON_LOG" | tail -n +$((before + 1)) | head -n1)
[ -n "$reaction" ] || reaction=$(grep "first balloon command .* after the configuration reload" "$VST_DAEMON_LOG" | tail -n1)
echo "BENCH mem give back ${reclaimed} MiB to 3 guests: ${give_ms} ms (reload to MemTotal back on every console)"
for g in "$G1" "$G2" "$G3" "$NODRV" "$NODEV"; do
	[ "$(oom "$g")" = 0 ] || vst_fail "$g OOM-killed: $(guest_last_state "$g")"
done
vst_log "no guest OOM-killed"

vst_step "real host memory pressure fires the PSI trigger, handled in the main loop"
if [ ! -w /sys/fs/cgroup/memory ]; then
	vst_log "no writable cgroup v1 memory controller: the trigger's event path is not provoked here"
else
	mkdir "$MEMCG" || vst_fail "cannot create $MEMCG"
	echo 24M >"$MEMCG/memory.limit_in_bytes"
	# Written past the page cache: the reader's faults are charged to the
	# small cgroup, whose reclaim then stalls it.
	dd if=/dev/urandom of="$VST_TMPDIR/thrash.dat" bs=1M count=160 oflag=direct status=none
	fired=$(grep -c "memory: PSI .* trigger fired" "$VST_DAEMON_LOG")
	(
		echo $BASHPID >"$MEMCG/cgroup.procs"
		exec timeout 15 "$VST_PY" -c '
import mmap, sys, time
f = open(sys.argv[1], "rb")
m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
end = time.time() + 12
while time.time() < end:
    for i in range(0, len(m), 4096):
        m[i]
' "$VST_TMPDIR/thrash.dat"
	) &
	thrash=$!
	vst_wait_until 14 "a PSI memory trigger fired in vschedd" \
		bash -c "[ \$(grep -c 'memory: PSI .* trigger fired' '$VST_DAEMON_LOG') -gt $fired ]"
	vst_wait_until 10 "the host state moved on the trigger event" \
		grep -q "memory: host state .*PSI .* trigger event" "$VST_DAEMON_LOG"
	vst_log "$(grep "memory: host state .*PSI .* trigger event" "$VST_DAEMON_LOG" | head -n1)"
	wait "$thrash"
	rmdir "$MEMCG" 2>/dev/null
	line=$(grep "first balloon command .* after the PSI" "$VST_DAEMON_LOG" | head -n1)
	if [ -n "$line" ]; then
		echo "BENCH mem PSI trigger->first balloon command: $(sed 's/.*command \([0-9.]*\) ms.*/\1/' <<<"$line") ms"
	else
		vst_log "no balloon command followed the trigger: $(grep "after the PSI" "$VST_DAEMON_LOG" | head -n1)"
	fi
fi

vst_step "a clean stop leaves the balloons as they are"
daemon_stop || vst_fail "vschedd exited with $? on SIGTERM"
for g in "$G1" "$G2" "$G3" "$NODRV" "$NODEV"; do
	[ "$(oom "$g")" = 0 ] || vst_fail "$g OOM-killed: $(guest_last_state "$g")"
done
echo "PASS"
