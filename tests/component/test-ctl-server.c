/* Component test of the control server (src/ctl/server.c) and client
 * (src/ctl/client.c): a real server on a socket in a temporary directory,
 * backed by the fake daemon of test-ctl-fixture.h and served from this
 * thread's main context, talks to clients in a second thread (or, for the
 * non-root peer, a forked child). The client side only records what it saw;
 * the assertions run in the main thread once it is done. */
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
	if (strcmp(got, want) != 0)
		fail_msg("client log:\n%s\nwanted:\n%s", got, want);
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
		_exit(code);
	}
	while (waitpid(pid, &wstatus, WNOHANG) == 0) {
		g_main_context_iteration(env->context, FALSE);
		g_usleep(1000);
	}
	assert_true(WIFEXITED(wstatus));
	/* 1: Status failed, 2: Tick was not denied, 10: could not drop root. */
	assert_int_equal(WEXITSTATUS(wstatus), 0);
	assert_int_equal(env->fake->ticks_requested, 0);
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
		"-------------------------------------------------\n"
		" 3    db1    running   2/4     512 MiB   -\n"
		"\n"
		"[exit 0]\n"
		"$ vschedctl list --all\n"
		" Id   Name   State      vCPUs   Memory    Policy\n"
		"--------------------------------------------------\n"
		" 3    db1    running    2/4     512 MiB   -\n"
		" -    web    shut off   1       256 MiB   -\n"
		"\n"
		"[exit 0]\n"
		"$ vschedctl show db1\n"
		"Id:             3\n"
		"Name:           db1\n"
		"UUID:           c7a5fdbd-cdaf-9455-926a-d65c16db1809\n"
		"State:          running\n"
		"Class:          db\n"
		"Policy:         -\n"
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
		"      \"policy\" : null\n"
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
		"      \"policy\" : null\n"
		"    }\n"
		"  ]\n"
		"}\n"
		"[exit 0]\n");
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
	};

	/* A server that blocks would hang the test: fail it instead. */
	alarm(300);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
