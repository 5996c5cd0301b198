# Metrics (issue 8): the Prometheus text writer, the tick histogram, one
# family writer per room, the formatter that runs them, and the textfile
# writer for node_exporter.
src_libvsched_a_SOURCES += \
	%reldir%/metrics.c %reldir%/metrics.h \
	%reldir%/writer.c %reldir%/writer.h \
	%reldir%/histogram.c %reldir%/histogram.h \
	%reldir%/daemon.c \
	%reldir%/guests.c \
	%reldir%/steal.c \
	%reldir%/cpu.c \
	%reldir%/mem.c \
	%reldir%/textfile.c
