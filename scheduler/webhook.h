/*
 * webhook.h - the rules of signed webhooks (docs/operator-guide.md,
 * Webhooks), with no I/O, no locks and no clock of its own, so that unit
 * tests check them exactly: signatures as the Standard Webhooks
 * specification defines them, secrets, event filters, URL syntax and the
 * retry schedule. The core's side (webhook_core.h), the records
 * (webhook_rec.h) and the delivery thread (webhook_send.h) use these.
 */
#ifndef SP_WEBHOOK_H
#define SP_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "whsec_" + base64 of WEBHOOK_SECRET_BYTES random bytes, NUL. */
#define WEBHOOK_SECRET_BYTES 32
#define WEBHOOK_SECRET_LEN (6 + 4 * ((WEBHOOK_SECRET_BYTES + 2) / 3) + 1)
/* "v1," + base64 of a SHA-256 HMAC, NUL. */
#define WEBHOOK_SIG_LEN (3 + 44 + 1)
/* A hook's id: "wh_" + 16 hex, NUL. */
#define WEBHOOK_ID_LEN 20
#define WEBHOOK_URL_MAX 512
#define WEBHOOK_EVENTS_MAX 256
/* The events a hook gets when it names none. */
#define WEBHOOK_DEFAULT_EVENTS "run.*,budget.*"

/* A new secret from OpenSSL's RAND_bytes into out. 0, or -1 (no entropy). */
int webhook_secret_new(char out[WEBHOOK_SECRET_LEN]);
/* A new hook id from RAND_bytes. 0 or -1. */
int webhook_id_new(char out[WEBHOOK_ID_LEN]);

/* The webhook-signature header's value for one attempt: "v1," + base64 of
 * HMAC-SHA256 over "msg_id.timestamp.body", keyed with the base64-decoded
 * part of secret after "whsec_" (the prefix is optional). 0, or -1 if the
 * secret does not decode. */
int webhook_sign(const char *secret, const char *msg_id, int64_t ts_s,
		 const char *body, size_t len, char out[WEBHOOK_SIG_LEN]);

/* Whether type ("run.failed") is one of filter's comma-separated names,
 * each an exact name, "prefix.*" (any name starting "prefix.") or "*".
 * An empty filter matches nothing. */
bool webhook_filter_match(const char *filter, const char *type);
/* Checks a filter given at `webhook add`: names of [a-z0-9_.] with an
 * optional ".*" at the end, comma-separated, none empty. 0, or -1 with a
 * reason. */
int webhook_filter_check(const char *filter, char *err, size_t errlen);

/* The parts of an http:// or https:// URL that matter here. */
struct webhook_url {
	bool https;
	char host[256]; /* without brackets for an IPv6 literal */
	char port[8];   /* "" = the scheme's */
};
/* Parses url: only http and https, a host, at most WEBHOOK_URL_MAX
 * bytes, no spaces or control characters. 0, or -1 with the reason worded
 * for `error: invalid: webhook URL 'URL': REASON`. Resolving the host is
 * the caller's (it blocks). */
int webhook_url_parse(const char *url, struct webhook_url *u, char *err,
		      size_t errlen);

/* The wait before attempt n + 1 after n failed attempts (n >= 1): base
 * doubled per attempt up to max, then "equal jitter": half of it fixed,
 * the other half scaled by rnd / 2^32, so that endpoints that fail
 * together are not retried in lock step. */
int64_t webhook_backoff_ms(int64_t base_ms, int64_t max_ms, uint32_t n,
			   uint32_t rnd);

/* The event type of a run that ended for good in state (run.succeeded,
 * run.failed for failed and timed_out, run.cancelled), or NULL. */
struct run;
const char *webhook_run_event(const struct run *r);

#endif
