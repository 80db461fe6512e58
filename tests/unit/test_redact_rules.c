/* test_redact_rules.c - what an operator's extra rule may cost, through
 * the real redactor: a line's work is bounded whatever its length, the
 * test lines at start get the limits of a long line, rules cannot make a
 * line grow without end, and UTF mode is refused (lines are bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "redact_match.h"
#include "redact_rules.h"
#include "redact_testlib.h"
#include "strbuf.h"
#include "util.h"

/* n copies of unit, then tail. */
static void repeat(struct strbuf *sb, const char *unit, size_t n,
		   const char *tail)
{
	strbuf_reset(sb);
	while (n--)
		strbuf_addstr(sb, unit);
	strbuf_addstr(sb, tail);
}

/* Finding (fuzz_redact without its regex filter): PCRE2 counts its match
 * limit afresh at each start position, so a rule the test lines pass
 * (they hold no 'c') could spend the limit at every position of a long
 * line: seconds a line. Each position now gets a share of the line's
 * limit: the line reaches it, goes as one marker, and the next line is
 * matched normally. */
static void test_line_limit(void **s)
{
	struct redactor *r = redactor_new();
	struct redact_stream st = REDACT_STREAM_INIT;
	struct strbuf line = STRBUF_INIT, out = STRBUF_INIT;
	(void)s;

	add_rule(r, "slow (a|a)*?[bd]c");
	repeat(&line, "aaaaaaaaaaaaaaaaa-", 220, "c");
	assert_int_equal(redact_line(r, &st, line.buf, line.len, &out), 1);
	assert_string_equal(out.buf, "[REDACTED:slow]");
	assert_int_equal(st.rule_limit_hits, 1);
	assert_int_equal(feed(r, &st, "aab abc ok", &out), 1);
	assert_string_equal(out.buf, "aab [REDACTED:slow] ok");
	assert_int_equal(st.rule_limit_hits, 1);
	strbuf_release(&line);
	strbuf_release(&out);
	redactor_free(r);
}

/* The test lines at start must get through within the share of each
 * position on a line of REDACT_RULE_PROBE_LINE bytes, not the whole
 * match limit: a rule that would fail closed on every long line is
 * refused with its reason instead. Ordinary rules still pass. */
static void test_probe_line_limit(void **s)
{
	struct redactor *r = redactor_new();
	(void)s;

	assert_refused(r, "k a*a*a*[bd]", "backtracks past the match limit");
	assert_refused(r, "k \\d*\\d*\\d*[.,]",
		       "backtracks past the match limit");
	add_rule(r, "employee_id EMP-[0-9]{6}");
	add_rule(r, "ticket (JIRA|SNOW)-[0-9]+");
	add_rule(r, "kv (?i)secret\\s*[:=]\\s*\\S+");
	add_rule(r, "b64 [A-Za-z0-9+/]{40}");
	assert_redacts_to(r, "EMP-123456 JIRA-7 Secret: abc",
			  "[REDACTED:employee_id] [REDACTED:ticket] "
			  "[REDACTED:kv]");
	redactor_free(r);
}

/* Finding: rules that match any byte, one after another, replaced each
 * marker's bytes by markers again: a line of 1 KiB grew to 20 MB through
 * four rules (twelve-fold each). The rules together now let a line grow
 * at most REDACT_RULE_GROWTH-fold plus REDACT_RULE_GROWTH_SLACK; the rest
 * goes as one marker. */
static void test_growth_bounded(void **s)
{
	struct redactor *r = redactor_new();
	struct redact_stream st = REDACT_STREAM_INIT;
	struct strbuf line = STRBUF_INIT, out = STRBUF_INIT;
	(void)s;

	add_rule(r, "a .");
	add_rule(r, "b .");
	add_rule(r, "c .");
	add_rule(r, "d .");
	repeat(&line, "x", 1000, "");
	redact_line(r, &st, line.buf, line.len, &out);
	if (out.len > 1000 * REDACT_RULE_GROWTH + REDACT_RULE_GROWTH_SLACK +
			      4 * (REDACT_MARK_LEN + 2))
		fail_msg("a line of 1000 bytes grew to %zu", out.len);
	assert_null(memchr(out.buf, 'x', out.len));
	assert_true(st.rule_limit_hits >= 1);

	/* one rule with its markers well within the bound is untouched */
	redactor_free(r);
	r = redactor_new();
	add_rule(r, "k [0-9]{6}");
	repeat(&line, "123456 ", 100, "");
	strbuf_reset(&out);
	assert_int_equal(redact_line(r, NULL, line.buf, line.len, &out), 100);
	assert_int_equal(out.len, 100 * strlen("[REDACTED:k] "));
	strbuf_release(&line);
	strbuf_release(&out);
	redactor_free(r);
}

/* Lines are bytes: a pattern that turns UTF mode on would fail on every
 * line that is not valid UTF-8 (and redact it whole). */
static void test_utf_refused(void **s)
{
	struct redactor *r = redactor_new();
	(void)s;

	assert_refused(r, "k (*UTF)caf\xc3\xa9", "UTF is disabled");
	add_rule(r, "k caf\xc3\xa9");
	assert_redacts_to(r, "\xff caf\xc3\xa9 \xfe", "\xff [REDACTED:k] \xfe");
	redactor_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_probe_line_limit),
		cmocka_unit_test(test_growth_bounded),
		cmocka_unit_test(test_utf_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
