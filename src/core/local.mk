src_libvsched_a_SOURCES += \
	%reldir%/snapshot.c %reldir%/snapshot.h \
	%reldir%/changes.c %reldir%/changes.h \
	%reldir%/tick-cost.c %reldir%/tick-cost.h
