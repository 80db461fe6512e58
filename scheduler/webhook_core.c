/* webhook_core.c - webhook hooks and the durable outbox, on the core thread. */
#include "webhook_core.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "budget.h"
#include "core.h"
#include "diskguard.h"
#include "json.h"
#include "log.h"
#include "parse.h"
#include "sched_ctx.h"
#include "util.h"
#include "webhook_send.h"

static struct webhook_core *wh_of(struct sched *c)
{
	return c->webhooks;
}

static uint32_t next_rnd(struct webhook_core *w)
{
	w->rnd ^= w->rnd << 13;
	w->rnd ^= w->rnd >> 7;
	w->rnd ^= w->rnd << 17;
	return (uint32_t)(w->rnd >> 32);
}

struct webhook_hook *webhook_core_find(struct sched *c, const char *id)
{
	struct webhook_core *w = wh_of(c);

	for (size_t i = 0; w && i < w->hooks.n; i++) {
		struct webhook_hook *h = w->hooks.v[i];
		if (!strcmp(h->id, id))
			return h;
	}
	return NULL;
}

size_t webhook_core_count(struct sched *c, const char *tenant)
{
	struct webhook_core *w = wh_of(c);
	size_t n = 0;

	for (size_t i = 0; i < w->hooks.n; i++)
		n += !strcmp(((struct webhook_hook *)w->hooks.v[i])->tenant,
			     tenant);
	return n;
}

/* The index of the msg numbered seq in w->msgs (sorted), or -1. */
static ssize_t msg_index(struct webhook_core *w, uint64_t seq)
{
	size_t lo = 0, hi = w->msgs.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t s = ((struct webhook_msg *)w->msgs.v[mid])->seq;
		if (s == seq)
			return (ssize_t)mid;
		if (s < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Drops msg i from memory, keeping the order. */
static void msg_drop(struct webhook_core *w, size_t i)
{
	struct webhook_msg *m = w->msgs.v[i];

	memmove(&w->msgs.v[i], &w->msgs.v[i + 1],
		(w->msgs.n - i - 1) * sizeof(void *));
	w->msgs.n--;
	if (m->fresh)
		ptrvec_remove(&w->fresh, m);
	if (m->state == WH_PENDING && w->pending)
		w->pending--;
	webhook_msg_release(m);
	free(m);
}

static struct webhook_hook *hook_of(struct sched *c,
				    const struct webhook_msg *m)
{
	return webhook_core_find(c, m->hook);
}

/* ---- new deliveries ---- */

/* Queues body (owned by the caller) as a delivery of type to h, written
 * to this turn's batch. The event's tenant must be h's: checked here,
 * the last gate before anything is sent. */
static struct webhook_msg *enqueue(struct sched *c, struct webhook_hook *h,
				   const char *tenant, const char *type,
				   const struct strbuf *body)
{
	struct webhook_core *w = wh_of(c);
	struct webhook_msg *m;
	uint8_t seqb[8];

	if (strcmp(h->tenant, tenant) || h->removed)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	m->seq = ++w->seq;
	snprintf(m->hook, sizeof(m->hook), "%s", h->id);
	/* the id a receiver deduplicates by: stored, so the same on every
	 * attempt and after a restart */
	snprintf(m->msg_id, sizeof(m->msg_id), "msg_%016" PRIx64, m->seq);
	snprintf(m->type, sizeof(m->type), "%s", type);
	m->created_ms = m->next_ms = c->now_ms;
	m->body = xstrndup(body->buf, body->len);
	m->body_len = body->len;
	m->fresh = true;
	ptrvec_push(&w->msgs, m);
	ptrvec_push(&w->fresh, m);
	w->pending++;
	h->pending++;
	webhook_rec_put_msg(c->batch, c->store, m);
	store_put_u64be(seqb, w->seq);
	store_batch_put(c->batch, c->store, CF_META, META_WEBHOOK_SEQ,
			strlen(META_WEBHOOK_SEQ), seqb, 8);
	return m;
}

/* {"type":T,"timestamp":RFC3339,"data":{ ... : the caller's members */
static void body_open(struct sched *c, struct jw *jw, struct strbuf *sb,
		      const char *type)
{
	char ts[40];

	time_format_iso(c->now_ms, ts, sizeof(ts));
	jw_init(jw, sb);
	jw_obj_open(jw, NULL);
	jw_str(jw, "type", type);
	jw_str(jw, "timestamp", ts);
	jw_obj_open(jw, "data");
}

static void body_close(struct jw *jw)
{
	jw_obj_close(jw);
	jw_obj_close(jw);
}

/* Sends body to each of tenant's hooks whose filter takes type. */
static void fan_out(struct sched *c, const char *tenant, const char *type,
		    const struct strbuf *body)
{
	struct webhook_core *w = wh_of(c);

	for (size_t i = 0; i < w->hooks.n; i++) {
		struct webhook_hook *h = w->hooks.v[i];
		if (!strcmp(h->tenant, tenant) &&
		    webhook_filter_match(h->events, type))
			enqueue(c, h, tenant, type, body);
	}
}

static bool tenant_has_hooks(struct sched *c, const char *tenant)
{
	return wh_of(c) && webhook_core_count(c, tenant) > 0;
}

void webhook_core_run_ended(struct sched *c, const struct run *r)
{
	const char *type = webhook_run_event(r);
	const struct run_detail *d = run_detail(r);
	struct strbuf sb = STRBUF_INIT;
	struct jw jw;
	char usd[40], ended[40];

	if (!type || !tenant_has_hooks(c, run_tenant(r)))
		return;
	/* what the run is and how it ended; never its arguments or log */
	body_open(c, &jw, &sb, type);
	jw_str(&jw, "tenant", r->job->tenant);
	jw_str(&jw, "env", r->job->env);
	jw_str(&jw, "job", r->job->name);
	jw_uint(&jw, "run_id", r->id);
	jw_str(&jw, "state", run_state_label(r));
	jw_uint(&jw, "attempt", r->attempt);
	jw_int(&jw, "exit_code", r->exit_code);
	jw_str(&jw, "reason", d->reason && d->reason[0] ? d->reason : NULL);
	jw_str(&jw, "failure_class",
	       d->failure_class && d->failure_class[0] ? d->failure_class
						       : NULL);
	format_usd(d->cost, usd, sizeof(usd));
	jw_str(&jw, "cost_usd", usd);
	jw_int(&jw, "cost_micro_usd", d->cost);
	time_format_iso(run_state_ms(r, r->state), ended, sizeof(ended));
	jw_str(&jw, "ended", ended);
	body_close(&jw);
	fan_out(c, run_tenant(r), type, &sb);
	strbuf_release(&sb);
}

void webhook_core_cost_event(struct sched *c, const struct cost_event *ev)
{
	struct strbuf sb = STRBUF_INIT;
	struct jw jw;
	char type[WEBHOOK_TYPE_LEN];

	if (!tenant_has_hooks(c, ev->tenant))
		return;
	snprintf(type, sizeof(type), "budget.%s", ev->kind);
	body_open(c, &jw, &sb, type);
	jw_str(&jw, "tenant", ev->tenant);
	jw_str(&jw, "kind", ev->kind);
	jw_str(&jw, "text", ev->text);
	body_close(&jw);
	fan_out(c, ev->tenant, type, &sb);
	strbuf_release(&sb);
}

const char *webhook_core_test(struct sched *c, struct webhook_hook *h)
{
	struct strbuf sb = STRBUF_INIT;
	struct jw jw;
	struct webhook_msg *m;

	body_open(c, &jw, &sb, "webhook.test");
	jw_str(&jw, "tenant", h->tenant);
	jw_str(&jw, "hook", h->id);
	body_close(&jw);
	m = enqueue(c, h, h->tenant, "webhook.test", &sb);
	strbuf_release(&sb);
	return m ? m->msg_id : "";
}

void webhook_core_committed(struct sched *c)
{
	struct webhook_core *w = wh_of(c);

	if (!w || diskguard_down(c))
		return;
	for (size_t i = 0; i < w->fresh.n; i++) {
		struct webhook_msg *m = w->fresh.v[i];
		m->fresh = false;
		if (m->next_ms < w->due_ms)
			w->due_ms = m->next_ms;
	}
	w->fresh.n = 0;
}

/* ---- attempts ---- */

/* Keeps at most WEBHOOK_DEAD_KEEP dead deliveries of h: the oldest go,
 * so that an endpoint gone for good does not fill the store. */
static void prune_dead(struct sched *c, const struct webhook_hook *h)
{
	struct webhook_core *w = wh_of(c);
	size_t dead = 0;

	for (size_t i = 0; i < w->msgs.n; i++) {
		const struct webhook_msg *m = w->msgs.v[i];
		dead += m->state == WH_DEAD && !strcmp(m->hook, h->id);
	}
	for (size_t i = 0; dead > WEBHOOK_DEAD_KEEP && i < w->msgs.n;) {
		struct webhook_msg *m = w->msgs.v[i];
		if (m->state != WH_DEAD || strcmp(m->hook, h->id)) {
			i++;
			continue;
		}
		webhook_rec_delete_msg(c->batch, c->store, m->seq);
		msg_drop(w, i);
		dead--;
	}
}

/* m is past the maximum age: no more attempts. Written to the batch. */
static void make_dead(struct sched *c, struct webhook_msg *m,
		      struct webhook_hook *h)
{
	struct webhook_core *w = wh_of(c);

	m->state = WH_DEAD;
	w->pending--;
	w->n_dead++;
	if (h) {
		h->dead++;
		if (h->pending)
			h->pending--;
		webhook_rec_put_hook(c->batch, c->store, h);
	}
	webhook_rec_put_msg(c->batch, c->store, m);
	/* the hook id, not its URL: a URL may carry a token */
	log_warn("webhook %s: delivery %s (%s) is dead after %u attempts "
		 "over %lld s: %s",
		 m->hook, m->msg_id, m->type, m->attempts,
		 (long long)((c->now_ms - m->created_ms) / 1000),
		 m->last_error[0] ? m->last_error : "never attempted");
	w->prune = true; /* after the caller's walk over w->msgs */
}

static void prune_all(struct sched *c)
{
	struct webhook_core *w = wh_of(c);

	if (!w->prune)
		return;
	w->prune = false;
	for (size_t i = 0; i < w->hooks.n; i++)
		prune_dead(c, w->hooks.v[i]);
}

static void hand_over(struct sched *c, struct webhook_msg *m,
		      const struct webhook_hook *h)
{
	struct webhook_core *w = wh_of(c);
	struct webhook_job *job = xcalloc(1, sizeof(*job));

	job->seq = m->seq;
	memcpy(job->msg_id, m->msg_id, sizeof(job->msg_id));
	memcpy(job->url, h->url, sizeof(job->url));
	memcpy(job->secret, h->secret, sizeof(job->secret));
	job->body = xstrndup(m->body, m->body_len);
	job->body_len = m->body_len;
	m->inflight = true;
	w->inflight++;
	webhook_send_push(w->sender, job);
}

void webhook_core_tick(struct sched *c)
{
	struct webhook_core *w = wh_of(c);
	int64_t max_age = c->cfg->webhook_max_age_s * 1000, due = INT64_MAX;

	if (!w || !w->sender || c->now_ms < w->due_ms)
		return;
	for (size_t i = 0; i < w->msgs.n; i++) {
		struct webhook_msg *m = w->msgs.v[i];
		struct webhook_hook *h;
		if (m->state != WH_PENDING || m->inflight || m->fresh)
			continue;
		if (m->next_ms > c->now_ms) {
			if (m->next_ms < due)
				due = m->next_ms;
			continue;
		}
		h = hook_of(c, m);
		if (!h)
			continue;
		if (c->now_ms - m->created_ms >= max_age) {
			make_dead(c, m, h);
			continue;
		}
		/* the rest when a slot is free: an outcome makes the next
		 * tick look again (webhook_core_result), no timer spins */
		if (w->inflight >= WEBHOOK_INFLIGHT_MAX)
			break;
		hand_over(c, m, h);
	}
	w->due_ms = due;
	prune_all(c);
}

int64_t webhook_core_next_wake(struct sched *c)
{
	struct webhook_core *w = wh_of(c);

	if (!w || w->due_ms == INT64_MAX)
		return INT64_MAX;
	if (w->due_ms <= c->now_ms)
		return c->now_mono;
	return c->now_mono + (w->due_ms - c->now_ms);
}

/* An attempt of m failed with res: the next one after a backoff, or
 * dead once too old. */
static void attempt_failed(struct sched *c, struct webhook_msg *m,
			   struct webhook_hook *h,
			   const struct webhook_result *res)
{
	struct webhook_core *w = wh_of(c);
	const struct sched_config *cfg = c->cfg;

	m->attempts++;
	snprintf(m->last_error, sizeof(m->last_error), "%s", res->error);
	w->n_failed++;
	h->failed++;
	snprintf(h->last_error, sizeof(h->last_error), "%s", res->error);
	h->last_error_ms = c->now_ms;
	m->next_ms = c->now_ms +
		     webhook_backoff_ms(cfg->webhook_retry_base_ms,
					cfg->webhook_retry_max_ms, m->attempts,
					next_rnd(w));
	if (c->now_ms - m->created_ms >= cfg->webhook_max_age_s * 1000 ||
	    m->next_ms - m->created_ms >= cfg->webhook_max_age_s * 1000) {
		make_dead(c, m, h);
		return;
	}
	if (m->next_ms < w->due_ms)
		w->due_ms = m->next_ms;
	webhook_rec_put_msg(c->batch, c->store, m);
	webhook_rec_put_hook(c->batch, c->store, h);
}

void webhook_core_result(struct sched *c, struct event *ev, bool stopping)
{
	struct webhook_core *w = wh_of(c);
	const struct webhook_result *res = ev->work;
	struct webhook_msg *m;
	struct webhook_hook *h;
	ssize_t i;

	if (stopping || !w || (i = msg_index(w, res->seq)) < 0) {
		event_free(ev); /* removed meanwhile, or not ours to apply */
		return;
	}
	m = w->msgs.v[i];
	m->inflight = false;
	w->inflight--;
	if (w->inflight + 1 >= WEBHOOK_INFLIGHT_MAX) /* a slot is free */
		w->due_ms = c->now_ms;
	h = hook_of(c, m);
	if (!h || diskguard_down(c)) {
		/* nothing may be written: sent again when due */
		m->next_ms = c->now_ms + c->cfg->webhook_retry_base_ms;
		w->due_ms = c->now_ms;
		event_free(ev);
		return;
	}
	if (res->ok) {
		w->n_delivered++;
		h->delivered++;
		if (h->pending)
			h->pending--;
		h->last_ok_ms = c->now_ms;
		webhook_rec_delete_msg(c->batch, c->store, m->seq);
		webhook_rec_put_hook(c->batch, c->store, h);
		msg_drop(w, (size_t)i);
	} else {
		attempt_failed(c, m, h, res);
		prune_all(c);
	}
	event_free(ev);
}

/* ---- hooks ---- */

struct webhook_hook *webhook_core_add(struct sched *c,
				      const struct webhook_hook *src)
{
	struct webhook_hook *h = xmalloc(sizeof(*h));

	*h = *src;
	ptrvec_push(&wh_of(c)->hooks, h);
	webhook_rec_put_hook(c->batch, c->store, h);
	return h;
}

void webhook_core_remove(struct sched *c, struct webhook_hook *h)
{
	struct webhook_core *w = wh_of(c);

	for (size_t i = w->msgs.n; i-- > 0;) {
		struct webhook_msg *m = w->msgs.v[i];
		if (strcmp(m->hook, h->id))
			continue;
		if (m->inflight) /* its outcome finds nothing to apply */
			w->inflight--;
		webhook_rec_delete_msg(c->batch, c->store, m->seq);
		msg_drop(w, i);
	}
	webhook_rec_delete_hook(c->batch, c->store, h->id);
	ptrvec_remove(&w->hooks, h);
	OPENSSL_cleanse(h, sizeof(*h));
	free(h);
}

void webhook_core_remove_tenant(struct sched *c, const char *tenant,
				uint64_t *hooks, uint64_t *msgs)
{
	struct webhook_core *w = wh_of(c);

	for (size_t i = w ? w->hooks.n : 0; i-- > 0;) {
		struct webhook_hook *h = w->hooks.v[i];
		if (strcmp(h->tenant, tenant))
			continue;
		for (size_t k = 0; k < w->msgs.n; k++)
			*msgs += !strcmp(((struct webhook_msg *)w->msgs.v[k])->hook,
					 h->id);
		(*hooks)++;
		webhook_core_remove(c, h);
	}
}

/* ---- start and stop ---- */

struct load_ctx {
	struct webhook_core *w;
	char *err;
	size_t errlen;
};

static int load_hook(const void *key, size_t klen, const void *val,
		     size_t vlen, void *ctx)
{
	struct load_ctx *lc = ctx;
	struct webhook_hook *h = xmalloc(sizeof(*h));

	if (webhook_rec_decode_hook(key, klen, val, vlen, h, lc->err,
				    lc->errlen)) {
		free(h);
		return -1;
	}
	ptrvec_push(&lc->w->hooks, h);
	return 0;
}

static int load_msg(const void *key, size_t klen, const void *val,
		    size_t vlen, void *ctx)
{
	struct load_ctx *lc = ctx;
	struct webhook_msg *m = xmalloc(sizeof(*m));

	if (webhook_rec_decode_msg(key, klen, val, vlen, m, lc->err,
				   lc->errlen)) {
		free(m);
		return -1;
	}
	ptrvec_push(&lc->w->msgs, m); /* in key order: sorted by seq */
	if (m->seq > lc->w->seq)
		lc->w->seq = m->seq;
	return 0;
}

/* Counts each hook's pending deliveries, drops deliveries of hooks that
 * are gone (none should be: a hook's are removed with it). */
static void count_pending(struct sched *c)
{
	struct webhook_core *w = wh_of(c);

	for (size_t i = w->msgs.n; i-- > 0;) {
		struct webhook_msg *m = w->msgs.v[i];
		struct webhook_hook *h = hook_of(c, m);
		if (!h) {
			webhook_rec_delete_msg(c->batch, c->store, m->seq);
			msg_drop(w, i);
			continue;
		}
		if (m->state == WH_PENDING) {
			w->pending++;
			h->pending++;
		}
	}
}

static int load_seq(struct sched *c, char *err, size_t errlen)
{
	char *val = NULL;
	size_t len = 0;
	int rc = store_get(c->store, CF_META, META_WEBHOOK_SEQ,
			   strlen(META_WEBHOOK_SEQ), &val, &len, err, errlen);

	if (rc < 0)
		return -1;
	if (rc == 1 && len == 8 &&
	    store_get_u64be((const uint8_t *)val) > c->webhooks->seq)
		c->webhooks->seq = store_get_u64be((const uint8_t *)val);
	free(val);
	return 0;
}

int webhook_core_open(struct sched *c, char *err, size_t errlen)
{
	struct webhook_core *w = xcalloc(1, sizeof(*w));
	struct load_ctx lc = { w, err, errlen };
	struct webhook_send_opts o;

	c->webhooks = w;
	err[0] = '\0'; /* a failed scan may say nothing itself */
	w->rnd = (uint64_t)time_mono_us() * 0x9e3779b97f4a7c15ULL | 1;
	w->due_ms = 0; /* the first tick looks at everything loaded */
	if (store_scan(c->store, CF_WEBHOOKS, NULL, 0, NULL, 0, load_hook,
		       &lc) ||
	    store_scan(c->store, CF_WHOUTBOX, NULL, 0, NULL, 0, load_msg,
		       &lc) ||
	    load_seq(c, err, errlen)) {
		if (!err[0])
			snprintf(err, errlen, "cannot read the webhooks");
		webhook_core_close(c);
		return -1;
	}
	count_pending(c);
	memset(&o, 0, sizeof(o));
	o.timeout_ms = c->cfg->webhook_timeout_ms;
	o.connect_timeout_ms = c->cfg->webhook_connect_timeout_ms;
	snprintf(o.ca_file, sizeof(o.ca_file), "%s", c->cfg->webhook_ca);
	if (!(w->sender = webhook_send_start(c, &o))) {
		snprintf(err, errlen, "cannot start the webhook delivery "
			 "thread");
		webhook_core_close(c);
		return -1;
	}
	if (w->hooks.n || w->msgs.n)
		log_info("webhooks: %zu hooks, %" PRIu64 " deliveries pending",
			 w->hooks.n, w->pending);
	return 0;
}

void webhook_core_stop_sender(struct sched *c)
{
	struct webhook_core *w = wh_of(c);

	if (w && w->sender) {
		webhook_send_stop(w->sender);
		w->sender = NULL;
	}
}

void webhook_core_close(struct sched *c)
{
	struct webhook_core *w = wh_of(c);

	if (!w)
		return;
	webhook_core_stop_sender(c);
	for (size_t i = 0; i < w->hooks.n; i++) {
		OPENSSL_cleanse(w->hooks.v[i], sizeof(struct webhook_hook));
		free(w->hooks.v[i]);
	}
	for (size_t i = 0; i < w->msgs.n; i++) {
		webhook_msg_release(w->msgs.v[i]);
		free(w->msgs.v[i]);
	}
	ptrvec_release(&w->hooks);
	ptrvec_release(&w->msgs);
	ptrvec_release(&w->fresh);
	free(w);
	c->webhooks = NULL;
}
