#!/bin/bash
# Integration test of the CPU plan and actuator on a real libvirtd with real
# QEMU TCG guests on this 2-CPU host (HousekeepingCPUs=0, ManagedCPUs=0-1):
# every vCPU thread gets its planned affinity (read back with taskset, i.e.
# the real sched_getaffinity), emulator threads run on the housekeeping CPU,
# a dedicated guest that cannot get a CPU of its own falls back to the
# shared pool and says why; a hot-added vCPU is placed within a tick or two;
# a guest with Reservation=1ms/100ms runs SCHED_DEADLINE (chrt -p) on the
# whole root domain; a reservation over the kernel's limit is refused with a
# reason and the vCPUs stay SCHED_OTHER; vschedctl vcpupin moves a vCPU and
# --for expires back; a policy that stops managing something (a Pin= file
# deleted, Reservation= removed) puts the vCPU back where the plan says and
# back to SCHED_OTHER, with the reason logged; on this hybrid host each
# guest's explain says the cgroup v2 cpu controller is unavailable, and the
# daemon logs it once; a reload that drops the housekeeping CPU gives the
# dedicated guest a CPU of its own; SIGTERM puts every affinity and policy
# back; a daemon killed with SIGKILL and started again finds what it had
# applied, repeats nothing, and its SIGTERM still restores the values from
# before the first daemon.
# Needs root, qemu-system-x86_64 and libvirtd (else SKIP, exit 77).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail
. "$(dirname "$0")/lib.sh"

vst_init
vst_require_binaries
command -v taskset >/dev/null || vst_skip "taskset not installed (util-linux)"
command -v chrt >/dev/null || vst_skip "chrt not installed (util-linux)"
[ "$(nproc --all)" -ge 2 ] || vst_skip "needs at least 2 CPUs"

DED=$(vst_name ded)
SH=$(vst_name sh)
RT=$(vst_name rt)
BIG=$(vst_name big)

# aff TID: the thread's affinity as taskset prints it, expanded ("0,1").
aff() {
	taskset -pc "$1" 2>/dev/null | sed -n 's/.*current affinity list: //p' |
		"$VST_PY" -c '
import sys
out = []
for part in sys.stdin.read().strip().split(","):
    if "-" in part:
        a, b = part.split("-")
        out += range(int(a), int(b) + 1)
    elif part:
        out.append(int(part))
print(",".join(str(c) for c in sorted(out)))'
}

# policy_of TID: "SCHED_OTHER" or "SCHED_DEADLINE 1000000/100000000/100000000".
policy_of() {
	local out pol params
	out=$(chrt -p "$1" 2>/dev/null) || return 1
	pol=$(sed -n 's/.*current scheduling policy: \([A-Z_]*\).*/\1/p' <<<"$out")
	params=$(sed -n 's/.*runtime\/deadline\/period parameters: //p' <<<"$out")
	echo "$pol${params:+ $params}"
}

# all_tids NAME: every thread of the guest's QEMU.
all_tids() {
	local pid
	pid=$(qemu_pid "$1") || return 1
	ls "/proc/$pid/task"
}

# vcpu_tid NAME N
vcpu_tid() {
	qemu_vcpu_tids "$1" | awk -v n="$2" '$1 == n { print $2 }'
}

# expect_aff TID CPUS: true when the thread's affinity is CPUS.
expect_aff() {
	local got
	got=$(aff "$1")
	[ "$got" = "$2" ] || {
		echo "TID $1: affinity $got, want $2"
		return 1
	}
}

# expect_emulators NAME CPUS: every non-vCPU thread of the guest runs on CPUS.
expect_emulators() {
	local pid tid comm bad=""
	pid=$(qemu_pid "$1") || return 1
	for tid in $(ls "/proc/$pid/task"); do
		comm=$(cat "/proc/$pid/task/$tid/comm" 2>/dev/null) || continue
		case "$comm" in "CPU "*/TCG | "CPU "*/KVM) continue ;; esac
		[ "$(aff "$tid")" = "$2" ] || bad="$bad $tid($comm):$(aff "$tid")"
	done
	[ -z "$bad" ] || {
		echo "not on CPUs $2:$bad"
		return 1
	}
}

expect_policy() {
	local got
	got=$(policy_of "$1")
	[ "$got" = "$2" ] || {
		echo "TID $1: policy '$got', want '$2'"
		return 1
	}
}

# explain_has NAME TEXT: `vschedctl explain NAME` mentions TEXT.
explain_has() {
	local out
	out=$(ctl explain "$1" 2>&1)
	grep -qF -- "$2" <<<"$out" || {
		echo "explain $1 lacks \"$2\": $(grep -A30 '^Reasons' <<<"$out" | tr '\n' '|')"
		return 1
	}
}

# record_originals FILE NAME...: "tid affinity policy" of every thread.
record_originals() {
	local file=$1 name tid
	shift
	: >"$file"
	for name in "$@"; do
		for tid in $(all_tids "$name"); do
			echo "$tid $(aff "$tid") $(policy_of "$tid" | tr ' ' '_')" >>"$file"
		done
	done
}

# check_originals FILE: every recorded thread that still exists is back to
# its recorded affinity and policy.
check_originals() {
	local tid a p bad="" n=0
	while read -r tid a p; do
		[ -d "/proc/$tid" ] || continue
		n=$((n + 1))
		[ "$(aff "$tid")" = "$a" ] || bad="$bad $tid:affinity $(aff "$tid") not $a;"
		[ "$(policy_of "$tid" | tr ' ' '_')" = "$p" ] || bad="$bad $tid:policy $(policy_of "$tid") not $p;"
	done <"$1"
	[ -z "$bad" ] || {
		echo "not restored:$bad"
		return 1
	}
	echo "$n threads as before"
}

vst_step "policies, guests and the threads' original settings"
mkdir -p "$VST_TMPDIR/policy.d"
cat >"$VST_TMPDIR/policy.d/10-ded.policy" <<EOF
[Match]
Name=$DED
[CPU]
Placement=dedicated
EOF
cat >"$VST_TMPDIR/policy.d/20-rt.policy" <<EOF
[Match]
Name=$RT
[CPU]
Reservation=1ms/100ms
EOF
cat >"$VST_TMPDIR/policy.d/30-big.policy" <<EOF
[Match]
Name=$BIG
[CPU]
Reservation=95ms/100ms
EOF
guest_define_start "$DED" 1 1 128 idle
guest_define_start "$SH" 1 2 128 idle
guest_define_start "$RT" 1 1 128 idle
guest_wait_ready "$DED" 120
guest_wait_ready "$SH" 120
ORIG="$VST_TMPDIR/originals"
record_originals "$ORIG" "$DED" "$SH" "$RT"
vst_log "recorded $(wc -l <"$ORIG") threads: $(head -n 3 "$ORIG" | tr '\n' '|')"
DED0=$(vcpu_tid "$DED" 0)
SH0=$(vcpu_tid "$SH" 0)
RT0=$(vcpu_tid "$RT" 0)
[ -n "$DED0" ] && [ -n "$SH0" ] && [ -n "$RT0" ] || vst_fail "vCPU threads not found"

CONF=$(daemon_write_config "" "HousekeepingCPUs=0" "ManagedCPUs=0-1" \
	"AppliedFile=$VST_TMPDIR/run/applied.json")

vst_step "placement: vCPUs on the shared pool (CPU 1), emulator threads on housekeeping (CPU 0)"
daemon_start "$CONF"
vst_wait_until 10 "$SH vcpu0 on CPU 1" expect_aff "$SH0" 1
vst_wait_until 10 "$DED vcpu0 on CPU 1" expect_aff "$DED0" 1
vst_wait_until 10 "$DED emulator threads on CPU 0" expect_emulators "$DED" 0
vst_wait_until 10 "$SH emulator threads on CPU 0" expect_emulators "$SH" 0
vst_wait_until 10 "$DED explains its fallback" explain_has "$DED" "dedicated asked but not possible"
vst_wait_until 10 "$SH explains its placement" explain_has "$SH" "vcpu0 of $SH → shared pool 1"
ctl show "$SH" | sed -n '/^ VCPU/,/^$/p'

vst_step "reservation 1ms/100ms: SCHED_DEADLINE on the whole root domain"
vst_wait_until 10 "$RT vcpu0 is SCHED_DEADLINE 1ms/100ms" \
	expect_policy "$RT0" "SCHED_DEADLINE 1000000/100000000/100000000"
expect_aff "$RT0" 0,1 || vst_fail "$RT vcpu0 not on the root domain"
explain_has "$RT" "reservation 1ms/100ms admitted" || vst_fail "no admission reason"
explain_has "$RT" "whole root domain" || vst_fail "no root-domain reason"
ctl show "$RT" --json | vst_json 'd["domain"]["vcpu"][0]["reservation"]' | grep -qx "1ms/100ms" ||
	vst_fail "show does not report the reservation"

vst_step "hotplug: a new vCPU thread of $SH is placed within a tick"
virsh_ setvcpus "$SH" 2 --live || vst_fail "virsh setvcpus failed"
t0=$SECONDS
vst_wait_until 10 "$SH has a vcpu1 thread" test -n "$(vcpu_tid "$SH" 1)"
until SH1=$(vcpu_tid "$SH" 1) && [ -n "$SH1" ]; do sleep 0.1; done
vst_wait_until 3 "$SH vcpu1 (TID $SH1) on CPU 1" expect_aff "$SH1" 1
vst_log "placed $((SECONDS - t0))s after setvcpus"

vst_step "vcpupin --for 8s moves $SH vcpu0 to CPU 0, then it goes back"
ctl vcpupin "$SH" 0 0 --for 8s || vst_fail "vschedctl vcpupin failed"
vst_wait_until 5 "$SH vcpu0 pinned to CPU 0" expect_aff "$SH0" 0
explain_has "$SH" "pinned by Pin=0:0" || vst_fail "no pinning reason"
vst_wait_until 20 "$SH vcpu0 back on CPU 1 after the pin expired" expect_aff "$SH0" 1

vst_step "a policy stops managing: Pin= and Reservation= go, the originals come back"
cat >"$VST_TMPDIR/policy.d/40-pin.policy" <<EOF
[Match]
Name=$SH
[CPU]
Pin=0:0
EOF
vst_wait_until 10 "$SH vcpu0 pinned to CPU 0 by the policy file" expect_aff "$SH0" 0
rm "$VST_TMPDIR/policy.d/40-pin.policy"
vst_wait_until 10 "$SH vcpu0 back on the shared pool (CPU 1)" expect_aff "$SH0" 1
mv "$VST_TMPDIR/policy.d/20-rt.policy" "$VST_TMPDIR/20-rt.policy"
vst_wait_until 10 "$RT vcpu0 back to SCHED_OTHER" expect_policy "$RT0" SCHED_OTHER
vst_wait_until 10 "$RT vcpu0 on the shared pool (CPU 1)" expect_aff "$RT0" 1
grep -F "end of the deadline reservation: vcpu0 of $RT: no reservation any more" "$VST_DAEMON_LOG" ||
	vst_fail "the end of the reservation is not logged"
mv "$VST_TMPDIR/20-rt.policy" "$VST_TMPDIR/policy.d/20-rt.policy"
vst_wait_until 10 "$RT vcpu0 is SCHED_DEADLINE again" \
	expect_policy "$RT0" "SCHED_DEADLINE 1000000/100000000/100000000"
explain_has "$SH" "cgroup v2 cpu controller unavailable: weights and caps not applied" ||
	vst_fail "explain does not say that weights and caps are not applied"
ctl show "$SH" | grep -qF "cgroup v2 cpu controller unavailable: weights and caps not applied" ||
	vst_fail "show does not say that weights and caps are not applied"
[ "$(grep -c "cgroup v2 cpu controller unavailable" "$VST_DAEMON_LOG")" = 1 ] ||
	vst_fail "the missing cpu controller is not logged exactly once"

vst_step "admission refusal: 2 × 95ms/100ms on 2 CPUs"
guest_define_start "$BIG" 2 2 128 idle
vst_wait_until 20 "$BIG explains the refusal" explain_has "$BIG" "reservation 95ms/100ms not given"
for n in 0 1; do
	tid=$(vcpu_tid "$BIG" "$n")
	expect_policy "$tid" SCHED_OTHER || vst_fail "$BIG vcpu$n is not SCHED_OTHER"
	expect_aff "$tid" 1 || vst_fail "$BIG vcpu$n is not on its placement"
done
expect_policy "$RT0" "SCHED_DEADLINE 1000000/100000000/100000000" ||
	vst_fail "$RT lost its reservation"
grep -q "could not set" "$VST_DAEMON_LOG" && vst_fail "an action failed: $(grep 'could not set' "$VST_DAEMON_LOG")"
virsh_ destroy "$BIG" >/dev/null

vst_step "reload without housekeeping CPU: $DED gets a CPU of its own"
daemon_write_config "$CONF" "HousekeepingCPUs=none" "ManagedCPUs=0-1" \
	"AppliedFile=$VST_TMPDIR/run/applied.json" >/dev/null
kill -HUP "$VST_DAEMON_PID"
vst_wait_until 10 "$DED explains a dedicated CPU" explain_has "$DED" "vcpu0 of $DED → CPU"
ded_cpu=$(aff "$DED0")
other=$((1 - ded_cpu))
case "$ded_cpu" in 0 | 1) ;; *) vst_fail "$DED vcpu0 on '$ded_cpu', not one CPU" ;; esac
vst_wait_until 10 "$SH vcpu0 on the other CPU ($other)" expect_aff "$SH0" "$other"
vst_wait_until 10 "$SH emulator threads on the shared pool ($other)" expect_emulators "$SH" "$other"

vst_step "SIGTERM restores every affinity and policy"
daemon_stop || vst_fail "vschedd exited with an error"
grep -E "restored [0-9]+ of [0-9]+ CPU setting" "$VST_DAEMON_LOG" || vst_fail "no restore line"
check_originals "$ORIG" || vst_fail "SIGTERM did not restore everything"
[ "$(policy_of "$RT0")" = SCHED_OTHER ] || vst_fail "$RT vcpu0 still $(policy_of "$RT0")"

vst_step "SIGKILL, restart: the applied settings are found, nothing is repeated"
daemon_write_config "$CONF" "HousekeepingCPUs=0" "ManagedCPUs=0-1" \
	"AppliedFile=$VST_TMPDIR/run/applied.json" >/dev/null
daemon_start "$CONF"
vst_wait_until 10 "$SH vcpu0 on CPU 1" expect_aff "$SH0" 1
vst_wait_until 10 "$RT vcpu0 is SCHED_DEADLINE" \
	expect_policy "$RT0" "SCHED_DEADLINE 1000000/100000000/100000000"
sleep 2
kill -KILL "$VST_DAEMON_PID"
wait "$VST_DAEMON_PID" 2>/dev/null
VST_DAEMON_PID=
[ -s "$VST_TMPDIR/run/applied.json" ] || vst_fail "no applied.json after SIGKILL"
mark=$(wc -l <"$VST_DAEMON_LOG")
daemon_start "$CONF"
sleep 4
tail -n +"$((mark + 1))" "$VST_DAEMON_LOG" >"$VST_TMPDIR/restart.log"
grep -E "found [0-9]+ applied CPU setting" "$VST_TMPDIR/restart.log" ||
	vst_fail "the restarted daemon did not report the applied settings"
if grep -E ": set vcpu|could not set vcpu" "$VST_TMPDIR/restart.log"; then
	vst_fail "the restarted daemon repeated vCPU actions"
fi
vst_log "after the restart: $(grep -c ': set ' "$VST_TMPDIR/restart.log") settings changed" \
	"(emulator threads QEMU started since), $(grep -c 'could not set' "$VST_TMPDIR/restart.log") failures"
expect_aff "$SH0" 1 || vst_fail "$SH vcpu0 moved"
expect_policy "$RT0" "SCHED_DEADLINE 1000000/100000000/100000000" || vst_fail "$RT lost its reservation"

vst_step "SIGTERM after the restart restores the values from before the first daemon"
daemon_stop || vst_fail "vschedd exited with an error"
check_originals "$ORIG" || vst_fail "the restarted daemon did not restore the originals"
[ "$(policy_of "$RT0")" = SCHED_OTHER ] || vst_fail "$RT vcpu0 still $(policy_of "$RT0")"

echo "PASS: CPU integration test"
