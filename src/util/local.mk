src_libvsched_a_SOURCES += \
	%reldir%/cpuset.c %reldir%/cpuset.h \
	%reldir%/cputime.c %reldir%/cputime.h \
	%reldir%/digest.h \
	%reldir%/error.c %reldir%/error.h \
	%reldir%/ini.c %reldir%/ini.h \
	%reldir%/log.c %reldir%/log.h \
	%reldir%/strbuf.c %reldir%/strbuf.h \
	%reldir%/units.c %reldir%/units.h
