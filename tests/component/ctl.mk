# Component test of the control server and client over a real socket.
check_PROGRAMS += tests/component/test-ctl-server
TESTS += tests/component/test-ctl-server
tests_component_test_ctl_server_SOURCES = \
	tests/component/test-ctl-server.c \
	tests/unit/test-ctl-fixture.c tests/unit/test-ctl-fixture.h
tests_component_test_ctl_server_CPPFLAGS = $(TEST_CPPFLAGS)
tests_component_test_ctl_server_LDADD = $(TEST_LDADD)
# It also runs the CLI against its server.
tests_component_test_ctl_server_CPPFLAGS += -DVSCHEDCTL='"$(abs_top_builddir)/src/ctl/vschedctl"'
# The man page of vschedctl against `vschedctl help`, and its rendering.
TESTS += tests/component/test-ctl-man.sh
EXTRA_DIST += tests/component/test-ctl-man.sh
