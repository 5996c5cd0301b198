/* Privileges: after start-up vschedd keeps only the capabilities its
 * features use (the table below, documented in vschedd(8)) and drops every
 * other one from its effective, permitted, inheritable, ambient and
 * bounding sets. It stays uid 0: the cgroup files, /run/vsched and
 * /var/lib/vsched are root's, and root writes them as their owner, without
 * CAP_DAC_OVERRIDE. */
#pragma once

#include <glib.h>

typedef struct VsPrivilege {
	int capability;        /* CAP_SYS_NICE, ... */
	const char *name;      /* "cap_sys_nice" */
	const char *used_for;  /* what needs it */
} VsPrivilege;

/* The capabilities vschedd keeps, terminated by an entry with name NULL. */
extern const VsPrivilege vs_privileges[];

/* Drops every capability but those of vs_privileges that the process has
 * now (a capability it lacks is not asked for: root without
 * CAP_SYS_RESOURCE keeps going with the 2 s PSI windows). Without
 * CAP_SETPCAP (under the systemd unit) the bounding set stays as the
 * service manager gave it, and *ret_kept says so. A process without
 * capabilities (not root) has nothing to drop. Returns 0 and, in
 * *ret_kept, the names kept ("cap_net_admin cap_sys_nice", or "none";
 * caller frees), or -errno with @error (VS_ERROR_SYSTEM); a failure of
 * the last step may leave the bounding set dropped and the rest not. */
int vs_privileges_drop(char **ret_kept, GError **error);
