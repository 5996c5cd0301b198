sbin_PROGRAMS += src/daemon/vschedd
src_daemon_vschedd_SOURCES = %reldir%/main.c
src_daemon_vschedd_LDADD = src/libvsched.a $(VS_LIBS)
