/* agentsvc.c - nng REP listener for agents, with a pool of contexts so that
 * long-polled lease requests do not block other agents. */
#include "agentsvc.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core.h"
#include "keyreg.h"
#include "mp.h"
#include "sign.h"
#include "telemetry.h"
#include "util.h"
#include "wire.h"

#define MIN_IDLE 4 /* contexts kept waiting for a request */

struct worker {
	struct agentsvc *svc;
	nng_ctx ctx;
	nng_aio *aio;
	bool sending;
	struct worker *next;
};

struct agentsvc {
	nng_socket sock;
	nng_listener listener;
	nng_tls_config *tls;
	struct sched *core;
	struct keyreg *keys;
	pthread_mutex_t lock;
	struct worker *workers;
	int idle;
	bool closed;
};

static void worker_cb(void *arg);

static int worker_new(struct agentsvc *s)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	w->svc = s;
	if (nng_aio_alloc(&w->aio, worker_cb, w) ||
	    nng_ctx_open(&w->ctx, s->sock)) {
		if (w->aio)
			nng_aio_free(w->aio);
		free(w);
		return -1;
	}
	pthread_mutex_lock(&s->lock);
	w->next = s->workers;
	s->workers = w;
	s->idle++;
	pthread_mutex_unlock(&s->lock);
	nng_ctx_recv(w->ctx, w->aio);
	return 0;
}

/* Decodes and authenticates the message (DESIGN.md §1: CPU work that
 * needs no scheduling state happens on nng's threads). */
static void authenticate(struct agentsvc *s, struct event *ev)
{
	char err[128];
	uint8_t pub[SIGN_PUB_LEN];
	const char *bin;
	size_t len;
	int rc = wire_open(ev->buf, ev->len, &ev->msg, err, sizeof(err));

	ev->msg_open = true;
	if (rc == WIRE_MALFORMED) {
		ev->auth = AUTH_MALFORMED;
		snprintf(ev->auth_detail, sizeof(ev->auth_detail), "%s", err);
	} else if (rc == WIRE_UNSIGNED) {
		ev->auth = AUTH_UNSIGNED;
	} else if (!strcmp(ev->msg.type, "enroll")) {
		/* Proof of possession of the key being enrolled. */
		if (mp_get_bin(ev->msg.body, "pubkey", &bin, &len) ||
		    len != SIGN_PUB_LEN)
			ev->auth = AUTH_MALFORMED;
		else
			ev->auth = wire_verify(&ev->msg, (const uint8_t *)bin)
					   ? AUTH_MALFORMED
					   : AUTH_ENROLL;
	} else if (!keyreg_get(s->keys, ev->msg.agent, pub)) {
		ev->auth = AUTH_FORGED;
	} else {
		ev->auth = wire_verify(&ev->msg, pub) ? AUTH_FORGED : AUTH_OK;
		if (ev->auth == AUTH_OK && !strcmp(ev->msg.type, "telemetry")) {
			ev->pre = telemetry_precheck(&ev->msg, pub);
			ev->pre_free = telemetry_pre_free;
		}
	}
}

/* Core thread: the reply is durable; send it on the worker's context. */
static void worker_reply(struct event *ev)
{
	struct worker *w = ev->owner;
	nng_msg *msg;

	if (nng_msg_alloc(&msg, 0) ||
	    nng_msg_append(msg, ev->reply.buf, ev->reply.len)) {
		event_free(ev);
		nng_ctx_recv(w->ctx, w->aio); /* drop: the agent resends */
		return;
	}
	event_free(ev);
	w->sending = true;
	nng_aio_set_msg(w->aio, msg);
	nng_ctx_send(w->ctx, w->aio);
}

static void on_request(struct worker *w)
{
	struct agentsvc *s = w->svc;
	nng_msg *msg = nng_aio_get_msg(w->aio);
	struct event *ev = event_new(EV_AGENT);
	bool need_worker;

	ev->len = nng_msg_len(msg);
	ev->buf = xmalloc(ev->len ? ev->len : 1);
	memcpy(ev->buf, nng_msg_body(msg), ev->len);
	nng_msg_free(msg);
	authenticate(s, ev);
	ev->done = worker_reply;
	ev->owner = w;
	pthread_mutex_lock(&s->lock);
	s->idle--;
	need_worker = s->idle < MIN_IDLE && !s->closed;
	pthread_mutex_unlock(&s->lock);
	if (need_worker && worker_new(s))
		log_warn("cannot open another agent context");
	core_post(s->core, ev);
}

static void worker_cb(void *arg)
{
	struct worker *w = arg;
	struct agentsvc *s = w->svc;
	int rv = nng_aio_result(w->aio);

	if (w->sending) {
		w->sending = false;
		if (rv)
			nng_msg_free(nng_aio_get_msg(w->aio));
		pthread_mutex_lock(&s->lock);
		s->idle++;
		pthread_mutex_unlock(&s->lock);
		if (rv == NNG_ECLOSED)
			return;
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	if (rv == NNG_ECLOSED)
		return;
	if (rv) {
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	on_request(w);
}

static int setup_tls(struct agentsvc *s, const struct sched_config *cfg,
		     char *err, size_t errlen)
{
	char *cert = NULL, *key = NULL, *ca = NULL;
	int rv;

	cert = read_file(cfg->tls_cert, 1 << 20, NULL);
	key = read_file(cfg->tls_key, 1 << 20, NULL);
	if (cfg->tls_ca[0])
		ca = read_file(cfg->tls_ca, 1 << 20, NULL);
	if (!cert || !key || (cfg->tls_ca[0] && !ca)) {
		snprintf(err, errlen, "cannot read TLS file '%s'",
			 !cert ? cfg->tls_cert : !key ? cfg->tls_key
						     : cfg->tls_ca);
		rv = -1;
		goto out;
	}
	rv = nng_tls_config_alloc(&s->tls, NNG_TLS_MODE_SERVER);
	if (!rv)
		rv = nng_tls_config_own_cert(s->tls, cert, key, NULL);
	if (!rv && ca) {
		/* A CA configured here means agents must present a
		 * certificate it signed (mutual TLS). */
		rv = nng_tls_config_ca_chain(s->tls, ca, NULL);
		if (!rv)
			rv = nng_tls_config_auth_mode(s->tls,
						      NNG_TLS_AUTH_MODE_REQUIRED);
	}
	if (!rv)
		rv = nng_listener_set_ptr(s->listener, NNG_OPT_TLS_CONFIG,
					  s->tls);
	if (rv)
		snprintf(err, errlen, "TLS setup failed: %s", nng_strerror(rv));
out:
	free(cert);
	free(key);
	free(ca);
	return rv ? -1 : 0;
}

struct agentsvc *agentsvc_start(const struct sched_config *cfg,
				struct sched *core, struct keyreg *keys,
				char *err, size_t errlen)
{
	struct agentsvc *s = xcalloc(1, sizeof(*s));
	int rv;

	s->core = core;
	s->keys = keys;
	pthread_mutex_init(&s->lock, NULL);
	if ((rv = nng_rep0_open(&s->sock)) ||
	    (rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ,
				      WIRE_MAX_MSG)) ||
	    (rv = nng_listener_create(&s->listener, s->sock, cfg->listen))) {
		snprintf(err, errlen, "cannot listen on '%s': %s", cfg->listen,
			 nng_strerror(rv));
		goto fail;
	}
	if (!strncmp(cfg->listen, "tls+tcp://", 10) &&
	    setup_tls(s, cfg, err, errlen))
		goto fail;
	if ((rv = nng_listener_start(s->listener, 0))) {
		snprintf(err, errlen, "cannot listen on '%s': %s", cfg->listen,
			 nng_strerror(rv));
		goto fail;
	}
	for (int i = 0; i < MIN_IDLE * 2; i++)
		if (worker_new(s)) {
			snprintf(err, errlen, "cannot open agent contexts");
			goto fail;
		}
	return s;
fail:
	agentsvc_close(s);
	agentsvc_free(s);
	return NULL;
}

void agentsvc_close(struct agentsvc *s)
{
	pthread_mutex_lock(&s->lock);
	s->closed = true;
	pthread_mutex_unlock(&s->lock);
	nng_close(s->sock);
}

void agentsvc_free(struct agentsvc *s)
{
	struct worker *w, *next;
	for (w = s->workers; w; w = next) {
		next = w->next;
		nng_aio_stop(w->aio);
		nng_ctx_close(w->ctx);
		nng_aio_free(w->aio);
		free(w);
	}
	if (s->tls)
		nng_tls_config_free(s->tls);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
