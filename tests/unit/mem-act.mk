# Balloon convergence tracking (src/mem/follow.c), pure.
check_PROGRAMS += tests/unit/test-mem-follow
TESTS += tests/unit/test-mem-follow
tests_unit_test_mem_follow_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_mem_follow_LDADD = $(TEST_LDADD)
