src_libvsched_a_SOURCES +=
