#!/bin/bash
# The kernel lab's CPU proof (TESTING.md, issue 4): boots the lab VM
# (tests/lab/lab-lib.sh: Debian cloud kernel, QEMU TCG -smp 3,
# cgroup_no_v1=all) with lab-cpu, which drives the cgroup v2 writer on a
# libvirt-like cgroup tree: weights 1:3 on one CPU (shares within 5 points
# of 25/75, beside plain CFS: the share-fidelity benchmark), a 20 % cpu.max
# and the run_delay it causes, and a SCHED_DEADLINE vCPU pinned to one CPU
# inside a cpuset partition. Prints the figures; passes iff the console
# shows "LAB-CPU-RESULT: PASS" and lab-cpu exited 0. Needs root and
# qemu-system-x86_64, else SKIP (exit 77); the environment is lab-lib.sh's.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail

. "$(cd "$(dirname "$0")" && pwd)/lab-lib.sh"
lab_run lab-cpu LAB-CPU-RESULT 300 3
