/* test_parse.c - command-line words, config files, numbers, money, names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdline.h"
#include "conf.h"
#include "parse.h"
#include "util.h"

static void test_numbers(void **s)
{
	uint64_t u;
	int64_t i;
	char err[128];
	(void)s;
	assert_int_equal(parse_u64("42", 1, 100, &u, err, sizeof(err)), 0);
	assert_int_equal(u, 42);
	assert_int_equal(parse_u64("-3", 0, 9, &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "negative"));
	assert_int_equal(parse_u64("abc", 0, 9, &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a number"));
	assert_int_equal(parse_u64("", 0, 9, &u, err, sizeof(err)), -1);
	assert_int_equal(parse_u64("0x10", 0, 99, &u, err, sizeof(err)), -1);
	assert_int_equal(parse_u64(" 1", 0, 9, &u, err, sizeof(err)), -1);
	assert_int_equal(parse_u64("101", 1, 100, &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "out of range"));
	assert_int_equal(parse_u64("99999999999999999999999", 0, UINT64_MAX,
				   &u, err, sizeof(err)), -1);
	assert_int_equal(parse_i64("-1000", -1000, 1000, &i, err, sizeof(err)),
			 0);
	assert_int_equal(i, -1000);
	assert_int_equal(parse_i64("-1001", -1000, 1000, &i, err, sizeof(err)),
			 -1);
	assert_int_equal(parse_i64("-9223372036854775808", INT64_MIN,
				   INT64_MAX, &i, err, sizeof(err)), 0);
	assert_int_equal(i, INT64_MIN);
}

static void test_money_and_sizes(void **s)
{
	int64_t m;
	uint32_t mb;
	char buf[32], err[128];
	(void)s;
	assert_int_equal(parse_usd("12", &m, err, sizeof(err)), 0);
	assert_int_equal(m, 12000000);
	assert_int_equal(parse_usd("0.000001", &m, err, sizeof(err)), 0);
	assert_int_equal(m, 1);
	assert_int_equal(parse_usd("0.1", &m, err, sizeof(err)), 0);
	assert_int_equal(m, 100000); /* no 0.1 floating point drift */
	assert_int_equal(parse_usd("1.0000001", &m, err, sizeof(err)), -1);
	assert_int_equal(parse_usd("-1", &m, err, sizeof(err)), -1);
	assert_int_equal(parse_usd("1.", &m, err, sizeof(err)), -1);
	assert_int_equal(parse_usd("abc", &m, err, sizeof(err)), -1);
	format_usd(12500000, buf, sizeof(buf));
	assert_string_equal(buf, "12.50");
	format_usd(1, buf, sizeof(buf));
	assert_string_equal(buf, "0.000001");
	format_usd(1234567, buf, sizeof(buf));
	assert_string_equal(buf, "1.234567");
	format_usd(-500000, buf, sizeof(buf));
	assert_string_equal(buf, "-0.50");
	assert_int_equal(parse_gb("4", &mb, err, sizeof(err)), 0);
	assert_int_equal(mb, 4096);
	assert_int_equal(parse_gb("0.5", &mb, err, sizeof(err)), 0);
	assert_int_equal(mb, 512);
	assert_int_equal(parse_gb("0", &mb, err, sizeof(err)), -1);
	assert_int_equal(parse_gb("5000", &mb, err, sizeof(err)), -1);
	assert_int_equal(parse_gb("-1", &mb, err, sizeof(err)), -1);
}

static void test_names(void **s)
{
	char t[64], e[64], j[64], err[128];
	(void)s;
	assert_true(name_valid("acme"));
	assert_true(name_valid("a-b_1"));
	assert_false(name_valid(""));
	assert_false(name_valid("Acme"));
	assert_false(name_valid("-x"));
	assert_false(name_valid("a.b"));
	assert_int_equal(name_reason("a b", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "space"));
	assert_int_equal(name_reason("a/b", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'/'"));
	assert_int_equal(parse_path3("acme/prod/pi", t, e, j, 3, err,
				     sizeof(err)), 0);
	assert_string_equal(t, "acme");
	assert_string_equal(e, "prod");
	assert_string_equal(j, "pi");
	assert_int_equal(parse_path3("acme/prod", t, e, j, 3, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "TENANT/ENV/JOB"));
	assert_int_equal(parse_path3("acme/prod/pi", t, e, j, 2, err,
				     sizeof(err)), -1);
	assert_int_equal(parse_path3("acme//pi", t, e, j, 3, err, sizeof(err)),
			 -1);
}

static void split_join(const char *line, int argc, const char *const *want)
{
	struct cmdline cl, again;
	struct strbuf sb = STRBUF_INIT;
	char err[128];
	assert_int_equal(cmdline_split(line, strlen(line), &cl, err,
				       sizeof(err)), 0);
	assert_int_equal(cl.argc, argc);
	for (int i = 0; i < argc; i++)
		assert_string_equal(cl.argv[i], want[i]);
	cmdline_join(&sb, cl.argc, cl.argv);
	assert_int_equal(cmdline_split(sb.buf, sb.len, &again, err,
				       sizeof(err)), 0);
	assert_int_equal(again.argc, argc);
	for (int i = 0; i < argc; i++)
		assert_string_equal(again.argv[i], want[i]);
	cmdline_release(&cl);
	cmdline_release(&again);
	strbuf_release(&sb);
}

static void test_cmdline(void **s)
{
	static const char *const a[] = { "job", "add", "t/e/j", "--",
					 "--conf", "k=a b", "" };
	static const char *const b[] = { "x\"y", "back\\slash", "tab\there",
					 "nl\nx" };
	struct cmdline cl;
	char err[128];
	(void)s;
	split_join("job add  t/e/j -- --conf \"k=a b\" \"\"\r", 7, a);
	split_join("\"x\\\"y\" \"back\\\\slash\" \"tab\\there\" \"nl\\nx\"", 4,
		   b);
	split_join("   ", 0, NULL);
	assert_int_equal(cmdline_split("a \"b", 4, &cl, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unterminated"));
	assert_int_equal(cmdline_split("a\0b", 3, &cl, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));
	assert_int_equal(cmdline_split("\"\\q\"", 4, &cl, err, sizeof(err)),
			 -1);
}

static int conf_cb(const char *key, const char *value, int lineno, void *ctx,
		   char *err, size_t errlen)
{
	struct strbuf *sb = ctx;
	if (!strcmp(key, "bad")) {
		snprintf(err, errlen, "unknown key '%s'", key);
		return -1;
	}
	strbuf_addf(sb, "%d:%s=%s;", lineno, key, value);
	return 0;
}

static void test_conf(void **s)
{
	char path[] = "/tmp/sp-conf.XXXXXX", err[256];
	struct strbuf got = STRBUF_INIT;
	int fd = mkstemp(path);
	static const char text[] = "# comment\n\n data_dir = /var/x \n"
				   "name = \"a \\\"q\\\" b\"\nempty =\n";
	(void)s;
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, text, sizeof(text) - 1), 0);
	close(fd);
	assert_int_equal(conf_load(path, conf_cb, &got, err, sizeof(err)), 0);
	assert_string_equal(got.buf,
			    "3:data_dir=/var/x;4:name=a \"q\" b;5:empty=;");
	assert_int_equal(write_file_atomic(path, "a = 1\nbad = 2\n", 14, 0600),
			 0);
	assert_int_equal(conf_load(path, conf_cb, &got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: unknown key 'bad'"));
	assert_int_equal(write_file_atomic(path, "novalue\n", 8, 0600), 0);
	assert_int_equal(conf_load(path, conf_cb, &got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: expected 'key = value'"));
	unlink(path);
	assert_int_equal(conf_load(path, conf_cb, &got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open"));
	strbuf_release(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_money_and_sizes),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_conf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
