/* records.c - msgpack encoding of scheduler records, driven by field tables. */
#include "records.h"

#include <msgpack.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyring.h"
#include "log.h"
#include "mp.h"
#include "cost_records.h"
#include "run_codec.h"
#include "run_load.h"
#include "util.h"

enum ftype { F_STR, F_U32, F_I32, F_U64, F_I64, F_BOOL, F_BIN, F_I64ARR };

struct field {
	const char *name;
	enum ftype type;
	size_t off;
	size_t size; /* bytes for F_STR / F_BIN, elements for F_I64ARR */
};

#define FLD(T, f, ty) { #f, ty, offsetof(T, f), sizeof(((T *)0)->f) }
#define FSTR(T, f) FLD(T, f, F_STR)
#define FARR(T, f) { #f, F_I64ARR, offsetof(T, f), \
		     sizeof(((T *)0)->f) / sizeof(int64_t) }

static const struct field tenant_fields[] = {
	FSTR(struct tenant, name),
	FLD(struct tenant, weight, F_U32),
	FLD(struct tenant, max_running, F_U32),
	FLD(struct tenant, max_queued, F_U32),
	FLD(struct tenant, submit_rate, F_U32),
	FLD(struct tenant, monthly_budget, F_I64),
	FLD(struct tenant, budget_mode, F_I32),
	FLD(struct tenant, created_ms, F_I64),
	FLD(struct tenant, retention_days, F_U32),
	FLD(struct tenant, cancel_running, F_BOOL),
	FLD(struct tenant, suspended_ms, F_I64),
};

static const struct field env_fields[] = {
	FSTR(struct env, key),
	FSTR(struct env, tenant),
	FSTR(struct env, name),
	FLD(struct env, mode, F_I32),
	FLD(struct env, state, F_I32),
	FSTR(struct env, state_reason),
	FLD(struct env, price_vcpu_hour, F_I64),
	FLD(struct env, price_gb_hour, F_I64),
	FSTR(struct env, spark_version),
	FLD(struct env, disk_free_mb, F_I64),
	FLD(struct env, clock_skew_ms, F_I64),
	FLD(struct env, created_ms, F_I64),
	FLD(struct env, state_ms, F_I64),
	FLD(struct env, max_concurrent, F_U32),
	FLD(struct env, spot_discount_bp, F_U32),
	FLD(struct env, deleted_ms, F_I64),
	FSTR(struct env, backend),
	FSTR(struct env, backend_settings),
	FLD(struct env, ready_ms, F_I64),
};

static const struct field agent_fields[] = {
	FSTR(struct agent, id),
	FSTR(struct agent, env),
	FLD(struct agent, pubkey, F_BIN),
	FSTR(struct agent, hostname),
	FLD(struct agent, state, F_I32),
	FLD(struct agent, slots, F_U32),
	FLD(struct agent, seq_hwm, F_U64),
	FLD(struct agent, enrolled_ms, F_I64),
	FLD(struct agent, last_seen_ms, F_I64),
	FLD(struct agent, rejected_forged, F_U64),
	FLD(struct agent, rejected_replayed, F_U64),
	FLD(struct agent, rejected_unsigned, F_U64),
	FLD(struct agent, rejected_stale, F_U64),
	FLD(struct agent, accepted, F_U64),
	FLD(struct agent, preflight_ok, F_BOOL),
	FSTR(struct agent, spark_version),
	FLD(struct agent, last_seq, F_U64),
	FSTR(struct agent, last_digest),
	FLD(struct agent, tb_high, F_U64),
	FLD(struct agent, tb_window, F_BIN),
	FLD(struct agent, tb_stored, F_U64),
	FLD(struct agent, tb_events, F_U64),
	FLD(struct agent, tb_duplicate, F_U64),
	FLD(struct agent, tb_rejected_malformed, F_U64),
	FLD(struct agent, tb_rejected_forged, F_U64),
	FLD(struct agent, tb_rejected_unknown_key, F_U64),
	FLD(struct agent, tb_rejected_replayed, F_U64),
	FLD(struct agent, tb_rejected_stale, F_U64),
	FLD(struct agent, spool_records, F_U64),
	FLD(struct agent, spool_bytes, F_U64),
	FLD(struct agent, spool_dropped_logs, F_U64),
	FLD(struct agent, spool_dropped_metrics, F_U64),
	FLD(struct agent, spool_corrupt, F_U64),
	FLD(struct agent, spool_torn, F_U64),
	FSTR(struct agent, version),
	FLD(struct agent, tb_bytes, F_U64),
	/* key rotation: absent in records of older builds (read as never
	 * rotated, nothing asked) */
	FLD(struct agent, pubkey_prev, F_BIN),
	FLD(struct agent, prev_until_ms, F_I64),
	FLD(struct agent, key_rotated_ms, F_I64),
	FLD(struct agent, rotate_requested_ms, F_I64),
};

static const struct field token_fields[] = {
	FSTR(struct token, hash),
	FSTR(struct token, env),
	FLD(struct token, created_ms, F_I64),
	FLD(struct token, expires_ms, F_I64),
	FLD(struct token, used_ms, F_I64),
	FSTR(struct token, agent),
	FLD(struct token, revoked_ms, F_I64),
};

static const struct field job_fields[] = {
	FSTR(struct job, key),
	FSTR(struct job, tenant),
	FSTR(struct job, env),
	FSTR(struct job, name),
	FLD(struct job, driver_cores, F_U32),
	FLD(struct job, driver_memory_mb, F_U32),
	FLD(struct job, executor_cores, F_U32),
	FLD(struct job, executor_memory_mb, F_U32),
	FLD(struct job, executors, F_U32),
	FLD(struct job, timeout_s, F_U32),
	FLD(struct job, max_attempts, F_U32),
	FLD(struct job, run_budget, F_I64),
	FLD(struct job, created_ms, F_I64),
	FLD(struct job, max_concurrent, F_U32),
	FLD(struct job, deleted_ms, F_I64),
	/* job versions: absent in older records (version 1) */
	FLD(struct job, version, F_U32),
	FLD(struct job, version_ms, F_I64),
	FSTR(struct job, version_by),
	FSTR(struct job, version_note),
};

static void pack_fields(msgpack_packer *pk, const void *rec,
			const struct field *f, size_t n)
{
	const char *base = rec;
	for (size_t i = 0; i < n; i++, f++) {
		const char *p = base + f->off;
		mp_pack_cstr(pk, f->name);
		switch (f->type) {
		case F_STR:
			mp_pack_cstr(pk, p);
			break;
		case F_U32:
			msgpack_pack_uint32(pk, *(const uint32_t *)p);
			break;
		case F_I32:
			msgpack_pack_int32(pk, *(const int32_t *)p);
			break;
		case F_U64:
			msgpack_pack_uint64(pk, *(const uint64_t *)p);
			break;
		case F_I64:
			msgpack_pack_int64(pk, *(const int64_t *)p);
			break;
		case F_BOOL:
			if (*(const bool *)p)
				msgpack_pack_true(pk);
			else
				msgpack_pack_false(pk);
			break;
		case F_BIN:
			msgpack_pack_bin(pk, f->size);
			msgpack_pack_bin_body(pk, p, f->size);
			break;
		case F_I64ARR:
			msgpack_pack_array(pk, f->size);
			for (size_t k = 0; k < f->size; k++)
				msgpack_pack_int64(pk, ((const int64_t *)p)[k]);
			break;
		}
	}
}

/* Reads the fields present in map into rec; absent fields stay zero. */
static int unpack_fields(const msgpack_object *map, void *rec,
			 const struct field *f, size_t n)
{
	char *base = rec;
	for (size_t i = 0; i < n; i++, f++) {
		const msgpack_object *o = mp_get(map, f->name);
		char *p = base + f->off;
		int64_t i64;
		uint64_t u64;
		bool b;
		const char *bin;
		size_t len;

		if (!o)
			continue;
		switch (f->type) {
		case F_STR:
			if (mp_get_str(map, f->name, p, f->size))
				return -1;
			break;
		case F_U32:
			if (mp_get_u64(map, f->name, &u64) || u64 > UINT32_MAX)
				return -1;
			*(uint32_t *)p = (uint32_t)u64;
			break;
		case F_I32:
			if (mp_get_i64(map, f->name, &i64) || i64 < INT32_MIN ||
			    i64 > INT32_MAX)
				return -1;
			*(int32_t *)p = (int32_t)i64;
			break;
		case F_U64:
			if (mp_get_u64(map, f->name, (uint64_t *)p))
				return -1;
			break;
		case F_I64:
			if (mp_get_i64(map, f->name, (int64_t *)p))
				return -1;
			break;
		case F_BOOL:
			if (mp_get_bool(map, f->name, &b))
				return -1;
			*(bool *)p = b;
			break;
		case F_BIN:
			if (mp_get_bin(map, f->name, &bin, &len) ||
			    len != f->size)
				return -1;
			memcpy(p, bin, len);
			break;
		case F_I64ARR:
			if (o->type != MSGPACK_OBJECT_ARRAY)
				return -1;
			for (size_t k = 0; k < o->via.array.size && k < f->size;
			     k++) {
				const msgpack_object *e = &o->via.array.ptr[k];
				if (e->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
					((int64_t *)p)[k] = (int64_t)e->via.u64;
				else if (e->type ==
					 MSGPACK_OBJECT_NEGATIVE_INTEGER)
					((int64_t *)p)[k] = e->via.i64;
				else
					return -1;
			}
			break;
		}
	}
	return 0;
}

/* Packs the one field a table cannot describe (a heap array or buffer) as
 * an extra map entry; NULL when the record has none. */
typedef void (*pack_extra_fn)(msgpack_packer *pk, struct store *s,
			      enum store_cf cf, const void *key, size_t klen,
			      const void *rec);

void records_pack_argv(msgpack_packer *pk, struct store *s, enum store_cf cf,
		       const char *key, size_t klen, const char *tenant,
		       int argc, char *const *argv)
{
	struct keyring *kr = store_keyring(s);
	msgpack_sbuffer sb;
	msgpack_packer in;
	struct strbuf sealed = STRBUF_INIT;

	mp_pack_cstr(pk, "argv");
	if (!kr) { /* no keyring (tests, tools): in clear */
		msgpack_pack_array(pk, (size_t)argc);
		for (int i = 0; i < argc; i++)
			mp_pack_cstr(pk, argv[i]);
		return;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&in, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&in, (size_t)argc);
	for (int i = 0; i < argc; i++)
		mp_pack_cstr(&in, argv[i]);
	if (keyring_seal(kr, tenant, store_cf_name(cf), key, klen, sb.data,
			 sb.size, &sealed)) {
		/* never in clear: the arguments are lost instead */
		log_error("records: no data key for tenant '%s': the arguments "
			  "of '%s' are not stored", tenant, key);
		msgpack_pack_nil(pk);
	} else {
		msgpack_pack_bin(pk, sealed.len);
		msgpack_pack_bin_body(pk, sealed.buf, sealed.len);
	}
	strbuf_release(&sealed);
	msgpack_sbuffer_destroy(&sb);
}

static int argv_from_array(const msgpack_object *a, int *argc, char ***argv)
{
	if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size > MAX_JOB_ARGS)
		return -1;
	*argv = xcalloc(a->via.array.size + 1, sizeof(char *));
	for (uint32_t i = 0; i < a->via.array.size; i++) {
		const msgpack_object *e = &a->via.array.ptr[i];
		if (e->type != MSGPACK_OBJECT_STR)
			return -1;
		(*argv)[(*argc)++] = xstrndup(e->via.str.ptr, e->via.str.size);
	}
	return 0;
}

int records_unpack_argv(const msgpack_object *map, struct store *s,
			enum store_cf cf, const void *key, size_t klen,
			int *argc, char ***argv)
{
	const msgpack_object *a = mp_get(map, "argv");
	struct strbuf plain = STRBUF_INIT;
	msgpack_unpacked u;
	int rc;

	*argc = 0;
	*argv = NULL;
	if (!a || a->type == MSGPACK_OBJECT_NIL)
		return 0;
	if (a->type != MSGPACK_OBJECT_BIN)
		return argv_from_array(a, argc, argv); /* format 4 and older */
	rc = keyring_open_value(store_keyring(s), store_cf_name(cf), key, klen,
				a->via.bin.ptr, a->via.bin.size, &plain);
	if (rc == KEYRING_DESTROYED) {
		*argv = xcalloc(2, sizeof(char *));
		(*argv)[(*argc)++] = xstrdup(KEYRING_DESTROYED_TEXT);
		return 1;
	}
	if (rc)
		return -1;
	msgpack_unpacked_init(&u);
	rc = mp_validate(plain.buf, plain.len) ||
	     msgpack_unpack_next(&u, plain.buf, plain.len, NULL) !=
		     MSGPACK_UNPACK_SUCCESS ||
	     argv_from_array(&u.data, argc, argv);
	msgpack_unpacked_destroy(&u);
	strbuf_release(&plain);
	return rc ? -1 : 0;
}

/* A job's arguments, in `jobs` and in `jobvers` alike: sealed for the
 * record they are stored in. */
static void pack_job_argv(msgpack_packer *pk, struct store *s,
			  enum store_cf cf, const void *key, size_t klen,
			  const void *rec)
{
	const struct job *job = rec;
	records_pack_argv(pk, s, cf, key, klen, job->tenant, job->argc,
			  job->argv);
}

/* The agent's last reply (resent as is to a resent message) holds what
 * it answered, a lease's job arguments included: sealed under the
 * tenant's key like the arguments themselves. */
static void pack_agent_reply(msgpack_packer *pk, struct store *s,
			     enum store_cf cf, const void *key, size_t klen,
			     const void *rec)
{
	const struct agent *a = rec;
	struct keyring *kr = store_keyring(s);
	struct strbuf sealed = STRBUF_INIT;
	char tenant[ENV_KEY_LEN];

	mp_pack_cstr(pk, "last_reply");
	if (!a->last_reply) {
		msgpack_pack_nil(pk);
		return;
	}
	if (!kr) { /* no keyring (tests, tools): in clear */
		msgpack_pack_bin(pk, a->last_reply_len);
		msgpack_pack_bin_body(pk, a->last_reply, a->last_reply_len);
		return;
	}
	snprintf(tenant, sizeof(tenant), "%.*s", (int)strcspn(a->env, "/"),
		 a->env);
	if (keyring_seal(kr, tenant, store_cf_name(cf), key, klen,
			 a->last_reply, a->last_reply_len, &sealed)) {
		/* never in clear: a resend is answered as new instead */
		msgpack_pack_nil(pk);
	} else {
		msgpack_pack_bin(pk, sealed.len);
		msgpack_pack_bin_body(pk, sealed.buf, sealed.len);
	}
	strbuf_release(&sealed);
}

static void put_record(struct store_batch *b, struct store *s,
		       enum store_cf cf, const void *key, size_t klen,
		       const void *rec, const struct field *f, size_t n,
		       pack_extra_fn extra)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n + (extra ? 1 : 0));
	pack_fields(&pk, rec, f, n);
	if (extra)
		extra(&pk, s, cf, key, klen, rec);
	store_batch_put(b, s, cf, key, klen, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

#define PUT_BY_NAME(b, s, cf, rec, key, tbl, extra) \
	put_record(b, s, cf, key, strlen(key), rec, tbl, ARRAY_SIZE(tbl), \
		   extra)

void records_put_tenant(struct store_batch *b, struct store *s,
			const struct tenant *t)
{
	PUT_BY_NAME(b, s, CF_TENANTS, t, t->name, tenant_fields, NULL);
}

void records_put_env(struct store_batch *b, struct store *s,
		     const struct env *e)
{
	PUT_BY_NAME(b, s, CF_ENVS, e, e->key, env_fields, NULL);
}

void records_put_agent(struct store_batch *b, struct store *s,
		       const struct agent *a)
{
	PUT_BY_NAME(b, s, CF_AGENTS, a, a->id, agent_fields, pack_agent_reply);
}

void records_put_token(struct store_batch *b, struct store *s,
		       const struct token *t)
{
	PUT_BY_NAME(b, s, CF_TOKENS, t, t->hash, token_fields, NULL);
}

void records_put_job(struct store_batch *b, struct store *s,
		     const struct job *j)
{
	PUT_BY_NAME(b, s, CF_JOBS, j, j->key, job_fields, pack_job_argv);
}

size_t records_job_version_key(const char *job, uint32_t version,
			       uint8_t *key)
{
	size_t n = strlen(job) + 1; /* the NUL ends the name */
	memcpy(key, job, n);
	store_put_u32be(key + n, version);
	return n + 4;
}

void records_put_job_version(struct store_batch *b, struct store *s,
			     const struct job *j)
{
	uint8_t key[JOB_KEY_LEN + 4];
	size_t klen = records_job_version_key(j->key, j->version, key);
	/* the same encoding as the job record, argv through pack_job_argv */
	put_record(b, s, CF_JOBVERS, key, klen, j, job_fields,
		   ARRAY_SIZE(job_fields), pack_job_argv);
}

void records_put_run(struct store_batch *b, struct store *s,
		     const struct run *r)
{
	records_put_run_by(b, s, r, NULL);
}

void records_put_run_by(struct store_batch *b, struct store *s,
			const struct run *r, const char *creator)
{
	uint8_t key[8];
	msgpack_sbuffer sb;

	store_put_u64be(key, r->id);
	msgpack_sbuffer_init(&sb);
	run_encode_sealed(r, creator, store_keyring(s), &sb);
	store_batch_put(b, s, CF_RUNS, key, sizeof(key), sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

void records_put_log(struct store_batch *b, struct store *s,
		     const char *tenant, uint64_t run, uint32_t line,
		     int64_t ts, int stream, const char *text, size_t len)
{
	struct keyring *kr = store_keyring(s);
	struct strbuf sealed = STRBUF_INIT;
	uint8_t key[12];
	msgpack_sbuffer sb;
	msgpack_packer pk;

	store_put_u64be(key, run);
	store_put_u32be(key + 8, line);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_int64(&pk, ts);
	msgpack_pack_int32(&pk, stream);
	msgpack_pack_str(&pk, len);
	msgpack_pack_str_body(&pk, text, len);
	if (!kr)
		store_batch_put(b, s, CF_LOGS, key, sizeof(key), sb.data,
				sb.size);
	else if (!keyring_seal(kr, tenant, store_cf_name(CF_LOGS), key,
			       sizeof(key), sb.data, sb.size, &sealed))
		store_batch_put(b, s, CF_LOGS, key, sizeof(key), sealed.buf,
				sealed.len);
	else
		log_error("records: no data key for tenant '%s': a log line "
			  "of run %llu is not stored", tenant,
			  (unsigned long long)run);
	strbuf_release(&sealed);
	msgpack_sbuffer_destroy(&sb);
}

struct log_scan {
	records_log_fn fn;
	void *ctx;
	uint32_t left;
	struct keyring *kr;
	struct strbuf plain;
};

static int log_scan_one(const void *key, size_t klen, const void *val,
			size_t vlen, void *ctx)
{
	struct log_scan *ls = ctx;
	msgpack_unpacked u;
	const msgpack_object *a;
	int rc = 0;

	if (ls->left == 0)
		return 1;
	if (klen != 12)
		return -1;
	if (keyring_is_sealed(val, vlen)) {
		strbuf_reset(&ls->plain);
		rc = keyring_open_value(ls->kr, store_cf_name(CF_LOGS), key,
					klen, val, vlen, &ls->plain);
		if (rc == KEYRING_DESTROYED) {
			ls->left--;
			return ls->fn(store_get_u32be((const uint8_t *)key + 8),
				      0, LOG_STDERR, KEYRING_DESTROYED_TEXT,
				      strlen(KEYRING_DESTROYED_TEXT), ls->ctx);
		}
		if (rc)
			return -1;
		val = ls->plain.buf;
		vlen = ls->plain.len;
	}
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, val, vlen, NULL) != MSGPACK_UNPACK_SUCCESS ||
	    u.data.type != MSGPACK_OBJECT_ARRAY || u.data.via.array.size != 3 ||
	    u.data.via.array.ptr[2].type != MSGPACK_OBJECT_STR) {
		msgpack_unpacked_destroy(&u);
		return -1;
	}
	a = u.data.via.array.ptr;
	ls->left--;
	rc = ls->fn(store_get_u32be((const uint8_t *)key + 8), a[0].via.i64,
		    (int)a[1].via.i64, a[2].via.str.ptr, a[2].via.str.size,
		    ls->ctx);
	msgpack_unpacked_destroy(&u);
	return rc;
}

int records_scan_logs(struct store *s, uint64_t run, uint32_t from,
		      uint32_t max, records_log_fn fn, void *ctx)
{
	uint8_t start[12], end[8];
	struct log_scan ls = { fn, ctx, max, store_keyring(s), STRBUF_INIT };
	int rc;

	store_put_u64be(start, run);
	store_put_u32be(start + 8, from);
	store_put_u64be(end, run + 1);
	rc = store_scan(s, CF_LOGS, start, sizeof(start), end, sizeof(end),
			log_scan_one, &ls);
	strbuf_release(&ls.plain);
	return rc == 1 && ls.left == 0 ? 0 : rc;
}

struct load_ctx {
	struct sched_state *st;
	const struct field *fields;
	size_t nfields;
	size_t size;
	enum store_cf cf;
	char *err;
	size_t errlen;
	struct store *s;
};

static int load_job_argv(struct store *s, enum store_cf cf,
			 const msgpack_object *map, const void *key,
			 size_t klen, struct job *j)
{
	int rc = records_unpack_argv(map, s, cf, key, klen, &j->argc,
				     &j->argv);
	if (rc == 1)
		log_warn("job '%s': its arguments were sealed with a data key "
			 "that was destroyed (tenant deleted): shown as %s",
			 j->key, KEYRING_DESTROYED_TEXT);
	return rc < 0 ? -1 : 0;
}

static int load_agent_reply(struct store *s, const msgpack_object *map,
			    const void *key, size_t klen, struct agent *a)
{
	const msgpack_object *o = mp_get(map, "last_reply");
	struct strbuf plain = STRBUF_INIT;
	const char *v;
	size_t n;
	int rc;

	if (!o || o->type == MSGPACK_OBJECT_NIL)
		return 0;
	if (o->type != MSGPACK_OBJECT_BIN)
		return -1;
	v = o->via.bin.ptr;
	n = o->via.bin.size;
	if (keyring_is_sealed(v, n)) {
		rc = keyring_open_value(store_keyring(s),
					store_cf_name(CF_AGENTS), key, klen, v,
					n, &plain);
		if (rc == KEYRING_DESTROYED) { /* as if none was kept */
			strbuf_release(&plain);
			return 0;
		}
		if (rc) {
			strbuf_release(&plain);
			return -1;
		}
		v = plain.buf;
		n = plain.len;
	}
	a->last_reply = xmalloc(n ? n : 1);
	memcpy(a->last_reply, v, n);
	a->last_reply_len = n;
	strbuf_release(&plain);
	return 0;
}

int records_decode_job(struct store *s, enum store_cf cf, const void *key,
		       size_t klen, const void *val, size_t len, struct job *j)
{
	msgpack_unpacked u;
	int bad;

	msgpack_unpacked_init(&u);
	bad = mp_validate(val, len) ||
	      msgpack_unpack_next(&u, val, len, NULL) !=
		      MSGPACK_UNPACK_SUCCESS ||
	      unpack_fields(&u.data, j, job_fields, ARRAY_SIZE(job_fields)) ||
	      load_job_argv(s, cf, &u.data, key, klen, j);
	msgpack_unpacked_destroy(&u);
	if (!j->version)
		j->version = 1;
	if (bad)
		job_release(j);
	return bad ? -1 : 0;
}

static void add_loaded(struct sched_state *st, enum store_cf cf, void *rec)
{
	switch (cf) {
	case CF_TENANTS:
		state_add_tenant(st, rec);
		break;
	case CF_ENVS:
		state_add_env(st, rec);
		break;
	case CF_AGENTS:
		state_add_agent(st, rec);
		st->next_agent_no++;
		break;
	case CF_TOKENS:
		state_add_token(st, rec);
		break;
	case CF_JOBS:
		if (!((struct job *)rec)->version) /* before job versions */
			((struct job *)rec)->version = 1;
		state_add_job(st, rec);
		break;
	default:
		break;
	}
}

static int load_one(const void *key, size_t klen, const void *val,
		    size_t vlen, void *ctx)
{
	struct load_ctx *lc = ctx;
	msgpack_unpacked u;
	void *rec;
	int bad;

	rec = xcalloc(1, lc->size);

	msgpack_unpacked_init(&u);
	bad = mp_validate(val, vlen) ||
	      msgpack_unpack_next(&u, val, vlen, NULL) !=
		      MSGPACK_UNPACK_SUCCESS ||
	      unpack_fields(&u.data, rec, lc->fields, lc->nfields) ||
	      (lc->cf == CF_JOBS &&
	       load_job_argv(lc->s, CF_JOBS, &u.data, key, klen, rec)) ||
	      (lc->cf == CF_AGENTS &&
	       load_agent_reply(lc->s, &u.data, key, klen, rec));
	msgpack_unpacked_destroy(&u);
	if (bad) {
		if (lc->cf == CF_JOBS)
			job_release(rec);
		if (lc->cf == CF_AGENTS)
			free(((struct agent *)rec)->last_reply);
		free(rec);
		snprintf(lc->err, lc->errlen, "corrupt record in '%s' (key %zu bytes)",
			 store_cf_name(lc->cf), klen);
		return -1;
	}
	add_loaded(lc->st, lc->cf, rec);
	return 0;
}

#define LOAD(c, T, tbl) \
	{ .fields = tbl, .nfields = ARRAY_SIZE(tbl), .size = sizeof(T), .cf = c }

int records_load(struct store *s, struct sched_state *st, char *err,
		 size_t errlen)
{
	struct load_ctx kinds[] = {
		LOAD(CF_TENANTS, struct tenant, tenant_fields),
		LOAD(CF_ENVS, struct env, env_fields),
		LOAD(CF_AGENTS, struct agent, agent_fields),
		LOAD(CF_TOKENS, struct token, token_fields),
		LOAD(CF_JOBS, struct job, job_fields),
	};
	int rc = 0;

	for (size_t i = 0; i < ARRAY_SIZE(kinds) && !rc; i++) {
		kinds[i].st = st;
		kinds[i].s = s;
		kinds[i].err = err;
		kinds[i].errlen = errlen;
		rc = store_scan(s, kinds[i].cf, NULL, 0, NULL, 0, load_one,
				&kinds[i]);
	}
	/* An upgrade rebuilds roll-ups from every run (cost_records_load):
	 * all are loaded. */
	if (store_opened_format(s) && store_opened_format(s) < STORE_FORMAT_GROUPS)
		st->stored_before_ms = 0;
	/* after the jobs: a run names its job */
	if (!rc)
		rc = run_load_all(s, st, err, errlen);
	if (!rc)
		rc = cost_records_load(s, st, err, errlen);
	return rc ? -1 : 0;
}
