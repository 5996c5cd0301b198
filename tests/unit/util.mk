# Unit tests of src/util, src/core and the daemon's configuration.
UTIL_UNIT_TESTS = \
	tests/unit/test-cpuset \
	tests/unit/test-units \
	tests/unit/test-strbuf \
	tests/unit/test-ini \
	tests/unit/test-conf \
	tests/unit/test-changes \
	tests/unit/test-conf-doc
check_PROGRAMS += $(UTIL_UNIT_TESTS)
TESTS += $(UTIL_UNIT_TESTS)
tests_unit_test_cpuset_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_cpuset_LDADD = $(TEST_LDADD)
tests_unit_test_units_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_units_LDADD = $(TEST_LDADD)
tests_unit_test_strbuf_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_strbuf_LDADD = $(TEST_LDADD)
tests_unit_test_ini_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_ini_LDADD = $(TEST_LDADD)
tests_unit_test_conf_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_conf_LDADD = $(TEST_LDADD)
tests_unit_test_changes_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_changes_LDADD = $(TEST_LDADD)
tests_unit_test_conf_doc_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_conf_doc_LDADD = $(TEST_LDADD)
