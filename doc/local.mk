dist_man_MANS += %reldir%/vschedd.8 %reldir%/vschedd.conf.5
EXTRA_DIST += %reldir%/control-protocol.md %reldir%/design.md %reldir%/benchmarks.md %reldir%/testing.md \
	%reldir%/security.md
