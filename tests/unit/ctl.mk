# Unit tests of src/ctl: protocol framing and validation, method rendering.
CTL_UNIT_TESTS = \
	tests/unit/test-ctl-proto \
	tests/unit/test-ctl-methods
check_PROGRAMS += $(CTL_UNIT_TESTS)
TESTS += $(CTL_UNIT_TESTS)
tests_unit_test_ctl_proto_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_ctl_proto_LDADD = $(TEST_LDADD)
tests_unit_test_ctl_methods_SOURCES = \
	tests/unit/test-ctl-methods.c \
	tests/unit/test-ctl-fixture.c tests/unit/test-ctl-fixture.h
tests_unit_test_ctl_methods_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_ctl_methods_LDADD = $(TEST_LDADD)
# The control protocol's fuzz target and its seeds (run by
# tests/fuzz/run-fuzz.sh, which tests/unit/policy.mk registers).
EXTRA_DIST += tests/fuzz/fuzz-ctl.c tests/fuzz/corpus-ctl
