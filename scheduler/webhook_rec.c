/* webhook_rec.c - msgpack encoding of webhook hooks and deliveries. */
#include "webhook_rec.h"

#include <msgpack.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp.h"
#include "util.h"

void webhook_rec_put_hook(struct store_batch *b, struct store *s,
			  const struct webhook_hook *h)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 12);
	mp_kv_str(&pk, "id", h->id);
	mp_kv_str(&pk, "tenant", h->tenant);
	mp_kv_str(&pk, "url", h->url);
	mp_kv_str(&pk, "secret", h->secret);
	mp_kv_str(&pk, "events", h->events);
	mp_kv_i64(&pk, "created_ms", h->created_ms);
	mp_kv_u64(&pk, "delivered", h->delivered);
	mp_kv_u64(&pk, "failed", h->failed);
	mp_kv_u64(&pk, "dead", h->dead);
	mp_kv_str(&pk, "last_error", h->last_error);
	mp_kv_i64(&pk, "last_error_ms", h->last_error_ms);
	mp_kv_i64(&pk, "last_ok_ms", h->last_ok_ms);
	store_batch_put(b, s, CF_WEBHOOKS, h->id, strlen(h->id), sb.data,
			sb.size);
	/* the secret was in this buffer */
	memset(sb.data, 0, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

void webhook_rec_delete_hook(struct store_batch *b, struct store *s,
			     const char *id)
{
	store_batch_delete(b, s, CF_WEBHOOKS, id, strlen(id));
}

void webhook_rec_put_msg(struct store_batch *b, struct store *s,
			 const struct webhook_msg *m)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint8_t key[8];

	store_put_u64be(key, m->seq);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 10);
	mp_kv_u64(&pk, "v", 1);
	mp_kv_str(&pk, "hook", m->hook);
	mp_kv_str(&pk, "msg_id", m->msg_id);
	mp_kv_str(&pk, "type", m->type);
	mp_kv_i64(&pk, "created_ms", m->created_ms);
	mp_kv_i64(&pk, "next_ms", m->next_ms);
	mp_kv_u64(&pk, "attempts", m->attempts);
	mp_kv_u64(&pk, "state", (uint64_t)m->state);
	mp_kv_str(&pk, "last_error", m->last_error);
	mp_kv_strn(&pk, "body", m->body, m->body_len);
	store_batch_put(b, s, CF_WHOUTBOX, key, 8, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

void webhook_rec_delete_msg(struct store_batch *b, struct store *s,
			    uint64_t seq)
{
	uint8_t key[8];

	store_put_u64be(key, seq);
	store_batch_delete(b, s, CF_WHOUTBOX, key, 8);
}

/* Unpacks val into o (a map) in zone. 0 / -1. */
static int unpack_map(msgpack_zone *zone, const void *val, size_t vlen,
		      msgpack_object *o)
{
	size_t off = 0;

	if (mp_validate(val, vlen) ||
	    msgpack_unpack(val, vlen, &off, zone, o) !=
		    MSGPACK_UNPACK_SUCCESS ||
	    o->type != MSGPACK_OBJECT_MAP)
		return -1;
	return 0;
}

int webhook_rec_decode_hook(const void *key, size_t klen, const void *val,
			    size_t vlen, struct webhook_hook *h, char *err,
			    size_t errlen)
{
	msgpack_zone zone;
	msgpack_object o;
	int bad;

	memset(h, 0, sizeof(*h));
	if (!msgpack_zone_init(&zone, 1024)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	bad = klen >= sizeof(h->id) || unpack_map(&zone, val, vlen, &o) ||
	      mp_get_str(&o, "id", h->id, sizeof(h->id)) ||
	      mp_get_str(&o, "tenant", h->tenant, sizeof(h->tenant)) ||
	      mp_get_str(&o, "url", h->url, sizeof(h->url)) ||
	      mp_get_str(&o, "secret", h->secret, sizeof(h->secret)) ||
	      mp_get_str(&o, "events", h->events, sizeof(h->events)) ||
	      mp_opt_i64(&o, "created_ms", &h->created_ms) ||
	      mp_opt_u64(&o, "delivered", &h->delivered) ||
	      mp_opt_u64(&o, "failed", &h->failed) ||
	      mp_opt_u64(&o, "dead", &h->dead) ||
	      mp_opt_str(&o, "last_error", h->last_error,
		      sizeof(h->last_error)) ||
	      mp_opt_i64(&o, "last_error_ms", &h->last_error_ms) ||
	      mp_opt_i64(&o, "last_ok_ms", &h->last_ok_ms) ||
	      strlen(h->id) != klen || memcmp(h->id, key, klen) ||
	      !h->tenant[0];
	msgpack_zone_destroy(&zone);
	if (bad) {
		/* no secret of a half-read record stays behind */
		OPENSSL_cleanse(h, sizeof(*h));
		snprintf(err, errlen, "a webhook record is damaged");
		return -1;
	}
	return 0;
}

int webhook_rec_decode_msg(const void *key, size_t klen, const void *val,
			   size_t vlen, struct webhook_msg *m, char *err,
			   size_t errlen)
{
	msgpack_zone zone;
	msgpack_object o;
	uint64_t v = 0, attempts = 0, state = 0;
	const char *body = NULL;
	size_t blen = 0;
	int bad;

	memset(m, 0, sizeof(*m));
	if (!msgpack_zone_init(&zone, 1024)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	bad = klen != 8 || unpack_map(&zone, val, vlen, &o) ||
	      mp_get_u64(&o, "v", &v) || v != 1 ||
	      mp_get_str(&o, "hook", m->hook, sizeof(m->hook)) ||
	      mp_get_str(&o, "msg_id", m->msg_id, sizeof(m->msg_id)) ||
	      mp_get_str(&o, "type", m->type, sizeof(m->type)) ||
	      mp_opt_i64(&o, "created_ms", &m->created_ms) ||
	      mp_opt_i64(&o, "next_ms", &m->next_ms) ||
	      mp_opt_u64(&o, "attempts", &attempts) || attempts > UINT32_MAX ||
	      mp_opt_u64(&o, "state", &state) || state > WH_DEAD ||
	      mp_opt_str(&o, "last_error", m->last_error,
		      sizeof(m->last_error)) ||
	      !mp_get(&o, "body") ||
	      mp_get(&o, "body")->type != MSGPACK_OBJECT_STR ||
	      mp_get_bin(&o, "body", &body, &blen) || !m->msg_id[0];
	if (!bad) {
		m->seq = store_get_u64be(key);
		m->attempts = (uint32_t)attempts;
		m->state = (int)state;
		m->body = xstrndup(body, blen);
		m->body_len = strlen(m->body);
	}
	msgpack_zone_destroy(&zone);
	if (bad) {
		memset(m, 0, sizeof(*m));
		snprintf(err, errlen, "a webhook delivery record is damaged");
		return -1;
	}
	return 0;
}

void webhook_msg_release(struct webhook_msg *m)
{
	free(m->body);
	m->body = NULL;
}
