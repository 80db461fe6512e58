/* cmd_tenant_delete.c - `tenant delete NAME --confirm [--force]`: verifiable removal
 * of a tenant by crypto-shredding (docs/operator-guide.md, Data kept and
 * removed; docs/storage.md, Encryption at rest).
 *
 * A tenant with runs kept only in the store first has them found by a
 * worker thread (a pass over every run record of the store, seconds with
 * millions), while the core goes on and keeps the tenant's runs in
 * memory. Then, on the core thread, in one turn: the tenant's agents are
 * revoked and its runs ended (--force), its data key destroyed (both
 * keyring files rewritten before anything else changes), every record of
 * it deleted in every column family (range deletions where keys start
 * with the tenant, point deletions where they are ids; its webhooks and
 * their deliveries too, and its schedules), and it leaves memory. A
 * `delete` audit record carrying the receipt, naming the tenant by its
 * pseudonym, commits in the same batch. Then a worker thread waits for
 * that batch to be on disk, flushes every memtable (the commit log
 * segments that held the deleted records are retired) and compacts the
 * deleted ranges (the table files that held them are rewritten without
 * them); the command is answered with the receipt when it is done. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin_cmds.h"
#include "agent_work.h"
#include "audit.h"
#include "budget.h"
#include "diskguard.h"
#include "keyring.h"
#include "keyreg.h"
#include "log.h"
#include "records.h"
#include "run_codec.h"
#include "runstore.h"
#include "sched_ctx.h"
#include "strbuf.h"
#include "util.h"
#include "schedule_core.h"
#include "webhook_core.h"
#include "worker.h"

/* The counted column families of the receipt, in its order. */
static const enum store_cf receipt_cfs[] = {
	CF_TENANTS, CF_ENVS, CF_AGENTS, CF_TOKENS, CF_JOBS, CF_JOBVERS,
	CF_RUNS, CF_TELEMETRY, CF_LOGS, CF_USAGE, CF_COSTLOG,
	CF_WEBHOOKS, CF_WHOUTBOX, CF_SCHEDULES,
};
#define NRECEIPT (sizeof(receipt_cfs) / sizeof(receipt_cfs[0]))

/* How long the worker waits for the deletion's write (a store that is
 * down holds it): past that, the receipt says it was not compacted. */
#define COMMIT_WAIT_MS 60000

struct range {
	enum store_cf cf;
	uint8_t start[80], end[80];
	size_t slen, elen;
};

struct tdel_job {
	struct event *ev;
	struct store *store;
	_Atomic uint64_t *commits;
	uint64_t commits_before;
	struct range r[10];
	size_t nr;
	/* the receipt */
	char tenant[NAME_MAX_LEN], pseudonym[32];
	uint64_t removed[NRECEIPT];
	uint32_t key_id;
	int64_t key_destroyed_ms;
	uint64_t audit_seq;
	size_t runs_cancelled, agents_revoked;
	/* the pre-scan's: the tenant's runs kept only in the store */
	bool force;
	char actor[32];
	uint64_t *stored, nstored; /* the marks, copied at the command */
	uint64_t *ids;             /* the tenant's among them */
	size_t nids, idcap;
	uint64_t unreadable;       /* marked records whose job is unreadable */
	bool scanning;             /* the tenant's runs stay in memory */
	int scan_rc;
	/* the worker's */
	bool committed;
	int rc;
	char err[256];
	int64_t flush_ms, compact_ms;
};

static void free_job(struct tdel_job *j)
{
	free(j->stored);
	free(j->ids);
	free(j);
}

static void add_range(struct tdel_job *j, enum store_cf cf, const void *s,
		      size_t slen, const void *e, size_t elen)
{
	struct range *r = &j->r[j->nr++];
	r->cf = cf;
	memcpy(r->start, s, slen);
	memcpy(r->end, e, elen);
	r->slen = slen;
	r->elen = elen;
}

static size_t receipt_at(enum store_cf cf)
{
	for (size_t i = 0; i < NRECEIPT; i++)
		if (receipt_cfs[i] == cf)
			return i;
	return 0;
}

/* ---- the worker ---- */

static void job_run(void *arg)
{
	struct tdel_job *j = arg;
	int64_t t0 = time_mono_ms();

	/* the range deletions must be in the store before a compaction
	 * can drop what they cover */
	while (atomic_load(j->commits) <= j->commits_before) {
		if (time_mono_ms() - t0 > COMMIT_WAIT_MS)
			return;
		usleep(2000);
	}
	j->committed = true;
	t0 = time_mono_ms();
	j->rc = store_flush_all(j->store, j->err, sizeof(j->err));
	j->flush_ms = time_mono_ms() - t0;
	t0 = time_mono_ms();
	for (size_t i = 0; i < j->nr; i++)
		store_compact_range(j->store, j->r[i].cf, j->r[i].start,
				    j->r[i].slen, j->r[i].end, j->r[i].elen);
	j->compact_ms = time_mono_ms() - t0;
}

static void write_receipt(const struct tdel_job *j, struct reply *r,
			  bool done)
{
	char when[40], line[160];
	struct strbuf text = STRBUF_INIT;

	time_format_iso(j->key_destroyed_ms, when, sizeof(when));
	jw_str(&r->w, "tenant", j->tenant);
	jw_str(&r->w, "pseudonym", j->pseudonym);
	jw_obj_open(&r->w, "removed");
	for (size_t i = 0; i < NRECEIPT; i++)
		jw_uint(&r->w, store_cf_name(receipt_cfs[i]), j->removed[i]);
	jw_obj_close(&r->w);
	jw_uint(&r->w, "key_id", j->key_id);
	jw_time(&r->w, "key_destroyed", j->key_destroyed_ms);
	jw_time(&r->w, "time", j->key_destroyed_ms);
	jw_uint(&r->w, "runs_cancelled", j->runs_cancelled);
	jw_uint(&r->w, "agents_revoked", j->agents_revoked);
	jw_uint(&r->w, "audit_seq", j->audit_seq);
	jw_bool(&r->w, "compacted", done);
	jw_bool(&r->w, "wal_rolled", done);
	strbuf_addf(&text, "tenant %s deleted (now named %s in the audit "
		    "log, record %llu)\n", j->tenant, j->pseudonym,
		    (unsigned long long)j->audit_seq);
	strbuf_addf(&text, "  data key %u destroyed at %s: what remains of "
		    "it anywhere (backups included) cannot be decrypted\n",
		    j->key_id, when);
	strbuf_addstr(&text, "  removed:");
	for (size_t i = 0; i < NRECEIPT; i++) {
		snprintf(line, sizeof(line), " %s=%llu",
			 store_cf_name(receipt_cfs[i]),
			 (unsigned long long)j->removed[i]);
		strbuf_addstr(&text, line);
	}
	strbuf_addf(&text, "\n  runs cancelled: %zu, agents revoked: %zu\n",
		    j->runs_cancelled, j->agents_revoked);
	if (done)
		strbuf_addf(&text, "  memtables flushed and commit log rolled in %lld "
			    "ms; deleted ranges compacted in %lld ms",
			    (long long)j->flush_ms, (long long)j->compact_ms);
	else
		strbuf_addf(&text, "  not compacted yet: %s",
			    j->err[0] ? j->err
				      : "the deletion was not yet written");
	jw_str(&r->w, "print", text.buf);
	strbuf_release(&text);
}

static void job_finish(struct sched *c, void *arg, bool stopping)
{
	struct tdel_job *j = arg;
	bool done;
	struct reply r;

	/* no file of the commit log keeps a write made before the
	 * deletion (a stop does the same: it removes the log) */
	if (j->committed && !j->rc && !stopping) {
		int64_t t0 = time_mono_ms();
		j->rc = store_roll_log(c->store, j->err, sizeof(j->err));
		j->flush_ms += time_mono_ms() - t0;
	}
	done = j->committed && !j->rc;
	c->tdelete = NULL;
	admin_cmds_reply_open(j->ev, &r);
	write_receipt(j, &r, done);
	log_info("tenant delete: %s: data key %u destroyed, records removed; "
		 "%s", j->pseudonym, j->key_id,
		 done ? "flushed and compacted" : "not compacted");
	admin_cmds_reply_close(c, j->ev, &r);
	free_job(j);
}

/* ---- the core thread ---- */

struct counter {
	uint64_t n;
	struct store_batch *b; /* point-delete each key found (else NULL) */
	struct store *s;
	enum store_cf cf;
};

static int count_one(const void *key, size_t klen, const void *val,
		     size_t vlen, void *ctx)
{
	struct counter *k = ctx;
	(void)val;
	(void)vlen;
	k->n++;
	if (k->b)
		store_batch_delete(k->b, k->s, k->cf, key, klen);
	return 0;
}

/* Deletes [tenant\0, tenant\1) of cf with one range tombstone, counting
 * what it covers first. */
static void drop_prefix(struct sched *c, struct tdel_job *j,
			enum store_cf cf)
{
	uint8_t start[80], end[80];
	size_t n = strlen(j->tenant) + 1;
	struct counter k = { 0 };

	memcpy(start, j->tenant, n);
	memcpy(end, j->tenant, n);
	end[n - 1] = 1;
	store_scan(c->store, cf, start, n, end, n, count_one, &k);
	j->removed[receipt_at(cf)] += k.n;
	store_batch_delete_range(c->batch, c->store, cf, start, n, end, n);
	add_range(j, cf, start, n, end, n);
}

/* Jobs, their versions and environments: keys "tenant/...", the range
 * [tenant/, tenant0), counted first. */
static void drop_names(struct sched *c, struct tdel_job *j, enum store_cf cf)
{
	uint8_t start[80], end[80];
	size_t n = strlen(j->tenant) + 1;
	struct counter k = { 0 };

	memcpy(start, j->tenant, n - 1);
	memcpy(end, j->tenant, n - 1);
	start[n - 1] = '/';
	end[n - 1] = '/' + 1;
	store_scan(c->store, cf, start, n, end, n, count_one, &k);
	j->removed[receipt_at(cf)] += k.n;
	store_batch_delete_range(c->batch, c->store, cf, start, n, end, n);
	add_range(j, cf, start, n, end, n);
}

static bool of_tenant(const char *key, const char *tenant)
{
	return key_owned_by(key, tenant, strlen(tenant));
}

/* Revokes the tenant's agents (their runs go back to the queue) and
 * cancels every run not ended: all its runs end now. */
static void end_everything(struct sched *c, struct tdel_job *j)
{
	struct refusal why;

	for (size_t i = 0; i < c->st->agents.n; i++) {
		struct agent *ag = c->st->agents.v[i];
		if (!of_tenant(ag->env, j->tenant) ||
		    ag->state == AGENT_REVOKED)
			continue;
		ag->state = AGENT_REVOKED;
		ag->preflight_ok = false;
		keyreg_remove(c->keys, ag->id);
		policy_drop_agent(&c->pol, ag, "the tenant was deleted");
		agent_work_answer_parked(c, ag); /* refused: forged */
		j->agents_revoked++;
	}
	for (size_t i = 0; i < c->st->nruns; i++) {
		struct run *r = c->st->runs[i];
		if (!r || strcmp(r->job->tenant, j->tenant) ||
		    run_state_terminal(r->state))
			continue;
		if (!policy_cancel(&c->pol, r, &why))
			j->runs_cancelled++;
	}
}

struct run_range {
	uint64_t lo, hi; /* the tenant's lowest and highest run id */
	struct store_reader *logs; /* line logs, a run at a time; NULL: the
				    * store is closed */
};

/* Deletes run id of the tenant: its record and line logs. */
static void drop_run(struct sched *c, struct tdel_job *j, uint64_t id,
		     struct run_range *rr)
{
	struct counter k = { 0, c->batch, c->store, CF_LOGS };
	uint8_t start[12], end[8];

	store_put_u64be(start, id);
	store_put_u32be(start + 8, 0);
	store_put_u64be(end, id + 1);
	if (rr->logs) /* else the store is closed (logged): nothing to read */
		store_reader_scan(rr->logs, start, 12, end, 8, count_one, &k);
	j->removed[receipt_at(CF_LOGS)] += k.n;
	records_delete_run(c->batch, c->store, id);
	j->removed[receipt_at(CF_RUNS)]++;
	rr->lo = rr->lo && rr->lo < id ? rr->lo : id;
	rr->hi = rr->hi > id ? rr->hi : id;
}

struct stored_drop {
	struct tdel_job *j;
	struct tenant *t;
	struct run_range rr;
};

/* A run of the tenant kept only in the store: told by its record's job
 * key, not decoded (a record damaged past it goes too). */
static int drop_stored(struct sched *c, uint64_t id, void *arg)
{
	struct stored_drop *sd = arg;

	drop_run(c, sd->j, id, &sd->rr);
	policy_forget_stored(&c->pol, id, sd->t);
	return 0;
}

/* Deletes every run of the tenant: those in memory, then those kept
 * only in the store (the pre-scan's ids, else one scan of the runs'
 * records). */
static void drop_runs(struct sched *c, struct tdel_job *j)
{
	struct stored_drop sd = { j, state_tenant(c->st, j->tenant),
				  { 0, 0, NULL } };
	uint8_t start[8], end[8];

	/* one iterator for the line logs of every run, not one a run: with
	 * hundreds of thousands of runs, making them was most of the delete */
	sd.rr.logs = store_reader_open(c->store, CF_LOGS);

	for (size_t i = 0; i < c->st->nruns; i++) {
		struct run *r = c->st->runs[i];
		if (r && !strcmp(r->job->tenant, j->tenant)) {
			drop_run(c, j, r->id, &sd.rr);
			policy_forget_run(&c->pol, r);
		}
	}
	/* found by the pre-scan; one read back into memory since went with
	 * those */
	for (size_t i = 0; i < j->nids; i++)
		if (state_run_stored(c->st, j->ids[i]))
			drop_stored(c, j->ids[i], &sd);
	/* none left, with a pre-scan: no run of the tenant left memory
	 * while it read (tenant_delete_holds); without one, all of them */
	if (sd.t && sd.t->n_stored)
		runstore_scan_ids(c, j->tenant, drop_stored, &sd);
	store_reader_close(sd.rr.logs);
	records_put_run_ids(c->batch, c->store, c->st);
	if (!sd.rr.hi)
		return;
	store_put_u64be(start, sd.rr.lo);
	store_put_u64be(end, sd.rr.hi + 1);
	add_range(j, CF_RUNS, start, 8, end, 8);
	add_range(j, CF_LOGS, start, 8, end, 8);
}

static void drop_agents_tokens(struct sched *c, struct tdel_job *j)
{
	for (size_t i = 0; i < c->st->agents.n; i++) {
		const struct agent *ag = c->st->agents.v[i];
		if (of_tenant(ag->env, j->tenant)) {
			store_batch_delete(c->batch, c->store, CF_AGENTS,
					   ag->id, strlen(ag->id));
			j->removed[receipt_at(CF_AGENTS)]++;
		}
	}
	for (size_t i = 0; i < c->st->tokens.n; i++) {
		const struct token *t = c->st->tokens.v[i];
		if (of_tenant(t->env, j->tenant)) {
			store_batch_delete(c->batch, c->store, CF_TOKENS,
					   t->hash, strlen(t->hash));
			j->removed[receipt_at(CF_TOKENS)]++;
		}
	}
}

/* meta/deleted_tenants: the pseudonyms of deleted tenants, one a line,
 * for audit list (cmd_audit.c) to show them in place of the names. */
static void note_pseudonym(struct sched *c, const char *pseudonym)
{
	char *val = NULL, err[128];
	size_t len = 0;
	struct strbuf sb = STRBUF_INIT;

	if (store_get(c->store, CF_META, META_DELETED_TENANTS,
		      strlen(META_DELETED_TENANTS), &val, &len, err,
		      sizeof(err)) == 1)
		strbuf_add(&sb, val, len);
	free(val);
	strbuf_addf(&sb, "%s\n", pseudonym);
	store_batch_put(c->batch, c->store, CF_META, META_DELETED_TENANTS,
			strlen(META_DELETED_TENANTS), sb.buf, sb.len);
	strbuf_release(&sb);
}

static void audit_receipt(struct sched *c, struct tdel_job *j)
{
	struct audit_rec rec;
	struct strbuf sb = STRBUF_INIT;
	char hash[AUDIT_HASH_LEN];

	memset(&rec, 0, sizeof(rec));
	snprintf(rec.kind, sizeof(rec.kind), "delete");
	snprintf(rec.tenant, sizeof(rec.tenant), "%s", j->pseudonym);
	snprintf(rec.actor, sizeof(rec.actor), "%s", j->actor);
	audit_rec_put(&rec, "what", "tenant");
	audit_rec_put(&rec, "name", j->pseudonym);
	for (size_t i = 0; i < NRECEIPT; i++)
		strbuf_addf(&sb, "%s%s=%llu", i ? " " : "",
			    store_cf_name(receipt_cfs[i]),
			    (unsigned long long)j->removed[i]);
	audit_rec_put(&rec, "removed", sb.buf);
	audit_rec_add(&rec, "key_id", "%u", j->key_id);
	audit_rec_add(&rec, "key_destroyed_ms", "%lld",
		      (long long)j->key_destroyed_ms);
	audit_rec_add(&rec, "runs_cancelled", "%zu", j->runs_cancelled);
	audit_rec_add(&rec, "agents_revoked", "%zu", j->agents_revoked);
	strbuf_release(&sb);
	audit_append(c, &rec);
	audit_head(c, &j->audit_seq, (uint8_t *)hash);
}

/* Refused while runs are not ended, unless --force. */
static int check_runs(struct sched *c, const char *name, bool force,
		      struct reply *r)
{
	size_t queued = 0, live = 0;

	for (size_t i = 0; i < c->st->nruns; i++) {
		const struct run *run = c->st->runs[i];
		if (!run || strcmp(run->job->tenant, name) ||
		    run_state_terminal(run->state))
			continue;
		if (run->state == RUN_QUEUED)
			queued++;
		else
			live++;
	}
	if ((queued || live) && !force)
		return cmd_fail(r, "busy",
				"tenant '%s' has %zu queued and %zu live runs: "
				"cancel them or let them end, or delete with "
				"--force (revokes its agents and cancels its "
				"runs)",
				name, queued, live);
	return 0;
}

/* Deletes the tenant in this turn (see the top). true: the compaction
 * worker answers; false: r holds the answer (a refusal, or the receipt
 * without compaction) and j is freed. */
static bool delete_now(struct sched *c, struct tdel_job *j, struct reply *r)
{
	struct keyring *kr = store_keyring(c->store);
	struct state_removed gone;
	const char *name = j->tenant;
	char err[256];

	if (!kr) {
		cmd_fail(r, "internal", "no keyring: the store was opened "
			 "without one");
		goto answered;
	}
	keyring_pseudonym(kr, name, j->pseudonym, sizeof(j->pseudonym));
	/* first, and on disk before anything else changes: the key */
	if (keyring_destroy(kr, name, &j->key_id, err, sizeof(err))) {
		cmd_fail(r, "internal", "%s", err);
		goto answered;
	}
	j->key_destroyed_ms = c->now_ms;
	end_everything(c, j);
	drop_runs(c, j);
	drop_agents_tokens(c, j);
	drop_prefix(c, j, CF_TELEMETRY);
	drop_prefix(c, j, CF_USAGE);
	drop_prefix(c, j, CF_COSTLOG);
	/* its schedules: keys "tenant\0id", gone from memory too */
	drop_prefix(c, j, CF_SCHEDULES);
	schedule_core_remove_tenant(c, name);
	budget_drop_events(&c->pol, name);
	webhook_core_remove_tenant(c, name,
				   &j->removed[receipt_at(CF_WEBHOOKS)],
				   &j->removed[receipt_at(CF_WHOUTBOX)]);
	store_batch_delete(c->batch, c->store, CF_TENANTS, name, strlen(name));
	state_remove_tenant(c->st, name, &gone);
	j->removed[receipt_at(CF_TENANTS)] = gone.tenants;
	/* counted in the store: what the turn wrote before is not there yet
	 * (a job added in this turn, say), hence at least what memory had */
	drop_names(c, j, CF_ENVS);
	drop_names(c, j, CF_JOBS);
	drop_names(c, j, CF_JOBVERS);
	if (j->removed[receipt_at(CF_ENVS)] < gone.envs)
		j->removed[receipt_at(CF_ENVS)] = gone.envs;
	if (j->removed[receipt_at(CF_JOBS)] < gone.jobs)
		j->removed[receipt_at(CF_JOBS)] = gone.jobs;
	note_pseudonym(c, j->pseudonym);
	audit_receipt(c, j);
	log_info("tenant delete: %s: data key %u destroyed, %llu runs "
		 "removed", j->pseudonym, j->key_id,
		 (unsigned long long)j->removed[receipt_at(CF_RUNS)]);
	j->store = c->store;
	j->commits = &c->pub_commits;
	j->commits_before = c->commits;
	if (worker_start(c, job_run, job_finish, j)) {
		write_receipt(j, r, false);
		goto answered;
	}
	c->tdelete = j;
	return true;
answered:
	c->tdelete = NULL;
	free_job(j);
	return false;
}

/* ---- the pre-scan: on a worker thread ---- */

static int collect_one(const void *key, size_t klen, const void *val,
		       size_t vlen, void *arg)
{
	struct tdel_job *j = arg;
	uint64_t id = klen == 8 ? store_get_u64be(key) : 0;
	enum record_owner o;

	if (!stored_marked(j->stored, j->nstored, id))
		return 0;
	o = run_record_owner(val, vlen, j->tenant, strlen(j->tenant));
	j->unreadable += o == RECORD_UNREADABLE;
	if (o != RECORD_OWNED)
		return 0;
	j->ids = xgrow(j->ids, &j->idcap, j->nids + 1, sizeof(*j->ids));
	j->ids[j->nids++] = id;
	return 0;
}

static void prescan_run(void *arg)
{
	struct tdel_job *j = arg;

	j->scan_rc = store_scan(j->store, CF_RUNS, NULL, 0, NULL, 0,
				collect_one, j);
}

/* On the core: the tenant is deleted now, in this turn, or not at all. */
static void prescan_finish(struct sched *c, void *arg, bool stopping)
{
	struct tdel_job *j = arg;
	struct event *ev = j->ev;
	struct reply r;

	j->scanning = false;
	if (j->unreadable)
		log_warn("tenant delete %s: %" PRIu64 " run records in the "
			 "store could not be read and are not removed",
			 j->tenant, j->unreadable);
	admin_cmds_reply_open(ev, &r);
	if (stopping)
		cmd_fail(&r, "unavailable", "the scheduler is stopping: tenant "
			 "'%s' was not deleted", j->tenant);
	else if (j->scan_rc)
		cmd_fail(&r, "store", "cannot read the runs kept in the store "
			 "(the scheduler's log says why): tenant '%s' was not "
			 "deleted", j->tenant);
	else if (diskguard_down(c))
		cmd_fail(&r, "unavailable", "the store takes no writes: tenant "
			 "'%s' was not deleted", j->tenant);
	else if (!state_tenant(c->st, j->tenant))
		cmd_fail(&r, "not_found", "no tenant '%.64s'", j->tenant);
	else if (!check_runs(c, j->tenant, j->force, &r)) {
		if (delete_now(c, j, &r))
			return; /* the compaction worker answers */
		j = NULL; /* freed: r holds the answer */
	}
	if (j) {
		c->tdelete = NULL;
		free_job(j);
	}
	admin_cmds_reply_close(c, ev, &r);
}

bool tenant_delete_holds(const struct sched *c, const struct run *r)
{
	return c->tdelete && c->tdelete->scanning &&
	       !strcmp(r->job->tenant, c->tdelete->tenant);
}

int cmd_tenant_delete(struct sched *c, const struct cmd_args *a,
		      struct reply *r)
{
	const char *name = a->pos[0];
	const struct tenant *t = state_tenant(c->st, name);
	bool force = arg_set(a, "--force");
	struct tdel_job *j;

	if (!t)
		return cmd_fail(r, "not_found", "no tenant '%.64s'", name);
	/* irreversible: said out loud, never by a slip of the shell */
	if (!arg_set(a, "--confirm"))
		return cmd_fail(r, "invalid", "tenant delete cannot be undone: "
				"add --confirm to remove tenant '%s' and every "
				"record of it", name);
	if (!store_keyring(c->store))
		return cmd_fail(r, "internal", "no keyring: the store was "
				"opened without one");
	if (c->tdelete)
		return cmd_fail(r, "busy", "tenant '%s' is being deleted: one "
				"tenant delete at a time", c->tdelete->tenant);
	if (check_runs(c, name, force, r))
		return -1;
	j = xcalloc(1, sizeof(*j));
	snprintf(j->tenant, sizeof(j->tenant), "%s", name);
	j->force = force;
	cmd_actor(a, j->actor, sizeof(j->actor));
	if (!t->n_stored) {
		if (delete_now(c, j, r))
			j->ev = cmd_defer(r);
		return r->failed ? -1 : 0;
	}
	j->store = c->store;
	j->stored = state_stored_copy(c->st, &j->nstored);
	j->scanning = true;
	if (worker_start(c, prescan_run, prescan_finish, j)) {
		free_job(j);
		return cmd_fail(r, "internal",
				"cannot start a thread to read the store");
	}
	/* the worker does not touch j->ev: set after it started */
	j->ev = cmd_defer(r);
	c->tdelete = j;
	return 0;
}
