# Unit tests of src/sched/ (the CPU planners), on topologies built in C by
# tests/unit/test-sched-topo.c; and the planner benchmark, which is built by
# make check but run only by `make bench` (timings belong in benchmarks, not
# in tests). Figures are recorded in doc/benchmarks.md.
SCHED_UNIT_TESTS = \
	tests/unit/test-sched-placement
check_PROGRAMS += $(SCHED_UNIT_TESTS)
TESTS += $(SCHED_UNIT_TESTS)
tests_unit_test_sched_placement_SOURCES = \
	tests/unit/test-sched-placement.c \
	tests/unit/test-sched-topo.c tests/unit/test-sched-topo.h
tests_unit_test_sched_placement_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_sched_placement_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/bench/bench-placement
tests_bench_bench_placement_SOURCES = \
	tests/bench/bench-placement.c \
	tests/unit/test-sched-topo.c tests/unit/test-sched-topo.h
tests_bench_bench_placement_CPPFLAGS = $(TEST_CPPFLAGS)
tests_bench_bench_placement_LDADD = src/libvsched.a $(VS_LIBS)


# Meaningful only in an optimised build without sanitizers (see
# doc/benchmarks.md for how the recorded figures were made).
.PHONY: bench
bench: tests/bench/bench-placement$(EXEEXT)
	$(AM_V_at)tests/bench/bench-placement$(EXEEXT)
