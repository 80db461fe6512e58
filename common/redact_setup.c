/*
 * redact_setup.c - the redactor's life cycle: built-in kinds and character
 * classes, the operator's extra rules, stream state, and command lines
 * (redact_args).
 */
#include "redact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact_int.h"
#include "redact_rules.h"
#include "util.h"

static const char *const builtin_kinds[REDACT_BUILTIN_KINDS] = {
	[REDACT_AWS_ACCESS_KEY_ID] = "aws_access_key_id",
	[REDACT_AWS_SECRET_ACCESS_KEY] = "aws_secret_access_key",
	[REDACT_AUTHORIZATION] = "authorization",
	[REDACT_BEARER_TOKEN] = "bearer_token",
	[REDACT_URL_PASSWORD] = "url_password",
	[REDACT_PASSWORD] = "password",
	[REDACT_SECRET] = "secret",
	[REDACT_TOKEN] = "token",
	[REDACT_API_KEY] = "api_key",
	[REDACT_SIGNATURE] = "signature",
	[REDACT_PRIVATE_KEY] = "private_key",
	[REDACT_EMAIL] = "email",
	[REDACT_CREDIT_CARD] = "credit_card",
	[REDACT_GITHUB_TOKEN] = "github_token",
	[REDACT_SLACK_TOKEN] = "slack_token",
	[REDACT_STRIPE_KEY] = "stripe_key",
	[REDACT_DATABRICKS_TOKEN] = "databricks_token",
	[REDACT_GOOGLE_API_KEY] = "google_api_key",
	[REDACT_OPENAI_KEY] = "openai_key",
	[REDACT_JWT] = "jwt",
	[REDACT_KERBEROS_KEYTAB] = "kerberos_keytab",
	[REDACT_SSN] = "ssn",
};

static void set_class(unsigned char *cls, const char *chars, unsigned flag)
{
	for (; *chars; chars++)
		cls[(unsigned char)*chars] |= flag;
}

struct redactor *redactor_new(void)
{
	struct redactor *r = xcalloc(1, sizeof(*r));
	int c;

	for (c = 0; c < 256; c++) {
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     redact_is_digit(c);
		if (alnum)
			r->cls[c] |=
				C_ALNUM | C_KEY | C_LOCAL | C_TOK | C_NUMCTX;
		if (redact_is_digit(c))
			r->cls[c] |= C_TRIG;
		if (c < 0x20 && c != '\t')
			r->cls[c] |= C_VEND;
	}
	set_class(r->cls, "=:>@-,_ABbJ", C_TRIG);
	set_class(r->cls, "._-", C_KEY);
	set_class(r->cls, "._%+-", C_LOCAL);
	set_class(r->cls, " \t\"'&;,)[]}<>\\", C_VEND);
	set_class(r->cls, "._~+/=-", C_TOK);
	set_class(r->cls, "_.-", C_NUMCTX);
	for (c = 0; c < REDACT_BUILTIN_KINDS; c++)
		snprintf(r->kinds[c], sizeof(r->kinds[c]), "%s",
			 builtin_kinds[c]);
	r->nkinds = REDACT_BUILTIN_KINDS;
	return r;
}

void redactor_free(struct redactor *r)
{
	size_t i;
	if (!r)
		return;
	for (i = 0; i < r->nrules; i++)
		redact_rule_free(r->rules[i].re);
	free(r);
}

static unsigned kind_id(struct redactor *r, const char *name, size_t n)
{
	unsigned k;
	for (k = 0; k < r->nkinds; k++)
		if (strlen(r->kinds[k]) == n && !memcmp(r->kinds[k], name, n))
			return k;
	memcpy(r->kinds[k], name, n);
	r->kinds[k][n] = '\0';
	r->nkinds++;
	return k;
}

/* KIND: 1-32 of [A-Za-z0-9_.-]. 0, or -1 with the reason in err. */
static int check_kind(const struct redactor *r, const char *kind, size_t klen,
		      char *err, size_t errlen)
{
	size_t i;
	if (!klen) {
		snprintf(err, errlen, "redact rule: missing kind");
		return -1;
	}
	if (klen > REDACT_KIND_MAX_LEN) {
		snprintf(err, errlen, "redact rule: kind longer than %d",
			 REDACT_KIND_MAX_LEN);
		return -1;
	}
	for (i = 0; i < klen; i++) {
		unsigned char c = (unsigned char)kind[i];
		if (!(r->cls[c] & C_ALNUM) && c != '_' && c != '.' &&
		    c != '-') {
			snprintf(err, errlen,
				 "redact rule: bad character in kind '%.*s' "
				 "(use A-Z a-z 0-9 _ . -)",
				 (int)klen, kind);
			return -1;
		}
	}
	return 0;
}

int redact_add_rule(struct redactor *r, const char *spec, char *err,
		    size_t errlen)
{
	struct extra_rule *x;
	const char *kind, *re;
	char why[256];
	size_t klen;

	while (is_blank(*spec))
		spec++;
	kind = spec;
	klen = strcspn(kind, " \t");
	for (re = kind + klen; is_blank(*re); re++)
		;
	if (check_kind(r, kind, klen, err, errlen))
		return -1;
	if (!*re) {
		snprintf(err, errlen, "redact rule '%.*s': missing pattern",
			 (int)klen, kind);
		return -1;
	}
	if (r->nrules == REDACT_MAX_RULES) {
		snprintf(err, errlen, "redact rule: more than %d rules",
			 REDACT_MAX_RULES);
		return -1;
	}
	x = &r->rules[r->nrules];
	x->re = redact_rule_compile(re, why, sizeof(why));
	if (!x->re) {
		snprintf(err, errlen, "redact rule '%.*s': %s", (int)klen, kind,
			 why);
		return -1;
	}
	x->kind = kind_id(r, kind, klen);
	r->nrules++;
	return 0;
}

void redact_stream_init(struct redact_stream *st)
{
	memset(st, 0, sizeof(*st));
}

/* KEY=VALUE with a secret-like KEY: the whole value is the secret. */
static bool secret_assignment(const struct redactor *r, const char *a,
			      size_t *eq, int *kind)
{
	size_t k = 0;
	while (a[k] && (r->cls[(unsigned char)a[k]] & C_KEY))
		k++;
	if (!k || a[k] != '=' ||
	    redact_placeholder(a + k + 1, strlen(a + k + 1)))
		return false;
	*kind = redact_key_kind(a, k);
	if (*kind < 0 || *kind == REDACT_AUTHORIZATION)
		return false;
	if (*kind == REDACT_AWS_SECRET_ACCESS_KEY &&
	    !redact_aws_secret_shape(a + k + 1, strlen(a + k + 1)))
		*kind = REDACT_SECRET;
	*eq = k;
	return true;
}

/* "--password" (no value in the same argument): the next one is secret. */
static int secret_flag(const struct redactor *r, const char *a)
{
	size_t k;
	if (a[0] != '-' ||
	    !(r->cls[(unsigned char)a[a[1] == '-' ? 2 : 1]] & C_ALNUM))
		return -1;
	for (k = 0; a[k]; k++)
		if (!(r->cls[(unsigned char)a[k]] & C_KEY))
			return -1;
	return redact_key_kind(a, k);
}

static void add_mark(const struct redactor *r, struct redact_stream *st,
		     struct strbuf *sb, int kind)
{
	strbuf_addf(sb, REDACT_MARK "%s]", r->kinds[kind]);
	if (st)
		st->counts[kind]++;
}

size_t redact_args(const struct redactor *r, struct redact_stream *st,
		   const char *const *argv, size_t argc, char **out)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i, n = 0, eq;
	int pending = -1, kind;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		size_t alen = strlen(a);
		if (pending >= 0 && !redact_placeholder(a, alen) &&
		    strncmp(a, "--", 2)) {
			if (pending == REDACT_AWS_SECRET_ACCESS_KEY &&
			    !redact_aws_secret_shape(a, alen))
				pending = REDACT_SECRET;
			add_mark(r, st, &sb, pending);
			n++;
		} else if (secret_assignment(r, a, &eq, &kind)) {
			strbuf_add(&sb, a, eq + 1);
			add_mark(r, st, &sb, kind);
			n++;
		} else {
			n += redact_line(r, st, a, alen, &sb);
		}
		pending = secret_flag(r, a);
		out[i] = strbuf_detach(&sb, NULL);
	}
	return n;
}

unsigned redact_kind_count(const struct redactor *r)
{
	return r->nkinds;
}

const char *redact_kind_name(const struct redactor *r, unsigned k)
{
	return k < r->nkinds ? r->kinds[k] : NULL;
}
