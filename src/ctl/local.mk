src_libvsched_a_SOURCES += \
	%reldir%/proto.c %reldir%/proto.h \
	%reldir%/methods.c %reldir%/methods.h \
	%reldir%/server.c %reldir%/server.h \
	%reldir%/client.c %reldir%/client.h

bin_PROGRAMS += src/ctl/vschedctl
src_ctl_vschedctl_SOURCES = %reldir%/vschedctl.c
src_ctl_vschedctl_LDADD = src/libvsched.a $(VS_LIBS)
dist_man_MANS += doc/vschedctl.1
