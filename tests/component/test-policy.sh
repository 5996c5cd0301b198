#!/bin/bash
# Component test of policies in the running daemon: the real vschedd and
# vschedctl on a fixture sysroot and the libvirt test driver. A policy
# directory is loaded at start, a broken file (on SIGHUP and through the
# directory watch) never takes effect and the last good set stays, explain
# names file and line, overrides apply, expire, and survive a restart.
set -euo pipefail

. "$(dirname "$0")/lib.sh"

# explain_of DOMAIN KEY: "value origin file:line" of one key, from explain --json.
explain_of() {
	"$VSCHEDCTL" explain "$1" --json > "$tmp/explain.json" || return 1
	json "$tmp/explain.json" '" ".join(str(x) for x in [[k for k in j["keys"] if k["key"]=="'"$2"'"][0].get(f) for f in ("value","origin","file","line")])'
}

make_fixture_root
mkdir -p "$tmp/policy.d"
write_config "PolicyDirectory=$tmp/policy.d"

# db1 carries <vsched:policy class="db"/> in tests/data/virt/testdrv.xml.
cat > "$tmp/policy.d/10-db.policy" <<'P'
[Match]
Class=db

[CPU]
Weight=300
P
cat > "$tmp/policy.d/20-web.policy" <<'P'
[Match]
Name=web*

[CPU]
Weight=50
P

echo "# --check-config checks the policy directory too"
"$VSCHEDD" --check-config --config "$tmp/vschedd.conf" | grep -q "configuration OK" || fail "check-config"

start_daemon
echo "# explain names the file and line of each value"
[ "$(explain_of db1 CPU.Weight)" = "300 file $tmp/policy.d/10-db.policy 5" ] || fail "db1 weight: $(explain_of db1 CPU.Weight)"
[ "$(explain_of web1 CPU.Weight)" = "50 file $tmp/policy.d/20-web.policy 5" ] || fail "web1 weight"
[ "$(explain_of idle1 CPU.Weight | cut -d' ' -f1-2)" = "100 default" ] || fail "idle1 default weight"
"$VSCHEDCTL" list --json > "$tmp/list.json"
[ "$(json "$tmp/list.json" '[d for d in j["domains"] if d["name"]=="db1"][0]["policy"]')" = "10-db" ] || fail "list policy column"

echo "# a broken file never takes effect; the last good set stays"
printf '[CPU]\nWeight=20000\n' > "$tmp/policy.d/30-bad.policy"
kill -HUP "$pid"
wait_for 5 grep -q "30-bad.policy:2: Weight=20000: out of range 1..10000" "$tmp/daemon.log" || fail "no precise error logged"
"$VSCHEDCTL" status --json > "$tmp/status.json"
json "$tmp/status.json" 'j["policy"]["error"]' | grep -q "30-bad.policy:2" || fail "status does not name the bad file"
[ "$(explain_of db1 CPU.Weight | cut -d' ' -f1)" = 300 ] || fail "the last good set did not stay"

echo "# the directory watch picks up a fix without SIGHUP"
rm "$tmp/policy.d/30-bad.policy"
sed -i 's/Weight=300/Weight=400/' "$tmp/policy.d/10-db.policy"
wait_for 10 bash -c "[ \"\$(\"$VSCHEDCTL\" explain db1 --json | python3 -c 'import json,sys; print([k for k in json.load(sys.stdin)[\"keys\"] if k[\"key\"]==\"CPU.Weight\"][0][\"value\"])')\" = 400 ]" ||
	fail "the watched directory change was not applied"
"$VSCHEDCTL" status --json > "$tmp/status.json"
[ "$(json "$tmp/status.json" 'j["policy"]["error"]')" = None ] || fail "the error stayed after the fix"

echo "# overrides: bad ones are refused and change nothing; good ones apply"
if "$VSCHEDCTL" override db1 Weight=0 2> "$tmp/ov.err"; then fail "a bad override was accepted"; fi
grep -q "Weight=0: out of range 1..10000" "$tmp/ov.err" || fail "override error: $(cat "$tmp/ov.err")"
"$VSCHEDCTL" override db1 Weight=700 || fail "override refused"
"$VSCHEDCTL" override db1 Shares=5000 --for 15s || fail "timed override refused"
[ "$(explain_of db1 CPU.Weight | cut -d' ' -f1-2)" = "700 override" ] || fail "override not in explain"
[ "$(explain_of db1 Memory.Shares | cut -d' ' -f1-2)" = "5000 override" ] || fail "timed override not in explain"
wait_for 25 grep -q "Memory.Shares=5000 expired" "$tmp/daemon.log" || fail "the timed override did not expire"
[ "$(explain_of db1 Memory.Shares | cut -d' ' -f2)" = default ] || fail "expired override still applies"

echo "# setvcpus: checked against Enable, the domain's maximum and MinVCPUs; then an override"
if "$VSCHEDCTL" setvcpus db1 3 2> "$tmp/sv.err"; then fail "setvcpus with Enable=no was accepted"; fi
grep -q "db1: Hotplug.Enable=no" "$tmp/sv.err" || fail "setvcpus error: $(cat "$tmp/sv.err")"
"$VSCHEDCTL" override db1 Hotplug.Enable=yes MinVCPUs=2 || fail "override Enable=yes refused"
if "$VSCHEDCTL" setvcpus db1 5 2> "$tmp/sv.err"; then fail "setvcpus above the maximum was accepted"; fi
grep -q "db1: 5 vCPUs: more than the domain's maximum of 4" "$tmp/sv.err" ||
	fail "setvcpus error: $(cat "$tmp/sv.err")"
if "$VSCHEDCTL" setvcpus db1 1 2> "$tmp/sv.err"; then fail "setvcpus below MinVCPUs was accepted"; fi
grep -q "fewer than MinVCPUs=2" "$tmp/sv.err" || fail "setvcpus error: $(cat "$tmp/sv.err")"
if "$VSCHEDCTL" setvcpus db1 two 2> "$tmp/sv.err"; then fail "setvcpus two was accepted"; fi
grep -q "not a number of vCPUs" "$tmp/sv.err" || fail "setvcpus error: $(cat "$tmp/sv.err")"
"$VSCHEDCTL" setvcpus db1 3 --for 1h || fail "setvcpus refused"
[ "$(explain_of db1 Hotplug.VCPUs | cut -d' ' -f1-2)" = "3 override" ] || fail "setvcpus not in explain"
for key in Hotplug.VCPUs Hotplug.Enable MinVCPUs; do
	"$VSCHEDCTL" override clear db1 "$key" >/dev/null || fail "override clear db1 $key"
done

echo "# overrides survive a restart"
stop_daemon
[ -f "$tmp/state/overrides.json" ] || fail "no overrides file"
start_daemon
[ "$(explain_of db1 CPU.Weight | cut -d' ' -f1-2)" = "700 override" ] || fail "override lost across restart"
"$VSCHEDCTL" override clear db1 Weight || fail "override clear"
[ "$(explain_of db1 CPU.Weight | cut -d' ' -f1)" = 400 ] || fail "cleared override still applies"

echo "# a corrupt overrides file is set aside; the daemon starts clean"
stop_daemon
echo '{"version": 1, "overrides": [' > "$tmp/state/overrides.json"
start_daemon
grep -q "moved aside" "$tmp/daemon.log" || fail "corrupt overrides file not reported"
[ -f "$tmp/state/overrides.json.bad" ] || fail "corrupt file not kept for the operator"
stop_daemon
echo "PASS: policy component test"
