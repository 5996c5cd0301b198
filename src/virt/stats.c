/* Bulk domain statistics parsing; see stats.h. Field names and units are
 * those of virConnectGetAllDomainStats in libvirt 9 (docs of
 * VIR_DOMAIN_STATS_CPU_TOTAL, _VCPU and _BALLOON). */
#include "config.h"

#include "virt/stats.h"

#include <stddef.h>
#include <string.h>

#define KIB 1024u

/* A non-negative integer parameter as uint64; false for other types. */
static bool param_u64(const virTypedParameter *p, uint64_t *ret)
{
	switch (p->type) {
	case VIR_TYPED_PARAM_INT:
		if (p->value.i < 0)
			return false;
		*ret = (uint64_t)p->value.i;
		return true;
	case VIR_TYPED_PARAM_UINT:
		*ret = p->value.ui;
		return true;
	case VIR_TYPED_PARAM_LLONG:
		if (p->value.l < 0)
			return false;
		*ret = (uint64_t)p->value.l;
		return true;
	case VIR_TYPED_PARAM_ULLONG:
		*ret = p->value.ul;
		return true;
	default:
		return false;
	}
}

typedef struct {
	const char *name;      /* after "balloon." */
	VsBalloonField bit;
	size_t offset;         /* of the uint64_t in VsBalloonStats */
	uint64_t scale;        /* KiB fields: 1024 */
} BalloonField;

#define BF(n, b, f, s) { n, b, offsetof(VsBalloonStats, f), s }
static const BalloonField balloon_fields[] = {
	BF("current", VS_BALLOON_CURRENT, current, KIB),
	BF("maximum", VS_BALLOON_MAXIMUM, maximum, KIB),
	BF("swap_in", VS_BALLOON_SWAP_IN, swap_in, KIB),
	BF("swap_out", VS_BALLOON_SWAP_OUT, swap_out, KIB),
	BF("major_fault", VS_BALLOON_MAJOR_FAULT, major_fault, 1),
	BF("minor_fault", VS_BALLOON_MINOR_FAULT, minor_fault, 1),
	BF("unused", VS_BALLOON_UNUSED, unused, KIB),
	BF("available", VS_BALLOON_AVAILABLE, available, KIB),
	BF("usable", VS_BALLOON_USABLE, usable, KIB),
	BF("rss", VS_BALLOON_RSS, rss, KIB),
	BF("disk_caches", VS_BALLOON_DISK_CACHES, disk_caches, KIB),
};
#undef BF

static void parse_balloon(VsBalloonStats *b, const char *name, const virTypedParameter *p)
{
	uint64_t v;

	if (!param_u64(p, &v))
		return;
	if (strcmp(name, "last-update") == 0) {
		if (v > G_MAXINT64)
			return;
		b->last_update = (int64_t)v;
		b->have |= VS_BALLOON_LAST_UPDATE;
		return;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(balloon_fields); i++) {
		const BalloonField *f = &balloon_fields[i];
		if (strcmp(name, f->name) != 0)
			continue;
		if (v > G_MAXUINT64 / f->scale)
			return;
		*(uint64_t *)((char *)b + f->offset) = v * f->scale;
		b->have |= f->bit;
		return;
	}
}

/* "N.field" of a vcpu.N.field name. */
static void parse_vcpu(VsDomain *dom, const char *rest, const virTypedParameter *p)
{
	const char *dot = strchr(rest, '.');
	g_autofree char *num = NULL;
	guint64 index;
	uint64_t v;
	VsVcpu *vcpu;

	if (!dot)
		return;         /* vcpu.current, vcpu.maximum */
	num = g_strndup(rest, (gsize)(dot - rest));
	if (!g_ascii_string_to_unsigned(num, 10, 0, G_MAXUINT, &index, NULL) ||
	    index >= dom->vcpus->len || !param_u64(p, &v))
		return;
	vcpu = &g_array_index(dom->vcpus, VsVcpu, index);
	if (strcmp(dot + 1, "time") == 0)
		vcpu->time_ns = v;
	else if (strcmp(dot + 1, "delay") == 0)
		vcpu->delay_ns = v;
	else if (strcmp(dot + 1, "state") == 0 && v <= G_MAXINT)
		vcpu->state = (int)v;
	else
		return;
	vcpu->has_stats = true;
}

void vs_stats_parse(VsDomain *dom, const virTypedParameter *params, int n)
{
	memset(&dom->balloon, 0, sizeof(dom->balloon));
	dom->cpu_time_ns = 0;
	for (guint i = 0; i < dom->vcpus->len; i++) {
		VsVcpu *vcpu = &g_array_index(dom->vcpus, VsVcpu, i);
		vcpu->has_stats = false;
		vcpu->time_ns = 0;
		vcpu->delay_ns = 0;
		vcpu->state = 0;
	}
	for (int i = 0; i < n; i++) {
		const virTypedParameter *p = &params[i];
		uint64_t v;

		if (strcmp(p->field, "cpu.time") == 0 && param_u64(p, &v))
			dom->cpu_time_ns = v;
		else if (g_str_has_prefix(p->field, "vcpu."))
			parse_vcpu(dom, p->field + strlen("vcpu."), p);
		else if (g_str_has_prefix(p->field, "balloon."))
			parse_balloon(&dom->balloon, p->field + strlen("balloon."), p);
	}
	dom->has_stats = true;
}
