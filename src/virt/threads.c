/* QEMU process and thread discovery; see threads.h.
 *
 * Order of trust: libvirt's status XML gives the PID (the <name>.pid file
 * when the XML has none) and what libvirt believes each vCPU's TID is; the
 * PID is accepted only when /proc says it is a QEMU process; the threads
 * and their roles come from /proc/PID/task/<TID>/comm, which QEMU sets
 * (with debug-threads=on, which libvirt always passes). */
#include "config.h"

#include "virt/threads.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/cpuset.h"
#include "util/error.h"

/* Upper bound for a PID or TID read from any file (PID_MAX_LIMIT). */
#define PID_LIMIT 4194304

void vs_threads_status_free(VsThreadsStatus *status)
{
	if (!status)
		return;
	g_free(status->name);
	g_free(status->uuid);
	if (status->vcpu_tids)
		g_array_unref(status->vcpu_tids);
	g_free(status);
}

static bool parse_pid(const char *s, pid_t *ret)
{
	guint64 v;

	if (!s || !g_ascii_string_to_unsigned(s, 10, 1, PID_LIMIT, &v, NULL))
		return false;
	*ret = (pid_t)v;
	return true;
}

typedef struct {
	VsThreadsStatus *status;
	char **capture;        /* &status->name or &status->uuid while inside it */
	GString *text;
} StatusParser;

/* The open elements from the root, joined with '/'. */
static char *element_path(GMarkupParseContext *ctx)
{
	const GSList *stack = g_markup_parse_context_get_element_stack(ctx);
	g_autoptr(GPtrArray) names = g_ptr_array_new();

	for (const GSList *l = stack; l; l = l->next)
		g_ptr_array_insert(names, 0, l->data);
	g_ptr_array_add(names, NULL);
	return g_strjoinv("/", (char **)names->pdata);
}

static const char *attribute(const char **names, const char **values, const char *name)
{
	for (guint i = 0; names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return values[i];
	return NULL;
}

static void status_start(GMarkupParseContext *ctx, const char *element,
			 const char **names, const char **values,
			 gpointer user_data, GError **error)
{
	StatusParser *p = user_data;
	g_autofree char *path = element_path(ctx);

	if (!strchr(path, '/')) {
		const char *pid = attribute(names, values, "pid");
		if (strcmp(element, "domstatus") != 0) {
			g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
				    "root element is <%s>, not <domstatus>", element);
			return;
		}
		if (pid && !parse_pid(pid, &p->status->pid))
			g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
				    "<domstatus pid='%s'> is not a PID", pid);
	} else if (strcmp(path, "domstatus/vcpus/vcpu") == 0) {
		const char *id = attribute(names, values, "id");
		const char *tid = attribute(names, values, "pid");
		guint64 index;
		pid_t t;
		GArray *tids = p->status->vcpu_tids;

		if (!id || !g_ascii_string_to_unsigned(id, 10, 0, VS_CPU_MAX, &index, NULL)) {
			g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
				    "<vcpu id='%s'> is not a vCPU index", id ? id : "");
			return;
		}
		if (!parse_pid(tid, &t)) {
			g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
				    "<vcpu id='%s' pid='%s'> is not a TID", id, tid ? tid : "");
			return;
		}
		if (index >= tids->len)
			g_array_set_size(tids, (guint)index + 1);
		if (g_array_index(tids, pid_t, index) != 0) {
			g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
				    "vCPU %s is listed twice", id);
			return;
		}
		g_array_index(tids, pid_t, index) = t;
	} else if (strcmp(path, "domstatus/domain/name") == 0) {
		p->capture = &p->status->name;
	} else if (strcmp(path, "domstatus/domain/uuid") == 0) {
		p->capture = &p->status->uuid;
	}
	if (p->capture)
		g_string_truncate(p->text, 0);
}

static void status_end(GMarkupParseContext *ctx, const char *element,
		       gpointer user_data, GError **error)
{
	StatusParser *p = user_data;

	if (!p->capture)
		return;
	g_free(*p->capture);
	*p->capture = g_strstrip(g_strdup(p->text->str));
	p->capture = NULL;
}

static void status_text(GMarkupParseContext *ctx, const char *text, gsize len,
			gpointer user_data, GError **error)
{
	StatusParser *p = user_data;

	if (p->capture)
		g_string_append_len(p->text, text, (gssize)len);
}

static const GMarkupParser status_parser = {
	.start_element = status_start,
	.end_element = status_end,
	.text = status_text,
};

int vs_threads_parse_status(const char *xml, VsThreadsStatus **ret_status, GError **error)
{
	g_autoptr(VsThreadsStatus) status = g_new0(VsThreadsStatus, 1);
	g_autoptr(GString) text = g_string_new(NULL);
	g_autoptr(GError) local = NULL;
	StatusParser p = { .status = status, .text = text };
	GMarkupParseContext *ctx;
	bool ok;

	status->vcpu_tids = g_array_new(FALSE, TRUE, sizeof(pid_t));
	ctx = g_markup_parse_context_new(&status_parser, 0, &p, NULL);
	ok = g_markup_parse_context_parse(ctx, xml, -1, &local) &&
	     g_markup_parse_context_end_parse(ctx, &local);
	g_markup_parse_context_free(ctx);
	if (!ok) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "status XML: %s", local->message);
		return -EINVAL;
	}
	*ret_status = g_steal_pointer(&status);
	return 0;
}

/* Parses the field at @p, @len bytes, as an unsigned number up to @max. */
static bool stat_number(const char *p, size_t len, guint64 max, guint64 *ret)
{
	char buf[32];

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return g_ascii_string_to_unsigned(buf, 10, 0, max, ret, NULL);
}

int vs_threads_parse_stat(const char *text, uint64_t *ret_start_time, int *ret_cpu)
{
	const char *p = strrchr(text, ')');
	guint64 start = 0, cpu = 0;
	bool have_start = false, have_cpu = false;
	guint field = 2;       /* the comm; the state is field 3 */

	if (!p)
		return -EINVAL;
	/* Field by field in place, without splitting: the actuator checks a
	 * thread's identity with this before every change. */
	for (p++; *p && field < 39;) {
		size_t len = 0;

		while (*p == ' ' || *p == '\n')
			p++;
		while (p[len] && p[len] != ' ' && p[len] != '\n')
			len++;
		if (len == 0)
			break;
		field++;
		if (field == 22)
			have_start = stat_number(p, len, G_MAXUINT64, &start);
		else if (field == 39)
			have_cpu = stat_number(p, len, VS_CPU_MAX, &cpu);
		p += len;
	}
	if (!have_start || (field >= 39 && !have_cpu))
		return -EINVAL;
	*ret_start_time = start;
	*ret_cpu = have_cpu ? (int)cpu : -1;
	return 0;
}

int vs_threads_parse_cgroup(const char *text, char **ret_path, char **ret_v1_cpuset)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	const char *v2 = NULL, *cpu = NULL, *cpuset = NULL;

	for (guint i = 0; lines[i]; i++) {
		char *ctrls = strchr(lines[i], ':');
		char *path = ctrls ? strchr(ctrls + 1, ':') : NULL;
		g_auto(GStrv) names = NULL;

		if (!path || path[1] != '/')
			continue;
		*ctrls++ = '\0';
		*path++ = '\0';
		if (strcmp(lines[i], "0") == 0 && ctrls[0] == '\0') {
			v2 = path;
			continue;
		}
		names = g_strsplit(ctrls, ",", -1);
		if (g_strv_contains((const char *const *)names, "cpu"))
			cpu = path;
		if (g_strv_contains((const char *const *)names, "cpuset"))
			cpuset = path;
	}
	if (!cpu && !v2)
		return -EINVAL;
	*ret_path = g_strdup(cpu ? cpu : v2);
	*ret_v1_cpuset = g_strdup(cpuset);
	return 0;
}

VsThreadKind vs_threads_classify(const char *comm, guint *ret_vcpu)
{
	const char *p;
	guint64 n = 0;

	if (g_str_has_prefix(comm, "IO iothread"))
		return VS_THREAD_KIND_IO;
	if (!g_str_has_prefix(comm, "CPU "))
		return VS_THREAD_KIND_EMULATOR;
	p = comm + 4;
	if (!g_ascii_isdigit(*p))
		return VS_THREAD_KIND_EMULATOR;
	for (; g_ascii_isdigit(*p); p++) {
		n = n * 10 + (guint64)(*p - '0');
		if (n > VS_CPU_MAX)
			return VS_THREAD_KIND_EMULATOR;
	}
	if (p[0] != '/' || p[1] == '\0')
		return VS_THREAD_KIND_EMULATOR;
	if (ret_vcpu)
		*ret_vcpu = (guint)n;
	return VS_THREAD_KIND_VCPU;
}

static void G_GNUC_PRINTF(2, 3) add_problem(GString *problems, const char *fmt, ...)
{
	va_list ap;

	if (problems->len > 0)
		g_string_append(problems, "; ");
	va_start(ap, fmt);
	g_string_append_vprintf(problems, fmt, ap);
	va_end(ap);
}

static bool vanished(int r)
{
	return r == -ENOENT || r == -ESRCH;
}

/* Reads one thread of @pid; -ENOENT/-ESRCH when it has exited. */
static int read_thread(const VsSys *sys, pid_t pid, pid_t tid, VsThread *ret)
{
	g_autofree char *dir = g_strdup_printf("/proc/%d/task/%d", (int)pid, (int)tid);
	g_autofree char *comm_path = g_strconcat(dir, "/comm", NULL);
	g_autofree char *stat_path = g_strconcat(dir, "/stat", NULL);
	g_autofree char *status_path = g_strconcat(dir, "/status", NULL);
	g_autofree char *comm = NULL, *stat = NULL, *status = NULL;
	g_auto(GStrv) lines = NULL;
	VsCpuSet *affinity = NULL;
	uint64_t start;
	int cpu, r;

	if ((r = vs_sys_read_line(sys, comm_path, &comm)) < 0 ||
	    (r = vs_sys_read(sys, stat_path, &stat)) < 0 ||
	    (r = vs_sys_read(sys, status_path, &status)) < 0)
		return r;
	r = vs_threads_parse_stat(stat, &start, &cpu);
	if (r < 0)
		return r;
	lines = g_strsplit(status, "\n", -1);
	for (guint i = 0; lines[i]; i++)
		if (g_str_has_prefix(lines[i], "Cpus_allowed_list:"))
			affinity = vs_cpuset_parse(lines[i] + strlen("Cpus_allowed_list:"), NULL);
	*ret = (VsThread){
		.pid = pid,
		.tid = tid,
		.start_time = start,
		.comm = g_steal_pointer(&comm),
		.cpu = cpu,
		.affinity = affinity,
	};
	return 0;
}

static gint compare_pids(gconstpointer a, gconstpointer b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* The TIDs of @pid in ascending order. */
static int list_tids(const VsSys *sys, pid_t pid, GArray **ret_tids)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/task", (int)pid);
	g_auto(GStrv) names = NULL;
	GArray *tids;
	int r = vs_sys_list_dir(sys, path, &names);

	if (r < 0)
		return r;
	tids = g_array_new(FALSE, FALSE, sizeof(pid_t));
	for (guint i = 0; names[i]; i++) {
		pid_t tid;
		if (parse_pid(names[i], &tid))
			g_array_append_val(tids, tid);
	}
	g_array_sort(tids, compare_pids);
	*ret_tids = tids;
	return 0;
}

/* Reads <status_dir>/<name>.xml; NULL (and no problem) when there is none. */
static VsThreadsStatus *read_status(const VsSys *sys, const char *status_dir,
				    const char *name, GString *problems)
{
	g_autofree char *path = g_strdup_printf("%s/%s.xml", status_dir, name);
	g_autofree char *xml = NULL;
	g_autoptr(GError) error = NULL;
	VsThreadsStatus *status = NULL;
	int r = vs_sys_read(sys, path, &xml);

	if (r == -ENOENT)
		return NULL;
	if (r < 0) {
		add_problem(problems, "cannot read %s: %s", path, g_strerror(-r));
		return NULL;
	}
	if (vs_threads_parse_status(xml, &status, &error) < 0)
		add_problem(problems, "%s: %s", path, error->message);
	return status;
}

/* Finds and verifies the QEMU PID; 0 (with a problem) when there is none. */
static pid_t find_pid(const VsSys *sys, const char *status_dir, const VsDomain *dom,
		      const VsThreadsStatus *status, GString *problems)
{
	g_autofree char *pid_path = g_strdup_printf("%s/%s.pid", status_dir, dom->name);
	g_autofree char *comm_path = NULL, *cmdline_path = NULL;
	g_autofree char *line = NULL, *comm = NULL, *argv0 = NULL, *base = NULL;
	pid_t pid = 0;
	int r;

	if (status && status->name && strcmp(status->name, dom->name) != 0) {
		add_problem(problems, "the status XML of '%s' describes domain '%s'",
			    dom->name, status->name);
		return 0;
	}
	if (status && status->uuid && dom->uuid[0] &&
	    g_ascii_strcasecmp(status->uuid, dom->uuid) != 0) {
		add_problem(problems, "the status XML of '%s' has UUID %s, libvirt says %s",
			    dom->name, status->uuid, dom->uuid);
		return 0;
	}
	if (status && status->pid)
		pid = status->pid;
	else if ((r = vs_sys_read_line(sys, pid_path, &line)) < 0) {
		add_problem(problems, "no QEMU PID: %s/%s.xml has none and %s: %s",
			    status_dir, dom->name, pid_path, g_strerror(-r));
		return 0;
	} else if (!parse_pid(line, &pid)) {
		add_problem(problems, "%s holds '%s', not a PID", pid_path, line);
		return 0;
	}

	comm_path = g_strdup_printf("/proc/%d/comm", (int)pid);
	cmdline_path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
	r = vs_sys_read_line(sys, comm_path, &comm);
	if (r < 0) {
		add_problem(problems, "QEMU PID %d: %s: %s", (int)pid, comm_path, g_strerror(-r));
		return 0;
	}
	/* comm is cut at 15 characters ("qemu-system-x86"); a renamed binary
	 * (qemu-kvm) still says qemu in argv[0], the cmdline up to its NUL. */
	if (vs_sys_read(sys, cmdline_path, &argv0) == 0)
		base = g_path_get_basename(argv0);
	if (!g_str_has_prefix(comm, "qemu") && !(base && g_str_has_prefix(base, "qemu"))) {
		add_problem(problems, "PID %d is '%s', not a QEMU process", (int)pid, comm);
		return 0;
	}
	return pid;
}

/* Reads the process-wide facts of @pid into @dom. */
static int read_process(const VsSys *sys, pid_t pid, VsDomain *dom, GString *problems)
{
	g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", (int)pid);
	g_autofree char *cgroup_path = g_strdup_printf("/proc/%d/cgroup", (int)pid);
	g_autofree char *stat = NULL, *cgroup = NULL;
	char *path = NULL, *cpuset = NULL;
	uint64_t start;
	int cpu, r;

	r = vs_sys_read(sys, stat_path, &stat);
	if (r < 0) {
		add_problem(problems, "QEMU PID %d: %s: %s", (int)pid, stat_path, g_strerror(-r));
		return r;
	}
	if (vs_threads_parse_stat(stat, &start, &cpu) < 0) {
		add_problem(problems, "%s cannot be parsed", stat_path);
		return -EINVAL;
	}
	r = vs_sys_read(sys, cgroup_path, &cgroup);
	if (r < 0)
		add_problem(problems, "%s: %s", cgroup_path, g_strerror(-r));
	else if (vs_threads_parse_cgroup(cgroup, &path, &cpuset) < 0)
		add_problem(problems, "%s names no cpu or v2 cgroup", cgroup_path);
	dom->pid = pid;
	dom->pid_start_time = start;
	g_free(dom->cgroup_path);
	dom->cgroup_path = path;
	g_free(dom->cgroup_v1_cpuset);
	dom->cgroup_v1_cpuset = cpuset;
	return 0;
}

static const VsThread *find_tid(GArray *threads, pid_t tid)
{
	for (guint i = 0; i < threads->len; i++) {
		const VsThread *t = &g_array_index(threads, VsThread, i);
		if (t->tid == tid)
			return t;
	}
	return NULL;
}

/* Compares the status XML's vCPU TIDs with what /proc says (@by_vcpu:
 * index into @threads per vCPU, -1 none). */
static void cross_check(const VsDomain *dom, const VsThreadsStatus *status,
			GArray *threads, const int *by_vcpu, GString *problems)
{
	guint n = dom->vcpus->len;

	for (guint i = 0; status && i < status->vcpu_tids->len; i++) {
		pid_t x = g_array_index(status->vcpu_tids, pid_t, i);
		const VsThread *t;

		if (x == 0)
			continue;
		if (i >= n) {
			add_problem(problems, "the status XML lists vCPU %u (TID %d) beyond the %u vCPUs libvirt reports",
				    i, (int)x, n);
			continue;
		}
		if (by_vcpu[i] >= 0 && g_array_index(threads, VsThread, by_vcpu[i]).tid == x)
			continue;
		t = find_tid(threads, x);
		if (!t)
			add_problem(problems, "the status XML gives vCPU %u TID %d, which does not exist",
				    i, (int)x);
		else
			add_problem(problems, "the status XML gives vCPU %u TID %d, but that thread is '%s'",
				    i, (int)x, t->comm);
	}
	for (guint i = 0; i < n; i++)
		if (by_vcpu[i] < 0 && g_array_index(dom->vcpus, VsVcpu, i).online)
			add_problem(problems, "vCPU %u is online but has no thread", i);
}

int vs_threads_collect(const VsSys *sys, const char *status_dir, VsDomain *dom)
{
	g_autoptr(GString) problems = g_string_new(NULL);
	g_autoptr(VsThreadsStatus) status = NULL;
	g_autoptr(GArray) tids = NULL;
	g_autoptr(GArray) threads = NULL;
	g_autofree int *by_vcpu = NULL;
	guint n = dom->vcpus->len;
	pid_t pid;
	int r;

	vs_domain_threads_unshare(dom);
	status = read_status(sys, status_dir, dom->name, problems);
	pid = find_pid(sys, status_dir, dom, status, problems);
	if (pid != 0 && (r = list_tids(sys, pid, &tids)) < 0) {
		add_problem(problems, "QEMU PID %d: /proc/%d/task: %s", (int)pid, (int)pid,
			    g_strerror(-r));
		pid = 0;
	}
	if (pid == 0 || read_process(sys, pid, dom, problems) < 0) {
		dom->pid = 0;
		g_free(dom->threads_problem);
		dom->threads_problem = g_string_free(g_steal_pointer(&problems), FALSE);
		return -ESRCH;
	}

	threads = g_array_new(FALSE, TRUE, sizeof(VsThread));
	g_array_set_clear_func(threads, (GDestroyNotify)vs_thread_clear);
	by_vcpu = g_new(int, MAX(n, 1));
	for (guint i = 0; i < n; i++)
		by_vcpu[i] = -1;
	for (guint i = 0; i < tids->len; i++) {
		pid_t tid = g_array_index(tids, pid_t, i);
		VsThread t;
		guint index;

		r = read_thread(sys, pid, tid, &t);
		if (vanished(r))
			continue;
		if (r < 0) {
			add_problem(problems, "cannot read thread %d: %s", (int)tid, g_strerror(-r));
			continue;
		}
		g_array_append_val(threads, t);
		if (vs_threads_classify(t.comm, &index) != VS_THREAD_KIND_VCPU)
			continue;
		if (index >= n)
			add_problem(problems, "thread %d '%s' is beyond the %u vCPUs libvirt reports",
				    (int)tid, t.comm, n);
		else if (by_vcpu[index] >= 0)
			add_problem(problems, "threads %d and %d both claim vCPU %u",
				    (int)g_array_index(threads, VsThread, by_vcpu[index]).tid,
				    (int)tid, index);
		else
			by_vcpu[index] = (int)threads->len - 1;
	}
	cross_check(dom, status, threads, by_vcpu, problems);

	/* Hand the threads over: each vCPU's, then the rest by kind. Steal
	 * the owned fields so that clearing @threads frees only leftovers. */
	for (guint i = 0; i < n; i++) {
		VsThread *dst = &g_array_index(dom->vcpus, VsVcpu, i).thread;
		vs_thread_clear(dst);
		*dst = (VsThread){ .pid = pid, .cpu = -1 };
		if (by_vcpu[i] >= 0) {
			VsThread *src = &g_array_index(threads, VsThread, by_vcpu[i]);
			*dst = *src;
			src->comm = NULL;
			src->affinity = NULL;
			src->tid = 0;
		}
	}
	g_array_set_size(dom->emulator_threads, 0);
	g_array_set_size(dom->io_threads, 0);
	for (guint i = 0; i < threads->len; i++) {
		VsThread *src = &g_array_index(threads, VsThread, i);
		VsThreadKind kind;

		if (src->tid == 0)
			continue;       /* handed to a vCPU above */
		kind = vs_threads_classify(src->comm, NULL);
		if (kind == VS_THREAD_KIND_VCPU)
			continue;       /* beyond the vCPU count or a duplicate: reported */
		g_array_append_val(kind == VS_THREAD_KIND_IO ? dom->io_threads
							     : dom->emulator_threads, *src);
		src->comm = NULL;
		src->affinity = NULL;
	}
	g_free(dom->threads_problem);
	dom->threads_problem = problems->len ? g_string_free(g_steal_pointer(&problems), FALSE)
					     : NULL;
	return 0;
}
