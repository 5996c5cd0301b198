# CPU planners (pure) and, later, the CPU actuator.
src_libvsched_a_SOURCES += \
	%reldir%/placement.c %reldir%/placement.h
# SCHED_DEADLINE admission control and the deadline/identity primitives.
src_libvsched_a_SOURCES += \
	%reldir%/deadline.c %reldir%/deadline.h
# The CPU plan (pure), the Applied record and the CPU actuator.
src_libvsched_a_SOURCES += \
	%reldir%/cpuplan.c %reldir%/cpuplan.h \
	%reldir%/cgplan.c %reldir%/cgplan.h \
	%reldir%/applied.c %reldir%/applied.h \
	%reldir%/act.c %reldir%/act.h
# Co-scheduling: progress skew (pure), the planner (pure, with hysteresis
# state) and its actuator (nice boosts, core-scheduling cookies).
src_libvsched_a_SOURCES += \
	%reldir%/skew.c %reldir%/skew.h \
	%reldir%/cosched.c %reldir%/cosched.h \
	%reldir%/cosched-act.c %reldir%/cosched-act.h
EXTRA_DIST += doc/coschedule.md
