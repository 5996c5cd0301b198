#!/bin/bash
# Integration test of the inventory on a real libvirtd with real QEMU TCG
# guests: vschedctl list/show report the guests, their vCPU counts, class
# metadata and exactly the vCPU thread IDs /proc shows; the inventory follows
# guests that stop and start, survives libvirtd going away and coming back,
# the control socket rejects malformed and unauthorised requests with the
# errors of doc/control-protocol.md, and SIGTERM ends the daemon cleanly.
# Needs root, qemu-system-x86_64 and libvirtd (else SKIP, exit 77).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail
. "$(dirname "$0")/lib.sh"

vst_init
vst_require_binaries

DB=$(vst_name db)
ONE=$(vst_name one)
NEW=$(vst_name new)

# check_list NAME:STATE:CUR:MAX:CLASS... - the domains of this run listed by
# `vschedctl list --json` are exactly these (CLASS "-": none).
PY_CHECK_LIST='
import json, sys
d = json.load(sys.stdin)
doms = d["domains"] if isinstance(d, dict) else d
ours = {x["name"]: x for x in doms if x["name"].startswith(sys.argv[1])}
want = dict((s.split(":")[0], s.split(":")[1:]) for s in sys.argv[2:])
bad = []
if sorted(ours) != sorted(want):
    bad.append("listed %s, want %s" % (sorted(ours), sorted(want)))
for name, (state, cur, mx, cls) in want.items():
    x = ours.get(name)
    if x is None:
        continue
    got = (x["state"], x["vcpus"]["current"], x["vcpus"]["max"], x["class"])
    exp = (state, int(cur), int(mx), None if cls == "-" else cls)
    if got != exp:
        bad.append("%s: (state, current, max, class) = %s, want %s" % (name, got, exp))
    if state == "running" and not (isinstance(x["id"], int) and x["id"] > 0):
        bad.append("%s: running with id %r" % (name, x["id"]))
if bad:
    print("; ".join(bad))
    sys.exit(1)
'
check_list() {
	local json
	json=$(ctl list --json) || {
		echo "vschedctl list --json failed"
		return 1
	}
	"$VST_PY" -c "$PY_CHECK_LIST" "$VST_PREFIX" "$@" <<<"$json"
}

# show_check REF NAME PID CURRENT TIDS - `vschedctl show REF --json` is guest
# NAME with QEMU PID, CURRENT online vCPUs and exactly the vCPU threads TIDS
# ("n tid" lines, as qemu_vcpu_tids prints); prints "name uuid id pid tids".
PY_SHOW_CHECK='
import json, re, sys
ref, name, pid, cur, tids = sys.argv[1:6]
d = json.load(sys.stdin)
x = d["domain"] if "domain" in d else d
want = dict((int(a), int(b)) for a, b in (l.split() for l in tids.splitlines() if l.strip()))
bad = []
if x["name"] != name:
    bad.append("name %r, want %r" % (x["name"], name))
if x["pid"] != int(pid):
    bad.append("pid %r, want %s" % (x["pid"], pid))
vcpus = x["vcpu"]
if len(vcpus) != x["vcpus"]["max"]:
    bad.append("%d vcpu entries for max %d" % (len(vcpus), x["vcpus"]["max"]))
online = [v for v in vcpus if v["online"]]
if len(online) != int(cur):
    bad.append("%d vCPUs online, want %s" % (len(online), cur))
got = dict((v["index"], v["tid"]) for v in vcpus if v["tid"] != 0)
if got != want:
    bad.append("vCPU TIDs %s, /proc says %s" % (got, want))
for v in vcpus:
    if v["tid"] and not re.fullmatch(r"CPU %d/(TCG|KVM)" % v["index"], v["comm"] or ""):
        bad.append("vcpu %d: comm %r" % (v["index"], v["comm"]))
    if v["online"] and v["tid"] == 0:
        bad.append("vcpu %d online without a thread" % v["index"])
if x.get("threads_problem"):
    bad.append("threads_problem: %s" % x["threads_problem"])
if bad:
    print("show %s: %s" % (ref, "; ".join(bad)))
    sys.exit(1)
print(x["name"], x["uuid"], x["id"], x["pid"], sorted(got.items()))
'
show_check() {
	local ref=$1 json
	json=$(ctl show "$ref" --json) || {
		echo "vschedctl show $ref --json failed"
		return 1
	}
	"$VST_PY" -c "$PY_SHOW_CHECK" "$@" <<<"$json"
}

# show_matches_proc NAME CURRENT: show NAME agrees with /proc right now.
show_matches_proc() {
	local pid tids
	pid=$(qemu_pid "$1") || {
		echo "no QEMU pid for $1"
		return 1
	}
	tids=$(qemu_vcpu_tids "$1")
	show_check "$1" "$1" "$pid" "$2" "$tids"
}

list_field() {
	ctl list --json | vst_json "[x for x in (d[\"domains\"] if isinstance(d, dict) else d) if x[\"name\"] == \"$1\"][0][\"$2\"]"
}

libvirt_connected() {
	local json c
	json=$(ctl status --json) || {
		echo "vschedctl status --json failed: $json"
		return 1
	}
	c=$(vst_json 'd["libvirt"]["connected"]' <<<"$json") || return 1
	echo "libvirt.connected=$c"
	[ "$c" = "$1" ]
}

vst_step "boot two TCG guests: $DB (2 of 3 vCPUs, class db) and $ONE (1 vCPU)"
t0=$SECONDS
guest_define_start "$DB" 2 3 256 idle db
guest_define_start "$ONE" 1 1 256 idle
guest_wait_ready "$DB" 180
guest_wait_ready "$ONE" 180
vst_log "both guests ready after $((SECONDS - t0))s"
[ "$(qemu_vcpu_tids "$DB" | wc -l)" = 2 ] || vst_fail "$DB: /proc shows $(qemu_vcpu_tids "$DB" | wc -l) vCPU threads, want 2"
[ "$(qemu_vcpu_tids "$ONE" | wc -l)" = 1 ] || vst_fail "$ONE: /proc shows $(qemu_vcpu_tids "$ONE" | wc -l) vCPU threads, want 1"

vst_step "start vschedd with a policy for class db"
mkdir -p "$VST_TMPDIR/policy.d"
cat >"$VST_TMPDIR/policy.d/10-db.policy" <<'POLICY'
[Match]
Class=db

[CPU]
Weight=300
POLICY
CONF=$(daemon_write_config)
"$VSCHEDD" --check-config --config "$CONF" | grep -q "configuration OK" ||
	vst_fail "vschedd --check-config does not accept $CONF"
daemon_start "$CONF"

vst_step "vschedctl list --json shows both guests running with their vCPU counts and class"
vst_wait_until 10 "list: $DB 2/3 db, $ONE 1/1 no class" \
	check_list "$DB:running:2:3:db" "$ONE:running:1:1:-"

vst_step "vschedctl show --json reports exactly the vCPU TIDs of /proc (CPU n/TCG)"
vst_wait_until 10 "show $DB matches /proc: $(qemu_vcpu_tids "$DB" | tr '\n' ' ')" show_matches_proc "$DB" 2
vst_wait_until 10 "show $ONE matches /proc: $(qemu_vcpu_tids "$ONE" | tr '\n' ' ')" show_matches_proc "$ONE" 1

# explain_key DOMAIN KEY: "value origin file:line" of one effective key.
explain_key() {
	ctl explain "$1" --json | vst_json "' '.join(str(k.get(f)) for k in d['keys'] if k['key'] == '$2' for f in ('value', 'origin', 'file', 'line'))"
}

vst_step "the guest tagged class db through <metadata> gets the class policy; explain names file and line"
want="300 file $VST_TMPDIR/policy.d/10-db.policy 5"
db_explained() {
	local got
	got=$(explain_key "$DB" CPU.Weight)
	echo "got '$got'"
	[ "$got" = "$want" ]
}
vst_wait_until 10 "explain $DB: CPU.Weight = $want" db_explained
[ "$(list_field "$DB" policy)" = "10-db" ] || vst_fail "list: $DB policy column is $(list_field "$DB" policy), want 10-db"
got=$(explain_key "$ONE" CPU.Weight)
[ "${got% *}" = "100 default None" ] || vst_fail "explain $ONE CPU.Weight: got '$got', want the default"

vst_step "tagging $ONE live with virsh metadata applies the class policy at the next tick"
virsh_ metadata "$ONE" --uri https://vsched.dev/xmlns/domain/1 --key vsched \
	--set '<policy class="db"/>' --live >/dev/null || vst_fail "virsh metadata --set failed"
one_tagged() {
	local got
	got=$(explain_key "$ONE" CPU.Weight)
	echo "got '$got'"
	[ "$got" = "$want" ]
}
vst_wait_until 5 "explain $ONE: CPU.Weight from 10-db.policy:5" one_tagged
ctl explain "$ONE" | sed 's/^/    /'

vst_step "show by id and by UUID gives the same domain as by name"
DB_PID=$(qemu_pid "$DB")
DB_TIDS=$(qemu_vcpu_tids "$DB")
ONE_PID=$(qemu_pid "$ONE")
by_name=$(show_check "$DB" "$DB" "$DB_PID" 2 "$DB_TIDS") || vst_fail "$by_name"
DB_ID=$(list_field "$DB" id) || vst_fail "no id for $DB in list"
DB_UUID=$(list_field "$DB" uuid) || vst_fail "no uuid for $DB in list"
[ "$DB_UUID" = "$(virsh_ domuuid "$DB")" ] || vst_fail "list: $DB uuid $DB_UUID, virsh says $(virsh_ domuuid "$DB")"
[ "$DB_ID" = "$(virsh_ domid "$DB")" ] || vst_fail "list: $DB id $DB_ID, virsh says $(virsh_ domid "$DB")"
by_id=$(show_check "$DB_ID" "$DB" "$DB_PID" 2 "$DB_TIDS") || vst_fail "$by_id"
by_uuid=$(show_check "$DB_UUID" "$DB" "$DB_PID" 2 "$DB_TIDS") || vst_fail "$by_uuid"
[ "$by_id" = "$by_name" ] || vst_fail "show $DB_ID: $by_id; by name: $by_name"
[ "$by_uuid" = "$by_name" ] || vst_fail "show $DB_UUID: $by_uuid; by name: $by_name"
vst_log "ok: show $DB = show $DB_ID = show $DB_UUID: $by_name"

vst_step "destroy $ONE and start $NEW: the list follows within 5 s"
virsh_ destroy "$ONE" >/dev/null || vst_fail "virsh destroy $ONE failed"
vst_wait_pid "$ONE_PID" 10 || vst_fail "the QEMU of destroyed $ONE (pid $ONE_PID) is still running"
guest_define_start "$NEW" 1 2 256 idle web
vst_wait_until 5 "list: $DB, $NEW (1 of 2, class web), no $ONE" \
	check_list "$DB:running:2:3:db" "$NEW:running:1:2:web"
guest_wait_ready "$NEW" 180
NEW_PID=$(qemu_pid "$NEW")
NEW_TIDS=$(qemu_vcpu_tids "$NEW")
vst_wait_until 10 "show $NEW matches /proc" show_matches_proc "$NEW" 1
ctl show "$ONE" --json >/dev/null 2>&1 && vst_fail "show $ONE still answers after it was destroyed"
vst_log "ok: show $ONE fails after destroy"

vst_step "libvirtd goes away: status says disconnected within 10 s, vschedd stays up"
libvirtd_stop
vst_wait_until 10 "status: libvirt not connected" libvirt_connected false
kill -0 "$VST_DAEMON_PID" 2>/dev/null || vst_fail "vschedd died when libvirtd went away"
vst_log "ok: vschedd (pid $VST_DAEMON_PID) alive"

vst_step "libvirtd comes back: list and TIDs are right again within 10 s"
libvirtd_start
vst_wait_until 10 "status: libvirt connected" libvirt_connected true
vst_wait_until 10 "list: $DB and $NEW running again" \
	check_list "$DB:running:2:3:db" "$NEW:running:1:2:web"
[ "$(qemu_pid "$DB")" = "$DB_PID" ] || vst_fail "$DB: QEMU pid changed across the libvirtd restart"
vst_wait_until 10 "show $DB: same pid and TIDs as before" \
	show_check "$DB" "$DB" "$DB_PID" 2 "$DB_TIDS"
vst_wait_until 10 "show $NEW: same pid and TIDs as before" \
	show_check "$NEW" "$NEW" "$NEW_PID" 1 "$NEW_TIDS"

vst_step "malformed requests get the errors of doc/control-protocol.md"
CLIENT="$VST_TMPDIR/control-client.py"
install -m 0755 "$VST_LIBDIR/control-client.py" "$CLIENT"
# control_expect WHAT ERROR ARGS...: control-client.py ARGS gets ERROR, and
# with --then-status the same connection still answers Status afterwards.
control_expect() {
	local what=$1 want=$2 out err
	shift 2
	out=$("$@") || vst_fail "$what: control client failed"
	err=$(vst_json '(d["reply"] or {}).get("error")' <<<"$out")
	[ "$err" = "$want" ] || vst_fail "$what: got $out, want error $want"
	case " $* " in
	*" --then-status "*)
		[ "$(vst_json 'd["status_after"]' <<<"$out")" = true ] ||
			vst_fail "$what: the connection did not answer Status afterwards: $out"
		vst_log "ok: $what -> $want, connection still answers" ;;
	*) vst_log "ok: $what -> $want" ;;
	esac
}
control_expect "not JSON" org.vsched.InvalidMessage \
	"$VST_PY" "$CLIENT" "$VSCHED_SOCKET" raw 'this is {not json' --then-status
control_expect "a JSON array" org.vsched.InvalidMessage \
	"$VST_PY" "$CLIENT" "$VSCHED_SOCKET" raw '[{"method": "org.vsched.Status"}]' --then-status
control_expect "an object without method" org.vsched.InvalidMessage \
	"$VST_PY" "$CLIENT" "$VSCHED_SOCKET" raw '{"parameters": {}}' --then-status
control_expect "parameters not an object" org.vsched.InvalidMessage \
	"$VST_PY" "$CLIENT" "$VSCHED_SOCKET" raw '{"method": "org.vsched.Status", "parameters": 3}' --then-status
control_expect "an unknown method" org.varlink.service.MethodNotFound \
	"$VST_PY" "$CLIENT" "$VSCHED_SOCKET" call org.vsched.NoSuchMethod --then-status
control_expect "show without domain" org.varlink.service.InvalidParameter \
	"$VST_PY" "$CLIENT" "$VSCHED_SOCKET" call org.vsched.Show '{}' --then-status
control_expect "show of an unknown domain" org.vsched.NoSuchDomain \
	"$VST_PY" "$CLIENT" "$VSCHED_SOCKET" call org.vsched.Show '{"domain": "vst-no-such-domain"}' --then-status
out=$("$VST_PY" "$CLIENT" "$VSCHED_SOCKET" big 1048576) || vst_fail "1 MiB message: control client failed"
[ "$(vst_json '(d["reply"] or {}).get("error")' <<<"$out")" = org.vsched.MessageTooLarge ] ||
	vst_fail "1 MiB message: got $out, want org.vsched.MessageTooLarge"
[ "$(vst_json 'd["closed"]' <<<"$out")" = true ] ||
	vst_fail "1 MiB message: connection not closed after MessageTooLarge: $out"
vst_log "ok: a 1 MiB message -> org.vsched.MessageTooLarge, connection closed"

vst_step "a write method from a non-root peer gets org.vsched.PermissionDenied"
command -v setpriv >/dev/null || vst_fail "setpriv (util-linux) not installed"
chmod 0666 "$VSCHED_SOCKET"
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
control_expect "org.vsched.Tick as uid 65534" org.vsched.PermissionDenied \
	"${NOBODY[@]}" "$VST_PY" "$CLIENT" "$VSCHED_SOCKET" call org.vsched.Tick --then-status
out=$("${NOBODY[@]}" "$VST_PY" "$CLIENT" "$VSCHED_SOCKET" call org.vsched.List) ||
	vst_fail "List as uid 65534: control client failed"
vst_json 'd["reply"]["parameters"]["domains"]' <<<"$out" >/dev/null ||
	vst_fail "List as uid 65534 (a read method) was refused: $out"
vst_log "ok: org.vsched.List as uid 65534 answered"
out=$("$VST_PY" "$CLIENT" "$VSCHED_SOCKET" call org.vsched.Tick) || vst_fail "Tick as root: control client failed"
[ "$(vst_json 'd["reply"]' <<<"$out")" = '{"parameters": {}}' ] || vst_fail "Tick as root: got $out"
vst_log "ok: org.vsched.Tick as root answered"

vst_step "the daemon still answers status"
ctl status >/dev/null || vst_fail "vschedctl status failed after the malformed requests"
kill -0 "$VST_DAEMON_PID" 2>/dev/null || vst_fail "vschedd died"
vst_log "ok: status answers"

vst_step "SIGTERM: vschedd exits with status 0"
daemon_stop
rc=$?
[ "$rc" = 0 ] || vst_fail "vschedd exited with status $rc after SIGTERM"
vst_log "ok: exit status 0"
echo
vst_log "PASS ($SECONDS s)"
