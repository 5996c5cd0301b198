#!/bin/sh
# Builds the libFuzzer targets with ASan and UBSan (with clang, directly
# from the sources they need, not through automake) and runs each for
# VSCHED_FUZZ_SECONDS (default 20) over a copy of its seed corpus:
#   policy  tests/fuzz/fuzz-policy.c, the policy parser; seeds
#           tests/fuzz/corpus-policy/ and the shipped conf/policy.d/*.policy
#   ctl     tests/fuzz/fuzz-ctl.c, the control protocol as the server reads
#           it (framing, decoding, validation, the methods); seeds
#           tests/fuzz/corpus-ctl/ (valid requests, NUL-terminated)
#   mem     tests/fuzz/fuzz-mem-stats.c, guest balloon statistics through
#           the sanitizer, the pressure state machine and the memory
#           planner; seeds tests/fuzz/corpus-mem/
# VSCHED_FUZZ_TARGETS picks some ("ctl"); longer runs on demand:
#   VSCHED_FUZZ_SECONDS=600 VSCHED_FUZZ_TARGETS=ctl tests/fuzz/run-fuzz.sh
# Passes when nothing crashes, leaks or trips a sanitizer or an invariant;
# an input that does is kept in tests/fuzz/artifacts/ of the build tree.
# Exits 77 (SKIP) when clang or the libFuzzer runtime is missing.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}" "${top_builddir:=.}"
seconds=${VSCHED_FUZZ_SECONDS:-20}
targets=${VSCHED_FUZZ_TARGETS:-policy ctl mem}
cc=${CLANG:-clang}

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "SKIP: $cc not found (Debian: clang)"
	exit 77
fi
if ! glib=$(pkg-config --cflags --libs glib-2.0) ||
	! ctl_deps=$(pkg-config --cflags --libs glib-2.0 gio-2.0 json-glib-1.0 libvirt libsystemd \
		libnl-3.0 libnl-genl-3.0); then
	echo "ERROR: pkg-config lacks a library (Debian: see tools/install-deps.sh)"
	exit 99
fi
work=$(mktemp -d) || exit 99
trap 'rm -rf "$work"' EXIT

printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
	>"$work/probe.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$work/probe" "$work/probe.c" \
	>"$work/probe.log" 2>&1; then
	cat "$work/probe.log"
	echo "SKIP: $cc cannot link -fsanitize=fuzzer: the libFuzzer runtime is missing" \
		"(Debian: libclang-rt-14-dev)"
	exit 77
fi

policy_sources=""
for f in "$top_srcdir"/src/util/cpuset.c "$top_srcdir"/src/util/error.c "$top_srcdir"/src/util/strbuf.c \
	"$top_srcdir"/src/util/ini.c "$top_srcdir"/src/util/units.c \
	"$top_srcdir"/src/policy/*.c; do
	case $f in
	*/overrides-json.c) ;; # json-glib; not reached by the parser
	*) policy_sources="$policy_sources $f" ;;
	esac
done
# The server's answer path, the fake daemon of the control tests, and what
# they reach.
s_=$top_srcdir/src
ctl_sources="$top_srcdir/tests/unit/test-ctl-fixture.c $s_/ctl/proto.c $s_/ctl/methods.c
	$s_/ctl/server.c $s_/util/*.c $s_/policy/*.c $s_/core/*.c $s_/virt/domain.c $s_/host/host.c
	$s_/host/cgroup.c $s_/host/sys.c $s_/host/topology.c $s_/host/meminfo.c $s_/host/psi.c
	$s_/host/caps.c $s_/steal/report.c $s_/steal/account.c $s_/steal/guest.c
	$s_/mem/mem.c $s_/mem/plan.c $s_/mem/follow.c $s_/hotplug/plan.c $s_/steal/condition.c"
# The memory room's pure part and the configuration it reads its keys from.
mem_sources="$s_/util/cpuset.c $s_/util/error.c $s_/util/ini.c $s_/util/units.c $s_/util/strbuf.c
	$s_/daemon/conf.c $s_/mem/mem.c $s_/mem/stats-sanitize.c $s_/mem/pressure.c $s_/mem/plan.c"

artifacts="$top_builddir/tests/fuzz/artifacts"
mkdir -p "$artifacts" || exit 99
status=0
for target in $targets; do
	fuzzer=$target
	case $target in
	policy) sources=$policy_sources libs=$glib ;;
	ctl) sources=$ctl_sources libs=$ctl_deps ;;
	mem) sources=$mem_sources libs=$glib fuzzer=mem-stats ;;
	*)
		echo "ERROR: no fuzz target '$target' (policy, ctl, mem)"
		exit 99
		;;
	esac
	# shellcheck disable=SC2086 # word splitting of $sources and $libs is meant
	if ! "$cc" -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -fno-omit-frame-pointer \
		-I"$top_builddir" -I"$top_srcdir/src" -I"$top_srcdir/tests" \
		-DG_LOG_DOMAIN='"vsched"' -o "$work/fuzz-$target" \
		"$top_srcdir/tests/fuzz/fuzz-$fuzzer.c" $sources $libs -lm; then
		echo "FAIL: cannot build the fuzz target $target"
		exit 1
	fi
	mkdir "$work/corpus-$target" || exit 99
	cp "$top_srcdir/tests/fuzz/corpus-$target"/* "$work/corpus-$target/" || exit 99
	[ "$target" = policy ] && { cp "$top_srcdir"/conf/policy.d/*.policy "$work/corpus-$target/" || exit 99; }

	echo "fuzzing $target for ${seconds}s"
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
		"$work/fuzz-$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len=8192 -print_final_stats=1 -artifact_prefix="$artifacts/$target-" \
		"$work/corpus-$target" >"$work/fuzz-$target.log" 2>&1
	rc=$?
	tail -n 20 "$work/fuzz-$target.log"
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: the fuzzer found a crash, leak or sanitizer error in $target (exit $rc);" \
			"the input is in $artifacts/"
		status=1
	else
		echo "ok: $target: no crash, leak or sanitizer error in ${seconds}s"
	fi
done
[ $status -eq 0 ] && rmdir "$artifacts" 2>/dev/null
exit $status
