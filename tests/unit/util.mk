check_PROGRAMS += tests/unit/test-cpuset
TESTS += tests/unit/test-cpuset
tests_unit_test_cpuset_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_cpuset_LDADD = $(TEST_LDADD)
