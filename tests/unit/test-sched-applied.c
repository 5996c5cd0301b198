/* Unit tests for the Applied record of the CPU actuator
 * (src/sched/applied.c): originals kept across changes, the JSON round
 * trip (each entry's JSON kept until it changes), hostile documents (every bad entry skipped with a warning, unusable
 * documents refused), cgroup entries (their round trip, an older record
 * without them, hostile directories, files and values), atomic save and load, pruning against a snapshot, and
 * dropping entries whose thread does not verify against the real /proc
 * (the test's own thread is the one that does). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "sched/applied.h"
#include "util/error.h"
#include "virt/threads.h"

#define UUID_A "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
#define UUID_B "6f1c2a0e-9a57-4e0b-8a63-0e4f8a1d2c3b"

static VsCpuSet *parse(const char *list)
{
	VsCpuSet *set = vs_cpuset_parse(list, NULL);

	assert_non_null(set);
	return set;
}

static void assert_cpus(const VsCpuSet *set, const char *want)
{
	g_autofree char *text = vs_cpuset_format(set);

	assert_string_equal(text, want);
}

static VsThread thread(pid_t pid, pid_t tid, uint64_t start, const char *comm)
{
	return (VsThread){ .pid = pid, .tid = tid, .start_time = start, .comm = (char *)comm,
			   .cpu = -1 };
}

static void test_originals(void **state)
{
	g_autoptr(VsApplied) a = vs_applied_new();
	g_autoptr(VsCpuSet) all = parse("0-7");
	g_autoptr(VsCpuSet) two = parse("2");
	g_autoptr(VsCpuSet) three = parse("3");
	VsThread t = thread(100, 101, 5000, "CPU 0/TCG");
	VsThread other = thread(100, 101, 5001, "CPU 0/TCG");
	VsSchedAttr orig = { .sched_policy = 0, .sched_nice = -5 };
	VsAppliedEntry *e;

	assert_null(vs_applied_find(a, VS_APPLIED_AFFINITY, &t));
	e = vs_applied_set_affinity(a, UUID_A, "db", "vcpu0", &t, all, two);
	assert_cpus(e->orig_cpus, "0-7");
	assert_cpus(e->cur_cpus, "2");
	/* A second change keeps the original found before the first. */
	e = vs_applied_set_affinity(a, UUID_A, "db", "vcpu0", &t, two, three);
	assert_cpus(e->orig_cpus, "0-7");
	assert_cpus(e->cur_cpus, "3");
	assert_int_equal(a->entries->len, 1);
	/* Same TID, another start time: another thread. */
	assert_null(vs_applied_find(a, VS_APPLIED_AFFINITY, &other));
	assert_null(vs_applied_find(a, VS_APPLIED_DEADLINE, &t));

	e = vs_applied_set_deadline(a, UUID_A, "db", "vcpu0", &t, &orig, 1000, 100000);
	assert_int_equal(e->orig_nice, -5);
	orig.sched_nice = 3;
	e = vs_applied_set_deadline(a, UUID_A, "db", "vcpu0", &t, &orig, 2000, 100000);
	assert_int_equal(e->orig_nice, -5);
	assert_int_equal(e->runtime_us, 2000);
	assert_int_equal(a->entries->len, 2);

	vs_applied_remove(a, e);
	assert_null(vs_applied_find(a, VS_APPLIED_DEADLINE, &t));
	assert_non_null(vs_applied_find(a, VS_APPLIED_AFFINITY, &t));
	assert_int_equal(a->entries->len, 1);
}

static void test_round_trip(void **state)
{
	g_autoptr(VsApplied) a = vs_applied_new();
	g_autoptr(VsApplied) b = NULL;
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCpuSet) orig = parse("0-3,8");
	g_autoptr(VsCpuSet) cur = parse("2");
	g_autofree char *json = NULL;
	g_autofree char *again = NULL;
	VsThread t1 = thread(100, 101, 5000, "CPU 0/TCG");
	VsThread t2 = thread(100, 100, 4000, "qemu-system-x86");
	VsSchedAttr rr = { .sched_policy = 2, .sched_priority = 10 };
	const VsAppliedEntry *e;

	vs_applied_set_affinity(a, UUID_A, "db", "vcpu0", &t1, orig, cur);
	vs_applied_set_affinity(a, UUID_A, "db", "emulator", &t2, cur, orig);
	vs_applied_set_deadline(a, UUID_A, "db", "vcpu0", &t1, &rr, 1000, 100000);
	json = vs_applied_to_json(a);
	b = vs_applied_from_json(json, warnings, &error);
	assert_null(error);
	assert_non_null(b);
	assert_int_equal(warnings->len, 0);
	assert_int_equal(b->entries->len, 3);

	e = vs_applied_find(b, VS_APPLIED_AFFINITY, &t1);
	assert_non_null(e);
	assert_string_equal(e->uuid, UUID_A);
	assert_string_equal(e->domain, "db");
	assert_string_equal(e->what, "vcpu0");
	assert_int_equal(e->thread.pid, 100);
	assert_string_equal(e->thread.comm, "CPU 0/TCG");
	assert_cpus(e->orig_cpus, "0-3,8");
	assert_cpus(e->cur_cpus, "2");
	e = vs_applied_find(b, VS_APPLIED_DEADLINE, &t1);
	assert_non_null(e);
	assert_int_equal(e->orig_policy, 2);
	assert_int_equal(e->orig_priority, 10);
	assert_int_equal(e->runtime_us, 1000);
	assert_int_equal(e->period_us, 100000);
	e = vs_applied_find(b, VS_APPLIED_AFFINITY, &t2);
	assert_non_null(e);
	assert_cpus(e->orig_cpus, "2");

	again = vs_applied_to_json(b);
	assert_string_equal(again, json);
}

/* Each entry's JSON is kept from one vs_applied_to_json() to the next:
 * a change made through any of the record's functions shows in the next
 * document (which reads back as the record), and setting the value an
 * entry holds already is no change (the count stays, the document too). */
static void test_json_cache(void **state)
{
	g_autoptr(VsApplied) a = vs_applied_new();
	g_autoptr(VsApplied) b = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCpuSet) all = parse("0-7");
	g_autoptr(VsCpuSet) two = parse("2");
	g_autoptr(VsCpuSet) three = parse("3");
	g_autofree char *first = NULL, *same = NULL, *moved = NULL, *fewer = NULL;
	VsThread t1 = thread(100, 101, 5000, "CPU 0/TCG");
	VsThread t2 = thread(100, 102, 5001, "CPU 1/TCG");
	VsThread owner = thread(100, 100, 4000, "qemu-system-x86");
	VsSchedAttr other = { 0 };
	VsAppliedEntry *e;
	guint64 changes;

	vs_applied_set_affinity(a, UUID_A, "db", "vcpu0", &t1, all, two);
	vs_applied_set_deadline(a, UUID_A, "db", "vcpu1", &t2, &other, 1000, 100000);
	vs_applied_set_cgroup(a, UUID_A, "db", "vcpu0", &owner, "/sys/fs/cgroup/m/vcpu0",
			      "cpu.weight", "100", "200");
	vs_applied_set_nice(a, UUID_A, "db", "vcpu1", &t2, 0, -5);
	first = vs_applied_to_json(a);
	changes = a->changes;

	vs_applied_set_affinity(a, UUID_A, "db", "vcpu0", &t1, all, two);
	vs_applied_set_deadline(a, UUID_A, "db", "vcpu1", &t2, &other, 1000, 100000);
	vs_applied_set_cgroup(a, UUID_A, "db", "vcpu0", &owner, "/sys/fs/cgroup/m/vcpu0",
			      "cpu.weight", "100", "200");
	vs_applied_set_nice(a, UUID_A, "db", "vcpu1", &t2, 0, -5);
	assert_true(a->changes == changes);
	same = vs_applied_to_json(a);
	assert_string_equal(same, first);

	vs_applied_set_affinity(a, UUID_A, "db", "vcpu0", &t1, all, three);
	vs_applied_set_deadline(a, UUID_A, "db", "vcpu1", &t2, &other, 2000, 100000);
	vs_applied_set_cgroup(a, UUID_A, "db", "vcpu0", &owner, "/sys/fs/cgroup/m/vcpu0",
			      "cpu.weight", "100", "300");
	vs_applied_set_nice(a, UUID_A, "db", "vcpu1", &t2, 0, -7);
	assert_true(a->changes == changes + 4);
	moved = vs_applied_to_json(a);
	b = vs_applied_from_json(moved, NULL, &error);
	assert_non_null(b);
	e = vs_applied_find(b, VS_APPLIED_AFFINITY, &t1);
	assert_cpus(e->orig_cpus, "0-7");
	assert_cpus(e->cur_cpus, "3");
	assert_int_equal(vs_applied_find(b, VS_APPLIED_DEADLINE, &t2)->runtime_us, 2000);
	assert_int_equal(vs_applied_find(b, VS_APPLIED_NICE, &t2)->cur_nice, -7);
	e = vs_applied_find_cgroup(b, "/sys/fs/cgroup/m/vcpu0", "cpu.weight");
	assert_string_equal(e->orig_value, "100");
	assert_string_equal(e->cur_value, "300");

	vs_applied_remove(a, vs_applied_find(a, VS_APPLIED_AFFINITY, &t1));
	assert_true(a->changes == changes + 5);
	fewer = vs_applied_to_json(a);
	g_clear_pointer(&b, vs_applied_free);
	b = vs_applied_from_json(fewer, NULL, &error);
	assert_non_null(b);
	assert_int_equal(b->entries->len, 3);
	assert_null(vs_applied_find(b, VS_APPLIED_AFFINITY, &t1));
}

/* Names with what JSON must escape (quotes, backslashes, control
 * characters) and bytes that are not UTF-8 (a comm or a domain name may
 * hold any) come back from the file as written, the invalid bytes as
 * U+FFFD; a big start time and a negative nice keep their values. */
static void test_round_trip_strings(void **state)
{
	g_autoptr(VsApplied) a = vs_applied_new();
	g_autoptr(VsApplied) b = NULL;
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCpuSet) cpus = vs_cpuset_parse("0-1,5", NULL);
	g_autofree char *json = NULL;
	VsThread t = thread(100, 101, G_GUINT64_CONSTANT(18446744073709551), "a\"b\\c\td\x01");
	VsThread bad = thread(100, 102, 5000, "x\xff\xfey");
	const VsAppliedEntry *e;

	vs_applied_set_affinity(a, UUID_A, "d\"b\n", "vcpu0", &t, cpus, cpus);
	vs_applied_set_nice(a, UUID_A, "db", "vcpu1", &bad, -5, 3);
	json = vs_applied_to_json(a);
	b = vs_applied_from_json(json, warnings, &error);
	assert_null(error);
	assert_non_null(b);
	assert_int_equal(warnings->len, 0);
	e = vs_applied_find(b, VS_APPLIED_AFFINITY, &t);
	assert_non_null(e);
	assert_string_equal(e->thread.comm, "a\"b\\c\td\x01");
	assert_string_equal(e->domain, "d\"b\n");
	assert_cpus(e->orig_cpus, "0-1,5");
	bad.comm = (char *)"x\xef\xbf\xbd\xef\xbf\xbdy";
	e = vs_applied_find(b, VS_APPLIED_NICE, &bad);
	assert_non_null(e);
	assert_string_equal(e->thread.comm, bad.comm);
	assert_int_equal(e->orig_nice, -5);
	assert_int_equal(e->cur_nice, 3);
}

/* The body of one entry that validates, for the hostile variants below. */
#define GOOD_AFFINITY \
	"\"kind\": \"affinity\", \"uuid\": \"" UUID_A "\", \"domain\": \"db\", " \
	"\"what\": \"vcpu0\", \"pid\": 100, \"start_time\": 5000, \"comm\": \"CPU 0/TCG\""

static void test_hostile_documents(void **state)
{
	static const char *const refused[] = {
		"{",
		"not json at all",
		"[]",
		"42",
		"{\"entries\": []}",
		"{\"version\": 2, \"entries\": []}",
		"{\"version\": \"1\", \"entries\": []}",
		"{\"version\": 1}",
		"{\"version\": 1, \"entries\": {}}",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(VsApplied) a = vs_applied_from_json(refused[i], NULL, &error);

		if (a)
			fail_msg("accepted: %s", refused[i]);
		assert_true(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
	}
	for (size_t i = 0; i < 3; i++) {
		static const char *const blank[] = { "", "  \n", "\t" };
		g_autoptr(GError) error = NULL;
		g_autoptr(VsApplied) a = vs_applied_from_json(blank[i], NULL, &error);

		assert_non_null(a);
		assert_int_equal(a->entries->len, 0);
	}
}

static void test_hostile_entries(void **state)
{
	static const char *const bad[] = {
		"42",
		"\"entry\"",
		"{}",
		/* kind, uuid */
		"{\"kind\": \"nice\", \"uuid\": \"" UUID_A "\", \"pid\": 1, \"tid\": 1, "
		"\"start_time\": 1, \"comm\": \"x\", \"original\": \"0\", \"current\": \"1\"}",
		"{\"kind\": \"affinity\", \"uuid\": \"../../etc\", \"pid\": 1, \"tid\": 1, "
		"\"start_time\": 1, \"comm\": \"x\", \"original\": \"0\", \"current\": \"1\"}",
		/* identity: TID of another type, negative, zero, too large, missing */
		"{" GOOD_AFFINITY ", \"tid\": \"101\", \"original\": \"0\", \"current\": \"1\"}",
		"{" GOOD_AFFINITY ", \"tid\": -1, \"original\": \"0\", \"current\": \"1\"}",
		"{" GOOD_AFFINITY ", \"tid\": 0, \"original\": \"0\", \"current\": \"1\"}",
		"{" GOOD_AFFINITY ", \"tid\": 4294967296, \"original\": \"0\", \"current\": \"1\"}",
		"{" GOOD_AFFINITY ", \"tid\": 1.5, \"original\": \"0\", \"current\": \"1\"}",
		"{" GOOD_AFFINITY ", \"original\": \"0\", \"current\": \"1\"}",
		/* CPU lists */
		"{" GOOD_AFFINITY ", \"tid\": 102, \"original\": \"\", \"current\": \"1\"}",
		"{" GOOD_AFFINITY ", \"tid\": 103, \"original\": \"0-\", \"current\": \"1\"}",
		"{" GOOD_AFFINITY ", \"tid\": 104, \"original\": \"0\", \"current\": \"99999\"}",
		"{" GOOD_AFFINITY ", \"tid\": 105, \"original\": \"0\"}",
		"{" GOOD_AFFINITY ", \"tid\": 106, \"original\": 0, \"current\": \"1\"}",
		/* reservations and originals */
		"{\"kind\": \"deadline\", \"uuid\": \"" UUID_A "\", \"pid\": 1, \"tid\": 107, "
		"\"start_time\": 1, \"comm\": \"x\", \"original_policy\": 0, \"original_nice\": 0, "
		"\"original_priority\": 0, \"runtime_us\": 2000, \"period_us\": 1000}",
		"{\"kind\": \"deadline\", \"uuid\": \"" UUID_A "\", \"pid\": 1, \"tid\": 108, "
		"\"start_time\": 1, \"comm\": \"x\", \"original_policy\": 6, \"original_nice\": 0, "
		"\"original_priority\": 0, \"runtime_us\": 1000, \"period_us\": 10000}",
		"{\"kind\": \"deadline\", \"uuid\": \"" UUID_A "\", \"pid\": 1, \"tid\": 109, "
		"\"start_time\": 1, \"comm\": \"x\", \"original_policy\": 0, \"original_nice\": 40, "
		"\"original_priority\": 0, \"runtime_us\": 1000, \"period_us\": 10000}",
		"{\"kind\": \"deadline\", \"uuid\": \"" UUID_A "\", \"pid\": 1, \"tid\": 110, "
		"\"start_time\": 1, \"comm\": \"x\", \"original_policy\": 0, \"original_nice\": 0, "
		"\"original_priority\": 0, \"runtime_us\": 0, \"period_us\": 10000}",
		/* a second entry for the good one */
		"{" GOOD_AFFINITY ", \"tid\": 101, \"original\": \"5\", \"current\": \"6\"}",
	};
	g_autoptr(GString) doc = g_string_new("{\"version\": 1, \"entries\": [");
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(VsApplied) a = NULL;
	VsThread good = thread(100, 101, 5000, "CPU 0/TCG");
	const VsAppliedEntry *e;

	g_string_append(doc, "{" GOOD_AFFINITY ", \"tid\": 101, \"original\": \"0-1\", "
			"\"current\": \"1\", \"unknown\": [1, 2]}");
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		g_string_append_printf(doc, ", %s", bad[i]);
	g_string_append(doc, "]}");
	a = vs_applied_from_json(doc->str, warnings, &error);
	assert_null(error);
	assert_non_null(a);
	for (guint i = 0; i < warnings->len; i++)
		assert_true(g_str_has_prefix(g_ptr_array_index(warnings, i), "entry "));
	assert_int_equal(warnings->len, G_N_ELEMENTS(bad));
	assert_int_equal(a->entries->len, 1);
	e = vs_applied_find(a, VS_APPLIED_AFFINITY, &good);
	assert_non_null(e);
	assert_cpus(e->orig_cpus, "0-1");
}

#define SCOPE "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d1\\x2ddb.scope"
/* Without the backslashes a JSON text would have to escape. */
#define PLAIN "/sys/fs/cgroup/machine/qemu-1-db.libvirt-qemu"
#define GOOD_CGROUP \
	"\"kind\": \"cgroup\", \"uuid\": \"" UUID_A "\", \"domain\": \"db\", " \
	"\"what\": \"guest\", \"pid\": 100, \"tid\": 100, \"start_time\": 4000, " \
	"\"comm\": \"qemu-system-x86\""

/* Cgroup entries: originals kept, the JSON round trip (an empty original
 * too), the owner's identity, pruning with the guest's QEMU main thread;
 * a record written before cgroup entries existed still loads; a garbled
 * directory, file or value is skipped. */
static void test_cgroup_entries(void **state)
{
	static const char *const old =
		"{\"version\": 1, \"entries\": [{" GOOD_AFFINITY ", \"tid\": 101, "
		"\"original\": \"0-1\", \"current\": \"1\"}]}";
	static const char *const bad[] = {
		"{" GOOD_CGROUP ", \"dir\": \"sys/fs/cgroup/x\", \"file\": \"cpu.weight\", "
		"\"original\": \"100\", \"current\": \"200\"}",
		"{" GOOD_CGROUP ", \"dir\": \"/sys/fs/cgroup/../../etc\", \"file\": \"cpu.weight\", "
		"\"original\": \"100\", \"current\": \"200\"}",
		"{" GOOD_CGROUP ", \"dir\": \"/sys/fs/cgroup/x\", \"file\": \"../shadow\", "
		"\"original\": \"100\", \"current\": \"200\"}",
		"{" GOOD_CGROUP ", \"dir\": \"/sys/fs/cgroup/x\", \"file\": \"cgroup.procs\", "
		"\"original\": \"100\", \"current\": \"200\"}",
		"{" GOOD_CGROUP ", \"dir\": \"/sys/fs/cgroup/x\", \"file\": \"cpu.weight\", "
		"\"original\": \"1\\n2\", \"current\": \"200\"}",
		"{" GOOD_CGROUP ", \"dir\": \"/sys/fs/cgroup/x\", \"file\": \"cpu.weight\", "
		"\"current\": \"200\"}",
		"{" GOOD_CGROUP ", \"dir\": \"/sys/fs/cgroup/x\", \"file\": \"cpu.max\", "
		"\"original\": \"max 100000\", \"current\": 5}",
	};
	g_autoptr(VsApplied) a = vs_applied_new();
	g_autoptr(VsApplied) b = NULL;
	g_autoptr(VsApplied) c = NULL;
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) doc = g_string_new("{\"version\": 1, \"entries\": [");
	g_autofree char *json = NULL;
	VsThread qemu = thread(100, 100, 4000, "qemu-system-x86");
	const VsAppliedEntry *e;

	vs_applied_set_cgroup(a, UUID_A, "db", "guest", &qemu, SCOPE, "cpu.weight", "100", "300");
	vs_applied_set_cgroup(a, UUID_A, "db", "guest", &qemu, SCOPE, "cpu.weight", "300", "500");
	vs_applied_set_cgroup(a, UUID_A, "db", "vcpu0", &qemu, SCOPE "/libvirt/vcpu0",
			      "cpuset.cpus", "", "2");
	assert_int_equal(a->entries->len, 2);
	e = vs_applied_find_cgroup(a, SCOPE, "cpu.weight");
	assert_string_equal(e->orig_value, "100");
	assert_string_equal(e->cur_value, "500");
	assert_null(vs_applied_find(a, VS_APPLIED_AFFINITY, &qemu));

	json = vs_applied_to_json(a);
	b = vs_applied_from_json(json, warnings, &error);
	assert_null(error);
	assert_int_equal(warnings->len, 0);
	assert_int_equal(b->entries->len, 2);
	e = vs_applied_find_cgroup(b, SCOPE "/libvirt/vcpu0", "cpuset.cpus");
	assert_non_null(e);
	assert_int_equal(e->kind, VS_APPLIED_CGROUP);
	assert_string_equal(e->orig_value, "");
	assert_string_equal(e->cur_value, "2");
	assert_string_equal(e->what, "vcpu0");
	assert_int_equal(e->thread.tid, 100);
	assert_int_equal(e->thread.start_time, 4000);
	vs_applied_remove(b, e);
	assert_null(vs_applied_find_cgroup(b, SCOPE "/libvirt/vcpu0", "cpuset.cpus"));
	assert_int_equal(b->entries->len, 1);

	c = vs_applied_from_json(old, warnings, &error);
	assert_null(error);
	assert_int_equal(c->entries->len, 1);
	assert_int_equal(warnings->len, 0);

	g_string_append(doc, "{" GOOD_CGROUP ", \"dir\": \"" PLAIN "\", \"file\": \"cpu.max\", "
			"\"original\": \"max 100000\", \"current\": \"50000 100000\"}");
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		g_string_append_printf(doc, ", %s", bad[i]);
	g_string_append(doc, "]}");
	g_clear_pointer(&c, vs_applied_free);
	c = vs_applied_from_json(doc->str, warnings, &error);
	assert_null(error);
	assert_int_equal(warnings->len, G_N_ELEMENTS(bad));
	assert_int_equal(c->entries->len, 1);
	assert_non_null(vs_applied_find_cgroup(c, PLAIN, "cpu.max"));
	assert_true(vs_applied_cgroup_file_ok("cpuset.mems"));
	assert_false(vs_applied_cgroup_file_ok("cgroup.threads"));
}

static void test_save_load(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("vsched-applied-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "run", "vsched", "applied.json", NULL);
	g_autofree char *sub1 = g_build_filename(dir, "run", "vsched", NULL);
	g_autofree char *sub2 = g_build_filename(dir, "run", NULL);
	g_autoptr(VsApplied) a = vs_applied_new();
	g_autoptr(VsApplied) b = NULL;
	g_autoptr(VsApplied) missing = NULL;
	g_autoptr(VsApplied) garbage = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(VsCpuSet) cpus = parse("1");
	VsThread t = thread(100, 101, 5000, "CPU 0/TCG");

	assert_non_null(dir);
	missing = vs_applied_load(path, NULL, &error);
	assert_null(error);
	assert_int_equal(missing->entries->len, 0);

	vs_applied_set_affinity(a, UUID_A, "db", "vcpu0", &t, cpus, cpus);
	assert_int_equal(vs_applied_save(a, path, &error), 0);
	assert_null(error);
	b = vs_applied_load(path, NULL, &error);
	assert_null(error);
	assert_int_equal(b->entries->len, 1);

	assert_true(g_file_set_contents(path, "{\"version\": 1, \"entries\": [", -1, NULL));
	garbage = vs_applied_load(path, NULL, &error);
	assert_null(garbage);
	assert_true(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));

	g_unlink(path);
	g_rmdir(sub1);
	g_rmdir(sub2);
	g_rmdir(dir);
}

static void test_retain_snapshot(void **state)
{
	g_autoptr(VsApplied) a = vs_applied_new();
	g_autoptr(VsCpuSet) cpus = parse("1");
	GPtrArray *domains = g_ptr_array_new_with_free_func((GDestroyNotify)vs_domain_free);
	g_autoptr(VsSnapshot) snap = NULL;
	VsDomain *dom = vs_domain_new("db", 2);
	VsVcpu *v = &g_array_index(dom->vcpus, VsVcpu, 0);
	VsThread emu = thread(100, 100, 4000, "qemu-system-x86");
	VsThread vcpu0 = thread(100, 101, 5000, "CPU 0/TCG");
	VsThread vcpu1 = thread(100, 102, 5001, "CPU 1/TCG");
	VsThread other = thread(200, 201, 6000, "CPU 0/TCG");
	VsThread emu_copy = emu;

	g_strlcpy(dom->uuid, UUID_A, sizeof(dom->uuid));
	dom->pid = 100;
	v->online = true;
	v->thread = vcpu0;
	v->thread.comm = g_strdup(vcpu0.comm);
	emu_copy.comm = g_strdup(emu.comm);
	g_array_append_val(dom->emulator_threads, emu_copy);
	g_ptr_array_add(domains, dom);
	snap = vs_snapshot_new(1, 0, 0, NULL, domains, true);

	vs_applied_set_affinity(a, UUID_A, "db", "vcpu0", &vcpu0, cpus, cpus);
	vs_applied_set_affinity(a, UUID_A, "db", "vcpu1", &vcpu1, cpus, cpus);   /* unplugged */
	vs_applied_set_affinity(a, UUID_A, "db", "emulator", &emu, cpus, cpus);
	vs_applied_set_affinity(a, UUID_B, "gone", "vcpu0", &other, cpus, cpus); /* stopped */
	assert_int_equal(vs_applied_retain_snapshot(a, snap), 2);
	assert_int_equal(a->entries->len, 2);
	assert_non_null(vs_applied_find(a, VS_APPLIED_AFFINITY, &vcpu0));
	assert_non_null(vs_applied_find(a, VS_APPLIED_AFFINITY, &emu));
	assert_null(vs_applied_find(a, VS_APPLIED_AFFINITY, &vcpu1));
}

/* This thread's identity, from the real /proc. */
static VsThread self_thread(void)
{
	g_autofree char *path = g_strdup_printf("/proc/self/task/%d/stat", (int)gettid());
	g_autofree char *text = NULL;
	g_autofree char *comm = NULL;
	uint64_t start;
	int cpu;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	assert_int_equal(vs_threads_parse_stat(text, &start, &cpu), 0);
	comm = g_strndup(strchr(text, '(') + 1, (gsize)(strrchr(text, ')') - strchr(text, '(') - 1));
	return (VsThread){ .pid = getpid(), .tid = gettid(), .start_time = start,
			   .comm = g_steal_pointer(&comm), .cpu = -1 };
}

static void test_drop_stale(void **state)
{
	g_autoptr(VsSys) sys = vs_sys_new(NULL);
	g_autoptr(VsApplied) a = vs_applied_new();
	g_autoptr(GPtrArray) dropped = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(VsCpuSet) cpus = parse("0");
	VsThread self = self_thread();
	VsThread reused = self;
	VsThread renamed = self;
	VsThread gone = thread(getpid(), 0x7ffffff0, 1, "CPU 0/TCG");

	reused.start_time = self.start_time + 1;
	reused.tid = self.tid;
	renamed.comm = (char *)"CPU 9/TCG";
	vs_applied_set_affinity(a, UUID_A, "db", "vcpu0", &self, cpus, cpus);
	vs_applied_set_affinity(a, UUID_A, "db", "vcpu1", &gone, cpus, cpus);
	vs_applied_set_deadline(a, UUID_A, "db", "vcpu2", &reused,
				&(VsSchedAttr){ .sched_policy = 0 }, 1000, 10000);
	assert_int_equal(vs_applied_drop_stale(a, sys, dropped), 2);
	assert_int_equal(dropped->len, 2);
	assert_int_equal(a->entries->len, 1);
	assert_non_null(vs_applied_find(a, VS_APPLIED_AFFINITY, &self));

	/* The same TID and start time under another name is not the thread. */
	vs_applied_remove(a, vs_applied_find(a, VS_APPLIED_AFFINITY, &self));
	vs_applied_set_affinity(a, UUID_A, "db", "vcpu0", &renamed, cpus, cpus);
	assert_int_equal(vs_applied_drop_stale(a, sys, dropped), 1);
	assert_int_equal(a->entries->len, 0);
	g_free(self.comm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_originals),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_strings),
		cmocka_unit_test(test_json_cache),
		cmocka_unit_test(test_hostile_documents),
		cmocka_unit_test(test_hostile_entries),
		cmocka_unit_test(test_cgroup_entries),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_retain_snapshot),
		cmocka_unit_test(test_drop_stale),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
