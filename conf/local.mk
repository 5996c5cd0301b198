# The shipped configuration is installed only where the operator has none:
# an upgrade never overwrites /etc/vsched/vschedd.conf.
EXTRA_DIST += %reldir%/vschedd.conf

install-data-local: install-conf
install-conf:
	$(MKDIR_P) '$(DESTDIR)$(sysconfdir)/vsched/policy.d'
	if test -e '$(DESTDIR)$(sysconfdir)/vsched/vschedd.conf'; then \
		echo "keeping the existing $(sysconfdir)/vsched/vschedd.conf"; \
	else \
		$(INSTALL_DATA) '$(srcdir)/%reldir%/vschedd.conf' '$(DESTDIR)$(sysconfdir)/vsched/vschedd.conf'; \
	fi

# Uninstall removes the configuration only where the operator did not edit it.
uninstall-local: uninstall-conf
uninstall-conf:
	if cmp -s '$(srcdir)/%reldir%/vschedd.conf' '$(DESTDIR)$(sysconfdir)/vsched/vschedd.conf'; then \
		rm -f '$(DESTDIR)$(sysconfdir)/vsched/vschedd.conf'; \
	elif test -e '$(DESTDIR)$(sysconfdir)/vsched/vschedd.conf'; then \
		echo "keeping the edited $(sysconfdir)/vsched/vschedd.conf"; \
	fi
	-rmdir '$(DESTDIR)$(sysconfdir)/vsched/policy.d' '$(DESTDIR)$(sysconfdir)/vsched' 2>/dev/null
.PHONY: install-conf uninstall-conf
