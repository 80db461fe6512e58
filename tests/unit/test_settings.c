/* test_settings.c - a config printed by settings_print (--print-config)
 * reads back to the same settings, and a token is never printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_config.h"
#include "config.h"
#include "settings.h"
#include "util.h"

struct cfg {
	char path[64];
	char empty[16];
	char enroll_token[64];
	int64_t slots;
	char rules[256];
};

static const struct setting tbl[] = {
	SETTING_STR(struct cfg, path, "where it is"),
	SETTING_STR(struct cfg, empty, "nothing"),
	SETTING_STR(struct cfg, enroll_token, "a secret"),
	SETTING_INT(struct cfg, slots, -5, 100, "how many"),
	SETTING_LIST(struct cfg, rules, "rule", NULL, "more rules"),
};

static char *print(const struct cfg *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	settings_print(tbl, ARRAY_SIZE(tbl), c, f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void set(struct cfg *c, const char *key, const char *value)
{
	char err[256];
	assert_int_equal(settings_set(tbl, ARRAY_SIZE(tbl), c, key, value, err,
				      sizeof(err)),
			 0);
}

static void test_round_trip(void **state)
{
	struct cfg a, b;
	char path[] = "/tmp/sp-testsettings.XXXXXX", err[256];
	char *text;
	int fd;
	(void)state;

	memset(&a, 0, sizeof(a));
	set(&a, "path", " /srv/a \"b\" \\c # not a comment ");
	set(&a, "enroll_token", "s3cr3t-token-value");
	set(&a, "slots", "-5");
	set(&a, "rule", "EMP-[0-9]{6}");
	set(&a, "rule", "x\\\\y \"q\" #z");
	text = print(&a);
	assert_non_null(strstr(text, "# empty = (not set)\n"));
	assert_non_null(strstr(text, "# enroll_token = (set; not shown)\n"));
	assert_null(strstr(text, "s3cr3t"));
	assert_non_null(strstr(text, "# how many (-5 to 100)\nslots = -5\n"));
	assert_true(!strncmp(text, "# where it is\npath = ", 21));
	assert_non_null(strstr(text, "\n\n# nothing\n# empty = (not set)\n"));

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, text, strlen(text)), 0);
	close(fd);
	memset(&b, 0, sizeof(b));
	assert_int_equal(settings_load(tbl, ARRAY_SIZE(tbl), &b, path, err,
				       sizeof(err)),
			 0);
	unlink(path);
	assert_string_equal(b.path, a.path);
	assert_string_equal(b.empty, "");
	assert_string_equal(b.enroll_token, ""); /* never written out */
	assert_int_equal(b.slots, -5);
	assert_string_equal(b.rules, a.rules);
	free(text);
}

/* Every setting of both daemons says what it does, and every flag names a
 * setting of its table. */
static void test_every_setting_documented(void **state)
{
	struct settings_doc docs[2];
	(void)state;

	config_describe(&docs[0]);
	agent_config_describe(&docs[1]);
	for (size_t d = 0; d < 2; d++) {
		assert_true(docs[d].n > 10);
		for (size_t i = 0; i < docs[d].n; i++) {
			const char *doc = docs[d].tbl[i].doc;
			if (!doc || strlen(doc) < 10)
				fail_msg("%s: setting '%s' has no doc",
					 docs[d].prog, docs[d].tbl[i].key);
		}
		for (size_t f = 0; f < docs[d].nflags; f++) {
			size_t i = 0;
			while (i < docs[d].n &&
			       strcmp(docs[d].tbl[i].key, docs[d].flags[f].key))
				i++;
			if (i == docs[d].n)
				fail_msg("%s: flag %s sets no setting",
					 docs[d].prog, docs[d].flags[f].flag);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_setting_documented),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
