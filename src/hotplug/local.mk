# vCPU hotplug (issue 7): the pure planner and the actuator.
src_libvsched_a_SOURCES += \
	%reldir%/plan.c %reldir%/plan.h
src_libvsched_a_SOURCES += \
	%reldir%/act.c %reldir%/act.h
