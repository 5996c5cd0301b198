/* Unit tests of balloon convergence tracking (src/mem/follow.c): a guest
 * that follows converges; one that never moves (no balloon driver) and one
 * that stops short are marked stuck with a reason and not asked again until
 * the backoff ends, their balloon moves by itself, or the new target lies on
 * the other side; a refused request backs off; a guest without a balloon
 * device is never asked; someone else moving a converged balloon ends the
 * tracking. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "mem/follow.h"

#define MIB (UINT64_C(1024) * 1024)
#define SEC G_USEC_PER_SEC

static void test_converges(void **state)
{
	VsMemFollow f = { 0 };

	assert_true(vs_mem_follow_may_ask(&f, 400 * MIB, 512 * MIB, 0));
	vs_mem_follow_asked(&f, 400 * MIB, 512 * MIB, 1 * SEC);
	assert_int_equal(f.state, VS_MEM_FOLLOW_MOVING);
	/* On its way: no change of state, progress noted. */
	assert_int_equal(vs_mem_follow_observe(&f, 460 * MIB, 2 * SEC), -1);
	assert_int_equal(f.progress_us, 2 * SEC);
	/* Within the tolerance is there. */
	assert_int_equal(vs_mem_follow_observe(&f, 401 * MIB, 3 * SEC), VS_MEM_FOLLOW_CONVERGED);
	assert_int_equal(vs_mem_follow_observe(&f, 401 * MIB, 4 * SEC), -1);
	assert_string_equal(vs_mem_follow_state_name(f.state), "converged");
	assert_true(vs_mem_follow_may_ask(&f, 300 * MIB, 401 * MIB, 5 * SEC));
	vs_mem_follow_clear(&f);
}

static void test_never_moves(void **state)
{
	VsMemFollow f = { 0 };
	int64_t t = 10 * SEC;

	vs_mem_follow_asked(&f, 400 * MIB, 512 * MIB, t);
	/* Not yet stuck before the limit. */
	assert_int_equal(vs_mem_follow_observe(&f, 512 * MIB, t + VS_MEM_FOLLOW_STUCK_US - 1), -1);
	assert_int_equal(f.state, VS_MEM_FOLLOW_MOVING);
	assert_int_equal(vs_mem_follow_observe(&f, 512 * MIB, t + VS_MEM_FOLLOW_STUCK_US),
			 VS_MEM_FOLLOW_STUCK);
	assert_non_null(strstr(f.why, "stayed at 512.0 MiB"));
	assert_non_null(strstr(f.why, "no balloon driver"));
	/* Reported once: further observations change nothing. */
	assert_int_equal(vs_mem_follow_observe(&f, 512 * MIB, t + 20 * SEC), -1);
	/* Not asked again for a lower target until the backoff ends... */
	assert_false(vs_mem_follow_may_ask(&f, 300 * MIB, 512 * MIB, t + 60 * SEC));
	assert_true(vs_mem_follow_may_ask(&f, 300 * MIB, 512 * MIB,
					  t + VS_MEM_FOLLOW_STUCK_US + VS_MEM_FOLLOW_RETRY_US));
	/* ...but giving back is another direction. */
	assert_true(vs_mem_follow_may_ask(&f, 600 * MIB, 512 * MIB, t + 60 * SEC));
	vs_mem_follow_clear(&f);
}

static void test_stops_short_then_moves_by_itself(void **state)
{
	VsMemFollow f = { 0 };

	vs_mem_follow_asked(&f, 200 * MIB, 512 * MIB, 0);
	assert_int_equal(vs_mem_follow_observe(&f, 300 * MIB, 1 * SEC), -1);
	/* Small jitter is no progress. */
	assert_int_equal(vs_mem_follow_observe(&f, 299 * MIB, 5 * SEC), -1);
	assert_int_equal(vs_mem_follow_observe(&f, 300 * MIB, 11 * SEC), VS_MEM_FOLLOW_STUCK);
	assert_non_null(strstr(f.why, "from 512.0 MiB to 300.0 MiB"));
	assert_false(vs_mem_follow_may_ask(&f, 250 * MIB, 300 * MIB, 12 * SEC));
	/* The guest frees memory later: following again. */
	assert_int_equal(vs_mem_follow_observe(&f, 250 * MIB, 13 * SEC), VS_MEM_FOLLOW_MOVING);
	assert_null(f.why);
	assert_true(vs_mem_follow_may_ask(&f, 200 * MIB, 250 * MIB, 13 * SEC));
	assert_int_equal(vs_mem_follow_observe(&f, 200 * MIB, 14 * SEC), VS_MEM_FOLLOW_CONVERGED);
	vs_mem_follow_clear(&f);
}

static void test_refused_and_no_device(void **state)
{
	VsMemFollow f = { 0 };

	vs_mem_follow_failed(&f, "libvirt: internal error", 5 * SEC);
	assert_int_equal(f.state, VS_MEM_FOLLOW_FAILED);
	assert_false(vs_mem_follow_may_ask(&f, 300 * MIB, 512 * MIB, 6 * SEC));
	assert_true(vs_mem_follow_may_ask(&f, 300 * MIB, 512 * MIB, 5 * SEC + VS_MEM_FOLLOW_RETRY_US));
	/* A later acceptance clears the refusal. */
	vs_mem_follow_asked(&f, 300 * MIB, 512 * MIB, 400 * SEC);
	assert_null(f.why);
	assert_int_equal(f.state, VS_MEM_FOLLOW_MOVING);
	vs_mem_follow_clear(&f);

	vs_mem_follow_no_device(&f, "no balloon device");
	assert_false(vs_mem_follow_may_ask(&f, 300 * MIB, 512 * MIB, 0));
	assert_false(vs_mem_follow_may_ask(&f, 600 * MIB, 512 * MIB, INT64_MAX / 2));
	assert_int_equal(vs_mem_follow_observe(&f, 100 * MIB, 1 * SEC), -1);
	assert_string_equal(vs_mem_follow_state_name(f.state), "no-balloon");
	vs_mem_follow_clear(&f);
	assert_int_equal(f.state, VS_MEM_FOLLOW_IDLE);
}

static void test_moved_by_someone_else(void **state)
{
	VsMemFollow f = { 0 };

	vs_mem_follow_asked(&f, 400 * MIB, 401 * MIB, 0);
	assert_int_equal(f.state, VS_MEM_FOLLOW_CONVERGED);
	assert_int_equal(vs_mem_follow_observe(&f, 512 * MIB, 1 * SEC), -1);
	assert_int_equal(f.state, VS_MEM_FOLLOW_IDLE);
	vs_mem_follow_clear(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_converges),
		cmocka_unit_test(test_never_moves),
		cmocka_unit_test(test_stops_short_then_moves_by_itself),
		cmocka_unit_test(test_refused_and_no_device),
		cmocka_unit_test(test_moved_by_someone_else),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
