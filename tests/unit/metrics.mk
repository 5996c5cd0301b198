# Unit tests of src/metrics/: the text format, the histogram, the golden
# exposition of a state built from literals, the textfile write.
check_PROGRAMS += tests/unit/test-metrics
TESTS += tests/unit/test-metrics
tests_unit_test_metrics_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_metrics_LDADD = $(TEST_LDADD)
EXTRA_DIST += tests/data/metrics
