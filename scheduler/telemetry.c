/* telemetry.c - telemetry batches on the scheduler: check, store, read,
 * retention (see telemetry.h for the key layout). */
#include "telemetry.h"

#include <stdlib.h>
#include <string.h>

#include "keyring.h"
#include "keyrot.h"
#include "log.h"
#include "mp.h"
#include "records.h"
#include "runstore.h"
#include "sched_ctx.h"
#include "sign.h"
#include "store.h"
#include "util.h"
#include "wire.h"

#define KEY_MAX (NAME_MAX_LEN + 1 + 8 + 4 + 8)

const char *tb_verdict_name(enum tb_verdict v)
{
	static const char *const names[] = {
		"stored", "duplicate", "malformed", "forged",
		"unknown_key", "replayed", "stale",
	};
	return (unsigned)v < ARRAY_SIZE(names) ? names[v] : "?";
}

/* ---- nng thread ---- */

static int count_line(const struct tevent *ev, void *ctx)
{
	if (ev->kind == TEV_LOG)
		(*(uint32_t *)ctx)++;
	return 0;
}

/* Everything about one batch that needs no scheduling state. A batch
 * the agent's old key signed (spooled before a key rotation) passes with
 * that key while one is kept; the core then checks the grace. */
static void check_one(struct tb_item *it, const char *agent,
		      const struct sign_pub *key, const struct sign_pub *prev,
		      struct strbuf *raw)
{
	char err[160];
	int rc = tbatch_open_key(it->sealed, it->len, key, &it->m, err,
				 sizeof(err));

	if (rc == -2 && prev) {
		rc = tbatch_open_key(it->sealed, it->len, prev, &it->m, err,
				     sizeof(err));
		it->by_prev = rc == 0;
	}
	if (rc == -2) {
		it->v = strcmp(it->m.agent, agent) ? TB_UNKNOWN_KEY : TB_FORGED;
		return;
	}
	if (rc || strcmp(it->m.agent, agent)) {
		/* a batch naming another agent, even well signed (by its
		 * own key, say), is not this agent's to send */
		it->v = rc ? TB_MALFORMED : TB_UNKNOWN_KEY;
		return;
	}
	if (tbatch_inflate(&it->m, raw, err, sizeof(err)) ||
	    tbatch_each_event(raw->buf, raw->len, it->m.events, count_line,
			      &it->lines, err, sizeof(err)))
		it->v = TB_MALFORMED;
}

struct tb_pre *telemetry_precheck(const struct wire_msg *msg,
				  const uint8_t *pub)
{
	return telemetry_precheck_keys(msg, pub, NULL);
}

struct tb_pre *telemetry_precheck_keys(const struct wire_msg *msg,
				       const uint8_t *pub, const uint8_t *prev)
{
	const msgpack_object *b = mp_get(msg->body, "batches");
	struct strbuf raw = STRBUF_INIT;
	struct sign_pub *key, *pkey = NULL;
	struct tb_pre *p;

	if (!b || b->type != MSGPACK_OBJECT_ARRAY ||
	    b->via.array.size > TELEMETRY_MAX_BATCHES)
		return NULL;
	for (uint32_t i = 0; i < b->via.array.size; i++)
		if (b->via.array.ptr[i].type != MSGPACK_OBJECT_BIN)
			return NULL;
	if (!(key = sign_pub_new(pub)))
		return NULL;
	if (prev && !(pkey = sign_pub_new(prev))) {
		sign_pub_free(key);
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->n = b->via.array.size;
	p->items = xcalloc(p->n ? p->n : 1, sizeof(*p->items));
	for (size_t i = 0; i < p->n; i++) {
		struct tb_item *it = &p->items[i];
		it->sealed = b->via.array.ptr[i].via.bin.ptr;
		it->len = b->via.array.ptr[i].via.bin.size;
		check_one(it, msg->agent, key, pkey, &raw);
	}
	sign_pub_free(key);
	sign_pub_free(pkey);
	strbuf_release(&raw);
	return p;
}

void telemetry_pre_free(void *pre)
{
	struct tb_pre *p = pre;
	if (!p)
		return;
	free(p->items);
	free(p);
}

/* ---- core thread: storing ---- */

static size_t tenant_prefix(const char *tenant, uint8_t *key)
{
	size_t n = strlen(tenant);
	memcpy(key, tenant, n);
	key[n] = 0;
	return n + 1;
}

/* The window: bit i of ag->tb_window set = batch tb_high - i is stored. */
static bool window_has(const struct agent *ag, uint64_t seq)
{
	uint64_t d = ag->tb_high - seq;
	return (ag->tb_window[d / 8] >> (d % 8)) & 1;
}

static void window_set(struct agent *ag, uint64_t seq)
{
	if (seq > ag->tb_high) {
		uint64_t shift = seq - ag->tb_high;
		uint8_t old[sizeof(ag->tb_window)];
		memcpy(old, ag->tb_window, sizeof(old));
		memset(ag->tb_window, 0, sizeof(ag->tb_window));
		for (uint64_t d = 0; shift < TELEMETRY_WINDOW &&
				     d + shift < TELEMETRY_WINDOW; d++)
			if ((old[d / 8] >> (d % 8)) & 1)
				ag->tb_window[(d + shift) / 8] |=
					(uint8_t)(1u << ((d + shift) % 8));
		ag->tb_high = seq;
	}
	uint64_t d = ag->tb_high - seq;
	ag->tb_window[d / 8] |= (uint8_t)(1u << (d % 8));
}

/* A batch may name a run of the agent's environment that it holds now
 * under that epoch, or held under an older epoch (a batch spooled while
 * partitioned arrives after the run moved on). Older epochs are not
 * traced to their agent: within one environment, that is within one
 * tenant, an agent could file lines under another's old attempt. */
static struct run *batch_run(struct sched *c, const struct agent *ag,
			     const struct tbatch_meta *m)
{
	struct run *r = runstore_get(c, m->run);

	if (!r || strcmp(r->job->env, ag->env) || m->epoch == 0 ||
	    m->epoch > run_epoch(r))
		return NULL;
	if (m->epoch == run_epoch(r) && strcmp(run_agent(r), ag->id))
		return NULL;
	return r;
}

static void store_item(struct sched *c, struct run *r, struct tb_item *it)
{
	uint8_t key[KEY_MAX], nl[4];
	size_t k = tenant_prefix(r->job->tenant, key);
	struct strbuf val = STRBUF_INIT;

	store_put_u64be(key + k, r->id);
	store_put_u32be(key + k + 8, r->log_lines);
	store_put_u64be(key + k + 12, it->m.seq);
	store_put_u32be(nl, it->lines);
	strbuf_grow(&val, 4 + SEAL_OVERHEAD + it->len);
	strbuf_add(&val, nl, 4);
	/* the line count stays in clear (run logs --after skips by it);
	 * the agent's sealed bytes are kept exactly, inside the seal */
	if (!store_keyring(c->store))
		strbuf_add(&val, it->sealed, it->len);
	else if (keyring_seal(store_keyring(c->store), r->job->tenant,
			      store_cf_name(CF_TELEMETRY), key, k + 20,
			      it->sealed, it->len, &val)) {
		log_error("telemetry: no data key for tenant '%s': batch of "
			  "run %llu not stored", r->job->tenant,
			  (unsigned long long)r->id);
		strbuf_release(&val);
		return;
	}
	store_batch_put(c->batch, c->store, CF_TELEMETRY, key, k + 20, val.buf,
			val.len);
	strbuf_release(&val);
	r->log_lines += it->lines;
}

static void count(struct agent *ag, const struct tb_item *it)
{
	switch (it->v) {
	case TB_STORE:
		ag->tb_stored++;
		ag->tb_events += it->m.events;
		ag->tb_bytes += it->len;
		break;
	case TB_DUPLICATE: ag->tb_duplicate++; break;
	case TB_MALFORMED: ag->tb_rejected_malformed++; break;
	case TB_FORGED: ag->tb_rejected_forged++; break;
	case TB_UNKNOWN_KEY: ag->tb_rejected_unknown_key++; break;
	case TB_REPLAYED: ag->tb_rejected_replayed++; break;
	case TB_STALE: ag->tb_rejected_stale++; break;
	}
}

void telemetry_apply(struct sched *c, struct agent *ag, struct tb_pre *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct tb_item *it = &p->items[i];
		struct run *r = NULL;

		/* signed by the key a rotation replaced, after its grace */
		if (it->by_prev && it->v != TB_MALFORMED &&
		    !keyrot_prev_accepted(c, ag))
			it->v = TB_FORGED;
		if (it->v == TB_STORE) {
			uint64_t seq = it->m.seq;
			if (seq <= ag->tb_high &&
			    ag->tb_high - seq >= TELEMETRY_WINDOW)
				it->v = TB_REPLAYED;
			else if (seq <= ag->tb_high && window_has(ag, seq))
				it->v = TB_DUPLICATE;
			else if (!(r = batch_run(c, ag, &it->m)))
				it->v = TB_STALE;
		}
		count(ag, it);
		if (it->v != TB_STORE) {
			if (it->v != TB_DUPLICATE)
				log_warn("agent %s: telemetry batch %llu refused: "
					 "%s", ag->id,
					 (unsigned long long)it->m.seq,
					 tb_verdict_name(it->v));
			continue;
		}
		store_item(c, r, it);
		window_set(ag, it->m.seq);
		policy_touch(&c->pol, r);
	}
}

/* ---- reading ---- */

struct scan {
	struct sched *c;
	uint32_t after, left;
	telemetry_line_fn fn;
	void *ctx;
	struct strbuf raw;
	struct strbuf plain; /* an opened sealed value */
	uint32_t line; /* number of the next log event */
	int rc;
	struct telemetry_metric *metrics;
	int nmetrics;
};

static int emit_line(const struct tevent *ev, void *ctx)
{
	struct scan *s = ctx;
	int rc;

	if (ev->kind != TEV_LOG)
		return 0;
	if (s->line++ < s->after)
		return 0;
	if (s->left == 0)
		return 1;
	s->left--;
	rc = s->fn(s->line - 1, ev->ts_ms, ev->stream, ev->text, ev->text_len,
		   s->ctx);
	return rc ? 2 : 0;
}

/* Opens the sealed batch in a stored value (lines u32 ‖ batch, the batch
 * sealed under the tenant's data key from format 5 on). 0;
 * KEYRING_DESTROYED when that key was destroyed; -1 unreadable. */
static int open_value(struct scan *s, const void *key, size_t klen,
		      const uint8_t *val, size_t vlen, struct tbatch_meta *m)
{
	char err[160];
	int rc;

	if (vlen > 4 && keyring_is_sealed(val + 4, vlen - 4)) {
		strbuf_reset(&s->plain);
		rc = keyring_open_value(store_keyring(s->c->store),
					store_cf_name(CF_TELEMETRY), key, klen,
					val + 4, vlen - 4, &s->plain);
		if (rc == KEYRING_DESTROYED)
			return rc;
		if (rc) {
			log_error("telemetry: a stored batch does not "
				  "authenticate under its data key");
			return -1;
		}
		val = (const uint8_t *)s->plain.buf;
		vlen = s->plain.len;
	} else if (vlen >= 4) {
		val += 4;
		vlen -= 4;
	} else {
		vlen = 0;
	}
	if (tbatch_open(val, vlen, NULL, m, err, sizeof(err)) ||
	    tbatch_inflate(m, &s->raw, err, sizeof(err))) {
		log_error("telemetry: unreadable stored batch: %s", err);
		return -1;
	}
	return 0;
}

static int scan_lines_one(const void *key, size_t klen, const void *val,
			  size_t vlen, void *ctx)
{
	struct scan *s = ctx;
	const uint8_t *k = (const uint8_t *)key + klen - 12;
	uint32_t first = store_get_u32be(k);
	uint32_t lines = vlen >= 4 ? store_get_u32be(val) : 0;
	struct tbatch_meta m;
	char err[160];
	int rc;

	if (s->left == 0)
		return 1;
	if (lines == 0 || first + lines <= s->after)
		return 0; /* nothing wanted here: not even decompressed */
	rc = open_value(s, key, klen, val, vlen, &m);
	if (rc == KEYRING_DESTROYED) {
		s->left--;
		return s->fn(first < s->after ? s->after : first, 0,
			     LOG_STDERR, KEYRING_DESTROYED_TEXT,
			     strlen(KEYRING_DESTROYED_TEXT), s->ctx)
			       ? 2
			       : 0;
	}
	if (rc)
		return -1;
	s->line = first;
	rc = tbatch_each_event(s->raw.buf, s->raw.len, m.events, emit_line, s,
			       err, sizeof(err));
	if (rc < 0)
		log_error("telemetry: unreadable stored batch: %s", err);
	return rc < 0 ? -1 : rc == 1 ? 1 : rc == 2 ? 2 : 0;
}

/* [prefix ‖ run, prefix ‖ run+1) */
static size_t run_range(const char *tenant, uint64_t run, uint8_t *start,
			uint8_t *end)
{
	size_t k = tenant_prefix(tenant, start);
	memcpy(end, start, k);
	store_put_u64be(start + k, run);
	store_put_u64be(end + k, run + 1);
	return k + 8;
}

int telemetry_scan_lines(struct sched *c, const char *tenant, uint64_t run,
			 uint32_t after, uint32_t max, telemetry_line_fn fn,
			 void *ctx)
{
	uint8_t start[KEY_MAX], end[KEY_MAX];
	size_t n = run_range(tenant, run, start, end);
	struct scan s = { c, after, max, fn, ctx, STRBUF_INIT, STRBUF_INIT,
			  0, 0, NULL, 0 };
	int rc = store_scan(c->store, CF_TELEMETRY, start, n, end, n,
			    scan_lines_one, &s);

	strbuf_release(&s.raw);
	strbuf_release(&s.plain);
	return rc < 0 || rc == 2 ? -1 : 0;
}

static int merge_metric(const struct tevent *ev, void *ctx)
{
	struct scan *s = ctx;
	struct telemetry_metric *t = NULL;

	if (ev->kind != TEV_METRIC)
		return 0;
	for (int i = 0; i < s->nmetrics && !t; i++)
		if (strlen(s->metrics[i].name) == ev->name_len &&
		    !memcmp(s->metrics[i].name, ev->name, ev->name_len) &&
		    s->metrics[i].type == ev->type)
			t = &s->metrics[i];
	if (!t) {
		if (s->nmetrics == TELEMETRY_MAX_METRICS)
			return 0;
		t = &s->metrics[s->nmetrics++];
		memset(t, 0, sizeof(*t));
		memcpy(t->name, ev->name, ev->name_len);
		t->type = ev->type;
		t->min = INT64_MAX;
		t->max = INT64_MIN;
		t->ts_ms = INT64_MIN;
	}
	if (ev->type == TM_COUNTER) {
		t->value += ev->value;
	} else if (ev->type == TM_GAUGE) {
		if (ev->ts_ms >= t->ts_ms)
			t->value = ev->value;
	} else if (ev->count > 0) {
		t->count += ev->count;
		t->sum += ev->sum;
		t->min = ev->min < t->min ? ev->min : t->min;
		t->max = ev->max > t->max ? ev->max : t->max;
	}
	if (ev->ts_ms > t->ts_ms)
		t->ts_ms = ev->ts_ms;
	return 0;
}

static int scan_metrics_one(const void *key, size_t klen, const void *val,
			    size_t vlen, void *ctx)
{
	struct scan *s = ctx;
	struct tbatch_meta m;
	char err[160];
	int rc = open_value(s, key, klen, val, vlen, &m);

	if (rc == KEYRING_DESTROYED)
		return 0; /* unreadable: counts for nothing */
	if (rc)
		return -1;
	if (tbatch_each_event(s->raw.buf, s->raw.len, m.events, merge_metric,
			      s, err, sizeof(err)) < 0) {
		log_error("telemetry: unreadable stored batch: %s", err);
		return -1;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const struct telemetry_metric *x = a, *y = b;
	int d = strcmp(x->name, y->name);
	return d ? d : (int)x->type - (int)y->type;
}

int telemetry_run_metrics(struct sched *c, const char *tenant, uint64_t run,
			  struct telemetry_metric *out)
{
	uint8_t start[KEY_MAX], end[KEY_MAX];
	size_t n = run_range(tenant, run, start, end);
	struct scan s = { c, 0, 0, NULL, NULL, STRBUF_INIT, STRBUF_INIT,
			  0, 0, out, 0 };
	int rc = store_scan(c->store, CF_TELEMETRY, start, n, end, n,
			    scan_metrics_one, &s);

	strbuf_release(&s.raw);
	strbuf_release(&s.plain);
	if (rc)
		return -1;
	for (int i = 0; i < s.nmetrics; i++)
		if (out[i].type == TM_HISTOGRAM && out[i].count == 0)
			out[i].min = out[i].max = 0;
	qsort(out, (size_t)s.nmetrics, sizeof(*out), by_name);
	return s.nmetrics;
}
