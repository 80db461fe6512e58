/*
 * redact_rules.h - the operator's extra redaction rules (`redact_rule =
 * KIND PATTERN` in the agent config): PCRE2 patterns (8-bit, no UTF mode:
 * log lines are bytes), compiled once at start within fixed bounds, run
 * with JIT where the system allows it, every match bounded by PCRE2's
 * match, depth and heap limits. One bad config line cannot take an agent
 * down: a pattern that is too long, nests too deep, needs too much memory
 * to compile, matches the empty string or backtracks without end on test
 * lines is refused at start with the reason; a line on which a rule still
 * reaches a limit loses the rest of its text from there to a marker (fail
 * closed: nothing the rule might have hidden goes out). A line costs at
 * most REDACT_RULE_LINE_LIMIT backtracks per rule whatever its length,
 * and the rules together let it grow at most REDACT_RULE_GROWTH-fold.
 * Internal to the redactor (redact.c).
 */
#ifndef SP_REDACT_RULES_H
#define SP_REDACT_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

#define REDACT_RULE_MAX_PATTERN 256	   /* bytes of one pattern */
#define REDACT_RULE_MAX_NEST 32		   /* nested parentheses */
#define REDACT_RULE_COMPILE_MEM (1u << 20) /* bytes compiling may take */
#define REDACT_RULE_JIT_MEM (8u << 20)	   /* ... and JIT compiling */
#define REDACT_RULE_MATCH_LIMIT 1000000	   /* backtracks from one position */
#define REDACT_RULE_LINE_LIMIT 10000000	   /* ... from all of a line's */
#define REDACT_RULE_PROBE_LINE 8192	   /* test lines: limits of a line */
#define REDACT_RULE_GROWTH 8		   /* a line's growth through rules */
#define REDACT_RULE_GROWTH_SLACK 1024	   /* ... plus this many bytes */
#define REDACT_RULE_DEPTH_LIMIT 1000	   /* nested backtracking frames */
#define REDACT_RULE_HEAP_KIB 1024	   /* heap of one interpreted match */

struct redact_rule;

/*
 * Compiles pattern (NUL-terminated) within the bounds above. Returns the
 * rule, or NULL with a one-line reason in err ("bad pattern at offset 7:
 * missing closing parenthesis", "pattern needs more than 1048576 bytes to
 * compile", "pattern matches the empty string", "pattern backtracks past
 * the match limit on a test line (...)"): the test lines must get through
 * within the limits of a line of REDACT_RULE_PROBE_LINE bytes. "(*UTF)"
 * is refused (lines are bytes). The caller owns the rule.
 */
struct redact_rule *redact_rule_compile(const char *pattern, char *err,
					size_t errlen);
/* NULL is fine. */
void redact_rule_free(struct redact_rule *x);
/* Whether the rule runs as JIT-compiled code (false where the system
 * forbids writable executable memory: the interpreter is used). */
bool redact_rule_jit(const struct redact_rule *x);

/*
 * Replaces each match of x in out->buf[base..out->len) by "[REDACTED:" kind
 * "]"; tmp is scratch (its content is lost). Returns the replacements.
 * Each start position of the text may take its share of
 * REDACT_RULE_LINE_LIMIT (at most REDACT_RULE_MATCH_LIMIT). When a match
 * reaches a limit, or replacing it would make the text from base longer
 * than max bytes, the text from where that search started to the end is
 * replaced as one match and *limited is set.
 */
size_t redact_rule_apply(const struct redact_rule *x, const char *kind,
			 struct strbuf *out, size_t base, size_t max,
			 struct strbuf *tmp, bool *limited);

#endif
