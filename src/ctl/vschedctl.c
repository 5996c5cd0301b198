/* vschedctl: the operator's command-line client of vschedd. It sends one
 * control request (doc/control-protocol.md) per verb and prints the reply
 * the way virsh prints its own: "Key: value" blocks and aligned tables, or,
 * with --json, the reply's parameters as pretty-printed JSON. Errors go to
 * stderr as "error: ..." lines and exit with status 1, as in virsh.
 * `policy check` and `policy keys` need no daemon: they run the policy
 * parser and print its key table here. doc/vschedctl.1 documents every verb.
 *
 * The socket is --socket PATH, else $VSCHED_SOCKET, else
 * /run/vsched/vschedd.sock. */
#include "config.h"

#include "ctl/client.h"
#include "policy/policy.h"
#include "steal/account.h"
#include "util/units.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What `policy check` reads without files or --dir: the directory a
 * vschedd of this build reads by default. */
#define POLICY_DIR SYSCONFDIR "/vsched/policy.d"

typedef struct Ctl {
	const char *socket;
	bool json;
	bool all;
	const char *dir;       /* policy check --dir */
	int64_t for_us;        /* override --for; 0: until cleared */
	const char *window;    /* steal, top --window: "10s", "1m", "5m" */
	int64_t interval_us;   /* top --interval */
	gint64 iterations;     /* top --iterations; 0: until interrupted */
} Ctl;

/* The options a verb accepts besides --socket. */
typedef enum {
	OPT_JSON = 1 << 0,
	OPT_ALL = 1 << 1,
	OPT_DIR = 1 << 2,
	OPT_FOR = 1 << 3,
	OPT_WINDOW = 1 << 4,
	OPT_INTERVAL = 1 << 5,
	OPT_ITERATIONS = 1 << 6,
} VerbOpts;

typedef struct Verb {
	const char *name;      /* one word, or two for a verb with a subcommand */
	const char *synopsis;
	const char *help;
	guint min_args, max_args;
	VerbOpts opts;
	int (*run)(const Ctl *ctl, char **args);
} Verb;

/* Small readers for reply members: NULL / @def when absent or another type. */
static const char *jstr(JsonObject *obj, const char *key)
{
	JsonNode *n = obj ? json_object_get_member(obj, key) : NULL;

	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(n);
}

static gint64 jint(JsonObject *obj, const char *key, gint64 def)
{
	JsonNode *n = obj ? json_object_get_member(obj, key) : NULL;

	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
		return def;
	return json_node_get_int(n);
}

static bool jbool(JsonObject *obj, const char *key)
{
	JsonNode *n = obj ? json_object_get_member(obj, key) : NULL;

	return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN &&
	       json_node_get_boolean(n);
}

static JsonObject *jobj(JsonObject *obj, const char *key)
{
	JsonNode *n = obj ? json_object_get_member(obj, key) : NULL;

	return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static JsonArray *jarr(JsonObject *obj, const char *key)
{
	JsonNode *n = obj ? json_object_get_member(obj, key) : NULL;

	return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* A table printed as virsh prints one: a leading space, columns as wide as
 * their widest cell plus two, a dashed line under the header. */
typedef struct Table {
	guint n_cols;
	GPtrArray *cells;   /* row-major; the first row is the header */
} Table;

static Table *table_new(guint n_cols, ...)
{
	Table *t = g_new0(Table, 1);
	va_list ap;

	t->n_cols = n_cols;
	t->cells = g_ptr_array_new_with_free_func(g_free);
	va_start(ap, n_cols);
	for (guint i = 0; i < n_cols; i++)
		g_ptr_array_add(t->cells, g_strdup(va_arg(ap, const char *)));
	va_end(ap);
	return t;
}

/* Appends one cell; takes @text. */
static void table_add(Table *t, char *text)
{
	g_ptr_array_add(t->cells, text);
}

static void table_free(Table *t)
{
	g_ptr_array_unref(t->cells);
	g_free(t);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Table, table_free)

static void table_print(const Table *t)
{
	g_autofree glong *width = g_new0(glong, t->n_cols);

	for (guint i = 0; i < t->cells->len; i++)
		width[i % t->n_cols] = MAX(width[i % t->n_cols],
					   g_utf8_strlen(g_ptr_array_index(t->cells, i), -1));
	for (guint i = 0; i < t->cells->len; i++) {
		const char *cell = g_ptr_array_index(t->cells, i);
		guint col = i % t->n_cols;

		if (col + 1 < t->n_cols)
			printf(" %s%*s", cell, (int)(width[col] - g_utf8_strlen(cell, -1) + 2), "");
		else
			printf(" %s\n", cell);
		if (i + 1 == t->n_cols) {
			for (guint c = 0; c < t->n_cols; c++)
				for (glong k = 0; k < width[c] + 3; k++)
					putchar('-');
			putchar('\n');
		}
	}
}

static void print_field(const char *key, const char *value)
{
	g_autofree char *label = g_strconcat(key, ":", NULL);

	printf("%-15s %s\n", label, value);
}

static void print_json(JsonObject *obj)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), obj);
	g_autofree char *text = NULL;

	json_generator_set_pretty(gen, TRUE);
	json_generator_set_indent(gen, 2);
	json_generator_set_root(gen, root);
	text = json_generator_to_data(gen, NULL);
	printf("%s\n", text);
}

static void print_usage(FILE *out);

/* Sends @method and returns the reply, which may be an error reply, or
 * prints why there is none and returns NULL. */
static VsCtlReply *request(const Ctl *ctl, const char *method, JsonObject *params)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCtlClient) client = vs_ctl_client_connect(ctl->socket, &error);
	VsCtlReply *reply = NULL;

	if (client)
		reply = vs_ctl_client_call(client, method, params, VS_CTL_CLIENT_TIMEOUT_MS, &error);
	if (!reply)
		fprintf(stderr, "error: %s\n", error->message);
	return reply;
}

/* Prints the error reply @reply to @method for the operator. */
static void report_error(const char *method, const VsCtlReply *reply)
{
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *detail = NULL;

	if (strcmp(reply->error, VS_CTL_ERROR_NOT_READY) == 0) {
		fprintf(stderr, "error: vschedd has not collected its first snapshot yet; "
				"try again in a moment\n");
		return;
	}
	if (strcmp(reply->error, VS_CTL_ERROR_PERMISSION_DENIED) == 0) {
		fprintf(stderr, "error: permission denied: %s changes the daemon's state and "
				"needs root\n", method);
		return;
	}
	root = json_node_init_object(json_node_alloc(), reply->parameters);
	detail = json_to_string(root, FALSE);
	fprintf(stderr, "error: vschedd answered %s %s\n", reply->error, detail);
}

/* Prints what virsh prints for a domain it cannot find. */
static void report_no_domain(const char *ref)
{
	fprintf(stderr, "error: failed to get domain '%s'\n"
			"error: Domain not found: no domain with matching name, UUID or id '%s'\n",
		ref, ref);
}

/* True when @reply to @method about the domain @ref is not an error;
 * else prints the error (NoSuchDomain as virsh says it) and returns false. */
static bool domain_reply_ok(const char *method, const char *ref, const VsCtlReply *reply)
{
	if (g_strcmp0(reply->error, VS_CTL_ERROR_NO_SUCH_DOMAIN) == 0) {
		report_no_domain(ref);
		return false;
	}
	if (reply->error) {
		report_error(method, reply);
		return false;
	}
	return true;
}

/* Sends @method about the domain @ref and returns a successful reply, or
 * prints why there is none and returns NULL. */
static VsCtlReply *call_domain(const Ctl *ctl, const char *method, const char *ref,
			       JsonObject *params)
{
	g_autoptr(VsCtlReply) reply = request(ctl, method, params);

	if (!reply || !domain_reply_ok(method, ref, reply))
		return NULL;
	return g_steal_pointer(&reply);
}

/* Sends @method and returns a successful reply, or prints why there is
 * none and returns NULL. */
static VsCtlReply *call(const Ctl *ctl, const char *method, JsonObject *params)
{
	g_autoptr(VsCtlReply) reply = request(ctl, method, params);

	if (!reply)
		return NULL;
	if (reply->error) {
		report_error(method, reply);
		return NULL;
	}
	return g_steal_pointer(&reply);
}

/* "memory some 1.5% full 0.2%, cpu some 3.0% (10 s averages)" */
static char *format_pressure(JsonObject *host)
{
	static const char *const resources[] = { "memory", "cpu" };
	g_autoptr(GString) text = g_string_new(NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(resources); i++) {
		g_autofree char *key = g_strconcat("psi_", resources[i], NULL);
		JsonObject *psi = jobj(host, key);
		JsonNode *some = psi ? json_object_get_member(psi, "some_avg10") : NULL;
		JsonNode *full = psi ? json_object_get_member(psi, "full_avg10") : NULL;

		g_string_append_printf(text, "%s%s ", i ? ", " : "", resources[i]);
		if (!some || !JSON_NODE_HOLDS_VALUE(some)) {
			g_string_append(text, "unavailable");
			continue;
		}
		g_string_append_printf(text, "some %.1f%%", json_node_get_double(some));
		if (full && JSON_NODE_HOLDS_VALUE(full))
			g_string_append_printf(text, " full %.1f%%", json_node_get_double(full));
	}
	g_string_append(text, " (10 s averages)");
	return g_string_free(g_steal_pointer(&text), FALSE);
}

static int run_status(const Ctl *ctl, char **args)
{
	g_autoptr(VsCtlReply) reply = call(ctl, "org.vsched.Status", NULL);
	g_autoptr(Table) caps = NULL;
	g_autofree char *uptime = NULL, *tick = NULL, *interval = NULL, *collect = NULL;
	g_autofree char *line = NULL;
	JsonObject *p, *virt, *host, *policy;
	JsonArray *arr;

	if (!reply)
		return 1;
	p = reply->parameters;
	if (ctl->json) {
		print_json(p);
		return 0;
	}
	uptime = vs_format_duration_us(jint(p, "uptime_us", 0));
	interval = vs_format_duration_us(jint(p, "tick_interval_us", 0));
	tick = vs_format_duration_us(jint(p, "last_tick_us", 0));
	collect = vs_format_duration_us(jint(p, "last_collect_us", 0));
	print_field("Version", or_dash(jstr(p, "version")));
	print_field("Uptime", uptime);
	line = g_strdup_printf("%" G_GINT64_FORMAT " (every %s)", jint(p, "ticks", 0), interval);
	print_field("Ticks", line);
	g_free(line);
	line = g_strdup_printf("%s (collect %s)", tick, collect);
	print_field("Last tick", line);
	print_field("Dry run", jbool(p, "dry_run") ? "yes" : "no");
	print_field("Config", or_dash(jstr(p, "config")));
	print_field("Last error", or_dash(jstr(p, "last_error")));
	policy = jobj(p, "policy");
	g_free(line);
	line = g_strdup_printf("%s (%" G_GINT64_FORMAT " file(s))", or_dash(jstr(policy, "dir")),
			       jint(policy, "files", 0));
	print_field("Policy", line);
	if (jstr(policy, "error")) {
		g_free(line);
		line = g_strdup_printf("reload refused, the previous files stay in force: %s",
				       jstr(policy, "error"));
		print_field("Policy error", line);
	}

	virt = jobj(p, "libvirt");
	g_free(line);
	line = g_strdup_printf("%s (%s, %" G_GINT64_FORMAT " reconnects)", or_dash(jstr(virt, "uri")),
			       jbool(virt, "connected") ? "connected" : "not connected",
			       jint(virt, "reconnects", 0));
	print_field("Libvirt", line);

	host = jobj(p, "host");
	if (host) {
		JsonObject *mem = jobj(host, "memory"), *cg = jobj(host, "cgroup");
		g_autofree char *total = vs_format_size((guint64)jint(mem, "total", 0));
		g_autofree char *avail = vs_format_size((guint64)jint(mem, "available", 0));
		g_autofree char *v2 = NULL, *v1 = NULL;
		JsonArray *list;

		g_free(line);
		line = g_strdup_printf("%s (%" G_GINT64_FORMAT " CPUs, %" G_GINT64_FORMAT
				       " NUMA node(s), %s)", or_dash(jstr(host, "cpus")),
				       jint(host, "cpu_count", 0), jint(host, "numa_nodes", 0),
				       jbool(host, "smt") ? "SMT" : "no SMT");
		print_field("CPUs", line);
		g_free(line);
		line = g_strdup_printf("%s, %s available", total, avail);
		print_field("Memory", line);
		g_free(line);
		line = format_pressure(host);
		print_field("Pressure", line);

		list = jarr(cg, "v2_controllers");
		v2 = g_strdup("");
		for (guint i = 0; list && i < json_array_get_length(list); i++) {
			g_autofree char *old = v2;
			v2 = g_strdup_printf("%s%s%s", old, i ? " " : "",
					     json_array_get_string_element(list, i));
		}
		list = jarr(cg, "v1_controllers");
		v1 = g_strdup("");
		for (guint i = 0; list && i < json_array_get_length(list); i++) {
			g_autofree char *old = v1;
			v1 = g_strdup_printf("%s%s%s", old, i ? " " : "",
					     json_array_get_string_element(list, i));
		}
		g_free(line);
		line = g_strdup_printf("%s (v2: %s%s%s; v1: %s)", or_dash(jstr(cg, "mode")),
				       or_dash(jstr(cg, "v2_mount")), *v2 ? " with " : "", v2,
				       or_dash(v1));
		print_field("Cgroups", line);
	} else {
		print_field("Host", "not collected yet");
	}

	arr = jarr(p, "capabilities");
	if (arr && json_array_get_length(arr) > 0) {
		printf("\n");
		caps = table_new(3, "Capability", "Available", "Detail");
		for (guint i = 0; i < json_array_get_length(arr); i++) {
			JsonObject *c = json_array_get_object_element(arr, i);

			table_add(caps, g_strdup(or_dash(jstr(c, "name"))));
			table_add(caps, g_strdup(jbool(c, "ok") ? "yes" : "no"));
			table_add(caps, g_strdup(or_dash(jstr(c, "detail"))));
		}
		table_print(caps);
		printf("\n");
	}
	return 0;
}

/* virsh list order: running domains by id, then the others by name. */
static gint compare_domains(gconstpointer a, gconstpointer b)
{
	JsonObject *x = *(JsonObject *const *)a, *y = *(JsonObject *const *)b;
	gint64 ix = jint(x, "id", -1), iy = jint(y, "id", -1);

	if ((ix < 0) != (iy < 0))
		return ix < 0 ? 1 : -1;
	if (ix >= 0 && ix != iy)
		return ix < iy ? -1 : 1;
	return g_strcmp0(jstr(x, "name"), jstr(y, "name"));
}

static char *format_vcpus(JsonObject *vcpus)
{
	gint64 cur = jint(vcpus, "current", 0), max = jint(vcpus, "max", 0);

	if (cur == max)
		return g_strdup_printf("%" G_GINT64_FORMAT, cur);
	return g_strdup_printf("%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, cur, max);
}

static int run_list(const Ctl *ctl, char **args)
{
	g_autoptr(VsCtlReply) reply = call(ctl, "org.vsched.List", NULL);
	g_autoptr(GPtrArray) doms = g_ptr_array_new();
	g_autoptr(Table) t = NULL;
	JsonArray *arr;

	if (!reply)
		return 1;
	if (ctl->json) {
		print_json(reply->parameters);
		return 0;
	}
	arr = jarr(reply->parameters, "domains");
	for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
		JsonObject *d = json_array_get_object_element(arr, i);

		if (d && (ctl->all || jint(d, "id", -1) >= 0))
			g_ptr_array_add(doms, d);
	}
	g_ptr_array_sort(doms, compare_domains);

	t = table_new(6, "Id", "Name", "State", "vCPUs", "Memory", "Policy");
	for (guint i = 0; i < doms->len; i++) {
		JsonObject *d = g_ptr_array_index(doms, i);
		gint64 id = jint(d, "id", -1);
		guint64 mem = (guint64)jint(jobj(d, "memory"), "current", 0);

		table_add(t, id >= 0 ? g_strdup_printf("%" G_GINT64_FORMAT, id) : g_strdup("-"));
		table_add(t, g_strdup(or_dash(jstr(d, "name"))));
		table_add(t, g_strdup(or_dash(jstr(d, "state"))));
		table_add(t, format_vcpus(jobj(d, "vcpus")));
		table_add(t, g_strdup_printf("%" G_GUINT64_FORMAT " MiB", mem / (1024 * 1024)));
		table_add(t, g_strdup(or_dash(jstr(d, "policy"))));
	}
	table_print(t);
	printf("\n");
	return 0;
}

/* "4242 qemu-system-x86 (CPU 0, affinity 0-1)" */
static char *format_thread(JsonObject *t)
{
	gint64 cpu = jint(t, "cpu", -1);
	g_autofree char *where = cpu >= 0 ? g_strdup_printf("CPU %" G_GINT64_FORMAT, cpu)
					  : g_strdup("CPU unknown");

	return g_strdup_printf("%" G_GINT64_FORMAT " %s (%s, affinity %s)", jint(t, "tid", 0),
			       or_dash(jstr(t, "comm")), where, or_dash(jstr(t, "affinity")));
}

static void print_threads(const char *label, JsonArray *arr)
{
	for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
		g_autofree char *text = format_thread(json_array_get_object_element(arr, i));

		print_field(label, text);
	}
}

static void print_balloon(JsonObject *b)
{
	static const char *const keys[] = { "current", "maximum", "available", "usable", "unused",
					    "rss", "disk_caches", "swap_in", "swap_out" };
	g_autoptr(GString) text = g_string_new(NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		g_autofree char *size = NULL;

		if (!b || !json_object_has_member(b, keys[i]))
			continue;
		size = vs_format_size((guint64)jint(b, keys[i], 0));
		g_string_append_printf(text, "%s%s %s", text->len ? ", " : "", keys[i], size);
	}
	print_field("Balloon", text->len ? text->str : "no statistics from the guest");
}

/* The "Skew" line of show from the domain's "skew" object (co-scheduling:
 * progress skew over the last window, the minute's maximum, the mode and
 * the boosted vCPUs). */
static void print_skew(JsonObject *s)
{
	g_autoptr(GString) text = g_string_new(NULL);
	JsonArray *vcpus = jarr(s, "vcpu");
	bool boosted = false;

	if (jbool(s, "valid"))
		g_string_append_printf(text, "%.1f ms over the last %.0f s (vcpu%" G_GINT64_FORMAT
				       " behind vcpu%" G_GINT64_FORMAT "), ",
				       (double)jint(s, "skew_ns", 0) / 1e6,
				       (double)jint(s, "window_ns", 0) / 1e9, jint(s, "laggard", 0),
				       jint(s, "leader", 0));
	else
		g_string_append(text, "not measured this tick (fewer than two vCPUs with "
				      "counters), ");
	g_string_append_printf(text, "max %.1f ms in 1 min; CoSchedule=%s, SkewThreshold=%.1fms",
			       (double)jint(s, "max_1m_ns", 0) / 1e6, or_dash(jstr(s, "mode")),
			       (double)jint(s, "threshold_us", 0) / 1e3);
	for (guint i = 0; vcpus && i < json_array_get_length(vcpus); i++) {
		JsonObject *v = json_array_get_object_element(vcpus, i);
		gint64 boost = jint(v, "nice_boost", 0);

		if (boost <= 0)
			continue;
		g_string_append_printf(text, "%s vcpu%" G_GINT64_FORMAT " (nice -%" G_GINT64_FORMAT
				       ")", boosted ? "," : "; boosting", jint(v, "index", 0), boost);
		boosted = true;
	}
	print_field("Skew", text->str);
}

static char *format_remaining(int64_t expires_us);

/* The hotplug lines of show and explain: what vsched does with the vCPU
 * count (nothing when the daemon has not planned the guest). */
static void print_hotplug(JsonObject *h)
{
	g_autofree char *line = NULL;
	g_autofree char *current = NULL;
	gint64 target, backoff;

	if (!h)
		return;
	if (!jbool(h, "enabled")) {
		print_field("Hotplug", "off (Hotplug.Enable=no)");
		return;
	}
	current = jint(h, "current", 0) ? g_strdup_printf("%" G_GINT64_FORMAT,
							  jint(h, "current", 0))
					: g_strdup("unknown");
	line = g_strdup_printf("%s, %s online, bounds %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT,
			       or_dash(jstr(h, "method")), current, jint(h, "min", 0),
			       jint(h, "max", 0));
	print_field("Hotplug", line);
	target = jint(h, "target", 0);
	if (target) {
		g_free(line);
		line = g_strdup_printf("%" G_GINT64_FORMAT " vCPUs", target);
		print_field("Hotplug target", line);
	}
	print_field("Hotplug why", or_dash(jstr(h, "reason")));
	if (jstr(h, "pending"))
		print_field("Hotplug pending", jstr(h, "pending"));
	if (jstr(h, "last_action"))
		print_field("Hotplug last", jstr(h, "last_action"));
	backoff = jint(h, "backoff_until_us", 0);
	if (backoff > 0) {
		g_autofree char *left = format_remaining(backoff);

		g_free(line);
		line = g_strdup_printf("%s left after %" G_GINT64_FORMAT " failure(s): %s", left,
				       jint(h, "failures", 0), or_dash(jstr(h, "failure")));
		print_field("Hotplug backoff", line);
	}
}

static void print_domain(JsonObject *d)
{
	g_autofree char *line = NULL, *cur = NULL, *max = NULL;
	g_autoptr(Table) t = NULL;
	JsonArray *vcpus = jarr(d, "vcpu");
	JsonNode *cpu_time = json_object_get_member(d, "cpu_time_ns");
	bool planned;
	gint64 id = jint(d, "id", -1), pid = jint(d, "pid", 0);

	line = id >= 0 ? g_strdup_printf("%" G_GINT64_FORMAT, id) : g_strdup("-");
	print_field("Id", line);
	print_field("Name", or_dash(jstr(d, "name")));
	print_field("UUID", or_dash(jstr(d, "uuid")));
	print_field("State", or_dash(jstr(d, "state")));
	print_field("Class", or_dash(jstr(d, "class")));
	print_field("Policy", or_dash(jstr(d, "policy")));
	g_free(line);
	line = pid > 0 ? g_strdup_printf("%" G_GINT64_FORMAT, pid) : g_strdup("-");
	print_field("PID", line);
	print_field("Cgroup", or_dash(jstr(d, "cgroup")));
	if (jstr(d, "cgroup_v1_cpuset"))
		print_field("Cpuset cgroup", jstr(d, "cgroup_v1_cpuset"));
	g_free(line);
	line = cpu_time && JSON_NODE_HOLDS_VALUE(cpu_time)
		       ? g_strdup_printf("%.1fs", (double)json_node_get_int(cpu_time) / 1e9)
		       : g_strdup("-");
	print_field("CPU time", line);
	g_free(line);
	line = g_strdup_printf("%" G_GINT64_FORMAT " (max %" G_GINT64_FORMAT ")",
			       jint(jobj(d, "vcpus"), "current", 0), jint(jobj(d, "vcpus"), "max", 0));
	print_field("vCPUs", line);
	cur = vs_format_size((guint64)jint(jobj(d, "memory"), "current", 0));
	max = vs_format_size((guint64)jint(jobj(d, "memory"), "max", 0));
	g_free(line);
	line = g_strdup_printf("%s (max %s)", cur, max);
	print_field("Memory", line);
	print_balloon(jobj(d, "balloon"));
	if (jstr(d, "threads_problem"))
		print_field("Threads problem", jstr(d, "threads_problem"));
	print_hotplug(jobj(d, "hotplug"));
	if (jobj(d, "skew"))
		print_skew(jobj(d, "skew"));

	printf("\n");
	/* A daemon with a CPU plan says where it placed each vCPU; the
	 * Affinity column stays what /proc says. */
	planned = vcpus && json_array_get_length(vcpus) > 0 &&
		  json_object_has_member(json_array_get_object_element(vcpus, 0), "placement");
	if (planned)
		t = table_new(7, "VCPU", "TID", "CPU", "Affinity", "Comm", "Planned", "Placement");
	else
		t = table_new(5, "VCPU", "TID", "CPU", "Affinity", "Comm");
	for (guint i = 0; vcpus && i < json_array_get_length(vcpus); i++) {
		JsonObject *v = json_array_get_object_element(vcpus, i);
		gint64 tid = jint(v, "tid", 0), cpu = jint(v, "cpu", -1);
		const char *comm = jstr(v, "comm");

		if (!jbool(v, "online"))
			comm = "(offline)";
		else if (tid <= 0)
			comm = "(no thread found)";
		table_add(t, g_strdup_printf("%" G_GINT64_FORMAT, jint(v, "index", 0)));
		table_add(t, tid > 0 ? g_strdup_printf("%" G_GINT64_FORMAT, tid) : g_strdup("-"));
		table_add(t, tid > 0 && cpu >= 0 ? g_strdup_printf("%" G_GINT64_FORMAT, cpu)
						 : g_strdup("-"));
		table_add(t, g_strdup(tid > 0 ? or_dash(jstr(v, "affinity")) : "-"));
		table_add(t, g_strdup(or_dash(comm)));
		if (planned) {
			const char *res = jstr(v, "reservation");

			table_add(t, g_strdup(or_dash(jstr(v, "planned_affinity"))));
			table_add(t, res ? g_strdup_printf("%s; reservation %s",
							   or_dash(jstr(v, "placement")), res)
					 : g_strdup(or_dash(jstr(v, "placement"))));
		}
	}
	table_print(t);
	printf("\n");
	print_threads("Emulator", jarr(d, "emulator"));
	print_threads("IOThread", jarr(d, "iothreads"));
}

static int run_show(const Ctl *ctl, char **args)
{
	g_autoptr(JsonObject) params = json_object_new();
	g_autoptr(VsCtlReply) reply = NULL;
	JsonObject *dom;
	JsonArray *arr;

	json_object_set_string_member(params, "domain", args[0]);
	reply = call_domain(ctl, "org.vsched.Show", args[0], params);
	if (!reply)
		return 1;
	if (ctl->json) {
		print_json(reply->parameters);
		return 0;
	}
	dom = jobj(reply->parameters, "domain");
	if (!dom) {
		fprintf(stderr, "error: malformed reply from vschedd: no \"domain\" object\n");
		return 1;
	}
	print_domain(dom);
	arr = jarr(reply->parameters, "reasons");
	if (arr && json_array_get_length(arr) > 0) {
		printf("\nReasons:\n");
		for (guint i = 0; i < json_array_get_length(arr); i++)
			printf("  %s\n", json_array_get_string_element(arr, i));
	}
	return 0;
}

static int run_simple(const Ctl *ctl, const char *method, const char *done)
{
	g_autoptr(VsCtlReply) reply = call(ctl, method, NULL);

	if (!reply)
		return 1;
	if (ctl->json)
		print_json(reply->parameters);
	else
		printf("%s\n", done);
	return 0;
}

/* The daemon's metrics as Prometheus text, as it would be scraped; with
 * --json, the reply ({"text": ...}). */
static int run_metrics(const Ctl *ctl, char **args)
{
	g_autoptr(VsCtlReply) reply = call(ctl, "org.vsched.Metrics", NULL);
	const char *text;

	if (!reply)
		return 1;
	if (ctl->json) {
		print_json(reply->parameters);
		return 0;
	}
	text = jstr(reply->parameters, "text");
	if (!text) {
		fprintf(stderr, "error: org.vsched.Metrics: the reply has no text\n");
		return 1;
	}
	fputs(text, stdout);
	return 0;
}

static int run_tick(const Ctl *ctl, char **args)
{
	return run_simple(ctl, "org.vsched.Tick", "Tick requested");
}

static int run_reload(const Ctl *ctl, char **args)
{
	return run_simple(ctl, "org.vsched.Reload", "Configuration reload requested");
}

/* How long until @expires_us, for people: "9m58s", "2h5m", "40s". */
static char *format_remaining(int64_t expires_us)
{
	int64_t left = MAX(expires_us - g_get_real_time(), 0) / G_USEC_PER_SEC;
	int64_t h = left / 3600, m = left / 60 % 60, sec = left % 60;

	if (h > 0)
		return m ? g_strdup_printf("%" G_GINT64_FORMAT "h%" G_GINT64_FORMAT "m", h, m)
			 : g_strdup_printf("%" G_GINT64_FORMAT "h", h);
	if (m > 0)
		return sec ? g_strdup_printf("%" G_GINT64_FORMAT "m%" G_GINT64_FORMAT "s", m, sec)
			   : g_strdup_printf("%" G_GINT64_FORMAT "m", m);
	return g_strdup_printf("%" G_GINT64_FORMAT "s", sec);
}

/* "in 9m58s", or "until cleared" for an override without expiry. */
static char *format_expiry(JsonObject *obj)
{
	g_autofree char *left = NULL;
	gint64 expires = jint(obj, "expires_us", 0);

	if (expires <= 0)
		return g_strdup("until cleared");
	left = format_remaining(expires);
	return g_strdup_printf("in %s", left);
}

static void print_overrides(JsonArray *arr)
{
	g_autoptr(Table) t = table_new(5, "Id", "Domain", "Key", "Value", "Expires");

	for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
		JsonObject *o = json_array_get_object_element(arr, i);

		table_add(t, g_strdup(or_dash(jstr(o, "id"))));
		table_add(t, g_strdup(or_dash(jstr(o, "domain"))));
		table_add(t, g_strdup(or_dash(jstr(o, "key"))));
		table_add(t, g_strdup(or_dash(jstr(o, "value"))));
		table_add(t, format_expiry(o));
	}
	table_print(t);
	printf("\n");
}

/* "10-db.policy:4", "default", "override ov-3 (expires in 9m58s)" */
static char *format_origin(JsonObject *k)
{
	const char *origin = jstr(k, "origin");

	if (g_strcmp0(origin, "file") == 0) {
		g_autofree char *base = g_path_get_basename(or_dash(jstr(k, "file")));

		return g_strdup_printf("%s:%" G_GINT64_FORMAT, base, jint(k, "line", 0));
	}
	if (g_strcmp0(origin, "override") == 0) {
		const char *id = or_dash(jstr(k, "override"));
		gint64 expires = jint(k, "expires_us", 0);
		g_autofree char *left = NULL;

		if (expires <= 0)
			return g_strdup_printf("override %s (until cleared)", id);
		left = format_remaining(expires);
		return g_strdup_printf("override %s (expires in %s)", id, left);
	}
	return g_strdup(or_dash(origin));
}

static int run_explain(const Ctl *ctl, char **args)
{
	g_autoptr(JsonObject) params = json_object_new();
	g_autoptr(VsCtlReply) reply = NULL;
	g_autoptr(Table) t = NULL;
	g_autoptr(GString) files = g_string_new(NULL);
	JsonArray *arr;
	JsonObject *p;

	json_object_set_string_member(params, "domain", args[0]);
	reply = call_domain(ctl, "org.vsched.Explain", args[0], params);
	if (!reply)
		return 1;
	p = reply->parameters;
	if (ctl->json) {
		print_json(p);
		return 0;
	}
	arr = jarr(p, "files");
	for (guint i = 0; arr && i < json_array_get_length(arr); i++)
		g_string_append_printf(files, "%s%s", i ? ", " : "",
				       json_array_get_string_element(arr, i));
	print_field("Domain", or_dash(jstr(p, "domain")));
	print_field("UUID", or_dash(jstr(p, "uuid")));
	print_field("Class", or_dash(jstr(p, "class")));
	print_field("Policy files", files->len ? files->str : "none match");
	printf("\n");

	t = table_new(3, "Key", "Value", "From");
	arr = jarr(p, "keys");
	for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
		JsonObject *k = json_array_get_object_element(arr, i);

		table_add(t, g_strdup(or_dash(jstr(k, "key"))));
		table_add(t, g_strdup(or_dash(jstr(k, "value"))));
		table_add(t, format_origin(k));
	}
	table_print(t);
	printf("\n");

	arr = jarr(p, "reasons");
	if (!arr || json_array_get_length(arr) == 0) {
		print_field("Reasons", "none yet (no planner has run for this guest)");
	} else {
		printf("Reasons:\n");
		for (guint i = 0; i < json_array_get_length(arr); i++)
			printf("  %s\n", json_array_get_string_element(arr, i));
	}
	if (jobj(p, "hotplug")) {
		printf("\n");
		print_hotplug(jobj(p, "hotplug"));
	}
	return 0;
}

/* Prints every string of the array @key of @params as "@prefix: ..." on
 * stderr. */
static void print_messages(JsonObject *params, const char *key, const char *prefix)
{
	JsonArray *arr = jarr(params, key);

	for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
		JsonNode *n = json_array_get_element(arr, i);

		if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
			fprintf(stderr, "%s: %s\n", prefix, json_node_get_string(n));
	}
}

/* Sends @method (an override of @domain, with @params) with the
 * --for duration, and prints the domain's overrides, or the daemon's errors
 * and "error: @refused". Returns the exit status. */
static int request_override(const Ctl *ctl, const char *method, const char *domain,
			    JsonObject *params, const char *refused)
{
	g_autoptr(VsCtlReply) reply = NULL;

	if (ctl->for_us > 0)
		json_object_set_int_member(params, "for_us", ctl->for_us);
	reply = request(ctl, method, params);
	if (!reply)
		return 1;
	if (g_strcmp0(reply->error, VS_CTL_ERROR_INVALID_OVERRIDE) == 0) {
		print_messages(reply->parameters, "errors", "error");
		fprintf(stderr, "error: %s\n", refused);
		return 1;
	}
	if (!domain_reply_ok(method, domain, reply))
		return 1;
	print_messages(reply->parameters, "warnings", "warning");
	if (ctl->json)
		print_json(reply->parameters);
	else
		print_overrides(jarr(reply->parameters, "overrides"));
	return 0;
}

static int run_override_set(const Ctl *ctl, char **args)
{
	static const char method[] = "org.vsched.SetOverride";
	g_autoptr(JsonObject) params = json_object_new();
	JsonArray *assignments = json_array_new();

	for (guint i = 1; args[i]; i++)
		json_array_add_string_element(assignments, args[i]);
	json_object_set_string_member(params, "domain", args[0]);
	json_object_set_array_member(params, "assignments", assignments);
	return request_override(ctl, method, args[0], params, "no override was set");
}

/* vcpupin DOMAIN VCPU CPULIST: an override of Pin=VCPU:CPULIST, one per
 * vCPU (a new one for the same vCPU replaces the old). */
static int run_vcpupin(const Ctl *ctl, char **args)
{
	g_autofree char *pin = g_strdup_printf("Pin=%s:%s", args[1], args[2]);
	char *override_args[] = { args[0], pin, NULL };

	return run_override_set(ctl, override_args);
}

/* setvcpus DOMAIN N: an override of Hotplug.VCPUs=N, which the daemon
 * checks against the domain's maximum and MinVCPUs..MaxVCPUs. */
static int run_setvcpus(const Ctl *ctl, char **args)
{
	static const char method[] = "org.vsched.SetVcpus";
	g_autoptr(JsonObject) params = json_object_new();
	guint64 n;

	if (!g_ascii_string_to_unsigned(args[1], 10, 1, 4096, &n, NULL)) {
		fprintf(stderr, "error: VCPUS '%s': not a number of vCPUs (1..4096)\n", args[1]);
		return 1;
	}
	json_object_set_string_member(params, "domain", args[0]);
	json_object_set_int_member(params, "vcpus", (gint64)n);
	return request_override(ctl, method, args[0], params, "the vCPU count was not changed");
}

static int run_override_list(const Ctl *ctl, char **args)
{
	g_autoptr(VsCtlReply) reply = call(ctl, "org.vsched.ListOverrides", NULL);

	if (!reply)
		return 1;
	if (ctl->json)
		print_json(reply->parameters);
	else
		print_overrides(jarr(reply->parameters, "overrides"));
	return 0;
}

static int run_override_clear(const Ctl *ctl, char **args)
{
	static const char method[] = "org.vsched.ClearOverride";
	g_autoptr(JsonObject) params = json_object_new();
	g_autoptr(VsCtlReply) reply = NULL;

	json_object_set_string_member(params, "domain", args[0]);
	if (args[1])
		json_object_set_string_member(params, "key", args[1]);
	reply = request(ctl, method, params);
	if (!reply)
		return 1;
	if (g_strcmp0(reply->error, VS_CTL_ERROR_INVALID_PARAMETER) == 0 && args[1] &&
	    g_strcmp0(jstr(reply->parameters, "parameter"), "key") == 0) {
		fprintf(stderr, "error: unknown policy key '%s' (see 'vschedctl policy keys')\n",
			args[1]);
		return 1;
	}
	if (!domain_reply_ok(method, args[0], reply))
		return 1;
	if (ctl->json)
		print_json(reply->parameters);
	else
		printf("Removed %" G_GINT64_FORMAT " override(s)\n",
		       jint(reply->parameters, "removed", 0));
	return 0;
}

static int run_policy_check(const Ctl *ctl, char **args)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	g_autoptr(VsPolicySet) set = NULL;
	guint errors;

	if (args[0] && ctl->dir) {
		fprintf(stderr, "error: give either --dir or policy files, not both\n");
		return 1;
	}
	if (args[0])
		set = vs_policy_set_load_files((const char *const *)args, diags);
	else
		set = vs_policy_set_load_dir(ctl->dir ? ctl->dir : POLICY_DIR, diags);
	for (guint i = 0; i < diags->len; i++) {
		const VsPolicyDiag *d = g_ptr_array_index(diags, i);

		fprintf(stderr, "%s: %s\n", d->warning ? "warning" : "error", d->message);
	}
	errors = vs_policy_diags_errors(diags);
	if (!set || errors > 0) {
		fprintf(stderr, "policy check failed: %u error(s)\n", errors);
		return 1;
	}
	printf("policy OK: %u file(s)\n", set->files->len);
	return 0;
}

static int run_policy_keys(const Ctl *ctl, char **args)
{
	g_autoptr(Table) t = table_new(6, "Section", "Key", "Type", "Range", "Default", "Help");
	g_autoptr(JsonObject) params = json_object_new();
	JsonArray *arr = json_array_new();

	json_object_set_array_member(params, "keys", arr);
	for (const VsPolicyKey *k = vs_policy_keys; k->name; k++) {
		g_autofree char *range = vs_policy_key_range(k);
		JsonObject *o = json_object_new();

		json_object_set_string_member(o, "section", k->section);
		json_object_set_string_member(o, "key", k->name);
		json_object_set_string_member(o, "type", vs_policy_type_name(k->type));
		json_object_set_string_member(o, "range", range);
		if (k->default_value)
			json_object_set_string_member(o, "default", k->default_value);
		else
			json_object_set_null_member(o, "default");
		json_object_set_boolean_member(o, "repeatable", k->repeatable);
		json_object_set_string_member(o, "help", k->help);
		json_array_add_object_element(arr, o);

		table_add(t, g_strdup(k->section));
		table_add(t, g_strdup(k->name));
		table_add(t, g_strdup(vs_policy_type_name(k->type)));
		table_add(t, g_strdup(range));
		table_add(t, g_strdup(or_dash(k->default_value)));
		table_add(t, g_strdup(k->help));
	}
	if (ctl->json) {
		print_json(params);
		return 0;
	}
	table_print(t);
	printf("\n");
	return 0;
}

static int run_help(const Ctl *ctl, char **args)
{
	print_usage(stdout);
	return 0;
}

/* A percentage member of a steal window, or "-" when it is null. */
static char *format_pct(JsonObject *w, const char *key)
{
	JsonNode *n = w ? json_object_get_member(w, key) : NULL;

	if (!n || !JSON_NODE_HOLDS_VALUE(n))
		return g_strdup("-");
	return g_strdup_printf("%.1f", json_node_get_double(n));
}

static double jdouble(JsonObject *obj, const char *key)
{
	JsonNode *n = obj ? json_object_get_member(obj, key) : NULL;

	return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_double(n) : 0.0;
}

/* The window @ctl asks for of a guest or vCPU object. */
static JsonObject *steal_window(const Ctl *ctl, JsonObject *obj)
{
	return jobj(jobj(obj, "windows"), ctl->window);
}

/* Appends the five figure columns of @w: steal, contention, cap,
 * reservation, CPU. */
static void add_figures(Table *t, JsonObject *w)
{
	table_add(t, format_pct(w, "steal_pct"));
	table_add(t, format_pct(w, "contention_pct"));
	table_add(t, format_pct(w, "cap_pct"));
	table_add(t, format_pct(w, "reservation_pct"));
	table_add(t, format_pct(w, "cpu_pct"));
}

static JsonObject *call_steal(const Ctl *ctl, const char *ref, VsCtlReply **ret_reply)
{
	g_autoptr(JsonObject) params = json_object_new();
	VsCtlReply *reply;

	if (ref) {
		json_object_set_string_member(params, "domain", ref);
		reply = call_domain(ctl, "org.vsched.Steal", ref, params);
	} else {
		reply = call(ctl, "org.vsched.Steal", NULL);
	}
	*ret_reply = reply;
	return reply ? reply->parameters : NULL;
}

static void print_steal_domain(const Ctl *ctl, JsonObject *g)
{
	g_autoptr(Table) t = table_new(8, "VCPU", "TID", "Steal%", "Contention%", "Cap%",
				       "Reservation%", "CPU%", "Libvirt");
	JsonObject *w = steal_window(ctl, g);
	JsonArray *vcpus = jarr(g, "vcpu");
	g_autofree char *line = NULL;
	g_autofree char *steal = format_pct(w, "steal_pct");
	g_autofree char *contention = format_pct(w, "contention_pct");
	g_autofree char *cap = format_pct(w, "cap_pct");
	g_autofree char *reservation = format_pct(w, "reservation_pct");
	g_autofree char *cpu = format_pct(w, "cpu_pct");
	g_autofree char *entitled = format_pct(w, "entitled_pct");
	g_autofree char *deficit = format_pct(w, "deficit_pct");

	print_field("Name", or_dash(jstr(g, "name")));
	print_field("UUID", or_dash(jstr(g, "uuid")));
	line = g_strdup_printf("%s (%.1f s measured)", ctl->window,
			       (double)jint(w, "wall_ns", 0) / 1e9);
	print_field("Window", line);
	g_free(line);
	line = g_strdup_printf("%s%% (contention %s%%, cap %s%%, reservation %s%%) of %"
			       G_GINT64_FORMAT " vCPU(s)", steal, contention, cap, reservation,
			       jint(g, "vcpus", 0));
	print_field("Steal", line);
	g_free(line);
	line = g_strdup_printf("%s%%", cpu);
	print_field("CPU", line);
	if (strcmp(entitled, "-") != 0) {
		g_free(line);
		line = g_strdup_printf("%s%% entitled, deficit %s%%", entitled, deficit);
		print_field("Entitlement", line);
	} else {
		print_field("Entitlement", "not known (no CPU plan)");
	}
	print_field("Guest view", or_dash(jstr(g, "guest_view")));
	if (jbool(g, "alert"))
		print_field("Alert", or_dash(jstr(g, "alert_condition")));
	printf("\n");
	for (guint i = 0; vcpus && i < json_array_get_length(vcpus); i++) {
		JsonObject *v = json_array_get_object_element(vcpus, i);
		JsonObject *vw = steal_window(ctl, v);
		gint64 tid = jint(v, "tid", 0);

		table_add(t, g_strdup_printf("%" G_GINT64_FORMAT, jint(v, "index", 0)));
		table_add(t, tid > 0 ? g_strdup_printf("%" G_GINT64_FORMAT, tid) : g_strdup("-"));
		add_figures(t, vw);
		table_add(t, g_strdup(or_dash(jstr(vw, "libvirt_check"))));
	}
	table_print(t);
	printf("\n");
	for (guint i = 0; vcpus && i < json_array_get_length(vcpus); i++) {
		JsonObject *v = json_array_get_object_element(vcpus, i);
		g_autofree char *label = g_strdup_printf("vCPU %" G_GINT64_FORMAT,
							 jint(v, "index", 0));

		if (jstr(v, "problem"))
			print_field(label, jstr(v, "problem"));
		if (jstr(v, "throttle_problem"))
			print_field(label, jstr(v, "throttle_problem"));
	}
}

static int run_steal(const Ctl *ctl, char **args)
{
	g_autoptr(VsCtlReply) reply = NULL;
	g_autoptr(Table) t = NULL;
	JsonObject *p = call_steal(ctl, args[0], &reply);
	JsonArray *guests;

	if (!p)
		return 1;
	if (ctl->json) {
		print_json(p);
		return 0;
	}
	guests = jarr(p, "guests");
	if (args[0]) {
		if (!guests || json_array_get_length(guests) == 0) {
			fprintf(stderr, "error: domain '%s' is not running: no steal figures\n",
				args[0]);
			return 1;
		}
		print_steal_domain(ctl, json_array_get_object_element(guests, 0));
		return 0;
	}
	t = table_new(7, "Name", "vCPUs", "Steal%", "Contention%", "Cap%", "Reservation%", "CPU%");
	for (guint i = 0; guests && i < json_array_get_length(guests); i++) {
		JsonObject *g = json_array_get_object_element(guests, i);

		table_add(t, g_strdup(or_dash(jstr(g, "name"))));
		table_add(t, g_strdup_printf("%" G_GINT64_FORMAT, jint(g, "vcpus", 0)));
		add_figures(t, steal_window(ctl, g));
	}
	printf(" Window: %s; counters from %s\n\n", ctl->window, or_dash(jstr(p, "source")));
	table_print(t);
	printf("\n");
	return 0;
}

/* Guests by steal in the window, highest first, then by name. */
static gint compare_by_steal(gconstpointer a, gconstpointer b, gpointer data)
{
	const Ctl *ctl = data;
	JsonObject *x = *(JsonObject *const *)a, *y = *(JsonObject *const *)b;
	double sx = jdouble(steal_window(ctl, x), "steal_pct");
	double sy = jdouble(steal_window(ctl, y), "steal_pct");

	if (sx != sy)
		return sx > sy ? -1 : 1;
	return g_strcmp0(jstr(x, "name"), jstr(y, "name"));
}

/* One frame of `top`. */
static void print_top(const Ctl *ctl, JsonObject *p)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *clock = g_date_time_format(now, "%H:%M:%S");
	g_autoptr(GPtrArray) guests = g_ptr_array_new();
	g_autoptr(Table) t = table_new(8, "Name", "vCPUs", "CPU%", "Steal%", "Contention%", "Cap%",
				       "Reservation%", "Alert");
	JsonObject *host = jobj(p, "host"), *psi = jobj(host, "psi_cpu");
	JsonArray *arr = jarr(p, "guests");
	g_autofree char *busy = format_pct(host, "busy_pct");
	g_autofree char *pressure = psi ? format_pct(psi, "some_avg10") : g_strdup("-");

	printf("vschedctl top - %s, tick %" G_GINT64_FORMAT ", window %s, counters from %s\n",
	       clock, jint(p, "tick", 0), ctl->window, or_dash(jstr(p, "source")));
	printf("Host: %" G_GINT64_FORMAT " CPUs, %s%% busy, CPU pressure some %s%% (10 s)\n\n",
	       jint(host, "cpus", 0), busy, pressure);
	for (guint i = 0; arr && i < json_array_get_length(arr); i++)
		g_ptr_array_add(guests, json_array_get_object_element(arr, i));
	g_ptr_array_sort_with_data(guests, compare_by_steal, (gpointer)ctl);
	for (guint i = 0; i < guests->len; i++) {
		JsonObject *g = g_ptr_array_index(guests, i);
		JsonObject *w = steal_window(ctl, g);

		table_add(t, g_strdup(or_dash(jstr(g, "name"))));
		table_add(t, g_strdup_printf("%" G_GINT64_FORMAT, jint(g, "vcpus", 0)));
		table_add(t, format_pct(w, "cpu_pct"));
		table_add(t, format_pct(w, "steal_pct"));
		table_add(t, format_pct(w, "contention_pct"));
		table_add(t, format_pct(w, "cap_pct"));
		table_add(t, format_pct(w, "reservation_pct"));
		table_add(t, g_strdup(jbool(g, "alert") ? or_dash(jstr(g, "alert_condition")) : "-"));
	}
	table_print(t);
	printf("\n");
}

static int run_top(const Ctl *ctl, char **args)
{
	for (gint64 n = 0; ctl->iterations == 0 || n < ctl->iterations; n++) {
		g_autoptr(VsCtlReply) reply = NULL;
		JsonObject *p;

		if (n > 0)
			g_usleep((gulong)ctl->interval_us);
		p = call_steal(ctl, NULL, &reply);
		if (!p)
			return 1;
		/* Home and clear, as top does; not for a single frame, which
		 * scripts and tests read. */
		if (ctl->iterations != 1)
			printf("\033[H\033[2J");
		print_top(ctl, p);
		fflush(stdout);
	}
	return 0;
}

/* A size member as "512.0 MiB", or "-" when it is null or absent. */
static char *format_size_member(JsonObject *obj, const char *key)
{
	JsonNode *n = obj && json_object_has_member(obj, key) ? json_object_get_member(obj, key)
							      : NULL;

	if (!n || !JSON_NODE_HOLDS_VALUE(n))
		return g_strdup("-");
	return vs_format_size((uint64_t)MAX(json_node_get_int(n), 0));
}

/* The lines of one guest of `mem DOMAIN`. */
static void print_mem_guest(JsonObject *g)
{
	g_autofree char *current = format_size_member(g, "current");
	g_autofree char *target = format_size_member(g, "target");
	g_autofree char *maximum = format_size_member(g, "maximum");
	g_autofree char *low = format_size_member(g, "low");
	g_autofree char *floor = format_size_member(g, "floor");
	g_autofree char *used = format_size_member(g, "used");
	g_autofree char *last_used = format_size_member(g, "last_used");
	g_autofree char *usable = format_size_member(g, "usable");
	g_autofree char *override = format_size_member(g, "override_target");
	g_autofree char *bounds = g_strdup_printf("%s .. %s", low, maximum);
	g_autofree char *use = NULL;
	g_autofree char *follow = NULL;

	if (jbool(g, "stats_trusted"))
		use = g_strdup_printf("%s (usable %s)", used, usable);
	else
		use = g_strdup_printf("untrusted (last trusted: %s)%s%s", last_used,
				      jstr(g, "stats_problem") ? ": " : "",
				      jstr(g, "stats_problem") ? jstr(g, "stats_problem") : "");
	follow = jstr(g, "following_problem")
		? g_strdup_printf("%s: %s", or_dash(jstr(g, "following")), jstr(g, "following_problem"))
		: g_strdup(or_dash(jstr(g, "following")));
	print_field("Domain", or_dash(jstr(g, "name")));
	print_field("Managed", jbool(g, "managed") ? "yes" : "no (Balloon=no)");
	print_field("Balloon", current);
	print_field("Target", target);
	print_field("Action", or_dash(jstr(g, "action")));
	print_field("Allowed", bounds);
	print_field("Floor", floor);
	print_field("Used", use);
	if (jstr(g, "override_origin")) {
		g_autofree char *text = g_strdup_printf("%s (%s)", override, jstr(g, "override_origin"));
		print_field("Set to", text);
	}
	print_field("Following", follow);
	print_field("Reason", or_dash(jstr(g, "reason")));
}

static int run_mem(const Ctl *ctl, char **args)
{
	static const char method[] = "org.vsched.Memory";
	g_autoptr(JsonObject) params = json_object_new();
	g_autoptr(VsCtlReply) reply = NULL;
	g_autoptr(Table) t = NULL;
	g_autofree char *state = NULL;
	g_autofree char *budget = NULL;
	g_autofree char *current = NULL;
	g_autofree char *held = NULL;
	JsonObject *p, *host;
	JsonArray *guests, *triggers;

	if (args[0])
		json_object_set_string_member(params, "domain", args[0]);
	reply = args[0] ? call_domain(ctl, method, args[0], params) : call(ctl, method, params);
	if (!reply)
		return 1;
	p = reply->parameters;
	if (ctl->json) {
		print_json(p);
		return 0;
	}
	host = jobj(p, "host");
	guests = jarr(p, "guests");
	if (args[0]) {
		if (!guests || json_array_get_length(guests) == 0) {
			fprintf(stderr, "error: domain '%s' is not running: no balloon\n", args[0]);
			return 1;
		}
		print_mem_guest(json_array_get_object_element(guests, 0));
		return 0;
	}
	state = g_strdup_printf("%s for %" G_GINT64_FORMAT " s: %s", or_dash(jstr(host, "state")),
				jint(host, "state_for_us", 0) / G_USEC_PER_SEC,
				or_dash(jstr(host, "state_reason")));
	print_field("Host memory", state);
	budget = format_size_member(host, "budget");
	print_field("Budget", strcmp(budget, "-") == 0 ? "none" : budget);
	current = format_size_member(host, "guests_current");
	held = g_strdup_printf("%s%s", current,
			       jbool(host, "acting") ? "" : " (not acting: targets are only logged)");
	print_field("Guests hold", held);
	triggers = jarr(host, "psi_triggers");
	if (triggers && json_array_get_length(triggers) > 0) {
		g_autoptr(GString) text = g_string_new(NULL);

		for (guint i = 0; i < json_array_get_length(triggers); i++)
			g_string_append_printf(text, "%s%s", i ? ", " : "",
					       json_array_get_string_element(triggers, i));
		print_field("PSI triggers", text->str);
	} else {
		g_autofree char *text = g_strdup_printf("not armed: %s",
							or_dash(jstr(host, "psi_trigger_problem")));
		print_field("PSI triggers", text);
	}
	print_field("Plan", or_dash(jstr(host, "summary")));
	printf("\n");
	t = table_new(8, "Name", "Balloon", "Target", "Maximum", "Floor", "Used", "Action",
		      "Following");
	for (guint i = 0; guests && i < json_array_get_length(guests); i++) {
		JsonObject *g = json_array_get_object_element(guests, i);

		table_add(t, g_strdup(or_dash(jstr(g, "name"))));
		table_add(t, format_size_member(g, "current"));
		table_add(t, format_size_member(g, "target"));
		table_add(t, format_size_member(g, "maximum"));
		table_add(t, format_size_member(g, "floor"));
		table_add(t, jbool(g, "stats_trusted") ? format_size_member(g, "used")
						      : g_strdup("untrusted"));
		table_add(t, g_strdup(jbool(g, "managed") ? or_dash(jstr(g, "action")) : "unmanaged"));
		table_add(t, g_strdup(or_dash(jstr(g, "following"))));
	}
	table_print(t);
	return 0;
}

/* setmem DOMAIN SIZE: an override of Memory.Target, checked by the daemon
 * against the guest's maximum and what it uses plus Margin=. */
static int run_setmem(const Ctl *ctl, char **args)
{
	static const char method[] = "org.vsched.SetMemory";
	g_autoptr(JsonObject) params = json_object_new();
	g_autoptr(GError) error = NULL;
	uint64_t bytes;

	if (vs_parse_size(args[1], &bytes, &error) < 0) {
		fprintf(stderr, "error: size '%s': %s\n", args[1], error->message);
		return 1;
	}
	json_object_set_string_member(params, "domain", args[0]);
	json_object_set_string_member(params, "size", args[1]);
	return request_override(ctl, method, args[0], params, "the balloon target was not set");
}

static const Verb verbs[] = {
	{ "status", "", "daemon, host, capability and policy status", 0, 0, OPT_JSON, run_status },
	{ "list", "[--all]", "list domains (running ones unless --all)", 0, 0, OPT_JSON | OPT_ALL,
	  run_list },
	{ "show", "DOMAIN", "show a domain (name, UUID or id) and its threads", 1, 1, OPT_JSON,
	  run_show },
	{ "explain", "DOMAIN", "a domain's policy, where each value comes from, and why", 1, 1,
	  OPT_JSON, run_explain },
	{ "steal", "[DOMAIN] [--window 10s|1m|5m]",
	  "steal time by cause per guest, or per vCPU of a domain", 0, 1, OPT_JSON | OPT_WINDOW,
	  run_steal },
	{ "top", "[--interval 1s] [--iterations N]", "a live view of guests by steal and CPU", 0, 0,
	  OPT_WINDOW | OPT_INTERVAL | OPT_ITERATIONS, run_top },
	{ "mem", "[DOMAIN]", "host memory state and each guest's balloon target, and why", 0, 1,
	  OPT_JSON, run_mem },
	{ "setmem", "DOMAIN SIZE [--for DURATION]",
	  "set a guest's balloon target (an override of Memory.Target; root)", 2, 2,
	  OPT_JSON | OPT_FOR, run_setmem },
	{ "override", "DOMAIN KEY=VALUE... [--for DURATION]",
	  "override policy keys of a domain, until cleared or for a while (root)", 2, G_MAXUINT,
	  OPT_JSON | OPT_FOR, run_override_set },
	{ "override list", "", "list the overrides in force", 0, 0, OPT_JSON, run_override_list },
	{ "override clear", "DOMAIN [KEY]", "remove a domain's overrides, or those of KEY (root)",
	  1, 2, OPT_JSON, run_override_clear },
	{ "vcpupin", "DOMAIN VCPU CPULIST [--for DURATION]",
	  "pin a vCPU to host CPUs (an override of Pin=VCPU:CPULIST) (root)", 3, 3,
	  OPT_JSON | OPT_FOR, run_vcpupin },
	{ "setvcpus", "DOMAIN VCPUS [--for DURATION]",
	  "hold a domain at VCPUS online vCPUs (an override of Hotplug.VCPUs) (root)", 2, 2,
	  OPT_JSON | OPT_FOR, run_setvcpus },
	{ "policy check", "[--dir DIR | FILE...]",
	  "check policy files without the daemon (default: " POLICY_DIR ")", 0, G_MAXUINT, OPT_DIR,
	  run_policy_check },
	{ "policy keys", "", "list the keys policy files may set", 0, 0, OPT_JSON, run_policy_keys },
	{ "metrics", "", "the daemon's metrics in the Prometheus text format", 0, 0, OPT_JSON,
	  run_metrics },
	{ "tick", "", "run a tick now (root)", 0, 0, OPT_JSON, run_tick },
	{ "reload", "", "re-read the configuration and the policies (root)", 0, 0, OPT_JSON,
	  run_reload },
	{ "help", "", "show this help", 0, 0, 0, run_help },
};

static void print_usage(FILE *out)
{
	fprintf(out, "Usage: vschedctl [--socket PATH] [--json] VERB [ARGS]\n\n"
		     "Verbs:\n");
	for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++) {
		g_autofree char *cmd = g_strdup_printf("%s %s", verbs[i].name, verbs[i].synopsis);

		if (strlen(cmd) > 28)
			fprintf(out, "  %s\n  %-28s %s\n", cmd, "", verbs[i].help);
		else
			fprintf(out, "  %-28s %s\n", cmd, verbs[i].help);
	}
	fprintf(out, "\nOptions:\n"
		     "  -s, --socket PATH   the control socket (default: $VSCHED_SOCKET, else %s)\n"
		     "  -j, --json          print the daemon's reply as JSON (list: every domain)\n"
		     "  -a, --all           list: include domains that are not running\n"
		     "  --dir DIR           policy check: the policy directory to check\n"
		     "  --for DURATION      override: expire after DURATION (\"10min\", \"2h\")\n"
		     "  --window WINDOW     steal, top: the window, 10s (default), 1m or 5m\n"
		     "  --interval DURATION top: time between refreshes (default 1s)\n"
		     "  --iterations N      top: refresh N times, then exit (default: until interrupted)\n"
		     "  -V, --version       print the version and exit\n"
		     "  -h, --help          show this help\n",
		VS_CTL_DEFAULT_SOCKET);
}

/* The verb that @words (@n of them) start with: a two-word verb when its
 * subcommand is given, else a one-word verb. Sets *ret_len to the number
 * of words its name takes. */
static const Verb *find_verb(char **words, guint n, guint *ret_len)
{
	const Verb *best = NULL;
	guint best_len = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++) {
		g_auto(GStrv) name = g_strsplit(verbs[i].name, " ", -1);
		guint len = g_strv_length(name), k;

		if (len > n || len <= best_len)
			continue;
		for (k = 0; k < len && strcmp(name[k], words[k]) == 0; k++)
			;
		if (k == len) {
			best = &verbs[i];
			best_len = len;
		}
	}
	*ret_len = best_len;
	return best;
}

/* The subcommands of @group ("check, keys" for "policy"), or NULL when
 * no verb has @group as its first word. */
static char *subcommands(const char *group)
{
	g_autoptr(GString) list = g_string_new(NULL);
	size_t len = strlen(group);

	for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
		if (strncmp(verbs[i].name, group, len) == 0 && verbs[i].name[len] == ' ')
			g_string_append_printf(list, "%s%s", list->len ? ", " : "",
					       verbs[i].name + len + 1);
	if (list->len == 0)
		return NULL;
	return g_string_free(g_steal_pointer(&list), FALSE);
}

/* Fails (with a message) when an option was given to a verb that does not
 * take it. */
static bool check_options(const Verb *verb, VerbOpts given)
{
	static const struct {
		VerbOpts opt;
		const char *name;
	} names[] = {
		{ OPT_JSON, "--json" },
		{ OPT_ALL, "--all" },
		{ OPT_DIR, "--dir" },
		{ OPT_FOR, "--for" },
		{ OPT_WINDOW, "--window" },
		{ OPT_INTERVAL, "--interval" },
		{ OPT_ITERATIONS, "--iterations" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		if ((given & names[i].opt) && !(verb->opts & names[i].opt)) {
			fprintf(stderr, "error: command '%s' doesn't support option %s\n", verb->name,
				names[i].name);
			return false;
		}
	}
	return true;
}

int main(int argc, char **argv)
{
	g_autofree char *opt_socket = NULL, *opt_dir = NULL, *opt_for = NULL;
	g_autofree char *opt_window = NULL, *opt_interval = NULL;
	gint opt_iterations = G_MININT;
	gboolean opt_json = FALSE, opt_all = FALSE, opt_version = FALSE, opt_help = FALSE;
	const GOptionEntry entries[] = {
		{ "socket", 's', 0, G_OPTION_ARG_FILENAME, &opt_socket, NULL, NULL },
		{ "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, NULL, NULL },
		{ "all", 'a', 0, G_OPTION_ARG_NONE, &opt_all, NULL, NULL },
		{ "dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_dir, NULL, NULL },
		{ "for", 0, 0, G_OPTION_ARG_STRING, &opt_for, NULL, NULL },
		{ "window", 0, 0, G_OPTION_ARG_STRING, &opt_window, NULL, NULL },
		{ "interval", 0, 0, G_OPTION_ARG_STRING, &opt_interval, NULL, NULL },
		{ "iterations", 0, 0, G_OPTION_ARG_INT, &opt_iterations, NULL, NULL },
		{ "version", 'V', 0, G_OPTION_ARG_NONE, &opt_version, NULL, NULL },
		{ "help", 'h', 0, G_OPTION_ARG_NONE, &opt_help, NULL, NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) octx = g_option_context_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *group = NULL;
	const Verb *verb = NULL;
	VerbOpts given = 0;
	VsStealWindow window;
	guint n_args, name_len;
	Ctl ctl = { 0 };

	setlocale(LC_ALL, "");
	g_option_context_set_help_enabled(octx, FALSE);
	g_option_context_add_main_entries(octx, entries, NULL);
	if (!g_option_context_parse(octx, &argc, &argv, &error)) {
		fprintf(stderr, "error: %s (see 'vschedctl help')\n", error->message);
		return 1;
	}
	if (opt_version) {
		printf("%s\n", PACKAGE_VERSION);
		return 0;
	}
	if (opt_help) {
		print_usage(stdout);
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "error: no verb given\n");
		print_usage(stderr);
		return 1;
	}
	verb = find_verb(argv + 1, (guint)argc - 1, &name_len);
	if (!verb) {
		group = subcommands(argv[1]);
		if (group)
			fprintf(stderr, "error: command '%s' requires a subcommand: %s\n", argv[1], group);
		else
			fprintf(stderr, "error: unknown command: '%s'\n", argv[1]);
		return 1;
	}
	n_args = (guint)argc - 1 - name_len;
	if (n_args < verb->min_args) {
		fprintf(stderr, "error: command '%s' requires %s\n", verb->name, verb->synopsis);
		return 1;
	}
	if (n_args > verb->max_args) {
		fprintf(stderr, "error: unexpected data '%s'\n", argv[1 + name_len + verb->max_args]);
		return 1;
	}
	given = (opt_json ? OPT_JSON : 0) | (opt_all ? OPT_ALL : 0) | (opt_dir ? OPT_DIR : 0) |
		(opt_for ? OPT_FOR : 0) | (opt_window ? OPT_WINDOW : 0) |
		(opt_interval ? OPT_INTERVAL : 0) | (opt_iterations != G_MININT ? OPT_ITERATIONS : 0);
	if (!check_options(verb, given))
		return 1;
	if (opt_for) {
		if (vs_parse_duration_us(opt_for, &ctl.for_us, &error) < 0) {
			fprintf(stderr, "error: --for: %s\n", error->message);
			return 1;
		}
		if (ctl.for_us <= 0) {
			fprintf(stderr, "error: --for must be longer than 0 "
					"(leave it out for an override until cleared)\n");
			return 1;
		}
	}

	ctl.window = opt_window ? opt_window : "10s";
	if (opt_window && !vs_steal_window_parse(opt_window, &window)) {
		fprintf(stderr, "error: --window must be 10s, 1m or 5m, not '%s'\n", opt_window);
		return 1;
	}
	if (opt_window)
		ctl.window = vs_steal_window_name(window);
	ctl.interval_us = G_USEC_PER_SEC;
	if (opt_interval && (vs_parse_duration_us(opt_interval, &ctl.interval_us, &error) < 0 ||
			     ctl.interval_us < 100000)) {
		fprintf(stderr, "error: --interval: %s\n",
			error ? error->message : "must be at least 100ms");
		return 1;
	}
	if (opt_iterations != G_MININT && opt_iterations < 0) {
		fprintf(stderr, "error: --iterations must be 0 (until interrupted) or more\n");
		return 1;
	}
	ctl.iterations = MAX(opt_iterations, 0);

	ctl.socket = opt_socket ? opt_socket : g_getenv("VSCHED_SOCKET");
	if (!ctl.socket || !*ctl.socket)
		ctl.socket = VS_CTL_DEFAULT_SOCKET;
	ctl.json = opt_json;
	ctl.all = opt_all;
	ctl.dir = opt_dir;
	return verb->run(&ctl, argv + 1 + name_len);
}
