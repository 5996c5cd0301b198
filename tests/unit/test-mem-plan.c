/* Unit tests of the balloon target planner (src/mem/plan.c) and of filling
 * its guests from policies (src/mem/guest.c), with the default vschedd.conf:
 * reclaim order by shares per active page with the idle tax, Floor= and
 * used + Margin, the budget, the per-guest and host rates (larger in
 * critical), give-back to short guests first, skipped small changes,
 * Target= overrides (below Floor=, never below used + Margin), guests
 * without trustworthy statistics, guests that do not follow and Balloon=no. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "daemon/conf.h"
#include "mem/guest.h"
#include "mem/plan.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define SEC (INT64_C(1000000))
#define NOW (1000 * SEC)

static VsConf *conf;

static int setup(void **state)
{
	conf = vs_conf_new_default();
	return 0;
}

static int teardown(void **state)
{
	vs_conf_free(conf);
	return 0;
}

/* A guest of @cur MiB (maximum @max MiB) that uses @used MiB by trusted
 * statistics, with the default policy. */
static VsMemGuest guest(const char *name, uint64_t cur, uint64_t max, uint64_t used)
{
	VsMemGuest g = { 0 };
	VsDomain dom = { .name = (char *)name, .mem_current = cur * MiB, .mem_max = max * MiB };

	g_snprintf(dom.uuid, sizeof(dom.uuid), "00000000-0000-0000-0000-%012x", g_str_hash(name));
	vs_mem_guest_init(&g, &dom, NULL, NULL);
	g.stats.trusted = true;
	g.stats.flags = 0;
	g.stats.problem[0] = '\0';
	g.stats.used = used * MiB;
	g.stats.usable = (cur - used) * MiB;
	g.stats.have_last_used = true;
	g.stats.last_used = used * MiB;
	return g;
}

static VsMemPlan *plan(VsMemState st, uint64_t total, uint64_t avail, VsMemGuest *gs, guint n)
{
	VsMemPlanInput in = { .now_us = NOW, .last_plan_us = NOW - SEC, .state = st,
			      .mem_total = total, .mem_available = avail, .conf = &conf->mem,
			      .guests = gs, .n_guests = n };
	VsMemPlan *p = NULL;

	assert_int_equal(vs_mem_plan(&in, &p), 0);
	assert_non_null(p);
	return p;
}

static const VsMemDecision *dec(const VsMemPlan *p, guint i)
{
	return &g_array_index(p->decisions, VsMemDecision, i);
}

/* Checks the invariants every decision must keep. */
static void check_invariants(const VsMemPlan *p, const VsMemGuest *gs)
{
	for (guint i = 0; i < p->decisions->len; i++) {
		const VsMemDecision *d = dec(p, i);
		uint64_t step = d->target > d->current ? d->target - d->current : d->current - d->target;

		assert_true(d->target <= gs[i].maximum);
		assert_true(d->reason && d->reason[0]);
		if (d->action == VS_MEM_SHRINK)
			assert_true(d->target >= d->low);
		if (d->action == VS_MEM_HOLD)
			assert_int_equal(d->target, d->current);
		assert_true(step <= (uint64_t)((double)gs[i].max_step_per_s * conf->mem.critical_step_factor));
	}
}

static void test_reclaim_order_idle_tax(void **state)
{
	/* Same shares and size; "idle" uses little, so with the idle tax
	 * its pages are cheap: it gives first. */
	VsMemGuest gs[] = {
		guest("busy", 4096, 4096, 3500),
		guest("idle", 4096, 4096, 500),
	};
	g_autoptr(VsMemPlan) p = NULL;

	conf->mem.host_step_per_s = 200 * MiB;
	p = plan(VS_MEM_HARD, 100 * GiB, 5 * GiB, gs, 2);
	conf->mem.host_step_per_s = GiB;
	check_invariants(p, gs);
	assert_true(dec(p, 1)->shares_per_page < dec(p, 0)->shares_per_page);
	assert_int_equal(dec(p, 1)->action, VS_MEM_SHRINK);
	assert_int_equal(dec(p, 1)->target, (4096 - 200) * MiB);
	assert_int_equal(dec(p, 0)->action, VS_MEM_HOLD);
	assert_non_null(strstr(dec(p, 0)->reason, "covered by guests with fewer shares"));
	assert_non_null(strstr(dec(p, 1)->reason, "rank 1 of 2"));
	assert_int_equal(p->reclaimed, 200 * MiB);

	/* With equal use, shares decide: fewer shares, first in line. */
	gs[0] = guest("big-shares", 4096, 4096, 500);
	gs[0].shares = 4000;
	gs[1] = guest("small-shares", 4096, 4096, 500);
	vs_mem_plan_free(p);
	p = plan(VS_MEM_HARD, 100 * GiB, 5 * GiB, gs, 2);
	assert_int_equal(dec(p, 0)->action, VS_MEM_SHRINK); /* only a rate's worth left each */
	assert_true(dec(p, 1)->current - dec(p, 1)->target >= dec(p, 0)->current - dec(p, 0)->target);
	assert_true(dec(p, 1)->shares_per_page < dec(p, 0)->shares_per_page);
}

static void test_idle_tax_rate(void **state)
{
	VsMemGuest a = guest("a", 4096, 4096, 1024);
	VsMemGuest b = guest("b", 4096, 4096, 1024);
	g_autoptr(VsMemPlan) p = NULL;
	VsMemGuest gs[2];

	a.idle_tax = 0;     /* 1000 shares / 4096 MiB */
	b.idle_tax = 0.75;  /* 1000 / (1024 + 3072 * 4) MiB */
	gs[0] = a;
	gs[1] = b;
	p = plan(VS_MEM_NORMAL, 100 * GiB, 90 * GiB, gs, 2);
	assert_float_equal(dec(p, 0)->shares_per_page, 1000.0 / 4096, 1e-9);
	assert_float_equal(dec(p, 1)->shares_per_page, 1000.0 / (1024 + 3072 * 4), 1e-9);
}

static void test_floor_and_margin(void **state)
{
	VsMemGuest gs[] = {
		guest("floored", 1024, 1024, 100),
		guest("margin", 1024, 1024, 900),
	};
	g_autoptr(VsMemPlan) p = NULL;

	gs[0].floor = 900 * MiB;
	p = plan(VS_MEM_CRITICAL, 100 * GiB, 1 * GiB, gs, 2);
	check_invariants(p, gs);
	assert_int_equal(dec(p, 0)->low, 900 * MiB);
	assert_int_equal(dec(p, 0)->target, 900 * MiB);
	assert_non_null(strstr(dec(p, 0)->reason, "Floor=900.0 MiB"));
	/* 900 used + 128 Margin > 1024: nothing to give. */
	assert_int_equal(dec(p, 1)->low, 1024 * MiB);
	assert_int_equal(dec(p, 1)->action, VS_MEM_HOLD);
	assert_non_null(strstr(dec(p, 1)->reason, "At its lower bound"));
}

static void test_budget(void **state)
{
	/* Three 512 MiB guests using 150 MiB each, a 1 GiB budget, host idle. */
	VsMemGuest gs[] = {
		guest("a", 512, 512, 150), guest("b", 512, 512, 150), guest("c", 512, 512, 150),
	};
	g_autoptr(VsMemPlan) p = NULL;
	int64_t t = NOW;

	conf->mem.budget = GiB;
	for (int round = 0; round < 10; round++) {
		VsMemPlanInput in = { .now_us = t, .last_plan_us = t - SEC, .state = VS_MEM_SOFT,
				      .mem_total = 100 * GiB, .mem_available = 90 * GiB,
				      .conf = &conf->mem, .guests = gs, .n_guests = 3 };

		vs_mem_plan_free(p);
		p = NULL;
		assert_int_equal(vs_mem_plan(&in, &p), 0);
		check_invariants(p, gs);
		for (guint i = 0; i < 3; i++) {
			assert_true(dec(p, i)->target >= 278 * MiB);
			gs[i].current = dec(p, i)->target;  /* the balloon follows */
			if (dec(p, i)->action != VS_MEM_HOLD) {
				gs[i].last_target = dec(p, i)->target;
				gs[i].last_target_us = t;
			}
		}
		t += SEC;
	}
	assert_true(p->targets_sum <= GiB);
	assert_true(p->targets_sum >= GiB - conf->mem.min_change);

	/* Over the budget by less than MemoryMinChange=: the budget is a
	 * limit, so even so small a step is taken (seen on real guests: the
	 * targets stayed 9 MiB over). */
	{
		uint64_t sum = 0;

		for (guint i = 0; i < 3; i++)
			sum += gs[i].current;
		conf->mem.budget = sum - 9 * MiB;
		VsMemPlanInput in = { .now_us = t, .last_plan_us = t - SEC, .state = VS_MEM_NORMAL,
				      .mem_total = 100 * GiB, .mem_available = 90 * GiB,
				      .conf = &conf->mem, .guests = gs, .n_guests = 3 };

		vs_mem_plan_free(p);
		p = NULL;
		assert_int_equal(vs_mem_plan(&in, &p), 0);
		check_invariants(p, gs);
		assert_true(p->targets_sum <= conf->mem.budget);
		t += SEC;
	}

	/* The budget is lifted and the host is normal: memory goes back. */
	conf->mem.budget = 0;
	for (int round = 0; round < 10; round++) {
		VsMemPlanInput in = { .now_us = t, .last_plan_us = t - SEC, .state = VS_MEM_NORMAL,
				      .mem_total = 100 * GiB, .mem_available = 90 * GiB,
				      .conf = &conf->mem, .guests = gs, .n_guests = 3 };

		vs_mem_plan_free(p);
		p = NULL;
		assert_int_equal(vs_mem_plan(&in, &p), 0);
		for (guint i = 0; i < 3; i++) {
			gs[i].current = dec(p, i)->target;
			gs[i].last_target_us = t;
		}
		t += SEC;
	}
	for (guint i = 0; i < 3; i++)
		assert_int_equal(gs[i].current, 512 * MiB);
}

static void test_rates(void **state)
{
	VsMemGuest gs[] = {
		guest("a", 8192, 8192, 100), guest("b", 8192, 8192, 100),
		guest("c", 8192, 8192, 100), guest("d", 8192, 8192, 100),
		guest("e", 8192, 8192, 100), guest("f", 8192, 8192, 100),
	};
	g_autoptr(VsMemPlan) p = NULL;

	/* Hard: each gives at most 256M (MaxStepPerSecond), the host at most 1G. */
	p = plan(VS_MEM_HARD, 100 * GiB, 5 * GiB, gs, 6);
	check_invariants(p, gs);
	assert_int_equal(p->reclaimed, GiB);
	for (guint i = 0; i < 4; i++)
		assert_int_equal(dec(p, i)->target, (8192 - 256) * MiB);
	assert_int_equal(dec(p, 4)->action, VS_MEM_HOLD);
	/* Critical: times 4 (MemoryCriticalStepFactor). */
	vs_mem_plan_free(p);
	p = plan(VS_MEM_CRITICAL, 100 * GiB, 3 * GiB, gs, 6);
	check_invariants(p, gs);
	assert_int_equal(p->reclaimed, 4 * GiB);
	assert_int_equal(dec(p, 0)->target, (8192 - 1024) * MiB);
	assert_non_null(strstr(p->summary, "critical"));
	/* A guest changed 100 ms ago gets a tenth of its step. */
	gs[0].last_target_us = NOW - SEC / 10;
	vs_mem_plan_free(p);
	p = plan(VS_MEM_HARD, 100 * GiB, 5 * GiB, gs, 6);
	assert_int_equal(dec(p, 0)->current - dec(p, 0)->target, (uint64_t)(256 * MiB / 10));
}

static void test_give_back_short_first(void **state)
{
	VsMemGuest gs[] = {
		guest("comfortable", 1024, 4096, 200),
		guest("faulting", 1024, 4096, 200),
		guest("tight", 1024, 4096, 1000),
	};
	g_autoptr(VsMemPlan) p = NULL;

	gs[1].stats.have_deltas = true;
	gs[1].stats.major_faults_delta = 5000;
	/* The host has room for 300 MiB above the soft exit line (25 GiB of 100). */
	p = plan(VS_MEM_NORMAL, 100 * GiB, 25 * GiB + 300 * MiB, gs, 3);
	check_invariants(p, gs);
	assert_true(dec(p, 1)->short_of_memory);
	assert_true(dec(p, 2)->short_of_memory);
	assert_false(dec(p, 0)->short_of_memory);
	assert_int_equal(dec(p, 1)->target, (1024 + 256) * MiB);
	/* "tight" is first raised to used + Margin (1128 MiB, outside the
	 * pool: a bound), then gets the 44 MiB left of the pool. */
	assert_int_equal(dec(p, 2)->target, (1128 + 44) * MiB);
	assert_non_null(strstr(dec(p, 2)->reason, "Below its lower bound"));
	assert_int_equal(dec(p, 0)->action, VS_MEM_HOLD);
	assert_non_null(strstr(dec(p, 1)->reason, "short of memory: first"));
	assert_int_equal(p->given, 300 * MiB);
}

static void test_small_changes_skipped(void **state)
{
	VsMemGuest gs[] = { guest("a", 1024, 4096, 200) };
	g_autoptr(VsMemPlan) p = NULL;

	/* 10 MiB of room: below MemoryMinChange=16M. */
	p = plan(VS_MEM_NORMAL, 100 * GiB, 25 * GiB + 10 * MiB, gs, 1);
	assert_int_equal(dec(p, 0)->action, VS_MEM_HOLD);
	assert_non_null(strstr(dec(p, 0)->reason, "below MemoryMinChange"));
	/* 10 MiB that reach the maximum are made. */
	gs[0].current = 4086 * MiB;
	vs_mem_plan_free(p);
	p = plan(VS_MEM_NORMAL, 100 * GiB, 25 * GiB + 10 * MiB, gs, 1);
	assert_int_equal(dec(p, 0)->action, VS_MEM_GROW);
	assert_int_equal(dec(p, 0)->target, 4096 * MiB);
}

static void test_override(void **state)
{
	VsMemGuest gs[] = {
		guest("under-floor", 2048, 2048, 300),
		guest("under-use", 2048, 2048, 1500),
		guest("above-max", 1024, 2048, 300),
	};
	g_autoptr(VsMemPlan) p = NULL;
	uint64_t low, high;
	char why[192];

	for (guint i = 0; i < 3; i++) {
		gs[i].has_override = true;
		gs[i].floor = 1024 * MiB;
		g_strlcpy(gs[i].override_origin, "override ov-1", sizeof(gs[i].override_origin));
	}
	gs[0].override_target = 512 * MiB;   /* below Floor=: allowed, 300 + 128 < 512 */
	gs[1].override_target = 512 * MiB;   /* below 1500 + 128: clamped */
	gs[2].override_target = 4096 * MiB;  /* above the maximum: clamped */
	gs[0].max_step_per_s = 4 * GiB;
	gs[1].max_step_per_s = 4 * GiB;
	gs[2].max_step_per_s = 4 * GiB;
	/* Even in normal with room, an override holds its target. */
	p = plan(VS_MEM_NORMAL, 100 * GiB, 90 * GiB, gs, 3);
	assert_int_equal(dec(p, 0)->target, 512 * MiB);
	assert_non_null(strstr(dec(p, 0)->reason, "set by override ov-1"));
	assert_int_equal(dec(p, 1)->target, (1500 + 128) * MiB);
	assert_non_null(strstr(dec(p, 1)->reason, "Clamped"));
	assert_int_equal(dec(p, 2)->target, 2048 * MiB);

	vs_mem_plan_bounds(&gs[1], true, &low, &high, why, sizeof(why));
	assert_int_equal(low, (1500 + 128) * MiB);
	assert_int_equal(high, 2048 * MiB);
	/* Without statistics ever: the Floor= for an override. */
	gs[1].stats.trusted = false;
	gs[1].stats.have_last_used = false;
	vs_mem_plan_bounds(&gs[1], true, &low, &high, why, sizeof(why));
	assert_int_equal(low, 1024 * MiB);
	gs[1].floor = 0;
	vs_mem_plan_bounds(&gs[1], true, &low, &high, why, sizeof(why));
	assert_int_equal(low, 0);
}

static void test_untrusted(void **state)
{
	VsMemGuest gs[] = {
		guest("last-trusted", 2048, 2048, 1000),
		guest("never-trusted", 2048, 2048, 0),
		guest("never-floored", 2048, 2048, 0),
	};
	g_autoptr(VsMemPlan) p = NULL;

	/* Stale now; 1000 MiB used when last trustworthy. */
	gs[0].stats.trusted = false;
	gs[0].stats.flags = VS_MEM_STATS_STALE;
	g_strlcpy(gs[0].stats.problem, "Statistics have not been updated for 9s.",
		  sizeof(gs[0].stats.problem));
	/* Hostile numbers that claim nothing is used, never trusted. */
	for (guint i = 1; i < 3; i++) {
		gs[i].stats.trusted = false;
		gs[i].stats.have_last_used = false;
		gs[i].stats.flags = VS_MEM_STATS_IMPOSSIBLE;
	}
	gs[1].floor = 1536 * MiB;
	conf->mem.host_step_per_s = 16 * GiB;
	for (guint i = 0; i < 3; i++)
		gs[i].max_step_per_s = 4 * GiB;
	p = plan(VS_MEM_CRITICAL, 100 * GiB, 1 * GiB, gs, 3);
	conf->mem.host_step_per_s = GiB;
	check_invariants(p, gs);
	assert_int_equal(dec(p, 0)->target, (1000 + 128) * MiB);
	assert_non_null(strstr(dec(p, 0)->reason, "last trustworthy"));
	assert_non_null(strstr(dec(p, 0)->reason, "not been updated"));
	assert_int_equal(dec(p, 1)->target, 1536 * MiB);
	assert_int_equal(dec(p, 2)->action, VS_MEM_HOLD);
	assert_non_null(strstr(dec(p, 2)->reason, "no trustworthy statistics yet and no Floor="));
}

static void test_not_following_and_unmanaged(void **state)
{
	VsMemGuest gs[] = {
		guest("stuck", 4096, 4096, 100),
		guest("off", 4096, 4096, 100),
		guest("other", 4096, 4096, 3000),
	};
	g_autoptr(VsMemPlan) p = NULL;

	gs[0].not_following = true;
	gs[0].not_following_why = "balloon at 4.0 GiB for 30s after target 3.0 GiB";
	gs[1].balloon = false;
	conf->mem.budget = 10 * GiB;
	p = plan(VS_MEM_NORMAL, 100 * GiB, 90 * GiB, gs, 3);
	conf->mem.budget = 0;
	/* 12 GiB held, 2 GiB over: the movable guest gives its step. */
	assert_int_equal(dec(p, 0)->action, VS_MEM_HOLD);
	assert_non_null(strstr(dec(p, 0)->reason, "the other guests give its share"));
	assert_non_null(strstr(dec(p, 0)->reason, "after target 3.0 GiB"));
	assert_int_equal(dec(p, 1)->action, VS_MEM_HOLD);
	assert_non_null(strstr(dec(p, 1)->reason, "Balloon=no"));
	assert_int_equal(dec(p, 2)->action, VS_MEM_SHRINK);
	assert_int_equal(dec(p, 2)->target, (4096 - 256) * MiB);
	assert_int_equal(p->reclaim_goal, GiB); /* 2 GiB over, the host rate allows 1 */
}

static void test_below_bound_grows(void **state)
{
	VsMemGuest gs[] = { guest("raised", 1024, 4096, 200) };
	g_autoptr(VsMemPlan) p = NULL;

	gs[0].floor = 2048 * MiB;
	p = plan(VS_MEM_CRITICAL, 100 * GiB, GiB, gs, 1);
	assert_int_equal(dec(p, 0)->action, VS_MEM_GROW);
	assert_int_equal(dec(p, 0)->target, 2048 * MiB); /* 1 GiB: critical step 4 x 256M */
	assert_non_null(strstr(dec(p, 0)->reason, "Below its lower bound"));
}

static void test_guest_from_policy(void **state)
{
	static const char text[] = "[Memory]\nFloor=1G\nShares=300\nIdleTax=50%\nMargin=64M\n"
				   "MaxStepPerSecond=32M\n";
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicyFile) f = vs_policy_file_parse("/p/10-x.policy", text, diags);
	g_autoptr(VsPolicySet) set = g_new0(VsPolicySet, 1);
	g_autoptr(VsOverrides) ov = vs_overrides_new();
	g_autoptr(VsEffectivePolicy) e = NULL;
	g_autoptr(VsDomain) dom = vs_domain_new("x", 1);
	const char *assign[] = { "Target=700M", NULL };
	VsMemGuest g;

	assert_non_null(f);
	set->files = g_ptr_array_new_with_free_func((GDestroyNotify)vs_policy_file_free);
	g_ptr_array_add(set->files, g_steal_pointer(&f));
	g_strlcpy(dom->uuid, "11111111-2222-3333-4444-555555555555", sizeof(dom->uuid));
	dom->mem_current = GiB;
	dom->mem_max = 2 * GiB;
	assert_int_equal(vs_overrides_set(ov, dom->uuid, "x", assign, 0, 0, diags), 1);
	e = vs_policy_effective(set, ov, "x", dom->uuid, NULL, 0);
	vs_mem_guest_init(&g, dom, e, NULL);
	assert_true(g.balloon);
	assert_int_equal(g.floor, GiB);
	assert_int_equal(g.shares, 300);
	assert_float_equal(g.idle_tax, 0.5, 1e-9);
	assert_int_equal(g.margin, 64 * MiB);
	assert_int_equal(g.max_step_per_s, 32 * MiB);
	assert_true(g.has_override);
	assert_int_equal(g.override_target, 700 * MiB);
	assert_string_equal(g.override_origin, "override ov-1");
	assert_true(g.stats.flags & VS_MEM_STATS_MISSING);
	assert_false(g.stats.trusted);
	/* Without a policy: the key table's defaults. */
	vs_mem_guest_init(&g, dom, NULL, NULL);
	assert_int_equal(g.shares, 1000);
	assert_int_equal(g.margin, 128 * MiB);
	assert_int_equal(g.max_step_per_s, 256 * MiB);
	assert_float_equal(g.idle_tax, 0.75, 1e-9);
	assert_int_equal(g.floor, 0);
	assert_false(g.has_override);
}

static void test_bad_input(void **state)
{
	VsMemPlanInput in = { .now_us = NOW, .conf = NULL };
	VsMemPlan *p = (VsMemPlan *)&in; /* must stay untouched */

	assert_int_equal(vs_mem_plan(&in, &p), -EINVAL);
	assert_ptr_equal(p, &in);
	in.conf = &conf->mem;
	in.n_guests = 2;
	assert_int_equal(vs_mem_plan(&in, &p), -EINVAL);
	in.n_guests = 0;
	assert_int_equal(vs_mem_plan(&in, &p), 0);
	assert_int_equal(p->decisions->len, 0);
	vs_mem_plan_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reclaim_order_idle_tax),
		cmocka_unit_test(test_idle_tax_rate),
		cmocka_unit_test(test_floor_and_margin),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_give_back_short_first),
		cmocka_unit_test(test_small_changes_skipped),
		cmocka_unit_test(test_override),
		cmocka_unit_test(test_untrusted),
		cmocka_unit_test(test_not_following_and_unmanaged),
		cmocka_unit_test(test_below_bound_grows),
		cmocka_unit_test(test_guest_from_policy),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
