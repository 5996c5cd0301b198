#!/bin/bash
# The README's test command: installs what is needed, builds with warnings as
# errors and with ASan/UBSan, and runs every test tier (unit, component,
# integration with real libvirtd and TCG guests, kernel lab with cgroup v2),
# then checks that the release tarball builds and passes its fast tiers.
# Run as root on Debian 12 from the top of a clone.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${VSCHED_BUILDDIR:-$top/build-test}
start=$(date +%s)

step() { printf '\n=== %s (%ds)\n' "$*" $(($(date +%s) - start)); }

cd "$top"
step "install dependencies"
tools/install-deps.sh

step "configure ($builddir)"
autoreconf -fi >/dev/null
mkdir -p "$builddir"
cd "$builddir"
"$top/configure" -q --enable-werror --enable-sanitizers

step "build"
make -j"$(nproc)" >/dev/null

step "test: unit, component, integration, kernel lab"
# Serial on purpose: the integration and lab tiers boot QEMU guests and
# share the host's two CPUs.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if ! make check; then
	find . -name '*.log' -path '*tests*' -newer Makefile -exec grep -l -E '^(FAIL|ERROR)' {} + 2>/dev/null |
		while read -r log; do
			# The verdict lines first: the tail may be a daemon log dump.
			echo "--- $log: verdicts"
			grep -E 'FAIL|seed|^\[[0-9:]+\] ==' "$log" | head -n 30
			echo "--- $log: last lines"
			tail -n 60 "$log"
		done
	tail -n 100 test-suite.log 2>/dev/null
	echo "tests: $(sed -n 's/^# PASS: *//p' test-suite.log) passed, $(($(sed -n 's/^# FAIL: *//p' test-suite.log) + $(sed -n 's/^# ERROR: *//p' test-suite.log))) failed"
	exit 1
fi
grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR)' test-suite.log || true
passed=$(sed -n 's/^# PASS: *//p' test-suite.log)
failed=$(sed -n 's/^# FAIL: *//p' test-suite.log)
if grep -q '^SKIP:' test-suite.log 2>/dev/null || grep -q '^# SKIP: *[1-9]' test-suite.log; then
	echo "test-all: a tier was skipped; every tier must run here:" >&2
	grep -h '^SKIP' tests/*/*.log tests/*/*/*.log 2>/dev/null >&2 || true
	exit 1
fi

step "distcheck (fast tiers)"
VSCHED_SKIP_REAL="ran above" make distcheck >/dev/null

step "done"
echo "test-all: every tier passed in $(($(date +%s) - start)) s"
echo "tests: ${passed} passed, ${failed} failed"
