src_libvsched_a_SOURCES += \
	%reldir%/sys.c %reldir%/sys.h \
	%reldir%/host.h %reldir%/host-private.h %reldir%/host.c \
	%reldir%/topology.c %reldir%/meminfo.c %reldir%/psi.c \
	%reldir%/cgroup.c %reldir%/caps.c
