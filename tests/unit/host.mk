# Host model tests (src/host/): pure parsers, fixture trees under
# tests/data/hosts (found through $top_srcdir), and the real root.
check_PROGRAMS += tests/unit/test-host-parse tests/unit/test-host-fixtures tests/unit/test-host-real
TESTS += tests/unit/test-host-parse tests/unit/test-host-fixtures tests/unit/test-host-real

tests_unit_test_host_parse_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_host_parse_LDADD = $(TEST_LDADD)
TEMP_ROOT_SOURCES = tests/unit/test-temp-root.c tests/unit/test-temp-root.h
tests_unit_test_host_fixtures_SOURCES = tests/unit/test-host-fixtures.c $(TEMP_ROOT_SOURCES)
tests_unit_test_host_fixtures_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_host_fixtures_LDADD = $(TEST_LDADD)
tests_unit_test_host_real_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_host_real_LDADD = $(TEST_LDADD)

EXTRA_DIST += tests/data/hosts

# The cgroup v2 writer (src/host/cgroup-write.c) against temporary trees.
check_PROGRAMS += tests/unit/test-host-cgroupw
TESTS += tests/unit/test-host-cgroupw
tests_unit_test_host_cgroupw_SOURCES = tests/unit/test-host-cgroupw.c $(TEMP_ROOT_SOURCES)
tests_unit_test_host_cgroupw_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_host_cgroupw_LDADD = $(TEST_LDADD)

# Per-thread counters on real threads of the test itself: taskstats against
# schedstat (root and the TASKSTATS family; exits 77 otherwise).
check_PROGRAMS += tests/unit/test-host-taskstats
TESTS += tests/unit/test-host-taskstats
tests_unit_test_host_taskstats_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_host_taskstats_LDADD = $(TEST_LDADD)

# The cpu.stat reader of the steal collector: parsing and once-per-tick
# reads, on a temporary tree.
check_PROGRAMS += tests/unit/test-host-cpustat
TESTS += tests/unit/test-host-cpustat
tests_unit_test_host_cpustat_SOURCES = tests/unit/test-host-cpustat.c $(TEMP_ROOT_SOURCES)
tests_unit_test_host_cpustat_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_host_cpustat_LDADD = $(TEST_LDADD)
