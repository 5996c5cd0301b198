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
# vCPU hotplug by policy, with its benchmark figures (issue 7).
TESTS += %reldir%/test-hotplug.sh
EXTRA_DIST += %reldir%/test-hotplug.sh %reldir%/hotplug-probe.py
