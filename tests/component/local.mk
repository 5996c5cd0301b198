# The component tier: whole programs and modules against fixture trees and
# the libvirt test driver.
TESTS += tests/component/test-daemon.sh tests/component/test-policy.sh
EXTRA_DIST += tests/component/lib.sh tests/component/test-daemon.sh tests/component/test-policy.sh
include tests/component/ctl.mk
include tests/component/virt.mk
# Metrics (vschedctl metrics, the textfile, promtool) and the capabilities
# the running daemon keeps.
TESTS += tests/component/test-metrics.sh tests/component/test-privileges.sh
EXTRA_DIST += tests/component/test-metrics.sh tests/component/test-privileges.sh
# The systemd unit (systemd-analyze verify and security), every man page's
# rendering and installation, and the bash completion of vschedctl.
TESTS += tests/component/test-unit.sh tests/component/test-man.sh \
	tests/component/test-completion.sh
EXTRA_DIST += tests/component/test-unit.sh tests/component/test-man.sh \
	tests/component/test-completion.sh
include tests/component/mem.mk
