#!/bin/bash
# Component test of the metrics (src/metrics/) through the real daemon and
# vschedctl on the fixture root and the libvirt test driver: `vschedctl
# metrics` and the textfile in MetricsDirectory= hold the families with the
# fixture's guests, promtool accepts both (and the golden exposition of
# tests/data/metrics/state.prom, which has steal and reservation samples),
# the file is replaced atomically every MetricsInterval, and a directory
# that cannot be written is logged once while the daemon keeps serving.
# promtool comes with the Debian package prometheus (SKIP without it).
set -euo pipefail

. "$(dirname "$0")/lib.sh"
if ! command -v promtool >/dev/null 2>&1; then
	echo "SKIP: promtool not found (Debian: prometheus)"
	exit 77
fi
make_fixture_root
mkdir -p "$tmp/metrics"
write_config "MetricsDirectory=$tmp/metrics" "MetricsInterval=1s"
start_daemon

echo "# the golden exposition passes promtool"
promtool check metrics < "$src/tests/data/metrics/state.prom" || fail "promtool refuses state.prom"

echo "# vschedctl metrics: the families, the fixture's guests, promtool"
"$VSCHEDCTL" metrics > "$tmp/m1.prom" || fail "vschedctl metrics failed"
promtool check metrics < "$tmp/m1.prom" || fail "promtool refuses the output: $(cat "$tmp/m1.prom")"
for line in 'vsched_build_info{version="0.1.0"} 1' \
	'vsched_libvirt_connected{uri="test://'"$src"'/tests/data/virt/testdrv.xml"} 1' \
	'vsched_guests{state="running"} 2' \
	'vsched_guests{state="shut off"} 1' \
	'vsched_guest_vcpus{domain="db1",uuid="6e3d9f2a-1b7c-4c3e-8d2f-5a4b3c2d1e01"} 2' \
	'vsched_reservations 0' \
	'vsched_dry_run 0' \
	'# TYPE vsched_tick_duration_seconds histogram' \
	'# TYPE vsched_vcpu_steal_seconds_total counter'; do
	grep -qxF "$line" "$tmp/m1.prom" || fail "no line '$line' in: $(cat "$tmp/m1.prom")"
done
ticks=$(sed -n 's/^vsched_ticks_total //p' "$tmp/m1.prom")
count=$(sed -n 's/^vsched_tick_duration_seconds_count //p' "$tmp/m1.prom")
[ "$ticks" -ge 1 ] && [ "$ticks" = "$count" ] || fail "ticks $ticks, histogram count $count"
"$VSCHEDCTL" --json metrics > "$tmp/m.json"
json "$tmp/m.json" "j['text'].startswith('# HELP vsched_build_info')" | grep -qx True ||
	fail "--json has no text member: $(cat "$tmp/m.json")"

echo "# the textfile: written, valid, replaced every interval, nothing else left"
wait_for 5 test -s "$tmp/metrics/vsched.prom" || fail "no $tmp/metrics/vsched.prom"
promtool check metrics < "$tmp/metrics/vsched.prom" || fail "promtool refuses the textfile"
[ "$(stat -c %a "$tmp/metrics/vsched.prom")" = 644 ] || fail "the textfile is not 0644"
first=$(sed -n 's/^vsched_ticks_total //p' "$tmp/metrics/vsched.prom")
wait_for 5 sh -c "[ \"\$(sed -n 's/^vsched_ticks_total //p' '$tmp/metrics/vsched.prom')\" -gt $first ]" ||
	fail "the textfile was not rewritten within 5 s"
[ "$(ls -A "$tmp/metrics")" = vsched.prom ] || fail "left in the directory: $(ls -A "$tmp/metrics")"

echo "# a directory that cannot be written: logged once, the daemon keeps serving"
rm -rf "$tmp/metrics"
wait_for 5 grep -q "metrics: cannot write: $tmp/metrics/.vsched.prom.tmp: No such file or directory" \
	"$tmp/daemon.log" || fail "no warning about the missing directory"
sleep 2.5
[ "$(grep -c 'metrics: cannot write' "$tmp/daemon.log")" = 1 ] || fail "the warning was repeated"
"$VSCHEDCTL" status > /dev/null || fail "the daemon stopped answering"
mkdir "$tmp/metrics"
wait_for 5 grep -q "metrics: written to $tmp/metrics again" "$tmp/daemon.log" ||
	fail "no notice when the directory came back"
test -s "$tmp/metrics/vsched.prom" || fail "no file after the directory came back"

stop_daemon
echo "ok: metrics"
