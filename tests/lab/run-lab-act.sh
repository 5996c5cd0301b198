#!/bin/bash
# The kernel lab's proof of the CPU plan → act path (issue 4): boots the lab
# VM (tests/lab/lab-lib.sh: Debian cloud kernel, QEMU TCG -smp 3,
# cgroup_no_v1=all) with lab-act, which plans and acts with vschedd's own
# code on a guest in libvirt's systemd cgroup tree, checks weight, cap,
# burst and cpusets on the guest and vCPU cgroups and the vCPU affinities,
# then their restore when the policy goes and at a clean stop. Passes iff
# the console shows "LAB-ACT-RESULT: PASS" and lab-act exited 0. Needs root
# and qemu-system-x86_64, else SKIP (exit 77).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail

. "$(cd "$(dirname "$0")" && pwd)/lab-lib.sh"
lab_run lab-act LAB-ACT-RESULT 120 3
