/* tsink.c - the agent's reports, through the durable spool, in order. */
#include "tsink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp.h"
#include "seqfile.h"
#include "util.h"

#define SEQ_BLOCK 4096
#define MAX_BATCHES_PER_MSG 64
#define MAX_MSG_BYTES (900u << 10) /* under WIRE_MAX_MSG, with the envelope */

/* A record the spool had no room for yet. */
struct waiting {
	enum spool_kind kind;
	unsigned flags;
	struct strbuf data;
	struct waiting *next;
};

struct tsink {
	struct spool *sp;
	const struct sign_key *key;
	char agent[TBATCH_AGENT_LEN];
	struct seqfile batch_seq;
	struct waiting *head, *tail;
	struct strbuf scratch;
	uint64_t lost; /* records the spool could not take (I/O errors) */
};

static void spool_warn(void *ctx, const char *msg)
{
	(void)ctx;
	log_warn("spool: %s", msg);
}

struct tsink *tsink_open(const struct agent_config *cfg,
			 const struct sign_key *key, const char *agent_id,
			 char *err, size_t errlen)
{
	struct tsink *t = xcalloc(1, sizeof(*t));
	struct spool_opts o;
	char dir[600], path[600];

	snprintf(dir, sizeof(dir), "%s/spool", cfg->state_dir);
	snprintf(path, sizeof(path), "%s/batch.seq", cfg->state_dir);
	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.max_bytes = (uint64_t)cfg->spool_max_mb << 20;
	o.fsync = !strcmp(cfg->spool_fsync, "always") ? SPOOL_FSYNC_ALWAYS
		  : !strcmp(cfg->spool_fsync, "never") ? SPOOL_FSYNC_NEVER
						       : SPOOL_FSYNC_INTERVAL;
	o.interval_ms = cfg->spool_fsync_ms;
	o.warn = spool_warn;
	t->key = key;
	snprintf(t->agent, sizeof(t->agent), "%s", agent_id);
	strbuf_init(&t->scratch, 0);
	if (seqfile_open(&t->batch_seq, path, SEQ_BLOCK, err, errlen) ||
	    !(t->sp = spool_open(&o, err, errlen))) {
		tsink_close(t);
		return NULL;
	}
	return t;
}

void tsink_set_key(struct tsink *t, const struct sign_key *key)
{
	t->key = key;
}

void tsink_close(struct tsink *t)
{
	if (!t)
		return;
	spool_close(t->sp);
	while (t->head) {
		struct waiting *w = t->head;
		t->head = w->next;
		strbuf_release(&w->data);
		free(w);
	}
	if (t->lost)
		log_warn("spool: %llu records could not be kept",
			 (unsigned long long)t->lost);
	strbuf_release(&t->scratch);
	free(t);
}

/* Appends to the spool; false if it must wait (no room). */
static bool append(struct tsink *t, enum spool_kind kind, unsigned flags,
		   const void *data, size_t len)
{
	char err[256];
	uint64_t seq;
	enum spool_result rc = spool_append(t->sp, kind, flags, data, len,
					    &seq, err, sizeof(err));

	if (rc == SPOOL_FULL)
		return false;
	if (rc == SPOOL_ERR) {
		/* a disk that fails: an event waits in memory and is tried
		 * again; a batch of lines is not worth stopping the run */
		log_error("spool: %s", err);
		if (kind == SPOOL_EVENT || (flags & SPOOL_FINAL))
			return false;
		t->lost++;
	}
	return true; /* stored, or dropped and counted by the spool */
}

static void put(struct tsink *t, enum spool_kind kind, unsigned flags,
		const void *data, size_t len)
{
	struct waiting *w;

	if (!t->head && append(t, kind, flags, data, len))
		return;
	w = xcalloc(1, sizeof(*w));
	w->kind = kind;
	w->flags = flags;
	strbuf_add(&w->data, data, len);
	if (t->tail)
		t->tail->next = w;
	else
		t->head = w;
	t->tail = w;
}

void tsink_event(struct tsink *t, const char *type, const void *body,
		 size_t len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char err[256];

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 2);
	mp_pack_cstr(&pk, type);
	msgpack_pack_bin_with_body(&pk, body, len);
	put(t, SPOOL_EVENT, 0, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	/* on disk before anything else happens: a completion lost in a
	 * crash would have the scheduler run the run again */
	if (spool_sync(t->sp, err, sizeof(err)))
		log_error("spool: %s", err);
}

void tsink_batch(struct tsink *t, struct tbatch_builder *b, uint64_t run,
		 uint64_t epoch, bool final)
{
	struct tbatch_meta m;
	char err[256];
	bool logs = false;

	if (!b->events)
		return;
	memset(&m, 0, sizeof(m));
	snprintf(m.agent, sizeof(m.agent), "%s", t->agent);
	m.run = run;
	m.epoch = epoch;
	m.flags = final ? TBATCH_FINAL : 0;
	logs = tbatch_builder_logs(b) > 0;
	if (seqfile_next(&t->batch_seq, &m.seq) ||
	    tbatch_seal(b, t->key, &m, &t->scratch, err, sizeof(err))) {
		log_error("run %llu: telemetry batch lost: %s",
			  (unsigned long long)run,
			  m.seq ? err : "no batch number");
		tbatch_builder_reset(b);
		t->lost++;
		return;
	}
	put(t, logs || final ? SPOOL_LOG : SPOOL_METRIC,
	    final ? SPOOL_FINAL : 0, t->scratch.buf, t->scratch.len);
}

bool tsink_backlogged(const struct tsink *t)
{
	return t->head != NULL;
}

bool tsink_events_pending(const struct tsink *t)
{
	struct spool_stats st;

	for (const struct waiting *w = t->head; w; w = w->next)
		if (w->kind == SPOOL_EVENT)
			return true;
	spool_get_stats(t->sp, &st);
	return st.live_records[SPOOL_EVENT] > 0;
}

void tsink_tick(struct tsink *t, int64_t now_mono)
{
	char err[256];

	while (t->head &&
	       append(t, t->head->kind, t->head->flags, t->head->data.buf,
		      t->head->data.len)) {
		struct waiting *w = t->head;
		t->head = w->next;
		if (!t->head)
			t->tail = NULL;
		strbuf_release(&w->data);
		free(w);
	}
	if (spool_sync_if_due(t->sp, now_mono, err, sizeof(err)))
		log_error("spool: %s", err);
}

/* Collects the next message from the spool's oldest records. */
struct next {
	char *type;
	struct strbuf *body;
	msgpack_sbuffer batches;
	msgpack_packer pk;
	uint32_t n;
	uint64_t upto;
	bool event;
};

static int take(void *ctx, const struct spool_record *r)
{
	struct next *x = ctx;

	if (r->kind == SPOOL_EVENT) {
		msgpack_unpacked u;
		const msgpack_object *a;
		bool good;

		if (x->n)
			return 1; /* after the batches before it */
		msgpack_unpacked_init(&u);
		good = !mp_validate(r->data, r->len) &&
		       msgpack_unpack_next(&u, r->data, r->len, NULL) ==
			       MSGPACK_UNPACK_SUCCESS &&
		       u.data.type == MSGPACK_OBJECT_ARRAY &&
		       u.data.via.array.size == 2;
		a = good ? u.data.via.array.ptr : NULL;
		if (good && a[0].type == MSGPACK_OBJECT_STR &&
		    a[0].via.str.size < 16 && a[1].type == MSGPACK_OBJECT_BIN) {
			snprintf(x->type, 16, "%.*s", (int)a[0].via.str.size,
				 a[0].via.str.ptr);
			strbuf_add(x->body, a[1].via.bin.ptr,
				   a[1].via.bin.size);
			x->event = true;
		} else {
			/* checksummed, so written so by us: never sent */
			log_error("spool: unreadable event record %llu skipped",
				  (unsigned long long)r->seq);
		}
		msgpack_unpacked_destroy(&u);
		x->upto = r->seq;
		return 1;
	}
	msgpack_pack_bin_with_body(&x->pk, r->data, r->len);
	x->n++;
	x->upto = r->seq;
	return 0;
}

bool tsink_next(struct tsink *t, char type[16], struct strbuf *body,
		uint64_t *upto)
{
	struct next x = { type, body, { 0 }, { 0 }, 0, 0, false };
	char err[256];
	int n;

	strbuf_reset(body);
	msgpack_sbuffer_init(&x.batches);
	msgpack_packer_init(&x.pk, &x.batches, msgpack_sbuffer_write);
	n = spool_peek(t->sp, 0, MAX_BATCHES_PER_MSG, MAX_MSG_BYTES, take, &x,
		       err, sizeof(err));
	if (n < 0)
		log_error("spool: %s", err);
	*upto = x.upto;
	if (x.n) {
		msgpack_sbuffer sb;
		msgpack_packer pk;
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 1);
		mp_pack_cstr(&pk, "batches");
		msgpack_pack_array(&pk, x.n);
		msgpack_sbuffer_write(&sb, x.batches.data, x.batches.size);
		strbuf_add(body, sb.data, sb.size);
		msgpack_sbuffer_destroy(&sb);
		snprintf(type, 16, "telemetry");
	} else if (!x.event && x.upto) {
		tsink_done(t, x.upto); /* only an unreadable record */
	}
	msgpack_sbuffer_destroy(&x.batches);
	return x.n > 0 || x.event;
}

void tsink_done(struct tsink *t, uint64_t upto)
{
	char err[256];
	if (upto && spool_ack(t->sp, upto, err, sizeof(err)))
		log_error("spool: %s", err);
}

void tsink_stats(const struct tsink *t, struct spool_stats *st)
{
	spool_get_stats(t->sp, st);
}
