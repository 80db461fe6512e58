/* cmd_backup.c - admin commands for backups: create, list, verify, prune.
 *
 * Each runs on a worker thread (worker.h), since each reads or copies
 * files for as long as the store is big, and the core thread must go on
 * scheduling meanwhile; the command is answered when the worker ends.
 * One backup command at a time: another one meanwhile is refused `busy`
 * (BackupEngine's directory takes one writer, and a list or verify
 * during a backup would show it half-made). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_cmds.h"
#include "backup.h"
#include "keyring.h"
#include "log.h"
#include "parse.h"
#include "sched_ctx.h"
#include "strbuf.h"
#include "util.h"
#include "worker.h"

enum backup_op { OP_CREATE, OP_LIST, OP_VERIFY, OP_PRUNE };

static const char *const op_words[] = { "backup create", "backup list",
					"backup verify", "backup prune" };

struct backup_job {
	enum backup_op op;
	struct event *ev;    /* the command: answered by job_finish */
	struct store *store; /* create: kept open until the job ends */
	char dir[512], data_dir[512];
	uint32_t id, keep;
	int64_t started_mono;
	/* the worker's results */
	int rc;
	char err[600];
	int64_t took_ms;
	struct backup_created made;
	struct backup_info info;
	struct backup_info *list;
	size_t n, removed;
	uint64_t bytes;
	/* create into a backup dir without the keyring's copy yet: the
	 * keyring's text, written there by the worker first */
	struct strbuf keyring;
};

/* On the worker thread: the keyring's copy beside the first backup of a
 * backup dir, before the backup, so that no backup there is without it
 * (the core keeps it up to date from job_finish on). Only in a dir fit
 * for backups: backup_create refuses the others, writing nothing. */
static void write_keyring_copy(struct backup_job *j)
{
	char path[600], err[600];

	if (!j->keyring.len ||
	    backup_check_dir(j->dir, j->data_dir, err, sizeof(err)))
		return;
	snprintf(path, sizeof(path), "%s/%s", j->dir, KEYRING_FILE);
	if (mkdir_p(j->dir, 0700) ||
	    write_file_atomic(path, j->keyring.buf, j->keyring.len, 0600))
		log_warn("backup: cannot write the keyring's copy '%s': %s",
			 path, strerror(errno));
}

/* On the worker thread: no state of the core's, only the job. */
static void job_run(void *arg)
{
	struct backup_job *j = arg;
	int64_t t0 = time_mono_ms();

	switch (j->op) {
	case OP_CREATE:
		write_keyring_copy(j);
		j->rc = backup_create(j->store, j->dir, &j->made, j->err,
				      sizeof(j->err));
		break;
	case OP_LIST:
		j->rc = backup_list(j->dir, j->data_dir, &j->list, &j->n,
				    j->err, sizeof(j->err));
		break;
	case OP_VERIFY:
		j->rc = backup_verify(j->dir, j->data_dir, j->id, &j->info,
				      &j->bytes, j->err, sizeof(j->err));
		break;
	case OP_PRUNE:
		j->rc = backup_prune(j->dir, j->data_dir, j->keep, &j->removed,
				     &j->bytes, j->err, sizeof(j->err));
		break;
	}
	j->took_ms = time_mono_ms() - t0;
}

static void write_info(struct jw *w, const struct backup_info *b)
{
	jw_uint(w, "id", b->id);
	jw_time(w, "time", b->time_ms);
	jw_uint(w, "size", b->size);
	jw_uint(w, "files", b->files);
	jw_str(w, "state", b->damaged ? "damaged" : "ok");
}

/* "812 bytes", "70.1 kB", "153.2 MB", "1.25 GB" */
static void human(char *buf, size_t len, uint64_t bytes)
{
	if (bytes < 10000)
		snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
	else if (bytes < 1000000)
		snprintf(buf, len, "%.1f kB", (double)bytes / 1e3);
	else if (bytes < 1000000000)
		snprintf(buf, len, "%.1f MB", (double)bytes / 1e6);
	else
		snprintf(buf, len, "%.2f GB", (double)bytes / 1e9);
}

static void reply_create(const struct backup_job *j, struct reply *r)
{
	char size[32], added[32];

	human(size, sizeof(size), j->made.info.size);
	human(added, sizeof(added), j->made.added_bytes);
	write_info(&r->w, &j->made.info);
	jw_uint(&r->w, "added_bytes", j->made.added_bytes);
	jw_uint(&r->w, "backup_dir_bytes", j->made.dir_bytes);
	jw_int(&r->w, "duration_ms", j->took_ms);
	jw_str(&r->w, "backup_dir", j->dir);
	jw_strf_print(&r->w,
		      "backup %u: %s in %u files (%s new), taken in %lld ms "
		      "into %s",
		      j->made.info.id, size, j->made.info.files, added,
		      (long long)j->took_ms, j->dir);
}

static void reply_list(const struct backup_job *j, struct reply *r)
{
	jw_str(&r->w, "backup_dir", j->dir);
	jw_str(&r->w, "title", "backups");
	jw_arr_open(&r->w, "items");
	for (size_t i = 0; i < j->n; i++) {
		jw_obj_open(&r->w, NULL);
		write_info(&r->w, &j->list[i]);
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
}

static void reply_verify(const struct backup_job *j, struct reply *r)
{
	char read[32];

	human(read, sizeof(read), j->bytes);
	write_info(&r->w, &j->info);
	jw_uint(&r->w, "bytes_read", j->bytes);
	jw_int(&r->w, "duration_ms", j->took_ms);
	jw_strf_print(&r->w,
		      "backup %u is good: %u files, every size and checksum "
		      "as recorded (%s read in %lld ms)",
		      j->info.id, j->info.files, read, (long long)j->took_ms);
}

static void reply_prune(const struct backup_job *j, struct reply *r)
{
	char freed[32];

	human(freed, sizeof(freed), j->bytes);
	jw_uint(&r->w, "removed", j->removed);
	jw_uint(&r->w, "kept", j->keep);
	jw_uint(&r->w, "freed_bytes", j->bytes);
	jw_strf_print(&r->w, "%zu backup(s) removed, %s freed; the %u newest "
			     "kept",
		      j->removed, freed, j->keep);
}

static const char *error_code(int rc)
{
	switch (rc) {
	case BACKUP_NOT_FOUND:
		return "not_found";
	case BACKUP_DAMAGED:
		return "damaged";
	case BACKUP_IN_USE:
		return "busy";
	default:
		return "backup_failed";
	}
}

/* After a backup: the keyring's copy beside it (keyring.h) is kept by
 * the core thread from now on (each keyring change rewrites it), once
 * backup_dir is new to it (the first backup, a reload that moved it);
 * the worker wrote it before the backup, so this rewrite only catches
 * a change made meanwhile. The core never writes it before a backup: it
 * would wait on the backup disk. */
static void keep_keyring_copy(struct sched *c, const char *dir)
{
	struct keyring *kr = store_keyring(c->store);
	char err[600];

	if (kr && !keyring_has_copy(kr, dir) &&
	    keyring_set_copy(kr, dir, err, sizeof(err)))
		log_warn("backup: no copy of the keyring beside the backups: "
			 "%s", err);
}

/* On the core thread, once the worker has ended: the reply. */
static void job_finish(struct sched *c, void *arg, bool stopping)
{
	struct backup_job *j = arg;
	struct reply r;

	(void)stopping; /* the result is whole either way: send it */
	c->backup = NULL;
	admin_cmds_reply_open(j->ev, &r);
	if (j->op == OP_CREATE && j->rc)
		c->backups_failed++;
	if (j->rc) {
		cmd_fail(&r, error_code(j->rc), "%s", j->err);
		log_warn("%s: %s", op_words[j->op], j->err);
	} else if (j->op == OP_CREATE) {
		c->backups_ok++;
		c->backup_last_ok_ms = c->now_ms;
		keep_keyring_copy(c, j->dir);
		reply_create(j, &r);
		log_info("backup %u taken in %lld ms: %llu bytes in %u files, "
			 "%llu new, into %s",
			 j->made.info.id, (long long)j->took_ms,
			 (unsigned long long)j->made.info.size,
			 j->made.info.files,
			 (unsigned long long)j->made.added_bytes, j->dir);
	} else if (j->op == OP_LIST) {
		reply_list(j, &r);
	} else if (j->op == OP_VERIFY) {
		reply_verify(j, &r);
	} else {
		reply_prune(j, &r);
		log_info("backup prune: %zu removed, %u kept", j->removed,
			 j->keep);
	}
	admin_cmds_reply_close(c, j->ev, &r);
	free(j->list);
	strbuf_release(&j->keyring);
	free(j);
}

/* Checks what a job needs from the core, then starts it on a worker; the
 * command is answered when it ends. */
static int start_job(struct sched *c, struct backup_job *j, struct reply *r)
{
	if (!c->cfg->backup_dir[0]) {
		free(j);
		return cmd_fail(r, "not_configured",
				"backups are not configured: set backup_dir in "
				"the scheduler's config file, then reload it "
				"(systemctl reload sparkpilot-scheduler)");
	}
	if (c->backup) {
		free(j);
		return cmd_fail(r, "busy",
				"%s is in progress (for %lld s): one backup "
				"command at a time; try again when it ends",
				op_words[c->backup->op],
				(long long)(time_mono_ms() -
					    c->backup->started_mono) / 1000);
	}
	if (j->op == OP_CREATE && !store_is_open(c->store)) {
		free(j);
		return cmd_fail(r, "unavailable", "the store is closed");
	}

	snprintf(j->dir, sizeof(j->dir), "%s", c->cfg->backup_dir);
	snprintf(j->data_dir, sizeof(j->data_dir), "%s", c->cfg->data_dir);
	if (j->op == OP_CREATE && store_keyring(c->store) &&
	    !keyring_has_copy(store_keyring(c->store), j->dir))
		keyring_format(store_keyring(c->store), &j->keyring);
	j->store = c->store;
	j->started_mono = time_mono_ms();
	if (worker_start(c, job_run, job_finish, j)) {
		strbuf_release(&j->keyring);
		free(j);
		return cmd_fail(r, "internal",
				"cannot start a thread for the backup");
	}
	/* the worker does not touch j->ev: set after it started */
	j->ev = cmd_defer(r);
	c->backup = j;
	return 0;
}

static struct backup_job *job_new(enum backup_op op)
{
	struct backup_job *j = xcalloc(1, sizeof(*j));
	j->op = op;
	strbuf_init(&j->keyring, 0);
	return j;
}

int cmd_backup_create(struct sched *c, const struct cmd_args *a,
		      struct reply *r)
{
	(void)a;
	return start_job(c, job_new(OP_CREATE), r);
}

int cmd_backup_list(struct sched *c, const struct cmd_args *a,
		    struct reply *r)
{
	(void)a;
	return start_job(c, job_new(OP_LIST), r);
}

int cmd_backup_verify(struct sched *c, const struct cmd_args *a,
		      struct reply *r)
{
	struct backup_job *j;
	uint64_t id;
	char err[128];

	if (parse_u64(a->pos[0], 1, UINT32_MAX, &id, err, sizeof(err)))
		return cmd_fail(r, "invalid", "backup id: %s", err);
	j = job_new(OP_VERIFY);
	j->id = (uint32_t)id;
	return start_job(c, j, r);
}

int cmd_backup_prune(struct sched *c, const struct cmd_args *a,
		     struct reply *r)
{
	struct backup_job *j;

	if (!arg_set(a, "--keep"))
		return cmd_fail(r, "usage", "missing --keep N; usage: backup "
				"prune --keep N");
	j = job_new(OP_PRUNE);
	j->keep = (uint32_t)arg_num(a, "--keep", 1);
	return start_job(c, j, r);
}

void backup_note_existing(struct sched *c)
{
	struct backup_info *list = NULL;
	size_t n = 0;
	char err[256];

	if (!c->cfg->backup_dir[0] ||
	    backup_list(c->cfg->backup_dir, c->cfg->data_dir, &list, &n, err,
			sizeof(err)))
		return; /* unknown: the metric says 0 until a backup */
	for (size_t i = 0; i < n; i++)
		if (!list[i].damaged && list[i].time_ms > c->backup_last_ok_ms)
			c->backup_last_ok_ms = list[i].time_ms;
	free(list);
}
