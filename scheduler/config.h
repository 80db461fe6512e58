/*
 * config.h - the scheduler's settings: defaults, then the config file, then
 * command-line flags (flags win). One table row per setting.
 */
#ifndef SP_SCHED_CONFIG_H
#define SP_SCHED_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access.h"

/* run list examines at most this many runs per request by default: about
 * 2.5 ms of the core thread over millions of runs, half the 5 ms p99
 * latency target (docs/performance.md, run list). */
#define RUN_LIST_SCAN_MAX 100000

struct sched_config {
	char data_dir[512];
	char admin_socket[512];
	char listen[512];          /* nng URL for agents */
	char metrics_listen[512];  /* reserved for /metrics (not served yet) */
	char tls_cert[512];        /* PEM certificate chain, for tls+tcp:// */
	char tls_key[512];         /* PEM private key */
	char tls_ca[512];          /* CA for client certificates (optional) */
	int64_t token_ttl_s;       /* default enrollment token lifetime */
	int64_t max_clock_skew_ms; /* preflight: agent clock vs ours */
	int64_t min_disk_mb;       /* preflight: free space in agent state dir */
	int64_t lease_wait_max_ms; /* longest long-poll for work */
	int64_t agent_timeout_ms;  /* a silent agent's leases expire after this */
	int64_t priority_aging_ms; /* waiting this long = one priority level */
	int64_t retry_base_ms;     /* backoff before a run's 2nd attempt */
	int64_t retry_max_ms;      /* backoff cap */
	int64_t max_lost_leases;   /* a run losing more leases fails */
	int64_t max_queued_total;  /* global backpressure, 0 = none */
	int64_t idempotency_ttl_s; /* an idempotency key's lifetime */
	int64_t turn_max_events;   /* events applied per core turn */
	int64_t agent_ack_delay_us; /* longest wait of an agent's report for
				     * a commit that carries it anyway */
	int64_t log_completions;   /* 1: one log line per finished run */
	int64_t log_retention_days; /* telemetry kept after a run ends, unless
				     * its tenant sets its own */
	int64_t retention_interval_s; /* between retention passes */
	int64_t ended_runs_in_memory_s; /* runstore.h */
	int64_t run_list_scan_max;    /* runs one run list request examines */
	int64_t run_estimate_hours;   /* cost estimate of a job without a timeout */
	int64_t guard_interval_s;     /* burn-rate guard: evaluation period */
	int64_t guard_window_s;       /* ... recent spend measured over this */
	int64_t breaker_cooldown_s;   /* cost breaker: open -> half-open */
	/* connection limits (conntable.h); the caps are further bounded by
	 * the open files limit */
	int64_t agent_conns_max;        /* agent connections at once */
	int64_t agent_conns_per_source; /* ... from one address */
	int64_t agent_auth_timeout_ms;  /* a new one's first signed message */
	int64_t agent_idle_timeout_ms;  /* an agent connection with no traffic */
	int64_t key_rotate_grace_s;     /* an old key accepted after rotation */
	int64_t admin_conns_max;        /* admin connections at once */
	int64_t admin_conns_per_uid;    /* ... of one uid other than root */
	int64_t admin_idle_timeout_ms;  /* one with nothing in flight */
	/* the data dir (scheduler/diskguard.c) */
	int64_t store_min_free_mb;  /* new runs refused below this much free
				     * space (0: no such bound) ... */
	int64_t store_min_free_pct; /* ... or below this share of the
				     * filesystem (0: none); the smaller counts */
	int64_t store_check_ms;     /* free space measured, a failed store
				     * retried, and clients told to wait, this
				     * often */
	int64_t store_max_wal_mb;   /* commit log kept before its oldest
				     * segment is retired (bounds the replay
				     * at start) */
	char backup_dir[512];        /* BackupEngine's directory; empty: no
				     * backups (cmd_backup.c) */
	char master_key_file[512];   /* wraps the tenants' data keys
				     * (keyring.h); empty: config_master_key */
	/* the audit log (audit.h): a signed checkpoint after this many
	 * records, or this long after the last one when there are new ones */
	int64_t audit_checkpoint_records;
	int64_t audit_checkpoint_s;
	/* webhooks (webhook_core.h): an attempt's time limits, the retry
	 * schedule, the age past which a delivery is dead, the CA bundle */
	int64_t webhook_timeout_ms;
	int64_t webhook_connect_timeout_ms;
	int64_t webhook_retry_base_ms;
	int64_t webhook_retry_max_ms;
	int64_t webhook_max_age_s;
	char webhook_ca[512];
	char log_level[16];
	/* roles on the admin socket (access.h): space-separated user:NAME,
	 * group:NAME, uid:N, operator and viewer optionally @TENANT,... */
	char role_admin[1024];
	char role_operator[1024];
	char role_viewer[1024];
	/* not a setting: the three above, resolved (config_resolve) */
	struct access_grants grants;
};

/* The master key's path: master_key_file, else $CREDENTIALS_DIRECTORY/
 * master.key when systemd's LoadCredential= put one there, else the
 * data dir's name + "-keys/master.key" (beside it, not in it:
 * /var/lib/sparkpilot-keys/master.key by default). Into buf. */
const char *config_master_key(const struct sched_config *c, char *buf,
			      size_t len);

/* Fills in the defaults. */
void config_defaults(struct sched_config *c);
/* Reads a config file over c. 0, or -1 with "path:line: reason" in err. */
int config_load(struct sched_config *c, const char *path, char *err,
		size_t errlen);
/* Sets one key (as in the file, e.g. "data_dir") from a string. 0 / -1. */
int config_set(struct sched_config *c, const char *key, const char *value,
	       char *err, size_t errlen);
/* Applies --config FILE, then the flags, over c; exits 2 with the usage
 * on a bad flag or setting. */
void config_parse_args(struct sched_config *c, int argc, char **argv,
		       const char *usage);
/* Works out what the settings imply beyond their values: the role
 * grants, names resolved. 0, or -1 with the reason. */
int config_resolve(struct sched_config *c, char *err, size_t errlen);
/* Checks the combination (e.g. tls+tcp:// needs tls_cert and tls_key). */
int config_validate(const struct sched_config *c, char *err, size_t errlen);
/* The settings as a start with these arguments would have them (defaults,
 * --config file, flags), checked: for a reload. 0, or -1 with the reason;
 * c is then undefined. */
int config_reread(struct sched_config *c, int argc, char **argv, char *err,
		  size_t errlen);
/* Whether a reload applies key at once (else at the next restart). */
bool config_live(const char *key);
struct settings_doc;
/* The scheduler's settings table, for generated documentation. */
void config_describe(struct settings_doc *d);

#endif
