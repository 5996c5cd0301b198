/* Unit tests of the hotplug planner (src/hotplug/plan.c): decision
 * sequences over simulated time for a busy, an idle, a contended and a
 * flapping guest, the cooldown and the hysteresis after a change, bounds
 * clamped to the domain's maximum, the VCPUs= override, pending operations
 * and the back-off after a failure, figures per online CPU for the agent
 * method, the agent's choice of guest CPUs (src/virt/vcpus.c), and the
 * verdicts on an ACPI change in flight (done, done while libvirt's count
 * lags behind QEMU's threads, refused, ignored by the guest). The
 * policies are parsed from text, as an operator writes them. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "hotplug/plan.h"
#include "steal/condition.h"
#include "virt/vcpus.h"

#define SEC (INT64_C(1000000))
#define NS_SEC (UINT64_C(1000000000))
#define UUID "6c3b9ad2-54d1-4b0e-8a3e-3f1c2f8e9a01"
#define T0 (INT64_C(1000) * SEC)

/* A policy set of one file that matches every guest: [Hotplug] + @keys
 * (and Enable=yes unless @keys says otherwise). */
static VsPolicySet *policies(const char *keys)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autofree char *text = g_strdup_printf("[Hotplug]\n%s%s",
						strstr(keys, "Enable=") ? "" : "Enable=yes\n", keys);
	VsPolicySet *set = g_new0(VsPolicySet, 1);
	VsPolicyFile *f = vs_policy_file_parse("t.policy", text, diags);

	for (guint i = 0; i < diags->len; i++)
		print_error("%s\n", ((VsPolicyDiag *)g_ptr_array_index(diags, i))->message);
	assert_non_null(f);
	set->files = g_ptr_array_new_with_free_func((GDestroyNotify)vs_policy_file_free);
	g_ptr_array_add(set->files, f);
	return set;
}

/* One simulated guest: its count, its series of 1 s intervals and what
 * vsched did to it. */
typedef struct Sim {
	VsPolicySet *set;
	VsOverrides *overrides;
	VsStealSeries *series;
	guint vcpus, domain_max;
	int64_t now, last_change;
	guint owed;
	GString *log;                 /* "t=3 1>2 scale-up; ..." */
	char *reason;                 /* the last decision's */
} Sim;

static Sim *sim_new(const char *keys, guint vcpus, guint domain_max)
{
	Sim *s = g_new0(Sim, 1);

	s->set = policies(keys);
	s->overrides = vs_overrides_new();
	s->series = vs_steal_series_new();
	s->vcpus = vcpus;
	s->domain_max = domain_max;
	s->now = T0;
	s->log = g_string_new(NULL);
	return s;
}

static void sim_free(Sim *s)
{
	vs_policy_set_free(s->set);
	vs_overrides_free(s->overrides);
	vs_steal_series_free(s->series);
	g_string_free(s->log, TRUE);
	g_free(s->reason);
	g_free(s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Sim, sim_free)

/* One second at @cpu % run time and @contention % contention steal per
 * vCPU, then one planning pass; a decision is carried out at once. */
static void sim_second(Sim *s, double cpu, double contention)
{
	g_autoptr(VsEffectivePolicy) eff = NULL;
	VsStealPoint p = { 0 };
	VsHotplugPolicy pol;
	VsHotplugSignals sig;
	VsHotplugDecision d;
	VsHotplugInput in;

	s->now += SEC;
	p.end_us = s->now;
	p.span_ns = NS_SEC;
	p.wall_ns = NS_SEC * s->vcpus;
	p.run_ns = (uint64_t)(cpu / 100.0 * (double)p.wall_ns);
	p.contention_ns = (uint64_t)(contention / 100.0 * (double)p.wall_ns);
	p.steal_ns = p.contention_ns;
	p.n = s->vcpus;
	assert_true(vs_steal_series_push(s->series, &p));

	eff = vs_policy_effective(s->set, s->overrides, "g", UUID, NULL, s->now);
	vs_hotplug_policy_from(eff, &pol);
	vs_hotplug_signals(&pol, s->series, s->vcpus, s->vcpus, &sig);
	in = (VsHotplugInput){ .policy = &pol, .domain_max = s->domain_max, .current = s->vcpus,
			       .signals = &sig, .now_us = s->now, .last_change_us = s->last_change,
			       .contention_owed = s->owed };
	vs_hotplug_plan(&in, &d);
	assert_non_null(d.reason);
	g_free(s->reason);
	s->reason = d.reason;
	if (d.kind == VS_HOTPLUG_NONE)
		return;
	assert_int_not_equal(d.target, s->vcpus);
	g_string_append_printf(s->log, "%st=%" G_GINT64_FORMAT " %u>%u %s", s->log->len ? "; " : "",
			       (s->now - T0) / SEC, s->vcpus, d.target, vs_hotplug_kind_name(d.kind));
	s->owed = vs_hotplug_owed_after(d.kind, s->vcpus, d.target, s->owed);
	s->vcpus = d.target;
	s->last_change = s->now;
}

static void sim_run(Sim *s, int seconds, double cpu, double contention)
{
	for (int i = 0; i < seconds; i++)
		sim_second(s, cpu, contention);
}

#define FAST "ScaleUp=cpu>80% for 3s\nScaleDown=cpu<20% for 5s\n" \
	     "ContentionDown=steal.contention>30% for 4s\nCooldown=5s\n"

static void test_busy_scales_up_step_by_step(void **state)
{
	g_autoptr(Sim) s = sim_new(FAST, 1, 4);

	/* Up as soon as the condition held 3 s; then each step needs the
	 * cooldown (5 s) and the condition held again after the change. */
	sim_run(s, 30, 95, 0);
	assert_string_equal(s->log->str, "t=3 1>2 scale-up; t=8 2>3 scale-up; t=13 3>4 scale-up");
	assert_int_equal(s->vcpus, 4);
	assert_non_null(strstr(s->reason, "4 vCPUs, the maximum; ScaleUp holds"));
}

static void test_idle_scales_down_to_min(void **state)
{
	g_autoptr(Sim) s = sim_new(FAST "MinVCPUs=2\nStep=2\n", 8, 8);

	sim_run(s, 30, 3, 0);
	assert_string_equal(s->log->str, "t=5 8>6 scale-down; t=10 6>4 scale-down; "
					 "t=15 4>2 scale-down");
	assert_non_null(strstr(s->reason, "2 vCPUs, the minimum; ScaleDown"));
}

static void test_contention_down_then_restore(void **state)
{
	g_autoptr(Sim) s = sim_new(FAST, 4, 4);

	/* Busy but contended: ContentionDown wins over ScaleUp. */
	sim_run(s, 12, 95, 50);
	assert_string_equal(s->log->str, "t=4 4>3 contention-down; t=9 3>2 contention-down");
	assert_int_equal(s->owed, 2);
	/* Contention dips for a second: not clear yet, and ScaleUp (which
	 * holds) must not fight it. */
	sim_run(s, 1, 95, 5);
	sim_run(s, 1, 95, 50);
	sim_run(s, 3, 95, 5);
	assert_int_equal(s->vcpus, 2);
	assert_non_null(strstr(s->reason, "removed for contention come back"));
	/* Clear for its duration (4 s): given back, one step at a time. */
	sim_run(s, 12, 95, 5);
	assert_string_equal(s->log->str, "t=4 4>3 contention-down; t=9 3>2 contention-down; "
					 "t=18 2>3 scale-up; t=23 3>4 scale-up");
	assert_int_equal(s->owed, 0);
}

static void test_contention_restore_without_load(void **state)
{
	g_autoptr(Sim) s = sim_new(FAST, 3, 4);

	sim_run(s, 5, 50, 50);
	assert_string_equal(s->log->str, "t=4 3>2 contention-down");
	/* Neither busy nor idle once it clears: the vCPU comes back. */
	sim_run(s, 6, 50, 0);
	assert_string_equal(s->log->str, "t=4 3>2 contention-down; t=9 2>3 contention-restore");
	assert_int_equal(s->owed, 0);
	/* Idle later: a step down forgets what was owed. */
	sim_run(s, 10, 5, 0);
	assert_int_equal(s->vcpus, 1);
	assert_int_equal(s->owed, 0);
}

static void test_flapping_does_nothing(void **state)
{
	g_autoptr(Sim) s = sim_new(FAST, 2, 4);

	for (int i = 0; i < 30; i++)
		sim_run(s, 1, i % 2 ? 95 : 5, i % 3 ? 60 : 0);
	assert_string_equal(s->log->str, "");
	assert_non_null(strstr(s->reason, "no condition holds"));
}

static void test_cooldown_and_hysteresis(void **state)
{
	g_autoptr(Sim) s = sim_new("ScaleUp=cpu>80% for 2s\nScaleDown=cpu<20% for 2s\n"
				   "Cooldown=10s\n", 1, 4);

	sim_run(s, 2, 95, 0);
	assert_string_equal(s->log->str, "t=2 1>2 scale-up");
	/* Idle right after: the cooldown holds it. */
	sim_run(s, 9, 5, 0);
	assert_int_equal(s->vcpus, 2);
	assert_non_null(strstr(s->reason, "cooldown, 1s left"));
	sim_run(s, 1, 5, 0);
	assert_string_equal(s->log->str, "t=2 1>2 scale-up; t=12 2>1 scale-down");
}

static void test_hysteresis_needs_figures_after_change(void **state)
{
	/* Cooldown shorter than the condition: the figures measured with the
	 * old count do not count. */
	g_autoptr(Sim) s = sim_new("ScaleUp=cpu>80% for 5s\nCooldown=1s\n", 1, 4);

	sim_run(s, 5, 95, 0);
	assert_string_equal(s->log->str, "t=5 1>2 scale-up");
	sim_run(s, 4, 95, 0);
	assert_int_equal(s->vcpus, 2);
	sim_run(s, 1, 95, 0);
	assert_string_equal(s->log->str, "t=5 1>2 scale-up; t=10 2>3 scale-up");
}

static void test_bounds(void **state)
{
	g_autoptr(Sim) low = sim_new(FAST "MinVCPUs=2\nMaxVCPUs=16\n", 1, 4);
	g_autoptr(Sim) high = sim_new(FAST "MaxVCPUs=2\n", 4, 4);
	VsHotplugPolicy p = { .min_vcpus = 6, .max_vcpus = 2 };
	guint lo, hi;

	/* At once, without waiting for a condition. */
	sim_run(low, 1, 50, 0);
	assert_string_equal(low->log->str, "t=1 1>2 bounds");
	assert_non_null(strstr(low->reason, "1 is outside 2..4"));
	/* MaxVCPUs=16 is clamped to the domain's 4. */
	sim_run(low, 30, 95, 0);
	assert_int_equal(low->vcpus, 4);
	sim_run(high, 1, 95, 0);
	assert_string_equal(high->log->str, "t=1 4>2 bounds");
	/* Min above the domain's maximum: both clamp. */
	vs_hotplug_bounds(&p, 4, &lo, &hi);
	assert_int_equal(lo, 4);
	assert_int_equal(hi, 4);
	p.min_vcpus = 1;
	p.max_vcpus = 0;
	vs_hotplug_bounds(&p, 3, &lo, &hi);
	assert_int_equal(lo, 1);
	assert_int_equal(hi, 3);
}

static void test_override_wins(void **state)
{
	g_autoptr(Sim) s = sim_new(FAST, 1, 4);
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	const char *set3[] = { "Hotplug.VCPUs=3", NULL };
	const char *set9[] = { "VCPUs=9", NULL };

	sim_run(s, 3, 95, 0);
	assert_int_equal(s->vcpus, 2);
	/* Straight to its count, cooldown or not, busy or not. */
	assert_int_equal(vs_overrides_set(s->overrides, UUID, "g", set3, s->now, 10 * SEC, diags), 1);
	sim_run(s, 1, 95, 0);
	assert_int_equal(s->vcpus, 3);
	sim_run(s, 5, 2, 0);
	assert_int_equal(s->vcpus, 3);
	assert_non_null(strstr(s->reason, "3 vCPUs as VCPUs=3 says (override ov-"));
	/* Expired: the conditions decide again (idle: down). */
	sim_run(s, 10, 2, 0);
	assert_true(s->vcpus < 3);
	/* Above the domain's maximum: clamped, and the reason says so. */
	assert_int_equal(vs_overrides_set(s->overrides, UUID, "g", set9, s->now, 0, diags), 1);
	sim_run(s, 1, 50, 0);
	assert_int_equal(s->vcpus, 4);
	assert_non_null(strstr(g_strrstr(s->log->str, "t="), "override"));
	sim_run(s, 1, 50, 0);
	assert_non_null(strstr(s->reason, "clamped to the domain's maximum 4"));
}

/* Plans once with everything wanting a scale-up but @pending/@backoff. */
static char *plan_blocked(const char *pending, int64_t backoff_until, guint current,
			  VsHotplugKind *ret_kind)
{
	VsHotplugPolicy p = { .enable = true, .min_vcpus = 1, .step = 1, .has_scale_up = true,
			      .scale_up = { .metric = VS_METRIC_CPU, .cmp = VS_CMP_GT,
					    .threshold = 80, .for_us = 3 * SEC },
			      .scale_up_text = "cpu>80% for 3s", .cooldown_us = SEC };
	VsHotplugSignals sig = { .scale_up = true, .contention_clear = true, .cpu_pct = 95 };
	VsHotplugInput in = { .policy = &p, .domain_max = 4, .current = current, .signals = &sig,
			      .now_us = T0, .pending = pending, .backoff_until_us = backoff_until,
			      .backoff_why = "4 → 3 vCPUs (acpi) not done after 30 s",
			      .unknown_why = "agent method: no guest agent answering" };
	VsHotplugDecision d;

	vs_hotplug_plan(&in, &d);
	*ret_kind = d.kind;
	return d.reason;
}

static void test_pending_backoff_unknown(void **state)
{
	VsHotplugKind kind;
	g_autofree char *free_run = plan_blocked(NULL, 0, 1, &kind);
	g_autofree char *pending = NULL;
	g_autofree char *backoff = NULL;
	g_autofree char *passed = NULL;
	g_autofree char *unknown = NULL;

	assert_int_equal(kind, VS_HOTPLUG_SCALE_UP);
	assert_string_equal(free_run, "hotplug: 1 → 2 vCPUs (acpi): ScaleUp=cpu>80% for 3s holds "
				      "(last tick: cpu 95.0%, contention steal 0.0% per vCPU)");
	pending = plan_blocked("1 → 2 vCPUs (acpi, requested 0.4 s ago)", 0, 1, &kind);
	assert_int_equal(kind, VS_HOTPLUG_NONE);
	assert_string_equal(pending, "hotplug: waiting for 1 → 2 vCPUs (acpi, requested 0.4 s ago)");
	backoff = plan_blocked(NULL, T0 + 59 * SEC + 1, 1, &kind);
	assert_int_equal(kind, VS_HOTPLUG_NONE);
	assert_string_equal(backoff, "hotplug: backing off for 60s after: 4 → 3 vCPUs (acpi) not "
				     "done after 30 s");
	passed = plan_blocked(NULL, T0, 1, &kind);
	assert_int_equal(kind, VS_HOTPLUG_SCALE_UP);
	unknown = plan_blocked(NULL, 0, 0, &kind);
	assert_int_equal(kind, VS_HOTPLUG_NONE);
	assert_string_equal(unknown, "hotplug: online vCPU count not known (agent method: no guest "
				     "agent answering)");
	/* 30 s, doubling, at most 30 min: never every tick. */
	assert_int_equal(vs_hotplug_backoff_us(1), 30 * SEC);
	assert_int_equal(vs_hotplug_backoff_us(2), 60 * SEC);
	assert_int_equal(vs_hotplug_backoff_us(4), 240 * SEC);
	assert_int_equal(vs_hotplug_backoff_us(7), 1800 * SEC);
	assert_int_equal(vs_hotplug_backoff_us(1000), 1800 * SEC);
}

static void test_disabled(void **state)
{
	g_autoptr(Sim) s = sim_new("Enable=no\n" FAST, 1, 4);

	sim_run(s, 20, 95, 0);
	assert_string_equal(s->log->str, "");
	assert_string_equal(s->reason, "hotplug: Enable=no");
}

static void test_agent_figures_per_online_cpu(void **state)
{
	g_autoptr(VsPolicySet) set = policies("Method=agent\nScaleUp=cpu>80% for 2s\n");
	g_autoptr(VsOverrides) none = vs_overrides_new();
	g_autoptr(VsEffectivePolicy) eff = vs_policy_effective(set, none, "g", UUID, NULL, T0);
	g_autoptr(VsStealSeries) series = vs_steal_series_new();
	VsHotplugPolicy p;
	VsHotplugSignals sig;

	vs_hotplug_policy_from(eff, &p);
	assert_int_equal(p.method, VS_HOTPLUG_AGENT);
	/* 4 threads, 2 guest CPUs online and busy: 45 % per thread, 90 % per
	 * online CPU. */
	for (int i = 1; i <= 3; i++) {
		VsStealPoint pt = { .end_us = T0 + i * SEC, .span_ns = NS_SEC, .wall_ns = 4 * NS_SEC,
				    .run_ns = 18 * NS_SEC / 10, .n = 4 };

		assert_true(vs_steal_series_push(series, &pt));
	}
	vs_hotplug_signals(&p, series, 4, 2, &sig);
	assert_true(sig.scale_up);
	assert_float_equal(sig.cpu_pct, 90.0, 1e-6);
	vs_hotplug_signals(&p, series, 4, 4, &sig);
	assert_false(sig.scale_up);
	assert_float_equal(sig.cpu_pct, 45.0, 1e-6);
}

static void test_policy_defaults(void **state)
{
	g_autoptr(VsPolicySet) set = policies("");
	g_autoptr(VsOverrides) none = vs_overrides_new();
	g_autoptr(VsEffectivePolicy) eff = vs_policy_effective(set, none, "g", UUID, NULL, T0);
	VsHotplugPolicy p;

	vs_hotplug_policy_from(eff, &p);
	assert_true(p.enable);
	assert_int_equal(p.min_vcpus, 1);
	assert_int_equal(p.max_vcpus, 0);
	assert_int_equal(p.method, VS_HOTPLUG_ACPI);
	assert_int_equal(p.step, 1);
	assert_int_equal(p.cooldown_us, 60 * SEC);
	assert_int_equal(p.vcpus, 0);
	assert_string_equal(p.scale_up_text, "cpu>80% for 30s");
	assert_string_equal(p.scale_down_text, "cpu<20% for 120s");
	assert_string_equal(p.contention_down_text, "steal.contention>20% for 30s");
}

static VsGuestVcpus *guest(const char *all, const char *online, const char *offlinable)
{
	VsGuestVcpus *g = g_new0(VsGuestVcpus, 1);

	g->all = vs_cpuset_parse(all, NULL);
	g->online = vs_cpuset_parse(online, NULL);
	g->offlinable = vs_cpuset_parse(offlinable, NULL);
	return g;
}

static void check_pick(const VsGuestVcpus *g, guint target, const char *want, bool want_online)
{
	bool online = !want_online;
	g_autoptr(VsCpuSet) pick = vs_guest_vcpus_pick(g, target, &online);
	g_autofree char *text = vs_cpuset_format(pick);

	assert_string_equal(text, want);
	assert_true(online == want_online);
}

static void test_agent_pick(void **state)
{
	g_autoptr(VsGuestVcpus) g = guest("0-3", "0-1", "1-3");
	g_autoptr(VsGuestVcpus) pinned = guest("0-3", "0-3", "1");

	check_pick(g, 3, "2", true);
	check_pick(g, 4, "2-3", true);
	check_pick(g, 9, "2-3", true);
	check_pick(g, 1, "1", false);
	check_pick(g, 2, "", true);
	/* Only what the guest says may go offline. */
	check_pick(pinned, 1, "1", false);
	check_pick(pinned, 3, "1", false);
}

/* An ACPI change from @from to @target, @elapsed s after the request. */
static VsHotplugAcpiState acpi(guint from, guint target, guint libvirt, guint threads,
			       bool returned, int r, int elapsed)
{
	VsHotplugAcpiCheck c = {
		.from = from,
		.target = target,
		.libvirt = libvirt,
		.threads = threads,
		.returned = returned,
		.r = r,
		.elapsed_us = elapsed * SEC,
		.timeout_us = 30 * SEC,
	};

	return vs_hotplug_acpi_check(&c);
}

static void test_acpi_check(void **state)
{
	/* A plug: done once libvirt and QEMU both show it. */
	assert_int_equal(acpi(1, 2, 1, 1, false, 0, 1), VS_HOTPLUG_ACPI_WAIT);
	assert_int_equal(acpi(1, 2, 2, 1, true, 0, 1), VS_HOTPLUG_ACPI_WAIT);
	assert_int_equal(acpi(1, 2, 2, 2, true, 0, 1), VS_HOTPLUG_ACPI_DONE);
	assert_int_equal(acpi(1, 2, 1, 1, true, 0, 31), VS_HOTPLUG_ACPI_NOT_DONE);
	/* A plug never counts as done on the threads alone. */
	assert_int_equal(acpi(1, 2, 1, 2, true, -ETIMEDOUT, 31), VS_HOTPLUG_ACPI_NOT_DONE);
	/* An unplug libvirt saw through. */
	assert_int_equal(acpi(4, 3, 3, 3, true, 0, 1), VS_HOTPLUG_ACPI_DONE);
	/* libvirt's wait timed out but QEMU removed the thread: done, with
	 * libvirt behind; not before libvirt returned. */
	assert_int_equal(acpi(4, 3, 4, 3, false, 0, 2), VS_HOTPLUG_ACPI_WAIT);
	assert_int_equal(acpi(4, 3, 4, 3, true, -ETIMEDOUT, 5),
			 VS_HOTPLUG_ACPI_DONE_LIBVIRT_BEHIND);
	/* Already behind before this step (libvirt counts 4, QEMU had 3). */
	assert_int_equal(acpi(3, 2, 4, 2, true, -ETIMEDOUT, 5),
			 VS_HOTPLUG_ACPI_DONE_LIBVIRT_BEHIND);
	/* A guest that ignores the unplug: waited for, then a failure. */
	assert_int_equal(acpi(4, 3, 4, 4, true, -ETIMEDOUT, 5), VS_HOTPLUG_ACPI_WAIT);
	assert_int_equal(acpi(4, 3, 4, 4, true, -ETIMEDOUT, 30), VS_HOTPLUG_ACPI_WAIT);
	assert_int_equal(acpi(4, 3, 4, 4, true, -ETIMEDOUT, 31), VS_HOTPLUG_ACPI_IGNORED);
	/* libvirt never returned and the thread stays. */
	assert_int_equal(acpi(4, 3, 4, 4, false, 0, 31), VS_HOTPLUG_ACPI_IGNORED);
	/* A refusal is final at once, whatever the threads say. */
	assert_int_equal(acpi(4, 3, 4, 4, true, -EIO, 0), VS_HOTPLUG_ACPI_REFUSED);
	assert_int_equal(acpi(1, 2, 1, 1, true, -EIO, 0), VS_HOTPLUG_ACPI_REFUSED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_busy_scales_up_step_by_step),
		cmocka_unit_test(test_idle_scales_down_to_min),
		cmocka_unit_test(test_contention_down_then_restore),
		cmocka_unit_test(test_contention_restore_without_load),
		cmocka_unit_test(test_flapping_does_nothing),
		cmocka_unit_test(test_cooldown_and_hysteresis),
		cmocka_unit_test(test_hysteresis_needs_figures_after_change),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_override_wins),
		cmocka_unit_test(test_pending_backoff_unknown),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_agent_figures_per_online_cpu),
		cmocka_unit_test(test_policy_defaults),
		cmocka_unit_test(test_agent_pick),
		cmocka_unit_test(test_acpi_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
