# Unit tests of src/virt/: stats parsing, thread discovery on the fixture
# trees under tests/data/virt/, the thread discovery cache, the domain
# structs and reconnect backoff, and the guest agent worker against
# libvirt's test driver.

VIRT_UNIT_TESTS = \
	tests/unit/test-virt-domain \
	tests/unit/test-virt-stats \
	tests/unit/test-virt-threads \
	tests/unit/test-virt-agent \
	tests/unit/test-virt-threads-cache
check_PROGRAMS += $(VIRT_UNIT_TESTS)
TESTS += $(VIRT_UNIT_TESTS)
VIRT_TEST_CPPFLAGS = $(TEST_CPPFLAGS) -DVS_TEST_DATA=\"$(abs_top_srcdir)/tests/data/virt\"
tests_unit_test_virt_domain_CPPFLAGS = $(VIRT_TEST_CPPFLAGS)
tests_unit_test_virt_domain_LDADD = $(TEST_LDADD)
tests_unit_test_virt_stats_CPPFLAGS = $(VIRT_TEST_CPPFLAGS)
tests_unit_test_virt_stats_LDADD = $(TEST_LDADD)
tests_unit_test_virt_threads_CPPFLAGS = $(VIRT_TEST_CPPFLAGS)
tests_unit_test_virt_threads_LDADD = $(TEST_LDADD)
tests_unit_test_virt_agent_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_virt_agent_LDADD = $(TEST_LDADD)
tests_unit_test_virt_threads_cache_SOURCES = tests/unit/test-virt-threads-cache.c $(TEMP_ROOT_SOURCES)
tests_unit_test_virt_threads_cache_CPPFLAGS = $(VIRT_TEST_CPPFLAGS)
tests_unit_test_virt_threads_cache_LDADD = $(TEST_LDADD)

EXTRA_DIST += tests/data/virt
