# The kernel lab harness (TESTING.md), sourced by run-lab.sh and
# run-lab-cpu.sh: lab_run boots the Debian cloud kernel of the test guest
# (tests/guest/build-guest.sh, cached) under QEMU TCG with cgroup_no_v1=all
# and an initramfs holding busybox, tests/lab/init and one lab program with
# its shared libraries; init runs the program (named by vsched.lab= on the
# kernel command line) between LAB-REPORT markers on the serial console and
# powers off. Needs root (for the cached guest kernel) and
# qemu-system-x86_64, else SKIP (exit 77).
#
# Environment: top_srcdir, top_builddir (set by `make check`),
# VSCHED_SKIP_REAL (when set: SKIP, e.g. in distcheck after a full run),
# VSCHED_GUEST_CACHE (default /var/cache/vsched-test/guest),
# VSCHED_LAB_SMP (QEMU -smp, default the runner's; e.g. 4,sockets=1,cores=2,threads=2).

lab_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# lab_run PROGRAM RESULT_MARKER TIMEOUT_SECONDS [SMP]
# Runs tests/lab/PROGRAM (from the build tree) in the lab VM with SMP CPUs
# (default 2, VSCHED_LAB_SMP wins); exits 0 iff
# the console shows "RESULT_MARKER: PASS" and the program exited 0, 77 when
# the lab cannot run here, 1 otherwise. Never returns.
lab_run() {
	local name=$1 marker=$2 timeout=$3 smp=${VSCHED_LAB_SMP:-${4:-2}}
	local here srcdir builddir program cache tmp root libs ld_path log rc start

	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
	builddir=${top_builddir:-$PWD}
	program="$builddir/tests/lab/$name"
	cache=${VSCHED_GUEST_CACHE:-/var/cache/vsched-test/guest}

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
		command -v "$tool" >/dev/null || lab_fail "$tool not found"
	done
	[ -x "$program" ] || lab_fail "$program not built (make check builds it)"

	"$srcdir/tests/guest/build-guest.sh" "$cache" || lab_fail "tests/guest/build-guest.sh failed"

	tmp=$(mktemp -d /tmp/vsched-lab.XXXXXX)
	# shellcheck disable=SC2064 # expand now: $tmp is local
	trap "rm -rf '$tmp'" EXIT
	root="$tmp/root"
	mkdir -p "$root"/{bin,dev,etc,proc,sys,tmp}
	cp "$(command -v busybox)" "$root/bin/busybox"
	for applet in $(busybox --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
	done
	install -m 0755 "$here/init" "$root/init"
	install -m 0755 "$program" "$root/$name"

	# The program's shared libraries and the dynamic loader, at their host
	# paths.
	libs=$(ldd "$program") || lab_fail "ldd $program failed"
	ld_path=
	while read -r lib; do
		[ -n "$lib" ] || continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
		case ":$ld_path:" in
		*":$(dirname "$lib"):"*) ;;
		*) ld_path=${ld_path:+$ld_path:}$(dirname "$lib") ;;
		esac
	done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$libs")
	echo "$ld_path" >"$root/etc/lab-ld-path"

	(cd "$root" && find . | cpio --quiet -o -H newc -R 0:0) | gzip -1 >"$tmp/lab.gz" ||
		lab_fail "building the lab initramfs failed"
	echo "lab initramfs: $(du -h "$tmp/lab.gz" | cut -f1), $(wc -l <<<"$libs") libraries"

	log="$tmp/console.log"
	start=$SECONDS
	timeout "$timeout" qemu-system-x86_64 -accel tcg -smp "$smp" -m 512 -nographic -no-reboot \
		-kernel "$cache/vmlinuz" -initrd "$tmp/lab.gz" \
		-append "console=ttyS0 cgroup_no_v1=all panic=-1 vsched.lab=/$name" \
		</dev/null >"$log" 2>&1
	rc=$?
	echo "lab VM (-smp $smp) ran $((SECONDS - start)) s (qemu exit status $rc)"

	tr -d '\r' <"$log" >"$log.txt"
	if grep -q '^LAB-REPORT-BEGIN' "$log.txt"; then
		sed -n '/^LAB: /p; /^LAB-REPORT-BEGIN/,/^LAB-REPORT-END/p' "$log.txt"
	else
		echo "---- no lab report; last console lines:"
		tail -n 40 "$log.txt"
	fi
	[ "$rc" = 124 ] && lab_fail "the lab VM did not power off within ${timeout}s"
	grep -q "^$marker: PASS\$" "$log.txt" || lab_fail "no $marker: PASS on the console"
	grep -q '^LAB-EXIT: 0$' "$log.txt" || lab_fail "$name did not exit 0"
	echo "PASS"
	exit 0
}
