/* Unit tests for QEMU process and thread discovery (src/virt/threads.c):
 * the parsers, thread classification, and vs_threads_collect() on fixture
 * trees under tests/data/virt/ (real-tcg is a copy of a real libvirt 9 TCG
 * guest; the others are hand-made to show one inconsistency each). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "util/error.h"
#include "virt/threads.h"

#define STATUS_DIR "/run/libvirt/qemu"

static char *read_fixture(const char *rel)
{
	g_autofree char *path = g_build_filename(VS_TEST_DATA, rel, NULL);
	char *text = NULL;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return text;
}

static void test_parse_status_real(void **state)
{
	g_autofree char *xml = read_fixture("real-tcg/run/libvirt/qemu/vsb-status1.xml");
	g_autoptr(VsThreadsStatus) st = NULL;
	g_autoptr(GError) error = NULL;

	assert_int_equal(vs_threads_parse_status(xml, &st, &error), 0);
	assert_null(error);
	assert_int_equal(st->pid, 9140);
	assert_string_equal(st->name, "vsb-status1");
	assert_string_equal(st->uuid, "1bb0c3e0-f717-412a-acd9-24005f465775");
	assert_int_equal(st->vcpu_tids->len, 2);
	assert_int_equal(g_array_index(st->vcpu_tids, pid_t, 0), 9148);
	assert_int_equal(g_array_index(st->vcpu_tids, pid_t, 1), 9149);
}

static void test_parse_status_sparse(void **state)
{
	/* <domain><vcpus><vcpu> (no pid) must not be taken for the status
	 * list; vCPU ids may have gaps. */
	const char *xml =
		"<domstatus state='running' pid='77'>"
		"<vcpus><vcpu id='2' pid='80'/></vcpus>"
		"<domain><name> d </name><vcpus><vcpu id='0' enabled='yes'/></vcpus></domain>"
		"</domstatus>";
	g_autoptr(VsThreadsStatus) st = NULL;

	assert_int_equal(vs_threads_parse_status(xml, &st, NULL), 0);
	assert_int_equal(st->pid, 77);
	assert_string_equal(st->name, "d");
	assert_null(st->uuid);
	assert_int_equal(st->vcpu_tids->len, 3);
	assert_int_equal(g_array_index(st->vcpu_tids, pid_t, 0), 0);
	assert_int_equal(g_array_index(st->vcpu_tids, pid_t, 2), 80);
}

static void assert_status_rejected(const char *xml, const char *fragment)
{
	VsThreadsStatus *st = (VsThreadsStatus *)0x1;
	g_autoptr(GError) error = NULL;

	assert_int_equal(vs_threads_parse_status(xml, &st, &error), -EINVAL);
	assert_ptr_equal(st, (VsThreadsStatus *)0x1);
	assert_true(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
	if (!strstr(error->message, fragment))
		fail_msg("'%s' does not contain '%s'", error->message, fragment);
}

static void test_parse_status_rejects(void **state)
{
	assert_status_rejected("<domain type='kvm'/>", "not <domstatus>");
	assert_status_rejected("<domstatus pid='x'/>", "pid='x'");
	assert_status_rejected("<domstatus pid='0'/>", "pid='0'");
	assert_status_rejected("<domstatus><vcpus><vcpu id='0'/></vcpus></domstatus>",
			       "is not a TID");
	assert_status_rejected("<domstatus><vcpus><vcpu id='99999' pid='5'/></vcpus></domstatus>",
			       "not a vCPU index");
	assert_status_rejected("<domstatus><vcpus><vcpu id='1' pid='5'/><vcpu id='1' pid='6'/>"
			       "</vcpus></domstatus>", "listed twice");
	assert_status_rejected("<domstatus pid='1'>", "status XML");
	assert_status_rejected("", "status XML");
}

/* Fields 1 to 21 of a stat line. */
#define STAT_TO_21 "1 (x) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"

static void test_parse_stat(void **state)
{
	g_autofree char *real = read_fixture("real-tcg/proc/9140/task/9149/stat");
	g_autofree char *odd = read_fixture("no-status/proc/300/task/302/stat");
	uint64_t start = 1;
	int cpu = 5;

	assert_int_equal(vs_threads_parse_stat(real, &start, &cpu), 0);
	assert_int_equal(start, 46870);
	assert_int_equal(cpu, 1);

	/* comm "a) S 1 (b": fields are counted after the last ')'. */
	assert_int_equal(vs_threads_parse_stat(odd, &start, &cpu), 0);
	assert_int_equal(start, 7002);
	assert_int_equal(cpu, 0);

	/* Too short for field 39: cpu unknown. */
	assert_int_equal(vs_threads_parse_stat(STAT_TO_21 " 42", &start, &cpu), 0);
	assert_int_equal(start, 42);
	assert_int_equal(cpu, -1);

	/* Failures leave the outputs alone. */
	start = 9;
	cpu = 9;
	assert_int_equal(vs_threads_parse_stat("1 (x) S 0 0", &start, &cpu), -EINVAL);
	assert_int_equal(vs_threads_parse_stat("1 x S 0 0", &start, &cpu), -EINVAL);
	assert_int_equal(vs_threads_parse_stat(STAT_TO_21 " -4", &start, &cpu), -EINVAL);
	assert_int_equal(start, 9);
	assert_int_equal(cpu, 9);
}

static void test_parse_cgroup(void **state)
{
	g_autofree char *hybrid = read_fixture("real-tcg/proc/9140/cgroup");
	char *path = NULL, *cpuset = NULL;

	/* The real hybrid host: cpu and cpuacct on separate v1 hierarchies. */
	assert_int_equal(vs_threads_parse_cgroup(hybrid, &path, &cpuset), 0);
	assert_string_equal(path, "/machine/qemu-1-vsb-status1.libvirt-qemu/emulator");
	assert_string_equal(cpuset, "/machine/qemu-1-vsb-status1.libvirt-qemu/emulator");
	g_free(path);
	g_free(cpuset);

	assert_int_equal(vs_threads_parse_cgroup("5:cpuset:/a\n2:cpu,cpuacct:/b\n0::/c\n",
						 &path, &cpuset), 0);
	assert_string_equal(path, "/b");
	assert_string_equal(cpuset, "/a");
	g_free(path);
	g_free(cpuset);

	/* Pure v2; paths may hold ':'. */
	assert_int_equal(vs_threads_parse_cgroup("0::/machine.slice/x:y/emulator\n", &path, &cpuset), 0);
	assert_string_equal(path, "/machine.slice/x:y/emulator");
	assert_null(cpuset);
	g_free(path);

	path = cpuset = (char *)"untouched";
	assert_int_equal(vs_threads_parse_cgroup("1:name=systemd:/\n3:cpuset:/a\n", &path, &cpuset),
			 -EINVAL);
	assert_int_equal(vs_threads_parse_cgroup("", &path, &cpuset), -EINVAL);
	assert_string_equal(path, "untouched");
}

static void assert_kind(const char *comm, VsThreadKind want, int want_vcpu)
{
	guint vcpu = 12345;

	assert_int_equal(vs_threads_classify(comm, &vcpu), want);
	if (want_vcpu >= 0)
		assert_int_equal(vcpu, want_vcpu);
	else
		assert_int_equal(vcpu, 12345);
}

static void test_classify(void **state)
{
	assert_kind("CPU 0/KVM", VS_THREAD_KIND_VCPU, 0);
	assert_kind("CPU 13/TCG", VS_THREAD_KIND_VCPU, 13);
	assert_kind("IO iothread1", VS_THREAD_KIND_IO, -1);
	assert_kind("IO mon_iothread", VS_THREAD_KIND_EMULATOR, -1);
	assert_kind("qemu-system-x86", VS_THREAD_KIND_EMULATOR, -1);
	assert_kind("vhost-4242", VS_THREAD_KIND_EMULATOR, -1);
	assert_kind("CPU /KVM", VS_THREAD_KIND_EMULATOR, -1);
	assert_kind("CPU 1", VS_THREAD_KIND_EMULATOR, -1);
	assert_kind("CPU 1/", VS_THREAD_KIND_EMULATOR, -1);
	assert_kind("CPU 99999/KVM", VS_THREAD_KIND_EMULATOR, -1);
	assert_kind("CPU x/KVM", VS_THREAD_KIND_EMULATOR, -1);
	assert_kind("", VS_THREAD_KIND_EMULATOR, -1);
}

/* Runs discovery for @name on the fixture tree @fixture, with @n vCPUs of
 * which the first @online are online. */
static VsDomain *collect(const char *fixture, const char *name, guint n, guint online,
			 const char *uuid, int *ret_r)
{
	g_autofree char *root = g_build_filename(VS_TEST_DATA, fixture, NULL);
	g_autoptr(VsSys) sys = vs_sys_new(root);
	VsDomain *dom = vs_domain_new(name, n);

	for (guint i = 0; i < online; i++)
		g_array_index(dom->vcpus, VsVcpu, i).online = true;
	if (uuid)
		g_strlcpy(dom->uuid, uuid, sizeof(dom->uuid));
	*ret_r = vs_threads_collect(sys, STATUS_DIR, dom);
	return dom;
}

static void assert_thread(const VsThread *t, pid_t pid, pid_t tid, const char *comm,
			  uint64_t start, int cpu, const char *affinity)
{
	g_autofree char *aff = NULL;

	assert_int_equal(t->pid, pid);
	assert_int_equal(t->tid, tid);
	assert_string_equal(t->comm, comm);
	assert_int_equal(t->start_time, start);
	assert_int_equal(t->cpu, cpu);
	assert_non_null(t->affinity);
	aff = vs_cpuset_format(t->affinity);
	assert_string_equal(aff, affinity);
}

static const VsThread *vcpu_thread(const VsDomain *dom, guint i)
{
	return &g_array_index(dom->vcpus, VsVcpu, i).thread;
}

static void assert_problem(const VsDomain *dom, const char *fragment)
{
	assert_non_null(dom->threads_problem);
	if (!strstr(dom->threads_problem, fragment))
		fail_msg("'%s' does not contain '%s'", dom->threads_problem, fragment);
}

static void test_collect_real(void **state)
{
	int r;
	g_autoptr(VsDomain) dom = collect("real-tcg", "vsb-status1", 3, 2,
					  "1bb0c3e0-f717-412a-acd9-24005f465775", &r);

	assert_int_equal(r, 0);
	assert_null(dom->threads_problem);
	assert_int_equal(dom->pid, 9140);
	assert_int_equal(dom->pid_start_time, 46860);
	assert_string_equal(dom->cgroup_path, "/machine/qemu-1-vsb-status1.libvirt-qemu/emulator");
	assert_string_equal(dom->cgroup_v1_cpuset, "/machine/qemu-1-vsb-status1.libvirt-qemu/emulator");
	assert_thread(vcpu_thread(dom, 0), 9140, 9148, "CPU 0/TCG", 46870, 0, "0-1");
	assert_thread(vcpu_thread(dom, 1), 9140, 9149, "CPU 1/TCG", 46870, 1, "1");
	/* vCPU 2 is offline: no thread, and that is no problem. */
	assert_int_equal(vcpu_thread(dom, 2)->tid, 0);
	assert_null(vcpu_thread(dom, 2)->comm);
	assert_int_equal(vcpu_thread(dom, 2)->cpu, -1);

	assert_int_equal(dom->io_threads->len, 1);
	assert_thread(&g_array_index(dom->io_threads, VsThread, 0), 9140, 9145, "IO iothread1",
		      46869, 0, "0-1");
	assert_int_equal(dom->emulator_threads->len, 3);
	assert_thread(&g_array_index(dom->emulator_threads, VsThread, 0), 9140, 9140,
		      "qemu-system-x86", 46860, 0, "0");
	assert_int_equal(g_array_index(dom->emulator_threads, VsThread, 1).tid, 9144);
	assert_thread(&g_array_index(dom->emulator_threads, VsThread, 2), 9140, 9147,
		      "IO mon_iothread", 46870, 1, "0");
}

static void test_collect_uuid_mismatch(void **state)
{
	int r;
	g_autoptr(VsDomain) dom = collect("real-tcg", "vsb-status1", 3, 2,
					  "00000000-f717-412a-acd9-24005f465775", &r);

	/* A stale status file of an older domain with the same name. */
	assert_int_equal(r, -ESRCH);
	assert_int_equal(dom->pid, 0);
	assert_problem(dom, "has UUID 1bb0c3e0-f717-412a-acd9-24005f465775, libvirt says 00000000");
	assert_int_equal(vcpu_thread(dom, 0)->tid, 0);
	assert_int_equal(dom->emulator_threads->len, 0);
	assert_null(dom->cgroup_path);
}

static void test_collect_swapped(void **state)
{
	int r;
	g_autoptr(VsDomain) dom = collect("swapped", "swapped", 2, 2, NULL, &r);

	assert_int_equal(r, 0);
	/* /proc's comm wins over the status XML. */
	assert_thread(vcpu_thread(dom, 0), 200, 202, "CPU 0/KVM", 5011, 3, "3");
	assert_thread(vcpu_thread(dom, 1), 200, 201, "CPU 1/KVM", 5010, 2, "2");
	assert_problem(dom, "the status XML gives vCPU 0 TID 201, but that thread is 'CPU 1/KVM'");
	assert_problem(dom, "the status XML gives vCPU 1 TID 202, but that thread is 'CPU 0/KVM'");
	assert_int_equal(dom->io_threads->len, 1);
	assert_int_equal(g_array_index(dom->io_threads, VsThread, 0).tid, 203);
	assert_int_equal(dom->emulator_threads->len, 2);
	assert_int_equal(g_array_index(dom->emulator_threads, VsThread, 0).tid, 200);
	assert_string_equal(g_array_index(dom->emulator_threads, VsThread, 1).comm, "vhost-200");
	assert_string_equal(dom->cgroup_path, "/machine/qemu-7-swapped.libvirt-qemu/emulator");
}

static void test_collect_fewer_vcpus(void **state)
{
	int r;
	g_autoptr(VsDomain) dom = collect("swapped", "swapped", 1, 1, NULL, &r);

	/* libvirt now says one vCPU; the status XML and /proc have two. */
	assert_int_equal(r, 0);
	assert_int_equal(vcpu_thread(dom, 0)->tid, 202);
	assert_problem(dom, "the status XML lists vCPU 1 (TID 202) beyond the 1 vCPUs libvirt reports");
	assert_problem(dom, "thread 201 'CPU 1/KVM' is beyond the 1 vCPUs libvirt reports");
	assert_problem(dom, "the status XML gives vCPU 0 TID 201, but that thread is 'CPU 1/KVM'");
}

static void test_collect_missing_thread(void **state)
{
	int r;
	g_autoptr(VsDomain) online = collect("missing-thread", "missing-thread", 2, 2, NULL, &r);
	g_autoptr(VsDomain) offline = NULL;

	assert_int_equal(r, 0);
	assert_thread(vcpu_thread(online, 0), 100, 101, "CPU 0/TCG", 4005, 1, "0-3");
	assert_int_equal(vcpu_thread(online, 1)->tid, 0);
	assert_problem(online, "the status XML gives vCPU 1 TID 102, which does not exist");
	assert_problem(online, "vCPU 1 is online but has no thread");

	/* libvirt says vCPU 1 is unplugged: only the stale XML entry is odd. */
	offline = collect("missing-thread", "missing-thread", 2, 1, NULL, &r);
	assert_int_equal(r, 0);
	assert_problem(offline, "TID 102, which does not exist");
	assert_null(strstr(offline->threads_problem, "has no thread"));
}

static void test_collect_no_status(void **state)
{
	int r;
	g_autoptr(VsDomain) dom = collect("no-status", "no-status", 2, 2, NULL, &r);
	const VsThread *odd;

	/* PID from no-status.pid; roles from /proc alone. */
	assert_int_equal(r, 0);
	assert_null(dom->threads_problem);
	assert_int_equal(dom->pid, 300);
	assert_int_equal(dom->pid_start_time, 7000);
	assert_string_equal(dom->cgroup_path,
			    "/machine.slice/machine-qemu\\x2d7\\x2dno-status.scope/libvirt/emulator");
	assert_null(dom->cgroup_v1_cpuset);
	assert_thread(vcpu_thread(dom, 0), 300, 301, "CPU 0/KVM", 7001, 1, "1");
	assert_thread(vcpu_thread(dom, 1), 300, 303, "CPU 1/KVM", 7003, 0, "0");
	assert_int_equal(dom->io_threads->len, 0);
	assert_int_equal(dom->emulator_threads->len, 2);
	assert_thread(&g_array_index(dom->emulator_threads, VsThread, 0), 300, 300, "qemu-kvm",
		      7000, 0, "0-1");
	odd = &g_array_index(dom->emulator_threads, VsThread, 1);
	assert_thread(odd, 300, 302, "a) S 1 (b", 7002, 0, "0");
}

static void test_collect_beyond_max(void **state)
{
	int r;
	g_autoptr(VsDomain) dom = collect("no-status", "no-status", 1, 1, NULL, &r);

	assert_int_equal(r, 0);
	assert_int_equal(vcpu_thread(dom, 0)->tid, 301);
	assert_problem(dom, "thread 303 'CPU 1/KVM' is beyond the 1 vCPUs libvirt reports");
	/* Neither a vCPU nor an emulator thread: it must not be pinned as one. */
	assert_int_equal(dom->emulator_threads->len, 2);
	for (guint i = 0; i < dom->emulator_threads->len; i++)
		assert_int_not_equal(g_array_index(dom->emulator_threads, VsThread, i).tid, 303);
}

static void test_collect_not_qemu(void **state)
{
	int r;
	g_autoptr(VsDomain) dom = collect("not-qemu", "not-qemu", 1, 1, NULL, &r);

	assert_int_equal(r, -ESRCH);
	assert_int_equal(dom->pid, 0);
	assert_problem(dom, "PID 400 is 'bash', not a QEMU process");
	assert_int_equal(vcpu_thread(dom, 0)->tid, 0);
	assert_int_equal(dom->emulator_threads->len, 0);
}

static void test_collect_no_pid(void **state)
{
	int r;
	g_autoptr(VsDomain) dom = collect("swapped", "absent", 1, 1, NULL, &r);

	assert_int_equal(r, -ESRCH);
	assert_int_equal(dom->pid, 0);
	assert_problem(dom, "no QEMU PID: /run/libvirt/qemu/absent.xml has none");
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int rm_tree(const char *path)
{
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_collect_process_gone(void **state)
{
	g_autofree char *root = g_dir_make_tmp("vsched-virt-XXXXXX", NULL);
	g_autofree char *dir = g_build_filename(root, STATUS_DIR, NULL);
	g_autofree char *xml = g_build_filename(dir, "gone.xml", NULL);
	g_autoptr(VsSys) sys = vs_sys_new(root);
	g_autoptr(VsDomain) dom = vs_domain_new("gone", 1);

	assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
	assert_true(g_file_set_contents(xml, "<domstatus pid='4242'><domain><name>gone</name>"
					"</domain></domstatus>", -1, NULL));
	assert_int_equal(vs_threads_collect(sys, STATUS_DIR, dom), -ESRCH);
	assert_problem(dom, "QEMU PID 4242: /proc/4242/comm: No such file or directory");

	/* A status XML that does not parse falls back to the pid file. */
	assert_true(g_file_set_contents(xml, "<domstatus pid='4242'", -1, NULL));
	g_clear_pointer(&dom, vs_domain_free);
	dom = vs_domain_new("gone", 1);
	assert_int_equal(vs_threads_collect(sys, STATUS_DIR, dom), -ESRCH);
	assert_problem(dom, "/run/libvirt/qemu/gone.xml: status XML");
	assert_problem(dom, "gone.pid: No such file or directory");

	assert_int_equal(rm_tree(root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_status_real),
		cmocka_unit_test(test_parse_status_sparse),
		cmocka_unit_test(test_parse_status_rejects),
		cmocka_unit_test(test_parse_stat),
		cmocka_unit_test(test_parse_cgroup),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_collect_real),
		cmocka_unit_test(test_collect_uuid_mismatch),
		cmocka_unit_test(test_collect_swapped),
		cmocka_unit_test(test_collect_fewer_vcpus),
		cmocka_unit_test(test_collect_missing_thread),
		cmocka_unit_test(test_collect_no_status),
		cmocka_unit_test(test_collect_beyond_max),
		cmocka_unit_test(test_collect_not_qemu),
		cmocka_unit_test(test_collect_no_pid),
		cmocka_unit_test(test_collect_process_gone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
