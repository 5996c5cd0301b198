/* The control API's method table and handlers; see methods.h. Rendering
 * follows doc/control-protocol.md field by field: a field the daemon does
 * not know is null (or left out, for balloon statistics the guest did not
 * report), never a made-up zero. */
#include "config.h"

#include "ctl/methods.h"

#include <string.h>

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

static JsonObject *render_status(const VsDaemonStatus *st, const VsSnapshot *snap)
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
	json_object_set_boolean_member(obj, "dry_run", st->dry_run);
	set_str(obj, "config", st->config_path);
	set_str(obj, "last_error", st->last_error);

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

static JsonObject *render_summary(const VsDomain *dom)
{
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
	/* No policy engine yet: nothing applies a policy to a domain. */
	json_object_set_null_member(obj, "policy");
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

static JsonArray *render_vcpus(const GArray *vcpus)
{
	JsonArray *arr = json_array_new();

	for (guint i = 0; vcpus && i < vcpus->len; i++) {
		const VsVcpu *v = &g_array_index(vcpus, VsVcpu, i);
		JsonObject *o = json_object_new();

		set_int(o, "index", v->index);
		json_object_set_boolean_member(o, "online", v->online);
		render_thread_into(o, &v->thread);
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

static JsonObject *render_detail(const VsDomain *dom)
{
	JsonObject *obj = render_summary(dom);

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
	json_object_set_array_member(obj, "vcpu", render_vcpus(dom->vcpus));
	json_object_set_array_member(obj, "emulator", render_threads(dom->emulator_threads));
	json_object_set_array_member(obj, "iothreads", render_threads(dom->io_threads));
	json_object_set_object_member(obj, "balloon", render_balloon(&dom->balloon));
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
	return vs_ctl_reply_new(render_status(&st, backend->snapshot(backend->data)));
}

static VsCtlReply *method_list(const VsCtlBackend *backend, const VsCtlRequest *req)
{
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
		json_array_add_object_element(arr, render_summary(g_ptr_array_index(snap->domains, i)));
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
	json_object_set_object_member(params, "domain", render_detail(dom));
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

static const VsCtlMethod methods[] = {
	{ "org.vsched.Status", false, method_status },
	{ "org.vsched.List", false, method_list },
	{ "org.vsched.Show", false, method_show },
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
