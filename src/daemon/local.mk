src_libvsched_a_SOURCES += \
	%reldir%/conf.c %reldir%/conf.h \
	%reldir%/daemon.c %reldir%/daemon.h \
	%reldir%/heap.c %reldir%/heap.h \
	%reldir%/notify.c %reldir%/notify.h \
	%reldir%/policy-state.c %reldir%/policy-state.h \
	%reldir%/privileges.c %reldir%/privileges.h \
	%reldir%/mem-step.c %reldir%/mem-step.h

sbin_PROGRAMS += src/daemon/vschedd
src_daemon_vschedd_SOURCES = %reldir%/main.c
src_daemon_vschedd_LDADD = src/libvsched.a $(VS_LIBS)
