# The scale benchmark (issue 8): the real vschedd and vschedctl on a fixture
# of 1000 guests x 8 vCPUs generated at run time (tests/bench/scale-fixture.py)
# with the libvirt test driver; per-phase tick CPU time and resident memory
# against the issue's floors. Run by `make bench-scale` and `make bench` in
# an optimised build without sanitizers; figures in doc/benchmarks.md.
.PHONY: bench-scale
bench: bench-scale
bench-scale: src/daemon/vschedd$(EXEEXT) src/ctl/vschedctl$(EXEEXT)
	$(AM_V_at)top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
		$(SHELL) $(top_srcdir)/%reldir%/bench-scale.sh
EXTRA_DIST += %reldir%/bench-scale.sh %reldir%/scale-fixture.py
