/*
 * agentsvc.h - the agent listener: an nng REP socket on tcp:// or tls+tcp://
 * with one context per in-flight request. Message decoding and signature
 * checks run here on nng's threads; the core thread does the rest. Only
 * this module (and the agent's client) include nng.
 */
#ifndef SP_AGENTSVC_H
#define SP_AGENTSVC_H

#include <stddef.h>
#include <stdint.h>

struct sched;
struct keyreg;
struct sched_config;
struct agentsvc;
struct conntable_limits;
struct tlscert;

/* Listens on cfg->listen (with tc's certificate and key for tls+tcp://;
 * NULL for tcp://), holding its connections
 * to *lim (copied): a new one must send a message that verifies (or enroll)
 * within lim->auth_timeout_ms, and is shed first when a cap is reached
 * until then; an authenticated one is closed after lim->idle_timeout_ms
 * without a request. Counters go to connstats. NULL + reason on error. */
struct agentsvc *agentsvc_start(const struct sched_config *cfg,
				const struct tlscert *tc,
				const struct conntable_limits *lim,
				struct sched *core, struct keyreg *keys,
				char *err, size_t errlen);
/* Serves tc's certificate and key (and client CA) from the next TLS
 * handshake on; connections up now keep theirs. Main thread only (start
 * and reload). -1 with a reason in err, the running ones kept. */
int agentsvc_tls(struct agentsvc *s, const struct tlscert *tc, char *err,
		 size_t errlen);
/* New caps and timeouts (a reload): new connections are admitted under
 * them, the connections over a lowered cap stay, the timeouts apply from
 * the next check (within a second). */
void agentsvc_set_limits(struct agentsvc *s,
			 const struct conntable_limits *lim);
/* Closes the socket: no new requests; replies still owed fail quietly. */
void agentsvc_close(struct agentsvc *s);
/* agentsvc_close, waiting at most ms for it: 0 closed, -1 still closing
 * (then s must not be freed; the process should exit). */
int agentsvc_close_within(struct agentsvc *s, int64_t ms);
/* Frees everything; call after core_stop. */
void agentsvc_free(struct agentsvc *s);

#endif
