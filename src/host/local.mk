src_libvsched_a_SOURCES += \
	%reldir%/sys.c %reldir%/sys.h \
	%reldir%/host.h
