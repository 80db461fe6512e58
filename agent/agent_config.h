/*
 * agent_config.h - the agent's settings: defaults, config file, flags.
 */
#ifndef SP_AGENT_CONFIG_H
#define SP_AGENT_CONFIG_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

struct agent_config {
	char scheduler[512];        /* nng URL of the scheduler */
	char state_dir[512];        /* identity key, agent id, work dirs */
	char enroll_token[256];
	char enroll_token_file[512];
	char spark_submit[512];     /* path of spark-submit */
	char tls_ca[512];           /* CA that signed the scheduler's cert */
	char tls_server_name[256];  /* default: the host in `scheduler` */
	char tls_cert[512];         /* optional client certificate */
	char tls_key[512];
	char log_level[16];
	int64_t slots;              /* runs at once */
	int64_t heartbeat_ms;
	int64_t idle_poll_ms;        /* an idle agent's long poll for work */
	int64_t kill_grace_ms;      /* SIGTERM -> SIGKILL on cancel/timeout */
	int64_t request_timeout_ms;
	int64_t preflight_retry_ms; /* re-check a failed preflight */
	int64_t spool_max_mb;       /* telemetry spool bound (tsink.h) */
	char spool_fsync[16];       /* always | interval | never */
	int64_t spool_fsync_ms;     /* interval: sync at least this often */
	int64_t key_rotate_days;    /* identity key renewed at this age; 0 never */
	/* Spark's monitoring REST (a history server), asked for an ended
	 * application's executors to meter them (sparkrest.h); "" = off */
	char spark_rest_url[512];
	int64_t spark_rest_timeout_ms;
	/* cluster mode (agent/backend_submit.c): cancel stops the
	 * application itself, not only the local client */
	char yarn_path[512];     /* `yarn application -kill`, `yarn logs` */
	char yarn_rm_url[512];   /* set: kill through the RM's REST API */
	char kubectl_path[512];  /* `kubectl logs` of the driver pod */
	int64_t collect_driver_log; /* 1: fetch the driver's log at the end */
	int64_t backend_timeout_ms; /* one HTTP call or helper command */
	/* AWS endpoints of the emr-eks backend (agent/aws_creds.h, emr.h);
	 * "" = the public ones of the environment's region. Tests point
	 * them at tests/fakes/aws; production may use VPC endpoints. */
	char aws_sts_endpoint[512];
	char aws_imds_endpoint[512];
	char aws_emr_endpoint[512];
	char aws_s3_endpoint[512];
	/* extra redaction rules, "KIND REGEX" per line (redact.h), each
	 * checked when read */
	char redact_rules[32 * 320];
};

void agent_config_defaults(struct agent_config *c);
struct settings_doc;
/* The agent's settings table, for generated documentation. */
void agent_config_describe(struct settings_doc *d);
/* Reads a file over c: 0, or -1 with "path:line: reason" in err. */
int agent_config_load(struct agent_config *c, const char *path, char *err,
		      size_t errlen);
/* Sets one key from a string (same names as in the file). 0 / -1. */
int agent_config_set(struct agent_config *c, const char *key,
		     const char *value, char *err, size_t errlen);
/* Applies --config FILE, then the flags, over c; exits 2 with the usage
 * on a bad flag or setting. */
void agent_config_parse_args(struct agent_config *c, int argc, char **argv,
			     const char *usage);
int agent_config_validate(const struct agent_config *c, char *err,
			  size_t errlen);
/* The settings as a start with these arguments would have them, checked:
 * for a reload (SIGHUP). 0, or -1 with the reason. */
int agent_config_reread(struct agent_config *c, int argc, char **argv,
			char *err, size_t errlen);

#endif
