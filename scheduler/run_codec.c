/*
 * run_codec.c - the run record read: a positional msgpack array, so that
 * a million queued runs load in one pass without per-field key lookups
 * (written by run_encode.c). The walking skeleton's map form (format 1)
 * is still read.
 */
#include "run_codec.h"

#include <stdlib.h>
#include <string.h>

#include "keyring.h"
#include "log.h"
#include "mp.h"
#include "run_format.h"
#include "util.h"

/* Positional readers: each checks the type and the range. A cursor
 * walks either the elements msgpack_unpack made (o) or, on the fast path,
 * the record's bytes (raw), one scalar at a time (raw_next). */
struct cursor {
	const msgpack_object *o;
	uint32_t n, i;
	bool bad;
	const struct keyring *kr; /* opens sealed fields */
	struct keyring_opener *op; /* with this (or NULL) */
	uint64_t id;
	const uint8_t *raw, *end; /* the fast path's bytes, else NULL */
	msgpack_object scratch;   /* the fast path's current element */
};

static const msgpack_object *raw_next(struct cursor *c);

static const msgpack_object *next(struct cursor *c)
{
	if (c->i >= c->n) {
		c->bad = true;
		return NULL;
	}
	if (c->raw) {
		c->i++;
		return raw_next(c);
	}
	return &c->o[c->i++];
}

static int64_t get_int(struct cursor *c, int64_t min, int64_t max)
{
	const msgpack_object *o = next(c);
	int64_t v;

	if (!o)
		return 0;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
		v = (int64_t)o->via.u64;
	else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		v = o->via.i64;
	else
		v = min, c->bad = true;
	if (v < min || v > max) {
		c->bad = true;
		return 0;
	}
	return v;
}

static uint64_t get_u64(struct cursor *c)
{
	const msgpack_object *o = next(c);
	if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		c->bad = true;
		return 0;
	}
	return o->via.u64;
}

/* A string into buf; or NULL with *dup = a malloc'd copy (nil -> NULL). */
static void get_str(struct cursor *c, char *buf, size_t len, char **dup)
{
	const msgpack_object *o = next(c);
	if (!o)
		return;
	if (dup && o->type == MSGPACK_OBJECT_NIL) {
		*dup = NULL;
		return;
	}
	if (o->type != MSGPACK_OBJECT_STR || memchr(o->via.str.ptr, 0, o->via.str.size) ||
	    (buf && o->via.str.size >= len)) {
		c->bad = true;
		return;
	}
	if (buf) {
		memcpy(buf, o->via.str.ptr, o->via.str.size);
		buf[o->via.str.size] = '\0';
	} else {
		*dup = xstrndup(o->via.str.ptr, o->via.str.size);
	}
}

/* A field get_str reads, or a sealed one (a bin, format 5): opened, or
 * KEYRING_DESTROYED_TEXT when its key is gone; one that does not
 * authenticate makes the record corrupt. */
static void get_sealed(struct cursor *c, uint8_t elem, char **dup)
{
	const msgpack_object *o = c->i < c->n && !c->raw ? &c->o[c->i] : NULL;
	struct strbuf plain = STRBUF_INIT;
	uint8_t key[9];
	int rc;

	/* a sealed field (a bin) is the general path's */
	if (c->raw && c->raw < c->end && *c->raw >= 0xc4 && *c->raw <= 0xc6) {
		c->bad = true;
		return;
	}
	if (!o || o->type != MSGPACK_OBJECT_BIN) {
		get_str(c, NULL, 0, dup);
		return;
	}
	c->i++;
	field_aad(c->id, elem, key);
	rc = keyring_open_with(c->op, c->kr, "runs", key, sizeof(key),
			       o->via.bin.ptr, o->via.bin.size, &plain);
	if (rc == KEYRING_DESTROYED)
		*dup = xstrdup(KEYRING_DESTROYED_TEXT);
	else if (rc || memchr(plain.buf, 0, plain.len))
		c->bad = true;
	else
		*dup = xstrndup(plain.buf, plain.len);
	strbuf_release(&plain);
}

static void strv_push(char ***v, uint32_t *n, const char *s, size_t len)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = xstrndup(s, len);
}

/* A list pack_strv_sealed wrote: an array in clear, or a sealed bin
 * opened (a destroyed key leaves it empty) and split at its NULs; nil
 * (not stored) is empty. 0 or -1. */
static int get_strv(struct cursor *c, const msgpack_object *o, uint8_t elem,
		    uint32_t max, char ***out, uint32_t *nout)
{
	struct strbuf plain = STRBUF_INIT;
	uint8_t key[9];
	int rc;

	if (o->type == MSGPACK_OBJECT_NIL)
		return 0;
	if (o->type == MSGPACK_OBJECT_ARRAY) {
		if (o->via.array.size > max)
			return -1;
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			const msgpack_object *e = &o->via.array.ptr[i];
			if (e->type != MSGPACK_OBJECT_STR ||
			    memchr(e->via.str.ptr, 0, e->via.str.size))
				return -1;
			strv_push(out, nout, e->via.str.ptr, e->via.str.size);
		}
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_BIN)
		return -1;
	field_aad(c->id, elem, key);
	rc = keyring_open_with(c->op, c->kr, "runs", key, sizeof(key),
			       o->via.bin.ptr, o->via.bin.size, &plain);
	if (rc == KEYRING_DESTROYED) {
		rc = 0;
	} else if (!rc && plain.len && plain.buf[plain.len - 1] != '\0') {
		rc = -1;
	} else if (!rc) {
		for (size_t i = 0; i < plain.len && !rc;) {
			size_t l = strlen(plain.buf + i);
			if (*nout >= max)
				rc = -1;
			else
				strv_push(out, nout, plain.buf + i, l);
			i += l + 1;
		}
	}
	strbuf_release(&plain);
	return rc ? -1 : 0;
}

/* Element 28: nil, or the extra record pack_extra wrote. */
static int get_extra(struct cursor *c, struct run *r)
{
	const msgpack_object *o = next(c), *v;
	struct run_extra *x;
	bool b = false;
	int64_t v64;

	if (!o || o->type == MSGPACK_OBJECT_NIL)
		return o ? 0 : -1;
	if (o->type != MSGPACK_OBJECT_MAP)
		return -1;
	x = run_extra_get(r);
	mp_get_u64(o, "schedule", &x->schedule);
	mp_get_i64(o, "scheduled_ms", &x->scheduled_ms);
	if (!mp_get_i64(o, "scheduled_off_s", &v64) && v64 >= -86400 &&
	    v64 <= 86400)
		x->scheduled_off_s = (int32_t)v64;
	mp_get_u64(o, "retry_of", &x->retry_of);
	mp_get_u64(o, "retried_by", &x->retried_by);
	x->held_by = mp_get_strdup(o, "held_by");
	mp_get_i64(o, "held_ms", &x->held_ms);
	if ((v = mp_get(o, "params")) &&
	    get_strv(c, v, RUN_ELEM_PARAMS, RUN_MAX_PARAMS, &x->params,
		     &x->nparams))
		return -1;
	if ((v = mp_get(o, "args")) &&
	    get_strv(c, v, RUN_ELEM_ARGS, RUN_MAX_EXTRA_ARGS, &x->args,
		     &x->nargs))
		return -1;
	if ((v = mp_get(o, "after"))) {
		if (v->type != MSGPACK_OBJECT_ARRAY ||
		    v->via.array.size > RUN_MAX_AFTER)
			return -1;
		x->after = xcalloc(v->via.array.size + 1, sizeof(uint64_t));
		for (uint32_t i = 0; i < v->via.array.size; i++) {
			const msgpack_object *e = &v->via.array.ptr[i];
			if (e->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
			    !e->via.u64)
				return -1;
			x->after[x->nafter++] = e->via.u64;
		}
		mp_get_bool(o, "after_any", &x->after_any);
	}
	b = false;
	mp_get_bool(o, "held", &b);
	r->held = b;
	b = false;
	mp_get_bool(o, "waiting", &b);
	r->waiting = b;
	b = false;
	mp_get_bool(o, "skipped", &b);
	r->skipped = b;
	return 0;
}

/* Gives r the detail decoded into *d and ms[] (every state's time) if it
 * has any: a run that never left the queue stays without one. */
static void attach_detail(struct run *r, struct run_detail *d,
			  const int64_t ms[RUN_STATE_COUNT])
{
	r->queued_ms = ms[RUN_QUEUED];
	memcpy(d->state_ms, ms + 1, sizeof(d->state_ms));
	if (!memcmp(d, &run_detail_none, sizeof(*d)))
		return;
	r->d = xmalloc(sizeof(*d));
	memcpy(r->d, d, sizeof(*d));
}

/* Format 2 to 6: c walks the array's elements. */
static int decode_v2(struct cursor c, struct sched_state *st, struct run *r)
{
	char job[JOB_KEY_LEN] = "";
	struct run_detail d = { 0 };
	int64_t ms[RUN_STATE_COUNT];
	const msgpack_object *o;

	get_int(&c, RUN_RECORD_V2, RUN_RECORD_V2);
	r->id = get_u64(&c);
	get_str(&c, job, sizeof(job), NULL);
	r->state = (enum run_state)get_int(&c, 0, RUN_STATE_COUNT - 1);
	r->priority = (int32_t)get_int(&c, INT32_MIN, INT32_MAX);
	r->attempt = (uint32_t)get_int(&c, 0, UINT32_MAX);
	r->lost = (uint32_t)get_int(&c, 0, UINT32_MAX);
	d.epoch = get_u64(&c);
	get_str(&c, d.agent, sizeof(d.agent), NULL);
	r->exit_code = (int32_t)get_int(&c, INT32_MIN, INT32_MAX);
	o = next(&c);
	if (!o || o->type != MSGPACK_OBJECT_BOOLEAN)
		return -1;
	r->cancel_requested = o->via.boolean;
	r->completions = (uint32_t)get_int(&c, 0, UINT32_MAX);
	o = next(&c);
	if (!o || o->type != MSGPACK_OBJECT_ARRAY ||
	    o->via.array.size != RUN_STATE_COUNT)
		return -1;
	/* on the fast path the times follow in the same bytes */
	struct cursor t = { o->via.array.ptr, RUN_STATE_COUNT, 0, false };
	t.raw = c.raw;
	t.end = c.end;
	for (int i = 0; i < RUN_STATE_COUNT; i++)
		ms[i] = get_int(&t, INT64_MIN, INT64_MAX);
	c.raw = t.raw;
	r->created_ms = get_int(&c, INT64_MIN, INT64_MAX);
	r->enqueued_ms = get_int(&c, INT64_MIN, INT64_MAX);
	d.not_before_ms = get_int(&c, INT64_MIN, INT64_MAX);
	r->log_lines = (uint32_t)get_int(&c, 0, UINT32_MAX);
	d.vcpu_ms = get_int(&c, INT64_MIN, INT64_MAX);
	d.gb_ms = get_int(&c, INT64_MIN, INT64_MAX);
	d.cost = get_int(&c, INT64_MIN, INT64_MAX);
	c.id = r->id;
	get_str(&c, NULL, 0, &d.app_id);
	get_sealed(&c, RUN_ELEM_REASON, &d.reason);
	get_str(&c, NULL, 0, &d.failure_class);
	get_str(&c, NULL, 0, &r->idem_key);
	get_sealed(&c, RUN_ELEM_DIAG, &d.diag_line);
	/* attached now: run_clear frees its strings if the rest is bad */
	attach_detail(r, &d, ms);
	if (c.n > RUN_FIELDS_V3) /* format 4 */
		r->est_cost = get_int(&c, 0, INT64_MAX);
	/* before job versions, every job had one: version 1 (also for 0,
	 * a run made without a version: tools, tests) */
	if (c.n > RUN_FIELDS_V4)
		r->job_version = (uint16_t)get_int(&c, 0, JOB_VERSION_MAX);
	if (!r->job_version)
		r->job_version = 1;
	if (c.n > RUN_FIELDS_V5) {
		char *creator = NULL;
		get_str(&c, NULL, 0, &creator);
		if (creator && strlen(creator) > 127)
			c.bad = true;
		else
			r->creator = state_creator(st, creator);
		free(creator);
		if (get_extra(&c, r))
			return -1;
	}
	/* more bytes or elements than it read: the general path's */
	if (c.raw && (c.raw != c.end || c.i != c.n))
		return -1;
	if (c.bad || t.bad)
		return -1;
	r->job = state_job(st, job);
	return r->job ? 0 : -1;
}

/* The fast path's reader. Most of a restart's CPU went to msgpack_unpack
 * building objects for every element of every run, then to reading them:
 * a common record (every element an integer, a string, a bool or nil, its
 * times an array of integers; no sealed field, no extra record) is read
 * straight from its bytes instead. Anything else (a bin, a map, a float,
 * a truncated element) leaves the cursor bad, and the general path decodes
 * the record from the start: the fast path accepts only what the general
 * one would, with the same values (msgpack-c's types: a signed format
 * holding a value >= 0 is a positive integer). */
static bool raw_take(struct cursor *c, size_t n, const uint8_t **p)
{
	if ((size_t)(c->end - c->raw) < n)
		return false;
	*p = c->raw;
	c->raw += n;
	return true;
}

static bool raw_be(struct cursor *c, size_t n, uint64_t *v)
{
	const uint8_t *p;

	if (!raw_take(c, n, &p))
		return false;
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = *v << 8 | p[i];
	return true;
}

static void raw_int(msgpack_object *o, int64_t v)
{
	if (v >= 0) {
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = (uint64_t)v;
	} else {
		o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		o->via.i64 = v;
	}
}

static const msgpack_object *raw_next(struct cursor *c)
{
	msgpack_object *o = &c->scratch;
	const uint8_t *p;
	uint64_t v = 0;
	uint8_t b;

	if (!raw_take(c, 1, &p))
		goto bad;
	b = *p;
	if (b <= 0x7f) {
		raw_int(o, b);
	} else if (b >= 0xe0) {
		raw_int(o, (int8_t)b);
	} else if (b == 0xc0) {
		o->type = MSGPACK_OBJECT_NIL;
	} else if (b == 0xc2 || b == 0xc3) {
		o->type = MSGPACK_OBJECT_BOOLEAN;
		o->via.boolean = b == 0xc3;
	} else if (b >= 0xcc && b <= 0xcf) { /* uint 8 to 64 */
		if (!raw_be(c, (size_t)1 << (b - 0xcc), &v))
			goto bad;
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = v;
	} else if (b >= 0xd0 && b <= 0xd3) { /* int 8 to 64 */
		size_t n = (size_t)1 << (b - 0xd0);
		if (!raw_be(c, n, &v))
			goto bad;
		/* sign-extend from n bytes */
		raw_int(o, n == 8 ? (int64_t)v
				  : (int64_t)(v ^ (1ull << (8 * n - 1))) -
					    (int64_t)(1ull << (8 * n - 1)));
	} else if ((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb)) {
		if (b <= 0xbf)
			v = b & 0x1f;
		else if (!raw_be(c, (size_t)1 << (b - 0xd9), &v))
			goto bad;
		if (!raw_take(c, v, &p))
			goto bad;
		o->type = MSGPACK_OBJECT_STR;
		o->via.str.ptr = (const char *)p;
		o->via.str.size = (uint32_t)v;
	} else if ((b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd) {
		/* only its size: its elements follow (decode_v2's times) */
		if (b <= 0x9f)
			v = b & 0x0f;
		else if (!raw_be(c, b == 0xdc ? 2 : 4, &v))
			goto bad;
		o->type = MSGPACK_OBJECT_ARRAY;
		o->via.array.size = (uint32_t)v;
		o->via.array.ptr = NULL;
	} else {
		goto bad;
	}
	return o;
bad:
	c->bad = true;
	return NULL;
}

/* Records the fast path passed to the general one (rare: few runs have a
 * sealed field or an extra record): counted for the tests. */
static _Atomic uint64_t declined;

uint64_t run_decode_declined(void)
{
	return declined;
}

/* Points c at the elements of the positional record in buf, on its
 * bytes: true, or false if buf does not start with an array of at least
 * the format's first elements. */
static bool raw_open(struct cursor *c, const void *buf, size_t len)
{
	const msgpack_object *o;

	c->n = 1;
	c->raw = buf;
	c->end = (const uint8_t *)buf + len;
	o = next(c);
	if (!o || o->type != MSGPACK_OBJECT_ARRAY ||
	    o->via.array.size < RUN_FIELDS_V3)
		return false;
	c->n = o->via.array.size;
	c->i = 0;
	return true;
}

/* Decodes buf on the fast path: 0, or -1 with r as it was (zeroed) for
 * the general path. */
static int decode_raw(const void *buf, size_t len, struct sched_state *st,
		      const struct keyring *kr, struct keyring_opener *op,
		      struct run *r)
{
	struct cursor c = { .kr = kr, .op = op };

	if (!raw_open(&c, buf, len) || c.n > RUN_FIELDS) {
		declined++;
		return -1;
	}
	if (decode_v2(c, st, r) == 0 && r->id)
		return 0;
	declined++;
	run_clear(r);
	memset(r, 0, sizeof(*r));
	return -1;
}

int run_peek_job(const void *buf, size_t len, char *job, size_t joblen)
{
	struct cursor c = { 0 };

	if (!raw_open(&c, buf, len))
		return -1;
	get_int(&c, RUN_RECORD_V2, RUN_RECORD_V2);
	if (!get_u64(&c))
		return -1;
	get_str(&c, job, joblen, NULL);
	return c.bad ? -1 : 0;
}

enum record_owner run_record_owner(const void *buf, size_t len,
				   const char *owner, size_t olen)
{
	char job[JOB_KEY_LEN];

	if (run_peek_job(buf, len, job, sizeof(job)))
		return RECORD_UNREADABLE;
	return key_owned_by(job, owner, olen) ? RECORD_OWNED : RECORD_OTHERS;
}

/* Passes over n elements. On the fast path an array there would leave
 * its elements to be read as the next ones: none of the elements passed
 * over is one, so the record is damaged. */
static void skip(struct cursor *c, uint32_t n)
{
	for (uint32_t i = 0; i < n && !c->bad; i++) {
		const msgpack_object *o = next(c);
		if (o && c->raw && o->type == MSGPACK_OBJECT_ARRAY)
			c->bad = true;
	}
}

/* A string's text into buf, cut to fit; nil is "". */
static void get_str_cut(struct cursor *c, char *buf, size_t len)
{
	const msgpack_object *o = next(c);
	size_t n;

	buf[0] = '\0';
	if (!o || o->type == MSGPACK_OBJECT_NIL)
		return;
	if (o->type != MSGPACK_OBJECT_STR) {
		c->bad = true;
		return;
	}
	n = o->via.str.size < len ? o->via.str.size : len - 1;
	memcpy(buf, o->via.str.ptr, n);
	buf[n] = '\0';
}

/* Format 2 to 6: the elements of a summary, in decode_v2's order. */
static int summary_v2(struct cursor c, struct run_summary *s)
{
	const msgpack_object *o;

	get_int(&c, RUN_RECORD_V2, RUN_RECORD_V2);
	s->id = get_u64(&c);
	get_str(&c, s->job, sizeof(s->job), NULL);
	s->state = (enum run_state)get_int(&c, 0, RUN_STATE_COUNT - 1);
	skip(&c, 1); /* priority */
	s->attempt = (uint32_t)get_int(&c, 0, UINT32_MAX);
	/* lost, epoch, agent, exit code, cancel requested, completions */
	skip(&c, 6);
	o = next(&c);
	if (!o || o->type != MSGPACK_OBJECT_ARRAY)
		return -1;
	if (c.raw) { /* the times follow in the same bytes */
		struct cursor t = { .n = o->via.array.size, .raw = c.raw,
				    .end = c.end };
		skip(&t, t.n);
		if (t.bad)
			return -1;
		c.raw = t.raw;
	}
	s->created_ms = get_int(&c, INT64_MIN, INT64_MAX);
	skip(&c, 2); /* enqueued, not before */
	s->log_lines = (uint32_t)get_int(&c, 0, UINT32_MAX);
	skip(&c, 5); /* usage (three), app id, reason */
	get_str_cut(&c, s->failure_class, sizeof(s->failure_class));
	return c.bad || !s->id ? -1 : 0;
}

/* Format 1, the map: what decode_v1 reads of the same fields. */
static int summary_v1(const msgpack_object *m, struct run_summary *s)
{
	int64_t state = 0, attempt = 1, v = 0;

	if (mp_get_u64(m, "id", &s->id) ||
	    mp_get_str(m, "job", s->job, sizeof(s->job)) ||
	    mp_get_i64(m, "state", &state) || state < 0 ||
	    state >= RUN_STATE_COUNT || !s->id)
		return -1;
	mp_get_i64(m, "attempt", &attempt);
	mp_get_i64(m, "created_ms", &s->created_ms);
	if (!mp_get_i64(m, "log_lines", &v) && v >= 0 && v <= UINT32_MAX)
		s->log_lines = (uint32_t)v;
	s->state = (enum run_state)state;
	s->attempt = attempt < 1 ? 1 : (uint32_t)attempt;
	return 0;
}

int run_summary_read(const void *buf, size_t len, struct run_summary *s)
{
	struct cursor c = { 0 };
	msgpack_unpacked u;
	size_t off = 0;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (raw_open(&c, buf, len) && !summary_v2(c, s))
		return 0;
	memset(s, 0, sizeof(*s));
	if (mp_validate(buf, len))
		return -1;
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, buf, len, &off) == MSGPACK_UNPACK_SUCCESS) {
		const msgpack_object *o = &u.data;
		struct cursor g = { .o = o->via.array.ptr,
				    .n = o->via.array.size };
		if (o->type == MSGPACK_OBJECT_ARRAY &&
		    o->via.array.size >= RUN_FIELDS_V3)
			rc = summary_v2(g, s);
		else if (o->type == MSGPACK_OBJECT_MAP)
			rc = summary_v1(o, s);
	}
	msgpack_unpacked_destroy(&u);
	return rc;
}

static char *dup_nonempty(const msgpack_object *m, const char *key)
{
	char *s = mp_get_strdup(m, key);
	if (s && !*s) {
		free(s);
		s = NULL;
	}
	return s;
}

/* Format 1: a map by field name (the walking skeleton). */
static int decode_v1(const msgpack_object *m, struct sched_state *st,
		     struct run *r)
{
	char job[JOB_KEY_LEN] = "", agent[AGENT_ID_LEN] = "";
	int64_t state = 0, prio = 0, attempt = 1, code = -1, v = 0;
	const msgpack_object *a;
	struct run_detail d = { 0 };
	int64_t ms[RUN_STATE_COUNT] = { 0 };
	bool cancel = false;

	if (mp_get_u64(m, "id", &r->id) || mp_get_str(m, "job", job, sizeof(job)) ||
	    mp_get_i64(m, "state", &state) || state < 0 || state >= RUN_STATE_COUNT)
		return -1;
	mp_get_i64(m, "priority", &prio);
	mp_get_i64(m, "attempt", &attempt);
	mp_get_u64(m, "epoch", &d.epoch);
	mp_get_str(m, "agent", agent, sizeof(agent));
	mp_get_i64(m, "exit_code", &code);
	mp_get_bool(m, "cancel_requested", &cancel);
	mp_get_i64(m, "created_ms", &r->created_ms);
	if (!mp_get_i64(m, "log_lines", &v) && v >= 0 && v <= UINT32_MAX)
		r->log_lines = (uint32_t)v;
	mp_get_i64(m, "vcpu_ms", &d.vcpu_ms);
	mp_get_i64(m, "gb_ms", &d.gb_ms);
	mp_get_i64(m, "cost", &d.cost);
	a = mp_get(m, "state_ms");
	for (uint32_t i = 0; a && a->type == MSGPACK_OBJECT_ARRAY &&
			     i < a->via.array.size && i < RUN_STATE_COUNT; i++)
		if (a->via.array.ptr[i].type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			ms[i] = (int64_t)a->via.array.ptr[i].via.u64;
	r->state = (enum run_state)state;
	r->priority = prio < -1000 ? -1000 : prio > 1000 ? 1000 : (int32_t)prio;
	r->attempt = attempt < 1 ? 1 : (uint32_t)attempt;
	r->exit_code = (int32_t)code;
	r->cancel_requested = cancel;
	r->completions = run_state_terminal(r->state) ? 1 : 0;
	r->enqueued_ms = ms[RUN_QUEUED];
	r->job_version = 1;
	memcpy(d.agent, agent, sizeof(agent));
	d.app_id = dup_nonempty(m, "app_id");
	d.reason = dup_nonempty(m, "reason");
	attach_detail(r, &d, ms);
	r->idem_key = dup_nonempty(m, "idempotency_key");
	r->job = state_job(st, job);
	return r->job ? 0 : -1;
}

int run_decode(const void *buf, size_t len, struct sched_state *st,
	       msgpack_zone *zone, struct run *r)
{
	return run_decode_sealed(buf, len, st, NULL, NULL, zone, r);
}

int run_decode_sealed(const void *buf, size_t len, struct sched_state *st,
		      const struct keyring *kr, struct keyring_opener *op,
		      msgpack_zone *zone, struct run *r)
{
	if (decode_raw(buf, len, st, kr, op, r) == 0)
		return 0;
	return run_decode_general(buf, len, st, kr, op, zone, r);
}

int run_decode_general(const void *buf, size_t len, struct sched_state *st,
		       const struct keyring *kr, struct keyring_opener *op,
		       msgpack_zone *zone, struct run *r)
{
	msgpack_object o;
	size_t off = 0;
	int rc = -1;

	if (!mp_validate(buf, len) &&
	    msgpack_unpack(buf, len, &off, zone, &o) == MSGPACK_UNPACK_SUCCESS) {
		struct cursor c = { o.via.array.ptr, o.via.array.size, 0,
				    false, kr, op, 0 };
		if (o.type == MSGPACK_OBJECT_ARRAY &&
		    o.via.array.size >= RUN_FIELDS_V3)
			rc = decode_v2(c, st, r);
		else if (o.type == MSGPACK_OBJECT_MAP)
			rc = decode_v1(&o, st, r);
	}
	msgpack_zone_clear(zone);
	if (rc == 0 && r->id == 0)
		rc = -1;
	if (rc)
		run_clear(r);
	return rc;
}
