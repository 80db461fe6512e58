/* aws_http.c - signed AWS requests with libcurl (aws_http.h). */
#include "aws_http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aws_creds.h"
#include "curl_dl.h"
#include "json.h"
#include "util.h"

void aws_resp_init(struct aws_resp *r)
{
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->body, 0);
}

void aws_resp_release(struct aws_resp *r)
{
	strbuf_release(&r->body);
}

void aws_uri_encode(struct strbuf *sb, const char *s, bool keep_slash)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '_' || c == '.' ||
		    c == '~' || (keep_slash && c == '/'))
			strbuf_addch(sb, c);
		else
			strbuf_addf(sb, "%%%02X", c);
	}
}

/* ---- error answers ---- */

/* Copies up to max bytes of s as printable ASCII. */
static void printable(const char *s, size_t len, char *out, size_t outlen)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		out[n++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
	}
	if (outlen)
		out[n] = '\0';
}

void aws_error_format(long status, const char *error_type, const char *body,
		      size_t len, char *out, size_t outlen)
{
	char type[128] = "", msg[300] = "", why[64];
	struct json *j = len ? json_parse(body, len, why, sizeof(why)) : NULL;
	const char *t = error_type && error_type[0] ? error_type : NULL;
	const char *m = NULL, *hash;

	if (j && j->type == JSON_OBJECT) {
		if (!t)
			t = json_get_str(j, "__type");
		if (!t)
			t = json_get_str(j, "code");
		m = json_get_str(j, "message");
		if (!m)
			m = json_get_str(j, "Message");
	}
	if (t) {
		/* "aws.protocoltests#ValidationException" and
		 * "ValidationException:http://..." name the same type */
		hash = strrchr(t, '#');
		if (hash)
			t = hash + 1;
		printable(t, strcspn(t, ":"), type, sizeof(type));
	} else if (len && aws_xml_text(body, len, "Code", type,
				       sizeof(type)) == 0) {
		/* S3 and STS answer in XML */
		if (aws_xml_text(body, len, "Message", msg, sizeof(msg)))
			msg[0] = '\0';
		printable(type, strlen(type), type, sizeof(type));
		printable(msg, strlen(msg), msg, sizeof(msg));
	} else {
		snprintf(type, sizeof(type), "HTTP %ld", status);
	}
	if (m)
		printable(m, strlen(m), msg, sizeof(msg));
	else if (!msg[0] && len && !j)
		printable(body, len < 200 ? len : 200, msg, sizeof(msg));
	if (msg[0])
		snprintf(out, outlen, "%s: %s", type, msg);
	else
		snprintf(out, outlen, "%s (HTTP %ld)", type, status);
	json_free(j);
}

bool aws_error_retryable(long status, const char *type)
{
	static const char *const throttles[] = {
		"ThrottlingException", "TooManyRequestsException",
		"EKSRequestThrottledException", "RequestLimitExceeded",
		"SlowDown", "Throttling", "RequestThrottled",
	};

	if (status == 429 || status >= 500)
		return true;
	return type && str_in(type, throttles, ARRAY_SIZE(throttles));
}

bool aws_error_expired(const char *type)
{
	return type && (!strcmp(type, "ExpiredToken") ||
			!strcmp(type, "ExpiredTokenException") ||
			!strcmp(type, "RequestExpired"));
}

/* ---- libcurl ---- */

bool aws_http_available(char *why, size_t len)
{
#ifdef SP_STATIC_AGENT
	snprintf(why, len,
		 "this agent is statically linked and has no libcurl; use "
		 "sparkpilot-agent for the emr-eks backend");
	return false;
#else
	(void)why;
	(void)len;
	return true;
#endif
}

#if !defined(SP_STATIC_AGENT) && LIBCURL_VERSION_NUM < 0x074b00
#error "the emr-eks backend needs libcurl 7.75 or later (CURLOPT_AWS_SIGV4)"
#endif

#ifdef SP_STATIC_AGENT
int aws_http_do(const struct aws_req *req, struct aws_resp *resp, char *err,
		size_t errlen)
{
	(void)req;
	(void)resp;
	aws_http_available(err, errlen);
	return -1;
}
#else
static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct aws_resp *r = ctx;
	size_t n = size * nmemb;

	if (n > AWS_MAX_BODY - r->body.len)
		return 0;
	strbuf_add(&r->body, data, n);
	return n;
}

/* Keeps the error type and request id headers. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct aws_resp *r = ctx;
	size_t n = size * nmemb, k;
	const char *v;
	char *dst = NULL;
	size_t dlen = 0;

	if (n > 17 && !strncasecmp(data, "x-amzn-ErrorType:", 17)) {
		dst = r->error_type, dlen = sizeof(r->error_type), k = 17;
	} else if (n > 17 && !strncasecmp(data, "x-amzn-RequestId:", 17)) {
		dst = r->request_id, dlen = sizeof(r->request_id), k = 17;
	} else if (n > 17 && !strncasecmp(data, "x-amz-request-id:", 17)) {
		dst = r->request_id, dlen = sizeof(r->request_id), k = 17;
	} else {
		return n;
	}
	v = data + k;
	while (v < data + n && (*v == ' ' || *v == '\t'))
		v++;
	k = 0;
	while (v < data + n && *v != '\r' && *v != '\n' && *v != ':' &&
	       k + 1 < dlen)
		dst[k++] = *v++;
	dst[k] = '\0';
	return n;
}

static struct curl_slist *build_headers(const struct curl_fns *lc,
					const struct aws_req *req,
					char *tokhdr, size_t toklen)
{
	struct curl_slist *h = NULL;
	char ct[128];

	/* no "Name:" lines that remove a header curl would add (Expect,
	 * Content-Type): curl 7.88 still signs them, and AWS then finds a
	 * signed header that was never sent */
	if (req->content_type) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", req->content_type);
		h = lc->slist_append(h, ct);
	}
	for (const char *const *x = req->headers; x && *x; x++)
		h = lc->slist_append(h, *x);
	if (req->service && req->creds && req->creds->token[0]) {
		snprintf(tokhdr, toklen, "X-Amz-Security-Token: %s",
			 req->creds->token);
		h = lc->slist_append(h, tokhdr);
	}
	return h;
}

int aws_http_do(const struct aws_req *req, struct aws_resp *resp, char *err,
		size_t errlen)
{
	char curl_err[CURL_ERROR_SIZE] = "", sigv4[160], tokhdr[4200];
	char userpwd[300];
	const struct curl_fns *lc = curl_dl(err, errlen);
	struct curl_slist *h;
	CURLcode rc;
	CURL *c;

	if (!lc)
		return -1;
	c = lc->easy_init();
	if (!c) {
		snprintf(err, errlen, "cannot create a curl handle");
		return -1;
	}
	resp->status = 0;
	resp->error_type[0] = resp->request_id[0] = '\0';
	strbuf_reset(&resp->body);
	h = build_headers(lc, req, tokhdr, sizeof(tokhdr));
	lc->easy_setopt(c, CURLOPT_URL, req->url);
	lc->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	lc->easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	lc->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	lc->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	lc->easy_setopt(c, CURLOPT_PROTOCOLS,
			 (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	lc->easy_setopt(c, CURLOPT_USERAGENT, "sparkpilot-agent");
	lc->easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	if (!strcmp(req->method, "GET"))
		lc->easy_setopt(c, CURLOPT_HTTPGET, 1L);
	if (req->body) {
		lc->easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
		lc->easy_setopt(c, CURLOPT_POSTFIELDSIZE,
				 (long)req->body_len);
	} else if (!strcmp(req->method, "PUT")) {
		lc->easy_setopt(c, CURLOPT_POSTFIELDS, "");
		lc->easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	}
	if (req->service && req->creds) {
		snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:%s", req->region,
			 req->service);
		snprintf(userpwd, sizeof(userpwd), "%s:%s",
			 req->creds->access_key, req->creds->secret_key);
		lc->easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4);
		lc->easy_setopt(c, CURLOPT_USERPWD, userpwd);
	}
	lc->easy_setopt(c, CURLOPT_HTTPHEADER, h);
	lc->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	lc->easy_setopt(c, CURLOPT_WRITEDATA, resp);
	lc->easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	lc->easy_setopt(c, CURLOPT_HEADERDATA, resp);
	lc->easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
	rc = lc->easy_perform(c);
	lc->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	lc->easy_cleanup(c);
	lc->slist_free_all(h);
	/* the secret and the token leave the stack */
	memset(userpwd, 0, sizeof(userpwd));
	memset(tokhdr, 0, sizeof(tokhdr));
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(err, errlen, "timed out after %ld ms",
			 req->timeout_ms);
		return -1;
	}
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s",
			 curl_err[0] ? curl_err : lc->easy_strerror(rc));
		return -1;
	}
	return 0;
}
#endif

/* ---- client with retries ---- */

static void real_sleep(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) == -1)
		;
}

void aws_client_init(struct aws_client *c, struct aws_provider *p,
		     const char *region)
{
	memset(c, 0, sizeof(*c));
	c->creds = p;
	snprintf(c->region, sizeof(c->region), "%s", region);
	c->timeout_ms = 10000;
	c->max_attempts = 6;
	c->backoff_base_ms = 200;
	c->backoff_cap_ms = 10000;
	c->sleep_ms = real_sleep;
	c->http = aws_http_do;
}

/* Full jitter (the AWS architecture blog's "Exponential Backoff And
 * Jitter"): a uniform wait in [0, min(cap, base * 2^attempt)], so many
 * agents throttled at once do not retry in step. */
static int64_t backoff(const struct aws_client *c, int attempt)
{
	int64_t d = c->backoff_base_ms;

	for (int i = 0; i < attempt && d < c->backoff_cap_ms; i++)
		d *= 2;
	if (d > c->backoff_cap_ms)
		d = c->backoff_cap_ms;
	return d > 0 ? (int64_t)(random() % (d + 1)) : 0;
}

int aws_call(struct aws_client *c, const char *service, const char *method,
	     const char *url, const char *json_body, struct aws_resp *resp,
	     char *err, size_t errlen)
{
	struct aws_creds creds;
	bool refreshed = false;
	char why[400];
	int rc = -1;

	for (int attempt = 0; attempt < c->max_attempts; attempt++) {
		if (attempt) {
			c->retries++;
			c->sleep_ms(backoff(c, attempt - 1));
		}
		if (aws_creds_get(c->creds, &creds, err, errlen)) {
			/* nothing was sent; retrying will not find keys that
			 * are not configured (a failed renewal of temporary
			 * ones keeps them while they are valid) */
			resp->status = -1;
			goto out;
		}
		struct aws_req req = {
			.method = method, .url = url, .body = json_body,
			.body_len = json_body ? strlen(json_body) : 0,
			.content_type = json_body ? "application/json" : NULL,
			.region = c->region, .service = service,
			.creds = &creds, .timeout_ms = c->timeout_ms,
		};
		if (c->http(&req, resp, why, sizeof(why))) {
			snprintf(err, errlen, "%s", why);
			continue;
		}
		if (resp->status >= 200 && resp->status < 300) {
			rc = 0;
			goto out;
		}
		aws_error_format(resp->status, resp->error_type, resp->body.buf,
				 resp->body.len, err, errlen);
		if (!resp->error_type[0])
			snprintf(resp->error_type, sizeof(resp->error_type),
				 "%.*s", (int)strcspn(err, ": ("), err);
		if (aws_error_expired(resp->error_type) && !refreshed) {
			refreshed = true;
			aws_creds_invalidate(c->creds);
			attempt--; /* not a failure of the service */
			continue;
		}
		if (!aws_error_retryable(resp->status, resp->error_type))
			goto out;
	}
out:
	memset(&creds, 0, sizeof(creds));
	return rc;
}
