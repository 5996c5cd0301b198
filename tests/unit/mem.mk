# Unit tests of src/mem/: the statistics sanitizer with hostile numbers, the
# pressure state machine, the target planner, and PSI triggers (on a fixture
# root, and on the real kernel when /proc/pressure/memory is writable).
MEM_UNIT_TESTS = \
	tests/unit/test-mem-stats \
	tests/unit/test-mem-pressure \
	tests/unit/test-mem-plan \
	tests/unit/test-mem-psi-trigger
check_PROGRAMS += $(MEM_UNIT_TESTS)
TESTS += $(MEM_UNIT_TESTS)
tests_unit_test_mem_stats_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_mem_stats_LDADD = $(TEST_LDADD)
tests_unit_test_mem_pressure_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_mem_pressure_LDADD = $(TEST_LDADD)
tests_unit_test_mem_plan_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_mem_plan_LDADD = $(TEST_LDADD)
tests_unit_test_mem_psi_trigger_SOURCES = tests/unit/test-mem-psi-trigger.c $(TEMP_ROOT_SOURCES)
tests_unit_test_mem_psi_trigger_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_mem_psi_trigger_LDADD = $(TEST_LDADD)

# The libFuzzer target of guest statistics through the sanitizer and the
# planner; tests/fuzz/run-fuzz.sh (registered in policy.mk) runs it.
EXTRA_DIST += \
	tests/fuzz/fuzz-mem-stats.c \
	tests/fuzz/corpus-mem

# The memory planner benchmark: built by make check, run by `make bench`
# (figures in doc/benchmarks.md).
check_PROGRAMS += tests/bench/bench-mem-plan
tests_bench_bench_mem_plan_CPPFLAGS = $(TEST_CPPFLAGS)
tests_bench_bench_mem_plan_LDADD = src/libvsched.a $(VS_LIBS)
.PHONY: bench-mem-plan
bench: bench-mem-plan
bench-mem-plan: tests/bench/bench-mem-plan$(EXEEXT)
	$(AM_V_at)tests/bench/bench-mem-plan$(EXEEXT)
