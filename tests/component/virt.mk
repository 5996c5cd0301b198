# Component tests of src/virt/ against the libvirt test driver, with thread
# discovery on the fixture root tests/data/virt/testdrv-root (the fixture
# directory is distributed by tests/unit/virt.mk).
check_PROGRAMS += tests/component/test-virt-inventory
TESTS += tests/component/test-virt-inventory
tests_component_test_virt_inventory_CPPFLAGS = $(TEST_CPPFLAGS) \
	-DVS_TEST_DATA=\"$(abs_top_srcdir)/tests/data/virt\"
tests_component_test_virt_inventory_LDADD = $(TEST_LDADD)
