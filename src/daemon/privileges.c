/* Dropping capabilities with libcap-ng; see privileges.h. */
#include "config.h"

#include "daemon/privileges.h"
#include "util/error.h"

#include <cap-ng.h>
#include <errno.h>
#include <stdbool.h>
#include <linux/capability.h>

/* Verified on Linux 6.18 by running the tests and the daemon without each
 * one (capsh --drop=...): see vschedd(8), PRIVILEGES. */
const VsPrivilege vs_privileges[] = {
	{ CAP_SYS_NICE, "cap_sys_nice",
	  "sched_setaffinity of QEMU threads of another user; sched_setattr(SCHED_DEADLINE) "
	  "of any thread" },
	{ CAP_NET_ADMIN, "cap_net_admin",
	  "taskstats over generic netlink (TASKSTATS_CMD_GET is an admin command)" },
	{ CAP_SYS_RESOURCE, "cap_sys_resource",
	  "PSI triggers with windows shorter than 2 s (kept only when the process has it)" },
	{ 0, NULL, NULL },
};

int vs_privileges_drop(char **ret_kept, GError **error)
{
	g_autoptr(GString) kept = g_string_new(NULL);
	bool setpcap;

	capng_clear(CAPNG_SELECT_ALL);
	if (capng_get_caps_process() < 0) {
		int r = errno ? -errno : -EIO;

		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM,
			    "cannot read the process's capabilities: %s", g_strerror(-r));
		return r;
	}
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE) {
		*ret_kept = g_strdup("none");
		return 0;
	}
	setpcap = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
	{
		bool keep[G_N_ELEMENTS(vs_privileges)] = { false };

		for (guint i = 0; vs_privileges[i].name; i++)
			keep[i] = capng_have_capability(CAPNG_PERMITTED,
							(unsigned)vs_privileges[i].capability);
		capng_clear(CAPNG_SELECT_ALL);
		for (guint i = 0; vs_privileges[i].name; i++) {
			if (!keep[i])
				continue;
			if (capng_update(CAPNG_ADD,
					 CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
					 (unsigned)vs_privileges[i].capability) < 0) {
				g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM,
					    "cannot keep %s", vs_privileges[i].name);
				return -EINVAL;
			}
			g_string_append_printf(kept, "%s%s", kept->len ? " " : "",
					       vs_privileges[i].name);
		}
	}
	/* The bounding set needs CAP_SETPCAP (dropped with the rest, after the
	 * bounding set); without it the set the service manager gave stays
	 * (the unit's CapabilityBoundingSet=). */
	if (!setpcap)
		g_string_append(kept, " (bounding set left as given: no cap_setpcap)");
	if (capng_apply(setpcap ? CAPNG_SELECT_ALL : CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT) < 0) {
		int r = errno ? -errno : -EPERM;

		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "cannot drop capabilities: %s",
			    g_strerror(-r));
		return r;
	}
	if (kept->len == 0 || kept->str[0] == ' ')
		g_string_prepend(kept, "none");
	*ret_kept = g_string_free(g_steal_pointer(&kept), FALSE);
	return 0;
}
