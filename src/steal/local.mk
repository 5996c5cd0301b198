# Steal accounting (issue 5): the pure trackers, windows and conditions, the
# report, and the collector that feeds them once per tick.
src_libvsched_a_SOURCES += \
	%reldir%/account.c %reldir%/account.h \
	%reldir%/condition.c %reldir%/condition.h \
	%reldir%/report.c %reldir%/report.h \
	%reldir%/collector.c %reldir%/collector.h
# The method, documented.
EXTRA_DIST += doc/steal.md
