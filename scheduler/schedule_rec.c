/* schedule_rec.c - msgpack encoding of recurring schedules (schedule_rec.h). */
#include "schedule_rec.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp.h"
#include "records.h"
#include "util.h"

#define SCHEDULE_FIELDS 22 /* besides argv */

size_t schedule_rec_key(const char *tenant, uint64_t id, uint8_t *key)
{
	size_t n = strlen(tenant) + 1; /* the NUL ends the name */

	memcpy(key, tenant, n);
	store_put_u64be(key + n, id);
	return n + 8;
}

void schedule_rec_put(struct store_batch *b, struct store *s,
		      const struct schedule_def *d)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint8_t key[SCHEDULE_KEY_MAX];
	size_t klen = schedule_rec_key(d->tenant, d->id, key);

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, SCHEDULE_FIELDS + 1);
	mp_kv_u64(&pk, "v", 1);
	mp_kv_u64(&pk, "id", d->id);
	mp_kv_str(&pk, "tenant", d->tenant);
	mp_kv_str(&pk, "job", d->job);
	mp_kv_str(&pk, "cron", d->cron);
	mp_kv_str(&pk, "zone", d->zone);
	mp_kv_u64(&pk, "concurrency", (uint64_t)d->concurrency);
	mp_kv_u64(&pk, "catchup", (uint64_t)d->catchup);
	mp_kv_i64(&pk, "deadline_ms", d->deadline_ms);
	mp_kv_str(&pk, "then", d->then);
	mp_kv_bool(&pk, "paused", d->paused);
	mp_kv_i64(&pk, "created_ms", d->created_ms);
	mp_kv_str(&pk, "created_by", d->created_by);
	mp_kv_i64(&pk, "cursor_ms", d->cursor_ms);
	mp_kv_i64(&pk, "last_fired_ms", d->last_fired_ms);
	mp_pack_cstr(&pk, "last_runs");
	msgpack_pack_array(&pk, d->nlast);
	for (uint32_t i = 0; i < d->nlast; i++)
		msgpack_pack_uint64(&pk, d->last_runs[i]);
	mp_kv_u64(&pk, "fired", d->fired);
	mp_kv_u64(&pk, "skipped", d->skipped);
	mp_kv_u64(&pk, "missed", d->missed);
	mp_kv_u64(&pk, "refused", d->refused);
	mp_kv_str(&pk, "last_error", d->last_error);
	mp_kv_i64(&pk, "last_error_ms", d->last_error_ms);
	/* customer data: sealed for this record, as a job's arguments */
	records_pack_argv(&pk, s, CF_SCHEDULES, (const char *)key, klen,
			  d->tenant, d->nargs, d->args);
	store_batch_put(b, s, CF_SCHEDULES, key, klen, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

void schedule_rec_delete(struct store_batch *b, struct store *s,
			 const struct schedule_def *d)
{
	uint8_t key[SCHEDULE_KEY_MAX];
	size_t klen = schedule_rec_key(d->tenant, d->id, key);

	store_batch_delete(b, s, CF_SCHEDULES, key, klen);
}

static int get_runs(const msgpack_object *o, struct schedule_def *d)
{
	const msgpack_object *a = mp_get(o, "last_runs");

	if (!a)
		return 0;
	if (a->type != MSGPACK_OBJECT_ARRAY ||
	    a->via.array.size > 1 + SCHEDULE_THEN_MAX)
		return -1;
	for (uint32_t i = 0; i < a->via.array.size; i++) {
		if (a->via.array.ptr[i].type !=
		    MSGPACK_OBJECT_POSITIVE_INTEGER)
			return -1;
		d->last_runs[i] = a->via.array.ptr[i].via.u64;
	}
	d->nlast = a->via.array.size;
	return 0;
}

/* The fields besides argv; 0 / -1. */
static int get_fields(const msgpack_object *o, struct schedule_def *d)
{
	uint64_t v = 0, conc = 0, catchup = 0;

	if (mp_get_u64(o, "v", &v) || v != 1 || mp_get_u64(o, "id", &d->id) ||
	    mp_get_str(o, "tenant", d->tenant, sizeof(d->tenant)) ||
	    mp_get_str(o, "job", d->job, sizeof(d->job)) ||
	    mp_get_str(o, "cron", d->cron, sizeof(d->cron)) ||
	    mp_get_str(o, "zone", d->zone, sizeof(d->zone)) ||
	    mp_opt_u64(o, "concurrency", &conc) || conc > SCHED_CONC_REPLACE ||
	    mp_opt_u64(o, "catchup", &catchup) || catchup > SCHED_CATCHUP_ALL ||
	    mp_opt_i64(o, "deadline_ms", &d->deadline_ms) || d->deadline_ms < 0 ||
	    mp_opt_str(o, "then", d->then, sizeof(d->then)) ||
	    mp_opt_bool(o, "paused", &d->paused) ||
	    mp_opt_i64(o, "created_ms", &d->created_ms) ||
	    mp_opt_str(o, "created_by", d->created_by, sizeof(d->created_by)) ||
	    mp_opt_i64(o, "cursor_ms", &d->cursor_ms) ||
	    mp_opt_i64(o, "last_fired_ms", &d->last_fired_ms) ||
	    get_runs(o, d) || mp_opt_u64(o, "fired", &d->fired) ||
	    mp_opt_u64(o, "skipped", &d->skipped) ||
	    mp_opt_u64(o, "missed", &d->missed) ||
	    mp_opt_u64(o, "refused", &d->refused) ||
	    mp_opt_str(o, "last_error", d->last_error, sizeof(d->last_error)) ||
	    mp_opt_i64(o, "last_error_ms", &d->last_error_ms))
		return -1;
	d->concurrency = (int)conc;
	d->catchup = (int)catchup;
	return 0;
}

/* The key is the record's own: tenant, NUL, id. */
static bool key_matches(const struct schedule_def *d, const void *key,
			size_t klen)
{
	uint8_t want[SCHEDULE_KEY_MAX];

	return d->tenant[0] && d->id &&
	       klen == schedule_rec_key(d->tenant, d->id, want) &&
	       !memcmp(want, key, klen);
}

int schedule_rec_decode(struct store *s, const void *key, size_t klen,
			const void *val, size_t vlen, struct schedule_def *d,
			char *err, size_t errlen)
{
	msgpack_zone zone;
	msgpack_object o;
	const msgpack_object *argv;
	size_t off = 0;
	int bad;

	memset(d, 0, sizeof(*d));
	if (!msgpack_zone_init(&zone, 1024)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	bad = klen > SCHEDULE_KEY_MAX || mp_validate(val, vlen) ||
	      msgpack_unpack(val, vlen, &off, &zone, &o) !=
		      MSGPACK_UNPACK_SUCCESS ||
	      o.type != MSGPACK_OBJECT_MAP || get_fields(&o, d) ||
	      !key_matches(d, key, klen);
	if (!bad) {
		argv = mp_get(&o, "argv");
		/* sealed arguments need the store's keyring */
		bad = (argv && argv->type == MSGPACK_OBJECT_BIN && !s) ||
		      records_unpack_argv(&o, s, CF_SCHEDULES, key, klen,
					  &d->nargs, &d->args) < 0;
	}
	msgpack_zone_destroy(&zone);
	if (bad) {
		schedule_def_release(d);
		memset(d, 0, sizeof(*d));
		snprintf(err, errlen, "a schedule record is damaged");
		return -1;
	}
	return 0;
}

void schedule_def_release(struct schedule_def *d)
{
	for (int i = 0; i < d->nargs; i++)
		free(d->args[i]);
	free(d->args);
	d->args = NULL;
	d->nargs = 0;
	if (d->tz)
		tzone_free(d->tz);
	d->tz = NULL;
}
