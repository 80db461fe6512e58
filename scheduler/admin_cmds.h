/*
 * admin_cmds.h - the admin command table (docs/operator-guide.md) and its dispatcher,
 * run on the core thread. One command per event; the reply is one JSON
 * object: {"ok":true,...} or {"ok":false,"error":CODE,"message":TEXT}.
 */
#ifndef SP_ADMIN_CMDS_H
#define SP_ADMIN_CMDS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "access.h"
#include "core.h"
#include "json.h"

struct sched;

/* Parses and runs ev->cmd, writes ev->reply and completes ev. ev->cmd is
 * only read: its words stay where they are, owned by ev. */
void admin_cmds_exec(struct sched *c, struct event *ev);
/* Whether a command's last word ("list", "show", ...) names one that
 * only reads: not logged, not audited, answered while the store is
 * down. */
bool admin_cmds_read_verb(const char *verb);
/* Writes an error reply into ev->reply (no newline). */
void admin_cmds_refuse(struct event *ev, const char *code, const char *msg);
/* The same with retry_after_ms (left out when not positive): the client
 * may try again after that long. */
void admin_cmds_refuse_retry(struct event *ev, const char *code,
			     const char *msg, int64_t retry_after_ms);

/* ---- for the command handlers (cmd_*.c) ---- */

enum flag_type {
	FT_UINT,  /* non-negative integer within [min, max] */
	FT_INT,   /* signed integer within [min, max] */
	FT_USD,   /* decimal dollars -> micro-USD */
	FT_GB,    /* decimal GB -> MB */
	FT_STR,   /* any string */
	FT_BOOL,  /* present or not, takes no value */
	FT_LIMIT, /* like FT_UINT, or "unlimited" (read as 0) */
	FT_PCT,   /* percentage with 2 decimals -> basis points */
	FT_ONOFF, /* "on" or "off" -> 1 or 0 */
	FT_MULTI, /* a string that may be given several times (arg_multi) */
};

struct flag_spec {
	const char *name; /* "--weight" */
	enum flag_type type;
	int64_t min, max;
};

#define CMD_MAX_FLAGS 16
#define CMD_MAX_POS 4
#define CMD_MAX_MULTI 64 /* values of FT_MULTI flags, all together */

/* The words of one command, parsed. Borrows every string from the command
 * line it was parsed from (which owns them and outlives it). */
struct cmd_args {
	int npos;
	char *pos[CMD_MAX_POS]; /* positional words after the command words */
	int nrest;
	char *const *rest;     /* words after "--": a slice of the line */
	bool has_rest;
	const struct flag_spec *specs;
	bool set[CMD_MAX_FLAGS];
	const char *raw[CMD_MAX_FLAGS];
	int64_t num[CMD_MAX_FLAGS];
	int nmulti;            /* FT_MULTI values, in the order given */
	int multi_flag[CMD_MAX_MULTI];
	const char *multi[CMD_MAX_MULTI];
	const struct access *acc; /* the caller's roles (access.h) */
};

/* The reply under construction: handlers add members to w; on failure
 * they call cmd_fail, and whatever they wrote is discarded. */
struct reply {
	struct jw w;
	bool failed;
	char code[32];
	char msg[512];
	int64_t retry_after_ms; /* > 0: added to the error reply */
	struct event *ev;       /* the command's event (cmd_defer) */
	bool deferred;
};

/* Records an error reply; returns -1 so handlers can `return cmd_fail()`. */
int cmd_fail(struct reply *r, const char *code, const char *fmt, ...)
	SP_PRINTF(3, 4);
/* For a handler whose reply comes later, once work on a worker thread
 * has ended (worker.h; cmd_backup.c): takes the command's event out of
 * this turn and returns it. The caller owns it from then on, answers it
 * from a later turn with admin_cmds_reply_open and _close, and must not
 * fail r after this. Replies on one admin connection still go out in
 * the order of its lines (admin.c holds the later ones back). */
struct event *cmd_defer(struct reply *r);
/* Starts the reply of a deferred command in ev: r as a handler gets it,
 * {"ok":true so far. */
void admin_cmds_reply_open(struct event *ev, struct reply *r);
/* Ends it: the members written, or the error cmd_fail recorded; ev is
 * completed after this turn's commit. Core thread. */
void admin_cmds_reply_close(struct sched *c, struct event *ev,
			    struct reply *r);
struct refusal;
/* cmd_fail for a policy refusal, with its retry_after_ms. */
int cmd_refuse(struct reply *r, const struct refusal *why);
bool arg_set(const struct cmd_args *a, const char *flag);
/* The parsed number of flag, or def when absent. */
int64_t arg_num(const struct cmd_args *a, const char *flag, int64_t def);
struct run;
/* The run a command's RUN word names, or NULL after cmd_fail (a bad id,
 * no such run). */
struct run *cmd_run_arg(struct sched *c, const char *arg, struct reply *r);
/* The values of FT_MULTI flag, in order, up to max into out; returns
 * how many were given. */
int arg_multi(const struct cmd_args *a, const char *flag, const char **out,
	      int max);
/* The raw value of flag, or def when absent. */
const char *arg_str(const struct cmd_args *a, const char *flag,
		    const char *def);

typedef int (*cmd_fn)(struct sched *c, const struct cmd_args *a,
		      struct reply *r);

/* What a command is about, for the role it needs there (cmd_access.c). */
enum cmd_scope {
	SCOPE_GLOBAL, /* no tenant: the caller's global role counts */
	SCOPE_TENANT, /* its first word is TENANT, TENANT/ENV or .../JOB */
	SCOPE_RUN,    /* its first word is a run id */
	SCOPE_AGENT,  /* its first word is an agent id */
	SCOPE_WEBHOOK, /* its first word is a webhook id (its tenant's) */
	SCOPE_SCHEDULE, /* its first word is a schedule id (its tenant's) */
	SCOPE_LIST,   /* lists and totals: shows what the caller sees */
	SCOPE_ANY,    /* anyone (help) */
};

struct command {
	const char *words;   /* "tenant add" */
	const char *args;    /* "NAME [--weight N] ..." for help and usage */
	const char *summary; /* one line for help */
	int min_pos, max_pos; /* max_pos <= CMD_MAX_POS */
	const struct flag_spec *flags; /* terminated by a NULL name */
	bool rest;           /* takes "-- ARGS..." */
	cmd_fn fn;
	bool kv;             /* also takes its flags as KEY=VALUE words */
	/* the least role it needs (0, the default, is admin) and where */
	enum role role;
	enum cmd_scope scope;
	bool rest_optional;  /* "-- ARGS..." may be left out (if "--" is
			      * given, one or more) */
};

/* Whether the caller may run cmd with a (its role where the command is
 * about, against cmd->role). 0, or -1 with the refusal in r: forbidden,
 * or not_found for what the caller may not see at all. */
int cmd_authorize(struct sched *c, const struct command *cmd,
		  const struct cmd_args *a, struct reply *r);
/* For handlers of lists and totals: whether the caller sees tenant, or
 * every tenant (then fleet-wide figures are shown). */
bool cmd_sees(const struct cmd_args *a, const char *tenant);
bool cmd_sees_all(const struct cmd_args *a);
/* The caller as the audit log names it ("uid:1201"), into buf. */
const char *cmd_actor(const struct cmd_args *a, char *buf, size_t len);

/* The command table, *n entries, for help, completion and the tests that
 * walk every command; static, never freed. */
const struct command *admin_cmds_table(size_t *n);
/* `help`: every command of the table with its arguments and role. */
int cmd_help(struct sched *c, const struct cmd_args *a, struct reply *r);

/* Writes an ISO-8601 timestamp member, or null for 0. */
void jw_time(struct jw *w, const char *key, int64_t ms);
/* Writes micro-USD as a decimal-dollar string member ("12.50"). */
void jw_usd(struct jw *w, const char *key, int64_t micro);
/* Writes a ratio n/d with 4 decimals as a string member ("1.2500"). */
void jw_hours(struct jw *w, const char *key, int64_t unit_ms);

/* Writes the "print" member (what spctl shows without --json). */
void jw_strf_print(struct jw *w, const char *fmt, ...) SP_PRINTF(2, 3);

/* Handlers, by noun (cmd_tenant.c, cmd_agent.c, cmd_run.c, cmd_usage.c). */
int cmd_tenant_add(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_tenant_list(struct sched *c, const struct cmd_args *a, struct reply *r);
/* Whether run r must stay in memory: its tenant's runs kept only in the
 * store are being found for a tenant delete (cmd_tenant_delete.c). */
bool tenant_delete_holds(const struct sched *c, const struct run *r);
/* cmd_tenant_delete.c: answered by its worker, with the receipt. */
int cmd_tenant_delete(struct sched *c, const struct cmd_args *a,
		      struct reply *r);
int cmd_tenant_show(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_tenant_set(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_env_add(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_env_set(struct sched *c, const struct cmd_args *a, struct reply *r);
/* cmd_cost.c: a tenant's budget figures, guard and recent cost events. */
void write_tenant_budget(struct sched *c, struct jw *w, struct tenant *t);
int cmd_tenant_events(struct sched *c, const struct cmd_args *a,
		      struct reply *r);
int cmd_env_list(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_env_show(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_agent_token(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_agent_token_list(struct sched *c, const struct cmd_args *a,
			 struct reply *r);
int cmd_agent_token_revoke(struct sched *c, const struct cmd_args *a,
			   struct reply *r);
/* cmd_lifecycle.c */
int cmd_tenant_suspend(struct sched *c, const struct cmd_args *a,
		       struct reply *r);
int cmd_tenant_resume(struct sched *c, const struct cmd_args *a,
		      struct reply *r);
int cmd_env_delete(struct sched *c, const struct cmd_args *a,
		   struct reply *r);
int cmd_agent_list(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_agent_show(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_agent_drain(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_agent_undrain(struct sched *c, const struct cmd_args *a,
		      struct reply *r);
int cmd_agent_revoke(struct sched *c, const struct cmd_args *a,
		     struct reply *r);
int cmd_agent_rotate(struct sched *c, const struct cmd_args *a,
		     struct reply *r);
int cmd_job_add(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_job_list(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_job_delete(struct sched *c, const struct cmd_args *a,
		   struct reply *r);
int cmd_job_show(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_job_set(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_job_history(struct sched *c, const struct cmd_args *a,
		    struct reply *r);
int cmd_run_start(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_run_list(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_run_show(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_run_logs(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_run_metrics(struct sched *c, const struct cmd_args *a,
		    struct reply *r);
int cmd_run_diagnose(struct sched *c, const struct cmd_args *a,
		     struct reply *r);
int cmd_run_cancel(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_run_hold(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_run_release(struct sched *c, const struct cmd_args *a,
		    struct reply *r);
int cmd_run_retry(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_run_set(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_queue_stats(struct sched *c, const struct cmd_args *a,
		    struct reply *r);
int cmd_dispatch_pause(struct sched *c, const struct cmd_args *a,
		       struct reply *r);
int cmd_dispatch_resume(struct sched *c, const struct cmd_args *a,
			struct reply *r);
int cmd_usage(struct sched *c, const struct cmd_args *a, struct reply *r);
/* cmd_report.c: an environment's POC readiness (pocreport.h) */
int cmd_report_env(struct sched *c, const struct cmd_args *a,
		   struct reply *r);
/* cmd_backup.c: backups of the store (backup.h), run on a worker thread */
/* At start: the newest good backup in backup_dir, for /metrics (a
 * backup dir that cannot be read leaves it unknown). */
void backup_note_existing(struct sched *c);
int cmd_backup_create(struct sched *c, const struct cmd_args *a,
		      struct reply *r);
int cmd_backup_list(struct sched *c, const struct cmd_args *a,
		    struct reply *r);
int cmd_backup_verify(struct sched *c, const struct cmd_args *a,
		      struct reply *r);
int cmd_backup_prune(struct sched *c, const struct cmd_args *a,
		     struct reply *r);
/* cmd_audit.c */
int cmd_audit_list(struct sched *c, const struct cmd_args *a, struct reply *r);
int cmd_audit_export(struct sched *c, const struct cmd_args *a,
		     struct reply *r);
int cmd_audit_verify(struct sched *c, const struct cmd_args *a,
		     struct reply *r);
int cmd_audit_key(struct sched *c, const struct cmd_args *a, struct reply *r);
/* cmd_webhook.c */
int cmd_webhook_add(struct sched *c, const struct cmd_args *a,
		    struct reply *r);
int cmd_webhook_list(struct sched *c, const struct cmd_args *a,
		     struct reply *r);
int cmd_webhook_show(struct sched *c, const struct cmd_args *a,
		     struct reply *r);
int cmd_webhook_remove(struct sched *c, const struct cmd_args *a,
		       struct reply *r);
int cmd_webhook_test(struct sched *c, const struct cmd_args *a,
		     struct reply *r);
/* cmd_schedule.c */
int cmd_schedule_add(struct sched *c, const struct cmd_args *a,
		     struct reply *r);
int cmd_schedule_list(struct sched *c, const struct cmd_args *a,
		      struct reply *r);
int cmd_schedule_show(struct sched *c, const struct cmd_args *a,
		      struct reply *r);
int cmd_schedule_pause(struct sched *c, const struct cmd_args *a,
		       struct reply *r);
int cmd_schedule_resume(struct sched *c, const struct cmd_args *a,
			struct reply *r);
int cmd_schedule_delete(struct sched *c, const struct cmd_args *a,
			struct reply *r);

#endif
