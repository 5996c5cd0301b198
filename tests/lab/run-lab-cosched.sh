#!/bin/bash
# The kernel lab's gang proof (doc/coschedule.md): boots the lab VM
# (tests/lab/lab-lib.sh: Debian cloud kernel, QEMU TCG -smp 3,
# cgroup_no_v1=all) with lab-cosched, which runs two CPU-bound "vCPUs" on
# two CPUs under a cpu.max each, then under one guest-level cpu.max, and
# measures how far apart they resume after each throttled gap (and how much
# their run windows overlap). Passes iff the console shows
# "LAB-COSCHED-RESULT: PASS" and lab-cosched exited 0. Needs root and
# qemu-system-x86_64, else SKIP (exit 77); the environment is lab-lib.sh's.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail

. "$(cd "$(dirname "$0")" && pwd)/lab-lib.sh"
lab_run lab-cosched LAB-COSCHED-RESULT 120 3
