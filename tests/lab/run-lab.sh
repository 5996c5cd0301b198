#!/bin/bash
# The kernel lab (TESTING.md): boots the Debian cloud kernel of the test guest
# (tests/guest/build-guest.sh, cached) under QEMU TCG with cgroup_no_v1=all
# and an initramfs holding busybox, tests/lab/init, and lab-host with its
# shared libraries; lab-host runs the host model on that real cgroup v2
# kernel and reports on the serial console. Passes iff the console shows
# "LAB-RESULT: PASS" and lab-host exited 0. Needs root (for the cached guest
# kernel) and qemu-system-x86_64, else SKIP (exit 77).
#
# Environment: top_srcdir, top_builddir (set by `make check`),
# VSCHED_SKIP_REAL (when set: SKIP, e.g. in distcheck after a full run),
# VSCHED_GUEST_CACHE (default /var/cache/vsched-test/guest),
# VSCHED_LAB_SMP (QEMU -smp, default 2; e.g. 4,sockets=1,cores=2,threads=2).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${top_srcdir:-$(cd "$HERE/../.." && pwd)}
BUILDDIR=${top_builddir:-$PWD}
LAB_HOST="$BUILDDIR/tests/lab/lab-host"
CACHE=${VSCHED_GUEST_CACHE:-/var/cache/vsched-test/guest}
SMP=${VSCHED_LAB_SMP:-2}
TIMEOUT=60

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

if [ -n "${VSCHED_SKIP_REAL:-}" ]; then
	echo "SKIP: VSCHED_SKIP_REAL is set ($VSCHED_SKIP_REAL)"
	exit 77
fi
[ "$(id -u)" = 0 ] || {
	echo "SKIP: needs root"
	exit 77
}
command -v qemu-system-x86_64 >/dev/null || {
	echo "SKIP: qemu-system-x86_64 not installed"
	exit 77
}
for tool in busybox cpio gzip ldd timeout; do
	command -v "$tool" >/dev/null || fail "$tool not found"
done
[ -x "$LAB_HOST" ] || fail "$LAB_HOST not built (make check builds it)"

"$SRCDIR/tests/guest/build-guest.sh" "$CACHE" || fail "tests/guest/build-guest.sh failed"

TMP=$(mktemp -d /tmp/vsched-lab.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
ROOT="$TMP/root"
mkdir -p "$ROOT"/{bin,dev,etc,proc,sys,tmp}
cp "$(command -v busybox)" "$ROOT/bin/busybox"
for applet in $(busybox --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$ROOT/bin/$applet"
done
install -m 0755 "$HERE/init" "$ROOT/init"
install -m 0755 "$LAB_HOST" "$ROOT/lab-host"

# lab-host's shared libraries and the dynamic loader, at their host paths.
libs=$(ldd "$LAB_HOST") || fail "ldd $LAB_HOST failed"
ld_path=
while read -r lib; do
	[ -n "$lib" ] || continue
	mkdir -p "$ROOT$(dirname "$lib")"
	cp -L "$lib" "$ROOT$lib"
	case ":$ld_path:" in
	*":$(dirname "$lib"):"*) ;;
	*) ld_path=${ld_path:+$ld_path:}$(dirname "$lib") ;;
	esac
done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$libs")
echo "$ld_path" >"$ROOT/etc/lab-ld-path"

(cd "$ROOT" && find . | cpio --quiet -o -H newc -R 0:0) | gzip -1 >"$TMP/lab.gz" ||
	fail "building the lab initramfs failed"
echo "lab initramfs: $(du -h "$TMP/lab.gz" | cut -f1), $(wc -l <<<"$libs") libraries"

LOG="$TMP/console.log"
start=$SECONDS
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -smp "$SMP" -m 512 -nographic -no-reboot \
	-kernel "$CACHE/vmlinuz" -initrd "$TMP/lab.gz" \
	-append "console=ttyS0 cgroup_no_v1=all panic=-1" </dev/null >"$LOG" 2>&1
rc=$?
echo "lab VM ran $((SECONDS - start)) s (qemu exit status $rc)"

tr -d '\r' <"$LOG" >"$LOG.txt"
if grep -q '^LAB-REPORT-BEGIN' "$LOG.txt"; then
	sed -n '/^LAB: /p; /^LAB-REPORT-BEGIN/,/^LAB-REPORT-END/p' "$LOG.txt"
else
	echo "---- no lab report; last console lines:"
	tail -n 40 "$LOG.txt"
fi
[ "$rc" = 124 ] && fail "the lab VM did not power off within ${TIMEOUT}s"
grep -q '^LAB-RESULT: PASS$' "$LOG.txt" || fail "no LAB-RESULT: PASS on the console"
grep -q '^LAB-EXIT: 0$' "$LOG.txt" || fail "lab-host did not exit 0"
echo "PASS"
