/* test_json.c - the JSON writer and the strict parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static void test_writer(void **s)
{
	struct strbuf sb = STRBUF_INIT;
	struct jw w;
	(void)s;
	jw_init(&w, &sb);
	jw_obj_open(&w, NULL);
	jw_bool(&w, "ok", true);
	jw_str(&w, "s", "a\"b\\c\n\x01");
	jw_int(&w, "i", -5);
	jw_uint(&w, "u", 18446744073709551615ULL);
	jw_null(&w, "n");
	jw_arr_open(&w, "a");
	jw_str(&w, NULL, "x");
	jw_obj_open(&w, NULL);
	jw_obj_close(&w);
	jw_arr_close(&w);
	jw_strn(&w, "bad", "\xff\xfeok", 4);
	jw_obj_close(&w);
	assert_string_equal(sb.buf,
			    "{\"ok\":true,\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"i\":-5,"
			    "\"u\":18446744073709551615,\"n\":null,"
			    "\"a\":[\"x\",{}],\"bad\":\"\xef\xbf\xbd\xef\xbf\xbdok\"}");
	strbuf_release(&sb);
}

/* Numbers at their limits, and strings whose plain runs are cut by every
 * kind of byte that is not written as it is. */
static void test_writer_edges(void **s)
{
	struct strbuf sb = STRBUF_INIT;
	struct jw w;
	(void)s;
	jw_init(&w, &sb);
	jw_arr_open(&w, NULL);
	jw_int(&w, NULL, INT64_MIN);
	jw_int(&w, NULL, INT64_MAX);
	jw_int(&w, NULL, 0);
	jw_uint(&w, NULL, 0);
	jw_uint(&w, NULL, 10);
	jw_str(&w, NULL, "");
	jw_str(&w, NULL, "plain text, a long run of it");
	jw_str(&w, NULL, "ab\"cd\\ef\tgh\x7fij\xc3\xa9kl\xc3mn\x1f");
	jw_str(&w, NULL, "\"\"");
	jw_arr_close(&w);
	assert_string_equal(sb.buf,
			    "[-9223372036854775808,9223372036854775807,0,0,10,"
			    "\"\",\"plain text, a long run of it\","
			    "\"ab\\\"cd\\\\ef\\tgh\x7fij\xc3\xa9kl\xef\xbf\xbdmn"
			    "\\u001f\",\"\\\"\\\"\"]");
	strbuf_release(&sb);
}

static void round_trip(const char *in, const char *out)
{
	char err[128];
	struct strbuf sb = STRBUF_INIT;
	struct jw w;
	struct json *j = json_parse(in, strlen(in), err, sizeof(err));
	if (!j)
		fail_msg("parse '%s': %s", in, err);
	jw_init(&w, &sb);
	json_write(&w, NULL, j);
	assert_string_equal(sb.buf, out);
	json_free(j);
	strbuf_release(&sb);
}

static void test_parse(void **s)
{
	char err[128];
	struct json *j;
	(void)s;
	round_trip(" {\"a\" : [1, -2.5e3, true, false, null, \"x\"]} ",
		   "{\"a\":[1,-2.5e3,true,false,null,\"x\"]}");
	round_trip("\"\\u00e9\\ud83d\\ude00\\/\"", "\"\xc3\xa9\xf0\x9f\x98\x80/\"");
	round_trip("[]", "[]");
	static const char doc[] = "{\"ok\":true,\"m\":\"hi\",\"k\":{\"z\":1}}";
	j = json_parse(doc, strlen(doc), err, sizeof(err));
	assert_non_null(j);
	assert_true(json_get_bool(j, "ok"));
	assert_string_equal(json_get_str(j, "m"), "hi");
	assert_null(json_get_str(j, "k"));
	assert_string_equal(j->keys[2], "k"); /* document order kept */
	assert_null(json_get(j, "nope"));
	json_free(j);
}

static void test_errors(void **s)
{
	static const char *bad[] = {
		"", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "\"abc",
		"\"\x01\"", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "tru",
		"nul", "[1 2]", "{\"a\" 1}", "{1:2}", "1 2", "\"\xc0\xaf\"",
		"[\"\xed\xa0\x80\"]",
	};
	char err[128];
	(void)s;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json *j = json_parse(bad[i], strlen(bad[i]), err,
					    sizeof(err));
		if (j)
			fail_msg("'%s' was accepted", bad[i]);
		assert_true(strlen(err) > 0);
	}
}

static void test_deep_and_random(void **s)
{
	char *deep = malloc(20001), err[128], buf[256];
	(void)s;
	memset(deep, '[', 10000);
	memset(deep + 10000, ']', 10000);
	assert_null(json_parse(deep, 20000, err, sizeof(err)));
	assert_non_null(strstr(err, "deep"));
	free(deep);
	srand(99);
	for (int i = 0; i < 100000; i++) {
		static const char alphabet[] = "{}[]\":,\\ 0123456789.eE-+truefalsn\x01\xff";
		size_t n = (size_t)(rand() % (int)sizeof(buf));
		for (size_t k = 0; k < n; k++)
			buf[k] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
		json_free(json_parse(buf, n, err, sizeof(err)));
	}
}

/* Keys are escaped like values: control characters, quotes and bad UTF-8
 * in a key (a name taken from a client) still give JSON our own parser
 * reads back, with the same key (bad bytes as U+FFFD). */
static void test_keys_escaped_like_values(void **s)
{
	static const char *const keys[][2] = {
		{ "plain", "plain" },
		{ "new\nline\ttab\rcr", "new\nline\ttab\rcr" },
		{ "\x01\x02\x1b[31m\x1f\x7f", "\x01\x02\x1b[31m\x1f\x7f" },
		{ "q\"b\\s/", "q\"b\\s/" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "bad\xff", "bad\xef\xbf\xbd" },
		{ "cut\xe2\x82", "cut\xef\xbf\xbd\xef\xbf\xbd" },
		{ "long\xc0\xaf", "long\xef\xbf\xbd\xef\xbf\xbd" },
		{ "sur\xed\xa0\x80",
		  "sur\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	};
	const size_t n = sizeof(keys) / sizeof(keys[0]);
	struct strbuf sb = STRBUF_INIT, again = STRBUF_INIT;
	struct json *j, *k;
	struct jw w;
	char err[128];
	(void)s;

	jw_init(&w, &sb);
	jw_obj_open(&w, NULL);
	for (size_t i = 0; i < n; i++)
		jw_int(&w, keys[i][0], (int64_t)i);
	jw_obj_open(&w, keys[1][0]);
	jw_arr_open(&w, keys[5][0]);
	jw_arr_close(&w);
	jw_obj_close(&w);
	jw_obj_close(&w);
	assert_null(memchr(sb.buf, '\n', sb.len));
	j = json_parse(sb.buf, sb.len, err, sizeof(err));
	if (!j)
		fail_msg("%s: %s", err, sb.buf);
	assert_int_equal(j->n, n + 1);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(j->keys[i], keys[i][1]);
		assert_int_equal(atoi(j->items[i]->str), (int)i);
	}
	assert_string_equal(j->keys[n], keys[1][1]);
	assert_string_equal(j->items[n]->keys[0], keys[5][1]);
	/* and back again through the writer: the same bytes */
	jw_init(&w, &again);
	json_write(&w, NULL, j);
	k = json_parse(again.buf, again.len, err, sizeof(err));
	assert_non_null(k);
	assert_int_equal(again.len, sb.len);
	assert_memory_equal(again.buf, sb.buf, sb.len);
	json_free(k);
	json_free(j);
	strbuf_release(&again);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_writer_edges),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_deep_and_random),
		cmocka_unit_test(test_keys_escaped_like_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
