#!/bin/sh
# Builds the libFuzzer targets with ASan and UBSan (with clang, directly
# from the sources they need, not through automake) and runs each for
# VSCHED_FUZZ_SECONDS (default 20) over a copy of its seed corpus:
#  - tests/fuzz/fuzz-policy.c, the policy parser, over
#    tests/fuzz/corpus-policy/ and the shipped conf/policy.d/*.policy;
#  - tests/fuzz/fuzz-mem-stats.c, guest balloon statistics through the
#    sanitizer, the pressure state machine and the memory planner, over
#    tests/fuzz/corpus-mem/.
# Passes when nothing crashes, leaks or trips a sanitizer or an invariant;
# an input that does is kept in tests/fuzz/artifacts/ of the build tree.
# Exits 77 (SKIP) when clang or the libFuzzer runtime is missing.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}" "${top_builddir:=.}"
seconds=${VSCHED_FUZZ_SECONDS:-20}
cc=${CLANG:-clang}

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "SKIP: $cc not found (Debian: clang)"
	exit 77
fi
if ! glib=$(pkg-config --cflags --libs glib-2.0); then
	echo "ERROR: pkg-config finds no glib-2.0 (Debian: libglib2.0-dev)"
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

artifacts="$top_builddir/tests/fuzz/artifacts"
mkdir -p "$artifacts" || exit 99

# fuzz NAME WHAT CORPUS-FILES SOURCES: builds tests/fuzz/NAME.c with SOURCES
# and runs it over a copy of CORPUS-FILES; exits on failure.
fuzz() {
	name=$1 what=$2 corpus=$3 sources=$4
	# shellcheck disable=SC2086 # word splitting of $sources and $glib is meant
	if ! "$cc" -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -fno-omit-frame-pointer \
		-I"$top_builddir" -I"$top_srcdir/src" -DG_LOG_DOMAIN='"vsched"' \
		-o "$work/$name" "$top_srcdir/tests/fuzz/$name.c" $sources $glib -lm; then
		echo "FAIL: cannot build the fuzz target $name"
		exit 1
	fi
	mkdir "$work/corpus-$name" || exit 99
	# shellcheck disable=SC2086 # the corpus is a list of files
	cp $corpus "$work/corpus-$name/" || exit 99
	echo "fuzzing $what for ${seconds}s"
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
		"$work/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len=8192 -print_final_stats=1 -artifact_prefix="$artifacts/" \
		"$work/corpus-$name" >"$work/$name.log" 2>&1
	rc=$?
	tail -n 40 "$work/$name.log"
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: the fuzzer found a crash, leak or sanitizer error in $what" \
			"(exit $rc); the input is in $artifacts/"
		exit 1
	fi
}

util="$top_srcdir/src/util/cpuset.c $top_srcdir/src/util/error.c $top_srcdir/src/util/ini.c \
	$top_srcdir/src/util/units.c"
policy=""
for f in "$top_srcdir"/src/policy/*.c; do
	case $f in
	*/overrides-json.c) ;; # json-glib; not reached by the parser
	*) policy="$policy $f" ;;
	esac
done
fuzz fuzz-policy "the policy parser" \
	"$top_srcdir/tests/fuzz/corpus-policy/* $top_srcdir/conf/policy.d/*.policy" "$util $policy"
mem=""
for f in mem stats-sanitize pressure plan; do
	mem="$mem $top_srcdir/src/mem/$f.c"
done
fuzz fuzz-mem-stats "guest statistics through the memory planner" \
	"$top_srcdir/tests/fuzz/corpus-mem/*" "$util $top_srcdir/src/daemon/conf.c $mem"

rmdir "$artifacts" 2>/dev/null
echo "ok: no crash, leak or sanitizer error in ${seconds}s per target"
