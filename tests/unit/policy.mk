# Unit tests of src/policy/: values, files and diagnostics, matching and
# merging with provenance, sets from tests/data/policy/, overrides and their
# JSON form; the man page against its generator; and a short libFuzzer run
# of the policy parser over tests/fuzz/corpus-policy/ (and of the memory
# planner, see mem.mk).
POLICY_UNIT_TESTS = \
	tests/unit/test-policy-value \
	tests/unit/test-policy-file \
	tests/unit/test-policy-merge \
	tests/unit/test-policy-overrides \
	tests/unit/test-policy-cache
check_PROGRAMS += $(POLICY_UNIT_TESTS)
TESTS += $(POLICY_UNIT_TESTS) \
	tests/unit/test-policy-man.sh \
	tests/fuzz/run-fuzz.sh
POLICY_TEST_CPPFLAGS = $(TEST_CPPFLAGS) \
	-DVS_POLICY_DATA=\"$(abs_top_srcdir)/tests/data/policy\" \
	-DVS_POLICY_CONF=\"$(abs_top_srcdir)/conf/policy.d\"
tests_unit_test_policy_value_CPPFLAGS = $(POLICY_TEST_CPPFLAGS)
tests_unit_test_policy_value_LDADD = $(TEST_LDADD)
tests_unit_test_policy_file_CPPFLAGS = $(POLICY_TEST_CPPFLAGS)
tests_unit_test_policy_file_LDADD = $(TEST_LDADD)
tests_unit_test_policy_merge_CPPFLAGS = $(POLICY_TEST_CPPFLAGS)
tests_unit_test_policy_merge_LDADD = $(TEST_LDADD)
tests_unit_test_policy_overrides_CPPFLAGS = $(POLICY_TEST_CPPFLAGS)
tests_unit_test_policy_overrides_LDADD = $(TEST_LDADD)
tests_unit_test_policy_cache_CPPFLAGS = $(POLICY_TEST_CPPFLAGS)
tests_unit_test_policy_cache_LDADD = $(TEST_LDADD)

EXTRA_DIST += \
	tests/data/policy \
	tests/unit/test-policy-man.sh \
	tests/fuzz/fuzz-policy.c \
	tests/fuzz/run-fuzz.sh \
	tests/fuzz/corpus-policy
