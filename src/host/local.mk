src_libvsched_a_SOURCES += \
	%reldir%/sys.c %reldir%/sys.h \
	%reldir%/host.h %reldir%/host-private.h %reldir%/host.c \
	%reldir%/topology.c %reldir%/meminfo.c %reldir%/psi.c \
	%reldir%/cgroup.c %reldir%/caps.c
# The cgroup v2 writer (cpu.weight, cpu.max, cpuset files, partitions).
src_libvsched_a_SOURCES += %reldir%/cgroup-write.c %reldir%/cgroup-write.h
# Per-thread counters for steal accounting: taskstats (generic netlink),
# schedstat on held descriptors, the interface over both, and cpu.stat
# throttled time.
src_libvsched_a_SOURCES += \
	%reldir%/taskstats.c %reldir%/taskstats.h \
	%reldir%/schedstat.c %reldir%/schedstat.h \
	%reldir%/thread-counters.c %reldir%/thread-counters.h \
	%reldir%/cpustat.c %reldir%/cpustat.h
