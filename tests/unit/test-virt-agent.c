/* The guest agent worker (src/virt/agent.c) against libvirt's test driver
 * (test:///default, in process): the driver has no guest agent, so every
 * command comes back as a reply with libvirt's error, off the caller's
 * thread; a guest with a request out cannot get a second one; an unknown
 * guest and an unreachable URI are replies with the reason, never a hang;
 * freeing the worker with requests queued returns. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "virt/agent.h"

#include <string.h>

/* The test driver's one domain, "test". */
#define TEST_UUID "6695eb01-f6a4-8304-79aa-97f2502e193f"
#define OTHER_UUID "00000000-0000-0000-0000-000000000001"

/* Waits up to 10 s for @n replies in all. */
static GPtrArray *wait_replies(VsAgent *a, guint n)
{
	GPtrArray *all = g_ptr_array_new_with_free_func((GDestroyNotify)vs_agent_reply_free);

	for (int i = 0; i < 1000 && all->len < n; i++) {
		g_autoptr(GPtrArray) got = vs_agent_take_replies(a);

		g_ptr_array_extend_and_steal(all, g_steal_pointer(&got));
		if (all->len < n)
			g_usleep(10000);
	}
	assert_int_equal(all->len, n);
	return all;
}

static void test_replies(void **state)
{
	g_autoptr(VsAgent) a = vs_agent_new("test:///default");
	g_autoptr(GPtrArray) replies = NULL;
	int64_t t0 = g_get_monotonic_time();
	const VsAgentReply *r;

	assert_false(vs_agent_pending(a, TEST_UUID));
	assert_true(vs_agent_request(a, TEST_UUID, "{\"execute\": \"guest-get-cpustats\"}"));
	/* One request per guest at a time (the first may be done already:
	 * then the second is a new request). */
	if (vs_agent_pending(a, TEST_UUID) &&
	    !vs_agent_request(a, TEST_UUID, "{\"execute\": \"guest-ping\"}"))
		replies = wait_replies(a, 1);
	else
		replies = wait_replies(a, 2);
	assert_false(vs_agent_pending(a, TEST_UUID));
	r = g_ptr_array_index(replies, 0);
	assert_string_equal(r->uuid, TEST_UUID);
	assert_null(r->reply);
	assert_non_null(r->error);
	assert_true(strlen(r->error) > 0);
	assert_true(r->mono_us >= t0 && r->mono_us <= g_get_monotonic_time());
	g_ptr_array_unref(replies);

	assert_true(vs_agent_request(a, OTHER_UUID, "{\"execute\": \"guest-ping\"}"));
	replies = wait_replies(a, 1);
	r = g_ptr_array_index(replies, 0);
	assert_string_equal(r->uuid, OTHER_UUID);
	assert_null(r->reply);
	assert_non_null(strstr(r->error, "omain"));
}

static void test_unreachable(void **state)
{
	g_autoptr(VsAgent) a = vs_agent_new("test:///nonexistent/path.xml");
	g_autoptr(GPtrArray) replies = NULL;
	const VsAgentReply *r;

	assert_true(vs_agent_request(a, TEST_UUID, "{\"execute\": \"guest-ping\"}"));
	replies = wait_replies(a, 1);
	r = g_ptr_array_index(replies, 0);
	assert_null(r->reply);
	assert_non_null(strstr(r->error, "cannot connect to test:///nonexistent/path.xml"));
}

static void test_free_with_queue(void **state)
{
	VsAgent *a = vs_agent_new("test:///default");
	g_autoptr(VsAgent) idle = vs_agent_new(NULL);

	for (int i = 0; i < 50; i++) {
		g_autofree char *uuid = g_strdup_printf("00000000-0000-0000-0000-%012d", i);

		assert_true(vs_agent_request(a, uuid, "{\"execute\": \"guest-ping\"}"));
	}
	vs_agent_free(a);
	/* A worker never asked has no thread to stop. */
	assert_false(vs_agent_pending(idle, TEST_UUID));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_free_with_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
