/* core.c - the core thread: drain events, apply, group commit, reply. */
#include "core.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "admin_cmds.h"
#include "agent_msgs.h"
#include "agent_work.h"
#include "audit.h"
#include "cost_records.h"
#include "records.h"
#include "retention.h"
#include "runstore.h"
#include "fairq.h"
#include "jobvers.h"
#include "keyrot.h"
#include "metrics.h"
#include "sched_ctx.h"
#include "schedule_core.h"
#include "telemetry.h"
#include "util.h"
#include "webhook_core.h"
#include "worker.h"

struct event *event_new(enum event_kind kind)
{
	struct event *ev = xcalloc(1, sizeof(*ev));
	ev->kind = kind;
	strbuf_init(&ev->reply, 0);
	return ev;
}

void event_free(struct event *ev)
{
	if (!ev)
		return;
	cmdline_release(&ev->cmd);
	if (ev->pre_free)
		ev->pre_free(ev->pre);
	if (ev->msg_open)
		wire_msg_release(&ev->msg);
	free(ev->buf);
	if (ev->kind == EV_WEBHOOK)
		free(ev->work);
	strbuf_release(&ev->reply);
	free(ev);
}

void sched_complete(struct sched *c, struct event *ev)
{
	ptrvec_push(&c->done, ev);
}

static _Thread_local bool on_core_thread;

bool core_on_core_thread(void)
{
	return on_core_thread;
}

/* Wakes the core thread from its poll (any thread). */
static void core_wake(struct sched *c)
{
	uint64_t one = 1;
	(void)!write(c->wakefd, &one, sizeof(one));
}

/* Only a post into an empty inbox wakes the core: the core sleeps only on
 * an empty inbox, and takes all of it at once, so an event behind another
 * is seen with the first. The wake-up comes after the unlock, so that the
 * woken core does not find the lock still held. A poster needs c alive
 * through the call either way (the posting threads stop before core_stop
 * frees it). */
void core_post(struct sched *c, struct event *ev)
{
	bool was_empty;

	ev->next = NULL;
	pthread_mutex_lock(&c->lock);
	was_empty = !c->inbox_head;
	if (c->inbox_tail)
		c->inbox_tail->next = ev;
	else
		c->inbox_head = ev;
	c->inbox_tail = ev;
	pthread_mutex_unlock(&c->lock);
	/* the core thread itself (its I/O source) looks at the inbox before
	 * it sleeps again */
	if (was_empty && !on_core_thread)
		core_wake(c);
}

/* The earliest moment the core has work that no event brings: a parked
 * poll's deadline, the policy's next timer, the retention pass or a
 * waiting commit; while the store is down, only the next attempt to
 * bring it back. In monotonic microseconds, INT64_MAX if none. */
static int64_t next_wake_us(struct sched *c)
{
	int64_t ms = agent_msgs_next_deadline(c), us;

	if (diskguard_down(c)) {
		ms = diskguard_next_wake(c);
	} else {
		if (policy_next_wake(&c->pol) < ms)
			ms = policy_next_wake(&c->pol);
		if (c->retention_due_mono < ms)
			ms = c->retention_due_mono;
		if (audit_next_wake(c) < ms)
			ms = audit_next_wake(c);
		if (webhook_core_next_wake(c) < ms)
			ms = webhook_core_next_wake(c);
		if (schedule_core_next_wake(c) < ms)
			ms = schedule_core_next_wake(c);
	}
	if (c->wd_every_ms && c->wd_due_mono < ms)
		ms = c->wd_due_mono;
	if (c->metrics && c->metrics_due_mono < ms)
		ms = c->metrics_due_mono;
	if (log_held_due_ms() < ms) /* the log lines batched after a turn */
		ms = log_held_due_ms();
	us = ms > INT64_MAX / 1000 ? INT64_MAX : ms * 1000;
	if (c->commit_due_us && c->commit_due_us < us)
		us = c->commit_due_us;
	return us;
}

/* The policy's limits from the settings. */
static void limits_from(const struct sched_config *cfg,
			struct policy_limits *lim)
{
	policy_limits_defaults(lim);
	lim->lease_ttl_ms = cfg->agent_timeout_ms;
	lim->aging_ms = cfg->priority_aging_ms;
	lim->retry_base_ms = cfg->retry_base_ms;
	lim->retry_max_ms = cfg->retry_max_ms;
	lim->max_lost_leases = (uint32_t)cfg->max_lost_leases;
	lim->max_queued_total = (uint64_t)cfg->max_queued_total;
	lim->idempotency_ttl_ms = cfg->idempotency_ttl_s * 1000;
	lim->estimate_hours = cfg->run_estimate_hours;
	lim->guard.interval_ms = cfg->guard_interval_s * 1000;
	lim->guard.window_ms = cfg->guard_window_s * 1000;
	lim->guard.cooldown_ms = cfg->breaker_cooldown_s * 1000;
}

/* Takes up what core_watchdog and core_metrics set (under c->lock). */
static void adopt_hooks(struct sched *c)
{
	if (c->wd_every_set != c->wd_every_ms || c->wd_ping_set != c->wd_ping) {
		c->wd_every_ms = c->wd_every_set;
		c->wd_ping = c->wd_ping_set;
		c->wd_due_mono = 0; /* a first ping now */
	}
	if (c->metrics_set != c->metrics) {
		c->metrics = c->metrics_set;
		c->metrics_due_mono = 0;
	}
	if (c->io_change) {
		c->io = c->io_set;
		c->io_change = false;
		pthread_cond_broadcast(&c->adopted);
	}
	if (c->cfg_set) {
		struct policy_limits lim;
		/* only the limits a reload may change (config_live) */
		limits_from(c->cfg_set, &lim);
		c->pol.lim.max_queued_total = lim.max_queued_total;
		c->pol.lim.retry_base_ms = lim.retry_base_ms;
		c->pol.lim.retry_max_ms = lim.retry_max_ms;
		c->pol.lim.max_lost_leases = lim.max_lost_leases;
		c->pol.lim.estimate_hours = lim.estimate_hours;
		c->cfg = c->cfg_set;
		c->cfg_set = NULL;
		c->disk.next_check_mono = 0; /* the floor may have moved */
		pthread_cond_broadcast(&c->adopted);
	}
}

/* Takes the inbox (under c->lock). */
static struct event *grab_inbox(struct sched *c, bool *stopping)
{
	struct event *list = c->inbox_head;

	c->inbox_head = c->inbox_tail = NULL;
	*stopping = c->stopping;
	pthread_mutex_unlock(&c->lock);
	return list;
}

/* One poll of the wake-up eventfd and the I/O source's descriptors, for
 * at most timeout_us (-1: no limit; 0: only a look). */
static void poll_io(struct sched *c, int64_t timeout_us)
{
	int64_t now = time_mono_ms(), deadline = INT64_MAX;
	size_t n = 0;
	struct timespec ts, *tsp = NULL;

	c->pfd = xgrow(c->pfd, &c->pfd_alloc, 1, sizeof(*c->pfd));
	c->pfd[n++] = (struct pollfd){ c->wakefd, POLLIN, 0 };
	if (c->io)
		n = c->io->fill(c->io->ctx, &c->pfd, &c->pfd_alloc, n, now,
				&deadline);
	if (deadline != INT64_MAX) {
		int64_t d = (deadline - now) * 1000;
		if (timeout_us < 0 || d < timeout_us)
			timeout_us = d < 0 ? 0 : d;
	}
	if (timeout_us >= 0) {
		ts.tv_sec = timeout_us / 1000000;
		ts.tv_nsec = (timeout_us % 1000000) * 1000;
		tsp = &ts;
	}
	if (ppoll(c->pfd, n, tsp, NULL) == -1)
		for (size_t i = 0; i < n; i++) /* EINTR: nothing happened */
			c->pfd[i].revents = 0;
	if (c->pfd[0].revents) {
		uint64_t cnt;
		(void)!read(c->wakefd, &cnt, sizeof(cnt));
	}
	if (c->io)
		c->io->handle(c->io->ctx, c->pfd + 1, n - 1, time_mono_ms());
}

/* Waits for events or the next wake-up (not at all with nowait); returns
 * the list. The I/O source is served each time, a look only when there is
 * work already, so that a busy core still reads new requests. */
static struct event *take_inbox(struct sched *c, bool nowait, bool *stopping)
{
	bool looked = false; /* the sockets were just polled */

	for (;;) {
		int64_t wake_us, wait;

		pthread_mutex_lock(&c->lock);
		adopt_hooks(c);
		if (nowait || c->inbox_head || c->stopping) {
			pthread_mutex_unlock(&c->lock);
			if (c->io && !looked)
				poll_io(c, 0);
			pthread_mutex_lock(&c->lock);
			return grab_inbox(c, stopping);
		}
		wake_us = next_wake_us(c);
		pthread_mutex_unlock(&c->lock);
		wait = wake_us == INT64_MAX ? -1 : wake_us - time_mono_us();
		if (wake_us != INT64_MAX && wait <= 0) {
			pthread_mutex_lock(&c->lock);
			return grab_inbox(c, stopping);
		}
		poll_io(c, wait);
		looked = true;
		if (wake_us != INT64_MAX && time_mono_us() >= wake_us) {
			pthread_mutex_lock(&c->lock);
			return grab_inbox(c, stopping);
		}
	}
}

static void put_run(void *ctx, struct run *r)
{
	struct sched *c = ctx;
	records_put_run_by(c->batch, c->store, r,
			   state_creator_name(c->st, r->creator));
}

static void put_usage_day(void *ctx, const struct usage_day *d)
{
	struct sched *c = ctx;
	records_put_usage_day(c->batch, c->store, d);
}

static void put_cost_event(void *ctx, const struct cost_event *ev)
{
	struct sched *c = ctx;
	records_put_cost_event(c->batch, c->store, ev);
	audit_budget(c, ev);
	webhook_core_cost_event(c, ev);
}

static void run_ended(void *ctx, struct run *r)
{
	webhook_core_run_ended(ctx, r);
}

/* What the policy changed besides its commands' own writes: runs, usage
 * roll-ups and cost events, and the webhook deliveries runs' ends and
 * cost events cause, into this turn's batch. */
static void take_changes(struct sched *c)
{
	policy_take_ended(&c->pol, run_ended, c);
	policy_take_dirty(&c->pol, put_run, c);
	usage_take_dirty(&c->st->usage, put_usage_day, c);
	budget_take_events(&c->pol, put_cost_event, c);
}

/* Writes the turn's batch, synced, then sends its replies. A failed write
 * (disk full, I/O error) acknowledges nothing: the replies are refusals,
 * and the writes wait for the store to come back (diskguard.h). */
static void commit_and_reply(struct sched *c)
{
	take_changes(c);
	diskguard_commit(c);
	webhook_core_committed(c);
	c->commit_due_us = 0;
	for (size_t i = 0; i < c->done.n; i++) {
		struct event *ev = c->done.v[i];
		ev->done(ev);
	}
	c->done.n = 0;
}

/* Whether this turn's commit may be left to a later turn: nothing waits
 * for it but acknowledgements of agents' reports, or nothing at all (a
 * request parked for work, a lease expiring), for less than
 * agent_ack_delay_us so far, and each reporting agent's environment has
 * another agent waiting for work (an agent asks one thing at a time, so
 * one waiting for its acknowledgement takes no work). A start arriving
 * meanwhile then carries those writes in its own synced write instead of
 * queueing behind theirs: at 1,000 starts/s, half the syncs. Nothing is
 * answered before it is synced either way. */
static bool commit_may_wait(struct sched *c, bool stopping)
{
	int64_t now;

	if (stopping || !c->cfg->agent_ack_delay_us || diskguard_down(c))
		return false;
	take_changes(c);
	if (!c->done.n && !store_batch_count(c->batch))
		return false; /* nothing to write or to answer */
	for (size_t i = 0; i < c->done.n; i++) {
		const struct event *ev = c->done.v[i];
		const struct agent *ag;
		const struct env *e;
		if (!ev->ack_may_wait ||
		    !(ag = state_agent(c->st, ev->msg.agent)) ||
		    !(e = state_env(c->st, ag->env)) || !e->n_polling)
			return false;
	}
	now = time_mono_us();
	if (!c->commit_due_us)
		c->commit_due_us = now + c->cfg->agent_ack_delay_us;
	return now < c->commit_due_us;
}

static void exec_event(struct sched *c, struct event *ev)
{
	if (ev->kind == EV_WORKER) { /* the end of a worker's job */
		worker_finish(c, ev, false);
		return;
	}
	if (ev->kind == EV_WEBHOOK) { /* a delivery attempt's outcome */
		webhook_core_result(c, ev, false);
		return;
	}
	if (ev->kind == EV_HANGUP) {
		agent_work_hangup(c, ev->pipe);
		event_free(ev);
		return;
	}
	c->events++;
	if (!diskguard_refuse(c, ev)) {
		if (ev->kind == EV_ADMIN)
			admin_cmds_exec(c, ev);
		else
			agent_msgs_exec(c, ev);
	}
	atomic_store(&c->pub_event_turn, c->turns + 1);
	atomic_store(&c->pub_events, c->events);
}

/* The tenant an event works for, and its weight: the class it is queued
 * in when the core is behind. Commands about no tenant in particular
 * (help, lists, enrollment) share a system class. */
static const char *event_class(struct sched *c, struct event *ev,
			       uint32_t *weight)
{
	const struct tenant *t = NULL;
	const struct agent *ag = NULL;
	const struct run *r = NULL;
	char name[NAME_MAX_LEN];

	if (ev->kind == EV_AGENT) {
		if (ev->msg_open)
			ag = state_agent(c->st, ev->msg.agent);
	} else if (ev->cmd.argc >= 3) {
		const char *noun = ev->cmd.argv[0], *arg = ev->cmd.argv[2];
		size_t len = strcspn(arg, "/");
		if (!strcmp(noun, "run") && arg[0] >= '0' && arg[0] <= '9')
			r = state_run(c->st, strtoull(arg, NULL, 10));
		else if (!strcmp(noun, "agent") && !arg[len])
			ag = state_agent(c->st, arg);
		else if (len < sizeof(name) && (arg[len] || !strcmp(noun, "tenant"))) {
			memcpy(name, arg, len);
			name[len] = '\0';
			t = state_tenant(c->st, name);
		}
	}
	if (r)
		t = r->job->tenantp;
	if (ag) {
		const struct env *e = state_env(c->st, ag->env);
		t = e ? e->tenantp : NULL;
	}
	*weight = t ? t->weight : SYSTEM_CLASS_WEIGHT;
	return t ? t->name : "";
}

/* Applies this turn's events: in arrival order while the core keeps up;
 * when more are pending than one turn applies, by weighted fair queueing
 * across tenants (and everything queues behind what already waits). */
static void apply_events(struct sched *c, struct event *list)
{
	size_t n = 0, max = (size_t)c->cfg->turn_max_events;
	struct event *ev;

	for (ev = list; ev && n <= max; ev = ev->next)
		n++;
	if (!c->fq.total && n <= max) {
		while ((ev = list)) {
			list = ev->next;
			exec_event(c, ev);
		}
		return;
	}
	while ((ev = list)) {
		uint32_t weight;
		const char *cls = event_class(c, ev, &weight);
		list = ev->next;
		fairq_push(&c->fq, cls, weight, ev);
	}
	for (n = 0; n < max && (ev = fairq_pop(&c->fq)); n++)
		exec_event(c, ev);
}

/* After the turn's events: timers, the retention pass, parked requests
 * that now have work. */
static void work_by_clock(struct sched *c, bool stopping)
{
	policy_tick(&c->pol);
	retention_turn(c);
	agent_msgs_serve_parked(c, stopping);
	audit_tick(c);
	webhook_core_tick(c);
	schedule_core_tick(c);
}

static void *core_main(void *arg)
{
	struct sched *c = arg;
	bool stopping = false;

	on_core_thread = true;
	while (!stopping) {
		struct event *list = take_inbox(c, c->fq.total > 0, &stopping);
		int64_t t0 = time_mono_us();
		log_hold(); /* the turn's lines go out after its replies */
		c->now_ms = time_now_ms();
		c->now_mono = time_mono_ms();
		policy_set_clock(&c->pol, c->now_ms, c->now_mono);
		diskguard_tick(c);
		/* While the store is down the state changes by no clock: it is
		 * the store plus the writes that wait. */
		if (!diskguard_down(c))
			policy_tick(&c->pol);
		apply_events(c, list);
		if (!diskguard_down(c))
			work_by_clock(c, stopping);
		if (!commit_may_wait(c, stopping))
			commit_and_reply(c);
		/* the replies go out before the batch goes to RocksDB: it is
		 * durable already (the commit log), and the client's next
		 * request arrives meanwhile; the store holds small batches
		 * and applies many at once (store_held.c) */
		if (c->io)
			c->io->flush(c->io->ctx);
		/* the turn's lines (an admin command's): a few dozen turns'
		 * at a time, within 100 ms (next_wake_us) */
		log_release_batched(c->now_mono);
		audit_settle(c);
		diskguard_apply(c);
		c->turns++;
		atomic_store(&c->pub_turns, c->turns);
		lathist_add(&c->turn_us, (uint64_t)(time_mono_us() - t0));
		if (c->metrics && c->now_mono >= c->metrics_due_mono) {
			strbuf_reset(&c->metrics_buf);
			metrics_render(c, &c->metrics_buf);
			metrics_publish(c->metrics, &c->metrics_buf);
			c->metrics_due_mono = c->now_mono + METRICS_EVERY_MS;
		}
		if (c->wd_every_ms && c->now_mono >= c->wd_due_mono) {
			c->wd_ping();
			c->wd_due_mono = c->now_mono + c->wd_every_ms;
		}
	}
	log_hold_end();
	pthread_mutex_lock(&c->lock);
	c->exited = true; /* core_set_io waits for nothing from now on */
	pthread_cond_broadcast(&c->adopted);
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static bool load_paused(struct store *s)
{
	char *val = NULL, err[256];
	size_t len = 0;
	bool paused = store_get(s, CF_META, META_DISPATCH_PAUSED,
				strlen(META_DISPATCH_PAUSED), &val, &len, err,
				sizeof(err)) == 1 &&
		      len == 1 && val[0] == '1';
	free(val);
	if (paused)
		log_warn("dispatch is paused (spctl dispatch resume)");
	return paused;
}

/* The policy's view of the version a run started with. */
static const struct job *run_job_version(void *ctx, const struct run *r)
{
	return jobvers_get(ctx, r->job, r->job_version);
}

/* Whether the store has line logs of format 2 (`logs`, keyed by run id):
 * the retention pass drops them only then. */
static bool has_line_logs(struct store *s)
{
	uint8_t key[16];
	size_t klen = 0;
	return store_last_key(s, CF_LOGS, key, sizeof(key), &klen) != 0;
}

struct sched *core_start(struct store *s, struct sched_state *st,
			 const struct sched_config *cfg, struct keyreg *keys)
{
	struct sched *c = xcalloc(1, sizeof(*c));
	struct policy_limits lim;
	char err[256];

	limits_from(cfg, &lim);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->adopted, NULL);
	c->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->wakefd == -1)
		die("cannot make the core's eventfd: %s", strerror(errno));
	c->store = s;
	c->st = st;
	c->cfg = cfg;
	c->keys = keys;
	/* The first retention pass soon after a start, so that a scheduler
	 * restarted more often than the interval still drops old data. */
	c->retention_due_mono = time_mono_ms() +
		1000 * (cfg->retention_interval_s < 60 ? cfg->retention_interval_s
							: 60);
	c->retention_due_ms = time_now_ms() +
		(c->retention_due_mono - time_mono_ms());
	c->ret_logs = has_line_logs(s);
	c->batch = store_batch_new();
	strbuf_init(&c->metrics_buf, 0);
	fairq_init(&c->fq);
	if (audit_open(c, err, sizeof(err))) {
		log_error("%s", err);
		store_batch_free(c->batch);
		free(c);
		return NULL;
	}
	policy_init(&c->pol, st, &lim, time_now_ms(), time_mono_ms());
	c->pol.paused = load_paused(s);
	c->pol.run_job = run_job_version;
	c->pol.run_job_ctx = c;
	c->pol.track_ended = true; /* webhooks */
	if (webhook_core_open(c, err, sizeof(err)) ||
	    schedule_core_open(c, err, sizeof(err))) {
		log_error("%s", err);
		webhook_core_close(c);
		audit_close(c);
		policy_release(&c->pol);
		store_batch_free(c->batch);
		free(c);
		return NULL;
	}
	/* Runs requeued at load (their agent is gone), and roll-ups rebuilt
	 * from an older store, are written now. */
	take_changes(c);
	if (store_batch_count(c->batch) &&
	    store_write(s, c->batch, true, err, sizeof(err))) {
		log_error("store write failed: %s", err);
		schedule_core_close(c);
		webhook_core_close(c);
		audit_close(c);
		policy_release(&c->pol);
		store_batch_free(c->batch);
		free(c);
		return NULL;
	}
	store_batch_clear(c->batch);
	for (size_t i = 0; i < st->agents.n; i++)
		keyrot_publish(keys, st->agents.v[i], time_now_ms());
	backup_note_existing(c); /* before the thread: nothing else runs */
	if (pthread_create(&c->thread, NULL, core_main, c)) {
		schedule_core_close(c);
		webhook_core_close(c);
		audit_close(c);
		policy_release(&c->pol);
		store_batch_free(c->batch);
		free(c);
		return NULL;
	}
	return c;
}

void core_progress(struct sched *c, struct core_progress *p)
{
	p->events = atomic_load(&c->pub_events);
	p->event_turn = atomic_load(&c->pub_event_turn);
	p->turns = atomic_load(&c->pub_turns);
}

void core_watchdog(struct sched *c, int64_t every_ms, void (*ping)(void))
{
	pthread_mutex_lock(&c->lock);
	c->wd_every_set = ping ? every_ms : 0;
	c->wd_ping_set = ping;
	core_wake(c);
	pthread_mutex_unlock(&c->lock);
}

void core_reconfigure(struct sched *c, const struct sched_config *cfg)
{
	pthread_mutex_lock(&c->lock);
	c->cfg_set = cfg;
	core_wake(c);
	while (c->cfg_set)
		pthread_cond_wait(&c->adopted, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

void core_set_io(struct sched *c, const struct core_io *io)
{
	pthread_mutex_lock(&c->lock);
	c->io_set = io;
	c->io_change = true;
	core_wake(c);
	while (c->io_change && !c->exited)
		pthread_cond_wait(&c->adopted, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

void core_metrics(struct sched *c, struct metrics *m)
{
	pthread_mutex_lock(&c->lock);
	c->metrics_set = m;
	core_wake(c);
	pthread_mutex_unlock(&c->lock);
}

void core_stop(struct sched *c)
{
	struct event *ev;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	core_wake(c);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	/* Its last outcomes wait in the inbox, unapplied: those deliveries
	 * are sent again after the next start (at least once). */
	webhook_core_stop_sender(c);
	/* A worker still running posts its end to the inbox: its command is
	 * answered with its result below. The store stays open until then. */
	worker_join_all(c);
	/* Anything not applied by the last turn is answered as refused. */
	while ((ev = fairq_pop(&c->fq))) {
		ev->next = c->inbox_head;
		c->inbox_head = ev;
	}
	while ((ev = c->inbox_head)) {
		c->inbox_head = ev->next;
		if (ev->kind == EV_WORKER) {
			worker_finish(c, ev, true);
			continue;
		}
		if (ev->kind == EV_WEBHOOK) {
			webhook_core_result(c, ev, true);
			continue;
		}
		if (ev->kind == EV_HANGUP) {
			event_free(ev);
			continue;
		}
		strbuf_reset(&ev->reply);
		if (ev->kind == EV_ADMIN)
			admin_cmds_refuse(ev, "shutting_down",
					  "the scheduler is shutting down");
		else
			agent_msgs_refuse(ev, "shutting_down");
		ev->done(ev);
	}
	for (size_t i = 0; i < c->done.n; i++) { /* the workers' commands */
		ev = c->done.v[i];
		ev->done(ev);
	}
	c->done.n = 0;
	ptrvec_release(&c->workers);
	diskguard_stop(c);
	schedule_core_close(c);
	webhook_core_close(c);
	audit_close(c);
	runstore_release(c);
	store_batch_free(c->batch);
	policy_release(&c->pol);
	fairq_release(&c->fq);
	parked_release(&c->parked);
	free(c->done.v);
	strbuf_release(&c->metrics_buf);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->adopted);
	close(c->wakefd);
	free(c->pfd);
	free(c);
}
