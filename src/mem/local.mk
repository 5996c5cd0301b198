# Memory (issue 6): the host pressure state machine, PSI trigger fds, the
# guest statistics sanitizer and the balloon target planner.
src_libvsched_a_SOURCES += \
	%reldir%/mem.c %reldir%/mem.h \
	%reldir%/guest.c %reldir%/guest.h \
	%reldir%/pressure.c %reldir%/pressure.h \
	%reldir%/psi-trigger.c %reldir%/psi-trigger.h \
	%reldir%/stats-sanitize.c %reldir%/stats-sanitize.h \
	%reldir%/plan.c %reldir%/plan.h
# The method, documented.
EXTRA_DIST += doc/memory.md
# The balloon actuator, its convergence tracking, and the view the control
# server reads (act.c, follow.c, view.h).
src_libvsched_a_SOURCES += \
	%reldir%/follow.c %reldir%/follow.h \
	%reldir%/act.c %reldir%/act.h \
	%reldir%/view.h
