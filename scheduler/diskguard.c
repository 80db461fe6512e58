/* diskguard.c - the free-space floor, and a store whose write failed. */
#include "diskguard.h"

#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "admin_cmds.h"
#include "agent_msgs.h"
#include "agent_work.h"
#include "json.h"
#include "sched_ctx.h"
#include "util.h"
#include "worker.h"

#define MB (1024 * 1024)
/* How often a store that stays down is reported in the log. */
#define REPORT_EVERY_MS 60000

uint64_t diskguard_floor(uint64_t size, int64_t mb, int64_t pct)
{
	uint64_t by_mb = mb > 0 ? (uint64_t)mb * MB : UINT64_MAX;
	uint64_t by_pct = pct > 0 ? size / 100 * (uint64_t)pct : UINT64_MAX;
	uint64_t floor = by_mb < by_pct ? by_mb : by_pct;

	return floor == UINT64_MAX ? 0 : floor;
}

static void measure(struct sched *c)
{
	struct diskguard *d = &c->disk;
	struct statvfs vfs;
	bool low;

	d->next_check_mono = c->now_mono + c->cfg->store_check_ms;
	if (statvfs(c->cfg->data_dir, &vfs) == -1)
		return; /* keep the last figures */
	d->free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	d->size_bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	d->floor_bytes = diskguard_floor(d->size_bytes,
					 c->cfg->store_min_free_mb,
					 c->cfg->store_min_free_pct);
	low = d->free_bytes < d->floor_bytes;
	if (low && !d->low) {
		d->low_since_ms = c->now_ms;
		log_warn("data dir '%s': %llu MB free, below the floor of %llu "
			 "MB: new runs are refused until space is freed",
			 c->cfg->data_dir,
			 (unsigned long long)(d->free_bytes / MB),
			 (unsigned long long)(d->floor_bytes / MB));
	} else if (!low && d->low) {
		log_info("data dir '%s': %llu MB free again (floor %llu MB): "
			 "new runs are accepted",
			 c->cfg->data_dir,
			 (unsigned long long)(d->free_bytes / MB),
			 (unsigned long long)(d->floor_bytes / MB));
	}
	d->low = low;
}

/* What is wrong with the data dir, for messages. */
static void reason(const struct sched *c, char *buf, size_t len)
{
	const struct diskguard *d = &c->disk;

	if (d->fault == STORE_FAULT_NOSPACE)
		snprintf(buf, len, "no space left on the data dir '%s'",
			 c->cfg->data_dir);
	else if (d->fault == STORE_FAULT_IO)
		snprintf(buf, len, "I/O error on the data dir '%s'",
			 c->cfg->data_dir);
	else
		snprintf(buf, len, "the store in '%s' failed: %s",
			 c->cfg->data_dir, d->error);
}

/* Replaces ev's reply with a refusal; `what` ends the admin message. */
static void refusal(struct sched *c, struct event *ev, const char *what)
{
	char why[600], msg[1024];

	if (ev->kind == EV_AGENT) {
		strbuf_reset(&ev->reply);
		agent_msgs_refuse_retry(ev, "unavailable",
					c->cfg->store_check_ms);
		return;
	}
	reason(c, why, sizeof(why));
	snprintf(msg, sizeof(msg), "store_unavailable: %s%s", why, what);
	admin_cmds_refuse_retry(ev, "unavailable", msg, c->cfg->store_check_ms);
}

/* Admin commands that only read: still answered while the store is
 * down. Anything else is refused (one not known here, too: refusing a
 * read is harmless, answering a change is not). */
static bool admin_reads(const struct cmdline *cmd)
{
	if (cmd->argc < 2 || !strcmp(cmd->argv[0], "help") ||
	    !strcmp(cmd->argv[0], "usage"))
		return true; /* a usage error at most */
	/* backups other than a new one change nothing in the store (a prune
	 * may free space on a disk the backups share with it) */
	if (!strcmp(cmd->argv[0], "backup"))
		return strcmp(cmd->argv[1], "create") != 0;
	return admin_cmds_read_verb(cmd->argv[1]);
}

bool diskguard_refuse(struct sched *c, struct event *ev)
{
	struct diskguard *d = &c->disk;
	struct agent *ag;

	if (!d->down)
		return false;
	if (ev->kind == EV_ADMIN &&
	    (ev->reply.len /* the transport's refusal */ ||
	     admin_reads(&ev->cmd)))
		return false;
	/* The agent is alive and resends: its leases must not run out
	 * because the store cannot take its reports (in memory only). */
	if (ev->kind == EV_AGENT && ev->auth == AUTH_OK &&
	    (ag = state_agent(c->st, ev->msg.agent)) &&
	    ag->state != AGENT_REVOKED)
		policy_heard(&c->pol, ag);
	refusal(c, ev, ev->kind == EV_ADMIN && d->fault == STORE_FAULT_NOSPACE
			       ? "; changes are refused until space is freed "
				 "(reads still work)"
			       : "; changes are refused until it recovers "
				 "(reads still work)");
	d->refused++;
	sched_complete(c, ev);
	return true;
}

/* This turn's replies become refusals: its writes did not reach the disk,
 * they wait in the batch. */
static void refuse_turn(struct sched *c)
{
	for (size_t i = 0; i < c->done.n; i++)
		refusal(c, c->done.v[i],
			": this change was not acknowledged; it is kept and "
			"written when the store recovers, unless the scheduler "
			"stops first");
}

static void went_down(struct sched *c, const char *err)
{
	struct diskguard *d = &c->disk;
	char why[600];

	d->down = true;
	d->fault = store_fault_of(err);
	snprintf(d->error, sizeof(d->error), "%s", err);
	d->down_since_ms = c->now_ms;
	d->down_since_mono = c->now_mono;
	d->next_retry_mono = c->now_mono + c->cfg->store_check_ms;
	d->next_report_mono = c->now_mono + REPORT_EVERY_MS;
	d->pending = store_batch_count(c->batch);
	d->failures++;
	d->next_check_mono = 0; /* the floor too: measure now */
	reason(c, why, sizeof(why));
	log_error("store unavailable: %s (%s): changes are refused and "
		  "reads answered until it takes writes again; replies of "
		  "this turn refused: %zu, writes kept in memory: %zu",
		  why, err, c->done.n, d->pending);
	refuse_turn(c);
	/* requests waiting for work: answered now, they will ask again */
	agent_work_refuse_parked(c, c->cfg->store_check_ms);
}

void diskguard_commit(struct sched *c)
{
	struct diskguard *d = &c->disk;
	size_t n = store_batch_count(c->batch);
	char err[256];
	int64_t t0;

	if (d->down) {
		/* A change got past the refusals: it waits with the rest. */
		if (n > d->pending) {
			d->pending = n;
			refuse_turn(c);
		}
		return;
	}
	if (!n)
		return;
	t0 = time_mono_us();
	if (store_log(c->store, c->batch, true, err, sizeof(err))) {
		went_down(c, err);
		return;
	}
	lathist_add(&c->sync_us, (uint64_t)(time_mono_us() - t0));
	d->apply_due = true;
}

void diskguard_apply(struct sched *c)
{
	struct diskguard *d = &c->disk;
	char err[256];

	if (!d->apply_due)
		return;
	d->apply_due = false;
	if (store_apply(c->store, c->batch, err, sizeof(err))) {
		/* Acknowledged already, and durable in the log: the store goes
		 * down as after a failed write, with the batch kept; the
		 * reopen replays the log, and the batch written again is
		 * harmless (each of its writes is idempotent). */
		went_down(c, err);
		return;
	}
	store_batch_clear(c->batch);
	c->commits++;
	atomic_store(&c->pub_commits, c->commits);
}

/* Reopens the store and writes what waited; on success writes resume. */
static void try_recover(struct sched *c)
{
	struct diskguard *d = &c->disk;
	char err[256];
	int rc;

	d->next_retry_mono = c->now_mono + c->cfg->store_check_ms;
	rc = store_reopen(c->store, err, sizeof(err));
	if (!rc && store_batch_count(c->batch))
		rc = store_write(c->store, c->batch, true, err, sizeof(err));
	if (rc) {
		if (c->now_mono >= d->next_report_mono) {
			d->next_report_mono = c->now_mono + REPORT_EVERY_MS;
			log_warn("store still unavailable after %lld s: %s",
				 (long long)(c->now_mono - d->down_since_mono) /
					 1000,
				 err);
		}
		return;
	}
	store_batch_clear(c->batch);
	c->commits++;
	atomic_store(&c->pub_commits, c->commits);
	log_info("store writable again after %lld ms: reopened, %zu waiting "
		 "writes written; changes are accepted",
		 (long long)(c->now_mono - d->down_since_mono), d->pending);
	d->down = false;
	d->pending = 0;
	d->recoveries++;
	d->next_check_mono = 0;
}

void diskguard_tick(struct sched *c)
{
	struct diskguard *d = &c->disk;

	/* A worker (a backup) may be reading through the RocksDB handle a
	 * reopen would close under it: the reopen waits for it to end. */
	if (d->down && c->now_mono >= d->next_retry_mono && !worker_count(c))
		try_recover(c);
	if (c->now_mono >= d->next_check_mono)
		measure(c);
}

bool diskguard_down(const struct sched *c)
{
	return c->disk.down;
}

int64_t diskguard_next_wake(const struct sched *c)
{
	return c->disk.down ? c->disk.next_retry_mono : INT64_MAX;
}

bool diskguard_refuse_start(struct sched *c, struct refusal *why)
{
	struct diskguard *d = &c->disk;

	if (!d->low)
		return false;
	d->starts_refused++;
	why->code = "unavailable";
	why->retry_after_ms = c->cfg->store_check_ms;
	snprintf(why->message, sizeof(why->message),
		 "store_low_space: %llu MB free on the data dir '%.128s', "
		 "below the floor of %llu MB: new runs are refused until "
		 "space is freed",
		 (unsigned long long)(d->free_bytes / MB), c->cfg->data_dir,
		 (unsigned long long)(d->floor_bytes / MB));
	return true;
}

void diskguard_write_stats(struct sched *c, struct jw *w)
{
	struct diskguard *d = &c->disk;
	struct store_memstats ms;
	char why[600];

	jw_obj_open(w, "store");
	jw_str(w, "state", d->down ? "unavailable" : d->low ? "low_space"
							     : "ok");
	if (d->down) {
		reason(c, why, sizeof(why));
		jw_str(w, "reason", why);
		jw_str(w, "error", d->error);
		jw_time(w, "since", d->down_since_ms);
		jw_uint(w, "waiting_writes", d->pending);
	} else if (d->low) {
		jw_time(w, "since", d->low_since_ms);
	}
	jw_uint(w, "free_mb", d->free_bytes / MB);
	jw_uint(w, "floor_mb", d->floor_bytes / MB);
	jw_uint(w, "write_failures", d->failures);
	jw_uint(w, "recoveries", d->recoveries);
	jw_uint(w, "refused_changes", d->refused);
	jw_uint(w, "refused_starts", d->starts_refused);
	store_memstats(c->store, &ms);
	jw_uint(w, "memtable_bytes", ms.memtable_bytes);
	jw_uint(w, "immutable_memtables", ms.immutable);
	jw_uint(w, "flushes_running", ms.flushes_running);
	jw_obj_close(w);
}

void diskguard_stop(struct sched *c)
{
	if (c->disk.down)
		log_warn("stopping with the store unavailable: %zu writes never "
			 "reached it (none was acknowledged)",
			 c->disk.pending);
}
