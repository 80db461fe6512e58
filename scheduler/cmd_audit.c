/* cmd_audit.c - audit list, export, verify and key: reading the audit log
 * (audit.h). Each reads the store, so it sees what earlier turns
 * committed; a walk of the whole log holds the core thread for about a
 * microsecond per record (docs/operator-guide.md, Audit log). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_cmds.h"
#include "audit.h"
#include "keyring.h"
#include "parse.h"
#include "records.h"
#include "sched_ctx.h"
#include "util.h"

#define LIST_DEFAULT 50
/* Lines of one `audit export` reply; spctl asks for the next page with
 * --after until the reply says done. */
#define EXPORT_PAGE 1000

static int since_arg(const struct cmd_args *a, int64_t *since,
		     struct reply *r)
{
	const char *s = arg_str(a, "--since", NULL);

	*since = INT64_MIN;
	if (s && parse_utc_time(s, since))
		return cmd_fail(r, "invalid",
				"--since: '%.64s' is not a date (YYYY-MM-DD) "
				"or time (YYYY-MM-DDTHH:MM:SSZ)", s);
	return 0;
}

static bool visible(const struct cmd_args *a, const struct audit_rec *rec)
{
	return rec->tenant[0] ? cmd_sees(a, rec->tenant) : cmd_sees_all(a);
}

/* audit list: the newest `limit` matching records, in a ring. */
struct list_scan {
	const struct cmd_args *a;
	const char *tenant;
	int64_t since;
	struct audit_rec *ring;
	size_t limit, n; /* n: matches so far */
	struct sched *c;
	char *deleted;   /* meta/deleted_tenants: pseudonyms, one a line */
};

/* Replaces name, as a word or before a '/', by ps in v. */
static void mask_value(char *v, size_t cap, const char *name, const char *ps)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = strlen(name);
	const char *p = v;

	while (*p) {
		bool start = p == v || p[-1] == ' ' || p[-1] == '=';
		if (start && !strncmp(p, name, n) &&
		    (p[n] == '\0' || p[n] == '/' || p[n] == ' ')) {
			strbuf_addstr(&sb, ps);
			p += n;
		} else {
			strbuf_addch(&sb, *p++);
		}
	}
	snprintf(v, cap, "%s", sb.buf);
	strbuf_release(&sb);
}

/* A record about a deleted tenant shows the tenant's pseudonym (the one
 * its delete record carries) in place of its name: the stored record
 * keeps the name, since the chain hashes its exact bytes. */
static void mask_deleted(struct list_scan *ls, struct audit_rec *rec)
{
	char ps[32], line[40], name[AUDIT_NAME_LEN];
	struct keyring *kr = store_keyring(ls->c->store);

	if (!ls->deleted || !kr || !rec->tenant[0] ||
	    state_tenant(ls->c->st, rec->tenant))
		return;
	keyring_pseudonym(kr, rec->tenant, ps, sizeof(ps));
	snprintf(line, sizeof(line), "%s\n", ps);
	if (!strstr(ls->deleted, line))
		return;
	snprintf(name, sizeof(name), "%s", rec->tenant);
	snprintf(rec->tenant, sizeof(rec->tenant), "%s", ps);
	for (size_t i = 0; i < rec->nd; i++)
		mask_value(rec->d[i].val, sizeof(rec->d[i].val), name, ps);
}

static int list_one(const void *key, size_t klen, const void *val,
		    size_t vlen, void *ctx)
{
	struct list_scan *ls = ctx;
	struct audit_rec *rec = &ls->ring[ls->n % ls->limit];
	char err[128];

	(void)key;
	(void)klen;
	if (audit_rec_decode(val, vlen, rec, err, sizeof(err)))
		return 0; /* damaged: `audit verify` says where */
	mask_deleted(ls, rec);
	if (rec->ms < ls->since || !visible(ls->a, rec) ||
	    (ls->tenant && strcmp(rec->tenant, ls->tenant)))
		return 0;
	ls->n++;
	return 0;
}

static void detail_text(const struct audit_rec *rec, struct strbuf *sb)
{
	strbuf_reset(sb);
	for (size_t i = 0; i < rec->nd; i++)
		strbuf_addf(sb, "%s%s=%s", i ? " " : "", rec->d[i].key,
			    rec->d[i].val);
}

int cmd_audit_list(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	struct list_scan ls = { a, arg_str(a, "--tenant", NULL), 0, NULL,
				(size_t)arg_num(a, "--limit", LIST_DEFAULT), 0,
				NULL, NULL };
	struct strbuf out = STRBUF_INIT, d = STRBUF_INIT;
	size_t first, shown;

	if (since_arg(a, &ls.since, r))
		return -1;
	if (ls.tenant && !cmd_sees(a, ls.tenant))
		return cmd_fail(r, "not_found", "no tenant '%.64s'", ls.tenant);
	ls.ring = xcalloc(ls.limit, sizeof(*ls.ring));
	ls.c = c;
	{
		char err[128];
		size_t len = 0;
		if (store_get(c->store, CF_META, META_DELETED_TENANTS,
			      strlen(META_DELETED_TENANTS), &ls.deleted, &len,
			      err, sizeof(err)) != 1)
			ls.deleted = NULL;
	}
	if (store_scan(c->store, CF_AUDIT, NULL, 0, NULL, 0, list_one, &ls) < 0) {
		free(ls.ring);
		free(ls.deleted);
		return cmd_fail(r, "store", "cannot read the audit log");
	}
	free(ls.deleted);
	shown = ls.n < ls.limit ? ls.n : ls.limit;
	first = ls.n - shown;
	strbuf_addf(&out, "%-8s %-24s %-13s %-12s %-16s %s\n", "SEQ", "TIME",
		    "KIND", "TENANT", "ACTOR", "DETAIL");
	jw_arr_open(&r->w, "items");
	for (size_t i = first; i < ls.n; i++) {
		const struct audit_rec *rec = &ls.ring[i % ls.limit];
		char when[40];
		time_format_iso(rec->ms, when, sizeof(when));
		detail_text(rec, &d);
		strbuf_addf(&out, "%-8llu %-24s %-13s %-12s %-16s %s\n",
			    (unsigned long long)rec->seq, when, rec->kind,
			    rec->tenant[0] ? rec->tenant : "-", rec->actor,
			    d.buf ? d.buf : "");
		jw_obj_open(&r->w, NULL);
		jw_uint(&r->w, "seq", rec->seq);
		jw_str(&r->w, "time", when);
		jw_str(&r->w, "kind", rec->kind);
		jw_str(&r->w, "tenant", rec->tenant);
		jw_str(&r->w, "actor", rec->actor);
		jw_obj_open(&r->w, "detail");
		for (size_t k = 0; k < rec->nd; k++)
			jw_str(&r->w, rec->d[k].key, rec->d[k].val);
		jw_obj_close(&r->w);
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
	if (!shown)
		strbuf_addstr(&out, "(no records)\n");
	jw_str(&r->w, "print", out.buf);
	strbuf_release(&out);
	strbuf_release(&d);
	free(ls.ring);
	return 0;
}

static void jw_hex(struct jw *w, const char *key, const void *b, size_t n)
{
	char hex[2 * SIGN_SIG_LEN + 1];
	hex_encode(b, n, hex);
	jw_str(w, key, hex);
}

/* Signs a mark and writes it as a header or end line. */
static int mark_line(struct sched *c, struct strbuf *out, const char *type,
		     uint64_t seq, const uint8_t hash[AUDIT_HASH_LEN])
{
	uint8_t sig[SIGN_SIG_LEN];
	struct jw w;
	bool start = !strcmp(type, "header");

	if (audit_sign(c, start ? "export-start" : "export-end", seq, hash,
		       c->now_ms, sig))
		return -1;
	jw_init(&w, out);
	jw_obj_open(&w, NULL);
	jw_str(&w, "type", type);
	if (start) {
		jw_str(&w, "format", "sparkpilot-audit-export");
		jw_uint(&w, "v", AUDIT_FORMAT);
		jw_hex(&w, "key", audit_pub(c), SIGN_PUB_LEN);
		jw_uint(&w, "first_seq", seq + 1);
		jw_hex(&w, "first_prev", hash, AUDIT_HASH_LEN);
	} else {
		jw_uint(&w, "last_seq", seq);
		jw_hex(&w, "last_hash", hash, AUDIT_HASH_LEN);
	}
	jw_int(&w, "ms", c->now_ms);
	jw_hex(&w, "sig", sig, sizeof(sig));
	jw_obj_close(&w);
	strbuf_addch(out, '\n');
	return 0;
}

/* One page of the export: records after `after`, up to `limit`, from
 * `since` on (only where the export starts). */
struct export_scan {
	int64_t since;
	size_t limit, n;
	bool started;      /* a record at or after since was seen */
	uint64_t seq;      /* the last record written (or before the first) */
	uint8_t hash[AUDIT_HASH_LEN];
	uint64_t seq0;     /* the record the export starts after */
	uint8_t hash0[AUDIT_HASH_LEN];
	struct strbuf body;
	bool bad;
};

static int export_one(const void *key, size_t klen, const void *val,
		      size_t vlen, void *ctx)
{
	struct export_scan *es = ctx;
	struct audit_rec rec;
	char err[128];

	(void)klen;
	if (es->n == es->limit)
		return 1;
	if (!es->started) {
		/* before --since: the export starts after this record */
		if (!audit_rec_decode(val, vlen, &rec, err, sizeof(err)) &&
		    rec.ms < es->since) {
			es->seq = es->seq0 = store_get_u64be(key);
			sign_sha256(val, vlen, es->hash);
			memcpy(es->hash0, es->hash, AUDIT_HASH_LEN);
			return 0;
		}
		es->started = true;
	}
	/* a damaged record is exported as it is, for the verifier to name;
	 * only bytes that are no record at all stop the export */
	if (audit_json_line(val, vlen, &es->body, err, sizeof(err))) {
		es->bad = true;
		es->seq = store_get_u64be(key);
		return 1;
	}
	strbuf_addch(&es->body, '\n');
	es->seq = store_get_u64be(key);
	sign_sha256(val, vlen, es->hash);
	es->n++;
	return 0;
}

/* The hash of record seq (the zero hash for 0). 0 / -1. */
static int record_hash(struct sched *c, uint64_t seq,
		       uint8_t hash[AUDIT_HASH_LEN])
{
	uint8_t key[8];
	char *val = NULL, err[256];
	size_t vlen = 0;

	memset(hash, 0, AUDIT_HASH_LEN);
	if (!seq)
		return 0;
	store_put_u64be(key, seq);
	if (store_get(c->store, CF_AUDIT, key, 8, &val, &vlen, err,
		      sizeof(err)) != 1)
		return -1;
	sign_sha256(val, vlen, hash);
	free(val);
	return 0;
}

int cmd_audit_export(struct sched *c, const struct cmd_args *a,
		     struct reply *r)
{
	struct export_scan es;
	struct strbuf out = STRBUF_INIT;
	uint64_t after = (uint64_t)arg_num(a, "--after", 0);
	uint8_t start[8];
	bool first = !arg_set(a, "--after"), done;
	int rc;

	memset(&es, 0, sizeof(es));
	es.limit = EXPORT_PAGE;
	strbuf_init(&es.body, 0);
	if (since_arg(a, &es.since, r))
		return -1;
	es.started = first ? es.since == INT64_MIN : true;
	es.seq = es.seq0 = after;
	if (record_hash(c, after, es.hash))
		return cmd_fail(r, "invalid", "--after: no audit record %llu",
				(unsigned long long)after);
	memcpy(es.hash0, es.hash, AUDIT_HASH_LEN);
	store_put_u64be(start, after + 1);
	rc = store_scan(c->store, CF_AUDIT, start, 8, NULL, 0, export_one, &es);
	if (rc < 0 || es.bad) {
		strbuf_release(&es.body);
		return rc < 0 ? cmd_fail(r, "store", "cannot read the audit log")
			      : cmd_fail(r, "damaged",
					 "audit record %llu is not a record: "
					 "run 'audit verify'",
					 (unsigned long long)es.seq);
	}
	done = es.n < es.limit;
	/* the export starts after the last record before --since */
	if (first && mark_line(c, &out, "header", es.seq0, es.hash0)) {
		strbuf_release(&es.body);
		return cmd_fail(r, "store", "cannot sign the export");
	}
	strbuf_add(&out, es.body.buf, es.body.len);
	if (done && mark_line(c, &out, "end", es.seq, es.hash)) {
		strbuf_release(&es.body);
		strbuf_release(&out);
		return cmd_fail(r, "store", "cannot sign the export");
	}
	jw_str(&r->w, "print", out.buf ? out.buf : "");
	jw_uint(&r->w, "next", es.seq);
	jw_bool(&r->w, "done", done);
	strbuf_release(&es.body);
	strbuf_release(&out);
	return 0;
}

struct verify_scan {
	struct audit_walk w;
	uint64_t pos;
	char why[256];
};

static int verify_one(const void *key, size_t klen, const void *val,
		      size_t vlen, void *ctx)
{
	struct verify_scan *vs = ctx;
	uint64_t seq;

	vs->pos++;
	if (audit_walk_next(&vs->w, val, vlen, &seq, vs->why, sizeof(vs->why)))
		return 1;
	if (klen != 8 || store_get_u64be(key) != seq) {
		snprintf(vs->why, sizeof(vs->why),
			 "stored under another key than its seq (%llu)",
			 (unsigned long long)seq);
		return 1;
	}
	return 0;
}

int cmd_audit_verify(struct sched *c, const struct cmd_args *a,
		     struct reply *r)
{
	struct verify_scan vs;
	char pub[2 * SIGN_PUB_LEN + 1], head[2 * AUDIT_HASH_LEN + 1];
	int rc;

	(void)a;
	memset(&vs, 0, sizeof(vs));
	audit_walk_init(&vs.w, audit_pub(c), 0, NULL);
	rc = store_scan(c->store, CF_AUDIT, NULL, 0, NULL, 0, verify_one, &vs);
	if (rc < 0)
		return cmd_fail(r, "store", "cannot read the audit log");
	if (rc)
		return cmd_fail(r, "audit_broken",
				"audit log broken at position %llu (seq %llu): %s",
				(unsigned long long)vs.pos,
				(unsigned long long)vs.w.last_seq + 1, vs.why);
	hex_encode(audit_pub(c), SIGN_PUB_LEN, pub);
	hex_encode(vs.w.last_hash, AUDIT_HASH_LEN, head);
	jw_strf_print(&r->w,
		      "audit log intact: %llu records, %llu checkpoints, head "
		      "seq %llu (hash %s); the last checkpoint is seq %llu\n"
		      "checkpoint key %s",
		      (unsigned long long)vs.w.records,
		      (unsigned long long)vs.w.checkpoints,
		      (unsigned long long)vs.w.last_seq, head,
		      (unsigned long long)vs.w.last_checkpoint, pub);
	jw_uint(&r->w, "records", vs.w.records);
	jw_uint(&r->w, "checkpoints", vs.w.checkpoints);
	jw_uint(&r->w, "head_seq", vs.w.last_seq);
	jw_str(&r->w, "head_hash", head);
	jw_uint(&r->w, "last_checkpoint", vs.w.last_checkpoint);
	jw_str(&r->w, "key", pub);
	return 0;
}

int cmd_audit_key(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	char pub[2 * SIGN_PUB_LEN + 1];

	(void)a;
	hex_encode(audit_pub(c), SIGN_PUB_LEN, pub);
	jw_str(&r->w, "print", pub);
	jw_str(&r->w, "key", pub);
	return 0;
}
