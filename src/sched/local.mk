# CPU planners (pure) and, later, the CPU actuator.
src_libvsched_a_SOURCES += \
	%reldir%/placement.c %reldir%/placement.h
