#!/bin/bash
# Component test of the daemon's memory step: the real vschedd and vschedctl
# on the fixture sysroot (tests/data/hosts/flat2 + testdrv-root) and the
# libvirt test driver with balloon devices (tests/data/virt/testdrv-mem.xml:
# db1 has a virtio balloon and no statistics period, web1 has no balloon).
# Pressure is injected by rewriting the fixture's /proc/meminfo: the host
# state climbs at once, holds while MemAvailable is between a line and its
# exit line (hysteresis), and steps down one state at a time after
# MemoryMinDwell, all visible in `vschedctl mem --json`. Without pressure
# db1 gets memory back up to its maximum at MaxStepPerSecond=; under
# pressure it is shrunk to its Floor= (the test driver reports no guest
# statistics, so Floor= is what bounds it); web1 is reported and left
# alone; the fixture PSI file cannot be polled, so the log says why no
# trigger is armed.
# `vschedctl setmem` refuses sizes above the maximum, below the bound the
# planner gives an override, and bad sizes, sets a
# target that the planner and the balloon follow, `explain` shows the
# memory lines, and a clean stop leaves the balloons as they are.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
make_fixture_root
write_config "MemoryMinDwell=1s" "PolicyDirectory=$tmp/policy.d"
sed -i "s|/testdrv.xml|/testdrv-mem.xml|" "$tmp/vschedd.conf"
mkdir -p "$tmp/policy.d"
printf '[Match]\nName=db1\n\n[Memory]\nFloor=512M\n' > "$tmp/policy.d/10-db1.policy"

MIB=1048576
total_kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' "$tmp/root/proc/meminfo")

# available PERCENT: sets the fixture's MemAvailable to PERCENT of MemTotal.
available() {
	local kb=$((total_kb * $1 / 100))
	sed -i "s/^MemAvailable: .*/MemAvailable:   $kb kB/" "$tmp/root/proc/meminfo"
}

mem_json() { "$VSCHEDCTL" mem --json > "$tmp/mem.json"; }
state_is() { mem_json && [ "$(json "$tmp/mem.json" 'j["host"]["state"]')" = "$1" ]; }
guest() { json "$tmp/mem.json" "[g for g in j['guests'] if g['name']=='$1'][0]$2"; }
db1_current_is() { mem_json && [ "$(guest db1 '["current"]')" = "$1" ]; }

echo "# the daemon starts in the normal state; web1 is reported, db1 gets statistics"
start_daemon
wait_for 5 state_is normal || fail "not normal at start: $(cat "$tmp/mem.json")"
wait_for 5 grep -q "web1: the guest has no balloon device" "$tmp/daemon.log" ||
	fail "web1 without a balloon device not reported"
grep -q "db1: balloon statistics enabled every 1 s" "$tmp/daemon.log" ||
	fail "the statistics period of db1 was not set"
grep -q "memory: PSI triggers not armed: " "$tmp/daemon.log" ||
	fail "the log does not say why no PSI trigger is armed"
mem_json
[ "$(guest web1 '["following"]')" = no-balloon ] || fail "web1 following: $(cat "$tmp/mem.json")"
[ "$(json "$tmp/mem.json" 'j["host"]["psi_triggers"]')" = None ] || fail "triggers armed on a fixture"

echo "# without pressure db1 (1 GiB of 2 GiB) is given memory back, at its pace"
wait_for 20 db1_current_is $((2048 * MIB)) || fail "db1 not back at its maximum: $(cat "$tmp/mem.json")"
grep -q "db1: balloon 1.0 GiB -> 1.2 GiB: Gets 256.0 MiB back" "$tmp/daemon.log" ||
	fail "the first give-back step is not MaxStepPerSecond= (256M)"

echo "# MemAvailable under the hard line: hard at once, db1 shrinks to its floor"
available 8
wait_for 5 state_is hard || fail "not hard: $(cat "$tmp/mem.json")"
grep -q "memory: host state hard: normal -> hard: MemAvailable" "$tmp/daemon.log" ||
	fail "the state change is not logged with its reason"
wait_for 20 db1_current_is $((512 * MIB)) || fail "db1 not at its floor: $(cat "$tmp/mem.json")"
grep -q "db1: balloon 2.0 GiB -> " "$tmp/daemon.log" || fail "no shrink logged for db1"
[ "$(guest web1 '["current"]')" = $((512 * MIB)) ] || fail "web1 was ballooned"
[ "$(guest db1 '["low"]')" = $((512 * MIB)) ] || fail "db1's lower bound is not its floor"
[ -n "$(guest db1 '["reason"]')" ] || fail "db1 has no reason"

echo "# between the hard line and its exit line the state holds (hysteresis)"
available 12
sleep 1.5
state_is hard || fail "left hard inside the hysteresis band: $(cat "$tmp/mem.json")"
json "$tmp/mem.json" 'j["host"]["state_reason"]' | grep -q "not past the exit line" ||
	fail "the reason does not name the exit line: $(cat "$tmp/mem.json")"

echo "# past the exit lines the host steps down one state at a time, after the dwell"
available 16
wait_for 5 state_is soft || fail "not soft: $(cat "$tmp/mem.json")"
available 40
wait_for 5 state_is normal || fail "not normal: $(cat "$tmp/mem.json")"
grep -q "memory: host state soft: hard -> soft" "$tmp/daemon.log" || fail "hard -> soft not logged"
grep -q "memory: host state normal: soft -> normal" "$tmp/daemon.log" || fail "soft -> normal not logged"

echo "# setmem: refused above the maximum and for bad sizes, accepted within the bounds"
if "$VSCHEDCTL" setmem db1 3G 2> "$tmp/setmem.err"; then
	fail "setmem above the maximum was accepted"
fi
grep -q "error: db1: 3.0 GiB is above the guest's maximum memory 2.0 GiB" "$tmp/setmem.err" ||
	fail "setmem error: $(cat "$tmp/setmem.err")"
# The test driver reports no statistics: with the use unknown, Floor= bounds it.
if "$VSCHEDCTL" setmem db1 300M 2> "$tmp/setmem.err"; then
	fail "setmem below the bound was accepted"
fi
grep -q "error: db1: 300.0 MiB is below the least it may get, 512.0 MiB: " "$tmp/setmem.err" ||
	fail "setmem low error: $(cat "$tmp/setmem.err")"
if "$VSCHEDCTL" setmem db1 lots 2> "$tmp/setmem.err"; then
	fail "setmem with a bad size was accepted"
fi
grep -q "error: size 'lots'" "$tmp/setmem.err" || fail "bad size error: $(cat "$tmp/setmem.err")"
if "$VSCHEDCTL" setmem no-such-guest 1G 2> "$tmp/setmem.err"; then
	fail "setmem of an unknown guest was accepted"
fi
grep -q "error: failed to get domain 'no-such-guest'" "$tmp/setmem.err" || fail "unknown guest error"
"$VSCHEDCTL" override list --json > "$tmp/ov.json"
[ "$(json "$tmp/ov.json" 'len(j["overrides"])')" = 0 ] || fail "a refused setmem left an override"

"$VSCHEDCTL" setmem db1 700M --for 1h > "$tmp/setmem.out" || fail "setmem 700M refused"
grep -q "Memory.Target" "$tmp/setmem.out" || fail "setmem does not show the override: $(cat "$tmp/setmem.out")"
wait_for 10 db1_current_is $((700 * MIB)) || fail "db1 did not go to 700M: $(cat "$tmp/mem.json")"
[ "$(guest db1 '["override_target"]')" = $((700 * MIB)) ] || fail "override target not shown"
"$VSCHEDCTL" explain db1 > "$tmp/explain.txt"
grep -q "memory (host normal): target 700.0 MiB" "$tmp/explain.txt" ||
	fail "explain has no memory line: $(cat "$tmp/explain.txt")"
"$VSCHEDCTL" mem db1 > "$tmp/mem-db1.txt"
grep -q "^Set to: *700.0 MiB (override ov-" "$tmp/mem-db1.txt" || fail "mem db1: $(cat "$tmp/mem-db1.txt")"
"$VSCHEDCTL" mem > "$tmp/mem.txt"
grep -q "^ db1 .*700.0 MiB" "$tmp/mem.txt" || fail "mem table: $(cat "$tmp/mem.txt")"
grep -q "first balloon command .* ms after the override" "$tmp/daemon.log" ||
	fail "the reaction to the override is not timed"

echo "# a clean stop leaves the balloons where they are"
stop_daemon
grep -q "memory: 1 guest(s) stay ballooned" "$tmp/daemon.log" || fail "no stop summary"
echo "PASS"
