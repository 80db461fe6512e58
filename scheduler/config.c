/* config.c - scheduler settings from defaults, a file and flags. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "settings.h"
#include "util.h"

#define S_STR(f, d) SETTING_STR(struct sched_config, f, d)
#define S_INT(f, lo, hi, d) SETTING_INT(struct sched_config, f, lo, hi, d)
#define S_ROLE(f, chk, d)                                                    \
	{ #f, false, offsetof(struct sched_config, f),                       \
	  sizeof(((struct sched_config *)0)->f), 0, 0, false, chk, d }

/* A role_* value, its key named in the reason (after FILE:LINE). */
static int check_role(const char *key, const char *v, bool scoped,
		      char *err, size_t errlen)
{
	char why[256];

	if (!access_check_spec(v, scoped, why, sizeof(why)))
		return 0;
	snprintf(err, errlen, "%s: %s", key, why);
	return -1;
}

static int check_role_admin(const char *v, char *err, size_t errlen)
{
	return check_role("role_admin", v, false, err, errlen);
}

static int check_role_operator(const char *v, char *err, size_t errlen)
{
	return check_role("role_operator", v, true, err, errlen);
}

static int check_role_viewer(const char *v, char *err, size_t errlen)
{
	return check_role("role_viewer", v, true, err, errlen);
}

static const struct setting settings[] = {
	S_STR(data_dir,
	      "the RocksDB store"),
	S_STR(admin_socket,
	      "the admin socket (spctl), mode 0660"),
	S_STR(listen,
	      "where agents connect; use "
	      "`tls+tcp://0.0.0.0:7450` in production (`tls+tcp://[::]:7450` "
	      "for IPv6 and IPv4)"),
	S_STR(metrics_listen,
	      "where Prometheus scrapes `/metrics`: `http://HOST:PORT` "
	      "(say `http://127.0.0.1:9464`); unset, not served"),
	S_STR(tls_cert,
	      "PEM certificate chain, required for `tls+tcp://`; each "
	      "reload reads it (and `tls_key`, `tls_ca`) again for new "
	      "connections"),
	S_STR(tls_key,
	      "PEM private key of `tls_cert`, required for `tls+tcp://`"),
	S_STR(tls_ca,
	      "if set, agents must present a client certificate signed by "
	      "this CA"),
	S_INT(token_ttl_s, 1, 30LL * 86400,
	      "default lifetime of enrollment tokens"),
	S_INT(max_clock_skew_ms, 0, 3600000,
	      "preflight: largest accepted agent clock skew"),
	S_INT(min_disk_mb, 0, 1LL << 30,
	      "preflight: free space needed in the agent's state dir"),
	S_INT(lease_wait_max_ms, 0, 60000,
	      "longest long poll of an agent asking for work: an idle "
	      "agent asks for idle_poll_ms (25 s by default)"),
	S_INT(agent_timeout_ms, 1000, 3600000,
	      "an agent silent this long loses its leases; its runs are "
	      "requeued"),
	S_INT(priority_aging_ms, 1, 86400000,
	      "a queued run gains one priority level per this much "
	      "waiting"),
	S_INT(retry_base_ms, 1, 3600000,
	      "backoff before a run's 2nd attempt; doubles per failed "
	      "attempt"),
	S_INT(retry_max_ms, 1, 86400000,
	      "backoff cap (not below `retry_base_ms`)"),
	S_INT(max_lost_leases, 0, 1000,
	      "a run that loses more leases than this is recorded "
	      "`failed`"),
	S_INT(max_queued_total, 0, 1000000000,
	      "global limit of queued runs (`busy` past it); 0 = none"),
	S_INT(idempotency_ttl_s, 86400, 30LL * 86400,
	      "how long an idempotency key names its run"),
	S_INT(turn_max_events, 1, 1000000,
	      "events the core thread applies per turn; past it, fair "
	      "queueing"),
	S_INT(agent_ack_delay_us, 0, 100000,
	      "longest an agent's report (completion, progress, "
	      "heartbeat) waits to share a later synced write; 0 = sync "
	      "each turn"),
	S_INT(log_completions, 0, 1,
	      "1: one log line per finished run; 0: none (retries are "
	      "always logged)"),
	S_INT(log_retention_days, 1, 3650,
	      "ended runs (records, logs, metrics) kept after they end, "
	      "unless their tenant sets `--retention-days`"),
	S_INT(retention_interval_s, 1, 86400,
	      "between retention passes, which remove expired runs (the "
	      "first a minute after start)"),
	S_INT(ended_runs_in_memory_s, 0, 31536000,
	      "an ended run stays in memory this long after it ended; "
	      "then the retention pass leaves it only in the store, read "
	      "back when asked for (run show, run logs, run retry, "
	      "--after). A start loads only the ended runs this recent, "
	      "or within `guard_window_s`"),
	S_INT(run_list_scan_max, 1, 100000000,
	      "runs one `run list` request examines at most, so that a "
	      "filter matching few of millions of runs holds the core "
	      "thread briefly; past it the reply is a page with a cursor "
	      "(`complete: false`) and spctl asks again"),
	S_INT(run_estimate_hours, 1, 8760,
	      "hours a job without a timeout is estimated to run, for "
	      "budgets (see the operator guide, Cost control)"),
	S_INT(guard_interval_s, 1, 86400,
	      "burn-rate guard: evaluation period"),
	S_INT(guard_window_s, 60, 31LL * 86400,
	      "burn-rate guard: recent spend measured over this"),
	S_INT(breaker_cooldown_s, 1, 31LL * 86400,
	      "cost circuit breaker: open -> half-open"),
	S_INT(agent_conns_max, 64, 1000000,
	      "agent connections at once (also bounded by the open files "
	      "limit: see the operator guide, Connection limits)"),
	S_INT(agent_conns_per_source, 1, 1000000,
	      "agent connections from one IP address"),
	S_INT(agent_auth_timeout_ms, 100, 600000,
	      "a new agent connection must send a message that verifies "
	      "within this"),
	S_INT(agent_idle_timeout_ms, 1000, 86400000,
	      "an agent connection with no request for this long is "
	      "closed"),
	S_INT(key_rotate_grace_s, 0, 7LL * 86400,
	      "after an agent rotates its identity key, its old key is "
	      "still accepted this long (messages and telemetry signed "
	      "before the rotation); 0 = not at all"),
	S_INT(admin_conns_max, 32, 65536,
	      "admin connections at once, 16 of them kept for root"),
	S_INT(admin_conns_per_uid, 1, 65536,
	      "admin connections of one uid other than root"),
	S_INT(admin_idle_timeout_ms, 1000, 86400000,
	      "an admin connection with nothing in flight for this long "
	      "is closed"),
	/* the data dir's free-space floor and failed writes (diskguard.c) */
	S_INT(store_min_free_mb, 0, 1LL << 30,
	      "new runs are refused while the data dir's filesystem has "
	      "less free space than this (MiB), or than "
	      "`store_min_free_pct` of its size; the smaller bound is the "
	      "floor, 0 leaves a bound out"),
	S_INT(store_min_free_pct, 0, 50,
	      "the free-space floor as a share of the filesystem, in %; "
	      "see `store_min_free_mb`"),
	S_INT(store_check_ms, 10, 60000,
	      "how often free space is measured and a failed store is "
	      "retried; also the `retry_after_ms` given with "
	      "`unavailable`"),
	S_INT(store_max_wal_mb, 1, 4096,
	      "commit log kept before its oldest segment is flushed and "
	      "retired (two segments of half this): bounds the replay "
	      "after a crash; one more segment is prepared ahead"),
	S_STR(backup_dir,
	      "where `spctl backup create` puts online backups of the store "
	      "(RocksDB's BackupEngine; see the operator guide, Backups and "
	      "restore): an empty directory, or one that holds only "
	      "backups, outside the data dir, ideally on another disk; "
	      "unset, backups are off"),
	S_STR(master_key_file,
	      "the master key (64 hex digits, mode 0600) that wraps each "
	      "tenant's data key (`DATA_DIR/keyring`): keep it outside the "
	      "data dir and the backups, and back it up apart from them; "
	      "created at the first start if absent. Unset: "
	      "`$CREDENTIALS_DIRECTORY/master.key` when systemd's "
	      "`LoadCredential=master.key:...` gives one, else "
	      "`DATA_DIR-keys/master.key` (`/var/lib/sparkpilot-keys/"
	      "master.key`)"),
	/* the audit log (audit.h) */
	S_INT(audit_checkpoint_records, 1, 1000000,
	      "the audit log gets a checkpoint signed with the scheduler's "
	      "key (`DATA_DIR/audit.key`) after this many records"),
	S_INT(audit_checkpoint_s, 1, 86400,
	      "... or this many seconds after the last checkpoint, when "
	      "records were added since"),
	/* webhooks (webhook_core.h) */
	S_INT(webhook_timeout_ms, 100, 300000,
	      "a webhook delivery attempt's whole time (connect, send, "
	      "answer); past it the attempt failed"),
	S_INT(webhook_connect_timeout_ms, 100, 60000,
	      "... and its connection's (TLS handshake included)"),
	S_INT(webhook_retry_base_ms, 10, 3600000,
	      "wait after a webhook delivery's first failed attempt; "
	      "doubles per attempt, with jitter"),
	S_INT(webhook_retry_max_ms, 10, 86400000,
	      "the longest wait between attempts (not below "
	      "`webhook_retry_base_ms`)"),
	S_INT(webhook_max_age_s, 1, 30LL * 86400,
	      "a delivery not done this long after its event is dead: "
	      "no more attempts, counted and shown by `spctl webhook list` "
	      "and `show`"),
	S_STR(webhook_ca,
	      "PEM CA bundle webhook endpoints' HTTPS certificates are "
	      "checked against; unset, the system's CA store"),
	S_STR(log_level,
	      "`debug`, `info`, `warn` or `error`; changes at once on a "
	      "reload (SIGHUP)"),
	/* roles on the admin socket (access.h); checked where written */
	S_ROLE(role_admin, check_role_admin,
	       "who is admin (every command): space-separated `user:NAME`, "
	       "`group:NAME` or `uid:N`; root always is. With no `role_*` "
	       "set, whoever can open the admin socket is admin"),
	S_ROLE(role_operator, check_role_operator,
	       "who is operator (starts and cancels runs, pauses dispatch, "
	       "drains agents, and all a viewer does): as `role_admin`, "
	       "each optionally `@TENANT[,TENANT...]`"),
	S_ROLE(role_viewer, check_role_viewer,
	       "who is viewer (reads only; scoped to `@TENANT,...`, sees "
	       "nothing of other tenants): as `role_operator`"),
};

const char *config_master_key(const struct sched_config *c, char *buf,
			      size_t len)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	size_t n = strlen(c->data_dir);

	if (c->master_key_file[0]) {
		snprintf(buf, len, "%s", c->master_key_file);
		return buf;
	}
	if (creds && creds[0]) {
		snprintf(buf, len, "%s/master.key", creds);
		if (access(buf, F_OK) == 0)
			return buf;
	}
	while (n > 1 && c->data_dir[n - 1] == '/')
		n--;
	snprintf(buf, len, "%.*s-keys/master.key", (int)n, c->data_dir);
	return buf;
}

void config_defaults(struct sched_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->data_dir, sizeof(c->data_dir), "/var/lib/sparkpilot");
	snprintf(c->admin_socket, sizeof(c->admin_socket),
		 "/run/sparkpilot/admin.sock");
	snprintf(c->listen, sizeof(c->listen), "tcp://127.0.0.1:7450");
	snprintf(c->log_level, sizeof(c->log_level), "info");
	c->token_ttl_s = 3600;
	c->max_clock_skew_ms = 30000;
	c->min_disk_mb = 1024;
	c->lease_wait_max_ms = 30000;
	c->agent_timeout_ms = 30000;
	c->priority_aging_ms = 60000;
	c->retry_base_ms = 5000;
	c->retry_max_ms = 300000;
	c->max_lost_leases = 5;
	c->max_queued_total = 5000000;
	c->idempotency_ttl_s = 86400;
	c->turn_max_events = 4096;
	c->agent_ack_delay_us = 2000;
	c->log_completions = 1;
	c->log_retention_days = 7;
	c->retention_interval_s = 3600;
	c->ended_runs_in_memory_s = 3600;
	c->run_list_scan_max = RUN_LIST_SCAN_MAX;
	c->run_estimate_hours = 1;
	c->guard_interval_s = 60;
	c->guard_window_s = 6 * 3600;
	c->breaker_cooldown_s = 900;
	c->agent_conns_max = 10000;
	c->agent_conns_per_source = 1000;
	c->agent_auth_timeout_ms = 10000;
	c->agent_idle_timeout_ms = 300000;
	c->key_rotate_grace_s = 600;
	c->admin_conns_max = 1024;
	c->admin_conns_per_uid = 128;
	c->admin_idle_timeout_ms = 60000;
	c->store_min_free_mb = 1024;
	c->store_min_free_pct = 5;
	c->store_check_ms = 1000;
	c->store_max_wal_mb = 32;
	c->audit_checkpoint_records = 1000;
	c->audit_checkpoint_s = 300;
	c->webhook_timeout_ms = 10000;
	c->webhook_connect_timeout_ms = 5000;
	c->webhook_retry_base_ms = 5000;
	c->webhook_retry_max_ms = 3600000;
	c->webhook_max_age_s = 86400;
}

int config_set(struct sched_config *c, const char *key, const char *value,
	       char *err, size_t errlen)
{
	return settings_set(settings, ARRAY_SIZE(settings), c, key, value, err,
			    errlen);
}

int config_load(struct sched_config *c, const char *path, char *err,
		size_t errlen)
{
	return settings_load(settings, ARRAY_SIZE(settings), c, path, err,
			     errlen);
}

static const struct setting_flag flags[] = {
	{ "--data-dir", "data_dir" },
	{ "--admin-socket", "admin_socket" },
	{ "--listen", "listen" },
	{ "--metrics-listen", "metrics_listen" },
	{ "--log-level", "log_level" },
	/* paths, so that a unit can pass systemd credentials */
	{ "--tls-cert", "tls_cert" },
	{ "--tls-key", "tls_key" },
	{ "--tls-ca", "tls_ca" },
};

void config_parse_args(struct sched_config *c, int argc, char **argv,
		       const char *usage)
{
	settings_parse_args(argc, argv, settings, ARRAY_SIZE(settings), c,
			    flags, ARRAY_SIZE(flags), "sparkpilot-scheduler",
			    usage);
}

/* What a reload applies at once: settings the core reads when it uses
 * them, policy limits that hold no state built from them, the connection
 * caps and timeouts (for connections from then on), and the agent port's
 * TLS files (for handshakes from then on), and backup_dir (each backup
 * command reads it when it starts). The rest (paths and listeners,
 * priority aging, which every queued run's place is computed from, the
 * guard's window, ...) wait for a restart. */
bool config_live(const char *key)
{
	static const char *const live[] = {
		"log_level",	      "max_queued_total",  "retry_base_ms",
		"retry_max_ms",	      "max_lost_leases",   "run_estimate_hours",
		"lease_wait_max_ms",  "agent_ack_delay_us", "turn_max_events",
		"token_ttl_s",	      "min_disk_mb",	    "max_clock_skew_ms",
		"log_completions",    "log_retention_days",
		"run_list_scan_max",
		"retention_interval_s", "store_min_free_mb",
		"ended_runs_in_memory_s",
		"store_min_free_pct", "store_check_ms",
		"tls_cert",	      "tls_key",	    "tls_ca",
		"agent_conns_max",    "agent_conns_per_source",
		"agent_auth_timeout_ms", "agent_idle_timeout_ms",
		"admin_conns_max",    "admin_conns_per_uid",
		"admin_idle_timeout_ms", "backup_dir",
		"audit_checkpoint_records", "audit_checkpoint_s",
		"key_rotate_grace_s",
		"webhook_retry_base_ms", "webhook_retry_max_ms",
		"webhook_max_age_s",
		"role_admin",	      "role_operator",	    "role_viewer",
	};

	return str_in(key, live, ARRAY_SIZE(live));
}

void config_describe(struct settings_doc *d)
{
	*d = (struct settings_doc){ "sparkpilot-scheduler",
				    "/etc/sparkpilot/scheduler.conf", settings,
				    ARRAY_SIZE(settings), flags,
				    ARRAY_SIZE(flags), config_live };
}

int config_reread(struct sched_config *c, int argc, char **argv, char *err,
		  size_t errlen)
{
	bool print;

	config_defaults(c);
	if (settings_read_args(argc, argv, settings, ARRAY_SIZE(settings), c,
			       flags, ARRAY_SIZE(flags), &print, err, errlen))
		return -1;
	return config_validate(c, err, errlen) ||
	       config_resolve(c, err, errlen);
}

int config_resolve(struct sched_config *c, char *err, size_t errlen)
{
	struct access_grants *g = &c->grants;

	memset(g, 0, sizeof(*g));
	g->self_uid = (uint32_t)getuid();
	if (access_add_grants(g, ROLE_ADMIN, c->role_admin, err, errlen) ||
	    access_add_grants(g, ROLE_OPERATOR, c->role_operator, err,
			      errlen) ||
	    access_add_grants(g, ROLE_VIEWER, c->role_viewer, err, errlen))
		return -1;
	return 0;
}


int config_validate(const struct sched_config *c, char *err, size_t errlen)
{
	if (c->metrics_listen[0] && strncmp(c->metrics_listen, "http://", 7)) {
		snprintf(err, errlen,
			 "metrics_listen '%.200s' is not an http://HOST:PORT URL",
			 c->metrics_listen);
		return -1;
	}
	if (c->retry_max_ms < c->retry_base_ms) {
		snprintf(err, errlen,
			 "retry_max_ms (%lld) must not be below retry_base_ms (%lld)",
			 (long long)c->retry_max_ms, (long long)c->retry_base_ms);
		return -1;
	}
	if (!c->data_dir[0] || !c->admin_socket[0] || !c->listen[0]) {
		snprintf(err, errlen,
			 "data_dir, admin_socket and listen must be set");
		return -1;
	}
	int tls = url_scheme(c->listen, NULL);

	if (tls < 0) {
		snprintf(err, errlen,
			 "listen '%s' must be a tcp:// or tls+tcp:// URL (or "
			 "tcp4, tcp6, tls+tcp4, tls+tcp6)",
			 c->listen);
		return -1;
	}
	if (tls && (!c->tls_cert[0] || !c->tls_key[0])) {
		snprintf(err, errlen,
			 "listen '%s' needs tls_cert and tls_key", c->listen);
		return -1;
	}
	/* the service's working directory is not the operator's */
	if (c->backup_dir[0] && c->backup_dir[0] != '/') {
		snprintf(err, errlen, "backup_dir '%s' must be an absolute path",
			 c->backup_dir);
		return -1;
	}
	if (c->master_key_file[0] && c->master_key_file[0] != '/') {
		snprintf(err, errlen,
			 "master_key_file '%s' must be an absolute path",
			 c->master_key_file);
		return -1;
	}
	if (c->webhook_retry_max_ms < c->webhook_retry_base_ms) {
		snprintf(err, errlen,
			 "webhook_retry_max_ms (%lld) must not be below "
			 "webhook_retry_base_ms (%lld)",
			 (long long)c->webhook_retry_max_ms,
			 (long long)c->webhook_retry_base_ms);
		return -1;
	}
	if (strcmp(c->log_level, "debug") && strcmp(c->log_level, "info") &&
	    strcmp(c->log_level, "warn") && strcmp(c->log_level, "error")) {
		snprintf(err, errlen,
			 "log_level '%s' must be debug, info, warn or error",
			 c->log_level);
		return -1;
	}
	return 0;
}
