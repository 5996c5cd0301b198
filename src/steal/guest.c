/* The guest's view of its steal: the agent's reply parsed, intervals,
 * windows and the verdict; see guest.h. */
#include "config.h"

#include "steal/guest.h"

#include "util/error.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

/* The guest's counters are whole ms derived from jiffies: a CPU's steal may
 * exceed the wall time by a tick (10 ms at HZ=100) before it is flagged. */
#define GUEST_SLACK_NS (10 * 1000 * 1000)
/* The states a Linux guest reports (QEMU's GuestLinuxCpuStats), whether
 * each is always there; steal is one of them. guest and guestnice are
 * already counted in user and nice. */
static const struct {
	const char *name;
	bool required;
} states[] = {
	{ "user", true },    { "nice", true },     { "system", true },
	{ "idle", true },    { "iowait", false },  { "irq", false },
	{ "softirq", false }, { "steal", false },
};

void vs_steal_guest_sample_free(VsStealGuestSample *s)
{
	if (!s)
		return;
	if (s->cpus)
		g_array_unref(s->cpus);
	g_free(s);
}

/* The unsigned integer member @name of @o into *@ret; false when it is
 * absent, not an integer or negative (then @why says which). */
static bool get_u64(JsonObject *o, const char *name, uint64_t *ret, const char **why)
{
	JsonNode *n = json_object_get_member(o, name);

	if (!n) {
		*why = "is missing";
		return false;
	}
	if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64) {
		*why = "is not an integer";
		return false;
	}
	if (json_node_get_int(n) < 0) {
		*why = "is negative";
		return false;
	}
	*ret = (uint64_t)json_node_get_int(n);
	return true;
}

static gint compare_cpus(gconstpointer a, gconstpointer b)
{
	const VsStealGuestCpu *x = a, *y = b;

	return x->cpu < y->cpu ? -1 : x->cpu > y->cpu;
}

/* Parses entry @i of the reply into @ret. */
static int parse_entry(JsonNode *node, guint i, VsStealGuestCpu *ret, GError **error)
{
	JsonObject *o;
	JsonNode *member;
	const char *type, *why = NULL;
	uint64_t cpu, v;

	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "entry %u is not an object", i);
		return -EINVAL;
	}
	o = json_node_get_object(node);
	member = json_object_get_member(o, "type");
	if (!member || !JSON_NODE_HOLDS_VALUE(member) ||
	    json_node_get_value_type(member) != G_TYPE_STRING) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
			    "entry %u: \"type\" is missing or not a string", i);
		return -EINVAL;
	}
	type = json_node_get_string(member);
	/* QEMU 7.1 named the variant "linuxos", later ones "linux". */
	if (strcmp(type, "linux") != 0 && strcmp(type, "linuxos") != 0) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
			    "entry %u: CPU statistics of type \"%s\", not Linux's", i, type);
		return -ENOTSUP;
	}
	if (!get_u64(o, "cpu", &cpu, &why) || cpu >= VS_STEAL_GUEST_MAX_CPUS) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "entry %u: \"cpu\" %s", i,
			    why ? why : "is out of range");
		return -EINVAL;
	}
	*ret = (VsStealGuestCpu){ .cpu = (guint)cpu };
	for (size_t k = 0; k < G_N_ELEMENTS(states); k++) {
		const char *name = states[k].name;

		if (!states[k].required && !json_object_has_member(o, name))
			continue;
		if (!get_u64(o, name, &v, &why)) {
			g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "entry %u (CPU %u): \"%s\" %s",
				    i, ret->cpu, name, why);
			return -EINVAL;
		}
		/* ms since boot: beyond 2^53 (285 000 years) it is not a counter. */
		if (v > (UINT64_C(1) << 53)) {
			g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
				    "entry %u (CPU %u): \"%s\" is out of range", i, ret->cpu, name);
			return -EINVAL;
		}
		ret->total_ms += v;
		if (strcmp(name, "steal") == 0) {
			ret->has_steal = true;
			ret->steal_ms = v;
		}
	}
	return 0;
}

int vs_steal_guest_parse(const char *reply, int64_t mono_us, VsStealGuestSample **ret_sample,
			 GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GArray) cpus = NULL;
	g_autoptr(GError) local = NULL;
	VsStealGuestSample *s;
	JsonObject *root;
	JsonArray *list;
	JsonNode *ret;

	if (!reply || strlen(reply) > VS_STEAL_GUEST_MAX_REPLY) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "no reply, or longer than %d bytes",
			    VS_STEAL_GUEST_MAX_REPLY);
		return -EINVAL;
	}
	if (!json_parser_load_from_data(parser, reply, -1, &local)) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "not JSON: %s", local->message);
		return -EINVAL;
	}
	if (!JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "not a JSON object");
		return -EINVAL;
	}
	root = json_node_get_object(json_parser_get_root(parser));
	ret = json_object_get_member(root, "return");
	if (!ret || !JSON_NODE_HOLDS_ARRAY(ret)) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "no \"return\" array");
		return -EINVAL;
	}
	list = json_node_get_array(ret);
	if (json_array_get_length(list) == 0 ||
	    json_array_get_length(list) > VS_STEAL_GUEST_MAX_CPUS) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "%u CPUs, not 1 to %d",
			    json_array_get_length(list), VS_STEAL_GUEST_MAX_CPUS);
		return -EINVAL;
	}
	cpus = g_array_new(FALSE, TRUE, sizeof(VsStealGuestCpu));
	for (guint i = 0; i < json_array_get_length(list); i++) {
		VsStealGuestCpu c;
		int r = parse_entry(json_array_get_element(list, i), i, &c, error);

		if (r < 0)
			return r;
		g_array_append_val(cpus, c);
	}
	g_array_sort(cpus, compare_cpus);
	for (guint i = 1; i < cpus->len; i++) {
		if (g_array_index(cpus, VsStealGuestCpu, i).cpu ==
		    g_array_index(cpus, VsStealGuestCpu, i - 1).cpu) {
			g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "CPU %u appears twice",
				    g_array_index(cpus, VsStealGuestCpu, i).cpu);
			return -EINVAL;
		}
	}
	s = g_new0(VsStealGuestSample, 1);
	s->mono_us = mono_us;
	s->cpus = g_steal_pointer(&cpus);
	*ret_sample = s;
	return 0;
}

const char *vs_steal_guest_result_name(VsStealGuestResult r)
{
	switch (r) {
	case VS_STEAL_GUEST_DELTA:
		return "delta";
	case VS_STEAL_GUEST_RESET_FIRST:
		return "first reply";
	case VS_STEAL_GUEST_RESET_BACK:
		return "a counter went back";
	case VS_STEAL_GUEST_RESET_CPUS:
		return "the guest's CPUs changed";
	case VS_STEAL_GUEST_RESET_GAP:
		return "too long since the last reply";
	case VS_STEAL_GUEST_IGNORED:
		break;
	}
	return "not later than the last reply";
}

VsStealGuestResult vs_steal_guest_delta(const VsStealGuestSample *prev,
					const VsStealGuestSample *cur,
					VsStealGuestPoint *ret_point)
{
	VsStealGuestPoint p = { 0 };
	uint64_t span, limit;

	if (!prev)
		return VS_STEAL_GUEST_RESET_FIRST;
	if (cur->mono_us <= prev->mono_us)
		return VS_STEAL_GUEST_IGNORED;
	if (cur->mono_us - prev->mono_us > VS_STEAL_MAX_GAP_US)
		return VS_STEAL_GUEST_RESET_GAP;
	if (cur->cpus->len != prev->cpus->len)
		return VS_STEAL_GUEST_RESET_CPUS;
	span = (uint64_t)(cur->mono_us - prev->mono_us) * 1000;
	limit = (uint64_t)((double)span * (1.0 + VS_STEAL_TOLERANCE)) + GUEST_SLACK_NS;
	for (guint i = 0; i < cur->cpus->len; i++) {
		const VsStealGuestCpu *a = &g_array_index(prev->cpus, VsStealGuestCpu, i);
		const VsStealGuestCpu *b = &g_array_index(cur->cpus, VsStealGuestCpu, i);
		uint64_t steal;

		if (a->cpu != b->cpu || a->has_steal != b->has_steal)
			return VS_STEAL_GUEST_RESET_CPUS;
		if (b->steal_ms < a->steal_ms || b->total_ms < a->total_ms)
			return VS_STEAL_GUEST_RESET_BACK;
		if (!b->has_steal)
			p.flags |= VS_STEAL_GUEST_NO_COLUMN;
		/* Compared in ms first: a lying guest's delta may not fit in ns. */
		steal = b->steal_ms - a->steal_ms;
		steal = steal > limit / 1000000 + 1 ? limit + 1 : steal * 1000000;
		if (steal > limit)
			p.flags |= VS_STEAL_GUEST_CLAMPED;
		p.guest_steal_ns += MIN(steal, span);
	}
	p.end_us = cur->mono_us;
	p.span_ns = span;
	p.guest_wall_ns = span * cur->cpus->len;
	p.n = 1;
	p.clamped = (p.flags & VS_STEAL_GUEST_CLAMPED) ? 1 : 0;
	*ret_point = p;
	return VS_STEAL_GUEST_DELTA;
}

void vs_steal_guest_add_host(VsStealGuestPoint *p, const VsStealSeries *host)
{
	int64_t start_us = p->end_us - (int64_t)(p->span_ns / 1000);
	VsStealPoint h;

	for (guint i = 0; vs_steal_series_nth_newest(host, i, &h); i++) {
		if (h.end_us <= start_us)
			break;
		if (h.end_us > p->end_us)
			continue;
		p->host_wall_ns += h.wall_ns;
		p->host_steal_ns += h.steal_ns;
	}
}

const char *vs_steal_guest_verdict_name(VsStealGuestVerdict v)
{
	switch (v) {
	case VS_STEAL_GUEST_AGREE:
		return "agree";
	case VS_STEAL_GUEST_NO_STEAL_CLOCK:
		return "no steal clock";
	case VS_STEAL_GUEST_MISMATCH:
		return "mismatch";
	case VS_STEAL_GUEST_UNAVAILABLE:
		break;
	}
	return "unavailable";
}

double vs_steal_guest_pct(const VsStealGuestPoint *w)
{
	return w->guest_wall_ns ? 100.0 * (double)w->guest_steal_ns / (double)w->guest_wall_ns : 0;
}

double vs_steal_guest_host_pct(const VsStealGuestPoint *w)
{
	return w->host_wall_ns ? 100.0 * (double)w->host_steal_ns / (double)w->host_wall_ns : 0;
}

VsStealGuestVerdict vs_steal_guest_verdict(const VsStealGuestPoint *w, double tolerance_pct)
{
	double host, guest;

	if (w->n == 0 || w->guest_wall_ns == 0 || w->host_wall_ns == 0)
		return VS_STEAL_GUEST_UNAVAILABLE;
	host = vs_steal_guest_host_pct(w);
	guest = vs_steal_guest_pct(w);
	if (fabs(host - guest) <= tolerance_pct)
		return VS_STEAL_GUEST_AGREE;
	if (w->guest_steal_ns == 0 && host > tolerance_pct)
		return VS_STEAL_GUEST_NO_STEAL_CLOCK;
	return VS_STEAL_GUEST_MISMATCH;
}

/* At most 5 min of intervals; agent replies come seconds apart. */
#define GUEST_MAX_POINTS 1024

struct VsStealGuestSeries {
	GQueue points;                /* VsStealGuestPoint *, oldest first */
};

VsStealGuestSeries *vs_steal_guest_series_new(void)
{
	VsStealGuestSeries *s = g_new0(VsStealGuestSeries, 1);

	g_queue_init(&s->points);
	return s;
}

void vs_steal_guest_series_free(VsStealGuestSeries *s)
{
	if (!s)
		return;
	g_queue_clear_full(&s->points, g_free);
	g_free(s);
}

bool vs_steal_guest_series_push(VsStealGuestSeries *s, const VsStealGuestPoint *p)
{
	const VsStealGuestPoint *last = g_queue_peek_tail(&s->points);
	int64_t oldest = p->end_us - vs_steal_window_us(VS_STEAL_WINDOW_5M);

	if (last && p->end_us <= last->end_us)
		return false;
	g_queue_push_tail(&s->points, g_memdup2(p, sizeof(*p)));
	while (s->points.length > GUEST_MAX_POINTS ||
	       ((const VsStealGuestPoint *)g_queue_peek_head(&s->points))->end_us < oldest)
		g_free(g_queue_pop_head(&s->points));
	return true;
}

VsStealGuestPoint vs_steal_guest_series_window(const VsStealGuestSeries *s, VsStealWindow w)
{
	VsStealGuestPoint sum = { 0 };
	const VsStealGuestPoint *last = g_queue_peek_tail((GQueue *)&s->points);
	int64_t from;

	if (!last)
		return sum;
	from = last->end_us - vs_steal_window_us(w);
	sum.end_us = last->end_us;
	for (GList *l = s->points.tail; l; l = l->prev) {
		const VsStealGuestPoint *p = l->data;

		if (p->end_us < from)
			break;
		sum.span_ns += p->span_ns;
		sum.guest_wall_ns += p->guest_wall_ns;
		sum.guest_steal_ns += p->guest_steal_ns;
		sum.host_wall_ns += p->host_wall_ns;
		sum.host_steal_ns += p->host_steal_ns;
		sum.n += p->n;
		sum.clamped += p->clamped;
		sum.flags |= p->flags;
	}
	return sum;
}
