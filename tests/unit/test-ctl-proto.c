/* Unit tests for the control protocol's framing, request validation and
 * encoders (src/ctl/proto.c): every rejection of doc/control-protocol.md
 * that does not need a socket. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "ctl/proto.h"
#include "util/error.h"

/* Pops one message and checks it is @want. */
static void assert_pop(VsCtlReader *r, const char *want)
{
	g_autofree char *msg = NULL;
	gsize len = 0;

	assert_int_equal(vs_ctl_reader_pop(r, &msg, &len), 1);
	assert_string_equal(msg, want);
	assert_int_equal(len, strlen(want));
}

static void assert_nothing(VsCtlReader *r)
{
	char *msg = NULL;
	gsize len = 0;

	assert_int_equal(vs_ctl_reader_pop(r, &msg, &len), 0);
	assert_null(msg);
}

static void test_reader_split(void **state)
{
	g_autoptr(VsCtlReader) r = vs_ctl_reader_new(64);
	const char *text = "{\"method\":\"a.b.C\"}";

	/* One byte at a time: nothing until the NUL. */
	for (const char *p = text; *p; p++) {
		vs_ctl_reader_feed(r, p, 1);
		assert_nothing(r);
	}
	assert_int_equal(vs_ctl_reader_pending(r), strlen(text));
	vs_ctl_reader_feed(r, "\0{\"x", 4);
	assert_pop(r, text);
	assert_nothing(r);
	assert_int_equal(vs_ctl_reader_pending(r), 3);
	vs_ctl_reader_feed(r, "\":1}\0", 5);
	assert_pop(r, "{\"x\":1}");
	assert_nothing(r);
	assert_int_equal(vs_ctl_reader_pending(r), 0);
}

static void test_reader_several(void **state)
{
	g_autoptr(VsCtlReader) r = vs_ctl_reader_new(64);
	static const char data[] = "one\0two\0\0three\0four";

	vs_ctl_reader_feed(r, data, sizeof(data) - 1);
	assert_pop(r, "one");
	assert_pop(r, "two");
	assert_pop(r, "");
	assert_pop(r, "three");
	assert_nothing(r);
	assert_int_equal(vs_ctl_reader_pending(r), 4);
}

static void test_reader_nul_only(void **state)
{
	g_autoptr(VsCtlReader) r = vs_ctl_reader_new(64);

	vs_ctl_reader_feed(r, "\0\0", 2);
	assert_pop(r, "");
	assert_pop(r, "");
	assert_nothing(r);
}

static void test_reader_over_limit(void **state)
{
	g_autoptr(VsCtlReader) r = vs_ctl_reader_new(8);
	char big[32];
	char *msg = NULL;
	gsize len;

	/* Exactly the limit is fine. */
	vs_ctl_reader_feed(r, "12345678\0", 9);
	assert_pop(r, "12345678");

	/* A complete message in the same read as an oversized tail is still
	 * returned, then the reader fails for good. */
	memset(big, 'x', sizeof(big));
	vs_ctl_reader_feed(r, "ok\0", 3);
	vs_ctl_reader_feed(r, big, 5);
	vs_ctl_reader_feed(r, big, 4);
	assert_pop(r, "ok");
	assert_int_equal(vs_ctl_reader_pop(r, &msg, &len), -EMSGSIZE);
	vs_ctl_reader_feed(r, "\0fine\0", 6);
	assert_int_equal(vs_ctl_reader_pop(r, &msg, &len), -EMSGSIZE);
	assert_null(msg);
	assert_int_equal(vs_ctl_reader_pending(r), 0);
}

static void test_reader_over_limit_complete(void **state)
{
	g_autoptr(VsCtlReader) r = vs_ctl_reader_new(8);
	char *msg = NULL;
	gsize len;

	/* An oversized message that arrives whole, NUL included. */
	vs_ctl_reader_feed(r, "a\0" "123456789\0" "b\0", 14);
	assert_pop(r, "a");
	assert_int_equal(vs_ctl_reader_pop(r, &msg, &len), -EMSGSIZE);
	assert_int_equal(vs_ctl_reader_pop(r, &msg, &len), -EMSGSIZE);
	assert_null(msg);
}

/* Decodes @text and checks it is rejected with @error_name and, when not
 * NULL, a parameter @key whose value contains @fragment. */
static void assert_rejected(const char *text, gssize len, const char *error_name, const char *key,
			    const char *fragment)
{
	g_autoptr(VsCtlReply) reply = NULL;
	g_autoptr(VsCtlRequest) req = NULL;

	req = vs_ctl_request_decode(text, len < 0 ? strlen(text) : (gsize)len, &reply);
	assert_null(req);
	assert_non_null(reply);
	assert_string_equal(reply->error, error_name);
	if (key) {
		const char *value = json_object_get_string_member(reply->parameters, key);
		assert_non_null(value);
		if (!strstr(value, fragment))
			fail_msg("\"%s\" does not contain \"%s\"", value, fragment);
	}
}

static void test_request_rejects(void **state)
{
	g_autofree char *deep = NULL;

	assert_rejected("", -1, VS_CTL_ERROR_INVALID_MESSAGE, "reason", "empty");
	assert_rejected("  ", -1, VS_CTL_ERROR_INVALID_MESSAGE, "reason", "");
	assert_rejected("garbage", -1, VS_CTL_ERROR_INVALID_MESSAGE, "reason", "not JSON");
	assert_rejected("{\"method\": \"org.vsched.Status\"", -1, VS_CTL_ERROR_INVALID_MESSAGE,
			"reason", "not JSON");
	assert_rejected("[\"org.vsched.Status\"]", -1, VS_CTL_ERROR_INVALID_MESSAGE, "reason",
			"not a JSON object");
	assert_rejected("42", -1, VS_CTL_ERROR_INVALID_MESSAGE, "reason", "not a JSON object");
	assert_rejected("{}", -1, VS_CTL_ERROR_INVALID_MESSAGE, "reason", "method");
	assert_rejected("{\"parameters\": {}}", -1, VS_CTL_ERROR_INVALID_MESSAGE, "reason", "method");
	assert_rejected("{\"method\": 7}", -1, VS_CTL_ERROR_INVALID_MESSAGE, "reason", "method");
	assert_rejected("{\"method\": null}", -1, VS_CTL_ERROR_INVALID_MESSAGE, "reason", "method");
	assert_rejected("{\"method\": \"Status\"}", -1, VS_CTL_ERROR_INVALID_MESSAGE, "reason",
			"not a qualified");
	assert_rejected("{\"method\": \"org.vsched.status\"}", -1, VS_CTL_ERROR_INVALID_MESSAGE,
			"reason", "not a qualified");
	assert_rejected("{\"method\": \"org.vsched.Status\", \"parameters\": [1]}", -1,
			VS_CTL_ERROR_INVALID_MESSAGE, "reason", "parameters");
	assert_rejected("{\"method\": \"org.vsched.Status\", \"parameters\": \"x\"}", -1,
			VS_CTL_ERROR_INVALID_MESSAGE, "reason", "parameters");
	assert_rejected("{\"method\": \"org.vsched.St\xff\"}", -1, VS_CTL_ERROR_INVALID_MESSAGE,
			"reason", "UTF-8");
	assert_rejected("{\"method\": \"org.vsched.List\", \"more\": true}", -1,
			VS_CTL_ERROR_INVALID_PARAMETER, "parameter", "more");
	assert_rejected("{\"method\": \"org.vsched.List\", \"oneway\": true}", -1,
			VS_CTL_ERROR_INVALID_PARAMETER, "parameter", "oneway");
	assert_rejected("{\"method\": \"org.vsched.List\", \"upgrade\": true}", -1,
			VS_CTL_ERROR_INVALID_PARAMETER, "parameter", "upgrade");
	assert_rejected("{\"method\": \"org.vsched.List\", \"more\": \"yes\"}", -1,
			VS_CTL_ERROR_INVALID_PARAMETER, "parameter", "more");

	/* json-glib alone would accept these. */
	assert_rejected("{'method': 'org.vsched.Status'}", -1, VS_CTL_ERROR_INVALID_MESSAGE,
			"reason", "not JSON");
	assert_rejected("{\"method\": \"org.vsched.Status\"} /* x */", -1,
			VS_CTL_ERROR_INVALID_MESSAGE, "reason", "not JSON");
	assert_rejected("{\"method\": \"org.vsched.Status\"} {}", -1, VS_CTL_ERROR_INVALID_MESSAGE,
			"reason", "more than one value");
	/* A quote that is not a JSON string delimiter cannot hide brackets. */
	{
		g_autofree char *brackets = g_strnfill(100, '[');
		g_autofree char *hidden = g_strdup_printf("{'\"': %s}", brackets);

		assert_rejected(hidden, -1, VS_CTL_ERROR_INVALID_MESSAGE, "reason", "not JSON");
	}

	/* Nesting deeper than the limit never reaches the recursive parser. */
	deep = g_strnfill(VS_CTL_DEPTH_MAX + 1, '[');
	assert_rejected(deep, -1, VS_CTL_ERROR_INVALID_MESSAGE, "reason", "nested deeper");
}

static void test_request_accepts(void **state)
{
	static const char *const ok[] = {
		"{\"method\": \"org.vsched.Status\"}",
		"{\"method\": \"org.vsched.Status\", \"parameters\": null}",
		"{\"method\": \"org.vsched.Status\", \"more\": false, \"oneway\": null}",
		"{\"method\": \"org.vsched.Status\", \"parameters\": {}, \"extra\": 1}",
		"{\"method\": \"io.sys-tem.v2.Do2\"}",
	};

	g_autofree char *brackets = g_strnfill(200, '[');
	g_autofree char *in_string = g_strdup_printf("{\"method\": \"org.vsched.Show\", "
						     "\"parameters\": {\"domain\": \"\\\"%s\"}}",
						     brackets);
	g_autoptr(VsCtlReply) error = NULL;
	g_autoptr(VsCtlRequest) show = vs_ctl_request_decode(in_string, strlen(in_string), &error);

	/* Brackets (and escaped quotes) inside strings do not nest. */
	assert_non_null(show);
	assert_int_equal(strlen(json_object_get_string_member(show->parameters, "domain")), 201);

	for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
		g_autoptr(VsCtlReply) reply = NULL;
		g_autoptr(VsCtlRequest) req = vs_ctl_request_decode(ok[i], strlen(ok[i]), &reply);

		if (!req)
			fail_msg("rejected %s: %s", ok[i], reply->error);
		assert_null(reply);
		assert_non_null(req->parameters);
		assert_int_equal(json_object_get_size(req->parameters), 0);
	}
}

static void test_qualified_names(void **state)
{
	assert_true(vs_ctl_name_is_qualified("org.vsched.Show"));
	assert_true(vs_ctl_name_is_qualified("org.varlink.service.InvalidParameter"));
	assert_true(vs_ctl_name_is_qualified("a.b-c.D9"));
	assert_false(vs_ctl_name_is_qualified("vsched.Show.x"));
	assert_false(vs_ctl_name_is_qualified("org.Show"));
	assert_false(vs_ctl_name_is_qualified("Show"));
	assert_false(vs_ctl_name_is_qualified("org..vsched.Show"));
	assert_false(vs_ctl_name_is_qualified("org.-vsched.Show"));
	assert_false(vs_ctl_name_is_qualified("org.vsched-.Show"));
	assert_false(vs_ctl_name_is_qualified("1org.vsched.Show"));
	assert_false(vs_ctl_name_is_qualified("org.vsched.Sh_w"));
	assert_false(vs_ctl_name_is_qualified("org.vsched."));
	assert_false(vs_ctl_name_is_qualified(""));
}

static void test_params(void **state)
{
	static const char *const known[] = { "domain", NULL };
	const char *text = "{\"method\": \"org.vsched.Show\", \"parameters\": "
			   "{\"domain\": \"db1\", \"id\": 3}}";
	g_autoptr(VsCtlReply) none = NULL;
	g_autoptr(VsCtlRequest) req = vs_ctl_request_decode(text, strlen(text), &none);
	const char *value = NULL;

	assert_non_null(req);
	assert_string_equal(req->method, "org.vsched.Show");
	assert_true(vs_ctl_param_string(req, "domain", &value, &none));
	assert_string_equal(value, "db1");

	{
		g_autoptr(VsCtlReply) err = NULL;
		value = "untouched";
		assert_false(vs_ctl_param_string(req, "id", &value, &err));
		assert_string_equal(value, "untouched");
		assert_string_equal(err->error, VS_CTL_ERROR_INVALID_PARAMETER);
		assert_string_equal(json_object_get_string_member(err->parameters, "parameter"), "id");
	}
	{
		g_autoptr(VsCtlReply) err = NULL;
		assert_false(vs_ctl_param_string(req, "missing", &value, &err));
		assert_string_equal(json_object_get_string_member(err->parameters, "parameter"),
				    "missing");
	}
	{
		g_autoptr(VsCtlReply) err = NULL;
		assert_false(vs_ctl_param_check_known(req, known, &err));
		assert_string_equal(json_object_get_string_member(err->parameters, "parameter"), "id");
	}
	{
		g_autoptr(VsCtlReply) err = NULL;
		assert_false(vs_ctl_param_check_known(req, NULL, &err));
		assert_non_null(err);
	}
	assert_null(none);
}

static void test_params_optional(void **state)
{
	const char *text = "{\"method\": \"org.vsched.SetOverride\", \"parameters\": "
			   "{\"key\": null, \"name\": \"Weight\", \"n\": 7, \"zero\": 0, \"neg\": -1,"
			   " \"half\": 0.5, \"nul\": null, \"list\": [\"a\", \"b\"], \"empty\": [],"
			   " \"mixed\": [\"a\", 1], \"word\": \"a\"}}";
	g_autoptr(VsCtlReply) none = NULL;
	g_autoptr(VsCtlRequest) req = vs_ctl_request_decode(text, strlen(text), &none);
	g_auto(GStrv) strv = NULL;
	const char *value = "x";
	gint64 n = 0;

	assert_non_null(req);
	/* Optional strings: absent and null give NULL. */
	assert_true(vs_ctl_param_string_opt(req, "key", &value, &none));
	assert_null(value);
	value = "x";
	assert_true(vs_ctl_param_string_opt(req, "absent", &value, &none));
	assert_null(value);
	assert_true(vs_ctl_param_string_opt(req, "name", &value, &none));
	assert_string_equal(value, "Weight");
	/* Optional non-negative integers. */
	assert_true(vs_ctl_param_uint_opt(req, "n", 5, &n, &none));
	assert_int_equal(n, 7);
	assert_true(vs_ctl_param_uint_opt(req, "zero", 5, &n, &none));
	assert_int_equal(n, 0);
	assert_true(vs_ctl_param_uint_opt(req, "absent", 5, &n, &none));
	assert_int_equal(n, 5);
	assert_true(vs_ctl_param_uint_opt(req, "nul", 6, &n, &none));
	assert_int_equal(n, 6);
	/* Arrays of strings. */
	assert_true(vs_ctl_param_strv(req, "list", &strv, &none));
	assert_int_equal(g_strv_length(strv), 2);
	assert_string_equal(strv[1], "b");
	assert_null(none);

	{
		static const char *const bad_ints[] = { "neg", "half", "name", "list" };
		static const char *const bad_lists[] = { "empty", "mixed", "word", "absent", "nul" };

		for (size_t i = 0; i < G_N_ELEMENTS(bad_ints); i++) {
			g_autoptr(VsCtlReply) err = NULL;

			n = 42;
			assert_false(vs_ctl_param_uint_opt(req, bad_ints[i], 0, &n, &err));
			assert_int_equal(n, 42);
			assert_string_equal(json_object_get_string_member(err->parameters, "parameter"),
					    bad_ints[i]);
		}
		for (size_t i = 0; i < G_N_ELEMENTS(bad_lists); i++) {
			g_autoptr(VsCtlReply) err = NULL;
			char **untouched = (char **)bad_lists;
			char **got = untouched;

			assert_false(vs_ctl_param_strv(req, bad_lists[i], &got, &err));
			assert_ptr_equal(got, untouched);
			assert_string_equal(json_object_get_string_member(err->parameters, "parameter"),
					    bad_lists[i]);
		}
	}
	{
		g_autoptr(VsCtlReply) err = NULL;

		value = "untouched";
		assert_false(vs_ctl_param_string_opt(req, "n", &value, &err));
		assert_string_equal(value, "untouched");
		assert_string_equal(json_object_get_string_member(err->parameters, "parameter"), "n");
	}
}

static void test_encode(void **state)
{
	g_autoptr(JsonObject) params = json_object_new();
	g_autoptr(VsCtlReply) ok = NULL;
	g_autoptr(VsCtlReply) err = vs_ctl_reply_new_error_string(VS_CTL_ERROR_NO_SUCH_DOMAIN,
								   "domain", "d\"b\n9");
	g_autofree char *a = NULL, *b = NULL, *c = NULL;
	gsize len;

	json_object_set_int_member(params, "n", 3);
	ok = vs_ctl_reply_new(json_object_ref(params));
	a = vs_ctl_reply_encode(ok, &len);
	assert_int_equal(len, strlen(a) + 1);
	assert_int_equal(a[len - 1], '\0');
	assert_string_equal(a, "{\"parameters\":{\"n\":3}}");

	b = vs_ctl_reply_encode(err, &len);
	assert_string_equal(b, "{\"error\":\"org.vsched.NoSuchDomain\","
			       "\"parameters\":{\"domain\":\"d\\\"b\\n9\"}}");
	assert_int_equal(len, strlen(b) + 1);

	c = vs_ctl_request_encode("org.vsched.Show", params, &len);
	assert_string_equal(c, "{\"method\":\"org.vsched.Show\",\"parameters\":{\"n\":3}}");
	assert_int_equal(len, strlen(c) + 1);
}

static void test_reply_roundtrip(void **state)
{
	g_autoptr(VsCtlReply) err = vs_ctl_reply_invalid_parameter("domain");
	g_autoptr(VsCtlReply) back = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	gsize len;

	text = vs_ctl_reply_encode(err, &len);
	back = vs_ctl_reply_decode(text, len - 1, &error);
	assert_null(error);
	assert_string_equal(back->error, VS_CTL_ERROR_INVALID_PARAMETER);
	assert_string_equal(json_object_get_string_member(back->parameters, "parameter"), "domain");
	g_clear_pointer(&back, vs_ctl_reply_free);

	back = vs_ctl_reply_decode("{}", 2, &error);
	assert_non_null(back);
	assert_null(back->error);
	assert_int_equal(json_object_get_size(back->parameters), 0);
	g_clear_pointer(&back, vs_ctl_reply_free);

	back = vs_ctl_reply_decode("{\"error\": 3}", 12, &error);
	assert_null(back);
	assert_true(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
	g_clear_error(&error);
	back = vs_ctl_reply_decode("{\"parameters\": 3}", 17, &error);
	assert_null(back);
	assert_non_null(strstr(error->message, "parameters"));
	g_clear_error(&error);
	back = vs_ctl_reply_decode("nope", 4, &error);
	assert_null(back);
	assert_non_null(strstr(error->message, "malformed reply"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_split),
		cmocka_unit_test(test_reader_several),
		cmocka_unit_test(test_reader_nul_only),
		cmocka_unit_test(test_reader_over_limit),
		cmocka_unit_test(test_reader_over_limit_complete),
		cmocka_unit_test(test_request_rejects),
		cmocka_unit_test(test_request_accepts),
		cmocka_unit_test(test_qualified_names),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_params_optional),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_reply_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
