src_libvsched_a_SOURCES += \
	%reldir%/domain.c %reldir%/domain.h \
	%reldir%/event.c %reldir%/event.h \
	%reldir%/virt.h \
	%reldir%/conn.c %reldir%/conn.h \
	%reldir%/inventory.c \
	%reldir%/stats.c %reldir%/stats.h \
	%reldir%/threads.c %reldir%/threads.h \
	%reldir%/agent.c %reldir%/agent.h \
	%reldir%/threads-cache.c %reldir%/threads-cache.h \
	%reldir%/balloon.c %reldir%/balloon.h \
	%reldir%/vcpus.c %reldir%/vcpus.h
