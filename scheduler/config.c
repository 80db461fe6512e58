/* config.c - scheduler settings from defaults, a file and flags. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "parse.h"
#include "util.h"

enum ctype { C_STR, C_MS, C_INT };

struct setting {
	const char *key;
	enum ctype type;
	size_t off;
	size_t size;
	int64_t min, max;
};

#define S_STR(f) { #f, C_STR, offsetof(struct sched_config, f), \
		   sizeof(((struct sched_config *)0)->f), 0, 0 }
#define S_INT(f, lo, hi) { #f, C_INT, offsetof(struct sched_config, f), \
			   sizeof(int64_t), lo, hi }

static const struct setting settings[] = {
	S_STR(data_dir),
	S_STR(admin_socket),
	S_STR(listen),
	S_STR(metrics_listen),
	S_STR(tls_cert),
	S_STR(tls_key),
	S_STR(tls_ca),
	S_INT(token_ttl_s, 1, 30LL * 86400),
	S_INT(max_clock_skew_ms, 0, 3600000),
	S_INT(min_disk_mb, 0, 1LL << 30),
	S_INT(lease_wait_max_ms, 0, 60000),
	S_INT(agent_timeout_ms, 1000, 3600000),
	S_STR(log_level),
};

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
	c->lease_wait_max_ms = 5000;
	c->agent_timeout_ms = 30000;
}

int config_set(struct sched_config *c, const char *key, const char *value,
	       char *err, size_t errlen)
{
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		const struct setting *s = &settings[i];
		char *p = (char *)c + s->off;
		if (strcmp(s->key, key))
			continue;
		if (s->type == C_STR) {
			if (strlen(value) >= s->size) {
				snprintf(err, errlen, "value of '%s' is too long",
					 key);
				return -1;
			}
			strcpy(p, value);
			return 0;
		}
		return parse_i64(value, s->min, s->max, (int64_t *)p, err,
				 errlen) ? -1 : 0;
	}
	snprintf(err, errlen, "unknown setting '%s'", key);
	return -1;
}

static int conf_cb(const char *key, const char *value, int lineno, void *ctx,
		   char *err, size_t errlen)
{
	(void)lineno;
	return config_set(ctx, key, value, err, errlen);
}

int config_load(struct sched_config *c, const char *path, char *err,
		size_t errlen)
{
	return conf_load(path, conf_cb, c, err, errlen);
}

int config_validate(const struct sched_config *c, char *err, size_t errlen)
{
	if (!c->data_dir[0] || !c->admin_socket[0] || !c->listen[0]) {
		snprintf(err, errlen,
			 "data_dir, admin_socket and listen must be set");
		return -1;
	}
	if (strncmp(c->listen, "tcp://", 6) &&
	    strncmp(c->listen, "tls+tcp://", 10)) {
		snprintf(err, errlen,
			 "listen '%s' must be a tcp:// or tls+tcp:// URL",
			 c->listen);
		return -1;
	}
	if (!strncmp(c->listen, "tls+tcp://", 10) &&
	    (!c->tls_cert[0] || !c->tls_key[0])) {
		snprintf(err, errlen,
			 "listen '%s' needs tls_cert and tls_key", c->listen);
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
