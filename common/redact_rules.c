/*
 * redact_rules.c - operator rules as bounded PCRE2 patterns
 * (redact_rules.h).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "redact_rules.h"

#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact_match.h"
#include "util.h"

/* Memory PCRE2 takes for one rule, counted against a cap: a pattern whose
 * compilation would need more is refused instead of exhausting memory. */
struct mem_budget {
	size_t used, cap;
};

struct redact_rule {
	struct mem_budget mem; /* first: the allocator's data outlives code */
	pcre2_general_context *gctx;
	pcre2_code *code;
	bool jit;
};

/* Each block starts with its size, so that freeing gives it back. */
#define HDR sizeof(max_align_t)

static void *budget_malloc(size_t n, void *data)
{
	struct mem_budget *m = data;
	unsigned char *p;

	if (n > m->cap - m->used || !(p = malloc(HDR + n)))
		return NULL;
	m->used += n;
	memcpy(p, &n, sizeof(n));
	return p + HDR;
}

static void budget_free(void *block, void *data)
{
	struct mem_budget *m = data;
	unsigned char *p = block;
	size_t n;

	if (!p)
		return;
	p -= HDR;
	memcpy(&n, p, sizeof(n));
	m->used -= n;
	free(p);
}

void redact_rule_free(struct redact_rule *x)
{
	if (!x)
		return;
	pcre2_code_free(x->code);
	pcre2_general_context_free(x->gctx);
	free(x);
}

bool redact_rule_jit(const struct redact_rule *x)
{
	return x->jit;
}

/*
 * The limits for matching a line of len bytes; NULL on no memory. PCRE2
 * counts its match limit afresh at each start position, so one search of
 * a long line could take the limit as many times as the line has bytes:
 * each position gets its share of REDACT_RULE_LINE_LIMIT instead. (A
 * context of the line's own, from malloc: a rule is shared read-only.)
 */
static pcre2_match_context *line_limits(size_t len)
{
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	size_t per = REDACT_RULE_LINE_LIMIT / (len + 1);

	if (!mc)
		return NULL;
	if (per > REDACT_RULE_MATCH_LIMIT)
		per = REDACT_RULE_MATCH_LIMIT;
	pcre2_set_match_limit(mc, per ? (uint32_t)per : 1);
	pcre2_set_depth_limit(mc, REDACT_RULE_DEPTH_LIMIT);
	pcre2_set_heap_limit(mc, REDACT_RULE_HEAP_KIB);
	return mc;
}

enum find { F_NONE, F_MATCH, F_LIMIT };

/* The first match in text[from..len): [*ms, *me). */
static enum find find(const struct redact_rule *x, pcre2_match_context *mc,
		      pcre2_match_data *md, const char *text, size_t len,
		      size_t from, size_t *ms, size_t *me)
{
	int rc = pcre2_match(x->code, (PCRE2_SPTR)text, len, from, 0, md, mc);
	PCRE2_SIZE *ov;

	if (rc == PCRE2_ERROR_NOMATCH)
		return F_NONE;
	if (rc < 0)
		return F_LIMIT; /* a limit, or no memory: fail closed */
	ov = pcre2_get_ovector_pointer(md);
	*ms = ov[0];
	*me = ov[1] > ov[0] ? ov[1] : ov[0];
	return F_MATCH;
}

/* Lines a rule must get through within the limits to be taken: runs of
 * the characters that patterns repeat, each spoilt at its end so that a
 * pattern anchored there must try every way back. */
static const char *const probe_units[] = {
	"a", "A", "0", " ", "a ", "a0", "a-", "a.", "a,", "aA0_-/.=:@ ",
};
#define PROBE_LEN 256

static int probe(const struct redact_rule *x, pcre2_match_context *mc,
		 pcre2_match_data *md, char *err, size_t errlen)
{
	char line[PROBE_LEN + 2];
	size_t ms, me;

	for (size_t u = 0; u < ARRAY_SIZE(probe_units); u++) {
		size_t ul = strlen(probe_units[u]), n = 0;
		while (n + ul <= PROBE_LEN) {
			memcpy(line + n, probe_units[u], ul);
			n += ul;
		}
		line[n++] = '\x01';
		for (size_t from = 0; from < n;) {
			enum find f = find(x, mc, md, line, n, from, &ms, &me);
			if (f == F_NONE)
				break;
			if (f == F_LIMIT) {
				snprintf(err, errlen,
					 "pattern backtracks past the match "
					 "limit on a test line ('%s' x %zu)",
					 probe_units[u], PROBE_LEN / ul);
				return -1;
			}
			from = me > ms ? me : ms + 1;
		}
	}
	return 0;
}

/* The compile context with the bounds of redact_rules.h; -1 on no
 * memory. */
static int make_contexts(struct redact_rule *x, pcre2_compile_context **cc)
{
	x->mem.cap = REDACT_RULE_COMPILE_MEM;
	x->gctx = pcre2_general_context_create(budget_malloc, budget_free,
					       &x->mem);
	*cc = x->gctx ? pcre2_compile_context_create(x->gctx) : NULL;
	if (!*cc)
		return -1;
	pcre2_set_max_pattern_length(*cc, REDACT_RULE_MAX_PATTERN);
	pcre2_set_parens_nest_limit(*cc, REDACT_RULE_MAX_NEST);
	return 0;
}

/* Matching what redact_rule_compile took: not the empty string, and
 * the test lines within the limits a line of REDACT_RULE_PROBE_LINE
 * bytes has. 0, or -1 with the reason in err. */
static int check_matching(const struct redact_rule *x, char *err, size_t errlen)
{
	pcre2_match_context *mc = line_limits(REDACT_RULE_PROBE_LINE);
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	int rc = -1;

	if (!mc || !md)
		snprintf(err, errlen, "out of memory");
	/* Such a rule would match between any two bytes. */
	else if (pcre2_match(x->code, (PCRE2_SPTR) "", 0, 0, 0, md, mc) >= 0)
		snprintf(err, errlen, "pattern matches the empty string");
	else
		rc = probe(x, mc, md, err, errlen);
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
	return rc;
}

static struct redact_rule *fail(struct redact_rule *x, char *err, size_t errlen,
				const char *why)
{
	if (why)
		snprintf(err, errlen, "%s", why);
	redact_rule_free(x);
	return NULL;
}

struct redact_rule *redact_rule_compile(const char *pattern, char *err,
					size_t errlen)
{
	struct redact_rule *x = xcalloc(1, sizeof(*x));
	pcre2_compile_context *cc = NULL;
	PCRE2_UCHAR why[160];
	PCRE2_SIZE off;
	int code, rc;

	if (strlen(pattern) > REDACT_RULE_MAX_PATTERN) {
		snprintf(err, errlen, "pattern longer than %d bytes",
			 REDACT_RULE_MAX_PATTERN);
		return fail(x, err, errlen, NULL);
	}
	rc = make_contexts(x, &cc);
	if (!rc)
		x->code = pcre2_compile((PCRE2_SPTR)pattern,
					PCRE2_ZERO_TERMINATED, PCRE2_NEVER_UTF,
					&code, &off, cc);
	pcre2_compile_context_free(cc);
	if (rc)
		return fail(x, err, errlen, "out of memory");
	if (!x->code) {
		if (code == PCRE2_ERROR_HEAP_FAILED) {
			snprintf(err, errlen,
				 "pattern needs more than %u bytes to compile",
				 REDACT_RULE_COMPILE_MEM);
			return fail(x, err, errlen, NULL);
		}
		pcre2_get_error_message(code, why, sizeof(why));
		snprintf(err, errlen, "bad pattern at offset %zu: %s",
			 (size_t)off, (const char *)why);
		return fail(x, err, errlen, NULL);
	}
	/* JIT where allowed (not under MemoryDenyWriteExecute, say): the
	 * interpreter gives the same answers, slower. */
	x->mem.cap = REDACT_RULE_JIT_MEM;
	x->jit = pcre2_jit_compile(x->code, PCRE2_JIT_COMPLETE) == 0;
	return check_matching(x, err, errlen) ? fail(x, err, errlen, NULL) : x;
}

static void add_mark(struct strbuf *sb, const char *kind)
{
	strbuf_add(sb, REDACT_MARK, REDACT_MARK_LEN);
	strbuf_addstr(sb, kind);
	strbuf_addch(sb, ']');
}

size_t redact_rule_apply(const struct redact_rule *x, const char *kind,
			 struct strbuf *out, size_t base, size_t max,
			 struct strbuf *tmp, bool *limited)
{
	const char *text = out->buf + base;
	size_t len = out->len - base, pos = 0, copied = 0, n = 0, ms, me;
	size_t mark = REDACT_MARK_LEN + strlen(kind) + 1;
	pcre2_match_context *mc = line_limits(len);
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	enum find f = F_LIMIT;

	strbuf_reset(tmp);
	while (mc && md && pos <= len &&
	       (f = find(x, mc, md, text, len, pos, &ms, &me)) == F_MATCH) {
		if (me == ms || ms < pos) { /* e.g. \b: step on */
			pos = (ms < pos ? pos : ms) + 1;
			continue;
		}
		/* the line must not grow without end (rule after rule) */
		if (tmp->len + (ms - copied) + mark + (len - me) > max) {
			f = F_LIMIT;
			break;
		}
		strbuf_add(tmp, text + copied, ms - copied);
		add_mark(tmp, kind);
		copied = pos = me;
		n++;
	}
	if (f == F_LIMIT && pos < len) {
		/* the rule could not tell: nothing from here goes out */
		strbuf_add(tmp, text + copied, pos - copied);
		add_mark(tmp, kind);
		copied = len;
		n++;
		*limited = true;
	}
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
	if (n) {
		strbuf_add(tmp, text + copied, len - copied);
		strbuf_setlen(out, base);
		strbuf_add(out, tmp->buf, tmp->len);
	}
	return n;
}
