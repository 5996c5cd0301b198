/* Policy values: parsing the text of one key's value by the key's type and
 * range (vs_policy_value_parse), with a reason an operator can act on when it
 * is not allowed, and copying and freeing values. Conditions ("steal>20% for
 * 30s") and reservations ("2ms/10ms") are parsed here too; durations, sizes
 * and CPU lists go through util/units.h and util/cpuset.h. */
#include "config.h"

#include "policy/policy-private.h"
#include "util/ini.h"
#include "util/units.h"

#include <string.h>

/* Bounds of a SCHED_DEADLINE reservation, in µs. */
#define RES_RUNTIME_MIN 100
#define RES_RUNTIME_MAX 1000000
#define RES_PERIOD_MIN 1000
#define RES_PERIOD_MAX 1000000
/* Longest "for DURATION" of a condition, in µs. */
#define COND_FOR_MAX (INT64_C(24) * 3600 * 1000000)

const char *const vs_policy_metrics[] = {
	[VS_METRIC_STEAL] = "steal",
	[VS_METRIC_STEAL_CONTENTION] = "steal.contention",
	[VS_METRIC_STEAL_CAP] = "steal.cap",
	[VS_METRIC_STEAL_RESERVATION] = "steal.reservation",
	[VS_METRIC_CPU] = "cpu",
	NULL,
};

static const char *const cmp_ops[] = {
	[VS_CMP_GT] = ">", [VS_CMP_GE] = ">=", [VS_CMP_LT] = "<", [VS_CMP_LE] = "<=",
};

static bool is_string_type(VsPolicyType type)
{
	return type == VS_PTYPE_GLOB || type == VS_PTYPE_UUID || type == VS_PTYPE_WORD ||
	       type == VS_PTYPE_ENUM;
}

/* Parses an unsigned decimal ("20", "12.5") at @p; @ret_end points past it. */
static bool parse_decimal(const char *p, double *ret_value, const char **ret_end)
{
	const char *q = p;
	g_autofree char *copy = NULL;

	while (g_ascii_isdigit(*q))
		q++;
	if (q == p)
		return false;
	if (*q == '.') {
		if (!g_ascii_isdigit(q[1]))
			return false;
		for (q++; g_ascii_isdigit(*q); q++)
			;
	}
	copy = g_strndup(p, (gsize)(q - p));
	*ret_value = g_ascii_strtod(copy, NULL);
	*ret_end = q;
	return true;
}

static const char *skip_space(const char *p)
{
	while (g_ascii_isspace(*p))
		p++;
	return p;
}

/* "50%", "50", "12.5 %": a percentage, without a range check. */
static bool parse_percent(const char *text, double *ret_percent)
{
	const char *end;
	double v;

	if (!parse_decimal(text, &v, &end))
		return false;
	end = skip_space(end);
	if (*end == '%')
		end++;
	if (*skip_space(end) != '\0')
		return false;
	*ret_percent = v;
	return true;
}

static bool parse_bool(const char *text, bool *ret_b)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };

	for (guint i = 0; yes[i]; i++) {
		if (g_ascii_strcasecmp(text, yes[i]) == 0) {
			*ret_b = true;
			return true;
		}
		if (g_ascii_strcasecmp(text, no[i]) == 0) {
			*ret_b = false;
			return true;
		}
	}
	return false;
}

static bool is_word(const char *s)
{
	for (; *s; s++)
		if (!g_ascii_isalnum(*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

/* A duration within [min, max] µs; @what names it in the reason. */
static bool parse_duration_in(const char *text, const char *what, int64_t min, int64_t max,
			      int64_t *ret_us, char **ret_why)
{
	g_autoptr(GError) error = NULL;
	int64_t us;

	if (vs_parse_duration_us(text, &us, &error) < 0) {
		*ret_why = g_strdup(error->message);
		return false;
	}
	if (us < min || us > max) {
		g_autofree char *lo = min ? vs_format_duration_us(min) : g_strdup("0");
		g_autofree char *hi = vs_format_duration_us(max);
		*ret_why = g_strdup_printf("%s%s%s out of range %s..%s", what, *what ? " " : "",
					   text, lo, hi);
		return false;
	}
	*ret_us = us;
	return true;
}

static bool parse_reservation(const char *text, int64_t *ret_runtime, int64_t *ret_period,
			      char **ret_why)
{
	const char *slash = strchr(text, '/');
	g_autofree char *runtime_text = NULL;
	g_autofree char *period_text = NULL;
	int64_t runtime, period;

	if (!slash || strchr(slash + 1, '/')) {
		*ret_why = g_strdup("not a reservation (RUNTIME/PERIOD, like 2ms/10ms)");
		return false;
	}
	runtime_text = g_strstrip(g_strndup(text, (gsize)(slash - text)));
	period_text = g_strstrip(g_strdup(slash + 1));
	if (!parse_duration_in(runtime_text, "runtime", RES_RUNTIME_MIN, RES_RUNTIME_MAX, &runtime,
			       ret_why) ||
	    !parse_duration_in(period_text, "period", RES_PERIOD_MIN, RES_PERIOD_MAX, &period,
			       ret_why))
		return false;
	if (runtime > period) {
		*ret_why = g_strdup_printf("runtime %s is longer than the period %s", runtime_text,
					   period_text);
		return false;
	}
	*ret_runtime = runtime;
	*ret_period = period;
	return true;
}

static bool parse_condition(const char *text, VsCondition *ret_cond, char **ret_why)
{
	const char *p = text, *start, *end;
	g_autofree char *metric = NULL;
	VsCondition c = { 0 };
	int m = -1;

	while (g_ascii_isalnum(*p) || *p == '.' || *p == '_')
		p++;
	if (p == text) {
		*ret_why = g_strdup("not a condition (METRIC OP THRESHOLD% [for DURATION], "
				    "like steal>20% for 30s)");
		return false;
	}
	metric = g_strndup(text, (gsize)(p - text));
	for (int i = 0; vs_policy_metrics[i]; i++)
		if (strcmp(metric, vs_policy_metrics[i]) == 0)
			m = i;
	if (m < 0) {
		const char *hint = vs_ini_suggest(metric, vs_policy_metrics);
		g_autofree char *all = g_strjoinv(", ", (char **)vs_policy_metrics);
		*ret_why = g_strdup_printf("unknown metric %s%s%s%s; metrics: %s", metric,
					   hint ? " (did you mean " : "", hint ? hint : "",
					   hint ? "?)" : "", all);
		return false;
	}
	c.metric = (VsMetric)m;

	p = skip_space(p);
	if (p[0] == '>' || p[0] == '<') {
		bool eq = p[1] == '=';
		c.cmp = p[0] == '>' ? (eq ? VS_CMP_GE : VS_CMP_GT) : (eq ? VS_CMP_LE : VS_CMP_LT);
		p += eq ? 2 : 1;
	} else {
		*ret_why = g_strdup_printf("expected a comparison (>, >=, <, <=) after %s", metric);
		return false;
	}

	p = skip_space(p);
	if (!parse_decimal(p, &c.threshold, &end)) {
		*ret_why = g_strdup_printf("expected a threshold in percent (0..100, like 20%%) after %s",
					   cmp_ops[c.cmp]);
		return false;
	}
	end = skip_space(end);
	if (*end == '%')
		end++;
	if (c.threshold > 100) {
		*ret_why = g_strdup_printf("threshold %.*s out of range 0..100%%",
					   (int)(end - p), p);
		return false;
	}

	p = skip_space(end);
	if (*p == '\0') {
		*ret_cond = c;
		return true;
	}
	start = p;
	if (strncmp(p, "for", 3) != 0 || !g_ascii_isspace(p[3])) {
		*ret_why = g_strdup_printf("expected \"for DURATION\" after the threshold, found \"%s\"",
					   start);
		return false;
	}
	p = skip_space(p + 3);
	if (!parse_duration_in(p, "duration", 0, COND_FOR_MAX, &c.for_us, ret_why))
		return false;
	*ret_cond = c;
	return true;
}

/* "0:2-3": a vCPU index in [key->min, key->max] and a non-empty CPU list. */
static bool parse_pin(const VsPolicyKey *key, const char *text, guint *ret_vcpu,
		      VsCpuSet **ret_cpus, char **ret_why)
{
	const char *colon = strchr(text, ':');
	g_autofree char *index = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCpuSet) cpus = NULL;
	guint64 vcpu;

	if (!colon) {
		*ret_why = g_strdup("not a pinning (VCPU:CPULIST, like 0:2-3)");
		return false;
	}
	index = g_strstrip(g_strndup(text, (gsize)(colon - text)));
	if (!g_ascii_string_to_unsigned(index, 10, (guint64)key->min, (guint64)key->max, &vcpu,
					NULL)) {
		*ret_why = g_strdup_printf("vCPU \"%s\" is not a number in %" G_GINT64_FORMAT
					   "..%" G_GINT64_FORMAT, index, key->min, key->max);
		return false;
	}
	cpus = vs_cpuset_parse(colon + 1, &error);
	if (!cpus) {
		*ret_why = g_strdup(error->message);
		return false;
	}
	if (vs_cpuset_is_empty(cpus)) {
		*ret_why = g_strdup("empty CPU list");
		return false;
	}
	*ret_vcpu = (guint)vcpu;
	*ret_cpus = g_steal_pointer(&cpus);
	return true;
}

bool vs_policy_value_same_slot(const VsPolicyValue *a, const VsPolicyValue *b)
{
	return a->type != VS_PTYPE_PIN || b->type != VS_PTYPE_PIN || a->pin.vcpu == b->pin.vcpu;
}

/* Fills @v (whose ->text is set) for @key; false with @ret_why when not allowed. */
static bool parse_into(const VsPolicyKey *key, VsPolicyValue *v, char **ret_why)
{
	const char *text = v->text;
	g_autoptr(GError) error = NULL;
	g_autofree char *range = vs_policy_key_range(key);

	if (text[0] == '\0') {
		*ret_why = g_strdup_printf("empty value (allowed: %s)", range);
		return false;
	}
	switch (key->type) {
	case VS_PTYPE_GLOB:
		v->str = g_strdup(text);
		return true;
	case VS_PTYPE_UUID:
		if (!g_uuid_string_is_valid(text)) {
			*ret_why = g_strdup("not a UUID (like 6f1c2a0e-9a57-4e0b-8a63-0e4f8a1d2c3b)");
			return false;
		}
		v->str = g_ascii_strdown(text, -1);
		return true;
	case VS_PTYPE_WORD:
		if (!is_word(text)) {
			*ret_why = g_strdup_printf("not a class name (%s)", range);
			return false;
		}
		v->str = g_strdup(text);
		return true;
	case VS_PTYPE_ENUM: {
		const char *hint;
		g_autofree char *all = NULL;

		for (guint i = 0; key->choices[i]; i++) {
			if (g_ascii_strcasecmp(text, key->choices[i]) == 0) {
				v->str = g_strdup(key->choices[i]);
				return true;
			}
		}
		hint = vs_ini_suggest(text, key->choices);
		all = g_strjoinv(", ", (char **)key->choices);
		*ret_why = g_strdup_printf("not one of %s%s%s%s", all, hint ? " (did you mean " : "",
					   hint ? hint : "", hint ? "?)" : "");
		return false;
	}
	case VS_PTYPE_BOOL:
		if (!parse_bool(text, &v->b)) {
			*ret_why = g_strdup("not a boolean (yes or no)");
			return false;
		}
		return true;
	case VS_PTYPE_INT: {
		const char *digits = text[0] == '-' ? text + 1 : text;
		gint64 i;

		if (!digits[0] || strspn(digits, "0123456789") != strlen(digits)) {
			*ret_why = g_strdup_printf("not an integer (allowed: %s)", range);
			return false;
		}
		if (!g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, &i, NULL) ||
		    ((key->min || key->max) && (i < key->min || i > key->max))) {
			*ret_why = g_strdup_printf("out of range %s", range);
			return false;
		}
		v->i = i;
		return true;
	}
	case VS_PTYPE_PERCENT:
		if (!parse_percent(text, &v->percent)) {
			*ret_why = g_strdup_printf("not a percentage (like 50%%; allowed: %s)", range);
			return false;
		}
		if ((key->min || key->max) &&
		    (v->percent < (double)key->min || v->percent > (double)key->max)) {
			*ret_why = g_strdup_printf("out of range %s", range);
			return false;
		}
		return true;
	case VS_PTYPE_SIZE:
		if (vs_parse_size(text, &v->bytes, &error) < 0) {
			*ret_why = g_strdup(error->message);
			return false;
		}
		if ((key->min || key->max) &&
		    (v->bytes < (uint64_t)key->min || v->bytes > (uint64_t)key->max)) {
			*ret_why = g_strdup_printf("out of range %s", range);
			return false;
		}
		return true;
	case VS_PTYPE_DURATION:
		if (vs_parse_duration_us(text, &v->us, &error) < 0) {
			*ret_why = g_strdup(error->message);
			return false;
		}
		if ((key->min || key->max) && (v->us < key->min || v->us > key->max)) {
			*ret_why = g_strdup_printf("out of range %s", range);
			return false;
		}
		return true;
	case VS_PTYPE_CPULIST:
		v->cpus = vs_cpuset_parse(text, &error);
		if (!v->cpus) {
			*ret_why = g_strdup(error->message);
			return false;
		}
		if (vs_cpuset_is_empty(v->cpus)) {
			*ret_why = g_strdup("empty CPU list");
			return false;
		}
		return true;
	case VS_PTYPE_RESERVATION:
		return parse_reservation(text, &v->res.runtime_us, &v->res.period_us, ret_why);
	case VS_PTYPE_CONDITION:
		return parse_condition(text, &v->cond, ret_why);
	case VS_PTYPE_PIN:
		return parse_pin(key, text, &v->pin.vcpu, &v->pin.cpus, ret_why);
	}
	g_assert_not_reached();
}

VsPolicyValue *vs_policy_value_parse(const VsPolicyKey *key, const char *text, char **ret_why)
{
	g_autoptr(VsPolicyValue) v = g_new0(VsPolicyValue, 1);
	g_autofree char *why = NULL;

	v->type = key->type;
	v->text = g_strstrip(g_strdup(text));
	if (!parse_into(key, v, &why)) {
		if (ret_why)
			*ret_why = g_steal_pointer(&why);
		return NULL;
	}
	return g_steal_pointer(&v);
}

VsPolicyValue *vs_policy_value_copy(const VsPolicyValue *v)
{
	VsPolicyValue *copy = g_memdup2(v, sizeof(*v));

	copy->text = g_strdup(v->text);
	if (is_string_type(v->type))
		copy->str = g_strdup(v->str);
	else if (v->type == VS_PTYPE_CPULIST && v->cpus)
		copy->cpus = vs_cpuset_copy(v->cpus);
	else if (v->type == VS_PTYPE_PIN && v->pin.cpus)
		copy->pin.cpus = vs_cpuset_copy(v->pin.cpus);
	return copy;
}

void vs_policy_value_free(VsPolicyValue *v)
{
	if (!v)
		return;
	g_free(v->text);
	if (is_string_type(v->type))
		g_free(v->str);
	else if (v->type == VS_PTYPE_CPULIST)
		vs_cpuset_free(v->cpus);
	else if (v->type == VS_PTYPE_PIN)
		vs_cpuset_free(v->pin.cpus);
	g_free(v);
}
