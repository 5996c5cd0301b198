# The policy core (src/policy/): key table, values, files, sets, overrides
# and their JSON form, effective policies with provenance.
src_libvsched_a_SOURCES += \
	%reldir%/policy.h %reldir%/policy-private.h \
	%reldir%/key.c %reldir%/value.c %reldir%/diag.c \
	%reldir%/file.c %reldir%/set.c \
	%reldir%/overrides.c %reldir%/overrides-json.c \
	%reldir%/effective.c %reldir%/cache.c

# vsched.policy(5) is written by tools/gen-policy-man from the key table and
# committed; `make update-man` rewrites it, and tests/unit/test-policy-man.sh
# fails when the committed page and the generator's output differ.
noinst_PROGRAMS += tools/gen-policy-man
tools_gen_policy_man_LDADD = src/libvsched.a $(VS_LIBS)
dist_man_MANS += doc/vsched.policy.5

update-man: tools/gen-policy-man$(EXEEXT)
	$(AM_V_GEN)tools/gen-policy-man$(EXEEXT) >'$(srcdir)/doc/vsched.policy.5.tmp' && \
		mv -f '$(srcdir)/doc/vsched.policy.5.tmp' '$(srcdir)/doc/vsched.policy.5'
.PHONY: update-man

# Example policies shipped with vsched (conf/policy.d/); each checks clean.
EXTRA_DIST += \
	conf/policy.d/10-latency-critical.policy \
	conf/policy.d/50-general.policy \
	conf/policy.d/90-batch.policy
