/* sparkrest.c - executor lifetimes from Spark's monitoring REST API. */
#include "sparkrest.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "curl_dl.h"
#include "json.h"
#include "parse.h"
#include "strbuf.h"
#include "util.h"

/* Length of "2026-11-22T14:43:37.123GMT". */
#define SPARK_DATE_LEN 26

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;
	return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

static int64_t sat_mul(int64_t a, int64_t b)
{
	int64_t r;
	return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

/* Copies at most max bytes of s into out for an error message, printable
 * ASCII only, so a hostile value cannot break the one-line reason. */
static void quote(const char *s, size_t len, size_t max, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len && i < max && n + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (len > max && n + 4 < size) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

/* Reads exactly n decimal digits at s. */
static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Spark's date format, yyyy-MM-dd'T'HH:mm:ss.SSS'GMT' in UTC, to ms since
 * the epoch. Strict: the exact shape, a real calendar date, no earlier
 * than 1970. */
static int parse_spark_date(const char *s, size_t len, int64_t *ms)
{
	struct tm tm = {0}, back;
	int year, mon, day, hour, min, sec, milli;
	time_t t;

	if (len != SPARK_DATE_LEN || s[4] != '-' || s[7] != '-' ||
	    s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' ||
	    memcmp(s + 23, "GMT", 3) != 0)
		return -1;
	if (digits(s, 4, &year) || digits(s + 5, 2, &mon) ||
	    digits(s + 8, 2, &day) || digits(s + 11, 2, &hour) ||
	    digits(s + 14, 2, &min) || digits(s + 17, 2, &sec) ||
	    digits(s + 20, 3, &milli))
		return -1;
	if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 ||
	    hour > 23 || min > 59 || sec > 59)
		return -1;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* timegm normalises Feb 30 into March: refuse what moved */
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != day ||
	    back.tm_mon != mon - 1)
		return -1;
	*ms = (int64_t)t * 1000 + milli;
	return 0;
}

/* A date member of an executor: 0 with *ms, 1 if absent (or null), -1 if
 * present but not a Spark date. */
static int member_date(const struct json *e, const char *key, int64_t *ms)
{
	const struct json *v = json_get(e, key);

	if (!v || v->type == JSON_NULL)
		return 1;
	if (v->type != JSON_STRING || parse_spark_date(v->str, v->str_len, ms))
		return -1;
	return 0;
}

/* Lifetime and cores of one executor element; *skip for the driver. */
static int executor_usage(const struct json *e, size_t idx, int64_t app_end_ms,
			  bool *skip, int64_t *cores, int64_t *lifetime,
			  char *err, size_t errlen)
{
	const struct json *id = json_get(e, "id"), *tc;
	char name[64], why[96];
	int64_t add, end;
	int rc;

	if (e->type != JSON_OBJECT) {
		snprintf(err, errlen, "element %zu is not an object", idx);
		return -1;
	}
	if (!id || id->type != JSON_STRING || id->str_len == 0) {
		snprintf(err, errlen, "element %zu has no string id", idx);
		return -1;
	}
	*skip = id->str_len == 6 && !memcmp(id->str, "driver", 6);
	if (*skip)
		return 0;
	quote(id->str, id->str_len, 40, name, sizeof(name));
	tc = json_get(e, "totalCores");
	if (!tc || tc->type != JSON_NUMBER) {
		snprintf(err, errlen, "executor '%s': no totalCores", name);
		return -1;
	}
	if (parse_i64(tc->str, 0, SPARKREST_MAX_CORES, cores, why,
		      sizeof(why))) {
		snprintf(err, errlen, "executor '%s': totalCores: %s", name,
			 why);
		return -1;
	}
	if (member_date(e, "addTime", &add)) {
		snprintf(err, errlen,
			 "executor '%s': addTime missing or not a Spark date",
			 name);
		return -1;
	}
	rc = member_date(e, "removeTime", &end);
	if (rc < 0) {
		snprintf(err, errlen,
			 "executor '%s': removeTime is not a Spark date", name);
		return -1;
	}
	if (rc > 0)
		end = app_end_ms;
	/* add >= 0 (dates from 1970 on), so end - add cannot overflow */
	*lifetime = end > add ? end - add : 0;
	return 0;
}

int sparkrest_parse_executors(const char *body, size_t len, int64_t app_end_ms,
			      struct spark_usage *out, char *err, size_t errlen)
{
	struct spark_usage u = {0};
	char why[160];
	struct json *root = json_parse(body, len, why, sizeof(why));
	int rc = -1;

	if (!root) {
		snprintf(err, errlen, "executors: bad JSON: %s", why);
		return -1;
	}
	if (root->type != JSON_ARRAY) {
		snprintf(err, errlen, "executors: not a JSON array");
		goto out;
	}
	for (size_t i = 0; i < root->n; i++) {
		bool skip = false;
		int64_t cores = 0, lifetime = 0;

		if (executor_usage(root->items[i], i, app_end_ms, &skip, &cores,
				   &lifetime, why, sizeof(why))) {
			snprintf(err, errlen, "executors: %s", why);
			goto out;
		}
		if (skip)
			continue;
		if (u.executors < UINT32_MAX)
			u.executors++;
		u.exec_lifetime_ms = sat_add(u.exec_lifetime_ms, lifetime);
		u.exec_core_ms =
			sat_add(u.exec_core_ms, sat_mul(cores, lifetime));
	}
	*out = u;
	rc = 0;
out:
	json_free(root);
	return rc;
}

bool sparkrest_app_id_valid(const char *app_id)
{
	size_t n = 0;

	for (; app_id[n]; n++) {
		char c = app_id[n];
		if (n >= SPARKREST_MAX_APP_ID ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return n > 0;
}

/* ---- HTTP ---- */

/* libcurl is loaded on first use, not linked (curl_dl.h). */
bool sparkrest_available(char *why, size_t len)
{
#ifdef SP_STATIC_AGENT
	snprintf(why, len,
		 "this agent is statically linked and cannot load libcurl; "
		 "use sparkpilot-agent for spark_rest_url");
	return false;
#else
	(void)why;
	(void)len;
	return true;
#endif
}

/* Builds {base}/api/v1/applications/{id}/allexecutors. base must be an
 * http(s) URL without query, fragment, spaces or control characters. */
static int build_url(const char *base, const char *app_id, struct strbuf *url,
		     char *err, size_t errlen)
{
	size_t n = strlen(base);

	if (strncasecmp(base, "http://", 7) != 0 &&
	    strncasecmp(base, "https://", 8) != 0) {
		snprintf(err, errlen,
			 "spark rest url must start with http:// or https://");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)base[i];
		if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#') {
			snprintf(err, errlen,
				 "spark rest url has a query, fragment, space "
				 "or control character");
			return -1;
		}
	}
	if (!sparkrest_app_id_valid(app_id)) {
		char q[64];
		quote(app_id, strlen(app_id), 40, q, sizeof(q));
		snprintf(err, errlen,
			 "spark application id '%s' is not 1..%d of "
			 "[A-Za-z0-9_-]",
			 q, SPARKREST_MAX_APP_ID);
		return -1;
	}
	while (n > 0 && base[n - 1] == '/')
		n--;
	strbuf_add(url, base, n);
	strbuf_addf(url, "/api/v1/applications/%s/allexecutors", app_id);
	return 0;
}

struct body {
	struct strbuf sb;
	bool too_big;
};

/* Keeps the body in memory; past SPARKREST_MAX_BODY it returns short,
 * which makes libcurl stop the transfer with CURLE_WRITE_ERROR. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct body *b = ctx;
	size_t n = size * nmemb;

	if (n > SPARKREST_MAX_BODY - b->sb.len) {
		b->too_big = true;
		return 0;
	}
	strbuf_add(&b->sb, data, n);
	return n;
}

/* The first line of an error body, for the reason (Spark says why there,
 * e.g. "unknown app: ..."). */
static void body_hint(const struct body *b, char *out, size_t size)
{
	size_t n = strcspn(b->sb.buf, "\r\n");
	quote(b->sb.buf, n < b->sb.len ? n : b->sb.len, 100, out, size);
}

static void set_options(const struct curl_fns *lc, CURL *c,
			const char *url, long timeout_ms, struct body *b,
			char *curl_err)
{
	lc->easy_setopt(c, CURLOPT_URL, url);
	lc->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	lc->easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	lc->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	lc->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	lc->easy_setopt(c, CURLOPT_PROTOCOLS,
			 (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	/* gzip and friends: a big history-server answer travels smaller;
	 * the decoded size is still capped by on_body */
	lc->easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	lc->easy_setopt(c, CURLOPT_USERAGENT, "sparkpilot-agent");
	lc->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	lc->easy_setopt(c, CURLOPT_WRITEDATA, b);
	lc->easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
}

/* Performs the GET into b; 0 on status 200, else -1 with err. */
static int http_get(const struct curl_fns *lc, const char *url,
		    const char *app_id, long timeout_ms, struct body *b,
		    char *err, size_t errlen)
{
	char curl_err[CURL_ERROR_SIZE] = "", hint[112];
	CURL *c = lc->easy_init();
	long status = 0;
	CURLcode rc;

	if (!c) {
		snprintf(err, errlen,
			 "spark rest: cannot create a curl handle");
		return -1;
	}
	set_options(lc, c, url, timeout_ms, b, curl_err);
	rc = lc->easy_perform(c);
	lc->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	lc->easy_cleanup(c);
	if (b->too_big) {
		snprintf(err, errlen,
			 "spark rest: executors of %s: body larger than %u "
			 "bytes",
			 app_id, SPARKREST_MAX_BODY);
		return -1;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(err, errlen,
			 "spark rest: executors of %s: timed out after %ld ms",
			 app_id, timeout_ms);
		return -1;
	}
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "spark rest: executors of %s: %s", app_id,
			 curl_err[0] ? curl_err : lc->easy_strerror(rc));
		return -1;
	}
	if (status != 200) {
		body_hint(b, hint, sizeof(hint));
		snprintf(err, errlen,
			 "spark rest: executors of %s: HTTP %ld%s%s", app_id,
			 status, hint[0] ? ": " : "", hint);
		return -1;
	}
	return 0;
}

int sparkrest_executor_usage(const char *base_url, const char *app_id,
			     int64_t app_end_ms, long timeout_ms,
			     struct spark_usage *out, char *err, size_t errlen)
{
	struct strbuf url = STRBUF_INIT;
	struct body b = {STRBUF_INIT, false};
	const struct curl_fns *lc;
	char why[256];
	int rc = -1;

	if (timeout_ms <= 0) {
		snprintf(err, errlen, "spark rest: timeout must be positive");
		return -1;
	}
	if (build_url(base_url, app_id, &url, err, errlen))
		goto out;
	if (!(lc = curl_dl(why, sizeof(why)))) {
		snprintf(err, errlen, "spark rest: %s", why);
		goto out;
	}
	if (http_get(lc, url.buf, app_id, timeout_ms, &b, err, errlen))
		goto out;
	if (sparkrest_parse_executors(b.sb.buf, b.sb.len, app_end_ms, out, why,
				      sizeof(why))) {
		snprintf(err, errlen, "spark rest: %s: %s", app_id, why);
		goto out;
	}
	rc = 0;
out:
	strbuf_release(&url);
	strbuf_release(&b.sb);
	return rc;
}
