/*
 * run_encode.c - the run record written: a positional msgpack array
 * (run_codec.h; its readers are in run_codec.c).
 */
#include "run_codec.h"

#include <string.h>

#include "keyring.h"
#include "log.h"
#include "mp.h"
#include "run_format.h"

static void pack_opt_str(msgpack_packer *pk, const char *s)
{
	if (s)
		mp_pack_cstr(pk, s);
	else
		msgpack_pack_nil(pk);
}

/* A field carrying customer output: sealed under the tenant's key as a
 * bin (with kr), else a str; nil when empty. Never in clear with kr: a
 * tenant without a key (none should be) loses the text instead. */
static void pack_opt_sealed(msgpack_packer *pk, const struct keyring *kr,
			    const struct run *r, uint8_t elem, const char *s)
{
	struct strbuf sealed = STRBUF_INIT;
	uint8_t key[9];

	if (!s || !kr) {
		pack_opt_str(pk, s);
		return;
	}
	field_aad(r->id, elem, key);
	if (keyring_seal(kr, r->job->tenant, "runs", key, sizeof(key), s,
			 strlen(s), &sealed)) {
		log_error("run %llu: no data key for tenant '%s': a field is "
			  "not stored", (unsigned long long)r->id,
			  r->job->tenant);
		msgpack_pack_nil(pk);
	} else {
		msgpack_pack_bin(pk, sealed.len);
		msgpack_pack_bin_body(pk, sealed.buf, sealed.len);
	}
	strbuf_release(&sealed);
}

void run_encode(const struct run *r, msgpack_sbuffer *sb)
{
	run_encode_sealed(r, NULL, NULL, sb);
}

/* A list of strings: with kr one sealed bin (each string NUL-terminated
 * inside), else an array of strings. */
static void pack_strv_sealed(msgpack_packer *pk, const struct keyring *kr,
			     const struct run *r, uint8_t elem, char **v,
			     uint32_t n)
{
	struct strbuf plain = STRBUF_INIT, sealed = STRBUF_INIT;
	uint8_t key[9];

	if (!kr) {
		msgpack_pack_array(pk, n);
		for (uint32_t i = 0; i < n; i++)
			mp_pack_cstr(pk, v[i]);
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		strbuf_add(&plain, v[i], strlen(v[i]) + 1);
	field_aad(r->id, elem, key);
	if (keyring_seal(kr, r->job->tenant, "runs", key, sizeof(key),
			 plain.buf, plain.len, &sealed)) {
		log_error("run %llu: no data key for tenant '%s': its "
			  "parameters are not stored",
			  (unsigned long long)r->id, r->job->tenant);
		msgpack_pack_nil(pk);
	} else {
		msgpack_pack_bin(pk, sealed.len);
		msgpack_pack_bin_body(pk, sealed.buf, sealed.len);
	}
	strbuf_release(&plain);
	strbuf_release(&sealed);
}

/* Element 28: the run's extra record as a map, or nil. */
static void pack_extra(msgpack_packer *pk, const struct keyring *kr,
		       const struct run *r)
{
	const struct run_extra *x = r->x;
	uint32_t n = 0;

	if (!x) {
		msgpack_pack_nil(pk);
		return;
	}
	n += x->schedule ? 3 : 0;
	n += x->retry_of ? 1 : 0;
	n += x->retried_by ? 1 : 0;
	n += x->held_by ? 2 : 0;
	n += x->nparams ? 1 : 0;
	n += x->nargs ? 1 : 0;
	n += x->nafter ? 2 : 0;
	n += r->held + r->waiting + r->skipped;
	msgpack_pack_map(pk, n);
	if (x->schedule) {
		mp_kv_u64(pk, "schedule", x->schedule);
		mp_kv_i64(pk, "scheduled_ms", x->scheduled_ms);
		mp_kv_i64(pk, "scheduled_off_s", x->scheduled_off_s);
	}
	if (x->retry_of)
		mp_kv_u64(pk, "retry_of", x->retry_of);
	if (x->retried_by)
		mp_kv_u64(pk, "retried_by", x->retried_by);
	if (x->held_by) {
		mp_kv_str(pk, "held_by", x->held_by);
		mp_kv_i64(pk, "held_ms", x->held_ms);
	}
	if (x->nparams) {
		mp_pack_cstr(pk, "params");
		pack_strv_sealed(pk, kr, r, RUN_ELEM_PARAMS, x->params,
				 x->nparams);
	}
	if (x->nargs) {
		mp_pack_cstr(pk, "args");
		pack_strv_sealed(pk, kr, r, RUN_ELEM_ARGS, x->args, x->nargs);
	}
	if (x->nafter) {
		mp_pack_cstr(pk, "after");
		msgpack_pack_array(pk, x->nafter);
		for (uint32_t i = 0; i < x->nafter; i++)
			msgpack_pack_uint64(pk, x->after[i]);
		mp_kv_bool(pk, "after_any", x->after_any);
	}
	if (r->held)
		mp_kv_bool(pk, "held", true);
	if (r->waiting)
		mp_kv_bool(pk, "waiting", true);
	if (r->skipped)
		mp_kv_bool(pk, "skipped", true);
}

void run_encode_sealed(const struct run *r, const char *creator,
		       const struct keyring *kr, msgpack_sbuffer *sb)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, RUN_FIELDS);
	msgpack_pack_uint32(&pk, RUN_RECORD_V2);
	msgpack_pack_uint64(&pk, r->id);
	mp_pack_cstr(&pk, r->job->key);
	msgpack_pack_uint32(&pk, (uint32_t)r->state);
	msgpack_pack_int32(&pk, r->priority);
	msgpack_pack_uint32(&pk, r->attempt);
	msgpack_pack_uint32(&pk, r->lost);
	msgpack_pack_uint64(&pk, run_epoch(r));
	mp_pack_cstr(&pk, run_agent(r));
	msgpack_pack_int32(&pk, r->exit_code);
	if (r->cancel_requested)
		msgpack_pack_true(&pk);
	else
		msgpack_pack_false(&pk);
	msgpack_pack_uint32(&pk, r->completions);
	msgpack_pack_array(&pk, RUN_STATE_COUNT);
	for (int i = 0; i < RUN_STATE_COUNT; i++)
		msgpack_pack_int64(&pk, run_state_ms(r, i));
	msgpack_pack_int64(&pk, r->created_ms);
	msgpack_pack_int64(&pk, r->enqueued_ms);
	msgpack_pack_int64(&pk, run_not_before(r));
	msgpack_pack_uint32(&pk, r->log_lines);
	msgpack_pack_int64(&pk, run_detail(r)->vcpu_ms);
	msgpack_pack_int64(&pk, run_detail(r)->gb_ms);
	msgpack_pack_int64(&pk, run_detail(r)->cost);
	pack_opt_str(&pk, run_detail(r)->app_id);
	pack_opt_sealed(&pk, kr, r, RUN_ELEM_REASON, run_detail(r)->reason);
	pack_opt_str(&pk, run_detail(r)->failure_class);
	pack_opt_str(&pk, r->idem_key);
	/* nil before format 3 */
	pack_opt_sealed(&pk, kr, r, RUN_ELEM_DIAG, run_detail(r)->diag_line);
	msgpack_pack_int64(&pk, r->est_cost);
	msgpack_pack_uint16(&pk, r->job_version);
	pack_opt_str(&pk, creator && *creator ? creator : NULL);
	pack_extra(&pk, kr, r);
}
