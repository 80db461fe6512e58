/* agentsvc.c - nng REP listener for agents, with a pool of contexts so that
 * long-polled lease requests do not block other agents, and a table of its
 * connections (pipes) that sheds and times out those that never sign a
 * message (conntable.h). */
#include "agentsvc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agentauth.h"
#include "config.h"
#include "connstats.h"
#include "conntable.h"
#include "core.h"
#include "keyreg.h"
#include "mp.h"
#include "tlscert.h"
#include "util.h"
#include "wire.h"

#define MIN_IDLE 4 /* contexts kept waiting for a request */
#define TICK_MAX_MS 1000 /* the connection timer's longest sleep */
#define WARN_EVERY_MS 10000 /* between warnings about shed connections */

struct worker {
	struct agentsvc *svc;
	nng_ctx ctx;
	nng_aio *aio;
	bool sending;
	uint32_t pipe; /* of the request in hand */
	struct worker *next;
};

struct agentsvc {
	nng_socket sock;
	nng_listener listener;
	nng_tls_config *tls;
	nng_tls_config *tls_prev; /* the one tls replaced (see agentsvc_tls) */
	struct sched *core;
	struct keyreg *keys;
	pthread_mutex_t lock; /* guards what follows */
	struct worker *workers;
	int idle;
	bool closed;
	struct conntable conns; /* pipe id -> accept time, source, ... */
	int64_t cert_not_after; /* of the TLS certificate; 0: no TLS */
	nng_aio *tick;          /* closes pipes past their deadline */
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

/* Decodes and authenticates the message (docs/architecture.md: CPU work that
 * needs no scheduling state happens on nng's threads). */
static void authenticate(struct agentsvc *s, struct event *ev)
{
	agentauth_judge(s->keys, ev);
}

/* With s->lock held: the counters queue stats shows. */
static void publish(struct agentsvc *s)
{
	struct connstats cs = { .t = s->conns.stats,
				.limit = s->conns.lim.max_total,
				.per_source = s->conns.lim.max_per_source,
				.cert_not_after = s->cert_not_after };
	connstats_publish(CONNSTATS_AGENTS, &cs);
}

/* With s->lock held: a warning at most every WARN_EVERY_MS while the caps
 * turn connections away. */
static void warn_drops(struct agentsvc *s, int64_t now)
{
	uint64_t n;

	if (conntable_warn_due(&s->conns, now, WARN_EVERY_MS, &n))
		log_warn("agent port: %llu connection(s) shed or refused at "
			 "the caps since the last warning (%llu open, limit "
			 "%zu, %zu per address)",
			 (unsigned long long)n,
			 (unsigned long long)s->conns.stats.open,
			 s->conns.lim.max_total, s->conns.lim.max_per_source);
}

static void close_pipes(const uint64_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		nng_pipe p = { .id = (uint32_t)ids[i] };
		nng_pipe_close(p);
	}
}

/* The peer's address, the key of the per-source cap. */
static void pipe_source(nng_pipe p, char *buf, size_t len)
{
	nng_sockaddr sa;

	snprintf(buf, len, "unknown");
	if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa))
		return;
	if (sa.s_family == NNG_AF_INET)
		inet_ntop(AF_INET, &sa.s_in.sa_addr, buf, (socklen_t)len);
	else if (sa.s_family == NNG_AF_INET6)
		inet_ntop(AF_INET6, sa.s_in6.sa_addr, buf, (socklen_t)len);
}

/* nng's thread: a pipe finished its handshake (admit it, or shed another
 * to make room, or refuse it), or is gone. A pipe that dies while it is
 * being admitted may be removed before it is added: it stays in the table
 * until its authentication deadline. */
static void pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct agentsvc *s = arg;
	char src[CONNTABLE_MAX_SOURCE];
	uint64_t victims[2];
	size_t nv = 0;
	int64_t now = time_mono_ms();
	int rc = 0;
	bool hangup = false;

	if (ev == NNG_PIPE_EV_ADD_PRE)
		pipe_source(p, src, sizeof(src));
	pthread_mutex_lock(&s->lock);
	if (ev == NNG_PIPE_EV_ADD_PRE) {
		rc = conntable_admit(&s->conns, p.id, src, false,
				     false, NULL, now, victims, &nv);
		warn_drops(s, now);
	} else {
		conntable_remove(&s->conns, p.id);
		/* not while closing: the core may be stopping */
		hangup = !s->closed;
	}
	publish(s);
	pthread_mutex_unlock(&s->lock);
	if (hangup) {
		struct event *h = event_new(EV_HANGUP);
		h->pipe = p.id;
		core_post(s->core, h);
	}
	if (rc)
		nng_pipe_close(p);
	close_pipes(victims, nv);
}

/* nng's timer: closes the pipes past their deadline, then sleeps until
 * the next one (at most TICK_MAX_MS). */
static void tick_cb(void *arg)
{
	struct agentsvc *s = arg;
	uint64_t *ids = NULL, id;
	size_t n = 0, alloc = 0;
	enum conntable_why why;
	void *data;
	int64_t now = time_mono_ms(), next;
	bool closed;

	pthread_mutex_lock(&s->lock);
	while (conntable_expire(&s->conns, now, &id, &data, &why)) {
		ids = xgrow(ids, &alloc, n + 1, sizeof(*ids));
		ids[n++] = id;
	}
	next = conntable_next_deadline(&s->conns) - now;
	warn_drops(s, now);
	publish(s);
	closed = s->closed;
	pthread_mutex_unlock(&s->lock);
	close_pipes(ids, n);
	if (n)
		log_debug("agent port: closed %zu connection(s) past their "
			  "deadline", n);
	free(ids);
	if (closed || nng_aio_result(s->tick) == NNG_ECANCELED)
		return;
	nng_sleep_aio(next < 10 ? 10 : next > TICK_MAX_MS ? TICK_MAX_MS
							  : (nng_duration)next,
		      s->tick);
}

/* true if the reply buffer is a map with ok: true. */
static bool reply_ok(const struct strbuf *reply)
{
	msgpack_unpacked u;
	bool ok = false;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, reply->buf, reply->len, NULL) ==
	    MSGPACK_UNPACK_SUCCESS)
		mp_get_bool(&u.data, "ok", &ok);
	msgpack_unpacked_destroy(&u);
	return ok;
}

/* A request on w->pipe was answered or dropped. */
static void pipe_done(struct worker *w)
{
	struct agentsvc *s = w->svc;

	pthread_mutex_lock(&s->lock);
	conntable_done(&s->conns, w->pipe, time_mono_ms());
	pthread_mutex_unlock(&s->lock);
}

/* Core thread: the reply is durable; send it on the worker's context. An
 * enrollment the core accepted authenticates its pipe. */
static void worker_reply(struct event *ev)
{
	struct worker *w = ev->owner;
	struct agentsvc *s = w->svc;
	nng_msg *msg;

	if (ev->auth == AUTH_ENROLL && reply_ok(&ev->reply)) {
		pthread_mutex_lock(&s->lock);
		conntable_authenticate(&s->conns, w->pipe, time_mono_ms());
		pthread_mutex_unlock(&s->lock);
	}
	if (nng_msg_alloc(&msg, 0) ||
	    nng_msg_append(msg, ev->reply.buf, ev->reply.len)) {
		event_free(ev);
		pipe_done(w);
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
	int64_t now;

	w->pipe = nng_msg_get_pipe(msg).id;
	ev->pipe = w->pipe;
	ev->len = nng_msg_len(msg);
	ev->buf = xmalloc(ev->len ? ev->len : 1);
	memcpy(ev->buf, nng_msg_body(msg), ev->len);
	nng_msg_free(msg);
	authenticate(s, ev);
	ev->done = worker_reply;
	ev->owner = w;
	now = time_mono_ms();
	pthread_mutex_lock(&s->lock);
	conntable_busy(&s->conns, w->pipe, now);
	if (ev->auth == AUTH_OK) /* its pipe needs no deadline anymore */
		conntable_authenticate(&s->conns, w->pipe, now);
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
		conntable_done(&s->conns, w->pipe, time_mono_ms());
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

/* A server TLS configuration from checked PEM texts (tlscert.h). */
static int tls_config(const struct tlscert *tc, nng_tls_config **out,
		      char *err, size_t errlen)
{
	nng_tls_config *t;
	int rv = nng_tls_config_alloc(&t, NNG_TLS_MODE_SERVER);

	if (rv) {
		snprintf(err, errlen, "TLS setup failed: %s", nng_strerror(rv));
		return -1;
	}
	rv = nng_tls_config_own_cert(t, tc->cert, tc->key, NULL);
	if (!rv && tc->ca) {
		/* A CA configured here means agents must present a
		 * certificate it signed (mutual TLS). */
		rv = nng_tls_config_ca_chain(t, tc->ca, NULL);
		if (!rv)
			rv = nng_tls_config_auth_mode(t,
						      NNG_TLS_AUTH_MODE_REQUIRED);
	}
	if (rv) {
		nng_tls_config_free(t);
		snprintf(err, errlen, "TLS setup failed: %s", nng_strerror(rv));
		return -1;
	}
	*out = t;
	return 0;
}

/* With s->lock held: the certificate's expiry, for /metrics. */
static void set_cert_expiry(struct agentsvc *s, const struct tlscert *tc)
{
	s->cert_not_after = tc->not_after;
	publish(s);
}

/* nng prepares the TLS side of the next connection when it starts to wait
 * for it, with the configuration in force then: after a swap, one
 * connection would still get the old certificate. A connection of our own
 * takes that place (the kernel hands them over in order, so a client that
 * connects after this returns gets the new one). Best effort: if it
 * fails, one more handshake serves the old certificate. */
static void take_prepared_accept(struct agentsvc *s)
{
	nng_sockaddr sa;
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd;

	if (nng_listener_get_addr(s->listener, NNG_OPT_LOCADDR, &sa))
		return;
	if (sa.s_family == NNG_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = sa.s_in.sa_port;
		in->sin_addr.s_addr = sa.s_in.sa_addr ? sa.s_in.sa_addr
						     : htonl(INADDR_LOOPBACK);
		len = sizeof(*in);
	} else if (sa.s_family == NNG_AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		static const uint8_t any[16];
		in6->sin6_family = AF_INET6;
		in6->sin6_port = sa.s_in6.sa_port;
		if (memcmp(sa.s_in6.sa_addr, any, 16))
			memcpy(&in6->sin6_addr, sa.s_in6.sa_addr, 16);
		else
			in6->sin6_addr = in6addr_loopback;
		len = sizeof(*in6);
	} else {
		return;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return;
	if (connect(fd, (struct sockaddr *)&ss, len))
		log_debug("agent port: cannot cycle the prepared TLS accept: %s",
			  strerror(errno));
	close(fd);
}

int agentsvc_tls(struct agentsvc *s, const struct tlscert *tc, char *err,
		 size_t errlen)
{
	nng_tls_config *t;
	int rv;

	if (tls_config(tc, &t, err, errlen))
		return -1;
	/* nng holds the configuration it is given (and each connection the
	 * one it started with): new handshakes use t, the connections up now
	 * keep theirs. nng 1.5 reads the listener's configuration for a new
	 * connection before it takes its reference, without a lock: our
	 * reference to the replaced one is kept until the next swap, so
	 * that an accept under way never sees it freed. */
	rv = nng_listener_set_ptr(s->listener, NNG_OPT_TLS_CONFIG, t);
	if (rv) {
		nng_tls_config_free(t);
		snprintf(err, errlen, "TLS setup failed: %s", nng_strerror(rv));
		return -1;
	}
	if (s->tls_prev)
		nng_tls_config_free(s->tls_prev);
	s->tls_prev = s->tls;
	s->tls = t;
	if (s->tls_prev)
		take_prepared_accept(s);
	pthread_mutex_lock(&s->lock);
	set_cert_expiry(s, tc);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

struct agentsvc *agentsvc_start(const struct sched_config *cfg,
				const struct tlscert *tc,
				const struct conntable_limits *lim,
				struct sched *core, struct keyreg *keys,
				char *err, size_t errlen)
{
	struct agentsvc *s = xcalloc(1, sizeof(*s));
	int rv;

	s->core = core;
	s->keys = keys;
	pthread_mutex_init(&s->lock, NULL);
	conntable_init(&s->conns, lim);
	publish(s);
	if ((rv = nng_aio_alloc(&s->tick, tick_cb, s)) ||
	    (rv = nng_rep0_open(&s->sock)) ||
	    (rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ,
				      WIRE_MAX_MSG)) ||
	    (rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_ADD_PRE, pipe_cb, s)) ||
	    (rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, pipe_cb, s)) ||
	    (rv = nng_listener_create(&s->listener, s->sock, cfg->listen))) {
		snprintf(err, errlen, "cannot listen on '%s': %s", cfg->listen,
			 nng_strerror(rv));
		goto fail;
	}
	if (tc && agentsvc_tls(s, tc, err, errlen))
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
	nng_sleep_aio(TICK_MAX_MS, s->tick);
	return s;
fail:
	agentsvc_close(s);
	agentsvc_free(s);
	return NULL;
}

void agentsvc_set_limits(struct agentsvc *s,
			 const struct conntable_limits *lim)
{
	pthread_mutex_lock(&s->lock);
	conntable_set_limits(&s->conns, lim);
	publish(s);
	pthread_mutex_unlock(&s->lock);
}

void agentsvc_close(struct agentsvc *s)
{
	pthread_mutex_lock(&s->lock);
	s->closed = true;
	pthread_mutex_unlock(&s->lock);
	nng_aio_stop(s->tick);
	nng_close(s->sock);
}

/* agentsvc_close on a thread of its own, so that the caller can stop
 * waiting for it: libnng 1.5's nng_close can wait forever for an aio
 * caught between being started and scheduled (fixed in nng 1.8). */
struct closer {
	struct agentsvc *s;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done, abandoned;
};

static void closer_free(struct closer *k)
{
	pthread_mutex_destroy(&k->mu);
	pthread_cond_destroy(&k->cv);
	free(k);
}

static void *close_main(void *arg)
{
	struct closer *k = arg;
	bool abandoned;

	agentsvc_close(k->s);
	pthread_mutex_lock(&k->mu);
	k->done = true;
	abandoned = k->abandoned;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	if (abandoned)
		closer_free(k);
	return NULL;
}

int agentsvc_close_within(struct agentsvc *s, int64_t ms)
{
	struct closer *k = xcalloc(1, sizeof(*k));
	struct timespec until;
	pthread_condattr_t ca;
	pthread_t t;
	bool done;

	k->s = s;
	pthread_mutex_init(&k->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&t, NULL, close_main, k)) {
		closer_free(k);
		agentsvc_close(s);
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&k->mu);
	while (!k->done &&
	       pthread_cond_timedwait(&k->cv, &k->mu, &until) != ETIMEDOUT)
		;
	done = k->done;
	k->abandoned = !done;
	pthread_mutex_unlock(&k->mu);
	if (!done) {
		pthread_detach(t);
		return -1; /* the thread frees k if it ever returns */
	}
	pthread_join(t, NULL);
	closer_free(k);
	return 0;
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
	if (s->tls_prev)
		nng_tls_config_free(s->tls_prev);
	nng_aio_free(s->tick);
	conntable_release(&s->conns);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
