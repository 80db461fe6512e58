/* cost_records.c - usage roll-ups and cost events in the store. */
#include "cost_records.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp.h"
#include "util.h"

#define DAY_BIAS 0x80000000u /* days sort as unsigned, negative ones too */

/* An environment's day: tenant \0 day(be32, biased) env. A group's (a
 * job's, a creator's): tenant \0 day \0 kind name, where kind is 'j'
 * (name "env/job") or 'u' (name the creator, maybe empty); no
 * environment's name starts with \0, so the two never meet. */
#define GROUP_JOB 'j'
#define GROUP_USER 'u'

static size_t usage_key(uint8_t *key, const struct usage_day *d)
{
	size_t tl = strlen(d->tenant) + 1, n = tl + 4;
	uint8_t day[4];

	memcpy(key, d->tenant, tl);
	store_put_u32be(day, (uint32_t)d->day + DAY_BIAS);
	memcpy(key + tl, day, 4);
	if (d->kind == USAGE_ENV) {
		memcpy(key + n, d->env, strlen(d->env));
		return n + strlen(d->env);
	}
	key[n++] = 0;
	key[n++] = d->kind == USAGE_JOB ? GROUP_JOB : GROUP_USER;
	if (d->kind == USAGE_JOB)
		n += (size_t)sprintf((char *)key + n, "%s/%s", d->env, d->name);
	else
		n += (size_t)sprintf((char *)key + n, "%s", d->name);
	return n;
}

void records_put_usage_day(struct store_batch *b, struct store *s,
			   const struct usage_day *d)
{
	uint8_t key[3 * NAME_MAX_LEN + 8];
	size_t klen = usage_key(key, d);
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 6);
	mp_kv_u64(&pk, "runs", d->runs);
	mp_kv_u64(&pk, "succeeded", d->succeeded);
	mp_kv_u64(&pk, "failed", d->failed);
	mp_kv_i64(&pk, "vcpu_ms", d->vcpu_ms);
	mp_kv_i64(&pk, "gb_ms", d->gb_ms);
	mp_kv_i64(&pk, "cost", d->cost);
	store_batch_put(b, s, CF_USAGE, key, klen, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

/* tenant \0 ms(be64, biased) seq(be64) */
void records_put_cost_event(struct store_batch *b, struct store *s,
			    const struct cost_event *ev)
{
	uint8_t key[NAME_MAX_LEN + 16];
	size_t tl = strlen(ev->tenant) + 1;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	memcpy(key, ev->tenant, tl);
	store_put_u64be(key + tl, (uint64_t)ev->ms ^ (1ULL << 63));
	store_put_u64be(key + tl + 8, ev->seq);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kv_str(&pk, "kind", ev->kind);
	mp_kv_str(&pk, "text", ev->text);
	store_batch_put(b, s, CF_COSTLOG, key, tl + 16, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

struct load_ctx {
	struct sched_state *st;
	msgpack_zone *zone;
	char *err;
	size_t errlen;
};

/* Unpacks a stored map; NULL if it is not one. */
static const msgpack_object *unpack_map(struct load_ctx *lc, const void *val,
					size_t vlen, msgpack_object *o)
{
	size_t off = 0;

	if (mp_validate(val, vlen) ||
	    msgpack_unpack(val, vlen, &off, lc->zone, o) !=
		    MSGPACK_UNPACK_SUCCESS ||
	    o->type != MSGPACK_OBJECT_MAP)
		return NULL;
	return o;
}

/* The part of a usage key after the day into d: an environment's name,
 * or a group's kind and name. 0, or -1 if it is none of them. */
static int parse_usage_tail(const uint8_t *k, size_t n, struct usage_day *d)
{
	const uint8_t *slash;

	if (n && k[0]) { /* an environment */
		if (n >= NAME_MAX_LEN)
			return -1;
		memcpy(d->env, k, n);
		return 0;
	}
	if (n < 2 || n - 2 >= 2 * NAME_MAX_LEN || memchr(k + 2, 0, n - 2))
		return -1;
	if (k[1] == GROUP_USER) {
		d->kind = USAGE_USER;
		if (n - 2 >= NAME_MAX_LEN)
			return -1;
		memcpy(d->name, k + 2, n - 2);
		return 0;
	}
	slash = memchr(k + 2, '/', n - 2);
	if (k[1] != GROUP_JOB || !slash || slash - (k + 2) >= NAME_MAX_LEN ||
	    (size_t)(k + n - slash - 1) >= NAME_MAX_LEN)
		return -1;
	d->kind = USAGE_JOB;
	memcpy(d->env, k + 2, (size_t)(slash - (k + 2)));
	memcpy(d->name, slash + 1, (size_t)(k + n - slash - 1));
	return 0;
}

static int load_day(const void *key, size_t klen, const void *val,
		    size_t vlen, void *ctx)
{
	struct load_ctx *lc = ctx;
	const uint8_t *k = key;
	const uint8_t *nul = memchr(k, 0, klen);
	size_t tl = nul ? (size_t)(nul - k) : klen;
	struct usage_day *d;
	msgpack_object o;
	int64_t v[6];
	int bad = 0;

	if (!nul || klen < tl + 1 + 4 || tl >= NAME_MAX_LEN ||
	    !unpack_map(lc, val, vlen, &o)) {
		snprintf(lc->err, lc->errlen, "a usage record is damaged");
		return -1;
	}
	bad |= mp_get_i64(&o, "runs", &v[0]) | mp_get_i64(&o, "succeeded", &v[1]);
	bad |= mp_get_i64(&o, "failed", &v[2]) | mp_get_i64(&o, "vcpu_ms", &v[3]);
	bad |= mp_get_i64(&o, "gb_ms", &v[4]) | mp_get_i64(&o, "cost", &v[5]);
	d = xcalloc(1, sizeof(*d));
	if (bad || v[0] < 0 || v[1] < 0 || v[2] < 0 ||
	    parse_usage_tail(k + tl + 5, klen - tl - 5, d)) {
		free(d);
		snprintf(lc->err, lc->errlen, "a usage record is damaged");
		return -1;
	}
	memcpy(d->tenant, k, tl);
	d->day = (int32_t)(store_get_u32be(k + tl + 1) - DAY_BIAS);
	d->runs = (uint64_t)v[0];
	d->succeeded = (uint64_t)v[1];
	d->failed = (uint64_t)v[2];
	d->vcpu_ms = v[3];
	d->gb_ms = v[4];
	d->cost = v[5];
	usage_load_day(&lc->st->usage, d);
	return 0;
}

/* A stored event back: 0, or -1 if the record is damaged. */
static int decode_event(struct load_ctx *lc, const void *key, size_t klen,
			const void *val, size_t vlen, struct cost_event *ev)
{
	const uint8_t *k = key;
	const uint8_t *nul = memchr(k, 0, klen);
	msgpack_object o;

	memset(ev, 0, sizeof(*ev));
	if (!nul || klen != (size_t)(nul - k) + 1 + 16 ||
	    (size_t)(nul - k) >= NAME_MAX_LEN || !unpack_map(lc, val, vlen, &o) ||
	    mp_get_str(&o, "kind", ev->kind, sizeof(ev->kind)) ||
	    mp_get_str(&o, "text", ev->text, sizeof(ev->text))) {
		snprintf(lc->err, lc->errlen, "a cost event record is damaged");
		return -1;
	}
	memcpy(ev->tenant, k, (size_t)(nul - k));
	ev->ms = (int64_t)(store_get_u64be(nul + 1) ^ (1ULL << 63));
	ev->seq = store_get_u64be(nul + 9);
	return 0;
}

static int load_event(const void *key, size_t klen, const void *val,
		      size_t vlen, void *ctx)
{
	struct load_ctx *lc = ctx;
	struct cost_event ev;
	struct tenant *t;

	if (decode_event(lc, key, klen, val, vlen, &ev))
		return -1;
	t = state_tenant(lc->st, ev.tenant);
	if (t) /* a deleted tenant's events stay for the record */
		budget_remember(t, &ev);
	return 0;
}

struct scan_ctx {
	struct load_ctx lc;
	cost_event_fn fn;
	void *ctx;
};

static int scan_event(const void *key, size_t klen, const void *val,
		      size_t vlen, void *ctx)
{
	struct scan_ctx *sc = ctx;
	struct cost_event ev;

	if (decode_event(&sc->lc, key, klen, val, vlen, &ev))
		return -1;
	msgpack_zone_clear(sc->lc.zone); /* ev holds copies */
	return sc->fn(&ev, sc->ctx);
}

int cost_records_scan_events(struct store *s, const char *tenant,
			     cost_event_fn fn, void *ctx, char *err,
			     size_t errlen)
{
	struct scan_ctx sc = { { NULL, NULL, err, errlen }, fn, ctx };
	char start[NAME_MAX_LEN + 1], end[NAME_MAX_LEN + 1];
	size_t tl = strlen(tenant);
	msgpack_zone zone;
	int rc;

	if (tl >= NAME_MAX_LEN)
		return 0;
	memcpy(start, tenant, tl + 1); /* tenant \0: its events ... */
	memcpy(end, tenant, tl);
	end[tl] = 1;                   /* ... end before tenant \1 */
	if (!msgpack_zone_init(&zone, 4096))
		die("out of memory");
	sc.lc.zone = &zone;
	rc = store_scan(s, CF_COSTLOG, start, tl + 1, end, tl + 1, scan_event,
			&sc);
	msgpack_zone_destroy(&zone);
	return rc;
}

/* The roll-ups from the run records into u: those an older store did not
 * keep (format 3 and older: none; 4 and 5: the jobs' and creators'). */
static void rebuild_usage(struct sched_state *st, struct usage *u)
{
	char by[64];

	for (size_t i = 0; i < st->nruns; i++) {
		const struct run *r = st->runs[i];
		struct usage_amount amt;
		int64_t end;
		if (!r)
			continue;
		end = run_state_terminal(r->state) ? run_state_ms(r, r->state)
						   : r->created_ms;
		amt.vcpu_ms = run_detail(r)->vcpu_ms;
		amt.gb_ms = run_detail(r)->gb_ms;
		amt.cost = run_detail(r)->cost;
		run_created_by(st, r, by, sizeof(by));
		if (amt.vcpu_ms || amt.gb_ms || amt.cost)
			usage_add_attempt(u, r, by, end, &amt);
		if (run_state_terminal(r->state))
			usage_add_run_end(u, r, by, end);
	}
}

int cost_records_load(struct store *s, struct sched_state *st, char *err,
		      size_t errlen)
{
	struct load_ctx lc = { st, NULL, err, errlen };
	msgpack_zone zone;
	uint32_t was = store_opened_format(s);
	int rc;

	if (!msgpack_zone_init(&zone, 4096))
		die("out of memory");
	lc.zone = &zone;
	rc = store_scan(s, CF_USAGE, NULL, 0, NULL, 0, load_day, &lc);
	if (!rc)
		rc = store_scan(s, CF_COSTLOG, NULL, 0, NULL, 0, load_event,
				&lc);
	msgpack_zone_destroy(&zone);
	if (rc)
		return -1;
	if (was && was < 4) {
		/* the runs are the record there: nothing else to add to */
		usage_release(&st->usage);
		usage_init(&st->usage);
		rebuild_usage(st, &st->usage);
		log_info("usage roll-ups rebuilt from %zu runs (store format %u)",
			 st->nruns, was);
	} else if (was && was < STORE_FORMAT_GROUPS) {
		/* the environments' days stay as stored (they hold runs
		 * retention removed since); the groups come from the runs
		 * kept */
		struct usage tmp;
		usage_init(&tmp);
		rebuild_usage(st, &tmp);
		usage_adopt_groups(&st->usage, &tmp);
		usage_release(&tmp);
		log_info("usage roll-ups by job and by creator rebuilt from "
			 "%zu runs (store format %u)", st->nruns, was);
	}
	return 0;
}
