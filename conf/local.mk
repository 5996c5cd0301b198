# The shipped configuration and example policies are installed only where the
# operator has none: an upgrade never overwrites a file in /etc/vsched. The
# example policies match guests by Class= only, so they change nothing until
# a guest is tagged with one of their classes.
EXTRA_DIST += %reldir%/vschedd.conf
VS_POLICY_EXAMPLES = \
	%reldir%/policy.d/10-latency-critical.policy \
	%reldir%/policy.d/50-general.policy \
	%reldir%/policy.d/90-batch.policy

install-data-local: install-conf
install-conf:
	$(MKDIR_P) '$(DESTDIR)$(sysconfdir)/vsched/policy.d'
	@for f in %reldir%/vschedd.conf $(VS_POLICY_EXAMPLES); do \
		dest='$(DESTDIR)$(sysconfdir)/vsched/'"$${f#%reldir%/}"; \
		if test -e "$$dest"; then \
			echo "keeping the existing $$dest"; \
		else \
			echo "installing $$dest"; \
			$(INSTALL_DATA) "$(srcdir)/$$f" "$$dest" || exit 1; \
		fi; \
	done

# Uninstall removes the shipped files only where the operator did not edit them.
uninstall-local: uninstall-conf
uninstall-conf:
	@for f in %reldir%/vschedd.conf $(VS_POLICY_EXAMPLES); do \
		dest='$(DESTDIR)$(sysconfdir)/vsched/'"$${f#%reldir%/}"; \
		if cmp -s "$(srcdir)/$$f" "$$dest"; then \
			rm -f "$$dest"; \
		elif test -e "$$dest"; then \
			echo "keeping the edited $$dest"; \
		fi; \
	done
	-rmdir '$(DESTDIR)$(sysconfdir)/vsched/policy.d' '$(DESTDIR)$(sysconfdir)/vsched' 2>/dev/null
.PHONY: install-conf uninstall-conf

# The systemd unit (with the daemon's path filled in) and the sysusers.d
# file that creates the vsched group, where systemd looks for them
# (configure --with-systemdsystemunitdir, --with-sysusersdir).
systemdsystemunit_DATA = %reldir%/vschedd.service
%reldir%/vschedd.service: %reldir%/vschedd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' $(srcdir)/%reldir%/vschedd.service.in > $@.tmp && \
	mv $@.tmp $@
CLEANFILES += %reldir%/vschedd.service
EXTRA_DIST += %reldir%/vschedd.service.in %reldir%/vsched.sysusers

install-data-local: install-sysusers
install-sysusers:
	$(MKDIR_P) '$(DESTDIR)$(sysusersdir)'
	$(INSTALL_DATA) '$(srcdir)/%reldir%/vsched.sysusers' '$(DESTDIR)$(sysusersdir)/vsched.conf'
uninstall-local: uninstall-sysusers
uninstall-sysusers:
	rm -f '$(DESTDIR)$(sysusersdir)/vsched.conf'
.PHONY: install-sysusers uninstall-sysusers

# distcheck installs below its own prefix.
AM_DISTCHECK_CONFIGURE_FLAGS = \
	--with-systemdsystemunitdir='$$(prefix)/lib/systemd/system' \
	--with-sysusersdir='$$(prefix)/lib/sysusers.d' \
	--with-bashcompletiondir='$$(datadir)/bash-completion/completions'

# The bash completion of vschedctl, where bash-completion loads it on demand
# (configure --with-bashcompletiondir).
bashcompletion_DATA = %reldir%/vschedctl
%reldir%/vschedctl: %reldir%/vschedctl.bash-completion
	$(AM_V_GEN)$(MKDIR_P) %reldir% && cp $(srcdir)/%reldir%/vschedctl.bash-completion $@
CLEANFILES += %reldir%/vschedctl
EXTRA_DIST += %reldir%/vschedctl.bash-completion
