# Steal accounting (src/steal/): the arithmetic on recorded counter
# sequences, the entitlements from hand-built CPU plans, the guest agent's
# replies and the comparison rule, the collector on a fixture tree, and the
# collection benchmark (built by make check, run only by `make bench`;
# figures in doc/benchmarks.md).
STEAL_UNIT_TESTS = \
	tests/unit/test-steal-account \
	tests/unit/test-steal-collector \
	tests/unit/test-steal-ctl \
	tests/unit/test-steal-entitlement \
	tests/unit/test-steal-guest
check_PROGRAMS += $(STEAL_UNIT_TESTS)
TESTS += $(STEAL_UNIT_TESTS)
tests_unit_test_steal_account_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_steal_account_LDADD = $(TEST_LDADD)
tests_unit_test_steal_collector_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_steal_collector_LDADD = $(TEST_LDADD)
tests_unit_test_steal_entitlement_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_steal_entitlement_LDADD = $(TEST_LDADD)
tests_unit_test_steal_guest_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_steal_guest_LDADD = $(TEST_LDADD)
tests_unit_test_steal_ctl_SOURCES = \
	tests/unit/test-steal-ctl.c \
	tests/unit/test-ctl-fixture.c tests/unit/test-ctl-fixture.h
tests_unit_test_steal_ctl_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_steal_ctl_LDADD = $(TEST_LDADD)

# The cap attribution on the real kernel: a process under a 20 % CPU limit
# (root and a writable cpu controller; exits 77 otherwise).
check_PROGRAMS += tests/unit/test-steal-cap-real
TESTS += tests/unit/test-steal-cap-real
tests_unit_test_steal_cap_real_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_steal_cap_real_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/bench/bench-steal
tests_bench_bench_steal_CPPFLAGS = $(TEST_CPPFLAGS)
tests_bench_bench_steal_LDADD = src/libvsched.a $(VS_LIBS) -lpthread

.PHONY: bench-steal
bench: bench-steal
bench-steal: tests/bench/bench-steal$(EXEEXT)
	$(AM_V_at)tests/bench/bench-steal$(EXEEXT)

# The steal history's memory in steady state: 8000 vCPUs fed 330 s of 1 s
# ticks (figures in doc/benchmarks.md, "Scale").
check_PROGRAMS += tests/bench/bench-steal-history
tests_bench_bench_steal_history_CPPFLAGS = $(TEST_CPPFLAGS)
tests_bench_bench_steal_history_LDADD = src/libvsched.a $(VS_LIBS)

.PHONY: bench-steal-history
bench: bench-steal-history
bench-steal-history: tests/bench/bench-steal-history$(EXEEXT)
	$(AM_V_at)tests/bench/bench-steal-history$(EXEEXT)
