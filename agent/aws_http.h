/*
 * aws_http.h - HTTP requests to AWS with libcurl, signed with SigV4 by
 * libcurl itself (CURLOPT_AWS_SIGV4, "aws:amz:REGION:SERVICE"), and the
 * mapping of AWS error answers to one-line reasons, with retries of
 * throttling and server errors (exponential back-off with full jitter).
 *
 * The static agent (SP_STATIC_AGENT) cannot load libcurl: there every
 * request fails with a reason saying so, and aws_http_available() is
 * false (agent_config_validate refuses the EMR settings up front).
 */
#ifndef SP_AWS_HTTP_H
#define SP_AWS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

struct aws_creds;
struct aws_provider;

#define AWS_MAX_BODY (16u << 20) /* bytes of an answer kept */

struct aws_req {
	const char *method;	  /* "GET", "POST", "PUT", "DELETE" */
	const char *url;
	const char *body;	  /* NULL for none */
	size_t body_len;
	const char *content_type; /* NULL for none */
	/* extra "Name: value" headers, NULL-terminated list, or NULL */
	const char *const *headers;
	/* SigV4: sign when service is set, with creds (a session token
	 * goes into X-Amz-Security-Token, signed) */
	const char *region;
	const char *service;
	const struct aws_creds *creds;
	long timeout_ms;
};

struct aws_resp {
	long status;
	struct strbuf body;
	char error_type[128]; /* x-amzn-ErrorType header, up to ':' */
	char request_id[128]; /* x-amzn-RequestId / x-amz-request-id */
};

void aws_resp_init(struct aws_resp *r);
/* How a request is sent: aws_http_do, or a test's fake. Returns 0 with
 * resp filled (any status), or -1 with a transport error in err. */
typedef int (*aws_http_fn)(const struct aws_req *req, struct aws_resp *resp,
			   char *err, size_t errlen);
void aws_resp_release(struct aws_resp *r);

/* Performs one request. 0 with resp filled (whatever the status), or -1
 * with a transport reason ("timed out after N ms", curl's message; never
 * the URL's credentials: AWS URLs carry none, and the keys are not in
 * it). Safe from several threads (curl_global_init once). */
int aws_http_do(const struct aws_req *req, struct aws_resp *resp, char *err,
		size_t errlen);
bool aws_http_available(char *why, size_t len);

/* An AWS error answer as "Type: message" (Type from the x-amzn-ErrorType
 * header, else the body's "__type" or "code" (after any '#'), else
 * "HTTP STATUS"; the message from "message" or "Message", else the first
 * bytes of the body), printable ASCII, one line. Pure (fuzzed). */
void aws_error_format(long status, const char *error_type, const char *body,
		      size_t len, char *out, size_t outlen);
/* Whether a retry may help: HTTP 429, 5xx, or a throttling type
 * (ThrottlingException, TooManyRequestsException,
 * EKSRequestThrottledException, RequestLimitExceeded, SlowDown). */
bool aws_error_retryable(long status, const char *type);
/* Whether the type says the credentials are stale (ExpiredToken*,
 * ExpiredTokenException): the cache is dropped and the call retried. */
bool aws_error_expired(const char *type);

/* A client: a credentials provider, a region and a retry policy. */
struct aws_client {
	struct aws_provider *creds;
	char region[64];
	long timeout_ms;
	int max_attempts;	  /* including the first; default 6 */
	int64_t backoff_base_ms;  /* default 200 */
	int64_t backoff_cap_ms;	  /* default 10000 */
	void (*sleep_ms)(int64_t ms); /* default: nanosleep; tests count */
	aws_http_fn http;	  /* default: aws_http_do */
	uint64_t retries;	  /* retries made so far (for tests) */
};

void aws_client_init(struct aws_client *c, struct aws_provider *p,
		     const char *region);

/* A signed call with retries. service names the SigV4 scope. On 2xx: 0
 * with the answer in resp. Otherwise -1 with "Type: message" in err and
 * resp holding the last answer (status 0 on a transport error); retried
 * up to max_attempts on aws_error_retryable and transport errors, and
 * once after dropping the credentials on aws_error_expired. When no
 * credentials could be had nothing is sent and resp->status is -1. */
int aws_call(struct aws_client *c, const char *service, const char *method,
	     const char *url, const char *json_body, struct aws_resp *resp,
	     char *err, size_t errlen);

/* Percent-encodes s for a URL path segment or a query value (RFC 3986
 * unreserved kept). */
void aws_uri_encode(struct strbuf *sb, const char *s, bool keep_slash);

#endif
