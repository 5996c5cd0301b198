src_libvsched_a_SOURCES += \
	%reldir%/cpuset.c %reldir%/cpuset.h \
	%reldir%/error.c %reldir%/error.h \
	%reldir%/log.c %reldir%/log.h
