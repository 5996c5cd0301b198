# Memory (issue 6): the host pressure state machine, PSI trigger fds, the
# guest statistics sanitizer and the balloon target planner.
src_libvsched_a_SOURCES += \
	%reldir%/mem.c %reldir%/mem.h \
	%reldir%/guest.h \
	%reldir%/pressure.h \
	%reldir%/psi-trigger.h \
	%reldir%/stats-sanitize.h \
	%reldir%/plan.h
# The balloon actuator and its convergence tracking (act.c, follow.c).
src_libvsched_a_SOURCES += \
	%reldir%/follow.c %reldir%/follow.h \
	%reldir%/act.c %reldir%/act.h
