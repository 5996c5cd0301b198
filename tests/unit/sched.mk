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

# The CPU plan (with Pin= policy values) and the Applied record.
check_PROGRAMS += tests/unit/test-sched-cpuplan tests/unit/test-sched-applied
TESTS += tests/unit/test-sched-cpuplan tests/unit/test-sched-applied
tests_unit_test_sched_cpuplan_SOURCES = \
	tests/unit/test-sched-cpuplan.c \
	tests/unit/test-sched-topo.c tests/unit/test-sched-topo.h
tests_unit_test_sched_cpuplan_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_sched_cpuplan_LDADD = $(TEST_LDADD)
tests_unit_test_sched_applied_SOURCES = tests/unit/test-sched-applied.c
tests_unit_test_sched_applied_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_sched_applied_LDADD = $(TEST_LDADD)

# SCHED_DEADLINE admission and primitives (src/sched/deadline.c): unit
# tests on fixtures and a fake ops table, and a test on the real kernel
# (root; exits 77 otherwise). The deadline benchmark runs under `make bench`
# through its own phony target, a prerequisite of bench.
SCHED_DEADLINE_TEST_CPPFLAGS = $(TEST_CPPFLAGS) -DVS_TEST_DATA=\"$(abs_top_srcdir)/tests/data/virt\"
check_PROGRAMS += tests/unit/test-sched-deadline tests/unit/test-sched-deadline-real
TESTS += tests/unit/test-sched-deadline tests/unit/test-sched-deadline-real
tests_unit_test_sched_deadline_SOURCES = tests/unit/test-sched-deadline.c $(TEMP_ROOT_SOURCES)
tests_unit_test_sched_deadline_CPPFLAGS = $(SCHED_DEADLINE_TEST_CPPFLAGS)
tests_unit_test_sched_deadline_LDADD = $(TEST_LDADD)
tests_unit_test_sched_deadline_real_SOURCES = \
	tests/unit/test-sched-deadline-real.c \
	tests/unit/test-sched-thread.c tests/unit/test-sched-thread.h
tests_unit_test_sched_deadline_real_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_sched_deadline_real_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/bench/bench-deadline
tests_bench_bench_deadline_SOURCES = \
	tests/bench/bench-deadline.c \
	tests/unit/test-sched-thread.c tests/unit/test-sched-thread.h
tests_bench_bench_deadline_CPPFLAGS = $(TEST_CPPFLAGS)
tests_bench_bench_deadline_LDADD = src/libvsched.a $(VS_LIBS)

.PHONY: bench-deadline
bench: bench-deadline
bench-deadline: tests/bench/bench-deadline$(EXEEXT)
	$(AM_V_at)tests/bench/bench-deadline$(EXEEXT)

# The actuation-cost benchmark (affinity + sched_setattr + cgroup write per
# vCPU thread, issue 4's 20 us floor), run by `make bench` as root.
check_PROGRAMS += tests/bench/bench-actuation
tests_bench_bench_actuation_SOURCES = \
	tests/bench/bench-actuation.c \
	tests/unit/test-sched-thread.c tests/unit/test-sched-thread.h
tests_bench_bench_actuation_CPPFLAGS = $(TEST_CPPFLAGS)
tests_bench_bench_actuation_LDADD = src/libvsched.a $(VS_LIBS) -lpthread
.PHONY: bench-actuation
bench: bench-actuation
bench-actuation: tests/bench/bench-actuation$(EXEEXT)
	$(AM_V_at)tests/bench/bench-actuation$(EXEEXT)

# The CPU actuator on plans from the CPU planner, against a temporary
# tree (cgroup files, /proc stat) and a fake ops table.
check_PROGRAMS += tests/unit/test-sched-act
TESTS += tests/unit/test-sched-act
tests_unit_test_sched_act_SOURCES = \
	tests/unit/test-sched-act.c \
	tests/unit/test-sched-topo.c tests/unit/test-sched-topo.h $(TEMP_ROOT_SOURCES)
tests_unit_test_sched_act_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_sched_act_LDADD = $(TEST_LDADD)
# Co-scheduling: skew arithmetic, the planner with its hysteresis, the
# nice kind of Applied, and the actuator on a fake ops table.
check_PROGRAMS += tests/unit/test-sched-cosched
TESTS += tests/unit/test-sched-cosched
tests_unit_test_sched_cosched_SOURCES = \
	tests/unit/test-sched-cosched.c $(TEMP_ROOT_SOURCES) \
	tests/unit/test-sched-topo.c tests/unit/test-sched-topo.h
tests_unit_test_sched_cosched_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_sched_cosched_LDADD = $(TEST_LDADD) -lpthread
# The co-scheduling report in the control API (Show, Steal, Explain).
check_PROGRAMS += tests/unit/test-sched-cosched-ctl
TESTS += tests/unit/test-sched-cosched-ctl
tests_unit_test_sched_cosched_ctl_SOURCES = \
	tests/unit/test-sched-cosched-ctl.c \
	tests/unit/test-ctl-fixture.c tests/unit/test-ctl-fixture.h
tests_unit_test_sched_cosched_ctl_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_sched_cosched_ctl_LDADD = $(TEST_LDADD)
