/* parse.c - strict parsing of numbers, money, sizes and names. */
#include "parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define fail err_fail

/* Accumulates decimal digits; -1 on a non-digit, empty or overflow. */
static int digits(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -2;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
	      char *err, size_t errlen)
{
	uint64_t v = 0;
	int rc;
	if (s[0] == '-')
		return fail(err, errlen, "'%.40s' must not be negative", s);
	rc = digits(s, strlen(s), &v);
	if (rc == -1)
		return fail(err, errlen, "'%.40s' is not a number", s);
	if (rc == -2 || v < min || v > max)
		return fail(err, errlen, "'%.40s' is out of range (%llu..%llu)",
			    s, (unsigned long long)min,
			    (unsigned long long)max);
	*out = v;
	return 0;
}

int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out,
	      char *err, size_t errlen)
{
	bool neg = s[0] == '-';
	uint64_t v = 0;
	int64_t r;
	int rc = digits(s + neg, strlen(s + neg), &v);

	if (rc == -1)
		return fail(err, errlen, "'%.40s' is not a number", s);
	if (rc == -2 || v > (uint64_t)INT64_MAX + neg)
		goto range;
	r = neg ? (int64_t)(0 - v) : (int64_t)v;
	if (r < min || r > max)
		goto range;
	*out = r;
	return 0;
range:
	if (neg && min >= 0)
		return fail(err, errlen, "'%.40s' must not be negative", s);
	return fail(err, errlen, "'%.40s' is out of range (%lld..%lld)", s,
		    (long long)min, (long long)max);
}

/* "123.456" with at most `decimals` decimals, scaled by 10^decimals. */
static int parse_fixed(const char *s, int decimals, uint64_t limit,
		       uint64_t *out)
{
	const char *dot = strchr(s, '.');
	size_t ilen = dot ? (size_t)(dot - s) : strlen(s);
	size_t flen = dot ? strlen(dot + 1) : 0;
	uint64_t ip = 0, fp = 0, scale = 1;

	if (digits(s, ilen, &ip) || (dot && digits(dot + 1, flen, &fp)))
		return -1;
	if ((int)flen > decimals)
		return -2;
	for (int i = 0; i < decimals; i++)
		scale *= 10;
	for (size_t i = flen; i < (size_t)decimals; i++)
		fp *= 10;
	if (ip > limit)
		return -3;
	*out = ip * scale + fp;
	return 0;
}

int parse_usd(const char *s, int64_t *micro_usd, char *err, size_t errlen)
{
	uint64_t v;
	int rc;
	if (s[0] == '-')
		return fail(err, errlen, "'%.40s' must not be negative", s);
	rc = parse_fixed(s[0] == '$' ? s + 1 : s, 6, 9000000000000ULL, &v);
	if (rc == -1)
		return fail(err, errlen, "'%.40s' is not an amount in dollars",
			    s);
	if (rc == -2)
		return fail(err, errlen,
			    "'%.40s' has more than 6 decimals", s);
	if (rc == -3)
		return fail(err, errlen, "'%.40s' is too large", s);
	*micro_usd = (int64_t)v;
	return 0;
}

int parse_percent(const char *s, uint32_t *bp, char *err, size_t errlen)
{
	uint64_t v;
	int rc;
	if (s[0] == '-')
		return fail(err, errlen, "'%.40s' must not be negative", s);
	rc = parse_fixed(s, 2, 100, &v);
	if (rc == -1)
		return fail(err, errlen, "'%.40s' is not a percentage", s);
	if (rc == -2)
		return fail(err, errlen, "'%.40s' has more than 2 decimals", s);
	if (rc == -3 || v > 10000)
		return fail(err, errlen, "'%.40s' is over 100", s);
	*bp = (uint32_t)v;
	return 0;
}

void format_usd(int64_t micro, char *buf, size_t len)
{
	uint64_t m = micro < 0 ? (uint64_t)0 - (uint64_t)micro : (uint64_t)micro;
	char frac[8];
	int n;

	snprintf(frac, sizeof(frac), "%06llu", (unsigned long long)(m % 1000000));
	for (n = 6; n > 2 && frac[n - 1] == '0'; n--)
		;
	frac[n] = '\0';
	snprintf(buf, len, "%s%llu.%s", micro < 0 ? "-" : "",
		 (unsigned long long)(m / 1000000), frac);
}

int parse_gb(const char *s, uint32_t *mb, char *err, size_t errlen)
{
	uint64_t milli;
	int rc;
	if (s[0] == '-')
		return fail(err, errlen, "'%.40s' must not be negative", s);
	rc = parse_fixed(s, 3, 4096, &milli);
	if (rc == -1)
		return fail(err, errlen, "'%.40s' is not a size in GB", s);
	if (rc == -2)
		return fail(err, errlen, "'%.40s' has more than 3 decimals", s);
	if (rc == -3 || milli > 4096000)
		return fail(err, errlen, "'%.40s' is more than 4096 GB", s);
	if (milli * 1024 / 1000 == 0)
		return fail(err, errlen, "'%.40s' must be at least 1 MB", s);
	*mb = (uint32_t)(milli * 1024 / 1000);
	return 0;
}

int name_reason(const char *s, char *err, size_t errlen)
{
	size_t n = strlen(s);
	if (n == 0)
		return fail(err, errlen, "name is empty");
	if (n > 63)
		return fail(err, errlen,
			    "name '%.20s...' is longer than 63 characters", s);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == ' ')
			return fail(err, errlen, "name '%.63s' contains a space",
				    s);
		if (c == '/')
			return fail(err, errlen, "name '%.63s' contains '/'", s);
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-')) {
			if (c >= 0x20 && c < 0x7f)
				return fail(err, errlen,
					    "name '%.63s' contains invalid character '%c' (use lowercase a-z, 0-9, _ and -)",
					    s, c);
			return fail(err, errlen,
				    "name contains invalid byte 0x%02x (use lowercase a-z, 0-9, _ and -)",
				    (unsigned char)c);
		}
	}
	if (s[0] == '_' || s[0] == '-')
		return fail(err, errlen,
			    "name '%.63s' must start with a lowercase letter or digit",
			    s);
	return 0;
}

bool name_valid(const char *s)
{
	return name_reason(s, NULL, 0) == 0;
}

int parse_path3(const char *s, char tenant[64], char env[64], char job[64],
		int parts, char *err, size_t errlen)
{
	char *out[3] = { tenant, env, job };
	const char *p = s;
	char reason[200];

	for (int i = 0; i < parts; i++) {
		const char *slash = strchr(p, '/');
		size_t n = slash && i < parts - 1 ? (size_t)(slash - p)
						  : strlen(p);
		if ((i < parts - 1 && !slash) || n >= 64 ||
		    (i == parts - 1 && slash)) {
			if (n >= 64 && (i == parts - 1 ? !slash : !!slash))
				return fail(err, errlen,
					    "name in '%.100s' is longer than 63 characters",
					    s);
			return fail(err, errlen, "expected %s, got '%.100s'",
				    parts == 2 ? "TENANT/ENV" : "TENANT/ENV/JOB",
				    s);
		}
		memcpy(out[i], p, n);
		out[i][n] = '\0';
		if (name_reason(out[i], reason, sizeof(reason)))
			return fail(err, errlen, "%s", reason);
		p += n + 1;
	}
	return 0;
}

/* ISO-8601 date (midnight UTC) or date and time (UTC, Z optional) to ms. */
int parse_utc_time(const char *s, int64_t *ms)
{
	static const char *const forms[] = { "%Y-%m-%dT%H:%M:%S",
					     "%Y-%m-%dT%H:%M", "%Y-%m-%d" };
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		struct tm tm;
		const char *end;
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, forms[i], &tm);
		if (!end || (*end && strcmp(end, "Z")))
			continue;
		*ms = (int64_t)timegm(&tm) * 1000;
		return 0;
	}
	return -1;
}
