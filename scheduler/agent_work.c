/* agent_work.c - what authenticated agent messages do to runs and envs. */
#include "agent_work.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_msgs.h"
#include "diagnose.h"
#include "env_backend.h"
#include "jobvers.h"
#include "keyrot.h"
#include "mp.h"
#include "mreply.h"
#include "records.h"
#include "run_args.h"
#include "sched_ctx.h"
#include "telemetry.h"
#include "util.h"

#define MAX_LOG_LINES 1000
#define MAX_LOG_LINE 8192
#define MAX_SLOTS 256
#define MAX_COMPLETIONS 1024
/* A long poll's end is put on a grid of this many ms, so that the idle
 * fleet's polls that end close together end in one turn, with one
 * synced write for all of their answers, not one each. */
#define PARK_GRID_MS 100
#define PARK_GRID_FROM_MS 1000 /* a busy agent's short poll is left as is */

/* Runs the agent reported holding that it must stop (not its own), set
 * by reconcile() for the reply to this message. */
struct stop_list {
	uint64_t ids[MAX_SLOTS];
	size_t n;
};

/* How many runs an ok reply to ag tells it to cancel (see reply_begin). */
static size_t cancel_count(const struct agent *ag, const struct stop_list *stop)
{
	size_t n = stop ? stop->n : 0;

	for (size_t i = 0; i < ag->held.n; i++)
		n += ((const struct run *)ag->held.v[i])->cancel_requested;
	return n;
}

/* Starts an ok reply, with the runs this agent must cancel: those an
 * operator cancelled, and those it holds without a valid lease. Every ok
 * reply to an agent message starts here, with that message's stop list:
 * a full agent sends heartbeats, not leases, and must hear it too. */
static void reply_begin(struct mreply *m, const struct agent *ag,
			const struct stop_list *stop)
{
	size_t ncancel = cancel_count(ag, stop);

	mreply_init(m);
	mreply_key(m, "ok");
	msgpack_pack_true(&m->pk);
	/* until it rotates: an answer may be lost, the next one says it */
	if (ag->rotate_requested_ms) {
		mreply_key(m, "rotate_key");
		msgpack_pack_true(&m->pk);
	}
	if (!ncancel)
		return;
	mreply_key(m, "cancel");
	msgpack_pack_array(&m->pk, ncancel);
	for (size_t i = 0; i < ag->held.n; i++) {
		const struct run *r = ag->held.v[i];
		if (r->cancel_requested)
			msgpack_pack_uint64(&m->pk, r->id);
	}
	for (size_t i = 0; stop && i < stop->n; i++)
		msgpack_pack_uint64(&m->pk, stop->ids[i]);
}

static bool reply_error(struct sched *c, struct event *ev, const char *code)
{
	agent_msgs_refuse(ev, code);
	sched_complete(c, ev);
	return true;
}

static void preflight_verdict(struct sched *c, const msgpack_object *body,
			      int64_t skew, char *why, size_t len)
{
	bool spark_ok = false;
	int64_t disk = 0;
	char spark_err[256] = "";

	mp_get_bool(body, "spark_ok", &spark_ok);
	mp_get_i64(body, "disk_free_mb", &disk);
	mp_get_str(body, "spark_error", spark_err, sizeof(spark_err));
	why[0] = '\0';
	if (!spark_ok)
		snprintf(why, len, "spark-submit is not runnable: %s",
			 spark_err[0] ? spark_err : "unknown error");
	else if (disk < c->cfg->min_disk_mb)
		snprintf(why, len,
			 "only %lld MB free in the agent state dir (need %lld)",
			 (long long)disk, (long long)c->cfg->min_disk_mb);
	else if (llabs(skew) > c->cfg->max_clock_skew_ms)
		snprintf(why, len, "clock skew %lld ms exceeds %lld ms",
			 (long long)skew, (long long)c->cfg->max_clock_skew_ms);
}

/* The emr-eks backend's part of a preflight (docs/protocol.md): the
 * agent's DescribeVirtualCluster with its own credentials. 1 if the body
 * has no such check (the agent did not know the backend yet: the reply
 * tells it), 0 if it passed, -1 with the reason in why if it failed. */
#define BACKEND_WAIT "waiting for an agent to check the emr-eks backend"

static int preflight_backend(const struct env *e, const msgpack_object *body,
			     char *why, size_t len)
{
	bool ok = false;
	char err[400] = "";

	if (strcmp(env_backend_name(e), "emr-eks"))
		return 0;
	if (mp_get_bool(body, "backend_ok", &ok))
		return 1;
	if (ok)
		return 0;
	mp_get_str(body, "backend_error", err, sizeof(err));
	for (char *p = err; *p; p++) /* one line */
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	/* the agent's errors about the backend name it already */
	if (!strncmp(err, "backend emr-eks", 15))
		snprintf(why, len, "%s", err);
	else
		snprintf(why, len, "emr-eks: %s",
			 err[0] ? err : "unknown error");
	return -1;
}

void agent_work_env_move(struct sched *c, struct env *e, enum env_state to,
			 const char *why)
{
	enum env_state from = e->state;
	if (env_set_state(e, to, why, c->now_ms))
		return;
	log_msg(to == ENV_FAILED ? LOG_WARN : LOG_INFO,
		"environment %s: %s -> %s (%s) tenant=%s env=%s", e->key,
		env_state_name(from), env_state_name(to), why, e->tenant,
		e->key);
	records_put_env(c->batch, c->store, e);
}

static bool on_preflight(struct sched *c, struct event *ev, struct agent *ag,
			 const struct stop_list *stop)
{
	const msgpack_object *body = ev->msg.body;
	struct env *e = state_env(c->st, ag->env);
	int64_t skew = ev->msg.ts - c->now_ms;
	uint64_t slots = 1;
	char why[REASON_LEN];
	struct mreply m;
	int backend = 0;

	if (!e)
		return reply_error(c, ev, "no_environment");
	preflight_verdict(c, body, skew, why, sizeof(why));
	if (!why[0])
		backend = preflight_backend(e, body, why, sizeof(why));
	mp_get_str(body, "spark_version", ag->spark_version,
		   sizeof(ag->spark_version));
	if (!mp_get_u64(body, "slots", &slots) && slots >= 1 &&
	    slots <= MAX_SLOTS)
		ag->slots = (uint32_t)slots;
	ag->preflight_ok = why[0] == '\0' && backend == 0;
	snprintf(e->spark_version, sizeof(e->spark_version), "%s",
		 ag->spark_version);
	mp_get_i64(body, "disk_free_mb", &e->disk_free_mb);
	e->clock_skew_ms = skew;
	if (backend == 1) {
		/* this agent may not take work yet; a ready environment
		 * stays ready for the agents that did check */
		if (e->state == ENV_VALIDATING_RUNTIME) {
			snprintf(e->state_reason, sizeof(e->state_reason),
				 "%s", BACKEND_WAIT);
			records_put_env(c->batch, c->store, e);
		} else if (e->state != ENV_READY) {
			agent_work_env_move(c, e, ENV_VALIDATING_RUNTIME,
					    BACKEND_WAIT);
		}
	} else {
		if (e->state != ENV_VALIDATING_RUNTIME)
			agent_work_env_move(c, e, ENV_VALIDATING_RUNTIME,
					    "preflight received");
		if (ag->preflight_ok)
			agent_work_env_move(c, e, ENV_READY,
					    "preflight passed");
		else
			agent_work_env_move(c, e, ENV_FAILED, why);
	}
	records_put_agent(c->batch, c->store, ag);
	if (backend == 1)
		log_info("agent %s preflight: waiting: it checks the emr-eks "
			 "backend next agent=%s tenant=%s env=%s",
			 ag->id, ag->id, e->tenant, e->key);
	else
		log_msg(ag->preflight_ok ? LOG_INFO : LOG_WARN,
			"agent %s preflight: %s%s%s agent=%s tenant=%s env=%s",
			ag->id, ag->preflight_ok ? "passed" : "failed",
			ag->preflight_ok ? "" : ": ", why, ag->id, e->tenant,
			e->key);
	reply_begin(&m, ag, stop);
	mreply_key(&m, "env_state");
	mp_pack_cstr(&m.pk, env_state_name(e->state));
	mreply_key(&m, "reason");
	mp_pack_cstr(&m.pk, e->state_reason);
	/* what the agent checks at its next preflight */
	env_backend_pack(&m.pk, e);
	m.n += 2;
	mreply_finish(&m, &ev->reply);
	sched_complete(c, ev);
	return true;
}

/* The run named in body, if it is live on this agent under this epoch.
 * Anything else is stale (an old lease) or foreign, and counted. */
static struct run *owned_run(struct sched *c, struct event *ev,
			     struct agent *ag)
{
	uint64_t id = 0, epoch = 0;
	struct run *r;

	if (mp_get_u64(ev->msg.body, "run", &id) ||
	    mp_get_u64(ev->msg.body, "epoch", &epoch))
		return NULL;
	r = policy_owned(&c->pol, ag, id, epoch);
	if (!r)
		log_warn("agent %s: stale or foreign report for run %llu epoch %llu",
			 ag->id, (unsigned long long)id,
			 (unsigned long long)epoch);
	return r;
}

static bool on_heartbeat(struct sched *c, struct event *ev, struct agent *ag,
			 const struct stop_list *stop)
{
	struct mreply m;
	reply_begin(&m, ag, stop);
	mreply_finish(&m, &ev->reply);
	ev->ack_may_wait = true;
	sched_complete(c, ev);
	return true;
}

/* A heartbeat proper (not a report's shared tail): it also carries the
 * agent's build. */
static bool on_heartbeat_msg(struct sched *c, struct event *ev,
			     struct agent *ag, const struct stop_list *stop)
{
	agent_msgs_note_version(ag, ev->msg.body);
	return on_heartbeat(c, ev, ag, stop);
}

static void pack_lease(msgpack_packer *pk, const struct run *r,
		       const struct job *j)
{
	msgpack_pack_map(pk, 9);
	mp_kv_u64(pk, "run", r->id);
	mp_kv_u64(pk, "attempt", r->attempt);
	mp_kv_u64(pk, "epoch", run_epoch(r));
	mp_kv_str(pk, "job", r->job->key);
	mp_kv_u64(pk, "timeout_s", j ? j->timeout_s : 0);
	mp_pack_cstr(pk, "argv");
	if (j) {
		/* its version's arguments, parameters and built-ins put in,
		 * then its extra arguments */
		char **argv;
		int argc = run_args_resolve(j, r, &argv);
		msgpack_pack_array(pk, (size_t)argc);
		for (int i = 0; i < argc; i++)
			mp_pack_cstr(pk, argv[i]);
		run_args_free(argv, argc);
	} else {
		msgpack_pack_array(pk, 0);
	}
	/* older agents ignore these (docs/protocol.md, lease) */
	mp_pack_cstr(pk, "resources");
	msgpack_pack_map(pk, 5);
	mp_kv_u64(pk, "driver_cores", j ? j->driver_cores : 0);
	mp_kv_u64(pk, "driver_memory_mb", j ? j->driver_memory_mb : 0);
	mp_kv_u64(pk, "executor_cores", j ? j->executor_cores : 0);
	mp_kv_u64(pk, "executor_memory_mb", j ? j->executor_memory_mb : 0);
	mp_kv_u64(pk, "executors", j ? j->executors : 0);
	env_backend_pack(pk, r->job ? r->job->envp : NULL);
}

/* Leases up to `slots` queued runs of ag's environment to ag and answers
 * ev with them. Returns the number leased. */
static size_t lease_and_reply(struct sched *c, struct event *ev,
			      struct agent *ag, uint32_t slots,
			      const struct stop_list *stop)
{
	struct run *picked[MAX_SLOTS];
	size_t n = policy_lease(&c->pol, ag, slots, picked);
	struct mreply m;

	reply_begin(&m, ag, stop);
	mreply_key(&m, "runs");
	msgpack_pack_array(&m.pk, n);
	for (size_t i = 0; i < n; i++) {
		const struct run *r = picked[i];
		/* how long it waited in the queue (wall clock, ms) */
		int64_t waited = c->now_ms - r->enqueued_ms;
		lathist_add(&c->dispatch_us,
			    waited > 0 ? (uint64_t)waited * 1000 : 0);
		/* the version it started with, retries included */
		pack_lease(&m.pk, r, jobvers_get(c, r->job, r->job_version));
	}
	mreply_finish(&m, &ev->reply);
	return n;
}

static bool on_lease(struct sched *c, struct event *ev, struct agent *ag,
		     const struct stop_list *stop)
{
	uint64_t slots = 0, wait_ms = 0;
	int64_t until;
	struct env *e;

	mp_get_u64(ev->msg.body, "slots", &slots);
	mp_get_u64(ev->msg.body, "wait_ms", &wait_ms);
	if (slots > MAX_SLOTS)
		slots = MAX_SLOTS;
	/* A request for no slots still gets an answer (its cancel list). */
	if (lease_and_reply(c, ev, ag, (uint32_t)slots, stop) > 0 ||
	    slots == 0 || wait_ms == 0 || stop->n > 0 ||
	    !(e = state_env(c->st, ag->env))) {
		sched_complete(c, ev);
		return true;
	}
	if ((int64_t)wait_ms > c->cfg->lease_wait_max_ms)
		wait_ms = (uint64_t)c->cfg->lease_wait_max_ms;
	until = c->now_mono + (int64_t)wait_ms;
	if (wait_ms >= PARK_GRID_FROM_MS)
		until += PARK_GRID_MS - 1 - (until + PARK_GRID_MS - 1) % PARK_GRID_MS;
	strbuf_reset(&ev->reply);
	/* Parked requests are counted on their environment: an agent's
	 * report there may wait for a later commit while another agent is
	 * ready for work (core.c). */
	parked_add(&c->parked, ev, ag, e, until);
	policy_note_polled_work(&c->pol, e);
	return false;
}

static bool on_run_event(struct sched *c, struct event *ev, struct agent *ag,
			 const struct stop_list *stop)
{
	struct run *r = owned_run(c, ev, ag);
	char state[32] = "", app_id[APP_ID_LEN] = "";

	if (!r)
		return reply_error(c, ev, "stale");
	mp_get_str(ev->msg.body, "app_id", app_id, sizeof(app_id));
	mp_get_str(ev->msg.body, "state", state, sizeof(state));
	if (policy_progress(&c->pol, r, (enum run_state)run_state_parse(state),
			    app_id))
		return reply_error(c, ev, "malformed");
	return on_heartbeat(c, ev, ag, stop);
}

static bool on_log(struct sched *c, struct event *ev, struct agent *ag,
		   const struct stop_list *stop)
{
	struct run *r = owned_run(c, ev, ag);
	const msgpack_object *lines = mp_get(ev->msg.body, "lines");

	if (!r)
		return reply_error(c, ev, "stale");
	if (!lines || lines->type != MSGPACK_OBJECT_ARRAY ||
	    lines->via.array.size > MAX_LOG_LINES)
		return reply_error(c, ev, "malformed");
	for (uint32_t i = 0; i < lines->via.array.size; i++) {
		const msgpack_object *l = &lines->via.array.ptr[i];
		const msgpack_object *f;
		if (l->type != MSGPACK_OBJECT_ARRAY || l->via.array.size != 3 ||
		    l->via.array.ptr[2].type != MSGPACK_OBJECT_STR)
			continue;
		f = l->via.array.ptr;
		c->ret_logs = true; /* retention drops them with the run */
		records_put_log(c->batch, c->store, r->job->tenant, r->id,
				r->log_lines++,
				f[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER
					? (int64_t)f[0].via.u64
					: c->now_ms,
				f[1].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
						f[1].via.u64 == LOG_STDOUT
					? LOG_STDOUT
					: LOG_STDERR,
				f[2].via.str.ptr,
				f[2].via.str.size > MAX_LOG_LINE
					? MAX_LOG_LINE
					: f[2].via.str.size);
	}
	policy_touch(&c->pol, r);
	return on_heartbeat(c, ev, ag, stop);
}

/* A telemetry message: {batches: [sealed batch, ...]}, checked already on
 * the transport's thread (telemetry_precheck). The reply acknowledges the
 * batches stored now or before, by batch number, and lists the refused
 * ones with the reason; the agent forgets both. */
static bool on_telemetry(struct sched *c, struct event *ev, struct agent *ag,
			 const struct stop_list *stop)
{
	struct tb_pre *p = ev->pre;
	size_t nacked = 0;
	struct mreply m;

	if (!p)
		return reply_error(c, ev, "malformed");
	telemetry_apply(c, ag, p);
	for (size_t i = 0; i < p->n; i++)
		nacked += p->items[i].v == TB_STORE ||
			  p->items[i].v == TB_DUPLICATE;
	reply_begin(&m, ag, stop);
	mreply_key(&m, "acked");
	msgpack_pack_array(&m.pk, nacked);
	for (size_t i = 0; i < p->n; i++)
		if (p->items[i].v == TB_STORE || p->items[i].v == TB_DUPLICATE)
			msgpack_pack_uint64(&m.pk, p->items[i].m.seq);
	mreply_key(&m, "rejected");
	msgpack_pack_array(&m.pk, p->n - nacked);
	for (size_t i = 0; i < p->n; i++) {
		const struct tb_item *it = &p->items[i];
		if (it->v == TB_STORE || it->v == TB_DUPLICATE)
			continue;
		/* a malformed batch may have no readable number: its
		 * position in `batches` names it */
		msgpack_pack_array(&m.pk, 3);
		msgpack_pack_uint64(&m.pk, i);
		msgpack_pack_uint64(&m.pk, it->m.seq);
		mp_pack_cstr(&m.pk, tb_verdict_name(it->v));
	}
	mreply_finish(&m, &ev->reply);
	sched_complete(c, ev);
	return true;
}

/* "rotate" (checked by keyrot_check in agent_msgs.c): the new key is
 * the agent's from now on; the reply says until when the old one is
 * still accepted. */
static bool on_rotate(struct sched *c, struct event *ev, struct agent *ag,
		      const struct stop_list *stop)
{
	struct mreply m;

	keyrot_apply(c, ev, ag);
	reply_begin(&m, ag, stop);
	mreply_key(&m, "old_key_until");
	msgpack_pack_int64(&m.pk, ag->prev_until_ms);
	mreply_finish(&m, &ev->reply);
	sched_complete(c, ev);
	return true;
}

/* One completion report (a map: run, epoch, result, exit_code, reason,
 * class, app_id). 0 if recorded, -1 if stale or foreign, -2 if malformed. */
/* The executors' usage a completion may carry from Spark's monitoring REST
 * ("executors": {count, core_ms, lifetime_ms}); false if absent or out of
 * range (then the job's declared executors are billed). */
static bool read_executors(const msgpack_object *item,
			   struct executor_usage *out)
{
	const msgpack_object *x = mp_get(item, "executors");
	uint64_t n, core_ms, life_ms;

	if (!x || x->type != MSGPACK_OBJECT_MAP ||
	    mp_get_u64(x, "count", &n) || mp_get_u64(x, "core_ms", &core_ms) ||
	    mp_get_u64(x, "lifetime_ms", &life_ms) ||
	    core_ms > EXECUTOR_USAGE_MAX_MS || life_ms > EXECUTOR_USAGE_MAX_MS ||
	    n > UINT32_MAX)
		return false;
	out->count = (uint32_t)n;
	out->core_ms = (int64_t)core_ms;
	out->lifetime_ms = (int64_t)life_ms;
	return true;
}

/* A text of the report into buf (size bytes): one too long for it is
 * kept shortened at a character boundary, ending in "...", not dropped
 * (the agent redacted it whole; a long failure reason shown as "-" hid
 * why the run failed). "" when missing, not a string, or holding a NUL. */
static void get_text(const msgpack_object *map, const char *key, char *buf,
		     size_t size)
{
	const msgpack_object *o = mp_get(map, key);
	size_t n;

	buf[0] = '\0';
	if (!o || o->type != MSGPACK_OBJECT_STR ||
	    memchr(o->via.str.ptr, '\0', o->via.str.size))
		return;
	n = o->via.str.size;
	if (n < size) {
		memcpy(buf, o->via.str.ptr, n);
		buf[n] = '\0';
		return;
	}
	n = size - 4;
	while (n > 0 && ((unsigned char)o->via.str.ptr[n] & 0xc0) == 0x80)
		n--; /* not inside a UTF-8 character */
	memcpy(buf, o->via.str.ptr, n);
	memcpy(buf + n, "...", 4);
}

static int complete_one(struct sched *c, struct agent *ag,
			const msgpack_object *item)
{
	uint64_t id = 0, epoch = 0;
	char result[32] = "", reason[REASON_LEN] = "", cls[64] = "";
	char fields[512];
	char app_id[APP_ID_LEN] = "", line[DIAGNOSE_LINE_MAX] = "";
	struct completion done = { .exit_code = -1 };
	struct executor_usage measured;
	int64_t code = -1;
	struct run *r;
	int to;

	if (item->type != MSGPACK_OBJECT_MAP || mp_get_u64(item, "run", &id) ||
	    mp_get_u64(item, "epoch", &epoch))
		return -2;
	mp_get_str(item, "result", result, sizeof(result));
	to = run_state_parse(result);
	if (to < RUN_SUCCEEDED)
		return -2;
	r = policy_owned(&c->pol, ag, id, epoch);
	if (!r) {
		log_warn("agent %s: stale or foreign completion of run %llu epoch %llu",
			 ag->id, (unsigned long long)id,
			 (unsigned long long)epoch);
		return -1;
	}
	mp_get_i64(item, "exit_code", &code);
	mp_get_str(item, "app_id", app_id, sizeof(app_id));
	get_text(item, "reason", reason, sizeof(reason));
	mp_get_str(item, "class", cls, sizeof(cls));
	get_text(item, "diag_line", line, sizeof(line));
	if (cls[0] && !diagnose_category_known(cls)) {
		log_warn("agent %s: run %llu: unknown failure class '%.64s' "
			 "taken as none", ag->id, (unsigned long long)id, cls);
		cls[0] = '\0';
	}
	done.result = (enum run_state)to;
	done.exit_code = code >= 0 && code < 256 ? (int)code : -1;
	done.reason = reason;
	done.failure_class = cls;
	done.diag_line = line;
	done.app_id = app_id;
	done.executors = read_executors(item, &measured) ? &measured : NULL;
	/* a failure is a warning (journalctl -p warning finds it); a retry
	 * is a failed attempt too */
	if (policy_complete(&c->pol, r, &done))
		log_warn("run %llu: attempt %u %s on agent %s%s%s; retry in %lld "
			 "ms%s",
			 (unsigned long long)r->id, r->attempt - 1, result,
			 ag->id, reason[0] ? ": " : "", reason,
			 (long long)(run_not_before(r) - c->now_ms),
			 run_log_fields(r, r->attempt - 1, ag->id, fields,
					sizeof(fields)));
	else if (c->cfg->log_completions)
		log_msg(to == RUN_SUCCEEDED || to == RUN_CANCELLED ? LOG_INFO
								    : LOG_WARN,
			"run %llu: %s on agent %s (attempt %u)%s%s%s",
			(unsigned long long)r->id, result, ag->id, r->attempt,
			reason[0] ? ": " : "", reason,
			run_log_fields(r, r->attempt, ag->id, fields,
				       sizeof(fields)));
	return 0;
}

/* "complete": one report in the body, or many in body.results. One bad
 * report does not fail a batch: each is applied on its own, and the reply
 * lists the run ids of those refused as stale and the positions (from 0)
 * of the malformed ones. Positions, because a malformed report may have no
 * readable run id, or share it with a good report in the same batch. */
static bool on_complete(struct sched *c, struct event *ev, struct agent *ag,
			const struct stop_list *stop)
{
	const msgpack_object *list = mp_get(ev->msg.body, "results");
	uint64_t stale[MAX_COMPLETIONS];
	uint32_t bad[MAX_COMPLETIONS];
	size_t nstale = 0, nbad = 0;
	struct mreply m;
	int rc;

	if (!list) {
		rc = complete_one(c, ag, ev->msg.body);
		if (rc)
			return reply_error(c, ev, rc == -1 ? "stale" : "malformed");
		return on_heartbeat(c, ev, ag, stop);
	}
	if (list->type != MSGPACK_OBJECT_ARRAY ||
	    list->via.array.size > MAX_COMPLETIONS)
		return reply_error(c, ev, "malformed");
	for (uint32_t i = 0; i < list->via.array.size; i++) {
		const msgpack_object *item = &list->via.array.ptr[i];
		rc = complete_one(c, ag, item);
		if (rc == -1)
			mp_get_u64(item, "run", &stale[nstale++]);
		else if (rc == -2)
			bad[nbad++] = i;
	}
	if (nbad)
		log_warn("agent %s: %zu malformed reports in a batch of %u "
			 "completions (seq %llu)", ag->id, nbad,
			 list->via.array.size, (unsigned long long)ev->msg.seq);
	reply_begin(&m, ag, stop);
	mreply_key(&m, "stale");
	msgpack_pack_array(&m.pk, nstale);
	for (size_t i = 0; i < nstale; i++)
		msgpack_pack_uint64(&m.pk, stale[i]);
	mreply_key(&m, "malformed");
	msgpack_pack_array(&m.pk, nbad);
	for (size_t i = 0; i < nbad; i++)
		msgpack_pack_uint32(&m.pk, bad[i]);
	mreply_finish(&m, &ev->reply);
	ev->ack_may_wait = true;
	sched_complete(c, ev);
	return true;
}

/* Reads the runs the agent says it holds ("held": [[run, epoch], ...])
 * and reconciles them; messages without the field reconcile nothing. */
static int reconcile(struct sched *c, struct event *ev, struct agent *ag,
		     struct stop_list *stop)
{
	const msgpack_object *h = mp_get(ev->msg.body, "held");
	struct held_run held[MAX_SLOTS];
	size_t n = 0;

	stop->n = 0;
	if (!h)
		return 0;
	if (h->type != MSGPACK_OBJECT_ARRAY || h->via.array.size > MAX_SLOTS)
		return -1;
	for (uint32_t i = 0; i < h->via.array.size; i++) {
		const msgpack_object *e = &h->via.array.ptr[i];
		if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 2 ||
		    e->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    e->via.array.ptr[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			return -1;
		held[n].run = e->via.array.ptr[0].via.u64;
		held[n++].epoch = e->via.array.ptr[1].via.u64;
	}
	stop->n = policy_reconcile(&c->pol, ag, held, n, stop->ids,
				   ARRAY_SIZE(stop->ids));
	return 0;
}

/* The agent's spool figures, sent with its leases and heartbeats. */
static void note_spool(struct agent *ag, const msgpack_object *body)
{
	const msgpack_object *sp = mp_get(body, "spool");

	if (!sp || sp->type != MSGPACK_OBJECT_MAP)
		return;
	mp_get_u64(sp, "records", &ag->spool_records);
	mp_get_u64(sp, "bytes", &ag->spool_bytes);
	mp_get_u64(sp, "dropped_logs", &ag->spool_dropped_logs);
	mp_get_u64(sp, "dropped_metrics", &ag->spool_dropped_metrics);
	mp_get_u64(sp, "corrupt", &ag->spool_corrupt);
	mp_get_u64(sp, "torn", &ag->spool_torn);
}

bool agent_work_exec(struct sched *c, struct event *ev, struct agent *ag)
{
	static const struct {
		const char *type;
		bool (*fn)(struct sched *, struct event *, struct agent *,
			   const struct stop_list *);
	} handlers[] = {
		{ "preflight", on_preflight }, { "heartbeat", on_heartbeat_msg },
		{ "lease", on_lease },         { "run_event", on_run_event },
		{ "log", on_log },             { "complete", on_complete },
		{ "telemetry", on_telemetry }, { "rotate", on_rotate },
	};
	struct stop_list stop;

	policy_heard(&c->pol, ag);
	note_spool(ag, ev->msg.body);
	if (reconcile(c, ev, ag, &stop))
		return reply_error(c, ev, "malformed");
	for (size_t i = 0; i < ARRAY_SIZE(handlers); i++)
		if (!strcmp(ev->msg.type, handlers[i].type))
			return handlers[i].fn(c, ev, ag, &stop);
	return reply_error(c, ev, "unknown_type");
}

/* Answers a parked request and lets it go: with the reply already in it,
 * with no work, or refused if its agent was revoked meanwhile. */
static void finish_parked(struct sched *c, struct event *ev, bool answered)
{
	struct agent *ag = ev->park_agent;

	if (ag->state == AGENT_REVOKED) {
		strbuf_reset(&ev->reply);
		agent_msgs_refuse(ev, "forged");
	} else if (!answered) {
		lease_and_reply(c, ev, ag, 0, NULL);
	}
	agent_msgs_remember(c, ev, ag);
	parked_remove(&c->parked, ev);
	sched_complete(c, ev);
}

/* Offers e's queued runs to its parked requests, oldest first, until
 * one that may take work gets none: what stops it (the queue is empty,
 * a cap, a budget, a suspended tenant) stops the others too. */
static void serve_env(struct sched *c, struct env *e)
{
	struct event *ev, *next;

	for (ev = e->park_head; ev && e->n_queued; ev = next) {
		struct agent *ag = ev->park_agent;
		uint64_t slots = 0;

		next = ev->park_next;
		if (ag->state == AGENT_REVOKED) {
			finish_parked(c, ev, false);
			continue;
		}
		if (!policy_agent_may_work(&c->pol, ag))
			continue;
		mp_get_u64(ev->msg.body, "slots", &slots);
		if (!lease_and_reply(c, ev, ag, (uint32_t)slots, NULL)) {
			strbuf_reset(&ev->reply);
			break;
		}
		finish_parked(c, ev, true);
	}
}

void agent_msgs_serve_parked(struct sched *c, bool stopping)
{
	struct ptrvec *pw = &c->pol.polled_work;
	struct event *ev;

	for (size_t i = 0; i < pw->n;) {
		struct env *e = pw->v[i];
		if (stopping || !e->n_polling || !e->n_queued) {
			e->polled_work = false;
			ptrvec_remove_at(pw, i);
			continue;
		}
		serve_env(c, e);
		i++;
	}
	while ((ev = stopping ? parked_any(&c->parked)
			      : parked_due(&c->parked, c->now_mono)))
		finish_parked(c, ev, false);
}

void agent_work_refuse_parked(struct sched *c, int64_t retry_after_ms)
{
	struct event *ev;

	while ((ev = parked_any(&c->parked))) {
		strbuf_reset(&ev->reply);
		agent_msgs_refuse_retry(ev, "unavailable", retry_after_ms);
		parked_remove(&c->parked, ev);
		sched_complete(c, ev);
	}
}

void agent_work_unpark(struct sched *c, struct agent *ag)
{
	struct event *ev = ag->parked;

	if (!ev)
		return;
	lease_and_reply(c, ev, ag, 0, NULL);
	parked_remove(&c->parked, ev);
	sched_complete(c, ev);
}

void agent_work_hangup(struct sched *c, uint32_t pipe)
{
	struct event *ev = parked_by_pipe(&c->parked, pipe);

	if (ev)
		agent_work_unpark(c, ev->park_agent);
}

void agent_work_answer_parked(struct sched *c, struct agent *ag)
{
	if (ag->parked)
		finish_parked(c, ag->parked, false);
}

int64_t agent_msgs_next_deadline(struct sched *c)
{
	return parked_next_deadline(&c->parked);
}
