# vCPU hotplug (src/hotplug/): the planner's decision sequences over
# simulated time, and the agent's choice of guest CPUs.
HOTPLUG_UNIT_TESTS = tests/unit/test-hotplug-plan
check_PROGRAMS += $(HOTPLUG_UNIT_TESTS)
TESTS += $(HOTPLUG_UNIT_TESTS)
tests_unit_test_hotplug_plan_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_hotplug_plan_LDADD = $(TEST_LDADD)
