/* client.c - identity, sequence numbers and the REQ socket of the agent. */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mp.h"
#include "seqfile.h"
#include "sign.h"
#include "util.h"
#include "wire.h"

#define SEQ_BLOCK 1024
/* Bounds of the back-off an `unavailable` answer asks for. */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 60000

struct client {
	char dir[512];
	char id[64];
	/* the scheduler dialed: a reload does not change it (restart) */
	char url[sizeof(((struct agent_config *)0)->scheduler)];
	struct sign_key *key;
	struct sign_key *next; /* identity.key.next: a key rotation under way */
	int64_t key_born_ms;   /* identity.key's modification time */
	struct seqfile seq; /* of our messages */
	nng_socket sock;
	nng_dialer dialer;
	nng_tls_config *tls; /* our reference to what the dialer uses */
	nng_tls_config *tls_prev; /* ... and to what it used before */
	int64_t timeout_ms;
	volatile sig_atomic_t *cancel;
	void (*tick)(void *);
	void *tick_arg;
	int64_t backoff_until; /* monotonic ms: send nothing before */
	bool backing_off;      /* the last answer was `unavailable` */
	/* connections up (nng's pipe callbacks): a call that times out with
	 * none never reached the scheduler, which is what to tell the
	 * operator */
	atomic_int pipes;
};

static void pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct client *c = arg;
	(void)p;
	atomic_fetch_add(&c->pipes, ev == NNG_PIPE_EV_ADD_POST ? 1 : -1);
}

void client_set_cancel(struct client *c, volatile sig_atomic_t *flag)
{
	c->cancel = flag;
}

void client_set_tick(struct client *c, void (*tick)(void *), void *arg)
{
	c->tick = tick;
	c->tick_arg = arg;
}

static void state_path(const struct client *c, const char *name, char *buf,
		       size_t len)
{
	snprintf(buf, len, "%s/%s", c->dir, name);
}

/* The key's age comes from its file: identity.key is only ever written
 * whole (created, or renamed over by a rotation). */
static int64_t mtime_ms(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return time_now_ms();
	return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

/* A key rotation the last run did not finish: identity.key.next was
 * written before the scheduler was told, so it may already be the key
 * the scheduler knows us by. Before enrollment there is none to finish. */
static int load_next(struct client *c, char *err, size_t errlen)
{
	char path[600];

	state_path(c, "identity.key.next", path, sizeof(path));
	if (access(path, F_OK) == -1)
		return 0;
	if (!c->id[0]) {
		unlink(path);
		return 0;
	}
	c->next = sign_key_load(path, err, errlen);
	if (!c->next) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, " (a key rotation under way)");
		return -1;
	}
	return 0;
}

static int load_state(struct client *c, char *err, size_t errlen)
{
	char path[600], *text;

	state_path(c, "identity.key", path, sizeof(path));
	c->key = sign_key_load_or_create(path, err, errlen);
	if (!c->key)
		return -1;
	c->key_born_ms = mtime_ms(path);
	state_path(c, "agent.id", path, sizeof(path));
	text = read_file(path, 256, NULL);
	if (text) {
		text[strcspn(text, "\r\n")] = '\0';
		snprintf(c->id, sizeof(c->id), "%s", text);
		free(text);
	}
	if (load_next(c, err, errlen))
		return -1;
	/* a reused number would be rejected as a replay */
	state_path(c, "seq", path, sizeof(path));
	return seqfile_open(&c->seq, path, SEQ_BLOCK, err, errlen);
}

/* Reads the PEM file named by setting `key` (path): a malloc'd string, or
 * NULL with the reason, naming the file, in err. */
static char *read_pem(const char *key, const char *path, char *err,
		      size_t errlen)
{
	char *pem;

	if (!path[0]) {
		snprintf(err, errlen, "%s is not set", key);
		return NULL;
	}
	pem = read_file(path, 1 << 20, NULL);
	if (!pem)
		snprintf(err, errlen, "cannot read %s '%s': %s", key, path,
			 strerror(errno));
	return pem;
}

/* A client TLS configuration for url (tls+tcp://HOST:PORT) from the files
 * cfg names: *out (ours to free), or -1 with the reason in err naming the
 * file that could not be read or used. The files are read by us, not by
 * nng, so that the reason says which and why. */
static int tls_build(const char *url, const struct agent_config *cfg,
		     nng_tls_config **out, char *err, size_t errlen)
{
	const char *h = "";
	char host[256], *ca = NULL, *cert = NULL, *key = NULL;
	nng_tls_config *t = NULL;
	int rv;

	*out = NULL;
	/* The server name defaults to the host part of the URL ([...] for
	 * an IPv6 address). */
	url_scheme(url, &h);
	if (*h == '[')
		snprintf(host, sizeof(host), "%.*s", (int)strcspn(h + 1, "]"),
			 h + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)strcspn(h, ":/"), h);
	if (!(ca = read_pem("tls_ca", cfg->tls_ca, err, errlen)))
		goto fail;
	if (cfg->tls_cert[0] &&
	    (!(cert = read_pem("tls_cert", cfg->tls_cert, err, errlen)) ||
	     !(key = read_pem("tls_key", cfg->tls_key, err, errlen))))
		goto fail;
	if ((rv = nng_tls_config_alloc(&t, NNG_TLS_MODE_CLIENT)) ||
	    (rv = nng_tls_config_server_name(t, cfg->tls_server_name[0]
							? cfg->tls_server_name
							: host)) ||
	    (rv = nng_tls_config_auth_mode(t, NNG_TLS_AUTH_MODE_REQUIRED))) {
		snprintf(err, errlen, "TLS setup for '%s' failed: %s", url,
			 nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_tls_config_ca_chain(t, ca, NULL))) {
		snprintf(err, errlen, "tls_ca '%s' holds no usable PEM "
			 "certificate: %s", cfg->tls_ca, nng_strerror(rv));
		goto fail;
	}
	if (cert && (rv = nng_tls_config_own_cert(t, cert, key, NULL))) {
		snprintf(err, errlen, "tls_cert '%s' and tls_key '%s' are no "
			 "usable PEM certificate and key: %s", cfg->tls_cert,
			 cfg->tls_key, nng_strerror(rv));
		goto fail;
	}
	*out = t;
	t = NULL;
fail:
	if (t)
		nng_tls_config_free(t);
	free(ca);
	free(cert);
	free(key);
	return *out ? 0 : -1;
}

/* Builds a TLS configuration from cfg's files and hands it to the dialer
 * (before it starts, or while it runs: nng's TLS dialer takes a reference
 * of its own and uses it for the connections it makes from then on). On
 * failure nothing changes. */
static int tls_install(struct client *c, const struct agent_config *cfg,
		       char *err, size_t errlen)
{
	nng_tls_config *t = NULL;
	int rv;

	if (tls_build(c->url, cfg, &t, err, errlen))
		return -1;
	if ((rv = nng_dialer_set_ptr(c->dialer, NNG_OPT_TLS_CONFIG, t))) {
		snprintf(err, errlen, "TLS setup for '%s' failed: %s", c->url,
			 nng_strerror(rv));
		nng_tls_config_free(t);
		return -1;
	}
	/* nng 1.5.2's TLS dialer reads its configuration without its lock
	 * when it dials and takes its reference only after allocating the
	 * connection (tls_dialer_dial, tls_alloc): a dial under way now may
	 * still pick up the one replaced. So ours to that one is dropped at
	 * the next replacement, not at once. */
	if (c->tls_prev)
		nng_tls_config_free(c->tls_prev);
	c->tls_prev = c->tls;
	c->tls = t;
	return 0;
}

bool client_uses_tls(const struct client *c)
{
	return url_scheme(c->url, NULL) == 1;
}

int client_reload_tls(struct client *c, const struct agent_config *cfg,
		      char *err, size_t errlen)
{
	if (!client_uses_tls(c))
		return 0;
	return tls_install(c, cfg, err, errlen);
}

struct client *client_open(const struct agent_config *cfg, char *err,
			   size_t errlen)
{
	struct client *c = xcalloc(1, sizeof(*c));
	int rv;

	snprintf(c->dir, sizeof(c->dir), "%s", cfg->state_dir);
	snprintf(c->url, sizeof(c->url), "%s", cfg->scheduler);
	c->timeout_ms = cfg->request_timeout_ms;
	if (mkdir_p(c->dir, 0700)) {
		snprintf(err, errlen, "cannot create state dir '%s': %s",
			 c->dir, strerror(errno));
		goto fail;
	}
	if (load_state(c, err, errlen))
		goto fail;
	if ((rv = nng_req0_open(&c->sock)) ||
	    (rv = nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ,
				      WIRE_MAX_MSG)) ||
	    (rv = nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME,
				    NNG_DURATION_INFINITE)) ||
	    (rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, pipe_cb, c)) ||
	    (rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, pipe_cb, c)) ||
	    (rv = nng_dialer_create(&c->dialer, c->sock, cfg->scheduler))) {
		snprintf(err, errlen, "cannot dial '%s': %s", cfg->scheduler,
			 nng_strerror(rv));
		goto fail;
	}
	if (client_uses_tls(c) && tls_install(c, cfg, err, errlen))
		goto fail;
	/* Non-blocking: nng keeps redialing in the background. */
	if ((rv = nng_dialer_start(c->dialer, NNG_FLAG_NONBLOCK))) {
		snprintf(err, errlen, "cannot dial '%s': %s", cfg->scheduler,
			 nng_strerror(rv));
		goto fail;
	}
	return c;
fail:
	client_close(c);
	return NULL;
}

void client_close(struct client *c)
{
	if (!c)
		return;
	nng_close(c->sock);
	if (c->tls)
		nng_tls_config_free(c->tls);
	if (c->tls_prev)
		nng_tls_config_free(c->tls_prev);
	sign_key_free(c->key);
	sign_key_free(c->next);
	free(c);
}

const char *client_agent_id(const struct client *c)
{
	return c->id;
}

void client_public_key(const struct client *c, uint8_t pub[32])
{
	sign_key_public(c->key, pub);
}

const struct sign_key *client_key(const struct client *c)
{
	return c->key;
}

int client_set_agent_id(struct client *c, const char *id)
{
	char path[600], buf[80];
	int n = snprintf(buf, sizeof(buf), "%s\n", id);
	state_path(c, "agent.id", path, sizeof(path));
	if (write_file_atomic(path, buf, (size_t)n, 0600))
		return error("cannot write '%s': %s", path, strerror(errno));
	snprintf(c->id, sizeof(c->id), "%s", id);
	return 0;
}

int client_seal(struct client *c, const char *type, const void *body,
		size_t len, struct strbuf *out)
{
	return client_seal_key(c, c->key, type, body, len, out);
}

int client_seal_key(struct client *c, const struct sign_key *key,
		    const char *type, const void *body, size_t len,
		    struct strbuf *out)
{
	uint64_t seq;

	if (seqfile_next(&c->seq, &seq))
		return -1;
	strbuf_reset(out);
	wire_seal(out, type, c->id, seq, time_now_ms(), body, len, key);
	return 0;
}

int64_t client_key_born_ms(const struct client *c)
{
	return c->key_born_ms;
}

const struct sign_key *client_next_key(const struct client *c)
{
	return c->next;
}

/* After a rename or unlink in the state dir: the change survives a power
 * cut once the directory is synced. */
static int sync_dir(const struct client *c)
{
	int fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int client_rotate_begin(struct client *c, char *err, size_t errlen)
{
	char path[600];
	struct sign_key *k;

	if (c->next)
		return 0;
	state_path(c, "identity.key.next", path, sizeof(path));
	k = sign_key_generate();
	/* durable (file and directory synced) before anyone is told */
	if (!k || sign_key_save(k, path)) {
		snprintf(err, errlen, "cannot write '%s': %s", path,
			 strerror(errno));
		sign_key_free(k);
		return -1;
	}
	c->next = k;
	return 0;
}

int client_rotate_commit(struct client *c, char *err, size_t errlen)
{
	char from[600], to[600];

	state_path(c, "identity.key.next", from, sizeof(from));
	state_path(c, "identity.key", to, sizeof(to));
	if (rename(from, to) == -1 || sync_dir(c) == -1) {
		snprintf(err, errlen, "cannot rename '%s' to '%s': %s", from,
			 to, strerror(errno));
		return -1;
	}
	sign_key_free(c->key);
	c->key = c->next;
	c->next = NULL;
	c->key_born_ms = mtime_ms(to);
	return 0;
}

void client_rotate_abort(struct client *c)
{
	char path[600];

	state_path(c, "identity.key.next", path, sizeof(path));
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("cannot remove '%s': %s", path, strerror(errno));
	else
		sync_dir(c);
	sign_key_free(c->next);
	c->next = NULL;
}

static void recv_done(void *arg)
{
	sem_post(arg);
}

/* Waits for sem up to 20 ms; true once it was posted. */
static bool wait_briefly(sem_t *sem)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 20 * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	while (sem_timedwait(sem, &ts))
		if (errno != EINTR)
			return false;
	return true;
}

/* An `unavailable` answer: the scheduler's store takes no writes, so it
 * acted on nothing. Nothing is sent for the time it asks; the caller
 * resends the same bytes afterwards. true if reply was one. */
static bool backoff(struct client *c, const msgpack_object *reply, char *err,
		    size_t errlen)
{
	bool ok = true;
	char code[32] = "";
	int64_t ms = 1000;

	mp_get_bool(reply, "ok", &ok);
	mp_get_str(reply, "error", code, sizeof(code));
	if (ok || strcmp(code, "unavailable")) {
		if (c->backing_off)
			log_info("the scheduler takes reports again");
		c->backing_off = false;
		return false;
	}
	mp_get_i64(reply, "retry_after_ms", &ms);
	if (ms < BACKOFF_MIN_MS)
		ms = BACKOFF_MIN_MS;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	c->backoff_until = time_mono_ms() + ms;
	if (!c->backing_off)
		log_warn("the scheduler cannot store anything now "
			 "(unavailable): backing off, every report is kept "
			 "and sent again");
	c->backing_off = true;
	snprintf(err, errlen, "the scheduler is unavailable; resending in "
		 "%lld ms", (long long)ms);
	return true;
}

int client_call(struct client *c, const void *msg, size_t len,
		int64_t timeout_ms, struct strbuf *raw, msgpack_unpacked *reply,
		char *err, size_t errlen)
{
	nng_msg *m;
	nng_aio *aio;
	int rv;
	int64_t wait = c->backoff_until - time_mono_ms(), down_since = 0;
	bool unconnected = false;

	if (wait > 0) {
		snprintf(err, errlen, "backing off for %lld ms (the scheduler "
			 "is unavailable)", (long long)wait);
		return -1;
	}
	if ((rv = nng_msg_alloc(&m, 0)) || (rv = nng_msg_append(m, msg, len)))
		goto fail;
	/* The send waits for a connection to take the request: a request
	 * timeout at most, however long the answer may take (a long poll) */
	nng_socket_set_ms(c->sock, NNG_OPT_SENDTIMEO,
			  (nng_duration)(timeout_ms < c->timeout_ms ? timeout_ms
								 : c->timeout_ms));
	if ((rv = nng_sendmsg(c->sock, m, 0))) {
		nng_msg_free(m);
		goto fail;
	}
	/* One receive for the whole wait: a REQ socket abandons its request
	 * when a receive ends, so the wait is not cut into slices. The reply
	 * wakes us at once; a stop signal cancels it (checked every 20 ms). */
	sem_t done;
	sem_init(&done, 0, 0);
	if ((rv = nng_aio_alloc(&aio, recv_done, &done))) {
		sem_destroy(&done);
		goto fail;
	}
	nng_aio_set_timeout(aio, (nng_duration)timeout_ms);
	nng_recv_aio(c->sock, aio);
	while (!wait_briefly(&done)) {
		int64_t now = time_mono_ms();
		if (c->cancel && *c->cancel)
			nng_aio_cancel(aio);
		if (c->tick)
			c->tick(c->tick_arg);
		/* With no connection for a whole request timeout, the request
		 * cannot be at the scheduler: a long poll's wait is not
		 * waited out (the caller resends, and says why). */
		if (atomic_load(&c->pipes))
			down_since = 0;
		else if (!down_since)
			down_since = now;
		else if (!unconnected && now - down_since >= c->timeout_ms) {
			unconnected = true;
			nng_aio_cancel(aio);
		}
	}
	nng_aio_wait(aio);
	sem_destroy(&done);
	rv = nng_aio_result(aio);
	m = rv ? NULL : nng_aio_get_msg(aio);
	nng_aio_free(aio);
	if (rv)
		goto fail;
	/* Unpacked strings point into the buffer: keep the bytes in raw. */
	strbuf_reset(raw);
	strbuf_add(raw, nng_msg_body(m), nng_msg_len(m));
	nng_msg_free(m);
	msgpack_unpacked_init(reply);
	if (msgpack_unpack_next(reply, raw->buf, raw->len, NULL) !=
		    MSGPACK_UNPACK_SUCCESS ||
	    reply->data.type != MSGPACK_OBJECT_MAP) {
		msgpack_unpacked_destroy(reply);
		snprintf(err, errlen, "malformed reply from the scheduler");
		return -1;
	}
	if (backoff(c, &reply->data, err, errlen)) {
		msgpack_unpacked_destroy(reply);
		return -1;
	}
	return 0;
fail:
	if ((rv == NNG_ETIMEDOUT || unconnected) && !atomic_load(&c->pipes))
		snprintf(err, errlen,
			 "not connected to %s (nothing listening there, a "
			 "wrong address or port, a firewall, or a TLS "
			 "handshake that failed)",
			 c->url);
	else
		snprintf(err, errlen, "%s", nng_strerror(rv));
	return -1;
}
