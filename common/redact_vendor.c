/*
 * redact_vendor.c - the shapes of tokens that vendors give their
 * credentials, so that one is found bare (no "token=" before it): the
 * prefix the vendor documents, then a body of its alphabet and length.
 * Lengths are lower bounds where a vendor's grow over time, so a token cut
 * short by a line limit is still found.
 */
#include "redact_match.h"

#include <string.h>

#include "redact.h"
#include "util.h"

enum body {
	B_ALNUM, /* [A-Za-z0-9] */
	B_WORD,	 /* [A-Za-z0-9_] */
	B_URL64, /* [A-Za-z0-9_-] (base64url) */
	B_SLACK, /* [A-Za-z0-9-] */
	B_B64,	 /* [A-Za-z0-9+/] then '=' padding */
	B_HEX32, /* 32 of [0-9a-f], then an optional -N */
	B_MIXED, /* [A-Za-z0-9_-] with upper, lower and digits */
};

struct vendor {
	const char *prefix;
	unsigned char body;
	unsigned short min; /* body bytes at least */
	unsigned char kind;
};

static const struct vendor vendors[] = {
	{"ghp_", B_ALNUM, 30, REDACT_GITHUB_TOKEN},
	{"gho_", B_ALNUM, 30, REDACT_GITHUB_TOKEN},
	{"ghu_", B_ALNUM, 30, REDACT_GITHUB_TOKEN},
	{"ghs_", B_ALNUM, 30, REDACT_GITHUB_TOKEN},
	{"ghr_", B_ALNUM, 30, REDACT_GITHUB_TOKEN},
	{"github_pat_", B_WORD, 40, REDACT_GITHUB_TOKEN},
	{"xoxb-", B_SLACK, 20, REDACT_SLACK_TOKEN},
	{"xoxp-", B_SLACK, 20, REDACT_SLACK_TOKEN},
	{"xoxa-", B_SLACK, 20, REDACT_SLACK_TOKEN},
	{"xoxr-", B_SLACK, 20, REDACT_SLACK_TOKEN},
	{"xoxs-", B_SLACK, 20, REDACT_SLACK_TOKEN},
	{"xoxe-", B_SLACK, 20, REDACT_SLACK_TOKEN},
	{"sk_live_", B_ALNUM, 16, REDACT_STRIPE_KEY},
	{"rk_live_", B_ALNUM, 16, REDACT_STRIPE_KEY},
	{"sk_test_", B_ALNUM, 16, REDACT_STRIPE_KEY},
	{"rk_test_", B_ALNUM, 16, REDACT_STRIPE_KEY},
	{"whsec_", B_ALNUM, 24, REDACT_STRIPE_KEY},
	{"dapi", B_HEX32, 32, REDACT_DATABRICKS_TOKEN},
	{"AIza", B_URL64, 30, REDACT_GOOGLE_API_KEY},
	{"sk-", B_MIXED, 20, REDACT_OPENAI_KEY},
	/* a Kerberos keytab (0x05 0x02, then the first entry's length) */
	{"BQIAAA", B_B64, 40, REDACT_KERBEROS_KEYTAB},
};

static bool is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       redact_is_digit(c);
}

static bool is_hex(int c)
{
	return redact_is_digit(c) || (c >= 'a' && c <= 'f');
}

static bool in_body(int c, enum body b)
{
	switch (b) {
	case B_ALNUM:
		return is_alnum(c);
	case B_WORD:
		return is_alnum(c) || c == '_';
	case B_SLACK:
		return is_alnum(c) || c == '-';
	case B_B64:
		return is_alnum(c) || c == '+' || c == '/';
	default:
		return is_alnum(c) || c == '_' || c == '-';
	}
}

/* The body from in[b]: its end, or 0 if it is not one. */
static size_t body_end(const char *in, size_t len, size_t b, enum body body,
		       size_t min)
{
	size_t e = b;
	bool up = false, low = false, dig = false;

	if (body == B_HEX32) {
		while (e < len && e - b < 32 && is_hex(in[e]))
			e++;
		if (e - b != 32)
			return 0;
		if (e + 1 < len && in[e] == '-' && redact_is_digit(in[e + 1]))
			for (e++; e < len && redact_is_digit(in[e]); e++)
				;
		return e < len && is_alnum(in[e]) ? 0 : e;
	}
	for (; e < len && in_body(in[e], body); e++) {
		up |= in[e] >= 'A' && in[e] <= 'Z';
		low |= in[e] >= 'a' && in[e] <= 'z';
		dig |= redact_is_digit(in[e]);
	}
	if (e - b < min || (body == B_MIXED && !(up && low && dig)))
		return 0;
	if (body == B_B64)
		while (e < len && in[e] == '=' && e - b < 4096)
			e++;
	return e;
}

int redact_vendor_token(const char *in, size_t len, size_t t, size_t *end)
{
	for (size_t v = 0; v < ARRAY_SIZE(vendors); v++) {
		const struct vendor *x = &vendors[v];
		size_t pl = strlen(x->prefix), e;
		if (len - t < pl + x->min || memcmp(in + t, x->prefix, pl))
			continue;
		e = body_end(in, len, t + pl, (enum body)x->body, x->min);
		if (e) {
			*end = e;
			return x->kind;
		}
	}
	return -1;
}

/* A base64url segment of at least min bytes from in[b]: its end, or 0. */
static size_t segment(const char *in, size_t len, size_t b, size_t min)
{
	size_t e = b;
	while (e < len && in_body(in[e], B_URL64))
		e++;
	return e - b >= min ? e : 0;
}

bool redact_jwt_at(const char *in, size_t len, size_t t, size_t *end)
{
	size_t e;

	/* header {"... and payload {"... (base64url "eyJ", "ey") */
	if (len - t < 24 || memcmp(in + t, "eyJ", 3))
		return false;
	e = segment(in, len, t, 10);
	if (!e || e + 3 >= len || in[e] != '.' || in[e + 1] != 'e' ||
	    in[e + 2] != 'y')
		return false;
	e = segment(in, len, e + 1, 10);
	if (!e)
		return false;
	if (e < len && in[e] == '.') /* the signature (none for alg none) */
		e = segment(in, len, e + 1, 0);
	*end = e;
	return true;
}

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (redact_is_digit(c))
		return c - '0' + 52;
	return c == '+' || c == '-' ? 62 : c == '/' || c == '_' ? 63 : -1;
}

/* A PEM private key encoded once more in base64, as Kubernetes secrets
 * and many configs carry one: "LS0tLS1CRUdJTi..." is "-----BEGIN ". */
bool redact_b64_pem_at(const char *in, size_t len, size_t t, size_t *end)
{
	char head[64];
	size_t e = t, n = 0;
	unsigned acc = 0;
	int bits = 0;

	if (len - t < 40 || memcmp(in + t, "LS0tLS1CRUdJTi", 14))
		return false;
	for (; e < len && b64_value((unsigned char)in[e]) >= 0; e++) {
		acc = (acc << 6) | (unsigned)b64_value((unsigned char)in[e]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n < sizeof(head))
				head[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	while (e < len && in[e] == '=')
		e++;
	if (!memmem(head, n, "PRIVATE KEY", 11))
		return false;
	*end = e;
	return true;
}
