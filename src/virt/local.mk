src_libvsched_a_SOURCES += \
	%reldir%/domain.h %reldir%/virt.h
