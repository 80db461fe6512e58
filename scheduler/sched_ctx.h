/*
 * sched_ctx.h - what the core thread's handlers see: the state, the store, the
 * current turn's write batch and clock, and the events parked for a long
 * poll. Only the core thread touches a struct sched.
 */
#ifndef SP_SCHED_CTX_H
#define SP_SCHED_CTX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "diskguard.h"
#include "fairq.h"
#include "core.h"
#include "keyreg.h"
#include "lathist.h"
#include "parked.h"
#include "policy.h"
#include "state.h"
#include "store.h"

struct sched {
	/* shared with posting threads, under lock */
	pthread_mutex_t lock;
	int wakefd;                /* an eventfd: wakes the core's poll */
	struct event *inbox_head, *inbox_tail;
	bool stopping;
	bool exited;               /* the core thread has returned */
	pthread_t thread;
	/* core_set_io: the source set, taken up in take_inbox, which then
	 * signals `adopted` */
	const struct core_io *io_set;
	bool io_change;

	/* core thread only */
	const struct core_io *io;  /* served between turns, or NULL */
	struct pollfd *pfd;        /* the poll set, io's included */
	size_t pfd_alloc;
	struct store *store;
	struct sched_state *st;
	struct policy pol;         /* the pure scheduling core over st */
	struct fairq fq;           /* events waiting when a turn is full */
	const struct sched_config *cfg;
	struct store_batch *batch; /* this turn's writes */
	int64_t now_ms;            /* wall clock at the start of the turn */
	int64_t now_mono;
	struct parked parked;      /* lease requests waiting for work */
	struct ptrvec done;        /* events to complete after the commit */
	int64_t commit_due_us;     /* a waiting commit's latest time, or 0 */
	struct keyreg *keys;       /* agent public keys for the transport */
	uint64_t turns, commits, events;
	/* published for other threads (core_progress): events applied, the
	 * turn that applied the last one, turns finished */
	_Atomic uint64_t pub_events, pub_event_turn, pub_turns;
	/* writes committed (c->commits), for a worker that must wait for
	 * its command's turn to be on disk (cmd_tenant_delete.c) */
	_Atomic uint64_t pub_commits;
	struct lathist sync_us;    /* each turn's synced store write */
	struct diskguard disk;     /* free-space floor, failed writes */
	uint64_t rejected_malformed; /* messages from no known agent */
	/* retention of ended runs (retention.h): the next pass, or now
	 * while one is under way from ret_cursor (the next run id; 0: no
	 * pass under way) */
	int64_t retention_due_mono;
	int64_t retention_due_ms;  /* the same moment on the wall clock, as
				    * tenant show prints it (computed once:
				    * wall and monotonic clocks are read
				    * apart, so a difference would jitter) */
	uint64_t ret_cursor;
	bool ret_logs;             /* the store has format-2 line logs */
	uint64_t ret_logs_from, ret_logs_to; /* their open range */
	uint64_t ret_pass_removed; /* runs the pass under way removed */
	bool ret_again;            /* another pass at once after this one:
				    * a tenant's figures wait for it */
	uint64_t ret_removed;      /* runs removed since the start */
	int64_t ret_last_pass_ms;  /* when the last pass ended; 0 none */
	/* ended runs kept only in the store (runstore.h) */
	struct runstore *runstore; /* its decoding scratch, or NULL */
	uint64_t runs_paged_out;   /* runs that left memory since the start */
	uint64_t runs_read_back;   /* and were read back into it */
	/* the service manager's watchdog (core_watchdog): set under lock,
	 * copied by the core in take_inbox */
	int64_t wd_every_set;
	void (*wd_ping_set)(void);
	int64_t wd_every_ms;       /* 0: none */
	void (*wd_ping)(void);
	int64_t wd_due_mono;
	/* /metrics (core_metrics): set under lock, copied in take_inbox;
	 * the core renders into metrics_buf every METRICS_EVERY_MS */
	struct metrics *metrics_set, *metrics;
	int64_t metrics_due_mono;
	struct strbuf metrics_buf;
	/* a reload's settings (core_reconfigure): set under lock, taken
	 * up in take_inbox, which then signals `adopted` */
	const struct sched_config *cfg_set;
	pthread_cond_t adopted;
	struct ptrvec workers;     /* worker threads running (worker.c) */
	struct backup_job *backup; /* the backup command in progress
				    * (cmd_backup.c), or NULL */
	int report_scans;          /* report env commands reading the store
				    * on a worker (cmd_report.c): at most
				    * REPORT_SCANS_MAX, one more is refused
				    * with a retry time rather than held */
	struct tdel_job *tdelete;  /* the tenant delete whose compaction
				    * runs (cmd_tenant_delete.c), or NULL */
	/* for /metrics: the newest good backup (found in backup_dir at
	 * start, then each backup create; 0: none known) and the outcomes
	 * of backup create since the start */
	int64_t backup_last_ok_ms;
	uint64_t backups_ok, backups_failed;
	struct lathist turn_us;    /* each turn, events to replies */
	struct lathist dispatch_us; /* a run's wait from queued to leased */
	struct log_limit forbidden_log; /* admin commands refused a role */
	struct audit *audit;       /* the audit log's head and key (audit.h) */
	struct webhook_core *webhooks; /* hooks and outbox (webhook_core.h) */
	struct schedule_core *schedules; /* recurring schedules
					  * (schedule_core.h) */
};

/* The meta key holding the dispatch kill switch ("1" = paused). */
#define META_DISPATCH_PAUSED "dispatch_paused"

/* At most this many `report env` commands read the store at once (a
 * worker thread each). */
#define REPORT_SCANS_MAX 4

/* The fair-queueing weight of events that name no tenant. */
#define SYSTEM_CLASS_WEIGHT 8

/* Queues ev to be completed after this turn's commit. */
void sched_complete(struct sched *c, struct event *ev);

#endif
