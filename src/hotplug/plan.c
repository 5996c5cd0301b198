/* The hotplug planner; see plan.h for the order of precedence. */
#include "config.h"

#include "hotplug/plan.h"

#include <errno.h>
#include <string.h>

#include "steal/condition.h"

/* The back-off after a failure: this, doubling per failure, up to the cap. */
#define BACKOFF_FIRST_US (INT64_C(30) * G_USEC_PER_SEC)
#define BACKOFF_MAX_US (INT64_C(1800) * G_USEC_PER_SEC)

const char *vs_hotplug_method_name(VsHotplugMethod m)
{
	return m == VS_HOTPLUG_AGENT ? "agent" : "acpi";
}

const char *vs_hotplug_kind_name(VsHotplugKind k)
{
	switch (k) {
	case VS_HOTPLUG_NONE:
		return "none";
	case VS_HOTPLUG_OVERRIDE:
		return "override";
	case VS_HOTPLUG_BOUNDS:
		return "bounds";
	case VS_HOTPLUG_CONTENTION_DOWN:
		return "contention-down";
	case VS_HOTPLUG_CONTENTION_RESTORE:
		return "contention-restore";
	case VS_HOTPLUG_SCALE_UP:
		return "scale-up";
	case VS_HOTPLUG_SCALE_DOWN:
		return "scale-down";
	}
	return "none";
}

static const VsPolicyValue *value_of(const VsEffectivePolicy *eff, const char *name)
{
	const VsEffectiveEntry *e = vs_effective_get(eff, "Hotplug", name);

	return e ? e->value : NULL;
}

/* Copies the condition @name of @eff into @ret; false when it is unset. */
static bool condition_of(const VsEffectivePolicy *eff, const char *name, VsCondition *ret,
			 const char **ret_text)
{
	const VsPolicyValue *v = value_of(eff, name);

	if (!v || v->type != VS_PTYPE_CONDITION)
		return false;
	*ret = v->cond;
	*ret_text = v->text;
	return true;
}

void vs_hotplug_policy_from(const VsEffectivePolicy *eff, VsHotplugPolicy *ret)
{
	const VsEffectiveEntry *vcpus = vs_effective_get(eff, "Hotplug", "VCPUs");
	const VsPolicyValue *v;
	VsHotplugPolicy p = { .min_vcpus = 1, .step = 1, .cooldown_us = 60 * G_USEC_PER_SEC };

	v = value_of(eff, "Enable");
	p.enable = v && v->b;
	v = value_of(eff, "MinVCPUs");
	if (v)
		p.min_vcpus = (guint)v->i;
	v = value_of(eff, "MaxVCPUs");
	if (v)
		p.max_vcpus = (guint)v->i;
	v = value_of(eff, "Method");
	p.method = v && g_strcmp0(v->str, "agent") == 0 ? VS_HOTPLUG_AGENT : VS_HOTPLUG_ACPI;
	p.has_scale_up = condition_of(eff, "ScaleUp", &p.scale_up, &p.scale_up_text);
	p.has_scale_down = condition_of(eff, "ScaleDown", &p.scale_down, &p.scale_down_text);
	p.has_contention_down = condition_of(eff, "ContentionDown", &p.contention_down,
					     &p.contention_down_text);
	v = value_of(eff, "Cooldown");
	if (v)
		p.cooldown_us = v->us;
	v = value_of(eff, "Step");
	if (v)
		p.step = (guint)v->i;
	if (vcpus && vcpus->value) {
		p.vcpus = (guint)vcpus->value->i;
		p.vcpus_origin = vcpus->origin;
		p.vcpus_from = vcpus->origin == VS_ORIGIN_OVERRIDE ? vcpus->override_id : vcpus->file;
		p.vcpus_line = vcpus->line;
	}
	*ret = p;
}

void vs_hotplug_bounds(const VsHotplugPolicy *p, guint domain_max, guint *ret_min, guint *ret_max)
{
	guint top = MAX(domain_max, 1);
	guint lo = CLAMP(p->min_vcpus, 1, top);
	guint hi = p->max_vcpus ? CLAMP(p->max_vcpus, lo, top) : top;

	*ret_min = lo;
	*ret_max = hi;
}

/* The comparison that fails exactly where @cmp holds. */
static VsCmp invert(VsCmp cmp)
{
	switch (cmp) {
	case VS_CMP_GT:
		return VS_CMP_LE;
	case VS_CMP_GE:
		return VS_CMP_LT;
	case VS_CMP_LT:
		return VS_CMP_GE;
	case VS_CMP_LE:
		return VS_CMP_GT;
	}
	return VS_CMP_LE;
}

/* Whether @c holds, with figures per online CPU: the series divides by
 * every vCPU thread, so the threshold is scaled instead. */
static bool holds_scaled(const VsCondition *c, const VsStealSeries *series, double scale)
{
	VsCondition scaled = *c;

	scaled.threshold = c->threshold * scale;
	return vs_condition_holds(&scaled, series);
}

void vs_hotplug_signals(const VsHotplugPolicy *p, const VsStealSeries *series, guint threads,
			guint online, VsHotplugSignals *ret)
{
	VsHotplugSignals s = { .cpu_pct = -1.0, .contention_pct = -1.0 };
	VsStealPoint newest_point;
	const VsStealPoint *newest =
		series && vs_steal_series_nth_newest(series, 0, &newest_point) ? &newest_point : NULL;
	double scale = 1.0;

	if (!newest) {
		*ret = s;
		return;
	}
	if (threads > 0 && online > 0 && online < threads)
		scale = (double)online / threads;
	s.cpu_pct = vs_condition_metric(newest, VS_METRIC_CPU) / scale;
	s.contention_pct = vs_condition_metric(newest, VS_METRIC_STEAL_CONTENTION) / scale;
	if (p->has_scale_up)
		s.scale_up = holds_scaled(&p->scale_up, series, scale);
	if (p->has_scale_down)
		s.scale_down = holds_scaled(&p->scale_down, series, scale);
	if (p->has_contention_down) {
		VsCondition clear = p->contention_down;

		s.contention_down = holds_scaled(&p->contention_down, series, scale);
		clear.cmp = invert(clear.cmp);
		s.contention_clear = holds_scaled(&clear, series, scale);
	} else {
		s.contention_clear = true;
	}
	*ret = s;
}

guint vs_hotplug_owed_after(VsHotplugKind kind, guint from, guint to, guint owed)
{
	switch (kind) {
	case VS_HOTPLUG_CONTENTION_DOWN:
		return owed + (from > to ? from - to : 0);
	case VS_HOTPLUG_SCALE_DOWN:
		return 0;
	case VS_HOTPLUG_NONE:
		return owed;
	case VS_HOTPLUG_OVERRIDE:
	case VS_HOTPLUG_BOUNDS:
	case VS_HOTPLUG_CONTENTION_RESTORE:
	case VS_HOTPLUG_SCALE_UP:
		break;
	}
	return to > from ? owed - MIN(owed, to - from) : owed;
}

int64_t vs_hotplug_backoff_us(guint failures)
{
	int64_t us = BACKOFF_FIRST_US;

	for (guint i = 1; i < failures && us < BACKOFF_MAX_US; i++)
		us *= 2;
	return MIN(us, BACKOFF_MAX_US);
}

/* "12s" (rounded up) for a reason. */
static char *format_seconds(int64_t us)
{
	return g_strdup_printf("%" G_GINT64_FORMAT "s", (us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
}

/* " (cpu 85.0%, contention steal 3.0% per vCPU)" for a reason. */
static char *format_figures(const VsHotplugSignals *s)
{
	if (s->cpu_pct < 0)
		return g_strdup("");
	return g_strdup_printf(" (last tick: cpu %.1f%%, contention steal %.1f%% per vCPU)",
			       s->cpu_pct, s->contention_pct);
}

/* True when a condition of duration @for_us may count: its whole duration
 * lies after the last change. */
static bool settled(const VsHotplugInput *in, int64_t for_us)
{
	return in->last_change_us == 0 || in->now_us - in->last_change_us >= MAX(for_us, 1);
}

static void decide(VsHotplugDecision *ret, VsHotplugKind kind, guint target, char *reason)
{
	ret->kind = kind;
	ret->target = target;
	ret->reason = reason;
}

void vs_hotplug_plan(const VsHotplugInput *in, VsHotplugDecision *ret)
{
	const VsHotplugPolicy *p = in->policy;
	const VsHotplugSignals *s = in->signals;
	const char *method = vs_hotplug_method_name(p->method);
	guint step = MAX(p->step, 1);
	guint cur = in->current;
	guint lo, hi;
	g_autofree char *figures = NULL;
	bool up, down, contention, clear;

	vs_hotplug_bounds(p, in->domain_max, &lo, &hi);
	if (!p->enable) {
		decide(ret, VS_HOTPLUG_NONE, 0, g_strdup("hotplug: Enable=no"));
		return;
	}
	/* Formatted once a guest's hotplug is on: every guest is planned
	 * every tick. */
	figures = format_figures(s);
	if (in->pending) {
		decide(ret, VS_HOTPLUG_NONE, 0, g_strdup_printf("hotplug: waiting for %s", in->pending));
		return;
	}
	if (in->backoff_until_us > in->now_us) {
		g_autofree char *left = format_seconds(in->backoff_until_us - in->now_us);

		decide(ret, VS_HOTPLUG_NONE, 0,
		       g_strdup_printf("hotplug: backing off for %s after: %s", left,
				       in->backoff_why ? in->backoff_why : "a failure"));
		return;
	}
	if (cur == 0) {
		decide(ret, VS_HOTPLUG_NONE, 0,
		       g_strdup_printf("hotplug: online vCPU count not known (%s)",
				       in->unknown_why ? in->unknown_why : "no figures yet"));
		return;
	}
	if (p->vcpus) {
		guint want = CLAMP(p->vcpus, 1, MAX(in->domain_max, 1));
		g_autofree char *from =
			p->vcpus_origin == VS_ORIGIN_FILE
				? g_strdup_printf("%s:%u", p->vcpus_from, p->vcpus_line)
				: g_strdup_printf("override %s", p->vcpus_from ? p->vcpus_from : "");
		g_autofree char *clamped =
			want != p->vcpus ? g_strdup_printf(", clamped to the domain's maximum %u",
							   in->domain_max)
					 : g_strdup("");

		if (cur == want)
			decide(ret, VS_HOTPLUG_NONE, 0,
			       g_strdup_printf("hotplug: %u vCPUs as VCPUs=%u says (%s%s)", cur,
					       p->vcpus, from, clamped));
		else
			decide(ret, VS_HOTPLUG_OVERRIDE, want,
			       g_strdup_printf("hotplug: %u → %u vCPUs (%s): VCPUs=%u (%s%s)", cur,
					       want, method, p->vcpus, from, clamped));
		return;
	}
	if (cur < lo || cur > hi) {
		guint want = cur < lo ? lo : hi;

		decide(ret, VS_HOTPLUG_BOUNDS, want,
		       g_strdup_printf("hotplug: %u → %u vCPUs (%s): %u is outside %u..%u "
				       "(MinVCPUs..MaxVCPUs within the domain's maximum %u)",
				       cur, want, method, cur, lo, hi, in->domain_max));
		return;
	}
	if (in->last_change_us && in->now_us - in->last_change_us < p->cooldown_us) {
		g_autofree char *left =
			format_seconds(p->cooldown_us - (in->now_us - in->last_change_us));

		decide(ret, VS_HOTPLUG_NONE, 0,
		       g_strdup_printf("hotplug: %u vCPUs; cooldown, %s left%s", cur, left, figures));
		return;
	}
	contention = p->has_contention_down && s->contention_down &&
		     settled(in, p->contention_down.for_us);
	clear = !p->has_contention_down ||
		(s->contention_clear && settled(in, p->contention_down.for_us));
	up = p->has_scale_up && s->scale_up && settled(in, p->scale_up.for_us);
	down = p->has_scale_down && s->scale_down && settled(in, p->scale_down.for_us);

	if (contention) {
		if (cur > lo) {
			guint want = cur - MIN(step, cur - lo);

			decide(ret, VS_HOTPLUG_CONTENTION_DOWN, want,
			       g_strdup_printf("hotplug: %u → %u vCPUs (%s): ContentionDown=%s "
					       "holds%s", cur, want, method, p->contention_down_text,
					       figures));
		} else {
			decide(ret, VS_HOTPLUG_NONE, 0,
			       g_strdup_printf("hotplug: %u vCPUs, the minimum; ContentionDown=%s "
					       "holds%s", cur, p->contention_down_text, figures));
		}
		return;
	}
	if (in->contention_owed > 0 && !clear) {
		decide(ret, VS_HOTPLUG_NONE, 0,
		       g_strdup_printf("hotplug: %u vCPUs; %u removed for contention come back "
				       "once ContentionDown=%s has stayed false for its duration%s",
				       cur, in->contention_owed, p->contention_down_text, figures));
		return;
	}
	if ((up || in->contention_owed > 0) && !down) {
		bool restore = !up;
		guint room = hi - cur;
		guint want = cur + MIN(restore ? MIN(step, in->contention_owed) : step, room);

		if (room == 0) {
			decide(ret, VS_HOTPLUG_NONE, 0,
			       g_strdup_printf("hotplug: %u vCPUs, the maximum%s%s", cur,
					       up ? "; ScaleUp holds" : "", figures));
			return;
		}
		if (restore)
			decide(ret, VS_HOTPLUG_CONTENTION_RESTORE, want,
			       g_strdup_printf("hotplug: %u → %u vCPUs (%s): contention has cleared "
					       "(ContentionDown=%s false for its duration), giving "
					       "back vCPUs removed for it%s", cur, want, method,
					       p->contention_down_text, figures));
		else
			decide(ret, VS_HOTPLUG_SCALE_UP, want,
			       g_strdup_printf("hotplug: %u → %u vCPUs (%s): ScaleUp=%s holds%s", cur,
					       want, method, p->scale_up_text, figures));
		return;
	}
	if (down) {
		if (cur > lo) {
			guint want = cur - MIN(step, cur - lo);

			decide(ret, VS_HOTPLUG_SCALE_DOWN, want,
			       g_strdup_printf("hotplug: %u → %u vCPUs (%s): ScaleDown=%s holds%s",
					       cur, want, method, p->scale_down_text, figures));
		} else {
			decide(ret, VS_HOTPLUG_NONE, 0,
			       g_strdup_printf("hotplug: %u vCPUs, the minimum; ScaleDown=%s holds%s",
					       cur, p->scale_down_text, figures));
		}
		return;
	}
	decide(ret, VS_HOTPLUG_NONE, 0,
	       g_strdup_printf("hotplug: %u vCPUs (%u..%u); no condition holds%s", cur, lo, hi,
			       figures));
}

VsHotplugAcpiState vs_hotplug_acpi_check(const VsHotplugAcpiCheck *c)
{
	if (c->threads == c->target && c->libvirt == c->target)
		return VS_HOTPLUG_ACPI_DONE;
	if (c->returned && c->r < 0 && c->r != -ETIMEDOUT)
		return VS_HOTPLUG_ACPI_REFUSED;
	if (c->target < c->from && c->returned && c->threads == c->target &&
	    c->libvirt > c->target)
		return VS_HOTPLUG_ACPI_DONE_LIBVIRT_BEHIND;
	if (c->elapsed_us <= c->timeout_us)
		return VS_HOTPLUG_ACPI_WAIT;
	return c->target < c->from ? VS_HOTPLUG_ACPI_IGNORED : VS_HOTPLUG_ACPI_NOT_DONE;
}
