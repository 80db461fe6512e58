/* bhttp.c - one HTTP request through libcurl, loaded when first needed. */
#include "bhttp.h"

#include <stdio.h>
#include <string.h>

#ifndef SP_STATIC_AGENT
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>

/* the libcurl functions used, found at run time (see sparkrest.c) */
static struct {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *c);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
} lc;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_err[200];

static void load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	const char *dl;

	if (!h) {
		dl = dlerror();
		snprintf(load_err, sizeof(load_err), "cannot load libcurl: %s",
			 dl ? dl : "unknown error");
		return;
	}
	/* POSIX: a data pointer from dlsym converts to a function pointer */
	*(void **)&lc.global_init = dlsym(h, "curl_global_init");
	*(void **)&lc.easy_init = dlsym(h, "curl_easy_init");
	*(void **)&lc.easy_setopt = dlsym(h, "curl_easy_setopt");
	*(void **)&lc.easy_perform = dlsym(h, "curl_easy_perform");
	*(void **)&lc.easy_getinfo = dlsym(h, "curl_easy_getinfo");
	*(void **)&lc.easy_cleanup = dlsym(h, "curl_easy_cleanup");
	*(void **)&lc.easy_strerror = dlsym(h, "curl_easy_strerror");
	*(void **)&lc.slist_append = dlsym(h, "curl_slist_append");
	*(void **)&lc.slist_free_all = dlsym(h, "curl_slist_free_all");
	if (!lc.global_init || !lc.easy_init || !lc.easy_setopt ||
	    !lc.easy_perform || !lc.easy_getinfo || !lc.easy_cleanup ||
	    !lc.easy_strerror || !lc.slist_append || !lc.slist_free_all) {
		snprintf(load_err, sizeof(load_err),
			 "libcurl.so.4 lacks an easy-interface function");
		lc.easy_init = NULL;
		return;
	}
	if (lc.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(load_err, sizeof(load_err), "curl_global_init failed");
		lc.easy_init = NULL;
	}
}

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
	struct curl_slist *hdr = NULL;
	CURLcode rc;
	CURL *c;

	pthread_once(&once, load);
	strbuf_reset(body);
	*status = 0;
	if (!lc.easy_init || !(c = lc.easy_init())) {
		snprintf(err, errlen, "%s",
			 load_err[0] ? load_err : "curl_easy_init failed");
		return -1;
	}
	lc.easy_setopt(c, CURLOPT_URL, req->url);
	lc.easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	lc.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	lc.easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	lc.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	lc.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	lc.easy_setopt(c, CURLOPT_WRITEDATA, body);
	/* Livy refuses a POST without it (CSRF protection, when enabled) */
	hdr = lc.slist_append(hdr, "X-Requested-By: sparkpilot-agent");
	if (req->body) {
		hdr = lc.slist_append(hdr, "Content-Type: application/json");
		lc.easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
	}
	lc.easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	if (req->user) {
		lc.easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		lc.easy_setopt(c, CURLOPT_USERNAME, req->user);
		lc.easy_setopt(c, CURLOPT_PASSWORD,
			       req->password ? req->password : "");
	}
	if (req->ca_file && *req->ca_file)
		lc.easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
	rc = lc.easy_perform(c);
	if (rc == CURLE_OK)
		lc.easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	else
		snprintf(err, errlen, "%s %s: %s", req->method,
			 "request failed", lc.easy_strerror(rc));
	lc.easy_cleanup(c);
	lc.slist_free_all(hdr);
	return rc == CURLE_OK ? 0 : -1;
}

#else /* SP_STATIC_AGENT */

int bhttp_call(const struct bhttp_req *req, long *status, struct strbuf *body,
	       char *err, size_t errlen)
{
	(void)req;
	(void)body;
	*status = 0;
	snprintf(err, errlen, "this agent is statically linked and cannot "
		 "load libcurl; use sparkpilot-agent for HTTP backends");
	return -1;
}

#endif
