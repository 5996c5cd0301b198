# Component tests of the balloon calls and the balloon actuator against the
# libvirt test driver (tests/data/virt/testdrv-mem.xml, distributed with
# tests/data/virt by tests/unit/virt.mk), and of the daemon's memory step.
check_PROGRAMS += tests/component/test-mem-act
TESTS += tests/component/test-mem-act
tests_component_test_mem_act_CPPFLAGS = $(TEST_CPPFLAGS) \
	-DVS_TEST_DATA=\"$(abs_top_srcdir)/tests/data/virt\"
tests_component_test_mem_act_LDADD = $(TEST_LDADD)
TESTS += tests/component/test-mem.sh
EXTRA_DIST += tests/component/test-mem.sh
