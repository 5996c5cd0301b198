# Steal accounting (issue 5): the pure trackers, windows and conditions, the
# report, the collector that feeds them once per tick, the vCPUs'
# entitlements from the CPU plan, and the guest agent's view.
src_libvsched_a_SOURCES += \
	%reldir%/account.c %reldir%/account.h \
	%reldir%/condition.c %reldir%/condition.h \
	%reldir%/report.c %reldir%/report.h \
	%reldir%/collector.c %reldir%/collector.h \
	%reldir%/entitlement.c %reldir%/entitlement.h \
	%reldir%/guest.c %reldir%/guest.h
# The method, documented.
EXTRA_DIST += doc/steal.md
