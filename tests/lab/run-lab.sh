#!/bin/bash
# The kernel lab's host-model run (TESTING.md): boots the lab VM
# (tests/lab/lab-lib.sh: Debian cloud kernel, QEMU TCG, cgroup_no_v1=all)
# with lab-host, which runs the host model on that real cgroup v2 kernel
# and reports on the serial console. Passes iff the console shows
# "LAB-RESULT: PASS" and lab-host exited 0. Needs root and
# qemu-system-x86_64, else SKIP (exit 77); the environment is lab-lib.sh's.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail

. "$(cd "$(dirname "$0")" && pwd)/lab-lib.sh"
lab_run lab-host LAB-RESULT 60
