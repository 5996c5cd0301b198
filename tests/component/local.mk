# The component tier: whole programs and modules against fixture trees and
# the libvirt test driver.
TESTS += tests/component/test-daemon.sh tests/component/test-policy.sh
EXTRA_DIST += tests/component/lib.sh tests/component/test-daemon.sh tests/component/test-policy.sh
include tests/component/ctl.mk
include tests/component/virt.mk
include tests/component/mem.mk
