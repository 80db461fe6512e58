/* bhttp.c - one HTTP request through libcurl, loaded when first needed. */
#include "bhttp.h"

#include <stdio.h>
#include <string.h>

#include "curl_dl.h"

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct strbuf *sb = ctx;
	size_t len = size * n;

	if (sb->len + len > BHTTP_MAX_BODY)
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	strbuf_add(sb, p, len);
	return len;
}

int bhttp_call(const struct bhttp_req *req, long *status, struct strbuf *body,
	       char *err, size_t errlen)
{
	const struct curl_fns *lc = curl_dl(err, errlen);
	struct curl_slist *hdr = NULL;
	CURLcode rc;
	CURL *c;

	strbuf_reset(body);
	*status = 0;
	if (!lc)
		return -1;
	if (!(c = lc->easy_init())) {
		snprintf(err, errlen, "curl_easy_init failed");
		return -1;
	}
	lc->easy_setopt(c, CURLOPT_URL, req->url);
	lc->easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	lc->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	lc->easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	lc->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	lc->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	lc->easy_setopt(c, CURLOPT_WRITEDATA, body);
	/* Livy refuses a POST without it (CSRF protection, when enabled) */
	hdr = lc->slist_append(hdr, "X-Requested-By: sparkpilot-agent");
	if (req->body) {
		hdr = lc->slist_append(hdr, "Content-Type: application/json");
		lc->easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
	}
	lc->easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	if (req->user) {
		lc->easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		lc->easy_setopt(c, CURLOPT_USERNAME, req->user);
		lc->easy_setopt(c, CURLOPT_PASSWORD,
			       req->password ? req->password : "");
	}
	if (req->ca_file && *req->ca_file)
		lc->easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
	rc = lc->easy_perform(c);
	if (rc == CURLE_OK)
		lc->easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	else
		snprintf(err, errlen, "%s %s: %s", req->method,
			 "request failed", lc->easy_strerror(rc));
	lc->easy_cleanup(c);
	lc->slist_free_all(hdr);
	return rc == CURLE_OK ? 0 : -1;
}
