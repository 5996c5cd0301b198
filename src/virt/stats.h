/* Parsing of libvirt's bulk domain statistics (one record of
 * virConnectGetAllDomainStats) into a VsDomain. Pure: no libvirt call, so
 * the unit tests hand it parameter arrays built by hand. */
#pragma once

#include <libvirt/libvirt.h>

#include "virt/domain.h"

/* Fills @dom from the @n typed parameters of one stats record: cpu.time;
 * vcpu.N.time, vcpu.N.delay and vcpu.N.state for each N below
 * dom->vcpus->len (higher N are ignored); balloon.* (KiB converted to
 * bytes). Sets dom->has_stats, each vCPU's has_stats when one of its fields
 * was present, and dom->balloon.have for each balloon field present. Fields
 * of an unexpected type or a negative value are ignored. */
void vs_stats_parse(VsDomain *dom, const virTypedParameter *params, int n);
