/* Component test of the control server (src/ctl/server.c), the client
 * (src/ctl/client.c) and vschedctl: a real server on a socket in a
 * temporary directory, backed by the fake daemon of test-ctl-fixture.h and
 * served from this thread's main context, talks to clients in a second
 * thread (or, for the non-root peer, a forked child). The client side only
 * records what it saw; the assertions run in the main thread once it is
 * done. The policy verbs of vschedctl run against the server (explain,
 * override) or alone (policy check, policy keys). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl/client.h"
#include "ctl/server.h"
#include "unit/test-ctl-fixture.h"
#include "util/error.h"

/* Running domains besides db1: enough that 100 List replies are far more
 * than a socket buffer holds. */
#define N_EXTRA 100
#define TIMEOUT_MS 10000

typedef struct Env {
	char *dir;
	char *path;            /* in a subdirectory the server has to create */
	GMainContext *context;
	CtlFake *fake;
	VsCtlServer *server;
} Env;

static VsCtlServer *server_new(Env *env, const char *group, GError **error)
{
	VsCtlBackend backend = ctl_fake_backend(env->fake);

	return vs_ctl_server_new(env->path, group, &backend, error);
}

static int setup(void **state)
{
	g_autoptr(GError) error = NULL;
	Env *env = g_new0(Env, 1);

	env->dir = g_dir_make_tmp("vsched-ctl-XXXXXX", &error);
	assert_non_null(env->dir);
	env->path = g_build_filename(env->dir, "run", "vschedd.sock", NULL);
	env->context = g_main_context_new();
	/* The directory the server creates is 0755 whatever the umask. */
	umask(0077);
	g_main_context_push_thread_default(env->context);
	env->fake = ctl_fake_new(true, N_EXTRA);
	env->server = server_new(env, NULL, &error);
	assert_null(error);
	assert_non_null(env->server);
	*state = env;
	return 0;
}

static int teardown(void **state)
{
	Env *env = *state;
	g_autofree char *run = g_path_get_dirname(env->path);

	vs_ctl_server_free(env->server);
	/* The server unlinks its socket. */
	assert_false(g_file_test(env->path, G_FILE_TEST_EXISTS));
	ctl_fake_free(env->fake);
	g_main_context_pop_thread_default(env->context);
	g_main_context_unref(env->context);
	assert_int_equal(g_rmdir(run), 0);
	assert_int_equal(g_rmdir(env->dir), 0);
	g_free(env->path);
	g_free(env->dir);
	g_free(env);
	return 0;
}

/* What a client saw of one call: "ok", the error name, or "fail: MESSAGE". */
static char *describe(const VsCtlReply *reply, const GError *error)
{
	if (!reply)
		return g_strdup_printf("fail: %s", error ? error->message : "no reply");
	return g_strdup(reply->error ? reply->error : "ok");
}

/* Calls @method on a fresh connection and describes the outcome. */
static char *call_once(Env *env, const char *method, JsonObject *params)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCtlClient) client = vs_ctl_client_connect(env->path, &error);
	g_autoptr(VsCtlReply) reply = NULL;

	if (client)
		reply = vs_ctl_client_call(client, method, params, TIMEOUT_MS, &error);
	return describe(reply, error);
}

typedef void (*Scenario)(Env *env, GString *log);

typedef struct Job {
	Env *env;
	Scenario scenario;
	GString *log;
	gint done;
} Job;

static gpointer job_thread(gpointer data)
{
	Job *job = data;

	job->scenario(job->env, job->log);
	g_atomic_int_set(&job->done, 1);
	g_main_context_wakeup(job->env->context);
	return NULL;
}

/* Runs @scenario in a client thread while this thread serves; returns the
 * client's log. */
static char *run_scenario(Env *env, Scenario scenario)
{
	Job job = { .env = env, .scenario = scenario, .log = g_string_new(NULL) };
	gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
	GThread *thread = g_thread_new("client", job_thread, &job);

	while (!g_atomic_int_get(&job.done)) {
		if (g_get_monotonic_time() > deadline)
			fail_msg("client scenario did not finish; log so far:\n%s", job.log->str);
		g_main_context_iteration(env->context, FALSE);
		if (!g_atomic_int_get(&job.done) && !g_main_context_pending(env->context))
			g_usleep(500);
	}
	g_thread_join(thread);
	return g_string_free(job.log, FALSE);
}

static void assert_log(const char *got, const char *want)
{
	/* Printed here: cmocka cuts long failure messages short. */
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "client log:\n%s\nwanted:\n%s\n", got, want);
		fail_msg("the client log differs (above)");
	}
}

/* A blocking raw connection, for what VsCtlClient does not do on purpose
 * (pipelining, not reading). Returns the fd or -1. */
static int raw_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool raw_send(int fd, const char *data, gsize len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n <= 0)
			return false;
		data += n;
		len -= (gsize)n;
	}
	return true;
}

/* Reads one reply on @fd through @reader; NULL at end of stream. */
static VsCtlReply *raw_receive(int fd, VsCtlReader *reader)
{
	for (;;) {
		g_autofree char *msg = NULL;
		char buf[8192];
		gsize len;
		ssize_t n;

		if (vs_ctl_reader_pop(reader, &msg, &len) == 1)
			return vs_ctl_reply_decode(msg, len, NULL);
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			return NULL;
		vs_ctl_reader_feed(reader, buf, (gsize)n);
	}
}

static void scenario_methods(Env *env, GString *log)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCtlClient) client = vs_ctl_client_connect(env->path, &error);
	g_autoptr(JsonObject) show = json_object_new();
	g_autoptr(JsonObject) show_nope = json_object_new();
	g_autoptr(VsCtlReply) status = NULL, list = NULL, detail = NULL;
	g_autoptr(VsCtlReader) reader = vs_ctl_reader_new(VS_CTL_REPLY_MAX);
	static const char pipelined[] = "{\"method\": \"org.vsched.Status\"}\0"
					"{\"method\": \"org.vsched.Show\", \"parameters\": {\"domain\": \"3\"}}\0"
					"{\"method\": \"org.vsched.Nope\"}";
	g_autofree char *s = NULL;
	int fd;

	if (!client) {
		g_string_append_printf(log, "connect failed: %s\n", error->message);
		return;
	}
	/* Several calls on one connection. */
	status = vs_ctl_client_call(client, "org.vsched.Status", NULL, TIMEOUT_MS, &error);
	s = describe(status, error);
	g_string_append_printf(log, "status %s %s\n", s,
			       status ? json_object_get_string_member(status->parameters, "version") : "");
	list = vs_ctl_client_call(client, "org.vsched.List", NULL, TIMEOUT_MS, &error);
	g_free(s);
	s = describe(list, error);
	g_string_append_printf(log, "list %s %u\n", s,
			       list ? json_array_get_length(json_object_get_array_member(
					      list->parameters, "domains")) : 0);
	json_object_set_string_member(show, "domain", "db1");
	detail = vs_ctl_client_call(client, "org.vsched.Show", show, TIMEOUT_MS, &error);
	g_free(s);
	s = describe(detail, error);
	g_string_append_printf(log, "show %s %u\n", s,
			       detail ? json_array_get_length(json_object_get_array_member(
					json_object_get_object_member(detail->parameters, "domain"),
					"vcpu")) : 0);
	json_object_set_string_member(show_nope, "domain", "nope");
	g_free(s);
	s = call_once(env, "org.vsched.Show", show_nope);
	g_string_append_printf(log, "show nope %s\n", s);
	g_free(s);
	s = call_once(env, "org.vsched.Tick", NULL);
	g_string_append_printf(log, "tick %s\n", s);

	/* Three requests in one write: answered in order, one reply each. */
	fd = raw_connect(env->path);
	if (fd < 0 || !raw_send(fd, pipelined, sizeof(pipelined))) {
		g_string_append(log, "raw connection failed\n");
	} else {
		for (int i = 0; i < 3; i++) {
			g_autoptr(VsCtlReply) r = raw_receive(fd, reader);
			g_autofree char *d = describe(r, NULL);
			g_string_append_printf(log, "pipelined %d %s %s\n", i, d,
					       r && json_object_has_member(r->parameters, "domain")
						       ? "domain" : "-");
		}
	}
	if (fd >= 0)
		close(fd);
}

static void test_methods(void **state)
{
	Env *env = *state;
	g_autofree char *log = run_scenario(env, scenario_methods);
	bool root = geteuid() == 0;
	g_autofree char *want = g_strdup_printf(
		"status ok 0.1.0\n"
		"list ok %d\n"
		"show ok 4\n"
		"show nope org.vsched.NoSuchDomain\n"
		"tick %s\n"
		"pipelined 0 ok -\n"
		"pipelined 1 ok domain\n"
		"pipelined 2 org.varlink.service.MethodNotFound -\n",
		N_EXTRA + 2, root ? "ok" : "org.vsched.PermissionDenied");

	assert_log(log, want);
	assert_int_equal(env->fake->ticks_requested, root ? 1 : 0);
}

/* Sends @len raw bytes on @client and describes the reply. */
static char *transact(VsCtlClient *client, const char *msg, gsize len)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCtlReply) reply = vs_ctl_client_transact(client, msg, len, TIMEOUT_MS, &error);

	return describe(reply, error);
}

static void scenario_garbage(Env *env, GString *log)
{
	static const char *const bad[] = {
		"garbage", "", "[1, 2]", "{\"method\": 1}", "{\"method\": \"org.vsched.List\", "
		"\"more\": true}", "{\"method\": \"org.vsched.Status\", \"parameters\": 5}",
	};
	static const char bad_utf8[] = "{\"method\": \"\xc3\x28\"}";
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCtlClient) client = vs_ctl_client_connect(env->path, &error);
	g_autofree char *s = NULL;

	if (!client) {
		g_string_append_printf(log, "connect failed: %s\n", error->message);
		return;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *d = transact(client, bad[i], strlen(bad[i]) + 1);
		g_string_append_printf(log, "%s\n", d);
	}
	/* Invalid UTF-8. */
	s = transact(client, bad_utf8, sizeof(bad_utf8));
	g_string_append_printf(log, "%s\n", s);
	/* The same connection still answers. */
	g_free(s);
	{
		g_autoptr(VsCtlReply) r = vs_ctl_client_call(client, "org.vsched.Status", NULL,
							     TIMEOUT_MS, &error);
		s = describe(r, error);
	}
	g_string_append_printf(log, "then %s\n", s);
}

static void test_garbage(void **state)
{
	Env *env = *state;
	g_autofree char *log = run_scenario(env, scenario_garbage);

	assert_log(log,
		   "org.vsched.InvalidMessage\n"
		   "org.vsched.InvalidMessage\n"
		   "org.vsched.InvalidMessage\n"
		   "org.vsched.InvalidMessage\n"
		   "org.varlink.service.InvalidParameter\n"
		   "org.vsched.InvalidMessage\n"
		   "org.vsched.InvalidMessage\n"
		   "then ok\n");
}

static void scenario_too_large(Env *env, GString *log)
{
	gsize len = 1024 * 1024;
	g_autofree char *big = g_malloc(len);
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCtlClient) client = vs_ctl_client_connect(env->path, &error);
	g_autoptr(VsCtlReply) reply = NULL, again = NULL;
	g_autofree char *s = NULL;

	if (!client) {
		g_string_append_printf(log, "connect failed: %s\n", error->message);
		return;
	}
	memset(big, ' ', len);
	big[len - 1] = '\0';
	reply = vs_ctl_client_transact(client, big, len, TIMEOUT_MS, &error);
	s = describe(reply, error);
	g_string_append_printf(log, "%s %" G_GINT64_FORMAT "\n", s,
			       reply ? json_object_get_int_member(reply->parameters, "limit") : 0);
	g_clear_error(&error);
	/* Then the connection is closed. */
	again = vs_ctl_client_call(client, "org.vsched.Status", NULL, TIMEOUT_MS, &error);
	g_free(s);
	s = describe(again, error);
	g_string_append_printf(log, "%s\n", g_str_has_prefix(s, "fail: vschedd closed the connection")
						? "closed" : s);
	/* Others are served. */
	g_free(s);
	s = call_once(env, "org.vsched.Status", NULL);
	g_string_append_printf(log, "other %s\n", s);
}

static void test_too_large(void **state)
{
	Env *env = *state;
	g_autofree char *log = run_scenario(env, scenario_too_large);

	assert_log(log, "org.vsched.MessageTooLarge 65536\nclosed\nother ok\n");
}

static void scenario_client_limit(Env *env, GString *log)
{
	g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func(
		(GDestroyNotify)vs_ctl_client_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCtlClient) extra = NULL;
	g_autoptr(VsCtlReply) reply = NULL;
	guint ok = 0;
	g_autofree char *s = NULL;

	for (guint i = 0; i < VS_CTL_CLIENTS_MAX; i++) {
		VsCtlClient *c = vs_ctl_client_connect(env->path, &error);
		g_autoptr(VsCtlReply) r = NULL;

		if (!c)
			break;
		g_ptr_array_add(clients, c);
		r = vs_ctl_client_call(c, "org.vsched.Status", NULL, TIMEOUT_MS, &error);
		if (r && !r->error)
			ok++;
		g_clear_error(&error);
	}
	g_string_append_printf(log, "%u answered\n", ok);

	/* The kernel accepts the 33rd connection; the server closes it. */
	extra = vs_ctl_client_connect(env->path, &error);
	if (extra)
		reply = vs_ctl_client_call(extra, "org.vsched.Status", NULL, TIMEOUT_MS, &error);
	s = describe(reply, error);
	g_string_append_printf(log, "33rd %s\n",
			       g_str_has_prefix(s, "fail: vschedd closed the connection") ? "refused" : s);

	/* Once one leaves, there is room again. */
	g_ptr_array_remove_index(clients, 0);
	for (int tries = 0; tries < 200; tries++) {
		g_free(s);
		s = call_once(env, "org.vsched.Status", NULL);
		if (strcmp(s, "ok") == 0)
			break;
		g_usleep(10000);
	}
	g_string_append_printf(log, "after one left %s\n", s);
}

static void test_client_limit(void **state)
{
	Env *env = *state;
	g_autofree char *log = run_scenario(env, scenario_client_limit);
	g_autofree char *want = g_strdup_printf("%d answered\n33rd refused\nafter one left ok\n",
						VS_CTL_CLIENTS_MAX);

	assert_log(log, want);
}

static void scenario_slow_reader(Env *env, GString *log)
{
	static const char list[] = "{\"method\": \"org.vsched.List\"}";
	g_autoptr(GString) burst = g_string_new(NULL);
	g_autoptr(VsCtlReader) reader = vs_ctl_reader_new(VS_CTL_REPLY_MAX);
	g_autofree char *s = NULL;
	guint got = 0;
	int fd = raw_connect(env->path);

	for (int i = 0; i < 100; i++)
		g_string_append_len(burst, list, sizeof(list));
	if (fd < 0 || !raw_send(fd, burst->str, burst->len)) {
		g_string_append(log, "raw connection failed\n");
		if (fd >= 0)
			close(fd);
		return;
	}
	/* This client takes none of its ~2 MiB of replies; others are served. */
	g_usleep(200000);
	s = call_once(env, "org.vsched.Status", NULL);
	g_string_append_printf(log, "other %s\n", s);

	/* Then it reads them all, none lost. */
	for (;;) {
		g_autoptr(VsCtlReply) r = NULL;

		if (got == 100)
			break;
		r = raw_receive(fd, reader);
		if (!r || r->error)
			break;
		got++;
	}
	g_string_append_printf(log, "%u replies\n", got);
	close(fd);
}

static void test_slow_reader(void **state)
{
	Env *env = *state;
	g_autofree char *log = run_scenario(env, scenario_slow_reader);

	assert_log(log, "other ok\n100 replies\n");
}

static void scenario_idle(Env *env, GString *log)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCtlClient) busy = vs_ctl_client_connect(env->path, &error);
	g_autoptr(VsCtlClient) idle = vs_ctl_client_connect(env->path, &error);
	g_autoptr(VsCtlReply) r = NULL;
	g_autofree char *s = NULL;
	guint ok = 0;

	if (!busy || !idle) {
		g_string_append_printf(log, "connect failed: %s\n", error->message);
		return;
	}
	/* A client that keeps talking stays connected past the timeout. */
	for (int i = 0; i < 8; i++) {
		g_autoptr(VsCtlReply) b = vs_ctl_client_call(busy, "org.vsched.Status", NULL,
							     TIMEOUT_MS, NULL);
		if (b && !b->error)
			ok++;
		g_usleep(100000);
	}
	g_string_append_printf(log, "busy %u\n", ok);
	r = vs_ctl_client_call(idle, "org.vsched.Status", NULL, TIMEOUT_MS, &error);
	s = describe(r, error);
	g_string_append_printf(log, "idle %s\n",
			       g_str_has_prefix(s, "fail: vschedd closed the connection") ? "closed" : s);
}

static void test_idle(void **state)
{
	Env *env = *state;
	g_autofree char *log = NULL;

	/* Only clients that connect from now on get the short timeout. */
	vs_ctl_server_set_idle_timeout(env->server, 300);
	log = run_scenario(env, scenario_idle);
	assert_log(log, "busy 8\nidle closed\n");
}

/* In the forked child: one request on a raw connection, with only
 * async-signal-safe calls. Returns true when the reply contains @want. */
static bool child_call(const char *path, const char *request, size_t len, const char *want)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	static char buf[65536];
	size_t got = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return false;
	if (write(fd, request, len) != (ssize_t)len)
		return false;
	while (got < sizeof(buf) - 1) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\0', got))
			break;
	}
	close(fd);
	buf[got] = '\0';
	return strstr(buf, want) != NULL;
}

static void test_non_root_peer(void **state)
{
	static const char status[] = "{\"method\": \"org.vsched.Status\"}";
	static const char tick[] = "{\"method\": \"org.vsched.Tick\"}";
	static const char set[] = "{\"method\": \"org.vsched.SetOverride\", \"parameters\":"
				  " {\"domain\": \"db1\", \"assignments\": [\"Weight=300\"]}}";
	static const char list[] = "{\"method\": \"org.vsched.ListOverrides\"}";
	Env *env = *state;
	g_autofree char *run = NULL;
	int wstatus = 0;
	pid_t pid;

	/* Before any allocation: skip() does not return. */
	if (geteuid() != 0) {
		fprintf(stderr, "skipping the non-root peer test: it needs root to become "
				"uid 65534\n");
		skip();
	}
	run = g_path_get_dirname(env->path);
	/* Let nobody reach the socket. */
	assert_int_equal(chmod(env->dir, 0755), 0);
	assert_int_equal(chmod(run, 0755), 0);
	assert_int_equal(chmod(env->path, 0666), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int code = 0;

		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(10);
		if (!child_call(env->path, status, sizeof(status), "\"version\":\"0.1.0\""))
			code |= 1;
		if (!child_call(env->path, tick, sizeof(tick),
				"\"error\":\"org.vsched.PermissionDenied\""))
			code |= 2;
		if (!child_call(env->path, set, sizeof(set),
				"\"error\":\"org.vsched.PermissionDenied\""))
			code |= 4;
		if (!child_call(env->path, list, sizeof(list), "{\"overrides\":[]}"))
			code |= 8;
		_exit(code);
	}
	while (waitpid(pid, &wstatus, WNOHANG) == 0) {
		g_main_context_iteration(env->context, FALSE);
		g_usleep(1000);
	}
	assert_true(WIFEXITED(wstatus));
	/* 1: Status failed, 2: Tick was not denied, 4: SetOverride was not
	 * denied, 8: ListOverrides failed, 10: could not drop root. */
	assert_int_equal(WEXITSTATUS(wstatus), 0);
	assert_int_equal(env->fake->ticks_requested, 0);
	assert_int_equal(env->fake->overrides->items->len, 0);
	assert_int_equal(env->fake->overrides_changed, 0);
}

static void test_socket_setup(void **state)
{
	Env *env = *state;
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCtlServer) second = NULL;
	struct group *own = getgrgid(getegid());
	g_autofree char *own_group = own ? g_strdup(own->gr_name) : NULL;
	struct stat st;
	int fd;

	/* The server created the socket's directory. */
	{
		g_autofree char *run = g_path_get_dirname(env->path);

		assert_int_equal(stat(run, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0755);
	}
	/* Root only without a group. */
	assert_int_equal(stat(env->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_null(vs_ctl_server_warning(env->server));

	/* A live server is never replaced. */
	second = server_new(env, NULL, &error);
	assert_null(second);
	assert_true(g_error_matches(error, VS_ERROR, VS_ERROR_UNAVAILABLE));
	assert_non_null(strstr(error->message, "already serving"));
	g_clear_error(&error);

	/* A stale socket (nobody listens) is. */
	vs_ctl_server_free(env->server);
	env->server = NULL;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un addr = { .sun_family = AF_UNIX };
		g_strlcpy(addr.sun_path, env->path, sizeof(addr.sun_path));
		assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	}
	close(fd);
	assert_true(g_file_test(env->path, G_FILE_TEST_EXISTS));
	env->server = server_new(env, "no-such-group-vsched-test", &error);
	assert_null(error);
	assert_non_null(env->server);
	/* A missing group: 0600 and a warning for the log. */
	assert_non_null(vs_ctl_server_warning(env->server));
	assert_non_null(strstr(vs_ctl_server_warning(env->server), "no-such-group-vsched-test"));
	assert_int_equal(stat(env->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* An existing group (our own, which we may always give it to): 0660. */
	if (own_group) {
		vs_ctl_server_free(env->server);
		env->server = server_new(env, own_group, &error);
		assert_null(error);
		assert_int_equal(stat(env->path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0660);
		assert_int_equal(st.st_gid, getegid());
		assert_null(vs_ctl_server_warning(env->server));
	}

	/* Something else at the path is never removed. */
	vs_ctl_server_free(env->server);
	env->server = NULL;
	assert_true(g_file_set_contents(env->path, "keep", -1, NULL));
	second = server_new(env, NULL, &error);
	assert_null(second);
	assert_non_null(strstr(error->message, "not a socket"));
	assert_true(g_file_test(env->path, G_FILE_TEST_IS_REGULAR));
	assert_int_equal(g_unlink(env->path), 0);
	g_clear_error(&error);
	env->server = server_new(env, NULL, &error);
	assert_non_null(env->server);
}

static void test_client_errors(void **state)
{
	Env *env = *state;
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCtlClient) client = NULL;
	g_autofree char *missing = g_build_filename(env->dir, "none.sock", NULL);

	client = vs_ctl_client_connect(missing, &error);
	assert_null(client);
	assert_true(g_error_matches(error, VS_ERROR, VS_ERROR_UNAVAILABLE));
	assert_non_null(strstr(error->message, missing));
	assert_non_null(strstr(error->message, "is vschedd running?"));
	g_clear_error(&error);

	/* A socket nobody listens on: connection refused, same advice. */
	vs_ctl_server_free(env->server);
	env->server = NULL;
	{
		struct sockaddr_un addr = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		g_strlcpy(addr.sun_path, env->path, sizeof(addr.sun_path));
		assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
		close(fd);
	}
	client = vs_ctl_client_connect(env->path, &error);
	assert_null(client);
	assert_non_null(strstr(error->message, "Connection refused"));
	assert_non_null(strstr(error->message, "is vschedd running?"));
	g_clear_error(&error);
	env->server = server_new(env, NULL, &error);
	assert_non_null(env->server);
}

/* Runs vschedctl @args against the test's server and logs its output and
 * exit status. */
static void cli_run(Env *env, GString *log, const char *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL, *err = NULL, *joined = g_strjoinv(" ", (char **)args);
	int wait_status = 0;

	g_ptr_array_add(argv, (char *)VSCHEDCTL);
	g_ptr_array_add(argv, (char *)"--socket");
	g_ptr_array_add(argv, env->path);
	for (size_t i = 0; args[i]; i++)
		g_ptr_array_add(argv, (char *)args[i]);
	g_ptr_array_add(argv, NULL);
	g_string_append_printf(log, "$ vschedctl %s\n", joined);
	if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
			  &wait_status, &error)) {
		g_string_append_printf(log, "spawn failed: %s\n", error->message);
		return;
	}
	g_string_append_printf(log, "%s%s[exit %d]\n", out, err,
			       WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1);
}

static void scenario_cli(Env *env, GString *log)
{
	static const char *const status[] = { "status", NULL };
	static const char *const list[] = { "list", NULL };
	static const char *const list_all[] = { "list", "--all", NULL };
	static const char *const show[] = { "show", "db1", NULL };
	static const char *const show_nope[] = { "show", "nope", NULL };
	static const char *const show_usage[] = { "show", NULL };
	static const char *const list_json[] = { "list", "--json", NULL };

	cli_run(env, log, status);
	cli_run(env, log, list);
	cli_run(env, log, list_all);
	cli_run(env, log, show);
	cli_run(env, log, show_nope);
	cli_run(env, log, show_usage);
	cli_run(env, log, list_json);
}

static void test_cli(void **state)
{
	Env *env = *state;
	g_autofree char *log = NULL;

	/* Just db1 and web, for short tables. */
	vs_ctl_server_free(env->server);
	ctl_fake_free(env->fake);
	env->fake = ctl_fake_new(true, 0);
	env->server = server_new(env, NULL, NULL);
	log = run_scenario(env, scenario_cli);
	assert_log(log,
		"$ vschedctl status\n"
		"Version:        0.1.0\n"
		"Uptime:         5.2s\n"
		"Ticks:          6 (every 1s)\n"
		"Last tick:      812us (collect 790us)\n"
		"Dry run:        no\n"
		"Config:         /etc/vsched/vschedd.conf\n"
		"Last error:     -\n"
		"Policy:         /etc/vsched/policy.d (2 file(s))\n"
		"Libvirt:        test:///default (connected, 0 reconnects)\n"
		"CPUs:           0-1 (2 CPUs, 1 NUMA node(s), no SMT)\n"
		"Memory:         23.5 GiB, 22.4 GiB available\n"
		"Pressure:       memory some 1.5% full 0.2%, cpu some 3.0% (10 s averages)\n"
		"Cgroups:        hybrid (v2: /sys/fs/cgroup/unified with hugetlb; v1: cpu cpuset memory)\n"
		"\n"
		" Capability          Available   Detail\n"
		"-------------------------------------------------------------------------\n"
		" deadline            yes         -\n"
		" cpuset_partitions   no          -\n"
		" sched_core          no          prctl(PR_SCHED_CORE): Invalid argument\n"
		" taskstats           yes         -\n"
		" psi                 yes         -\n"
		" cgroup_v2_cpu       no          cpu is not on the v2 hierarchy\n"
		" cgroup_v2_cpuset    no          -\n"
		" cgroup_v2_memory    no          -\n"
		"\n"
		"[exit 0]\n"
		"$ vschedctl list\n"
		" Id   Name   State     vCPUs   Memory    Policy\n"
		"-------------------------------------------------------\n"
		" 3    db1    running   2/4     512 MiB   10-all,20-db\n"
		"\n"
		"[exit 0]\n"
		"$ vschedctl list --all\n"
		" Id   Name   State      vCPUs   Memory    Policy\n"
		"--------------------------------------------------------\n"
		" 3    db1    running    2/4     512 MiB   10-all,20-db\n"
		" -    web    shut off   1       256 MiB   10-all\n"
		"\n"
		"[exit 0]\n"
		"$ vschedctl show db1\n"
		"Id:             3\n"
		"Name:           db1\n"
		"UUID:           c7a5fdbd-cdaf-9455-926a-d65c16db1809\n"
		"State:          running\n"
		"Class:          db\n"
		"Policy:         10-all,20-db\n"
		"PID:            4242\n"
		"Cgroup:         /machine/qemu-3-db1.libvirt-qemu\n"
		"CPU time:       0.1s\n"
		"vCPUs:          2 (max 4)\n"
		"Memory:         512.0 MiB (max 512.0 MiB)\n"
		"Balloon:        current 512.0 MiB, available 476.8 MiB\n"
		"\n"
		" VCPU   TID    CPU   Affinity   Comm\n"
		"---------------------------------------------------\n"
		" 0      4250   1     0-1        CPU 0/TCG\n"
		" 1      -      -     -          (no thread found)\n"
		" 2      -      -     -          (offline)\n"
		" 3      -      -     -          (offline)\n"
		"\n"
		"Emulator:       4242 qemu-system-x86 (CPU 0, affinity 0-1)\n"
		"IOThread:       4260 IO iothread1 (CPU 1, affinity 1)\n"
		"\n"
		"Reasons:\n"
		"  vcpu0 of db1 -> CPU 1: dedicated placement (policy 20-db.policy:6)\n"
		"[exit 0]\n"
		"$ vschedctl show nope\n"
		"error: failed to get domain 'nope'\n"
		"error: Domain not found: no domain with matching name, UUID or id 'nope'\n"
		"[exit 1]\n"
		"$ vschedctl show\n"
		"error: command 'show' requires DOMAIN\n"
		"[exit 1]\n"
		"$ vschedctl list --json\n"
		"{\n"
		"  \"domains\" : [\n"
		"    {\n"
		"      \"id\" : 3,\n"
		"      \"name\" : \"db1\",\n"
		"      \"uuid\" : \"c7a5fdbd-cdaf-9455-926a-d65c16db1809\",\n"
		"      \"state\" : \"running\",\n"
		"      \"vcpus\" : {\n"
		"        \"current\" : 2,\n"
		"        \"max\" : 4\n"
		"      },\n"
		"      \"memory\" : {\n"
		"        \"current\" : 536870912,\n"
		"        \"max\" : 536870912\n"
		"      },\n"
		"      \"class\" : \"db\",\n"
		"      \"policy\" : \"10-all,20-db\"\n"
		"    },\n"
		"    {\n"
		"      \"id\" : -1,\n"
		"      \"name\" : \"web\",\n"
		"      \"uuid\" : \"0c7f3e2a-1111-4222-8333-444455556666\",\n"
		"      \"state\" : \"shut off\",\n"
		"      \"vcpus\" : {\n"
		"        \"current\" : 1,\n"
		"        \"max\" : 1\n"
		"      },\n"
		"      \"memory\" : {\n"
		"        \"current\" : 268435456,\n"
		"        \"max\" : 268435456\n"
		"      },\n"
		"      \"class\" : null,\n"
		"      \"policy\" : \"10-all\"\n"
		"    }\n"
		"  ]\n"
		"}\n"
		"[exit 0]\n");
}

/* Calls @method with @params (taken) on @client and describes the outcome;
 * the reply goes to *ret_reply when it is wanted. */
static char *call_on(VsCtlClient *client, const char *method, JsonObject *params,
		     VsCtlReply **ret_reply)
{
	g_autoptr(JsonObject) owned = params;
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCtlReply) reply = vs_ctl_client_call(client, method, owned, TIMEOUT_MS, &error);
	char *d = describe(reply, error);

	if (ret_reply)
		*ret_reply = g_steal_pointer(&reply);
	return d;
}

static JsonObject *set_override_params(const char *domain, const char *assignment, gint64 for_us)
{
	JsonObject *params = json_object_new();
	JsonArray *assignments = json_array_new();

	json_array_add_string_element(assignments, assignment);
	json_object_set_string_member(params, "domain", domain);
	json_object_set_array_member(params, "assignments", assignments);
	if (for_us)
		json_object_set_int_member(params, "for_us", for_us);
	return params;
}

/* The entry of @key in the "keys" of an Explain reply, or NULL. */
static JsonObject *explain_key(const VsCtlReply *reply, const char *key)
{
	JsonArray *keys = reply ? json_object_get_array_member(reply->parameters, "keys") : NULL;

	for (guint i = 0; keys && i < json_array_get_length(keys); i++) {
		JsonObject *k = json_array_get_object_element(keys, i);

		if (g_strcmp0(json_object_get_string_member(k, "key"), key) == 0)
			return k;
	}
	return NULL;
}

static void scenario_overrides(Env *env, GString *log)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCtlClient) client = vs_ctl_client_connect(env->path, &error);
	g_autoptr(VsCtlReply) bad = NULL, explained = NULL;
	g_autofree char *s = NULL, *errors = NULL;
	JsonObject *explain, *weight;

	if (!client) {
		g_string_append_printf(log, "connect failed: %s\n", error->message);
		return;
	}
	s = call_on(client, "org.vsched.SetOverride",
		    set_override_params("db1", "Weight=300", 600 * G_USEC_PER_SEC), NULL);
	g_string_append_printf(log, "set %s\n", s);

	g_free(s);
	s = call_on(client, "org.vsched.SetOverride", set_override_params("db1", "Weight=20000", 0),
		    &bad);
	if (bad) {
		g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), bad->parameters);
		errors = json_to_string(node, FALSE);
	}
	g_string_append_printf(log, "bad %s %s\n", s, errors ? errors : "-");

	explain = json_object_new();
	json_object_set_string_member(explain, "domain", "db1");
	g_free(s);
	s = call_on(client, "org.vsched.Explain", explain, &explained);
	weight = explain_key(explained, "CPU.Weight");
	g_string_append_printf(log, "explain %s %s %s %s\n", s,
			       weight ? json_object_get_string_member(weight, "value") : "-",
			       weight ? json_object_get_string_member(weight, "origin") : "-",
			       weight && json_object_has_member(weight, "override")
				       ? json_object_get_string_member(weight, "override") : "-");
	if (weight && json_object_has_member(weight, "expires_in_us")) {
		gint64 left = json_object_get_int_member(weight, "expires_in_us");
		g_string_append_printf(log, "expires in (0, 600 s]: %s\n",
				       left > 0 && left <= 600 * G_USEC_PER_SEC ? "yes" : "no");
	}
}

static void test_overrides(void **state)
{
	Env *env = *state;
	g_autofree char *log = NULL;
	const VsOverride *ov;

	/* The server treats the peer as root only when it is. */
	if (geteuid() != 0) {
		fprintf(stderr, "skipping the override test: SetOverride needs a root peer\n");
		skip();
	}
	log = run_scenario(env, scenario_overrides);
	assert_log(log,
		   "set ok\n"
		   "bad org.vsched.InvalidOverride "
		   "{\"errors\":[\"override: Weight=20000: out of range 1..10000\"]}\n"
		   "explain ok 300 override ov-1\n"
		   "expires in (0, 600 s]: yes\n");
	/* The refused one changed nothing. */
	assert_int_equal(env->fake->overrides_changed, 1);
	assert_int_equal(env->fake->overrides->items->len, 1);
	ov = g_ptr_array_index(env->fake->overrides->items, 0);
	assert_string_equal(ov->value->text, "300");
	assert_int_equal(ov->expires_us - ov->created_us, 600 * G_USEC_PER_SEC);
}

/* A policy file with five mistakes, one per line. */
static const char bad_policy[] =
	"[Match]\n"
	"Name=db*\n"
	"\n"
	"[CPU]\n"
	"Wieght=200\n"
	"Placement=dedicatd\n"
	"Limit=abc\n"
	"\n"
	"[Hotplug]\n"
	"Step=0\n"
	"Cooldown=forever\n";

/* Replaces every @from in @text by @to. */
static char *replace_all(const char *text, const char *from, const char *to)
{
	g_auto(GStrv) parts = g_strsplit(text, from, -1);

	return g_strjoinv(to, parts);
}

/* Collapses runs of spaces into one, so that table rows can be found
 * whatever the column widths. */
static char *squeeze(const char *text)
{
	g_autoptr(GRegex) re = g_regex_new(" +", 0, 0, NULL);

	return g_regex_replace_literal(re, text, -1, 0, " ", 0, NULL);
}

static void scenario_cli_policy(Env *env, GString *log)
{
	g_autofree char *dir = g_build_filename(env->dir, "policy.d", NULL);
	g_autofree char *all = g_build_filename(dir, "10-all.policy", NULL);
	g_autofree char *db = g_build_filename(dir, "20-db.policy", NULL);
	g_autofree char *bad = g_build_filename(env->dir, "bad.policy", NULL);
	g_autofree char *none = g_build_filename(env->dir, "none.d", NULL);
	const char *const check_bad[] = { "policy", "check", bad, NULL };
	const char *const check_good[] = { "policy", "check", all, db, NULL };
	const char *const check_dir[] = { "policy", "check", "--dir", dir, NULL };
	const char *const check_none[] = { "policy", "check", "--dir", none, NULL };
	const char *const check_both[] = { "policy", "check", "--dir", dir, all, NULL };
	const char *const check_json[] = { "policy", "check", "--json", all, NULL };
	const char *const policy[] = { "policy", NULL };

	if (g_mkdir(dir, 0755) < 0 || !g_file_set_contents(all, ctl_fake_policy_all, -1, NULL) ||
	    !g_file_set_contents(db, ctl_fake_policy_db, -1, NULL) ||
	    !g_file_set_contents(bad, bad_policy, -1, NULL)) {
		g_string_append(log, "cannot write the policy files\n");
		return;
	}
	cli_run(env, log, check_bad);
	cli_run(env, log, check_good);
	cli_run(env, log, check_dir);
	cli_run(env, log, check_none);
	cli_run(env, log, check_both);
	cli_run(env, log, check_json);
	cli_run(env, log, policy);
	g_unlink(all);
	g_unlink(db);
	g_unlink(bad);
	g_rmdir(dir);
}

static void test_cli_policy_check(void **state)
{
	Env *env = *state;
	g_autofree char *raw = run_scenario(env, scenario_cli_policy);
	g_autofree char *log = replace_all(raw, env->dir, "$TMP");

	assert_log(log,
		"$ vschedctl policy check $TMP/bad.policy\n"
		"error: $TMP/bad.policy:5: unknown key Wieght= in [CPU] (did you mean Weight=?)\n"
		"error: $TMP/bad.policy:6: Placement=dedicatd: not one of dedicated, shared "
		"(did you mean dedicated?)\n"
		"error: $TMP/bad.policy:7: Limit=abc: not a percentage (like 50%; allowed: "
		"1%..819200%)\n"
		"error: $TMP/bad.policy:10: Step=0: out of range 1..64\n"
		"error: $TMP/bad.policy:11: Cooldown=forever: \"forever\" is not a duration (a number "
		"with us, ms, s, min or h, like 500ms or 2s)\n"
		"policy check failed: 5 error(s)\n"
		"[exit 1]\n"
		"$ vschedctl policy check $TMP/policy.d/10-all.policy $TMP/policy.d/20-db.policy\n"
		"policy OK: 2 file(s)\n"
		"[exit 0]\n"
		"$ vschedctl policy check --dir $TMP/policy.d\n"
		"policy OK: 2 file(s)\n"
		"[exit 0]\n"
		"$ vschedctl policy check --dir $TMP/none.d\n"
		"policy OK: 0 file(s)\n"
		"[exit 0]\n"
		"$ vschedctl policy check --dir $TMP/policy.d $TMP/policy.d/10-all.policy\n"
		"error: give either --dir or policy files, not both\n"
		"[exit 1]\n"
		"$ vschedctl policy check --json $TMP/policy.d/10-all.policy\n"
		"error: command 'policy check' doesn't support option --json\n"
		"[exit 1]\n"
		"$ vschedctl policy\n"
		"error: command 'policy' requires a subcommand: check, keys\n"
		"[exit 1]\n");
}

static void scenario_cli_policy_keys(Env *env, GString *log)
{
	static const char *const keys[] = { "policy", "keys", NULL };
	static const char *const keys_json[] = { "policy", "keys", "--json", NULL };

	cli_run(env, log, keys);
	g_string_append_c(log, '\f');
	cli_run(env, log, keys_json);
}

static void test_cli_policy_keys(void **state)
{
	Env *env = *state;
	g_autofree char *log = run_scenario(env, scenario_cli_policy_keys);
	g_auto(GStrv) parts = g_strsplit(log, "\f", 2);
	g_autofree char *table = squeeze(parts[0]);
	g_auto(GStrv) lines = NULL;
	const char *json = parts[1] ? strchr(parts[1], '\n') : NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autofree char *tail = NULL;
	JsonArray *arr;
	guint n = 0, i = 0;

	/* A header, a dashed line, a row for every key of the table. */
	assert_true(g_str_has_prefix(table, "$ vschedctl policy keys\n"
					    " Section Key Type Range Default Help\n---"));
	for (const VsPolicyKey *k = vs_policy_keys; k->name; k++, n++) {
		g_autofree char *range = vs_policy_key_range(k);
		g_autofree char *row = g_strdup_printf("\n %s %s %s %s %s %s\n", k->section, k->name,
						       vs_policy_type_name(k->type), range,
						       k->default_value ? k->default_value : "-",
						       k->help);
		g_autofree char *want = squeeze(row);

		if (!strstr(table, want))
			fail_msg("policy keys lacks the row%s", want);
	}
	lines = g_strsplit(table, "\n", -1);
	/* The command, header, dashes, a row a key, an empty line, the status. */
	assert_int_equal(g_strv_length(lines) - 1, n + 5);
	assert_true(g_str_has_suffix(table, "\n\n[exit 0]\n"));

	/* --json: the same keys, in table order. */
	assert_non_null(json);
	tail = g_strdup(json + 1);
	*strstr(tail, "[exit 0]\n") = '\0';
	assert_true(json_parser_load_from_data(parser, tail, -1, NULL));
	arr = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)),
					   "keys");
	assert_int_equal(json_array_get_length(arr), n);
	for (const VsPolicyKey *k = vs_policy_keys; k->name; k++, i++) {
		JsonObject *o = json_array_get_object_element(arr, i);

		assert_string_equal(json_object_get_string_member(o, "section"), k->section);
		assert_string_equal(json_object_get_string_member(o, "key"), k->name);
		assert_string_equal(json_object_get_string_member(o, "help"), k->help);
		assert_int_equal(json_object_get_boolean_member(o, "repeatable"), k->repeatable);
	}
}

static void scenario_cli_explain(Env *env, GString *log)
{
	static const char *const explain_web[] = { "explain", "web", NULL };
	static const char *const explain_db1[] = { "explain", "db1", NULL };
	static const char *const set[] = { "override", "db1", "Weight=300", "--for", "1h", NULL };
	static const char *const set_limit[] = { "override", "db1", "CPU.Limit=150%", NULL };
	static const char *const set_bad[] = { "override", "db1", "Weight=20000", "Wieght=1", NULL };
	static const char *const set_nope[] = { "override", "nope", "Weight=1", NULL };
	static const char *const set_for0[] = { "override", "db1", "Weight=1", "--for", "0", NULL };
	static const char *const set_usage[] = { "override", "db1", NULL };
	static const char *const list[] = { "override", "list", NULL };
	static const char *const clear_key[] = { "override", "clear", "db1", "Weight", NULL };
	static const char *const clear_bad[] = { "override", "clear", "db1", "Wieght", NULL };
	static const char *const clear_all[] = { "override", "clear", "db1", NULL };

	cli_run(env, log, explain_web);
	g_string_append_c(log, '\f');
	cli_run(env, log, set);
	cli_run(env, log, set_limit);
	cli_run(env, log, set_bad);
	cli_run(env, log, set_nope);
	cli_run(env, log, set_for0);
	cli_run(env, log, set_usage);
	cli_run(env, log, list);
	g_string_append_c(log, '\f');
	cli_run(env, log, explain_db1);
	g_string_append_c(log, '\f');
	cli_run(env, log, clear_key);
	cli_run(env, log, clear_bad);
	cli_run(env, log, clear_all);
	cli_run(env, log, list);
}

static void scenario_cli_status(Env *env, GString *log)
{
	static const char *const status[] = { "status", NULL };

	cli_run(env, log, status);
}

static void test_cli_status_policy_error(void **state)
{
	Env *env = *state;
	g_autofree char *log = NULL;

	env->fake->policy_error = g_strdup("/etc/vsched/policy.d/30-x.policy:2: Weight=0: "
					   "out of range 1..10000");
	log = run_scenario(env, scenario_cli_status);
	if (!strstr(log, "\nLast error:     -\n"
			 "Policy:         /etc/vsched/policy.d (2 file(s))\n"
			 "Policy error:   reload refused, the previous files stay in force: "
			 "/etc/vsched/policy.d/30-x.policy:2: Weight=0: out of range 1..10000\n"
			 "Libvirt:"))
		fail_msg("status does not show the policy error:\n%s", log);
}

/* The number of rows of the first table in @text (squeezed output). */
static guint table_rows(const char *text)
{
	const char *rows = strstr(text, "\n---");
	guint n = 0;

	for (const char *p = rows ? strchr(rows + 1, '\n') : NULL; p && p[1] == ' ';
	     p = strchr(p + 1, '\n'))
		n++;
	return n;
}

static void test_cli_explain(void **state)
{
	Env *env = *state;
	g_autofree char *raw = NULL, *log = NULL, *web = NULL, *db1 = NULL;
	g_autoptr(GRegex) left = g_regex_new("in 59m5[0-9]s", 0, 0, NULL);
	g_auto(GStrv) parts = NULL;
	guint n_keys = 0;

	if (geteuid() != 0) {
		fprintf(stderr, "skipping the override CLI test: override needs a root peer\n");
		skip();
	}
	for (const VsPolicyKey *k = vs_policy_keys; k->name; k++)
		n_keys += strcmp(k->section, "Match") != 0;
	/* Just db1 and web. */
	vs_ctl_server_free(env->server);
	ctl_fake_free(env->fake);
	env->fake = ctl_fake_new(true, 0);
	env->server = server_new(env, NULL, NULL);
	raw = run_scenario(env, scenario_cli_explain);
	/* A freshly set hour has 59m50s..59m59s left. */
	log = g_regex_replace_literal(left, raw, -1, 0, "in 59m5Xs", 0, NULL);
	parts = g_strsplit(log, "\f", -1);
	assert_int_equal(g_strv_length(parts), 4);

	/* explain web: every key, from 10-all or the defaults; no reasons yet.
	 * Rows are compared squeezed, so that the key table may grow. */
	web = squeeze(parts[0]);
	assert_true(g_str_has_prefix(web,
		"$ vschedctl explain web\n"
		"Domain: web\n"
		"UUID: 0c7f3e2a-1111-4222-8333-444455556666\n"
		"Class: -\n"
		"Policy files: 10-all\n"
		"\n"
		" Key Value From\n"));
	assert_int_equal(table_rows(web), n_keys);
	assert_non_null(strstr(web, "\n CPU.Weight 50 10-all.policy:6\n"));
	assert_non_null(strstr(web, "\n Memory.Floor 256M 10-all.policy:9\n"));
	assert_non_null(strstr(web, "\n CPU.Placement shared default\n"));
	assert_non_null(strstr(web, "\n CPU.Limit - default\n"));
	assert_true(g_str_has_suffix(web,
		"\n\nReasons: none yet (no planner has run for this guest)\n[exit 0]\n"));

	assert_log(parts[1],
		"$ vschedctl override db1 Weight=300 --for 1h\n"
		" Id     Domain   Key          Value   Expires\n"
		"-------------------------------------------------\n"
		" ov-1   db1      CPU.Weight   300     in 59m5Xs\n"
		"\n"
		"[exit 0]\n"
		"$ vschedctl override db1 CPU.Limit=150%\n"
		" Id     Domain   Key          Value   Expires\n"
		"-----------------------------------------------------\n"
		" ov-1   db1      CPU.Weight   300     in 59m5Xs\n"
		" ov-2   db1      CPU.Limit    150%    until cleared\n"
		"\n"
		"[exit 0]\n"
		"$ vschedctl override db1 Weight=20000 Wieght=1\n"
		"error: override: Weight=20000: out of range 1..10000\n"
		"error: override: unknown key Wieght= (did you mean Weight=?)\n"
		"error: no override was set\n"
		"[exit 1]\n"
		"$ vschedctl override nope Weight=1\n"
		"error: failed to get domain 'nope'\n"
		"error: Domain not found: no domain with matching name, UUID or id 'nope'\n"
		"[exit 1]\n"
		"$ vschedctl override db1 Weight=1 --for 0\n"
		"error: --for must be longer than 0 (leave it out for an override until cleared)\n"
		"[exit 1]\n"
		"$ vschedctl override db1\n"
		"error: command 'override' requires DOMAIN KEY=VALUE... [--for DURATION]\n"
		"[exit 1]\n"
		"$ vschedctl override list\n"
		" Id     Domain   Key          Value   Expires\n"
		"-----------------------------------------------------\n"
		" ov-1   db1      CPU.Weight   300     in 59m5Xs\n"
		" ov-2   db1      CPU.Limit    150%    until cleared\n"
		"\n"
		"[exit 0]\n");

	/* explain db1: the overrides, the files, the defaults, the reasons. */
	db1 = squeeze(parts[2]);
	assert_true(g_str_has_prefix(db1,
		"$ vschedctl explain db1\n"
		"Domain: db1\n"
		"UUID: c7a5fdbd-cdaf-9455-926a-d65c16db1809\n"
		"Class: db\n"
		"Policy files: 10-all, 20-db\n"
		"\n"
		" Key Value From\n"));
	assert_int_equal(table_rows(db1), n_keys);
	assert_non_null(strstr(db1, "\n CPU.Weight 300 override ov-1 (expires in 59m5Xs)\n"));
	assert_non_null(strstr(db1, "\n CPU.Limit 150% override ov-2 (until cleared)\n"));
	assert_non_null(strstr(db1, "\n CPU.Placement dedicated 20-db.policy:6\n"));
	assert_non_null(strstr(db1, "\n Memory.Floor 256M 10-all.policy:9\n"));
	assert_non_null(strstr(db1, "\n CPU.Siblings isolate default\n"));
	assert_non_null(strstr(db1, "\n CPU.AllowedCPUs - default\n"));
	assert_true(g_str_has_suffix(db1,
		"\n\nReasons:\n"
		" vcpu0 of db1 -> CPU 1: dedicated placement (policy 20-db.policy:6)\n"
		"[exit 0]\n"));

	assert_log(parts[3],
		"$ vschedctl override clear db1 Weight\n"
		"Removed 1 override(s)\n"
		"[exit 0]\n"
		"$ vschedctl override clear db1 Wieght\n"
		"error: unknown policy key 'Wieght' (see 'vschedctl policy keys')\n"
		"[exit 1]\n"
		"$ vschedctl override clear db1\n"
		"Removed 1 override(s)\n"
		"[exit 0]\n"
		"$ vschedctl override list\n"
		" Id   Domain   Key   Value   Expires\n"
		"--------------------------------------\n"
		"\n"
		"[exit 0]\n");
	assert_int_equal(env->fake->overrides_changed, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_methods, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_non_root_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_setup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overrides, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_policy_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_policy_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_explain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_status_policy_error, setup, teardown),
	};

	/* A server that blocks would hang the test: fail it instead. */
	alarm(300);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
