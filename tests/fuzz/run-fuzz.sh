#!/bin/sh
# Builds tests/fuzz/fuzz-policy.c with libFuzzer, ASan and UBSan (with clang,
# directly from the sources of src/util/ and src/policy/, not through
# automake) and runs it for VSCHED_FUZZ_SECONDS (default 20) over a copy of
# the seed corpus (tests/fuzz/corpus-policy/ and the shipped
# conf/policy.d/*.policy). Passes when nothing crashes, leaks or trips a
# sanitizer; an input that does is kept in tests/fuzz/artifacts/ of the
# build tree. Exits 77 (SKIP) when clang or the libFuzzer runtime is missing.
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

sources=""
for f in "$top_srcdir"/src/util/cpuset.c "$top_srcdir"/src/util/error.c \
	"$top_srcdir"/src/util/ini.c "$top_srcdir"/src/util/units.c \
	"$top_srcdir"/src/policy/*.c; do
	case $f in
	*/overrides-json.c) ;; # json-glib; not reached by the parser
	*) sources="$sources $f" ;;
	esac
done
# shellcheck disable=SC2086 # word splitting of $sources and $glib is meant
if ! "$cc" -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer \
	-I"$top_builddir" -I"$top_srcdir/src" -DG_LOG_DOMAIN='"vsched"' \
	-o "$work/fuzz-policy" "$top_srcdir/tests/fuzz/fuzz-policy.c" $sources $glib -lm; then
	echo "FAIL: cannot build the fuzz target"
	exit 1
fi

mkdir "$work/corpus" || exit 99
cp "$top_srcdir"/tests/fuzz/corpus-policy/* "$top_srcdir"/conf/policy.d/*.policy \
	"$work/corpus/" || exit 99
artifacts="$top_builddir/tests/fuzz/artifacts"
mkdir -p "$artifacts" || exit 99

echo "fuzzing the policy parser for ${seconds}s"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
	"$work/fuzz-policy" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-max_len=8192 -print_final_stats=1 -artifact_prefix="$artifacts/" \
	"$work/corpus" >"$work/fuzz.log" 2>&1
rc=$?
tail -n 40 "$work/fuzz.log"
if [ "$rc" -ne 0 ]; then
	echo "FAIL: the fuzzer found a crash, leak or sanitizer error (exit $rc);" \
		"the input is in $artifacts/"
	exit 1
fi
rmdir "$artifacts" 2>/dev/null
echo "ok: no crash, leak or sanitizer error in ${seconds}s"
