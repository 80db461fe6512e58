/* agent_config.c - the agent's settings table. */
#include "agent_config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "parse.h"
#include "util.h"

struct setting {
	const char *key;
	bool is_int;
	size_t off;
	size_t size;
	int64_t min, max;
};

#define A_STR(f) { #f, false, offsetof(struct agent_config, f), \
		   sizeof(((struct agent_config *)0)->f), 0, 0 }
#define A_INT(f, lo, hi) { #f, true, offsetof(struct agent_config, f), \
			   sizeof(int64_t), lo, hi }

static const struct setting settings[] = {
	A_STR(scheduler),
	A_STR(state_dir),
	A_STR(enroll_token),
	A_STR(enroll_token_file),
	A_STR(spark_submit),
	A_STR(tls_ca),
	A_STR(tls_server_name),
	A_STR(tls_cert),
	A_STR(tls_key),
	A_STR(log_level),
	A_INT(slots, 1, 256),
	A_INT(heartbeat_ms, 100, 600000),
	A_INT(kill_grace_ms, 0, 600000),
	A_INT(request_timeout_ms, 100, 600000),
	A_INT(preflight_retry_ms, 100, 3600000),
};

void agent_config_defaults(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->scheduler, sizeof(c->scheduler), "tcp://127.0.0.1:7450");
	snprintf(c->state_dir, sizeof(c->state_dir),
		 "/var/lib/sparkpilot-agent");
	snprintf(c->spark_submit, sizeof(c->spark_submit),
		 "/opt/spark/bin/spark-submit");
	snprintf(c->log_level, sizeof(c->log_level), "info");
	c->slots = 2;
	c->heartbeat_ms = 2000;
	c->kill_grace_ms = 10000;
	c->request_timeout_ms = 10000;
	c->preflight_retry_ms = 30000;
}

int agent_config_set(struct agent_config *c, const char *key,
		     const char *value, char *err, size_t errlen)
{
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		const struct setting *s = &settings[i];
		char *p = (char *)c + s->off;
		if (strcmp(s->key, key))
			continue;
		if (s->is_int)
			return parse_i64(value, s->min, s->max, (int64_t *)p,
					 err, errlen)
				       ? -1
				       : 0;
		if (strlen(value) >= s->size) {
			snprintf(err, errlen, "value of '%s' is too long", key);
			return -1;
		}
		strcpy(p, value);
		return 0;
	}
	snprintf(err, errlen, "unknown setting '%s'", key);
	return -1;
}

static int conf_cb(const char *key, const char *value, int lineno, void *ctx,
		   char *err, size_t errlen)
{
	(void)lineno;
	return agent_config_set(ctx, key, value, err, errlen);
}

int agent_config_load(struct agent_config *c, const char *path, char *err,
		      size_t errlen)
{
	return conf_load(path, conf_cb, c, err, errlen);
}

int agent_config_validate(const struct agent_config *c, char *err,
			  size_t errlen)
{
	if (strncmp(c->scheduler, "tcp://", 6) &&
	    strncmp(c->scheduler, "tls+tcp://", 10)) {
		snprintf(err, errlen,
			 "scheduler '%s' must be a tcp:// or tls+tcp:// URL",
			 c->scheduler);
		return -1;
	}
	if (!strncmp(c->scheduler, "tls+tcp://", 10) && !c->tls_ca[0]) {
		snprintf(err, errlen,
			 "scheduler '%s' needs tls_ca (the CA to pin)",
			 c->scheduler);
		return -1;
	}
	if (!c->state_dir[0] || !c->spark_submit[0]) {
		snprintf(err, errlen, "state_dir and spark_submit must be set");
		return -1;
	}
	if (c->enroll_token[0] && c->enroll_token_file[0]) {
		snprintf(err, errlen,
			 "give --enroll-token or --enroll-token-file, not both");
		return -1;
	}
	return 0;
}
