/*
 * curl_dl.h - libcurl, loaded on first use instead of linked. With its
 * TLS, Kerberos and LDAP libraries libcurl adds about 4 MB to the
 * resident memory of an agent, and most agents never make an HTTP call
 * (no spark_rest_url, no Livy or EMR on EKS environment). One loader for
 * every user (sparkrest.c, bhttp.c, aws_http.c).
 */
#ifndef SP_CURL_DL_H
#define SP_CURL_DL_H

#include <stddef.h>

#include <curl/curl.h>

/* The easy-interface functions the agent calls. */
struct curl_fns {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *c);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l,
					   const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/* libcurl's functions, loaded and curl_global_init'ed once (thread-safe);
 * NULL with why (one line) if it cannot be loaded, as in the static
 * agent. */
const struct curl_fns *curl_dl(char *why, size_t len);

#endif
