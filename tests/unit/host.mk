# Host model tests (src/host/): pure parsers, fixture trees under
# tests/data/hosts (found through $top_srcdir), and the real root.
check_PROGRAMS += tests/unit/test-host-parse tests/unit/test-host-fixtures tests/unit/test-host-real
TESTS += tests/unit/test-host-parse tests/unit/test-host-fixtures tests/unit/test-host-real

tests_unit_test_host_parse_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_host_parse_LDADD = $(TEST_LDADD)
tests_unit_test_host_fixtures_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_host_fixtures_LDADD = $(TEST_LDADD)
tests_unit_test_host_real_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_host_real_LDADD = $(TEST_LDADD)

EXTRA_DIST += tests/data/hosts
