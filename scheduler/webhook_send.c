/* webhook_send.c - the delivery thread: signed POSTs with libcurl. */
#include "webhook_send.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "util.h"
#include "version.h"

struct webhook_sender {
	struct sched *c;
	struct webhook_send_opts o;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct webhook_job *head, *tail;
	atomic_bool stop; /* read by curl's progress callback */
};

void webhook_job_free(struct webhook_job *job)
{
	if (!job)
		return;
	free(job->body);
	OPENSSL_cleanse(job->secret, sizeof(job->secret));
	free(job);
}

/* The answer's body is not used: read and dropped. */
static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

/* Cuts an attempt short when the scheduler stops. */
static int progress(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c,
		    curl_off_t d)
{
	struct webhook_sender *ws = ctx;
	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return atomic_load(&ws->stop) ? 1 : 0;
}

/* The request: job's body, signed headers hdr, the limits and checks;
 * curl's words for a failure into why (CURL_ERROR_SIZE). */
static void set_options(struct webhook_sender *ws, CURL *curl,
			const struct webhook_job *job, struct curl_slist *hdr,
			char *why)
{
	char ua[96];

	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, job->url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, job->body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)job->body_len);
	snprintf(ua, sizeof(ua), "SparkPilot-Webhooks/%s", sp_version());
	curl_easy_setopt(curl, CURLOPT_USERAGENT, ua); /* curl copies it */
	/* a redirect could lead anywhere, another tenant's host included */
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)ws->o.timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)ws->o.connect_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ws->o.ca_file[0])
		curl_easy_setopt(curl, CURLOPT_CAINFO, ws->o.ca_file);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	/* curl's own words say which check failed (a certificate's issuer,
	 * a refused connection): host and port, never the URL's path */
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, why);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, ws);
}

/* One attempt of job on curl (reused: it keeps connections alive),
 * signed with this moment's timestamp. */
static void deliver(struct webhook_sender *ws, CURL *curl,
		    const struct webhook_job *job, struct webhook_result *res)
{
	struct curl_slist *hdr = NULL;
	char sig[WEBHOOK_SIG_LEN], line[WEBHOOK_MSG_ID_LEN + 64];
	char why[CURL_ERROR_SIZE] = "";
	int64_t ts = time_now_ms() / 1000;
	CURLcode rc;

	memset(res, 0, sizeof(*res));
	res->seq = job->seq;
	if (webhook_sign(job->secret, job->msg_id, ts, job->body,
			 job->body_len, sig)) {
		snprintf(res->error, sizeof(res->error),
			 "the hook's secret does not decode");
		return;
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	snprintf(line, sizeof(line), "webhook-id: %s", job->msg_id);
	hdr = curl_slist_append(hdr, line);
	snprintf(line, sizeof(line), "webhook-timestamp: %lld", (long long)ts);
	hdr = curl_slist_append(hdr, line);
	snprintf(line, sizeof(line), "webhook-signature: %s", sig);
	hdr = curl_slist_append(hdr, line);
	hdr = curl_slist_append(hdr, "Expect:"); /* no 100-continue wait */
	set_options(ws, curl, job, hdr, why);
	rc = curl_easy_perform(curl);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL); /* why goes away */
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		snprintf(res->error, sizeof(res->error), "%s",
			 why[0] ? why : curl_easy_strerror(rc));
		return;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res->status);
	res->ok = res->status >= 200 && res->status < 300;
	if (!res->ok)
		snprintf(res->error, sizeof(res->error), "HTTP status %ld",
			 res->status);
}

static struct webhook_job *next_job(struct webhook_sender *ws)
{
	struct webhook_job *job;

	pthread_mutex_lock(&ws->lock);
	while (!ws->head && !atomic_load(&ws->stop))
		pthread_cond_wait(&ws->wake, &ws->lock);
	job = atomic_load(&ws->stop) ? NULL : ws->head;
	if (job) {
		ws->head = job->next;
		if (!ws->head)
			ws->tail = NULL;
	}
	pthread_mutex_unlock(&ws->lock);
	return job;
}

static void *sender_main(void *arg)
{
	struct webhook_sender *ws = arg;
	CURL *curl = curl_easy_init();
	struct webhook_job *job;

	while ((job = next_job(ws))) {
		struct webhook_result *res = xcalloc(1, sizeof(*res));
		struct event *ev;
		if (curl) {
			deliver(ws, curl, job, res);
		} else {
			res->seq = job->seq;
			snprintf(res->error, sizeof(res->error),
				 "libcurl could not start");
		}
		webhook_job_free(job);
		if (atomic_load(&ws->stop)) { /* cut short: not an outcome */
			free(res);
			break;
		}
		ev = event_new(EV_WEBHOOK);
		ev->work = res;
		core_post(ws->c, ev);
	}
	if (curl)
		curl_easy_cleanup(curl);
	return NULL;
}

struct webhook_sender *webhook_send_start(struct sched *c,
					  const struct webhook_send_opts *o)
{
	struct webhook_sender *ws = xcalloc(1, sizeof(*ws));

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(ws);
		return NULL;
	}
	ws->c = c;
	ws->o = *o;
	atomic_init(&ws->stop, false);
	pthread_mutex_init(&ws->lock, NULL);
	pthread_cond_init(&ws->wake, NULL);
	if (pthread_create(&ws->thread, NULL, sender_main, ws)) {
		pthread_mutex_destroy(&ws->lock);
		pthread_cond_destroy(&ws->wake);
		free(ws);
		return NULL;
	}
	return ws;
}

void webhook_send_push(struct webhook_sender *ws, struct webhook_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&ws->lock);
	if (ws->tail)
		ws->tail->next = job;
	else
		ws->head = job;
	ws->tail = job;
	pthread_cond_signal(&ws->wake);
	pthread_mutex_unlock(&ws->lock);
}

void webhook_send_stop(struct webhook_sender *ws)
{
	struct webhook_job *job;

	if (!ws)
		return;
	pthread_mutex_lock(&ws->lock);
	atomic_store(&ws->stop, true);
	pthread_cond_signal(&ws->wake);
	pthread_mutex_unlock(&ws->lock);
	pthread_join(ws->thread, NULL);
	while ((job = ws->head)) {
		ws->head = job->next;
		webhook_job_free(job);
	}
	pthread_mutex_destroy(&ws->lock);
	pthread_cond_destroy(&ws->wake);
	free(ws);
}
