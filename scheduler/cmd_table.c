/* cmd_table.c - the admin command table: each command's words, arguments,
 * flags with their bounds, summary, handler, role and scope. `help`, the
 * parser (admin_cmds.c) and the docs' checks all read it. */
#include "admin_cmds.h"

#include "model.h"
#include "util.h"

#define U32MAX 4294967295LL
#define USD_MAX (1000000000LL * 1000000LL)
/* Tenant quotas: the same bounds when set at creation and changed later. */
#define WEIGHT_MAX 10000
#define MAX_RUNNING_MAX 1000000
#define MAX_QUEUED_MAX 100000000
#define SUBMIT_RATE_MAX 1000000

static const struct flag_spec no_flags[] = { { NULL, 0, 0, 0 } };
static const struct flag_spec tenant_add_flags[] = {
	{ "--weight", FT_UINT, 1, WEIGHT_MAX },
	{ "--max-running", FT_UINT, 1, MAX_RUNNING_MAX },
	{ "--max-queued", FT_UINT, 1, MAX_QUEUED_MAX },
	{ "--submit-rate", FT_UINT, 1, SUBMIT_RATE_MAX },
	{ "--monthly-budget", FT_USD, 0, USD_MAX },
	{ "--budget-mode", FT_STR, 0, 0 },
	{ "--cancel-running", FT_ONOFF, 0, 0 },
	{ "--retention-days", FT_UINT, 1, 3650 },
	{ NULL, 0, 0, 0 },
};
/* As at creation, except that a quota can be lifted again: "unlimited". */
static const struct flag_spec tenant_set_flags[] = {
	{ "--weight", FT_UINT, 1, WEIGHT_MAX },
	{ "--max-running", FT_LIMIT, 1, MAX_RUNNING_MAX },
	{ "--max-queued", FT_LIMIT, 1, MAX_QUEUED_MAX },
	{ "--submit-rate", FT_LIMIT, 1, SUBMIT_RATE_MAX },
	{ "--monthly-budget", FT_USD, 0, USD_MAX },
	{ "--budget-mode", FT_STR, 0, 0 },
	{ "--cancel-running", FT_ONOFF, 0, 0 },
	{ "--retention-days", FT_UINT, 1, 3650 },
	{ NULL, 0, 0, 0 },
};
static const struct flag_spec env_add_flags[] = {
	{ "--mode", FT_STR, 0, 0 },
	{ "--price-vcpu-hour", FT_USD, 0, PRICE_MAX },
	{ "--price-gb-hour", FT_USD, 0, PRICE_MAX },
	{ "--spot-discount", FT_PCT, 0, 10000 },
	{ "--max-concurrent", FT_UINT, 1, 100000 },
	{ "--backend", FT_STR, 0, 0 },
	{ NULL, 0, 0, 0 },
};
/* A price card changes the estimates of runs started from then on and the
 * metering of attempts that end from then on. */
static const struct flag_spec env_set_flags[] = {
	{ "--price-vcpu-hour", FT_USD, 0, PRICE_MAX },
	{ "--price-gb-hour", FT_USD, 0, PRICE_MAX },
	{ "--spot-discount", FT_PCT, 0, 10000 },
	{ "--max-concurrent", FT_LIMIT, 1, 100000 },
	{ "--backend", FT_STR, 0, 0 },
	{ "--backend-setting", FT_STR, 0, 0 },
	{ NULL, 0, 0, 0 },
};
static const struct flag_spec tenant_delete_flags[] = {
	{ "--confirm", FT_BOOL, 0, 0 },
	{ "--force", FT_BOOL, 0, 0 },
	{ NULL, 0, 0, 0 },
};
static const struct flag_spec events_flags[] = {
	{ "--limit", FT_UINT, 1, 100000 },
	{ NULL, 0, 0, 0 },
};
static const struct flag_spec token_flags[] = {
	{ "--ttl", FT_UINT, 1, 30LL * 86400 },
	{ NULL, 0, 0, 0 },
};
static const struct flag_spec job_add_flags[] = {
	{ "--driver-cores", FT_UINT, 1, 256 },
	{ "--driver-memory", FT_GB, 0, 0 },
	{ "--executor-cores", FT_UINT, 1, 256 },
	{ "--executor-memory", FT_GB, 0, 0 },
	{ "--executors", FT_UINT, 0, 100000 },
	{ "--timeout", FT_UINT, 1, 30LL * 86400 },
	{ "--max-attempts", FT_UINT, 1, 100 },
	{ "--run-budget", FT_USD, 0, USD_MAX },
	{ "--max-concurrent", FT_UINT, 1, 100000 },
	{ NULL, 0, 0, 0 },
};
static const struct flag_spec job_show_flags[] = {
	{ "--version", FT_UINT, 1, JOB_VERSION_MAX },
	{ NULL, 0, 0, 0 },
};
static const struct flag_spec run_start_flags[] = {
	{ "--priority", FT_INT, -1000, 1000 },
	{ "--idempotency-key", FT_STR, 0, 0 },
	{ "--param", FT_MULTI, 0, 0 },
	{ "--after", FT_STR, 0, 0 },
	{ "--after-any", FT_BOOL, 0, 0 },
	{ "--after-ok", FT_BOOL, 0, 0 },
	{ "--hold", FT_BOOL, 0, 0 },
	{ NULL, 0, 0, 0 },
};
static const struct flag_spec run_set_flags[] = {
	{ "--priority", FT_INT, -1000, 1000 },
	{ NULL, 0, 0, 0 },
};
/* run list's filters (cmd_run_list.c); --after-id is the cursor */
static const struct flag_spec run_list_flags[] = {
	{ "--tenant", FT_STR, 0, 0 },
	{ "--env", FT_STR, 0, 0 },
	{ "--job", FT_STR, 0, 0 },
	{ "--state", FT_STR, 0, 0 },
	{ "--created-by", FT_STR, 0, 0 },
	{ "--schedule", FT_UINT, 1, INT64_MAX },
	{ "--since", FT_STR, 0, 0 },
	{ "--until", FT_STR, 0, 0 },
	{ "--class", FT_STR, 0, 0 },
	{ "--after-id", FT_UINT, 0, INT64_MAX },
	{ "--limit", FT_UINT, 1, 10000 },
	{ "--oldest-first", FT_BOOL, 0, 0 },
	{ NULL, 0, 0, 0 },
};
static const struct flag_spec run_logs_flags[] = {
	{ "--after", FT_UINT, 0, U32MAX },
	{ "--limit", FT_UINT, 1, 100000 },
	{ NULL, 0, 0, 0 },
};
static const struct flag_spec backup_prune_flags[] = {
	{ "--keep", FT_UINT, 1, 100000 },
	{ NULL, 0, 0, 0 },
};
static const struct flag_spec usage_flags[] = {
	{ "--from", FT_STR, 0, 0 },
	{ "--to", FT_STR, 0, 0 },
	{ "--format", FT_STR, 0, 0 },
	{ "--by", FT_STR, 0, 0 },
	{ NULL, 0, 0, 0 },
};
static const struct flag_spec report_env_flags[] = {
	{ "--days", FT_UINT, 1, 365 },
	{ "--format", FT_STR, 0, 0 },
	{ NULL, 0, 0, 0 },
};

static const struct flag_spec audit_list_flags[] = {
	{ "--tenant", FT_STR, 0, 0 },
	{ "--since", FT_STR, 0, 0 },
	{ "--limit", FT_UINT, 1, 1000 },
	{ NULL, 0, 0, 0 },
};
/* --after: the next page (spctl asks for every page) */
static const struct flag_spec audit_export_flags[] = {
	{ "--since", FT_STR, 0, 0 },
	{ "--after", FT_UINT, 0, INT64_MAX },
	{ NULL, 0, 0, 0 },
};
static const struct flag_spec webhook_add_flags[] = {
	{ "--events", FT_STR, 0, 0 },
	{ NULL, 0, 0, 0 },
};
static const struct flag_spec schedule_add_flags[] = {
	{ "--cron", FT_STR, 0, 0 },
	{ "--timezone", FT_STR, 0, 0 },
	{ "--concurrency", FT_STR, 0, 0 },
	{ "--catch-up", FT_STR, 0, 0 },
	{ "--starting-deadline", FT_STR, 0, 0 },
	{ "--then", FT_STR, 0, 0 },
	{ NULL, 0, 0, 0 },
};
static const struct flag_spec schedule_list_flags[] = {
	{ "--tenant", FT_STR, 0, 0 },
	{ NULL, 0, 0, 0 },
};

/* The one table of admin commands; `help` is generated from it. */
static const struct command commands[] = {
	{ "help", "", "list the commands", 0, 0, no_flags, false, cmd_help,
	  .role = ROLE_VIEWER, .scope = SCOPE_ANY },
	{ "tenant add",
	  "NAME [--weight N] [--max-running N] [--max-queued N] "
	  "[--submit-rate N] [--monthly-budget USD] [--budget-mode soft|hard] "
	  "[--cancel-running on|off] [--retention-days N]",
	  "create a tenant", 1, 1, tenant_add_flags, false, cmd_tenant_add,
	  .role = ROLE_ADMIN, .scope = SCOPE_GLOBAL },
	{ "tenant list", "", "list tenants", 0, 0, no_flags, false,
	  cmd_tenant_list,
	  .role = ROLE_VIEWER, .scope = SCOPE_LIST },
	{ "tenant show", "NAME", "show a tenant", 1, 1, no_flags, false,
	  cmd_tenant_show,
	  .role = ROLE_VIEWER, .scope = SCOPE_TENANT },
	{ "tenant set",
	  "NAME [--weight N] [--max-running N|unlimited] "
	  "[--max-queued N|unlimited] [--submit-rate N|unlimited] "
	  "[--monthly-budget USD] [--budget-mode soft|hard] "
	  "[--cancel-running on|off] [--retention-days N] (or KEY=VALUE...)",
	  "change a tenant's weight, quotas, budget or retention", 1, 1,
	  tenant_set_flags, false, cmd_tenant_set, true,
	  .role = ROLE_ADMIN, .scope = SCOPE_GLOBAL },
	{ "tenant suspend", "NAME",
	  "no new runs and no dispatch for a tenant; live runs go on", 1, 1,
	  no_flags, false, cmd_tenant_suspend, .role = ROLE_ADMIN,
	  .scope = SCOPE_GLOBAL },
	{ "tenant resume", "NAME", "undo tenant suspend", 1, 1, no_flags,
	  false, cmd_tenant_resume, .role = ROLE_ADMIN, .scope = SCOPE_GLOBAL },
	{ "tenant delete", "NAME --confirm [--force]",
	  "remove a tenant and every record of it, destroying its data key "
	  "(backups included); --confirm is required (it cannot be undone); "
	  "refused while it has runs not ended unless "
	  "--force (revokes its agents and cancels its runs); prints a "
	  "deletion receipt",
	  1, 1, tenant_delete_flags, false, cmd_tenant_delete,
	  .role = ROLE_ADMIN, .scope = SCOPE_GLOBAL },
	{ "tenant events", "NAME [--limit N]",
	  "a tenant's recorded budget changes, warnings, caps and guard actions",
	  1, 1, events_flags, false, cmd_tenant_events,
	  .role = ROLE_VIEWER, .scope = SCOPE_TENANT },
	{ "env add",
	  "TENANT/ENV [--mode full|byoc_lite] [--price-vcpu-hour USD] "
	  "[--price-gb-hour USD] [--spot-discount PCT] [--max-concurrent N] "
	  "[--backend spark-submit|livy|emr-eks]",
	  "create an environment", 1, 1, env_add_flags, false, cmd_env_add,
	  .role = ROLE_ADMIN, .scope = SCOPE_GLOBAL },
	{ "env set",
	  "TENANT/ENV [--price-vcpu-hour USD] [--price-gb-hour USD] "
	  "[--spot-discount PCT] [--max-concurrent N|unlimited] "
	  "[--backend NAME] [--backend-setting KEY=VALUE] "
	  "(or KEY=VALUE...)",
	  "change an environment's price card, concurrency or Spark backend "
	  "(one backend setting per command; KEY= removes it)", 1, 1,
	  env_set_flags, false, cmd_env_set, true,
	  .role = ROLE_ADMIN, .scope = SCOPE_GLOBAL },
	{ "env delete", "TENANT/ENV",
	  "delete an environment (its past runs are kept); refused while it "
	  "has jobs, agents not revoked or runs not ended",
	  1, 1, no_flags, false, cmd_env_delete, .role = ROLE_ADMIN,
	  .scope = SCOPE_GLOBAL },
	{ "env list", "", "list environments", 0, 0, no_flags, false,
	  cmd_env_list,
	  .role = ROLE_VIEWER, .scope = SCOPE_LIST },
	{ "env show", "TENANT/ENV", "show an environment", 1, 1, no_flags,
	  false, cmd_env_show,
	  .role = ROLE_VIEWER, .scope = SCOPE_TENANT },
	{ "agent token", "TENANT/ENV [--ttl SECONDS]",
	  "print a one-time enrollment token", 1, 1, token_flags, false,
	  cmd_agent_token,
	  .role = ROLE_ADMIN, .scope = SCOPE_GLOBAL },
	{ "agent token list", "[TENANT/ENV]",
	  "enrollment tokens: state, time to live, the agent that used one",
	  0, 1, no_flags, false, cmd_agent_token_list, .role = ROLE_ADMIN,
	  .scope = SCOPE_GLOBAL },
	{ "agent token revoke", "ID",
	  "revoke an unused enrollment token (ID: its start, as listed)", 1,
	  1, no_flags, false, cmd_agent_token_revoke, .role = ROLE_ADMIN,
	  .scope = SCOPE_GLOBAL },
	{ "agent list", "", "list agents", 0, 0, no_flags, false,
	  cmd_agent_list,
	  .role = ROLE_VIEWER, .scope = SCOPE_LIST },
	{ "agent show", "ID", "show an agent and its rejection counters", 1, 1,
	  no_flags, false, cmd_agent_show,
	  .role = ROLE_VIEWER, .scope = SCOPE_AGENT },
	{ "agent drain", "ID", "stop giving an agent new work", 1, 1, no_flags,
	  false, cmd_agent_drain,
	  .role = ROLE_OPERATOR, .scope = SCOPE_AGENT },
	{ "agent undrain", "ID", "give a drained agent new work again", 1, 1,
	  no_flags, false, cmd_agent_undrain,
	  .role = ROLE_OPERATOR, .scope = SCOPE_AGENT },
	{ "agent revoke", "ID", "revoke an agent's identity", 1, 1, no_flags,
	  false, cmd_agent_revoke,
	  .role = ROLE_ADMIN, .scope = SCOPE_GLOBAL },
	{ "agent rotate", "ID",
	  "have an agent replace its identity key (no new enrollment)", 1, 1,
	  no_flags, false, cmd_agent_rotate,
	  .role = ROLE_ADMIN, .scope = SCOPE_AGENT },
	{ "job add",
	  "TENANT/ENV/JOB [--driver-cores N] [--driver-memory GB] "
	  "[--executor-cores N] [--executor-memory GB] [--executors N] "
	  "[--timeout SECONDS] [--max-attempts N] [--run-budget USD] "
	  "[--max-concurrent N] -- SPARK_SUBMIT_ARGS...",
	  "define a Spark job", 1, 1, job_add_flags, true, cmd_job_add,
	  .role = ROLE_ADMIN, .scope = SCOPE_GLOBAL },
	{ "job delete", "TENANT/ENV/JOB",
	  "delete a job's definition (its past runs are kept); refused while "
	  "a run of it is not ended",
	  1, 1, no_flags, false, cmd_job_delete, .role = ROLE_ADMIN,
	  .scope = SCOPE_GLOBAL },
	{ "job list", "", "list jobs", 0, 0, no_flags, false, cmd_job_list,
	  .role = ROLE_VIEWER, .scope = SCOPE_LIST },
	{ "job set",
	  "TENANT/ENV/JOB [job add's flags] [-- SPARK_SUBMIT_ARGS...]",
	  "write a new version of a job (flags not given are kept; the "
	  "arguments are replaced only after --); runs started keep theirs",
	  1, 1, job_add_flags, true, cmd_job_set, .rest_optional = true,
	  .role = ROLE_ADMIN, .scope = SCOPE_GLOBAL },
	{ "job show", "TENANT/ENV/JOB [--version N]",
	  "show a job, or one of its versions", 1, 1, job_show_flags, false,
	  cmd_job_show,
	  .role = ROLE_VIEWER, .scope = SCOPE_TENANT },
	{ "job history", "TENANT/ENV/JOB",
	  "list a job's versions: when, by whom, what changed", 1, 1,
	  no_flags, false, cmd_job_history,
	  .role = ROLE_VIEWER, .scope = SCOPE_TENANT },
	{ "run start", "TENANT/ENV/JOB [--priority N] [--idempotency-key KEY] "
	  "[--param KEY=VALUE]... [--after RUN[,RUN...] [--after-any|"
	  "--after-ok]] [--hold] [-- EXTRA_ARGS...]",
	  "queue a run (prints its id); --after makes it wait for those "
	  "runs to end (to succeed, unless --after-any)",
	  1, 1, run_start_flags, true, cmd_run_start, .rest_optional = true,
	  .role = ROLE_OPERATOR, .scope = SCOPE_TENANT },
	{ "run list",
	  "[--tenant T] [--env T/E] [--job T/E/J] [--state S[,S...]] "
	  "[--created-by uid:N|user:NAME|schedule:ID] [--schedule ID] "
	  "[--since TIME] [--until TIME] [--class CLASS] [--after-id ID] "
	  "[--limit N] [--oldest-first]",
	  "list runs, newest first, filtered (one page; spctl asks for "
	  "the next ones)", 0,
	  0, run_list_flags, false, cmd_run_list,
	  .role = ROLE_VIEWER, .scope = SCOPE_LIST },
	{ "run show", "RUN", "show a run", 1, 1, no_flags, false,
	  cmd_run_show,
	  .role = ROLE_VIEWER, .scope = SCOPE_RUN },
	{ "run logs", "RUN [--after N] [--limit N]", "print a run's log", 1, 1,
	  run_logs_flags, false, cmd_run_logs,
	  .role = ROLE_VIEWER, .scope = SCOPE_RUN },
	{ "run metrics", "RUN", "print a run's metrics", 1, 1, no_flags,
	  false, cmd_run_metrics,
	  .role = ROLE_VIEWER, .scope = SCOPE_RUN },
	{ "run diagnose", "RUN",
	  "why a run failed: its failure class, the line and a hint", 1, 1,
	  no_flags, false, cmd_run_diagnose,
	  .role = ROLE_VIEWER, .scope = SCOPE_RUN },
	{ "run cancel", "RUN", "cancel a run", 1, 1, no_flags, false,
	  cmd_run_cancel,
	  .role = ROLE_OPERATOR, .scope = SCOPE_RUN },
	{ "run hold", "RUN",
	  "keep a queued or waiting run from being dispatched until "
	  "run release", 1, 1, no_flags, false, cmd_run_hold,
	  .role = ROLE_OPERATOR, .scope = SCOPE_RUN },
	{ "run release", "RUN", "let a held run be dispatched again", 1, 1,
	  no_flags, false, cmd_run_release,
	  .role = ROLE_OPERATOR, .scope = SCOPE_RUN },
	{ "run retry", "RUN",
	  "start an ended run again as a new run: same job version, "
	  "priority, parameters and arguments (prints its id)", 1, 1,
	  no_flags, false, cmd_run_retry,
	  .role = ROLE_OPERATOR, .scope = SCOPE_RUN },
	{ "run set", "RUN --priority N", "change a queued run's priority",
	  1, 1, run_set_flags, false, cmd_run_set,
	  .role = ROLE_OPERATOR, .scope = SCOPE_RUN },
	{ "schedule add",
	  "TENANT/ENV/JOB --cron 'MIN HOUR DOM MON DOW' [--timezone AREA/CITY] "
	  "[--concurrency allow|forbid|replace] [--catch-up none|last|all] "
	  "[--starting-deadline DURATION] [--then JOB[,JOB...]] "
	  "[-- EXTRA_ARGS...]",
	  "start a job's runs at the times of a cron expression (prints the "
	  "schedule's id); --then starts those jobs of the environment after "
	  "it, each once the one before succeeded",
	  1, 1, schedule_add_flags, true, cmd_schedule_add,
	  .rest_optional = true, .role = ROLE_OPERATOR, .scope = SCOPE_TENANT },
	{ "schedule list", "[--tenant T]",
	  "schedules with their next and last firing", 0, 0,
	  schedule_list_flags, false, cmd_schedule_list, .role = ROLE_VIEWER,
	  .scope = SCOPE_LIST },
	{ "schedule show", "ID",
	  "a schedule: its settings, next and last firing, and its counts of "
	  "firings started, skipped and missed",
	  1, 1, no_flags, false, cmd_schedule_show, .role = ROLE_VIEWER,
	  .scope = SCOPE_SCHEDULE },
	{ "schedule pause", "ID", "stop a schedule firing", 1, 1, no_flags,
	  false, cmd_schedule_pause, .role = ROLE_OPERATOR,
	  .scope = SCOPE_SCHEDULE },
	{ "schedule resume", "ID",
	  "let a paused schedule fire again (the times it missed follow its "
	  "catch-up policy)",
	  1, 1, no_flags, false, cmd_schedule_resume, .role = ROLE_OPERATOR,
	  .scope = SCOPE_SCHEDULE },
	{ "schedule delete", "ID", "delete a schedule (its runs are kept)", 1,
	  1, no_flags, false, cmd_schedule_delete, .role = ROLE_OPERATOR,
	  .scope = SCOPE_SCHEDULE },
	{ "queue stats", "", "queued and running runs per tenant and environment",
	  0, 0, no_flags, false, cmd_queue_stats,
	  .role = ROLE_VIEWER, .scope = SCOPE_LIST },
	{ "dispatch pause", "", "stop handing runs to agents (kill switch)", 0,
	  0, no_flags, false, cmd_dispatch_pause,
	  .role = ROLE_OPERATOR, .scope = SCOPE_GLOBAL },
	{ "dispatch resume", "", "hand runs to agents again", 0, 0, no_flags,
	  false, cmd_dispatch_resume,
	  .role = ROLE_OPERATOR, .scope = SCOPE_GLOBAL },
	{ "backup create", "",
	  "take an online backup of the store into backup_dir (prints its id, "
	  "size, files and time)",
	  0, 0, no_flags, false, cmd_backup_create, .role = ROLE_ADMIN,
	  .scope = SCOPE_GLOBAL },
	{ "backup list", "", "list the backups in backup_dir", 0, 0, no_flags,
	  false, cmd_backup_list, .role = ROLE_ADMIN, .scope = SCOPE_GLOBAL },
	{ "backup verify", "ID",
	  "check a backup: every file there, its size and its checksum", 1, 1,
	  no_flags, false, cmd_backup_verify, .role = ROLE_ADMIN,
	  .scope = SCOPE_GLOBAL },
	{ "backup prune", "--keep N",
	  "delete all but the N newest backups", 0, 0, backup_prune_flags,
	  false, cmd_backup_prune, .role = ROLE_ADMIN,
	  .scope = SCOPE_GLOBAL },
	{ "usage", "[TENANT] [--from DATE] [--to DATE] "
		   "[--format table|json|csv] [--by job|user|env|day]",
	  "metered usage (per environment and day, or one row per job, "
	  "creator, environment or day with --by)", 0, 1, usage_flags, false, cmd_usage,
	  .role = ROLE_VIEWER, .scope = SCOPE_TENANT },
	{ "report env", "TENANT/ENV [--days N] [--format table|md]",
	  "a proof of concept's go/no-go criteria for an environment over "
	  "the last N days (14): time to ready, runs and days, first-attempt "
	  "success, diagnosed failures, open preflight findings",
	  1, 1, report_env_flags, false, cmd_report_env,
	  .role = ROLE_VIEWER, .scope = SCOPE_TENANT },
	{ "audit list", "[--tenant T] [--since TIME] [--limit N]",
	  "the newest audit records the caller may see", 0, 0,
	  audit_list_flags, false, cmd_audit_list,
	  .role = ROLE_VIEWER, .scope = SCOPE_LIST },
	{ "audit export", "[--since TIME]",
	  "the audit log as signed JSON lines", 0, 0, audit_export_flags,
	  false, cmd_audit_export,
	  .role = ROLE_ADMIN, .scope = SCOPE_GLOBAL },
	{ "audit verify", "", "check the audit log's hash chain and checkpoints",
	  0, 0, no_flags, false, cmd_audit_verify,
	  .role = ROLE_ADMIN, .scope = SCOPE_GLOBAL },
	{ "audit key", "", "the audit checkpoint key (public)", 0, 0, no_flags,
	  false, cmd_audit_key,
	  .role = ROLE_VIEWER, .scope = SCOPE_LIST },
	{ "webhook add", "TENANT URL [--events run.succeeded,run.failed,...]",
	  "send a tenant's run and budget events to URL, signed (prints the "
	  "signing secret, once)", 2, 2, webhook_add_flags, false,
	  cmd_webhook_add, .role = ROLE_ADMIN, .scope = SCOPE_TENANT },
	{ "webhook list", "[TENANT]",
	  "webhooks with their delivered, pending and dead counts", 0, 1,
	  no_flags, false, cmd_webhook_list, .role = ROLE_VIEWER,
	  .scope = SCOPE_TENANT },
	{ "webhook show", "ID", "a webhook and its deliveries not done", 1, 1,
	  no_flags, false, cmd_webhook_show, .role = ROLE_VIEWER,
	  .scope = SCOPE_WEBHOOK },
	{ "webhook remove", "ID",
	  "remove a webhook and its deliveries not done", 1, 1, no_flags,
	  false, cmd_webhook_remove, .role = ROLE_ADMIN,
	  .scope = SCOPE_WEBHOOK },
	{ "webhook test", "ID", "queue a webhook.test event to a webhook", 1,
	  1, no_flags, false, cmd_webhook_test, .role = ROLE_ADMIN,
	  .scope = SCOPE_WEBHOOK },
};

const struct command *admin_cmds_table(size_t *n)
{
	*n = ARRAY_SIZE(commands);
	return commands;
}
