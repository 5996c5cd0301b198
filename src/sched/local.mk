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
