/* The libvirt calls that change a guest's vCPU count, for the hotplug
 * actuator: ACPI hotplug and unplug (virDomainSetVcpusFlags, live), and
 * the guest agent's view and control of the guest's online CPUs
 * (virDomainGetGuestVcpus, virDomainSetGuestVcpus).
 *
 * These calls can block for seconds (the guest handles the ACPI event, the
 * agent answers or times out), so they are made on a worker thread: the
 * owner thread takes a VsVirtDomainRef (a reference on the domain and so
 * on its connection, valid even if the VsVirt drops or replaces the
 * connection meanwhile), and any one thread at a time may then make the
 * blocking calls on it. They return 0 or -EIO with @error set to
 * "libvirt: <message>"; they never touch the VsVirt. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "util/cpuset.h"
#include "virt/virt.h"

typedef struct VsVirtDomainRef VsVirtDomainRef;

/* Takes a reference on the running domain @uuid of @virt's connection.
 * Owner thread only. Returns 0, -ENOTCONN while disconnected, -ENOENT when
 * there is no such domain, -EIO on another failure; @error set on failure. */
int vs_virt_domain_ref(VsVirt *virt, const char *uuid, VsVirtDomainRef **ret_ref,
		       GError **error);
void vs_virt_domain_ref_free(VsVirtDomainRef *ref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsVirtDomainRef, vs_virt_domain_ref_free)

/* Sets the number of the guest's vCPUs to @n, live (hotplug or unplug
 * through ACPI). Returns when libvirt does: after an unplug request that
 * may be before the guest let go of the vCPU, or with a time-out error
 * (-ETIMEDOUT) although the guest lets go later; callers verify the
 * count. Other failures give -EIO. */
int vs_virt_set_vcpus_live(VsVirtDomainRef *ref, guint n, GError **error);

/* Unplugs (@enable false) or plugs the guest's vCPU number @vcpu, live
 * (virDomainSetVcpu: one hotpluggable vCPU chosen by the caller, which
 * works where libvirt's own count has gone stale). Returns like
 * vs_virt_set_vcpus_live(). */
int vs_virt_set_vcpu_live(VsVirtDomainRef *ref, guint vcpu, bool enable, GError **error);

/* The guest's CPUs as its agent reports them: all it knows, the online
 * ones and the ones that may be taken offline. */
typedef struct VsGuestVcpus {
	VsCpuSet *all;
	VsCpuSet *online;
	VsCpuSet *offlinable;
} VsGuestVcpus;

void vs_guest_vcpus_free(VsGuestVcpus *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsGuestVcpus, vs_guest_vcpus_free)

/* Asks the guest agent (virDomainGetGuestVcpus). Fails (-EIO) when no agent
 * is configured or none answers, with libvirt's reason in @error. */
int vs_virt_guest_vcpus(VsVirtDomainRef *ref, VsGuestVcpus **ret_vcpus, GError **error);

/* Onlines (@online) or offlines the guest CPUs in @cpus through the agent. */
int vs_virt_set_guest_vcpus(VsVirtDomainRef *ref, const VsCpuSet *cpus, bool online,
			    GError **error);

/* Which guest CPUs to change to go from @g's online count to @target: the
 * lowest offline ones to online, the highest offlinable online ones to
 * offline. Returns a new set (empty when nothing can be changed). Pure. */
VsCpuSet *vs_guest_vcpus_pick(const VsGuestVcpus *g, guint target, bool *ret_online);
