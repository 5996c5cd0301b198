# Balloon convergence tracking (src/mem/follow.c), pure, and the memory
# methods of the control API.
check_PROGRAMS += tests/unit/test-mem-follow
TESTS += tests/unit/test-mem-follow
tests_unit_test_mem_follow_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_mem_follow_LDADD = $(TEST_LDADD)

# The memory methods of the control API on the fake daemon.
check_PROGRAMS += tests/unit/test-mem-ctl
TESTS += tests/unit/test-mem-ctl
tests_unit_test_mem_ctl_SOURCES = \
	tests/unit/test-mem-ctl.c \
	tests/unit/test-ctl-fixture.c tests/unit/test-ctl-fixture.h
tests_unit_test_mem_ctl_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_mem_ctl_LDADD = $(TEST_LDADD)
