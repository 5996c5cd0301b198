/* Unit tests for the thread discovery cache (src/virt/threads-cache.c) on
 * a temporary /proc and status directory: a hit hands out what the full
 * discovery found, and each thing the cache depends on (the status XML,
 * the thread count, libvirt's online vCPUs and domain ID, the age) makes it
 * read again, the files checked only every few collections unless libvirt
 * signals a change;
 * a domain with a problem is never cached, and a sweep forgets the guests
 * not collected. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>

#include "test-temp-root.h"
#include "virt/threads-cache.h"

#define STATUS_DIR "/run/libvirt/qemu"
#define STATUS "/run/libvirt/qemu/g1.xml"
#define UUID "00000000-0000-4000-8000-000000000001"

static const char *stat_line(pid_t tid, const char *comm, int start)
{
	static char buf[512];

	g_snprintf(buf, sizeof(buf), "%d (%s) S 1 0 0 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 %d "
		   "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0\n",
		   (int)tid, comm, start);
	return buf;
}

static void write_thread(const VsSys *sys, pid_t tid, const char *comm, int start)
{
	g_autofree char *dir = g_strdup_printf("/proc/500/task/%d", (int)tid);
	g_autofree char *comm_path = g_strconcat(dir, "/comm", NULL);
	g_autofree char *stat_path = g_strconcat(dir, "/stat", NULL);
	g_autofree char *status_path = g_strconcat(dir, "/status", NULL);
	g_autofree char *comm_line = g_strconcat(comm, "\n", NULL);

	temp_write(sys, comm_path, comm_line);
	temp_write(sys, stat_path, stat_line(tid, comm, start));
	temp_write(sys, status_path, "Cpus_allowed_list:\t0-1\n");
}

static VsSys *fixture(void)
{
	VsSys *sys = temp_root(
		STATUS, "<domstatus pid='500'><vcpus><vcpu id='0' pid='501'/></vcpus>"
			"<domain><name>g1</name><uuid>" UUID "</uuid></domain></domstatus>\n",
		"/proc/500/comm", "qemu-system-x86\n",
		"/proc/500/cmdline", "qemu-system-x86_64",
		"/proc/500/cgroup", "2:cpu,cpuacct:/machine/g1\n",
		NULL);

	temp_write(sys, "/proc/500/stat", stat_line(500, "qemu-system-x86", 100));
	write_thread(sys, 500, "qemu-system-x86", 100);
	write_thread(sys, 501, "CPU 0/KVM", 101);
	return sys;
}

/* Collects g1 (1 vCPU, online) through @cache; returns vCPU 0's start time. */
static uint64_t collect(VsThreadsCache *cache, const VsSys *sys, guint *ret_emulators)
{
	g_autoptr(VsDomain) dom = vs_domain_new("g1", 1);

	g_strlcpy(dom->uuid, UUID, sizeof(dom->uuid));
	g_array_index(dom->vcpus, VsVcpu, 0).online = true;
	assert_int_equal(vs_threads_cache_collect(cache, sys, STATUS_DIR, dom), 0);
	assert_null(dom->threads_problem);
	assert_int_equal(dom->pid, 500);
	assert_string_equal(g_array_index(dom->vcpus, VsVcpu, 0).thread.comm, "CPU 0/KVM");
	if (ret_emulators)
		*ret_emulators = dom->emulator_threads->len;
	vs_threads_cache_sweep(cache);
	return g_array_index(dom->vcpus, VsVcpu, 0).thread.start_time;
}

static void test_hit_and_invalidation(void **state)
{
	VsSys *sys = fixture();
	g_autoptr(VsThreadsCache) cache = vs_threads_cache_new();
	guint emulators = 0;

	assert_int_equal(collect(cache, sys, &emulators), 101);
	assert_int_equal(emulators, 1);
	assert_int_equal(vs_threads_cache_size(cache), 1);

	/* Same status XML, same thread count: the cached threads. */
	write_thread(sys, 501, "CPU 0/KVM", 202);
	assert_int_equal(collect(cache, sys, NULL), 101);

	/* libvirt rewrote the status XML and sent an event: read again. */
	temp_write(sys, STATUS, "<domstatus pid='500'><vcpus><vcpu id='0' pid='501'/></vcpus>"
				"<domain><name>g1</name><uuid>" UUID "</uuid></domain>"
				"</domstatus>\n\n");
	vs_threads_cache_invalidate(cache, UUID);
	assert_int_equal(collect(cache, sys, NULL), 202);

	/* A thread more, and a reconnection: read again. */
	write_thread(sys, 501, "CPU 0/KVM", 303);
	write_thread(sys, 502, "IO mon_iothread", 102);
	vs_threads_cache_invalidate(cache, NULL);
	assert_int_equal(collect(cache, sys, &emulators), 303);
	assert_int_equal(emulators, 2);

	/* Every entry is read again within the refresh period. */
	write_thread(sys, 501, "CPU 0/KVM", 404);
	for (int i = 0; i <= VS_THREADS_CACHE_REFRESH_TICKS; i++)
		collect(cache, sys, NULL);
	assert_int_equal(collect(cache, sys, NULL), 404);
	temp_root_free(sys);
}

/* Without a word from libvirt the files are checked only every
 * VS_THREADS_CACHE_VERIFY_TICKS collections: a change is seen within that
 * many, and not at the next one. */
static void test_verify_period(void **state)
{
	VsSys *sys = fixture();
	g_autoptr(VsThreadsCache) cache = vs_threads_cache_new();
	int seen_after = -1;

	assert_int_equal(collect(cache, sys, NULL), 101);
	/* Verified (and so trusted for a full period) right away. */
	vs_threads_cache_invalidate(cache, UUID);
	assert_int_equal(collect(cache, sys, NULL), 101);
	write_thread(sys, 501, "CPU 0/KVM", 202);
	write_thread(sys, 502, "IO mon_iothread", 102);
	for (int i = 1; i <= VS_THREADS_CACHE_VERIFY_TICKS; i++) {
		if (collect(cache, sys, NULL) == 202) {
			seen_after = i;
			break;
		}
	}
	assert_int_equal(seen_after, VS_THREADS_CACHE_VERIFY_TICKS);
	temp_root_free(sys);
}

/* A restart (another domain ID) or another state is looked at at once. */
static void test_id_and_state(void **state)
{
	VsSys *sys = fixture();
	g_autoptr(VsThreadsCache) cache = vs_threads_cache_new();
	g_autoptr(VsDomain) dom = vs_domain_new("g1", 1);

	assert_int_equal(collect(cache, sys, NULL), 101);
	g_strlcpy(dom->uuid, UUID, sizeof(dom->uuid));
	g_array_index(dom->vcpus, VsVcpu, 0).online = true;
	/* Another ID: a full discovery, whatever the files say. */
	write_thread(sys, 501, "CPU 0/KVM", 202);
	dom->id = 7;
	assert_int_equal(vs_threads_cache_collect(cache, sys, STATUS_DIR, dom), 0);
	assert_int_equal(g_array_index(dom->vcpus, VsVcpu, 0).thread.start_time, 202);
	vs_threads_cache_sweep(cache);
	/* Another state: the files are checked (a thread more: read again). */
	write_thread(sys, 501, "CPU 0/KVM", 303);
	write_thread(sys, 502, "IO mon_iothread", 102);
	g_clear_pointer(&dom, vs_domain_free);
	dom = vs_domain_new("g1", 1);
	g_strlcpy(dom->uuid, UUID, sizeof(dom->uuid));
	g_array_index(dom->vcpus, VsVcpu, 0).online = true;
	dom->id = 7;
	dom->state = 3;
	assert_int_equal(vs_threads_cache_collect(cache, sys, STATUS_DIR, dom), 0);
	assert_int_equal(g_array_index(dom->vcpus, VsVcpu, 0).thread.start_time, 303);
	temp_root_free(sys);
}

static void test_online_change(void **state)
{
	VsSys *sys = fixture();
	g_autoptr(VsThreadsCache) cache = vs_threads_cache_new();
	g_autoptr(VsDomain) dom = vs_domain_new("g1", 2);

	assert_int_equal(collect(cache, sys, NULL), 101);
	/* libvirt now reports two vCPUs: not the cached domain's shape. The
	 * second has no thread, which is a problem, so nothing is cached. */
	g_strlcpy(dom->uuid, UUID, sizeof(dom->uuid));
	g_array_index(dom->vcpus, VsVcpu, 0).online = true;
	g_array_index(dom->vcpus, VsVcpu, 1).online = true;
	assert_int_equal(vs_threads_cache_collect(cache, sys, STATUS_DIR, dom), 0);
	assert_non_null(dom->threads_problem);
	assert_int_equal(vs_threads_cache_size(cache), 0);
	temp_root_free(sys);
}

static void test_sweep_and_vanished(void **state)
{
	VsSys *sys = fixture();
	g_autoptr(VsThreadsCache) cache = vs_threads_cache_new();
	g_autoptr(VsDomain) gone = vs_domain_new("g2", 1);

	collect(cache, sys, NULL);
	assert_int_equal(vs_threads_cache_size(cache), 1);
	/* A collection without g1 forgets it. */
	vs_threads_cache_sweep(cache);
	assert_int_equal(vs_threads_cache_size(cache), 0);

	/* No status XML, no PID file: not found, not cached. */
	g_strlcpy(gone->uuid, "00000000-0000-4000-8000-000000000002", sizeof(gone->uuid));
	assert_int_equal(vs_threads_cache_collect(cache, sys, STATUS_DIR, gone), -ESRCH);
	assert_int_equal(vs_threads_cache_size(cache), 0);
	temp_root_free(sys);
}

/* A hit shares the entry's threads: two snapshots' domains hold the same
 * comm and thread arrays; a domain from before a re-read and a sweep that
 * forgets the guest keeps what it was given (run under ASan: no use after
 * free, no leak); a full discovery on a sharing domain fills its own. */
static void test_shared_threads(void **state)
{
	VsSys *sys = fixture();
	g_autoptr(VsThreadsCache) cache = vs_threads_cache_new();
	g_autoptr(VsDomain) first = vs_domain_new("g1", 1);
	g_autoptr(VsDomain) a = vs_domain_new("g1", 1);
	g_autoptr(VsDomain) b = vs_domain_new("g1", 1);
	VsDomain *doms[] = { first, a, b };
	const VsThread *ta, *tb;

	for (guint i = 0; i < G_N_ELEMENTS(doms); i++) {
		g_strlcpy(doms[i]->uuid, UUID, sizeof(doms[i]->uuid));
		g_array_index(doms[i]->vcpus, VsVcpu, 0).online = true;
		assert_int_equal(vs_threads_cache_collect(cache, sys, STATUS_DIR, doms[i]), 0);
		vs_threads_cache_sweep(cache);
	}
	/* The first one found them itself; the others share the entry's. */
	assert_null(first->threads_ref);
	assert_non_null(a->threads_ref);
	ta = &g_array_index(a->vcpus, VsVcpu, 0).thread;
	tb = &g_array_index(b->vcpus, VsVcpu, 0).thread;
	assert_ptr_equal(ta->comm, tb->comm);
	assert_ptr_equal(ta->affinity, tb->affinity);
	assert_ptr_equal(a->emulator_threads, b->emulator_threads);
	assert_int_equal(a->emulator_threads->len, 1);
	assert_true(vs_cpuset_has(ta->affinity, 1));

	/* Re-read (an event) and forgotten (a sweep without it): @a still
	 * holds the threads it was given. */
	write_thread(sys, 501, "CPU 0/KVM", 999);
	vs_threads_cache_invalidate(cache, NULL);
	temp_write(sys, STATUS, "<domstatus pid='500'><vcpus><vcpu id='0' pid='501'/></vcpus>"
				"<domain><name>g1</name><uuid>" UUID "</uuid></domain>"
				"</domstatus>\n\n");
	assert_int_equal(vs_threads_cache_collect(cache, sys, STATUS_DIR, b), 0);
	assert_null(b->threads_ref);
	assert_int_equal(g_array_index(b->vcpus, VsVcpu, 0).thread.start_time, 999);
	vs_threads_cache_sweep(cache);
	vs_threads_cache_sweep(cache);
	assert_int_equal(vs_threads_cache_size(cache), 0);
	assert_string_equal(ta->comm, "CPU 0/KVM");
	assert_int_equal(ta->start_time, 101);
	assert_string_equal(g_array_index(a->emulator_threads, VsThread, 0).comm,
			    "qemu-system-x86");
	/* Its own from now on. */
	vs_domain_threads_unshare(a);
	assert_null(a->threads_ref);
	assert_null(g_array_index(a->vcpus, VsVcpu, 0).thread.comm);
	assert_int_equal(a->emulator_threads->len, 0);
	temp_root_free(sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_and_invalidation),
		cmocka_unit_test(test_verify_period),
		cmocka_unit_test(test_id_and_state),
		cmocka_unit_test(test_online_change),
		cmocka_unit_test(test_sweep_and_vanished),
		cmocka_unit_test(test_shared_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
