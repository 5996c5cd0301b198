/* Unit tests for bulk statistics parsing (src/virt/stats.c) on typed
 * parameter arrays built by hand with libvirt's virTypedParamsAdd*, using
 * the field names libvirt 9 reports (seen with `virsh domstats --raw`). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "virt/stats.h"

typedef struct {
	virTypedParameterPtr params;
	int n;
	int max;
} Params;

static void add_ull(Params *p, const char *name, unsigned long long v)
{
	assert_int_equal(virTypedParamsAddULLong(&p->params, &p->n, &p->max, name, v), 0);
}

static void params_clear(Params *p)
{
	virTypedParamsFree(p->params, p->n);
	*p = (Params){ 0 };
}

static const VsVcpu *vcpu(const VsDomain *dom, guint i)
{
	return &g_array_index(dom->vcpus, VsVcpu, i);
}

static void test_full_record(void **state)
{
	g_autoptr(VsDomain) dom = vs_domain_new("d", 3);
	Params p = { 0 };

	assert_int_equal(virTypedParamsAddInt(&p.params, &p.n, &p.max, "state.state", 1), 0);
	add_ull(&p, "cpu.time", 1907733000);
	add_ull(&p, "cpu.user", 1317036000);
	add_ull(&p, "balloon.current", 131072);
	add_ull(&p, "balloon.maximum", 262144);
	add_ull(&p, "balloon.swap_in", 4);
	add_ull(&p, "balloon.swap_out", 8);
	add_ull(&p, "balloon.major_fault", 12);
	add_ull(&p, "balloon.minor_fault", 3400);
	add_ull(&p, "balloon.unused", 50000);
	add_ull(&p, "balloon.available", 120000);
	add_ull(&p, "balloon.usable", 90000);
	add_ull(&p, "balloon.last-update", 1795000000);
	add_ull(&p, "balloon.rss", 42028);
	add_ull(&p, "balloon.disk_caches", 7000);
	add_ull(&p, "balloon.hugetlb_pgalloc", 0);
	assert_int_equal(virTypedParamsAddUInt(&p.params, &p.n, &p.max, "vcpu.current", 2), 0);
	assert_int_equal(virTypedParamsAddUInt(&p.params, &p.n, &p.max, "vcpu.maximum", 3), 0);
	assert_int_equal(virTypedParamsAddInt(&p.params, &p.n, &p.max, "vcpu.0.state", 1), 0);
	add_ull(&p, "vcpu.0.time", 800000000);
	add_ull(&p, "vcpu.0.wait", 0);
	add_ull(&p, "vcpu.0.delay", 170136080);
	assert_int_equal(virTypedParamsAddInt(&p.params, &p.n, &p.max, "vcpu.1.state", 1), 0);
	add_ull(&p, "vcpu.1.time", 0);
	add_ull(&p, "vcpu.1.delay", 6798561);

	vs_stats_parse(dom, p.params, p.n);
	params_clear(&p);

	assert_true(dom->has_stats);
	assert_int_equal(dom->cpu_time_ns, 1907733000);
	assert_true(vcpu(dom, 0)->has_stats);
	assert_int_equal(vcpu(dom, 0)->state, 1);
	assert_int_equal(vcpu(dom, 0)->time_ns, 800000000);
	assert_int_equal(vcpu(dom, 0)->delay_ns, 170136080);
	assert_true(vcpu(dom, 1)->has_stats);
	assert_int_equal(vcpu(dom, 1)->time_ns, 0);
	assert_int_equal(vcpu(dom, 1)->delay_ns, 6798561);
	assert_false(vcpu(dom, 2)->has_stats);

	assert_int_equal(dom->balloon.have,
			 VS_BALLOON_CURRENT | VS_BALLOON_MAXIMUM | VS_BALLOON_SWAP_IN |
			 VS_BALLOON_SWAP_OUT | VS_BALLOON_MAJOR_FAULT | VS_BALLOON_MINOR_FAULT |
			 VS_BALLOON_UNUSED | VS_BALLOON_AVAILABLE | VS_BALLOON_USABLE |
			 VS_BALLOON_RSS | VS_BALLOON_LAST_UPDATE | VS_BALLOON_DISK_CACHES);
	assert_int_equal(dom->balloon.current, 131072ull * 1024);
	assert_int_equal(dom->balloon.maximum, 262144ull * 1024);
	assert_int_equal(dom->balloon.swap_in, 4 * 1024);
	assert_int_equal(dom->balloon.swap_out, 8 * 1024);
	assert_int_equal(dom->balloon.major_fault, 12);
	assert_int_equal(dom->balloon.minor_fault, 3400);
	assert_int_equal(dom->balloon.unused, 50000ull * 1024);
	assert_int_equal(dom->balloon.available, 120000ull * 1024);
	assert_int_equal(dom->balloon.usable, 90000ull * 1024);
	assert_int_equal(dom->balloon.rss, 42028ull * 1024);
	assert_int_equal(dom->balloon.disk_caches, 7000ull * 1024);
	assert_int_equal(dom->balloon.last_update, 1795000000);
}

static void test_missing_fields(void **state)
{
	g_autoptr(VsDomain) dom = vs_domain_new("d", 2);
	Params p = { 0 };

	/* A guest without balloon stats: only what the host knows. */
	add_ull(&p, "balloon.current", 1024);
	add_ull(&p, "balloon.last-update", 0);
	add_ull(&p, "vcpu.1.delay", 5);
	vs_stats_parse(dom, p.params, p.n);
	params_clear(&p);

	assert_true(dom->has_stats);
	assert_int_equal(dom->cpu_time_ns, 0);
	assert_int_equal(dom->balloon.have, VS_BALLOON_CURRENT | VS_BALLOON_LAST_UPDATE);
	assert_int_equal(dom->balloon.current, 1024 * 1024);
	assert_int_equal(dom->balloon.last_update, 0);
	assert_false(vcpu(dom, 0)->has_stats);
	assert_true(vcpu(dom, 1)->has_stats);
	assert_int_equal(vcpu(dom, 1)->delay_ns, 5);
	assert_int_equal(vcpu(dom, 1)->time_ns, 0);

	/* An empty record still says "stats were collected", and clears what
	 * an earlier record set. */
	vs_stats_parse(dom, NULL, 0);
	assert_true(dom->has_stats);
	assert_int_equal(dom->balloon.have, 0);
	assert_int_equal(dom->balloon.current, 0);
	assert_false(vcpu(dom, 1)->has_stats);
	assert_int_equal(vcpu(dom, 1)->delay_ns, 0);
}

static void test_vcpu_beyond_max(void **state)
{
	g_autoptr(VsDomain) dom = vs_domain_new("d", 2);
	Params p = { 0 };

	add_ull(&p, "vcpu.2.time", 1);
	add_ull(&p, "vcpu.4294967296.time", 1);
	add_ull(&p, "vcpu.x.time", 1);
	add_ull(&p, "vcpu..time", 1);
	add_ull(&p, "vcpu.-1.time", 1);
	add_ull(&p, "vcpu.1.unknown", 1);
	add_ull(&p, "vcpu.1.time", 77);
	vs_stats_parse(dom, p.params, p.n);
	params_clear(&p);

	assert_int_equal(dom->vcpus->len, 2);
	assert_false(vcpu(dom, 0)->has_stats);
	assert_true(vcpu(dom, 1)->has_stats);
	assert_int_equal(vcpu(dom, 1)->time_ns, 77);

	/* A domain with no vCPU slots at all. */
	{
		g_autoptr(VsDomain) none = vs_domain_new("e", 0);
		add_ull(&p, "vcpu.0.time", 1);
		vs_stats_parse(none, p.params, p.n);
		params_clear(&p);
		assert_true(none->has_stats);
	}
}

static void test_types_and_ranges(void **state)
{
	g_autoptr(VsDomain) dom = vs_domain_new("d", 1);
	Params p = { 0 };

	/* Other integer types are accepted; strings, booleans, negative
	 * values and values that overflow when scaled to bytes are not. */
	assert_int_equal(virTypedParamsAddUInt(&p.params, &p.n, &p.max, "balloon.current", 10), 0);
	assert_int_equal(virTypedParamsAddLLong(&p.params, &p.n, &p.max, "balloon.rss", 20), 0);
	assert_int_equal(virTypedParamsAddLLong(&p.params, &p.n, &p.max, "balloon.unused", -1), 0);
	assert_int_equal(virTypedParamsAddString(&p.params, &p.n, &p.max, "balloon.usable", "5"), 0);
	assert_int_equal(virTypedParamsAddBoolean(&p.params, &p.n, &p.max, "balloon.swap_in", 1), 0);
	assert_int_equal(virTypedParamsAddInt(&p.params, &p.n, &p.max, "vcpu.0.state", -3), 0);
	add_ull(&p, "balloon.maximum", G_MAXUINT64 / 1024 + 1);
	add_ull(&p, "balloon.major_fault", G_MAXUINT64);
	add_ull(&p, "balloon.last-update", G_MAXUINT64);
	assert_int_equal(virTypedParamsAddString(&p.params, &p.n, &p.max, "cpu.time", "1"), 0);
	vs_stats_parse(dom, p.params, p.n);
	params_clear(&p);

	assert_int_equal(dom->balloon.have,
			 VS_BALLOON_CURRENT | VS_BALLOON_RSS | VS_BALLOON_MAJOR_FAULT);
	assert_int_equal(dom->balloon.current, 10 * 1024);
	assert_int_equal(dom->balloon.rss, 20 * 1024);
	assert_int_equal(dom->balloon.major_fault, G_MAXUINT64);
	assert_int_equal(dom->balloon.maximum, 0);
	assert_int_equal(dom->cpu_time_ns, 0);
	assert_false(vcpu(dom, 0)->has_stats);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_record),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_vcpu_beyond_max),
		cmocka_unit_test(test_types_and_ranges),
	};

	/* libvirt's typed-parameter helpers reset its per-thread error, which
	 * is set up only by virInitialize(). */
	if (virInitialize() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
