/* curl_dl.c - libcurl loaded on first use (see curl_dl.h). */
#include "curl_dl.h"

#include <stdio.h>

#ifndef SP_STATIC_AGENT
#include <dlfcn.h>
#include <pthread.h>

static struct curl_fns fns;
static const struct curl_fns *loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_err[200];

static void load(void)
{
	CURLcode (*global_init)(long flags);
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	const char *dl;

	if (!h) {
		dl = dlerror();
		snprintf(load_err, sizeof(load_err), "cannot load libcurl: %s",
			 dl ? dl : "unknown error");
		return;
	}
	/* POSIX: a data pointer from dlsym converts to a function pointer */
	*(void **)&global_init = dlsym(h, "curl_global_init");
	*(void **)&fns.easy_init = dlsym(h, "curl_easy_init");
	*(void **)&fns.easy_setopt = dlsym(h, "curl_easy_setopt");
	*(void **)&fns.easy_perform = dlsym(h, "curl_easy_perform");
	*(void **)&fns.easy_getinfo = dlsym(h, "curl_easy_getinfo");
	*(void **)&fns.easy_cleanup = dlsym(h, "curl_easy_cleanup");
	*(void **)&fns.easy_strerror = dlsym(h, "curl_easy_strerror");
	*(void **)&fns.slist_append = dlsym(h, "curl_slist_append");
	*(void **)&fns.slist_free_all = dlsym(h, "curl_slist_free_all");
	if (!global_init || !fns.easy_init || !fns.easy_setopt ||
	    !fns.easy_perform || !fns.easy_getinfo || !fns.easy_cleanup ||
	    !fns.easy_strerror || !fns.slist_append || !fns.slist_free_all) {
		snprintf(load_err, sizeof(load_err),
			 "libcurl.so.4 lacks an easy-interface function");
		return;
	}
	if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(load_err, sizeof(load_err), "curl_global_init failed");
		return;
	}
	loaded = &fns;
}

const struct curl_fns *curl_dl(char *why, size_t len)
{
	pthread_once(&once, load);
	if (!loaded)
		snprintf(why, len, "%s", load_err);
	return loaded;
}

#else /* SP_STATIC_AGENT: a static process cannot dlopen libcurl */

const struct curl_fns *curl_dl(char *why, size_t len)
{
	snprintf(why, len, "this agent is statically linked and cannot load "
		 "libcurl; use sparkpilot-agent for HTTP (spark_rest_url, the "
		 "livy and emr-eks backends)");
	return NULL;
}

#endif
