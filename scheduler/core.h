/*
 * core.h - the core thread (docs/architecture.md). It alone owns the scheduling
 * state and the RocksDB write path. Other threads post events; each turn
 * the core applies every pending event, writes one WriteBatch with
 * sync=true, and only then completes the turn's events (sends replies).
 */
#ifndef SP_CORE_H
#define SP_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "access.h"
#include "cmdline.h"
#include "config.h"
#include "state.h"
#include "store.h"
#include "strbuf.h"
#include "wire.h"

struct event;
/* Called on the core thread once ev's reply is durable and ready; the
 * callee owns ev from then on (and frees it with event_free). */
typedef void (*event_done_fn)(struct event *ev);

/* EV_WORKER: a worker thread's work has ended (worker.h); the core
 * finishes it (ev->work). EV_WEBHOOK: a webhook delivery attempt's
 * outcome (webhook_send.h; ev->work is its struct webhook_result).
 * EV_HANGUP: an agent connection closed (ev->pipe): a request of it
 * parked for work is let go, so that no run is leased to an agent that
 * is gone. */
enum event_kind { EV_ADMIN, EV_AGENT, EV_WORKER, EV_WEBHOOK, EV_HANGUP };

/* How the transport judged an agent message before posting it. */
enum agent_auth {
	AUTH_OK,        /* signature valid for the named agent's key */
	AUTH_ENROLL,    /* enroll: valid signature by the key in its body */
	AUTH_UNSIGNED,  /* no signature */
	AUTH_FORGED,    /* bad signature, or unknown/revoked agent */
	AUTH_MALFORMED, /* not a valid envelope */
};

struct event {
	enum event_kind kind;
	struct event *next;
	/* EV_ADMIN */
	struct cmdline cmd;
	struct access_peer peer; /* who sent it, as the kernel says */
	/* EV_AGENT: msg points into buf, which the event owns */
	void *buf;
	size_t len;
	struct wire_msg msg;
	bool msg_open;
	enum agent_auth auth;
	/* AUTH_OK by the key a rotation replaced, not the current one: the
	 * core accepts it only within the grace (keyrot.h) */
	bool key_prev;
	char auth_detail[128];
	/* a lease request parked for work (parked.h): its deadline, its
	 * place in the deadline heap and in its environment's line */
	int64_t park_until_mono;
	uint32_t pipe; /* EV_AGENT, EV_HANGUP: the transport's connection */
	size_t park_slot;
	struct event *park_prev, *park_next;
	struct agent *park_agent;
	struct env *park_env;
	/* what the transport's thread worked out ahead of the core (the
	 * checked batches of a telemetry message), and how to free it */
	void *pre;
	void (*pre_free)(void *);
	/* the reply, filled by the core */
	struct strbuf reply;
	event_done_fn done;
	/* The reply only acknowledges a report (heartbeat, progress,
	 * completion): its commit may wait a little for one that is due
	 * anyway (agent_ack_delay_us). */
	bool ack_may_wait;
	void *owner; /* the transport's connection or context */
	void *work;  /* EV_WORKER: the worker (worker.c); EV_WEBHOOK: the
		      * outcome, freed with the event */
};

/* A zeroed event with an empty reply. */
struct event *event_new(enum event_kind kind);
void event_free(struct event *ev);

struct sched; /* the core thread's state, see sched.h */

/* Starts the core thread over st (loaded) and s. Returns NULL on failure. */
struct keyreg;
/* Starts the core thread over st (loaded) and s, publishing the keys of
 * the loaded agents into keys. Returns NULL on failure. */
struct sched *core_start(struct store *s, struct sched_state *st,
			 const struct sched_config *cfg, struct keyreg *keys);
/* Hands ev to the core thread (any thread). Ownership passes to the core;
 * it comes back through ev->done. */
void core_post(struct sched *c, struct event *ev);
/* How far the core thread has got, readable from any thread: a test
 * that expects an event to change nothing waits until the turn that
 * applied it has finished (turns >= event_turn) instead of sleeping. */
struct core_progress {
	uint64_t events;     /* events applied since start */
	uint64_t event_turn; /* the turn (from 1) that applied the last one */
	uint64_t turns;      /* turns finished, commit or not */
};
void core_progress(struct sched *c, struct core_progress *p);
/* Has the core thread call ping every every_ms (0: never), from its own
 * loop, so that a core thread stuck in a turn (a disk that does not
 * answer, a bug) stops the pings and systemd's watchdog restarts the
 * process. Any thread. */
void core_watchdog(struct sched *c, int64_t every_ms, void (*ping)(void));
/* Hands the core new settings (a reload): it uses cfg from its next
 * wake-up on, and takes the policy's limits from it. Returns once the
 * core has let go of the settings it used before (the caller may free
 * them then, if they were not the ones given to core_start). Any thread
 * but the core's. */
void core_reconfigure(struct sched *c, const struct sched_config *cfg);
/* Has the core thread render its metrics into m every METRICS_EVERY_MS
 * (NULL: stop). Any thread. */
struct metrics;
void core_metrics(struct sched *c, struct metrics *m);
/* An I/O source the core thread serves itself, so that a request and its
 * reply cross no other thread (admin.c): between turns the core polls its
 * descriptors beside its own wake-up, and after each turn's commit it
 * sends what completed. All three run on the core thread. */
struct pollfd;
struct core_io {
	void *ctx;
	/* Appends its descriptors to *pfd (n in use, *alloc allocated:
	 * xgrow) and returns the new count; lowers *deadline_ms (monotonic)
	 * to its next timer. */
	size_t (*fill)(void *ctx, struct pollfd **pfd, size_t *alloc,
		       size_t n, int64_t now_ms, int64_t *deadline_ms);
	/* After each poll: the descriptors fill appended, with revents. */
	void (*handle)(void *ctx, const struct pollfd *pfd, size_t n,
		       int64_t now_ms);
	/* After each turn's replies were completed. */
	void (*flush)(void *ctx);
};
/* Has the core thread serve io (NULL: stop serving the one it has).
 * Returns once the core thread has taken the change: from then on it no
 * longer calls the old one. Any thread but the core's. */
void core_set_io(struct sched *c, const struct core_io *io);
/* Whether the caller runs on a core thread. */
bool core_on_core_thread(void);

/* Stops the thread after its current turn, then waits for the worker
 * threads (worker.h: a backup in progress) to end; pending events are
 * completed with an error reply, workers' with their result. Does not
 * free the store or the state. */
void core_stop(struct sched *c);

#endif
