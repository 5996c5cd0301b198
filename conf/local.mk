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
