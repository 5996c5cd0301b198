/* The control API's method table and handlers; see methods.h. Rendering
 * follows doc/control-protocol.md field by field: a field the daemon does
 * not know is null (or left out, for balloon statistics the guest did not
 * report), never a made-up zero. The policy methods (Explain and the
 * overrides) work on the daemon's policy set and overrides through the
 * pure API of policy/policy.h; the server's handlers are the only writers
 * of the overrides besides the daemon's expiry. */
#include "config.h"

#include "ctl/methods.h"

#include <string.h>

#include "util/units.h"

/* Sets a string member, null for NULL. Strings from the system (thread
 * names, libvirt metadata) are made valid UTF-8 so the reply stays JSON. */
static void set_str(JsonObject *obj, const char *key, const char *value)
{
	if (!value) {
		json_object_set_null_member(obj, key);
	} else if (g_utf8_validate(value, -1, NULL)) {
		json_object_set_string_member(obj, key, value);
	} else {
		g_autofree char *valid = g_utf8_make_valid(value, -1);
		json_object_set_string_member(obj, key, valid);
	}
}

static void set_int(JsonObject *obj, const char *key, gint64 value)
{
	json_object_set_int_member(obj, key, value);
}

/* Sets an unsigned counter; values past G_MAXINT64 (never seen in practice)
 * are clamped so that JSON readers do not see them negative. */
static void set_u64(JsonObject *obj, const char *key, guint64 value)
{
	json_object_set_int_member(obj, key, (gint64)MIN(value, (guint64)G_MAXINT64));
}

static void set_cpuset(JsonObject *obj, const char *key, const VsCpuSet *set)
{
	g_autofree char *text = set ? vs_cpuset_format(set) : NULL;

	set_str(obj, key, text);
}

static JsonArray *strv_array(char *const *strv)
{
	JsonArray *arr = json_array_new();

	for (size_t i = 0; strv && strv[i]; i++)
		json_array_add_string_element(arr, strv[i]);
	return arr;
}

static void set_psi(JsonObject *obj, const char *key, const VsPsi *psi)
{
	JsonObject *p;

	if (!psi->available) {
		json_object_set_null_member(obj, key);
		return;
	}
	p = json_object_new();
	json_object_set_double_member(p, "some_avg10", psi->some.avg10);
	json_object_set_double_member(p, "some_avg60", psi->some.avg60);
	if (psi->has_full) {
		json_object_set_double_member(p, "full_avg10", psi->full.avg10);
		json_object_set_double_member(p, "full_avg60", psi->full.avg60);
	} else {
		json_object_set_null_member(p, "full_avg10");
		json_object_set_null_member(p, "full_avg60");
	}
	json_object_set_object_member(obj, key, p);
}

static JsonObject *render_host(const VsHost *host)
{
	JsonObject *obj = json_object_new();
	JsonObject *mem = json_object_new();
	JsonObject *cg = json_object_new();

	set_cpuset(obj, "cpus", host->topology.online);
	set_int(obj, "cpu_count", host->topology.online ? vs_cpuset_count(host->topology.online) : 0);
	json_object_set_boolean_member(obj, "smt", host->topology.smt);
	set_int(obj, "numa_nodes", host->topology.n_nodes);

	set_u64(mem, "total", host->mem.total);
	set_u64(mem, "available", host->mem.available);
	set_u64(mem, "free", host->mem.free);
	set_u64(mem, "swap_total", host->mem.swap_total);
	set_u64(mem, "swap_free", host->mem.swap_free);
	json_object_set_object_member(obj, "memory", mem);

	set_psi(obj, "psi_memory", &host->psi_memory);
	set_psi(obj, "psi_cpu", &host->psi_cpu);

	set_str(cg, "mode", vs_cgroup_mode_name(host->cgroup.mode));
	set_str(cg, "v2_mount", host->cgroup.v2_mount);
	json_object_set_array_member(cg, "v2_controllers", strv_array(host->cgroup.v2_controllers));
	json_object_set_array_member(cg, "v1_controllers", strv_array(host->cgroup.v1_controllers));
	json_object_set_object_member(obj, "cgroup", cg);
	return obj;
}

static JsonArray *render_caps(const VsHostCaps *caps)
{
	const struct {
		const char *name;
		const VsCap *cap;
	} list[] = {
		{ "deadline", &caps->deadline },
		{ "cpuset_partitions", &caps->cpuset_partitions },
		{ "sched_core", &caps->sched_core },
		{ "taskstats", &caps->taskstats },
		{ "psi", &caps->psi },
		{ "cgroup_v2_cpu", &caps->cgroup_v2_cpu },
		{ "cgroup_v2_cpuset", &caps->cgroup_v2_cpuset },
		{ "cgroup_v2_memory", &caps->cgroup_v2_memory },
	};
	JsonArray *arr = json_array_new();

	for (size_t i = 0; i < G_N_ELEMENTS(list); i++) {
		JsonObject *c = json_object_new();

		set_str(c, "name", list[i].name);
		json_object_set_boolean_member(c, "ok", list[i].cap->ok);
		set_str(c, "detail", list[i].cap->detail);
		json_array_add_object_element(arr, c);
	}
	return arr;
}

/* "CPU.Weight": how keys are named in replies. */
static char *key_spec(const VsPolicyKey *key)
{
	return g_strdup_printf("%s.%s", key->section, key->name);
}

/* Sets @key to @us, or null for 0 (which means "never" for expiries). */
static void set_time_or_null(JsonObject *obj, const char *key, int64_t us)
{
	if (us)
		set_int(obj, key, us);
	else
		json_object_set_null_member(obj, key);
}

static JsonObject *render_policy_status(const VsCtlBackend *backend)
{
	const VsPolicySet *set = backend->policies(backend->data);
	const char *dir = NULL, *error = NULL;
	JsonObject *obj = json_object_new();

	backend->policy_status(backend->data, &dir, &error);
	set_str(obj, "dir", dir);
	set_int(obj, "files", set ? set->files->len : 0);
	set_str(obj, "error", error);
	return obj;
}

/* The CPU time of each tick phase: the last tick's, the mean, the largest
 * and the sum, µs; null before the first tick. */
static JsonNode *render_tick_cost(const VsTickCost *cost)
{
	JsonObject *obj, *phases;

	if (!cost || cost->ticks == 0)
		return json_node_new(JSON_NODE_NULL);
	obj = json_object_new();
	phases = json_object_new();
	set_u64(obj, "ticks", cost->ticks);
	for (int i = 0; i < VS_TICK_N_PHASES; i++) {
		JsonObject *p = json_object_new();

		set_int(p, "last_us", cost->last_us[i]);
		set_int(p, "mean_us", cost->total_us[i] / (int64_t)cost->ticks);
		set_int(p, "max_us", cost->max_us[i]);
		set_int(p, "total_us", cost->total_us[i]);
		json_object_set_object_member(phases, vs_tick_phase_name(i), p);
	}
	json_object_set_object_member(obj, "phases", phases);
	return json_node_init_object(json_node_alloc(), obj);
}

static JsonObject *render_status(const VsDaemonStatus *st, const VsSnapshot *snap,
				 JsonObject *policy)
{
	JsonObject *obj = json_object_new();
	JsonObject *virt = json_object_new();
	const VsHost *host = snap ? snap->host : NULL;

	set_str(obj, "version", st->version);
	set_int(obj, "uptime_us", st->uptime_us);
	set_u64(obj, "ticks", st->ticks);
	set_int(obj, "last_tick_us", st->last_tick_us);
	set_int(obj, "last_collect_us", st->last_collect_us);
	set_int(obj, "tick_interval_us", st->tick_interval_us);
	json_object_set_member(obj, "tick_cost", render_tick_cost(st->cost));
	json_object_set_boolean_member(obj, "dry_run", st->dry_run);
	set_str(obj, "config", st->config_path);
	set_str(obj, "last_error", st->last_error);
	json_object_set_object_member(obj, "policy", policy);

	set_str(virt, "uri", st->libvirt_uri);
	json_object_set_boolean_member(virt, "connected", st->libvirt_connected);
	set_int(virt, "reconnects", st->libvirt_reconnects);
	json_object_set_object_member(obj, "libvirt", virt);

	if (host) {
		json_object_set_object_member(obj, "host", render_host(host));
		json_object_set_array_member(obj, "capabilities", render_caps(&host->caps));
		set_int(obj, "psi_min_window_us", host->caps.psi_min_window_us);
	} else {
		json_object_set_null_member(obj, "host");
		json_object_set_array_member(obj, "capabilities", json_array_new());
		json_object_set_null_member(obj, "psi_min_window_us");
	}
	return obj;
}

/* The names of the files of @set that match @dom, comma-joined, or NULL
 * when none does. */
static char *matching_files(const VsPolicySet *set, const VsDomain *dom)
{
	g_autoptr(GString) names = g_string_new(NULL);

	for (guint i = 0; set && i < set->files->len; i++) {
		const VsPolicyFile *f = g_ptr_array_index(set->files, i);

		if (vs_policy_file_matches(f, dom->name, dom->uuid, dom->vsched_class))
			g_string_append_printf(names, "%s%s", names->len ? "," : "", f->name);
	}
	if (names->len == 0)
		return NULL;
	return g_string_free(g_steal_pointer(&names), FALSE);
}

static JsonObject *render_summary(const VsDomain *dom, const VsPolicySet *set)
{
	g_autofree char *policy = matching_files(set, dom);
	JsonObject *obj = json_object_new();
	JsonObject *vcpus = json_object_new();
	JsonObject *mem = json_object_new();

	set_int(obj, "id", dom->id);
	set_str(obj, "name", dom->name);
	set_str(obj, "uuid", dom->uuid);
	set_str(obj, "state", vs_domain_state_name(dom->state));
	set_int(vcpus, "current", dom->vcpus_current);
	set_int(vcpus, "max", dom->vcpus_max);
	json_object_set_object_member(obj, "vcpus", vcpus);
	set_u64(mem, "current", dom->mem_current);
	set_u64(mem, "max", dom->mem_max);
	json_object_set_object_member(obj, "memory", mem);
	set_str(obj, "class", dom->vsched_class);
	set_str(obj, "policy", policy);
	return obj;
}

/* The members every thread has: identity and placement. */
static void render_thread_into(JsonObject *obj, const VsThread *t)
{
	set_int(obj, "tid", t->tid);
	set_u64(obj, "start_time", t->start_time);
	set_str(obj, "comm", t->comm);
	set_int(obj, "cpu", t->cpu);
	set_cpuset(obj, "affinity", t->affinity);
}

static JsonArray *render_threads(const GArray *threads)
{
	JsonArray *arr = json_array_new();

	for (guint i = 0; threads && i < threads->len; i++) {
		JsonObject *t = json_object_new();

		render_thread_into(t, &g_array_index(threads, VsThread, i));
		json_array_add_object_element(arr, t);
	}
	return arr;
}

/* The CPU plan's view of a vCPU: planned affinity, placement and
 * reservation, each null when the plan has nothing for it; left out when
 * the backend has no CPU plan at all. */
static void render_vcpu_plan(JsonObject *obj, const VsCtlBackend *backend, const char *uuid,
			     guint index)
{
	const VsCpuVcpuPlan *p;

	if (!backend->vcpu_plan)
		return;
	p = backend->vcpu_plan(backend->data, uuid, index);
	set_str(obj, "planned_affinity", p ? p->affinity : NULL);
	set_str(obj, "placement", p ? p->placement : NULL);
	set_str(obj, "reservation", p ? p->reservation : NULL);
}

static JsonArray *render_vcpus(const GArray *vcpus, const VsCtlBackend *backend,
			       const char *uuid)
{
	JsonArray *arr = json_array_new();

	for (guint i = 0; vcpus && i < vcpus->len; i++) {
		const VsVcpu *v = &g_array_index(vcpus, VsVcpu, i);
		JsonObject *o = json_object_new();

		set_int(o, "index", v->index);
		json_object_set_boolean_member(o, "online", v->online);
		render_thread_into(o, &v->thread);
		render_vcpu_plan(o, backend, uuid, v->index);
		if (v->has_stats) {
			set_u64(o, "time_ns", v->time_ns);
			set_u64(o, "delay_ns", v->delay_ns);
			set_int(o, "state", v->state);
		} else {
			json_object_set_null_member(o, "time_ns");
			json_object_set_null_member(o, "delay_ns");
			json_object_set_null_member(o, "state");
		}
		json_array_add_object_element(arr, o);
	}
	return arr;
}

static JsonObject *render_balloon(const VsBalloonStats *b)
{
	const struct {
		VsBalloonField bit;
		const char *name;
		guint64 value;
	} fields[] = {
		{ VS_BALLOON_CURRENT, "current", b->current },
		{ VS_BALLOON_MAXIMUM, "maximum", b->maximum },
		{ VS_BALLOON_SWAP_IN, "swap_in", b->swap_in },
		{ VS_BALLOON_SWAP_OUT, "swap_out", b->swap_out },
		{ VS_BALLOON_MAJOR_FAULT, "major_fault", b->major_fault },
		{ VS_BALLOON_MINOR_FAULT, "minor_fault", b->minor_fault },
		{ VS_BALLOON_UNUSED, "unused", b->unused },
		{ VS_BALLOON_AVAILABLE, "available", b->available },
		{ VS_BALLOON_USABLE, "usable", b->usable },
		{ VS_BALLOON_RSS, "rss", b->rss },
		{ VS_BALLOON_DISK_CACHES, "disk_caches", b->disk_caches },
	};
	JsonObject *obj = json_object_new();

	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
		if (b->have & fields[i].bit)
			set_u64(obj, fields[i].name, fields[i].value);
	if (b->have & VS_BALLOON_LAST_UPDATE)
		set_int(obj, "last_update", b->last_update);
	return obj;
}

/* The co-scheduling report of a guest (doc/control-protocol.md, Skew). */
static JsonObject *render_skew(const VsCoschedGuestReport *g)
{
	JsonObject *obj = json_object_new();
	JsonArray *arr = json_array_new();

	set_str(obj, "mode", g->mode);
	set_int(obj, "threshold_us", g->threshold_us);
	set_u64(obj, "window_ns", g->skew.window_ns);
	json_object_set_boolean_member(obj, "valid", g->skew.valid);
	if (g->skew.valid) {
		set_u64(obj, "skew_ns", g->skew.skew_ns);
		set_int(obj, "leader", g->skew.leader);
		set_int(obj, "laggard", g->skew.laggard);
	} else {
		json_object_set_null_member(obj, "skew_ns");
		json_object_set_null_member(obj, "leader");
		json_object_set_null_member(obj, "laggard");
	}
	set_u64(obj, "max_1m_ns", g->max_1m_ns);
	set_int(obj, "measurements_1m", g->n_1m);
	json_object_set_boolean_member(obj, "boosting", g->boosting);
	for (guint i = 0; i < g->vcpus->len; i++) {
		const VsCoschedVcpuReport *v = &g_array_index(g->vcpus, VsCoschedVcpuReport, i);
		JsonObject *o = json_object_new();

		set_int(o, "index", v->index);
		set_int(o, "tid", v->tid);
		json_object_set_boolean_member(o, "counted", v->skew.counted);
		set_u64(o, "span_ns", v->skew.span_ns);
		set_u64(o, "run_ns", v->skew.run_ns);
		set_u64(o, "delay_ns", v->skew.delay_ns);
		set_u64(o, "lag_ns", v->skew.lag_ns);
		set_int(o, "nice_boost", v->boost);
		json_array_add_object_element(arr, o);
	}
	json_object_set_array_member(obj, "vcpu", arr);
	return obj;
}

/* Sets "skew" in @obj from the backend's co-scheduling report on @uuid
 * (null when it has none); left out when the backend has no co-scheduling. */
static void set_skew(JsonObject *obj, const VsCtlBackend *backend, const char *uuid)
{
	const VsCoschedGuestReport *g;

	if (!backend->cosched)
		return;
	g = backend->cosched(backend->data, uuid);
	if (g)
		json_object_set_object_member(obj, "skew", render_skew(g));
	else
		json_object_set_null_member(obj, "skew");
}

/* The hotplug actuator's view of the domain @uuid, or NULL when it has none. */
static JsonNode *render_hotplug(const VsCtlBackend *backend, const char *uuid)
{
	const VsHotplugStatus *st = backend->hotplug ? backend->hotplug(backend->data, uuid) : NULL;
	JsonObject *obj;
	JsonNode *node;

	if (!st)
		return json_node_new(JSON_NODE_NULL);
	obj = json_object_new();
	json_object_set_boolean_member(obj, "enabled", st->enabled);
	set_str(obj, "method", vs_hotplug_method_name(st->method));
	if (st->current)
		set_int(obj, "current", st->current);
	else
		json_object_set_null_member(obj, "current");
	set_int(obj, "min", st->min);
	set_int(obj, "max", st->max);
	if (st->target)
		set_int(obj, "target", st->target);
	else
		json_object_set_null_member(obj, "target");
	set_str(obj, "reason", st->reason);
	set_str(obj, "pending", st->pending);
	set_str(obj, "last_action", st->last_action);
	set_time_or_null(obj, "last_action_us", st->last_action_wall_us);
	set_str(obj, "failure", st->failure);
	set_int(obj, "failures", st->failures);
	set_time_or_null(obj, "backoff_until_us", st->backoff_until_wall_us);
	node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, obj);
	return node;
}

static JsonObject *render_detail(const VsDomain *dom, const VsPolicySet *set,
				 const VsCtlBackend *backend)
{
	JsonObject *obj = render_summary(dom, set);

	set_int(obj, "state_reason", dom->state_reason);
	set_int(obj, "pid", dom->pid);
	set_u64(obj, "pid_start_time", dom->pid_start_time);
	set_str(obj, "cgroup", dom->cgroup_path);
	set_str(obj, "cgroup_v1_cpuset", dom->cgroup_v1_cpuset);
	if (dom->has_stats)
		set_u64(obj, "cpu_time_ns", dom->cpu_time_ns);
	else
		json_object_set_null_member(obj, "cpu_time_ns");
	set_str(obj, "threads_problem", dom->threads_problem);
	json_object_set_array_member(obj, "vcpu", render_vcpus(dom->vcpus, backend, dom->uuid));
	json_object_set_array_member(obj, "emulator", render_threads(dom->emulator_threads));
	json_object_set_array_member(obj, "iothreads", render_threads(dom->io_threads));
	json_object_set_object_member(obj, "balloon", render_balloon(&dom->balloon));
	json_object_set_member(obj, "hotplug", render_hotplug(backend, dom->uuid));
	set_skew(obj, backend, dom->uuid);
	return obj;
}

static VsCtlReply *not_ready(void)
{
	return vs_ctl_reply_new_error_string(VS_CTL_ERROR_NOT_READY, "reason",
					     "the daemon has not completed its first tick");
}

static VsCtlReply *method_status(const VsCtlBackend *backend, const VsCtlRequest *req)
{
	VsDaemonStatus st = { 0 };
	VsCtlReply *error = NULL;

	if (!vs_ctl_param_check_known(req, NULL, &error))
		return error;
	backend->status(backend->data, &st);
	return vs_ctl_reply_new(render_status(&st, backend->snapshot(backend->data),
					      render_policy_status(backend)));
}

static VsCtlReply *method_list(const VsCtlBackend *backend, const VsCtlRequest *req)
{
	const VsPolicySet *set = backend->policies(backend->data);
	const VsSnapshot *snap;
	VsCtlReply *error = NULL;
	JsonObject *params;
	JsonArray *arr;

	if (!vs_ctl_param_check_known(req, NULL, &error))
		return error;
	snap = backend->snapshot(backend->data);
	if (!snap)
		return not_ready();
	arr = json_array_new();
	for (guint i = 0; i < snap->domains->len; i++)
		json_array_add_object_element(arr, render_summary(g_ptr_array_index(snap->domains, i),
								  set));
	params = json_object_new();
	json_object_set_array_member(params, "domains", arr);
	return vs_ctl_reply_new(params);
}

static VsCtlReply *method_show(const VsCtlBackend *backend, const VsCtlRequest *req)
{
	static const char *const known[] = { "domain", NULL };
	const VsSnapshot *snap;
	const VsDomain *dom;
	VsCtlReply *error = NULL;
	const char *ref;
	JsonObject *params;

	if (!vs_ctl_param_check_known(req, known, &error) ||
	    !vs_ctl_param_string(req, "domain", &ref, &error))
		return error;
	snap = backend->snapshot(backend->data);
	if (!snap)
		return not_ready();
	dom = vs_snapshot_find_domain(snap, ref);
	if (!dom)
		return vs_ctl_reply_new_error_string(VS_CTL_ERROR_NO_SUCH_DOMAIN, "domain", ref);
	params = json_object_new();
	json_object_set_object_member(params, "domain",
				      render_detail(dom, backend->policies(backend->data), backend));
	/* The planners' reasons, as Explain gives them (e.g. that weights and
	 * caps are not applied on this host). */
	json_object_set_array_member(params, "reasons",
				     strv_array((char *const *)backend->reasons(backend->data,
										dom->uuid)));
	return vs_ctl_reply_new(params);
}

/* Finds the domain @ref of the latest snapshot for a method that needs
 * one; NULL with *ret_error set (NotReady, NoSuchDomain) when there is none. */
static const VsDomain *find_domain(const VsCtlBackend *backend, const char *ref,
				   VsCtlReply **ret_error)
{
	const VsSnapshot *snap = backend->snapshot(backend->data);
	const VsDomain *dom;

	if (!snap) {
		*ret_error = not_ready();
		return NULL;
	}
	dom = vs_snapshot_find_domain(snap, ref);
	if (!dom) {
		*ret_error = vs_ctl_reply_new_error_string(VS_CTL_ERROR_NO_SUCH_DOMAIN, "domain", ref);
		return NULL;
	}
	return dom;
}

static const char *origin_name(VsOrigin origin)
{
	switch (origin) {
	case VS_ORIGIN_FILE:
		return "file";
	case VS_ORIGIN_OVERRIDE:
		return "override";
	case VS_ORIGIN_DEFAULT:
		break;
	}
	return "default";
}

static JsonObject *render_entry(const VsEffectiveEntry *e, int64_t now_us)
{
	JsonObject *obj = json_object_new();
	g_autofree char *key = key_spec(e->key);

	set_str(obj, "key", key);
	set_str(obj, "value", e->value ? e->value->text : NULL);
	set_str(obj, "origin", origin_name(e->origin));
	if (e->origin == VS_ORIGIN_FILE) {
		set_str(obj, "file", e->file);
		set_int(obj, "line", e->line);
	} else if (e->origin == VS_ORIGIN_OVERRIDE) {
		set_str(obj, "override", e->override_id);
		set_time_or_null(obj, "expires_us", e->expires_us);
		if (e->expires_us)
			set_int(obj, "expires_in_us", MAX(e->expires_us - now_us, 0));
		else
			json_object_set_null_member(obj, "expires_in_us");
	}
	return obj;
}

static void add_mem_reasons(const VsCtlBackend *backend, const char *uuid, JsonArray *reasons);

static VsCtlReply *method_explain(const VsCtlBackend *backend, const VsCtlRequest *req)
{
	static const char *const known[] = { "domain", NULL };
	g_autoptr(VsEffectivePolicy) eff = NULL;
	const char *const *reasons;
	const VsCoschedGuestReport *cosched;
	JsonArray *reason_arr;
	const VsDomain *dom;
	VsCtlReply *error = NULL;
	int64_t now_us = g_get_real_time();
	JsonObject *params;
	JsonArray *keys, *files;
	const char *ref;

	if (!vs_ctl_param_check_known(req, known, &error) ||
	    !vs_ctl_param_string(req, "domain", &ref, &error))
		return error;
	dom = find_domain(backend, ref, &error);
	if (!dom)
		return error;
	eff = vs_policy_effective(backend->policies(backend->data), backend->overrides(backend->data),
				  dom->name, dom->uuid, dom->vsched_class, now_us);
	files = json_array_new();
	for (guint i = 0; i < eff->files->len; i++)
		json_array_add_string_element(files, g_ptr_array_index(eff->files, i));
	keys = json_array_new();
	for (guint i = 0; i < eff->entries->len; i++)
		json_array_add_object_element(
			keys, render_entry(&g_array_index(eff->entries, VsEffectiveEntry, i), now_us));
	reasons = backend->reasons(backend->data, dom->uuid);
	reason_arr = strv_array((char *const *)reasons);
	cosched = backend->cosched ? backend->cosched(backend->data, dom->uuid) : NULL;
	for (guint i = 0; cosched && i < cosched->reasons->len; i++)
		json_array_add_string_element(reason_arr, g_ptr_array_index(cosched->reasons, i));

	params = json_object_new();
	set_str(params, "domain", dom->name);
	set_str(params, "uuid", dom->uuid);
	set_str(params, "class", dom->vsched_class);
	json_object_set_array_member(params, "files", files);
	json_object_set_array_member(params, "keys", keys);
	add_mem_reasons(backend, dom->uuid, reason_arr);
	json_object_set_array_member(params, "reasons", reason_arr);
	json_object_set_member(params, "hotplug", render_hotplug(backend, dom->uuid));
	return vs_ctl_reply_new(params);
}

/* True when @ov has not expired at @now_us. */
static bool override_live(const VsOverride *ov, int64_t now_us)
{
	return ov->expires_us == 0 || ov->expires_us > now_us;
}

static JsonObject *render_override(const VsOverride *ov)
{
	JsonObject *obj = json_object_new();
	g_autofree char *key = key_spec(ov->key);

	set_str(obj, "id", ov->id);
	set_str(obj, "domain", ov->domain_name);
	set_str(obj, "uuid", ov->domain_uuid);
	set_str(obj, "key", key);
	set_str(obj, "value", ov->value->text);
	set_int(obj, "created_us", ov->created_us);
	set_time_or_null(obj, "expires_us", ov->expires_us);
	return obj;
}

/* The overrides in force at @now_us, of the domain @uuid or, when it is
 * NULL, of every domain, in the order they were made. */
static JsonArray *render_overrides(const VsOverrides *o, const char *uuid, int64_t now_us)
{
	JsonArray *arr = json_array_new();

	for (guint i = 0; o && i < o->items->len; i++) {
		const VsOverride *ov = g_ptr_array_index(o->items, i);

		if (override_live(ov, now_us) &&
		    (!uuid || g_ascii_strcasecmp(ov->domain_uuid, uuid) == 0))
			json_array_add_object_element(arr, render_override(ov));
	}
	return arr;
}

/* The messages of the errors (or, when @warnings, the warnings) in @diags. */
static JsonArray *diag_messages(const GPtrArray *diags, bool warnings)
{
	JsonArray *arr = json_array_new();

	for (guint i = 0; i < diags->len; i++) {
		const VsPolicyDiag *d = g_ptr_array_index(diags, i);

		if (d->warning == warnings)
			json_array_add_string_element(arr, d->message);
	}
	return arr;
}

/* An InvalidOverride reply with one error sentence (@message, taken). */
static VsCtlReply *invalid_override(char *message)
{
	JsonObject *params = json_object_new();
	JsonArray *errors = json_array_new();

	json_array_add_string_element(errors, message);
	g_free(message);
	json_object_set_array_member(params, "errors", errors);
	return vs_ctl_reply_new_error(VS_CTL_ERROR_INVALID_OVERRIDE, params);
}

/* Sets the overrides @assignments of @dom for @for_us (0: until cleared)
 * and answers with the domain's overrides and the warnings, or with
 * InvalidOverride and one message per problem (nothing changed then). */
static VsCtlReply *set_overrides(const VsCtlBackend *backend, const VsDomain *dom,
				 const char *const *assignments, int64_t now_us, gint64 for_us)
{
	g_autoptr(GPtrArray) diags = vs_policy_diags_new();
	VsOverrides *overrides = backend->overrides(backend->data);
	JsonObject *params;
	int r;

	r = vs_overrides_set(overrides, dom->uuid, dom->name, assignments, now_us, for_us, diags);
	if (r < 0 || vs_policy_diags_errors(diags) > 0) {
		params = json_object_new();
		json_object_set_array_member(params, "errors", diag_messages(diags, false));
		return vs_ctl_reply_new_error(VS_CTL_ERROR_INVALID_OVERRIDE, params);
	}
	backend->overrides_changed(backend->data);
	params = json_object_new();
	json_object_set_array_member(params, "overrides",
				     render_overrides(overrides, dom->uuid, now_us));
	json_object_set_array_member(params, "warnings", diag_messages(diags, true));
	return vs_ctl_reply_new(params);
}

static VsCtlReply *method_set_override(const VsCtlBackend *backend, const VsCtlRequest *req)
{
	static const char *const known[] = { "domain", "assignments", "for_us", NULL };
	g_auto(GStrv) assignments = NULL;
	const VsDomain *dom;
	VsCtlReply *error = NULL;
	const char *ref;
	gint64 for_us;

	if (!vs_ctl_param_check_known(req, known, &error) ||
	    !vs_ctl_param_string(req, "domain", &ref, &error) ||
	    !vs_ctl_param_strv(req, "assignments", &assignments, &error) ||
	    !vs_ctl_param_uint_opt(req, "for_us", 0, &for_us, &error))
		return error;
	dom = find_domain(backend, ref, &error);
	if (!dom)
		return error;
	return set_overrides(backend, dom, (const char *const *)assignments, g_get_real_time(),
			     for_us);
}

/* Why VCPUs=@n cannot be set for @dom under @eff, or NULL when it can. */
static char *setvcpus_problem(const VsDomain *dom, const VsEffectivePolicy *eff, gint64 n)
{
	const VsEffectiveEntry *enable = vs_effective_get(eff, "Hotplug", "Enable");
	const VsEffectiveEntry *min = vs_effective_get(eff, "Hotplug", "MinVCPUs");
	const VsEffectiveEntry *max = vs_effective_get(eff, "Hotplug", "MaxVCPUs");

	if (!enable || !enable->value || !enable->value->b)
		return g_strdup_printf("%s: Hotplug.Enable=no%s%s: vsched does not change this "
				       "guest's vCPU count (enable it in a policy or with "
				       "'vschedctl override %s Hotplug.Enable=yes')",
				       dom->name, enable && enable->file ? " in " : "",
				       enable && enable->file ? enable->file : "", dom->name);
	if (n < 1)
		return g_strdup_printf("%s: %" G_GINT64_FORMAT " vCPUs: a guest needs at least 1",
				       dom->name, n);
	if (dom->vcpus_max == 0 || n > dom->vcpus_max)
		return g_strdup_printf("%s: %" G_GINT64_FORMAT " vCPUs: more than the domain's "
				       "maximum of %u", dom->name, n, dom->vcpus_max);
	if (min && min->value && n < min->value->i)
		return g_strdup_printf("%s: %" G_GINT64_FORMAT " vCPUs: fewer than MinVCPUs=%s",
				       dom->name, n, min->value->text);
	if (max && max->value && n > max->value->i)
		return g_strdup_printf("%s: %" G_GINT64_FORMAT " vCPUs: more than MaxVCPUs=%s",
				       dom->name, n, max->value->text);
	return NULL;
}

/* SetVcpus: an override of Hotplug.VCPUs=N, checked against the domain's
 * maximum and its MinVCPUs..MaxVCPUs first. */
static VsCtlReply *method_set_vcpus(const VsCtlBackend *backend, const VsCtlRequest *req)
{
	static const char *const known[] = { "domain", "vcpus", "for_us", NULL };
	g_autoptr(VsEffectivePolicy) eff = NULL;
	g_autofree char *problem = NULL;
	g_autofree char *assignment = NULL;
	int64_t now_us = g_get_real_time();
	const char *assignments[2] = { NULL, NULL };
	const VsDomain *dom;
	VsCtlReply *error = NULL;
	const char *ref;
	gint64 n, for_us;

	if (!vs_ctl_param_check_known(req, known, &error) ||
	    !vs_ctl_param_string(req, "domain", &ref, &error) ||
	    !vs_ctl_param_uint_opt(req, "vcpus", 0, &n, &error) ||
	    !vs_ctl_param_uint_opt(req, "for_us", 0, &for_us, &error))
		return error;
	dom = find_domain(backend, ref, &error);
	if (!dom)
		return error;
	eff = vs_policy_effective(backend->policies(backend->data), backend->overrides(backend->data),
				  dom->name, dom->uuid, dom->vsched_class, now_us);
	problem = setvcpus_problem(dom, eff, n);
	if (problem)
		return invalid_override(g_steal_pointer(&problem));
	assignment = g_strdup_printf("Hotplug.VCPUs=%" G_GINT64_FORMAT, n);
	assignments[0] = assignment;
	return set_overrides(backend, dom, assignments, now_us, for_us);
}

/* The UUID of the domain @ref for ClearOverride: a domain of the snapshot,
 * else one that only the overrides still name (by UUID or name), so that
 * the overrides of an undefined guest can be cleared too. NULL with
 * *ret_error set when there is none. */
static const char *clear_target(const VsCtlBackend *backend, const VsOverrides *o,
				const char *ref, VsCtlReply **ret_error)
{
	const VsSnapshot *snap = backend->snapshot(backend->data);
	const VsDomain *dom = snap ? vs_snapshot_find_domain(snap, ref) : NULL;

	if (dom)
		return dom->uuid;
	for (guint i = 0; o && i < o->items->len; i++) {
		const VsOverride *ov = g_ptr_array_index(o->items, i);

		if (g_ascii_strcasecmp(ov->domain_uuid, ref) == 0 ||
		    g_strcmp0(ov->domain_name, ref) == 0)
			return ov->domain_uuid;
	}
	*ret_error = snap ? vs_ctl_reply_new_error_string(VS_CTL_ERROR_NO_SUCH_DOMAIN, "domain", ref)
			  : not_ready();
	return NULL;
}

static VsCtlReply *method_clear_override(const VsCtlBackend *backend, const VsCtlRequest *req)
{
	static const char *const known[] = { "domain", "key", NULL };
	VsOverrides *overrides = backend->overrides(backend->data);
	g_autofree char *uuid = NULL;
	VsCtlReply *error = NULL;
	const char *ref, *key, *target;
	JsonObject *params;
	int r;

	if (!vs_ctl_param_check_known(req, known, &error) ||
	    !vs_ctl_param_string(req, "domain", &ref, &error) ||
	    !vs_ctl_param_string_opt(req, "key", &key, &error))
		return error;
	target = clear_target(backend, overrides, ref, &error);
	if (!target)
		return error;
	/* Clearing may free the override that @target points into. */
	uuid = g_strdup(target);
	r = vs_overrides_clear(overrides, uuid, key);
	if (r < 0)
		return vs_ctl_reply_invalid_parameter("key");
	if (r > 0)
		backend->overrides_changed(backend->data);
	params = json_object_new();
	set_int(params, "removed", r);
	return vs_ctl_reply_new(params);
}

static VsCtlReply *method_list_overrides(const VsCtlBackend *backend, const VsCtlRequest *req)
{
	VsCtlReply *error = NULL;
	JsonObject *params;

	if (!vs_ctl_param_check_known(req, NULL, &error))
		return error;
	params = json_object_new();
	json_object_set_array_member(params, "overrides",
				     render_overrides(backend->overrides(backend->data), NULL,
						      g_get_real_time()));
	return vs_ctl_reply_new(params);
}

static VsCtlReply *method_tick(const VsCtlBackend *backend, const VsCtlRequest *req)
{
	VsCtlReply *error = NULL;

	if (!vs_ctl_param_check_known(req, NULL, &error))
		return error;
	backend->request_tick(backend->data);
	return vs_ctl_reply_new(NULL);
}

static VsCtlReply *method_reload(const VsCtlBackend *backend, const VsCtlRequest *req)
{
	VsCtlReply *error = NULL;

	if (!vs_ctl_param_check_known(req, NULL, &error))
		return error;
	backend->request_reload(backend->data);
	return vs_ctl_reply_new(NULL);
}

/* Sets @key to @part as a percentage of @whole, or null when @whole is 0. */
static void set_pct(JsonObject *obj, const char *key, uint64_t part, uint64_t whole)
{
	if (whole == 0)
		json_object_set_null_member(obj, key);
	else
		json_object_set_double_member(obj, key, 100.0 * (double)part / (double)whole);
}

/* The figures of one window (doc/control-protocol.md, Steal). */
static JsonObject *render_steal_window(const VsStealPoint *w)
{
	JsonObject *obj = json_object_new();

	set_u64(obj, "wall_ns", w->span_ns);
	set_u64(obj, "vcpu_wall_ns", w->wall_ns);
	set_int(obj, "intervals", w->n);
	set_int(obj, "clamped", w->clamped);
	set_u64(obj, "run_ns", w->run_ns);
	set_u64(obj, "steal_ns", w->steal_ns);
	set_u64(obj, "contention_ns", w->contention_ns);
	set_u64(obj, "cap_ns", w->cap_ns);
	set_u64(obj, "reservation_ns", w->reservation_ns);
	set_pct(obj, "steal_pct", w->steal_ns, w->wall_ns);
	set_pct(obj, "contention_pct", w->contention_ns, w->wall_ns);
	set_pct(obj, "cap_pct", w->cap_ns, w->wall_ns);
	set_pct(obj, "reservation_pct", w->reservation_ns, w->wall_ns);
	set_pct(obj, "cpu_pct", w->run_ns, w->span_ns);
	if (w->entitled_wall_ns > 0) {
		set_u64(obj, "entitled_ns", w->entitled_ns);
		set_u64(obj, "deficit_ns", w->deficit_ns);
		set_pct(obj, "entitled_pct", w->entitled_ns, w->span_ns);
		set_pct(obj, "deficit_pct", w->deficit_ns, w->span_ns);
	} else {
		json_object_set_null_member(obj, "entitled_ns");
		json_object_set_null_member(obj, "deficit_ns");
		json_object_set_null_member(obj, "entitled_pct");
		json_object_set_null_member(obj, "deficit_pct");
	}
	set_str(obj, "libvirt_check", vs_steal_check_name(vs_steal_check_libvirt(w)));
	if (w->libvirt_wall_ns > 0) {
		set_u64(obj, "libvirt_delay_ns", w->libvirt_delay_ns);
		set_u64(obj, "libvirt_ours_ns", w->libvirt_ours_ns);
	} else {
		json_object_set_null_member(obj, "libvirt_delay_ns");
		json_object_set_null_member(obj, "libvirt_ours_ns");
	}
	return obj;
}

static JsonObject *render_steal_windows(const VsStealPoint *windows)
{
	JsonObject *obj = json_object_new();

	for (guint w = 0; w < VS_STEAL_N_WINDOWS; w++)
		json_object_set_object_member(obj, vs_steal_window_name(w),
					      render_steal_window(&windows[w]));
	return obj;
}

static JsonObject *render_counters(uint64_t run_ns, uint64_t delay_ns)
{
	JsonObject *obj = json_object_new();

	set_u64(obj, "run_ns", run_ns);
	set_u64(obj, "delay_ns", delay_ns);
	return obj;
}

static JsonObject *render_steal_vcpu(const VsStealVcpuReport *v)
{
	JsonObject *obj = json_object_new();

	set_int(obj, "index", v->index);
	set_int(obj, "tid", v->tid);
	set_str(obj, "problem", v->problem);
	set_str(obj, "last_sample", v->last_result);
	set_u64(obj, "resets", v->resets);
	set_u64(obj, "clamps", v->clamps);
	set_str(obj, "cgroup", v->cgroup);
	set_str(obj, "guest_cgroup", v->guest_cgroup);
	set_str(obj, "throttle_problem", v->throttle_problem);
	if (v->reserved_period_ns > 0) {
		JsonObject *res = json_object_new();

		set_u64(res, "runtime_ns", v->reserved_runtime_ns);
		set_u64(res, "period_ns", v->reserved_period_ns);
		json_object_set_object_member(obj, "reservation", res);
	} else {
		json_object_set_null_member(obj, "reservation");
	}
	if (v->entitlement >= 0)
		json_object_set_double_member(obj, "entitlement_cpus", v->entitlement);
	else
		json_object_set_null_member(obj, "entitlement_cpus");
	if (v->has_paths) {
		JsonObject *paths = json_object_new();

		set_int(paths, "mono_us", v->paths_mono_us);
		json_object_set_object_member(paths, "taskstats",
					      render_counters(v->taskstats_run_ns,
							      v->taskstats_delay_ns));
		json_object_set_object_member(paths, "schedstat",
					      render_counters(v->schedstat_run_ns,
							      v->schedstat_delay_ns));
		json_object_set_object_member(obj, "paths", paths);
	} else {
		json_object_set_null_member(obj, "paths");
	}
	json_object_set_object_member(obj, "windows", render_steal_windows(v->windows));
	return obj;
}

/* The guest agent's view of a guest (doc/control-protocol.md, Steal). */
static JsonObject *render_guest_agent(const VsStealGuestReport *g)
{
	JsonObject *obj = json_object_new();
	JsonObject *windows = json_object_new();

	set_str(obj, "verdict", g->guest_verdict);
	if (g->guest_tolerance_pct >= 0)
		json_object_set_double_member(obj, "tolerance_pct", g->guest_tolerance_pct);
	else
		json_object_set_null_member(obj, "tolerance_pct");
	set_int(obj, "replies", g->agent_replies);
	set_int(obj, "rejected", g->agent_rejected);
	set_str(obj, "problem", g->agent_problem);
	if (g->guest_cpus) {
		JsonArray *cpus = json_array_new();

		for (guint i = 0; i < g->guest_cpus->len; i++) {
			const VsStealGuestCpu *c = &g_array_index(g->guest_cpus, VsStealGuestCpu, i);
			JsonObject *cpu = json_object_new();

			set_int(cpu, "cpu", c->cpu);
			if (c->has_steal)
				set_u64(cpu, "steal_ms", c->steal_ms);
			else
				json_object_set_null_member(cpu, "steal_ms");
			set_u64(cpu, "total_ms", c->total_ms);
			json_array_add_object_element(cpus, cpu);
		}
		json_object_set_array_member(obj, "cpus", cpus);
	} else {
		json_object_set_null_member(obj, "cpus");
	}
	for (guint w = 0; w < VS_STEAL_N_WINDOWS; w++) {
		const VsStealGuestPoint *p = &g->guest_windows[w];
		JsonObject *win = json_object_new();

		set_int(win, "intervals", p->n);
		set_int(win, "clamped", p->clamped);
		set_pct(win, "guest_steal_pct", p->guest_steal_ns, p->guest_wall_ns);
		set_pct(win, "host_steal_pct", p->host_steal_ns, p->host_wall_ns);
		json_object_set_object_member(windows, vs_steal_window_name(w), win);
	}
	json_object_set_object_member(obj, "windows", windows);
	return obj;
}

static JsonObject *render_steal_guest(const VsStealGuestReport *g, bool with_vcpus,
				      const VsCtlBackend *backend)
{
	JsonObject *obj = json_object_new();

	set_str(obj, "name", g->name);
	set_str(obj, "uuid", g->uuid);
	set_int(obj, "vcpus", g->vcpus->len);
	set_str(obj, "guest_view", g->guest_view);
	json_object_set_object_member(obj, "guest_agent", render_guest_agent(g));
	json_object_set_boolean_member(obj, "alert", g->alert);
	set_str(obj, "alert_condition", g->alert_condition);
	json_object_set_object_member(obj, "windows", render_steal_windows(g->windows));
	set_skew(obj, backend, g->uuid);
	if (with_vcpus) {
		JsonArray *arr = json_array_new();

		for (guint i = 0; i < g->vcpus->len; i++)
			json_array_add_object_element(
				arr, render_steal_vcpu(&g_array_index(g->vcpus, VsStealVcpuReport, i)));
		json_object_set_array_member(obj, "vcpu", arr);
	}
	return obj;
}

static JsonObject *render_steal_host(const VsStealReport *r, const VsSnapshot *snap)
{
	const VsHost *host = snap ? snap->host : NULL;
	JsonObject *obj = json_object_new();

	if (host && host->topology.online)
		set_int(obj, "cpus", vs_cpuset_count(host->topology.online));
	else
		json_object_set_null_member(obj, "cpus");
	if (r->has_host_cpu)
		json_object_set_double_member(obj, "busy_pct", r->host_busy_pct);
	else
		json_object_set_null_member(obj, "busy_pct");
	if (host)
		set_psi(obj, "psi_cpu", &host->psi_cpu);
	else
		json_object_set_null_member(obj, "psi_cpu");
	return obj;
}

static VsCtlReply *method_steal(const VsCtlBackend *backend, const VsCtlRequest *req)
{
	static const char *const known[] = { "domain", NULL };
	const VsStealReport *report;
	VsCtlReply *error = NULL;
	const char *ref;
	JsonObject *params;
	JsonArray *guests;

	if (!vs_ctl_param_check_known(req, known, &error) ||
	    !vs_ctl_param_string_opt(req, "domain", &ref, &error))
		return error;
	report = backend->steal ? backend->steal(backend->data) : NULL;
	if (!report)
		return vs_ctl_reply_new_error_string(VS_CTL_ERROR_NOT_READY, "reason",
						     "steal accounting is not running in this daemon");
	guests = json_array_new();
	if (ref) {
		/* Found as virsh finds it (id, UUID, name) in the inventory;
		 * a domain the report lacks is not running: no guests. */
		const VsDomain *dom = find_domain(backend, ref, &error);
		const VsStealGuestReport *g;

		if (!dom) {
			json_array_unref(guests);
			return error;
		}
		g = vs_steal_report_find(report, dom->uuid);
		if (g)
			json_array_add_object_element(guests, render_steal_guest(g, true, backend));
	} else {
		for (guint i = 0; i < report->guests->len; i++)
			json_array_add_object_element(
				guests, render_steal_guest(g_ptr_array_index(report->guests, i), false,
						   backend));
	}
	params = json_object_new();
	set_u64(params, "tick", report->tick);
	set_str(params, "source", report->source);
	set_str(params, "source_note", report->source_why);
	set_str(params, "check_source", report->check_source);
	json_object_set_object_member(params, "host",
				      render_steal_host(report, backend->snapshot(backend->data)));
	json_object_set_array_member(params, "guests", guests);
	return vs_ctl_reply_new(params);
}

/* org.vsched.Metrics: {"text": the Prometheus text exposition}. */
static VsCtlReply *method_metrics(const VsCtlBackend *backend, const VsCtlRequest *req)
{
	VsCtlReply *error = NULL;
	g_autofree char *text = NULL;
	JsonObject *params;

	if (!vs_ctl_param_check_known(req, NULL, &error))
		return error;
	if (!backend->metrics)
		return vs_ctl_reply_new_error_string(VS_CTL_ERROR_NOT_READY, "reason",
						     "this daemon keeps no metrics");
	text = backend->metrics(backend->data);
	params = json_object_new();
	json_object_set_string_member(params, "text", text);
	return vs_ctl_reply_new(params);
}

/* The memory view's guest @uuid, or -1 (not running, or no view). */
static int mem_guest_index(const VsMemView *view, const char *uuid)
{
	for (guint i = 0; view && i < view->n_guests; i++)
		if (strcmp(view->guests[i].uuid, uuid) == 0)
			return (int)i;
	return -1;
}

static void set_size_or_null(JsonObject *obj, const char *key, bool known, uint64_t bytes)
{
	if (known)
		set_u64(obj, key, bytes);
	else
		json_object_set_null_member(obj, key);
}

/* One guest of the memory view (doc/control-protocol.md, Memory). */
static JsonObject *render_mem_guest(const VsMemView *view, guint i)
{
	const VsMemGuest *g = &view->guests[i];
	const VsMemDecision *d = view->plan ? vs_mem_plan_find(view->plan, g->uuid) : NULL;
	const VsMemFollow *f = view->follow ? view->follow[i] : NULL;
	JsonObject *obj = json_object_new();

	set_str(obj, "name", g->name);
	set_str(obj, "uuid", g->uuid);
	json_object_set_boolean_member(obj, "managed", g->balloon);
	set_u64(obj, "current", g->current);
	set_u64(obj, "maximum", g->maximum);
	set_size_or_null(obj, "target", d != NULL, d ? d->target : 0);
	set_str(obj, "action", d ? vs_mem_action_name(d->action) : NULL);
	set_size_or_null(obj, "low", d != NULL, d ? d->low : 0);
	set_size_or_null(obj, "high", d != NULL, d ? d->high : 0);
	set_size_or_null(obj, "floor", g->floor > 0, g->floor);
	set_u64(obj, "margin", g->margin);
	set_int(obj, "shares", g->shares);
	json_object_set_boolean_member(obj, "stats_trusted", g->stats.trusted);
	set_size_or_null(obj, "used", g->stats.trusted, g->stats.used);
	set_size_or_null(obj, "last_used", g->stats.have_last_used, g->stats.last_used);
	set_size_or_null(obj, "usable", g->stats.trusted, g->stats.usable);
	set_str(obj, "stats_problem", g->stats.problem[0] ? g->stats.problem : NULL);
	json_object_set_boolean_member(obj, "short_of_memory", d && d->short_of_memory);
	set_size_or_null(obj, "override_target", g->has_override, g->override_target);
	set_str(obj, "override_origin", g->has_override ? g->override_origin : NULL);
	set_str(obj, "following", vs_mem_follow_state_name(f ? f->state : VS_MEM_FOLLOW_IDLE));
	set_str(obj, "following_problem", f ? f->why : NULL);
	set_size_or_null(obj, "last_target", f && f->target, f ? f->target : 0);
	set_str(obj, "reason", d ? d->reason : NULL);
	return obj;
}

static JsonObject *render_mem_host(const VsMemView *view)
{
	JsonObject *obj = json_object_new();

	set_str(obj, "state", vs_mem_state_name(view->pressure->state));
	set_str(obj, "state_reason", view->pressure->reason);
	set_int(obj, "state_for_us", view->pressure->since_us ? view->now_us - view->pressure->since_us : 0);
	set_size_or_null(obj, "budget", view->conf->budget > 0, view->conf->budget);
	set_u64(obj, "guests_current", view->guests_current);
	set_size_or_null(obj, "targets_sum", view->plan != NULL,
			 view->plan ? view->plan->targets_sum : 0);
	set_str(obj, "summary", view->plan ? view->plan->summary : NULL);
	json_object_set_boolean_member(obj, "acting", view->acting);
	if (view->trigger_lines)
		json_object_set_array_member(obj, "psi_triggers",
					     strv_array((char *const *)view->trigger_lines));
	else
		json_object_set_null_member(obj, "psi_triggers");
	set_str(obj, "psi_trigger_problem", view->trigger_problem);
	return obj;
}

/* The memory view, or NULL with *ret_error set (NotReady). */
static const VsMemView *mem_view(const VsCtlBackend *backend, VsCtlReply **ret_error)
{
	const VsMemView *view = backend->mem ? backend->mem(backend->data) : NULL;

	if (!view)
		*ret_error = vs_ctl_reply_new_error_string(
			VS_CTL_ERROR_NOT_READY, "reason",
			backend->mem ? "the memory step has not run yet"
				     : "the memory step does not run in this daemon");
	return view;
}

static VsCtlReply *method_memory(const VsCtlBackend *backend, const VsCtlRequest *req)
{
	static const char *const known[] = { "domain", NULL };
	const VsMemView *view;
	VsCtlReply *error = NULL;
	JsonArray *guests;
	JsonObject *params;
	const char *ref;

	if (!vs_ctl_param_check_known(req, known, &error) ||
	    !vs_ctl_param_string_opt(req, "domain", &ref, &error))
		return error;
	view = mem_view(backend, &error);
	if (!view)
		return error;
	guests = json_array_new();
	if (ref) {
		/* A domain that is not running has no memory line. */
		const VsDomain *dom = find_domain(backend, ref, &error);
		int i;

		if (!dom) {
			json_array_unref(guests);
			return error;
		}
		i = mem_guest_index(view, dom->uuid);
		if (i >= 0)
			json_array_add_object_element(guests, render_mem_guest(view, (guint)i));
	} else {
		for (guint i = 0; i < view->n_guests; i++)
			json_array_add_object_element(guests, render_mem_guest(view, i));
	}
	params = json_object_new();
	json_object_set_object_member(params, "host", render_mem_host(view));
	json_object_set_array_member(params, "guests", guests);
	return vs_ctl_reply_new(params);
}

/* `vschedctl setmem`: an override of Memory.Target, checked against the
 * bounds the planner gives an override (vs_mem_plan_bounds) before it is
 * accepted. */
static VsCtlReply *method_set_memory(const VsCtlBackend *backend, const VsCtlRequest *req)
{
	static const char *const known[] = { "domain", "size", "for_us", NULL };
	g_autoptr(GError) parse_error = NULL;
	g_autofree char *assignment = NULL;
	const VsMemView *view;
	const VsMemGuest *g;
	const VsDomain *dom;
	VsCtlReply *error = NULL;
	const char *ref, *size;
	uint64_t bytes, low, high;
	char why[256];
	gint64 for_us;
	int i;

	if (!vs_ctl_param_check_known(req, known, &error) ||
	    !vs_ctl_param_string(req, "domain", &ref, &error) ||
	    !vs_ctl_param_string(req, "size", &size, &error) ||
	    !vs_ctl_param_uint_opt(req, "for_us", 0, &for_us, &error))
		return error;
	if (vs_parse_size(size, &bytes, &parse_error) < 0)
		return invalid_override(g_strdup_printf("size %s: %s", size, parse_error->message));
	dom = find_domain(backend, ref, &error);
	if (!dom)
		return error;
	view = mem_view(backend, &error);
	if (!view)
		return error;
	i = mem_guest_index(view, dom->uuid);
	if (i < 0)
		return invalid_override(g_strdup_printf("%s is not running: its balloon cannot "
							"be set", dom->name));
	g = &view->guests[i];
	vs_mem_plan_bounds(g, true, &low, &high, why, sizeof(why));
	if (bytes > high) {
		g_autofree char *want = vs_format_size(bytes);
		g_autofree char *max = vs_format_size(high);

		return invalid_override(g_strdup_printf("%s: %s is above the guest's maximum memory "
							"%s", dom->name, want, max));
	}
	if (bytes < low) {
		g_autofree char *want = vs_format_size(bytes);
		g_autofree char *min = vs_format_size(low);

		return invalid_override(g_strdup_printf("%s: %s is below the least it may get, %s: "
							"%s", dom->name, want, min, why));
	}
	assignment = g_strdup_printf("Memory.Target=%s", size);
	{
		const char *assignments[] = { assignment, NULL };

		return set_overrides(backend, dom, assignments, g_get_real_time(), for_us);
	}
}

/* The memory lines of `explain` for the running guest @uuid: the target and
 * its reason, and whether the guest follows. */
static void add_mem_reasons(const VsCtlBackend *backend, const char *uuid, JsonArray *reasons)
{
	const VsMemView *view = backend->mem ? backend->mem(backend->data) : NULL;
	int i = mem_guest_index(view, uuid);
	const VsMemDecision *d;
	const VsMemFollow *f;

	if (i < 0)
		return;
	d = view->plan ? vs_mem_plan_find(view->plan, uuid) : NULL;
	f = view->follow ? view->follow[i] : NULL;
	if (d) {
		g_autofree char *target = vs_format_size(d->target);
		g_autofree char *current = vs_format_size(d->current);
		g_autofree char *line = g_strdup_printf("memory (host %s): target %s, balloon at %s: %s",
							vs_mem_state_name(view->pressure->state),
							target, current, d->reason);

		json_array_add_string_element(reasons, line);
	}
	if (f && f->why) {
		g_autofree char *line = g_strdup_printf("memory: the balloon is %s: %s",
							vs_mem_follow_state_name(f->state), f->why);

		json_array_add_string_element(reasons, line);
	}
}

static const VsCtlMethod methods[] = {
	{ "org.vsched.Status", false, method_status },
	{ "org.vsched.List", false, method_list },
	{ "org.vsched.Show", false, method_show },
	{ "org.vsched.Explain", false, method_explain },
	{ "org.vsched.Steal", false, method_steal },
	{ "org.vsched.Metrics", false, method_metrics },
	{ "org.vsched.Memory", false, method_memory },
	{ "org.vsched.SetMemory", true, method_set_memory },
	{ "org.vsched.ListOverrides", false, method_list_overrides },
	{ "org.vsched.SetOverride", true, method_set_override },
	{ "org.vsched.ClearOverride", true, method_clear_override },
	{ "org.vsched.SetVcpus", true, method_set_vcpus },
	{ "org.vsched.Tick", true, method_tick },
	{ "org.vsched.Reload", true, method_reload },
};

const VsCtlMethod *vs_ctl_method_lookup(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(methods); i++)
		if (strcmp(methods[i].name, name) == 0)
			return &methods[i];
	return NULL;
}

VsCtlReply *vs_ctl_methods_call(const VsCtlBackend *backend, const VsCtlRequest *req,
				bool privileged)
{
	const VsCtlMethod *m = vs_ctl_method_lookup(req->method);

	if (!m)
		return vs_ctl_reply_new_error_string(VS_CTL_ERROR_METHOD_NOT_FOUND, "method", req->method);
	if (m->writes && !privileged)
		return vs_ctl_reply_new_error_string(VS_CTL_ERROR_PERMISSION_DENIED, "method", req->method);
	return m->handler(backend, req);
}
