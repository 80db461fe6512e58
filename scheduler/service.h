/*
 * service.h - what stands between the configuration and the running
 * scheduler: the connection caps drawn from the open files limit, the
 * agent port's TLS files, and a reload (SIGHUP) that reads the
 * configuration again and hands each running part what it may change.
 * Main thread only.
 */
#ifndef SP_SERVICE_H
#define SP_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "conntable.h"
#include "log.h"

struct sched;
struct agentsvc;
struct admin_server;
struct sched_config;
struct tlscert;

/* Warn when the agent port's certificate has less than this left. */
#define SERVICE_CERT_WARN_DAYS 14

struct service {
	struct sched *core;
	struct agentsvc *agents;
	struct admin_server *admin;
	struct sched_config *applied; /* what is in force (ours) */
	char cert_sha256[65];         /* of the certificate served */
};

enum log_level service_log_level(const char *name);

/* Raises the open files limit to its hard limit (once, at start) and
 * splits it between agent and admin connections as cfg asks, keeping
 * room for the store. -1 with a reason in err if it cannot. */
int service_conn_limits(const struct sched_config *cfg, bool raise,
			struct conntable_limits *agents,
			struct conntable_limits *admin, char *err,
			size_t errlen);

/* Reads cfg's TLS files for the agent port and checks them (tlscert.h),
 * logging the certificate and warning if it expires soon or has. */
int service_load_tls(const struct sched_config *cfg, struct tlscert *tc,
		     char *err, size_t errlen);

/*
 * SIGHUP: the configuration is read again as a start would read it (the
 * same --config file and flags). What a reload may change (config_live)
 * applies at once, each change logged with its old and new value; any
 * other change is named and waits for a restart. The TLS files are read
 * again even when their paths did not change (a renewed certificate
 * usually replaces the old file) and served from the next handshake on.
 * A file that does not load or validate, TLS files that do not parse or
 * do not match, or an expired certificate refuse the reload in one line,
 * and nothing changes.
 */
void service_reload(struct service *s, int argc, char **argv);

#endif
