/* Unit tests for inventory change descriptions (src/core/changes.c). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <libvirt/libvirt.h>

#include "core/changes.h"

static VsDomain *domain(const char *name, const char *uuid, int state, pid_t pid, guint vcpus)
{
	VsDomain *d = g_new0(VsDomain, 1);

	d->name = g_strdup(name);
	g_strlcpy(d->uuid, uuid, sizeof(d->uuid));
	d->state = state;
	d->id = pid ? 1 : -1;
	d->pid = pid;
	d->pid_start_time = 100;
	d->vcpus_current = vcpus;
	d->vcpus_max = 4;
	d->mem_current = 512ull << 20;
	d->vcpus = g_array_new(FALSE, TRUE, sizeof(VsVcpu));
	for (guint i = 0; i < vcpus; i++) {
		VsVcpu v = { .index = i, .online = true };
		v.thread.tid = pid ? pid + 1 + (pid_t)i : 0;
		g_array_append_val(d->vcpus, v);
	}
	return d;
}

static VsSnapshot *snapshot(VsDomain *a, VsDomain *b)
{
	GPtrArray *doms = g_ptr_array_new_with_free_func((GDestroyNotify)vs_domain_free);

	if (a)
		g_ptr_array_add(doms, a);
	if (b)
		g_ptr_array_add(doms, b);
	return vs_snapshot_new(1, 0, 0, NULL, doms, true);
}

static const VsChange *change(GPtrArray *changes, guint i)
{
	assert_true(i < changes->len);
	return g_ptr_array_index(changes, i);
}

#define U1 "11111111-1111-1111-1111-111111111111"
#define U2 "22222222-2222-2222-2222-222222222222"

static void test_first_snapshot(void **state)
{
	g_autoptr(VsSnapshot) s = snapshot(domain("db1", U1, VIR_DOMAIN_RUNNING, 400, 2),
					   domain("off", U2, VIR_DOMAIN_SHUTOFF, 0, 1));
	g_autoptr(GPtrArray) c = vs_changes_between(NULL, s);

	assert_int_equal(c->len, 2);
	assert_string_equal(change(c, 0)->domain, "db1");
	assert_string_equal(change(c, 0)->message,
			    "appeared: running, 2/4 vCPUs (2 threads found), 512.0 MiB, QEMU PID 400");
	assert_false(change(c, 0)->warning);
	assert_string_equal(change(c, 1)->message, "appeared: shut off, 1/4 vCPUs, 512.0 MiB");
}

static void test_no_change(void **state)
{
	g_autoptr(VsSnapshot) a = snapshot(domain("db1", U1, VIR_DOMAIN_RUNNING, 400, 2), NULL);
	g_autoptr(VsSnapshot) b = snapshot(domain("db1", U1, VIR_DOMAIN_RUNNING, 400, 2), NULL);
	g_autoptr(GPtrArray) c = vs_changes_between(a, b);

	assert_int_equal(c->len, 0);
}

static void test_changes(void **state)
{
	VsDomain *after = domain("db1", U1, VIR_DOMAIN_PAUSED, 500, 3);
	g_autoptr(VsSnapshot) a = snapshot(domain("db1", U1, VIR_DOMAIN_RUNNING, 400, 2),
					   domain("gone", U2, VIR_DOMAIN_RUNNING, 600, 1));
	g_autoptr(VsSnapshot) b = NULL;
	g_autoptr(GPtrArray) c = NULL;

	after->threads_problem = g_strdup("vCPU 2 has no thread");
	after->vsched_class = g_strdup("db");
	b = snapshot(after, NULL);
	c = vs_changes_between(a, b);
	assert_int_equal(c->len, 6);
	assert_string_equal(change(c, 0)->message, "state running -> paused");
	assert_string_equal(change(c, 1)->message, "QEMU process changed: PID 400 -> 500");
	assert_string_equal(change(c, 2)->message, "vCPUs 2 -> 3 (of 4)");
	assert_string_equal(change(c, 3)->message, "vCPU threads: vCPU 2 has no thread");
	assert_true(change(c, 3)->warning);
	assert_string_equal(change(c, 4)->message, "class (none) -> db");
	assert_string_equal(change(c, 5)->domain, "gone");
	assert_string_equal(change(c, 5)->message, "vanished: libvirt no longer knows it");
}

/* The thread digest the CPU step compares: equal for the same threads,
 * different for each kind of change that may need a new plan. */
static void test_threads_hash(void **state)
{
	g_autoptr(VsSnapshot) a = snapshot(domain("a", U1, VIR_DOMAIN_RUNNING, 100, 2),
					   domain("b", U2, VIR_DOMAIN_RUNNING, 200, 2));
	g_autoptr(VsSnapshot) same = snapshot(domain("a", U1, VIR_DOMAIN_RUNNING, 100, 2),
					      domain("b", U2, VIR_DOMAIN_RUNNING, 200, 2));
	g_autoptr(VsSnapshot) none = snapshot(NULL, NULL);
	uint64_t h = vs_changes_threads_hash(a);
	GHashTable *seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	VsDomain *d;
	VsThread io = { .tid = 150 };

	assert_true(h == vs_changes_threads_hash(same));
	assert_true(h != vs_changes_threads_hash(none));
	g_hash_table_add(seen, g_memdup2(&h, sizeof(h)));
	/* Each change on its own gives a digest not seen before. */
	for (int change = 0; change < 6; change++) {
		g_autoptr(VsSnapshot) s = snapshot(domain("a", U1, VIR_DOMAIN_RUNNING, 100, 2),
						   domain("b", U2, VIR_DOMAIN_RUNNING, 200, 2));
		uint64_t x;

		d = g_ptr_array_index(s->domains, 0);
		switch (change) {
		case 0: /* a thread replaced: same TID, new start time */
			g_array_index(d->vcpus, VsVcpu, 1).thread.start_time = 7;
			break;
		case 1: /* a vCPU unplugged */
			g_array_index(d->vcpus, VsVcpu, 1).online = false;
			break;
		case 2: /* QEMU restarted */
			d->pid = 101;
			break;
		case 3: /* an I/O thread appeared */
			d->io_threads = g_array_new(FALSE, TRUE, sizeof(VsThread));
			g_array_append_val(d->io_threads, io);
			break;
		case 4: /* the same thread as an emulator thread instead */
			d->emulator_threads = g_array_new(FALSE, TRUE, sizeof(VsThread));
			g_array_append_val(d->emulator_threads, io);
			break;
		case 5: /* a guest stopped */
			d->pid = 0;
			break;
		}
		x = vs_changes_threads_hash(s);
		assert_false(g_hash_table_contains(seen, &x));
		g_hash_table_add(seen, g_memdup2(&x, sizeof(x)));
	}
	g_hash_table_unref(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_snapshot),
		cmocka_unit_test(test_no_change),
		cmocka_unit_test(test_changes),
		cmocka_unit_test(test_threads_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
