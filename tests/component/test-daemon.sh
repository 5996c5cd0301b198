#!/bin/bash
# Component test of vschedd as a whole: the real daemon and vschedctl against
# a fixture sysroot (tests/data/hosts/flat2 + tests/data/virt/testdrv-root)
# and the libvirt test driver (tests/data/virt/testdrv.xml). Checks the
# configuration check, start-up refusal on a bad file, list/show/status over
# the control socket, reload with a broken file (the last good settings
# stay) and with a good one, dry-run, and a clean stop on SIGTERM.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
make_fixture_root
write_config
# No policy directory: policy.d beside the configuration, which does not exist.

echo "# --check-config accepts a good file"
out=$("$VSCHEDD" --check-config --config "$tmp/vschedd.conf")
[ "$out" = "configuration OK" ] || fail "check-config said: $out"

echo "# --check-config names every mistake with file and line"
printf '[Daemon]\nTickInterval=fast\nLogLevle=debug\n' > "$tmp/bad.conf"
if "$VSCHEDD" --check-config --config "$tmp/bad.conf" 2> "$tmp/check.err"; then
	fail "a bad file passed the check"
fi
grep -qF "$tmp/bad.conf:2: TickInterval=fast: \"fast\" is not a duration" "$tmp/check.err" || fail "no line-2 error: $(cat "$tmp/check.err")"
grep -qF "$tmp/bad.conf:3: unknown key LogLevle= in [Daemon] (did you mean LogLevel=?)" "$tmp/check.err" || fail "no line-3 error"

echo "# a bad file stops the daemon from starting, and nothing is created"
if "$VSCHEDD" --foreground --config "$tmp/bad.conf" 2> "$tmp/start.err"; then
	fail "the daemon started with a bad file"
fi
grep -q "not started" "$tmp/start.err" || fail "no refusal message: $(cat "$tmp/start.err")"
[ ! -e "$tmp/run" ] || fail "a refused start created $tmp/run"

echo "# the daemon runs on the fixture root and the test driver"
start_daemon

"$VSCHEDCTL" list --json > "$tmp/list.json" || fail "list --json failed"
[ "$(json "$tmp/list.json" '",".join(d["name"] for d in j["domains"] if d["state"]=="running")')" = "db1,web1" ] ||
	fail "running guests: $(cat "$tmp/list.json")"
[ "$(json "$tmp/list.json" '[d for d in j["domains"] if d["name"]=="db1"][0]["vcpus"]["current"]')" = 2 ] ||
	fail "db1 vCPUs"
"$VSCHEDCTL" list --all > "$tmp/list.txt"
grep -q "idle1 .*shut off" "$tmp/list.txt" || fail "list --all lacks the shut-off guest: $(cat "$tmp/list.txt")"

"$VSCHEDCTL" show db1 --json > "$tmp/show.json" || fail "show db1 failed"
want=$(sed -n "s/.*<vcpu id='\([0-9]*\)' pid='\([0-9]*\)'.*/\1:\2/p" "$tmp/root/run/libvirt/qemu/db1.xml" | paste -sd,)
got=$(json "$tmp/show.json" '",".join("%d:%d" % (v["index"], v["tid"]) for v in j["domain"]["vcpu"] if v["tid"])')
[ -n "$want" ] && [ "$got" = "$want" ] || fail "db1 vCPU TIDs: got $got, status XML says $want"
uuid=$(json "$tmp/show.json" 'j["domain"]["uuid"]')
"$VSCHEDCTL" show "$uuid" --json > "$tmp/show-uuid.json"
[ "$(json "$tmp/show-uuid.json" 'j["domain"]["name"]')" = db1 ] || fail "show by UUID"
if "$VSCHEDCTL" show no-such-guest 2> "$tmp/show.err"; then
	fail "show of an unknown guest succeeded"
fi
grep -q "error: failed to get domain 'no-such-guest'" "$tmp/show.err" || fail "virsh-like error: $(cat "$tmp/show.err")"

"$VSCHEDCTL" status --json > "$tmp/status.json"
[ "$(json "$tmp/status.json" 'j["libvirt"]["connected"]')" = True ] || fail "status: libvirt not connected"
[ "$(json "$tmp/status.json" 'j["host"]["cgroup"]["mode"]')" = hybrid ] || fail "status: cgroup mode of the fixture"
[ "$(json "$tmp/status.json" 'j["host"]["cpu_count"]')" = 2 ] || fail "status: CPUs of the fixture"
grep -q "db1: appeared: running, 2/4 vCPUs" "$tmp/daemon.log" || fail "the log does not explain db1's arrival"

echo "# a broken file on SIGHUP is refused; the running settings stay"
cp "$tmp/vschedd.conf" "$tmp/good.conf"
printf 'TickInterval=0\n' >> "$tmp/vschedd.conf"
kill -HUP "$pid"
wait_for 5 grep -q "configuration not reloaded" "$tmp/daemon.log" || fail "no refusal in the log"
"$VSCHEDCTL" status --json > "$tmp/status.json" || fail "the daemon stopped answering after a bad reload"
json "$tmp/status.json" 'j["last_error"]' | grep -q "reload refused" || fail "status does not say the reload was refused"
[ "$(json "$tmp/status.json" 'j["tick_interval_us"]')" = 200000 ] || fail "the tick interval changed"

echo "# a good file on SIGHUP applies what can change live"
sed 's/TickInterval=200ms/TickInterval=300ms/' "$tmp/good.conf" > "$tmp/vschedd.conf"
echo "ControlSocket=$tmp/elsewhere.sock" >> "$tmp/vschedd.conf"
kill -HUP "$pid"
wait_for 5 grep -q "configuration reloaded" "$tmp/daemon.log" || fail "no reload in the log"
grep -q "ControlSocket changed; it takes effect when vschedd restarts" "$tmp/daemon.log" || fail "restart-only key not reported"
"$VSCHEDCTL" status --json > "$tmp/status.json" || fail "no answer after reload"
[ "$(json "$tmp/status.json" 'j["tick_interval_us"]')" = 300000 ] || fail "the new tick interval is not in force"

echo "# SIGTERM stops cleanly and removes the socket"
stop_daemon
[ ! -e "$tmp/run/vschedd.sock" ] || fail "the socket was left behind"

echo "# --dry-run collects and logs the plan without acting"
cp "$tmp/good.conf" "$tmp/vschedd.conf"
"$VSCHEDD" --foreground --dry-run --config "$tmp/vschedd.conf" > "$tmp/dry.log" 2>&1 &
pid=$!
wait_for 10 grep -q "would set vcpu0 (TID 1001) of db1: affinity CPUs" "$tmp/dry.log" || { cat "$tmp/dry.log"; fail "dry run logged no plan"; }
kill -TERM "$pid"; wait "$pid"; pid=""
echo "PASS: daemon component test"
