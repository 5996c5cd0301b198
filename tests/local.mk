# Tiers (TESTING.md): unit and component run anywhere; integration and lab
# need root, qemu and libvirtd and exit 77 (SKIP) with the reason otherwise.
TEST_LDADD = src/libvsched.a $(VS_LIBS) $(CMOCKA_LIBS)
TEST_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS) -I$(top_srcdir)/tests

include tests/unit/util.mk
include tests/unit/host.mk
include tests/unit/virt.mk
include tests/unit/ctl.mk
include tests/unit/policy.mk
include tests/unit/sched.mk
include tests/unit/steal.mk
include tests/unit/mem.mk
include tests/unit/metrics.mk
include tests/unit/mem-act.mk
include tests/unit/hotplug.mk
include tests/component/local.mk
include tests/integration/local.mk
include tests/lab/local.mk
include tests/bench/local.mk
