# The integration tier (TESTING.md): real libvirtd, real QEMU TCG guests
# booted from the test guest of tests/guest/ (root, qemu and libvirtd, else
# SKIP). The guest files and the host setup scripts ship for it (and for
# tools/demo.sh).
TESTS += %reldir%/test-inventory.sh
EXTRA_DIST += \
	%reldir%/test-inventory.sh \
	%reldir%/lib.sh \
	%reldir%/control-client.py \
	tests/guest/build-guest.sh \
	tests/guest/domain-xml.sh \
	tests/guest/init \
	tools/libvirtd-setup.sh \
	tools/demo.sh
# CPU placement, reservations, pinning overrides, restore and recovery.
TESTS += %reldir%/test-cpu.sh
EXTRA_DIST += %reldir%/test-cpu.sh
# Steal accounting on burning guests (issue 5).
TESTS += %reldir%/test-steal.sh
EXTRA_DIST += %reldir%/test-steal.sh
# Co-scheduling: skew measured, relaxed nice boosts, restore (issue 4).
TESTS += %reldir%/test-cosched.sh
EXTRA_DIST += %reldir%/test-cosched.sh
# Fault and soak test (issue 8): random faults for VSCHED_SOAK_SECONDS
# (default 240), reproducible with VSCHED_SOAK_SEED.
TESTS += %reldir%/test-soak.sh
EXTRA_DIST += %reldir%/test-soak.sh
# Balloon targets from a guest memory budget and real PSI pressure (issue 6).
TESTS += %reldir%/test-mem.sh
EXTRA_DIST += %reldir%/test-mem.sh
# vCPU hotplug by policy, with its benchmark figures (issue 7).
TESTS += %reldir%/test-hotplug.sh
EXTRA_DIST += %reldir%/test-hotplug.sh %reldir%/hotplug-probe.py
