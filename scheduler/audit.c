/* audit.c - appending to the audit log on the core thread (audit.h). */
#include "audit.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_cmds.h"
#include "budget.h"
#include "keyring.h"
#include "runstore.h"
#include "sched_ctx.h"
#include "util.h"
#include "schedule_core.h"
#include "webhook_core.h"

#define REFUSED_CODES 8

/* Refused messages of one sender since its last summary. */
struct refused {
	char sender[AGENT_ID_LEN]; /* an agent id, or "-": no known agent */
	int64_t emitted_mono;      /* its last summary */
	int64_t first_ms;          /* the first refusal not yet summarised */
	size_t ncodes;
	char code[REFUSED_CODES][24];
	uint64_t n[REFUSED_CODES];
};

struct audit {
	struct sign_key *key;
	uint8_t pub[SIGN_PUB_LEN];
	char pub_hex[2 * SIGN_PUB_LEN + 1];
	uint64_t seq;                 /* the head: the last record appended */
	uint8_t head[AUDIT_HASH_LEN]; /* its hash, unless head_due */
	bool head_due;                /* buf holds the last record: its hash
				       * is taken when next needed, or after
				       * the turn's replies (audit_settle) */
	uint64_t since_checkpoint;    /* records after the last checkpoint */
	int64_t checkpoint_mono;      /* the last checkpoint (or the start) */
	struct refused *rf;           /* senders with a summary window open */
	size_t nrf, rf_alloc;
	struct strbuf buf;
};

/* Counts the records after the last checkpoint among the newest ones. */
struct tail_scan {
	uint64_t since;
};

static int count_tail(const void *key, size_t klen, const void *val,
		      size_t vlen, void *ctx)
{
	struct tail_scan *t = ctx;
	struct audit_rec r;
	char err[128];

	(void)key;
	(void)klen;
	if (!audit_rec_decode(val, vlen, &r, err, sizeof(err)) &&
	    !strcmp(r.kind, AUDIT_CHECKPOINT))
		t->since = 0;
	else
		t->since++;
	return 0;
}

/* The head of the chain: the last record's seq and hash. */
static int load_head(struct sched *c, struct audit *a, char *err,
		     size_t errlen)
{
	uint8_t key[8], start[8];
	size_t klen = 0, vlen = 0;
	char *val = NULL;
	struct tail_scan t = { 0 };
	uint64_t n = (uint64_t)c->cfg->audit_checkpoint_records;
	int rc = store_last_key(c->store, CF_AUDIT, key, sizeof(key), &klen);

	if (rc == 0)
		return 0; /* an empty log */
	if (rc < 0 || klen != 8) {
		snprintf(err, errlen, "cannot read the audit log's head");
		return -1;
	}
	if (store_get(c->store, CF_AUDIT, key, 8, &val, &vlen, err, errlen) != 1)
		return -1;
	a->seq = store_get_u64be(key);
	sign_sha256(val, vlen, a->head);
	free(val);
	store_put_u64be(start, a->seq > n ? a->seq - n : 1);
	if (store_scan(c->store, CF_AUDIT, start, 8, NULL, 0, count_tail, &t) < 0) {
		snprintf(err, errlen, "cannot read the audit log");
		return -1;
	}
	a->since_checkpoint = t.since;
	return 0;
}

int audit_open(struct sched *c, char *err, size_t errlen)
{
	struct audit *a = xcalloc(1, sizeof(*a));
	char path[600], why[256];

	snprintf(path, sizeof(path), "%s/%s", c->cfg->data_dir, AUDIT_KEY_FILE);
	a->key = sign_key_load_or_create(path, why, sizeof(why));
	if (!a->key) {
		snprintf(err, errlen, "audit key '%s': %s", path, why);
		free(a);
		return -1;
	}
	sign_key_public(a->key, a->pub);
	hex_encode(a->pub, sizeof(a->pub), a->pub_hex);
	strbuf_init(&a->buf, 0);
	c->audit = a;
	if (load_head(c, a, err, errlen)) {
		audit_close(c);
		return -1;
	}
	a->checkpoint_mono = time_mono_ms();
	return 0;
}

void audit_close(struct sched *c)
{
	struct audit *a = c->audit;

	if (!a)
		return;
	sign_key_free(a->key);
	strbuf_release(&a->buf);
	free(a->rf);
	free(a);
	c->audit = NULL;
}

static int64_t now_ms(const struct sched *c)
{
	/* 0 before the first turn (the writes of core_start) */
	return c->now_ms ? c->now_ms : time_now_ms();
}

/* Makes head the last record's hash. */
static void settle(struct audit *a)
{
	if (a->head_due)
		sign_sha256(a->buf.buf, a->buf.len, a->head);
	a->head_due = false;
}

void audit_settle(struct sched *c)
{
	if (c->audit)
		settle(c->audit);
}

static void put(struct sched *c, struct audit_rec *r)
{
	struct audit *a = c->audit;
	uint8_t key[8];

	settle(a); /* the record chains to the previous one's hash */
	r->seq = a->seq + 1;
	if (!r->ms)
		r->ms = now_ms(c);
	memcpy(r->prev, a->head, AUDIT_HASH_LEN);
	strbuf_reset(&a->buf);
	audit_rec_encode(r, &a->buf);
	store_put_u64be(key, r->seq);
	store_batch_put(c->batch, c->store, CF_AUDIT, key, sizeof(key),
			a->buf.buf, a->buf.len);
	/* its hash is needed only by the next record or a mark: taken then,
	 * or after the replies, off a command's path to its sync */
	a->head_due = true;
	a->seq = r->seq;
}

/* Signs the head: a checkpoint record covering every record before it. */
static void checkpoint(struct sched *c)
{
	struct audit *a = c->audit;
	struct audit_rec r;

	memset(&r, 0, sizeof(r));
	snprintf(r.kind, sizeof(r.kind), AUDIT_CHECKPOINT);
	snprintf(r.actor, sizeof(r.actor), "scheduler");
	audit_rec_add(&r, "covers", "%llu", (unsigned long long)a->seq);
	audit_rec_put(&r, "key", a->pub_hex);
	r.ms = now_ms(c);
	settle(a);
	if (audit_mark_sign(a->key, AUDIT_CHECKPOINT, a->seq, a->head, r.ms,
			    r.sig)) {
		log_error("audit: cannot sign a checkpoint");
		return;
	}
	r.has_sig = true;
	put(c, &r);
	a->since_checkpoint = 0;
	a->checkpoint_mono = c->now_mono ? c->now_mono : time_mono_ms();
}

void audit_append(struct sched *c, struct audit_rec *r)
{
	struct audit *a = c->audit;

	if (!a)
		return;
	put(c, r);
	if (++a->since_checkpoint >= (uint64_t)c->cfg->audit_checkpoint_records)
		checkpoint(c);
}

static void rec_init(struct audit_rec *r, const char *kind,
		     const char *tenant, const char *actor)
{
	/* the detail values are set as they are added, not cleared here */
	memset(r, 0, offsetof(struct audit_rec, d));
	r->has_sig = false;
	str_copy(r->kind, sizeof(r->kind), kind);
	str_copy(r->tenant, sizeof(r->tenant), tenant ? tenant : "");
	str_copy(r->actor, sizeof(r->actor), actor);
}

/* The tenant an admin command is about, if it exists: its first word's
 * tenant, a run's, an agent's. "" otherwise (shown to admins only). */
static void command_tenant(struct sched *c, const struct command *cmd,
			   const struct cmd_args *a, char t[NAME_MAX_LEN])
{
	const char *w = a->npos ? a->pos[0] : NULL;
	const struct agent *ag;
	const struct env *e;
	size_t n;

	t[0] = '\0';
	if (!w)
		return;
	if (cmd->scope == SCOPE_RUN) {
		char *end;
		uint64_t id = strtoull(w, &end, 10);
		const struct run *run = *end ? NULL : runstore_get(c, id);
		if (run)
			snprintf(t, NAME_MAX_LEN, "%s", run->job->tenant);
		return;
	}
	if (cmd->scope == SCOPE_WEBHOOK) {
		const struct webhook_hook *h = webhook_core_find(c, w);
		if (h)
			snprintf(t, NAME_MAX_LEN, "%s", h->tenant);
		return;
	}
	if (cmd->scope == SCOPE_SCHEDULE) {
		const char *of = schedule_core_tenant_of(c, w);
		if (of)
			snprintf(t, NAME_MAX_LEN, "%s", of);
		return;
	}
	if ((ag = state_agent(c->st, w))) {
		if ((e = state_env(c->st, ag->env)))
			snprintf(t, NAME_MAX_LEN, "%s", e->tenant);
		return;
	}
	n = strcspn(w, "/");
	if (n >= NAME_MAX_LEN)
		return;
	memcpy(t, w, n);
	t[n] = '\0';
	if (!state_tenant(c->st, t))
		t[0] = '\0';
}

/* The command's words as parsed: positionals, then the flags set (their
 * values only when every word parsed: a value refused may be anything),
 * never the words after "--", which may hold secrets. */
static void command_args(const struct cmd_args *a, bool parsed,
			 struct strbuf *sb)
{
	for (int i = 0; i < a->npos; i++) {
		if (sb->len)
			strbuf_addch(sb, ' ');
		strbuf_addstr(sb, a->pos[i]);
	}
	for (int i = 0; a->specs && a->specs[i].name; i++) {
		if (!a->set[i])
			continue;
		if (sb->len)
			strbuf_addch(sb, ' ');
		strbuf_addstr(sb, a->specs[i].name);
		if (!parsed || a->specs[i].type == FT_BOOL)
			continue;
		/* a client's own key, not ours to keep */
		if (!strcmp(a->specs[i].name, "--idempotency-key"))
			strbuf_addstr(sb, "=(given)");
		else if (a->raw[i]) {
			strbuf_addch(sb, '=');
			strbuf_addstr(sb, a->raw[i]);
		}
	}
	if (a->has_rest)
		strbuf_addf(sb, "%s-- (%d words not recorded)",
			    sb->len ? " " : "", a->nrest);
}

void audit_admin(struct sched *c, const struct command *cmd,
		 const struct cmd_args *a, bool parsed, const char *error)
{
	struct strbuf sb = STRBUF_INIT;
	char tenant[NAME_MAX_LEN], actor[32];
	struct audit_rec r;
	enum role role = ROLE_ADMIN;
	const struct agent *ag;

	command_tenant(c, cmd, a, tenant);
	cmd_actor(a, actor, sizeof(actor));
	if (a->acc)
		role = tenant[0] ? access_role(a->acc, tenant) : a->acc->global;
	if (!strcmp(cmd->words, "tenant delete") && a->npos &&
	    store_keyring(c->store)) {
		/* the record outlives the tenant: named by its pseudonym */
		keyring_pseudonym(store_keyring(c->store), a->pos[0], tenant,
				  sizeof(tenant));
		strbuf_addf(&sb, "%s%s", tenant,
			    parsed && arg_set(a, "--force") ? " --force" : "");
	} else {
		command_args(a, parsed, &sb);
	}
	rec_init(&r, "admin", tenant, actor);
	audit_rec_put(&r, "role", role_name(role));
	audit_rec_put(&r, "command", cmd->words);
	audit_rec_put(&r, "args", sb.buf ? sb.buf : "");
	audit_rec_put(&r, "result", error ? error : "ok");
	if (a->npos && (ag = state_agent(c->st, a->pos[0])))
		audit_rec_put(&r, "env", ag->env); /* revoke, drain */
	strbuf_release(&sb);
	audit_append(c, &r);
}

void audit_enroll(struct sched *c, const struct agent *ag)
{
	struct audit_rec r;
	char tenant[NAME_MAX_LEN];
	size_t n = strcspn(ag->env, "/");

	snprintf(tenant, sizeof(tenant), "%.*s", (int)n, ag->env);
	rec_init(&r, "enroll", tenant, ag->id);
	audit_rec_put(&r, "env", ag->env);
	audit_rec_put(&r, "host", ag->hostname);
	audit_append(c, &r);
}

void audit_key_rotated(struct sched *c, const struct agent *ag,
		       const char *fingerprint, int64_t old_until_ms)
{
	struct audit_rec r;
	char tenant[NAME_MAX_LEN], until[40];
	size_t n = strcspn(ag->env, "/");

	snprintf(tenant, sizeof(tenant), "%.*s", (int)n, ag->env);
	time_format_iso(old_until_ms, until, sizeof(until));
	rec_init(&r, "key_rotated", tenant, ag->id);
	audit_rec_put(&r, "env", ag->env);
	audit_rec_put(&r, "key_sha256", fingerprint);
	audit_rec_put(&r, "old_key_until", until);
	audit_append(c, &r);
}

void audit_budget(struct sched *c, const struct cost_event *ev)
{
	struct audit_rec r;

	/* budget_set is the admin command's own record; a new month is no
	 * action */
	if (!strcmp(ev->kind, "budget_set") || !strcmp(ev->kind, "new_month"))
		return;
	rec_init(&r, "budget", ev->tenant, "scheduler");
	audit_rec_put(&r, "action", ev->kind);
	audit_rec_put(&r, "text", ev->text);
	audit_append(c, &r);
}

void audit_admin_result(struct sched *c, const char *tenant,
			const char *actor, const char *role,
			const char *command, const char *args,
			const char *error)
{
	struct audit_rec r;

	rec_init(&r, "admin", tenant, actor);
	audit_rec_put(&r, "role", role);
	audit_rec_put(&r, "command", command);
	audit_rec_put(&r, "args", args);
	audit_rec_put(&r, "result", error ? error : "ok");
	audit_append(c, &r);
}

void audit_deleted(struct sched *c, const char *tenant, const char *actor,
		   const char *what, const char *name)
{
	struct audit_rec r;

	rec_init(&r, "delete", tenant, actor);
	audit_rec_put(&r, "what", what);
	audit_rec_put(&r, "name", name);
	audit_append(c, &r);
}

static void summarise(struct sched *c, struct refused *f)
{
	struct audit_rec r;
	char tenant[NAME_MAX_LEN] = "";
	const struct agent *ag = state_agent(c->st, f->sender);
	const struct env *e = ag ? state_env(c->st, ag->env) : NULL;

	if (e)
		snprintf(tenant, sizeof(tenant), "%s", e->tenant);
	rec_init(&r, "agent_refused", tenant, f->sender);
	for (size_t i = 0; i < f->ncodes; i++)
		audit_rec_add(&r, f->code[i], "%llu", (unsigned long long)f->n[i]);
	audit_rec_add(&r, "since", "%lld", (long long)f->first_ms);
	audit_append(c, &r);
	f->ncodes = 0;
	f->emitted_mono = c->now_mono;
}

void audit_agent_refused(struct sched *c, const char *agent,
			 const char *code)
{
	struct audit *a = c->audit;
	const char *sender = agent && *agent ? agent : "-";
	struct refused *f = NULL;
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->nrf && !f; i++)
		if (!strcmp(a->rf[i].sender, sender))
			f = &a->rf[i];
	if (!f) {
		a->rf = xgrow(a->rf, &a->rf_alloc, a->nrf + 1, sizeof(*a->rf));
		f = &a->rf[a->nrf++];
		memset(f, 0, sizeof(*f));
		snprintf(f->sender, sizeof(f->sender), "%s", sender);
		f->emitted_mono = INT64_MIN / 2;
	}
	if (!f->ncodes)
		f->first_ms = c->now_ms;
	for (i = 0; i < f->ncodes && strcmp(f->code[i], code); i++)
		;
	if (i == f->ncodes && i < REFUSED_CODES) {
		snprintf(f->code[i], sizeof(f->code[i]), "%s", code);
		f->n[i] = 0;
		f->ncodes++;
	}
	f->n[i < REFUSED_CODES ? i : REFUSED_CODES - 1]++;
	/* the first refusal of a quiet sender is recorded at once */
	if (c->now_mono - f->emitted_mono >= AUDIT_REFUSED_WINDOW_MS)
		summarise(c, f);
}

void audit_tick(struct sched *c)
{
	struct audit *a = c->audit;
	size_t k = 0;

	if (!a)
		return;
	for (size_t i = 0; i < a->nrf; i++) {
		struct refused *f = &a->rf[i];
		bool over = c->now_mono - f->emitted_mono >=
			    AUDIT_REFUSED_WINDOW_MS;
		if (over && f->ncodes)
			summarise(c, f);
		else if (over)
			continue; /* quiet for a whole window: forgotten */
		a->rf[k++] = *f;
	}
	a->nrf = k;
	if (a->since_checkpoint &&
	    c->now_mono - a->checkpoint_mono >= c->cfg->audit_checkpoint_s * 1000)
		checkpoint(c);
}

int64_t audit_next_wake(const struct sched *c)
{
	const struct audit *a = c->audit;
	int64_t due = INT64_MAX;

	if (!a)
		return due;
	for (size_t i = 0; i < a->nrf; i++) {
		int64_t t = a->rf[i].emitted_mono + AUDIT_REFUSED_WINDOW_MS;
		if (t < due)
			due = t;
	}
	if (a->since_checkpoint &&
	    a->checkpoint_mono + c->cfg->audit_checkpoint_s * 1000 < due)
		due = a->checkpoint_mono + c->cfg->audit_checkpoint_s * 1000;
	return due;
}

const uint8_t *audit_pub(const struct sched *c)
{
	return c->audit->pub;
}

void audit_head(struct sched *c, uint64_t *seq, uint8_t hash[AUDIT_HASH_LEN])
{
	settle(c->audit);
	*seq = c->audit->seq;
	memcpy(hash, c->audit->head, AUDIT_HASH_LEN);
}

int audit_sign(const struct sched *c, const char *label, uint64_t seq,
	       const uint8_t hash[AUDIT_HASH_LEN], int64_t ms,
	       uint8_t sig[SIGN_SIG_LEN])
{
	return audit_mark_sign(c->audit->key, label, seq, hash, ms, sig);
}
