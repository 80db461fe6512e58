/* webhook.c - signatures, secrets, filters, URLs and retries of webhooks. */
#include "webhook.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "util.h"

#define SECRET_PREFIX "whsec_"

int webhook_secret_new(char out[WEBHOOK_SECRET_LEN])
{
	unsigned char raw[WEBHOOK_SECRET_BYTES];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	memcpy(out, SECRET_PREFIX, 6);
	EVP_EncodeBlock((unsigned char *)out + 6, raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

int webhook_id_new(char out[WEBHOOK_ID_LEN])
{
	uint8_t raw[8];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	memcpy(out, "wh_", 3);
	hex_encode(raw, sizeof(raw), out + 3);
	return 0;
}

/* The key bytes of a secret: base64 after the optional prefix. EVP's
 * decoder counts the padding as zero bytes, so they are taken off. */
static int secret_key(const char *secret, unsigned char *key, size_t cap,
		      size_t *len)
{
	size_t n, pad = 0;
	int got;

	if (!strncmp(secret, SECRET_PREFIX, 6))
		secret += 6;
	n = strlen(secret);
	if (!n || n % 4 || n / 4 * 3 > cap)
		return -1;
	got = EVP_DecodeBlock(key, (const unsigned char *)secret, (int)n);
	if (got < 0)
		return -1;
	pad = (secret[n - 1] == '=') + (n > 1 && secret[n - 2] == '=');
	*len = (size_t)got - pad;
	return *len ? 0 : -1;
}

int webhook_sign(const char *secret, const char *msg_id, int64_t ts_s,
		 const char *body, size_t len, char out[WEBHOOK_SIG_LEN])
{
	unsigned char key[96], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t klen;
	char head[160];
	int hl;
	unsigned char *msg;

	if (secret_key(secret, key, sizeof(key), &klen))
		return -1;
	hl = snprintf(head, sizeof(head), "%s.%lld.", msg_id, (long long)ts_s);
	if (hl < 0 || (size_t)hl >= sizeof(head))
		return -1;
	/* one buffer: HMAC() takes the message whole */
	msg = xmalloc((size_t)hl + len + 1);
	memcpy(msg, head, (size_t)hl);
	memcpy(msg + hl, body, len);
	if (!HMAC(EVP_sha256(), key, (int)klen, msg, (size_t)hl + len, mac,
		  &maclen)) {
		free(msg);
		OPENSSL_cleanse(key, sizeof(key));
		return -1;
	}
	free(msg);
	OPENSSL_cleanse(key, sizeof(key));
	memcpy(out, "v1,", 3);
	EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)maclen);
	return 0;
}

bool webhook_filter_match(const char *filter, const char *type)
{
	const char *p = filter;

	while (*p) {
		size_t n = strcspn(p, ",");
		if (n == 1 && p[0] == '*')
			return true;
		if (n >= 2 && p[n - 2] == '.' && p[n - 1] == '*') {
			/* "run.*": the prefix with its dot */
			if (!strncmp(type, p, n - 1) && type[n - 1])
				return true;
		} else if (strlen(type) == n && !strncmp(type, p, n)) {
			return true;
		}
		p += n + (p[n] == ',');
	}
	return false;
}

int webhook_filter_check(const char *filter, char *err, size_t errlen)
{
	const char *p = filter;

	if (!*filter || strlen(filter) >= WEBHOOK_EVENTS_MAX) {
		snprintf(err, errlen, "--events must list 1 to %d bytes of "
			 "event names", WEBHOOK_EVENTS_MAX - 1);
		return -1;
	}
	for (;;) {
		size_t n = strcspn(p, ",");
		bool ok = n > 0;
		for (size_t i = 0; ok && i < n; i++) {
			char ch = p[i];
			bool star = ch == '*' && i == n - 1 &&
				    (n == 1 || p[i - 1] == '.');
			ok = star || (ch >= 'a' && ch <= 'z') ||
			     (ch >= '0' && ch <= '9') || ch == '_' ||
			     ch == '.';
		}
		if (!ok) {
			snprintf(err, errlen,
				 "--events '%.100s': each name is like "
				 "run.failed or budget.* (a-z, 0-9, _ and .; "
				 "* only as a last part)",
				 filter);
			return -1;
		}
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

int webhook_url_parse(const char *url, struct webhook_url *u, char *err,
		      size_t errlen)
{
	const char *p, *host, *end;
	size_t hl;

	memset(u, 0, sizeof(*u));
	if (strlen(url) > WEBHOOK_URL_MAX) {
		snprintf(err, errlen, "longer than %d bytes", WEBHOOK_URL_MAX);
		return -1;
	}
	for (p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			snprintf(err, errlen, "spaces and control characters "
				 "are not allowed");
			return -1;
		}
	if (!strncmp(url, "https://", 8)) {
		u->https = true;
		host = url + 8;
	} else if (!strncmp(url, "http://", 7)) {
		host = url + 7;
	} else {
		snprintf(err, errlen, "only http and https are allowed");
		return -1;
	}
	end = host + strcspn(host, "/?#");
	/* userinfo: credentials in a URL would be shown by `webhook list` */
	if (memchr(host, '@', (size_t)(end - host))) {
		snprintf(err, errlen, "credentials in the URL are not allowed "
			 "(the signature authenticates the scheduler)");
		return -1;
	}
	if (*host == '[') { /* [v6]:port */
		const char *rb = memchr(host, ']', (size_t)(end - host));
		if (!rb)
			goto bad_host;
		hl = (size_t)(rb - host - 1);
		if (!hl || hl >= sizeof(u->host))
			goto bad_host;
		memcpy(u->host, host + 1, hl);
		p = rb + 1;
	} else {
		p = memchr(host, ':', (size_t)(end - host));
		if (!p)
			p = end;
		hl = (size_t)(p - host);
		if (!hl || hl >= sizeof(u->host))
			goto bad_host;
		memcpy(u->host, host, hl);
	}
	if (p < end) {
		size_t pl = (size_t)(end - p - 1);
		char *e;
		unsigned long port;
		if (*p != ':' || !pl || pl >= sizeof(u->port))
			goto bad_port;
		memcpy(u->port, p + 1, pl);
		port = strtoul(u->port, &e, 10);
		if (*e || port < 1 || port > 65535 || u->port[0] == '+' ||
		    u->port[0] == '-')
			goto bad_port;
	}
	return 0;
bad_host:
	snprintf(err, errlen, "no valid host");
	return -1;
bad_port:
	snprintf(err, errlen, "the port must be 1 to 65535");
	return -1;
}

int64_t webhook_backoff_ms(int64_t base_ms, int64_t max_ms, uint32_t n,
			   uint32_t rnd)
{
	int64_t d = base_ms;

	for (uint32_t i = 1; i < n && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	return d / 2 + (int64_t)(((uint64_t)(d - d / 2) * rnd) >> 32);
}

const char *webhook_run_event(const struct run *r)
{
	switch (r->state) {
	case RUN_SUCCEEDED:
		return "run.succeeded";
	case RUN_FAILED:
	case RUN_TIMED_OUT:
		return "run.failed";
	case RUN_CANCELLED:
		return "run.cancelled";
	default:
		return NULL;
	}
}
