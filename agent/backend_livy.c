/*
 * backend_livy.c - runs through Apache Livy's batch REST API: POST
 * /batches, GET /batches/{id}/state (and /batches/{id} until the
 * application id is known) with back-off, GET /batches/{id}/log paged
 * into the run's logs through the redacting sink, DELETE /batches/{id}
 * to cancel. Basic auth with a password read from a file on the agent
 * host (livy_password_file), TLS verified with livy_ca.
 *
 * The calls block the agent's loop for at most backend_timeout_ms each;
 * polls are spaced out (back-off up to livy_poll_ms) so a slow Livy
 * costs little.
 */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_config.h"
#include "bhttp.h"
#include "livy_req.h"
#include "log.h"
#include "util.h"

#define LIVY_POLL_FIRST_MS 250
#define LIVY_POLL_MAX_MS 5000 /* default of livy_poll_ms */
#define LIVY_LOG_PAGE 100     /* Livy's own default page */
#define LIVY_MAX_ERRORS 30    /* unanswered polls in a row fail the run */

struct backend_run {
	struct backend_ctx ctx; /* argv and settings not kept */
	char url[1024], user[256], password[512], ca[512];
	int64_t id;
	char app_id[128], state[32];
	enum backend_state st;
	bool cancelled, deleted, timed_out;
	int64_t log_from;
	int stream;
	int64_t next_poll, interval, poll_max, deadline;
	int errors;
	char reason[600];
	struct strbuf body;
};

/* Reads the password file: its first line. 0, or -1 with err. */
static int read_password(const char *path, char *out, size_t len, char *err,
			 size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot read livy_password_file '%s': %m",
			 path);
		return -1;
	}
	if (!fgets(out, (int)len, f))
		out[0] = '\0';
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

/* One call to {livy_url}{path}. 0 with *status, or -1 with err. */
static int call(struct backend_run *h, const char *method, const char *path,
		const char *body, long *status, char *err, size_t errlen)
{
	struct strbuf url = STRBUF_INIT;
	struct bhttp_req req = { method, NULL, body, NULL, NULL, NULL,
				 (long)h->ctx.cfg->backend_timeout_ms };
	int rc;

	strbuf_addf(&url, "%s%s", h->url, path);
	req.url = url.buf;
	if (h->user[0]) {
		req.user = h->user;
		req.password = h->password;
	}
	req.ca_file = h->ca;
	rc = bhttp_call(&req, status, &h->body, err, errlen);
	strbuf_release(&url);
	return rc;
}

/* A refusal Livy explains: its body names why ("requirement failed:
 * ..."), cut to one line. */
static void http_error(struct backend_run *h, const char *what, long status,
		       char *err, size_t errlen)
{
	if (status == 401 || status == 403)
		snprintf(err, errlen, "Livy refused the credentials for %s "
			 "(HTTP %ld): check livy_user and livy_password_file",
			 what, status);
	else
		snprintf(err, errlen, "Livy: %s: HTTP %ld: %.200s", what,
			 status, h->body.len ? h->body.buf : "");
	err[strcspn(err, "\r\n")] = '\0';
}

static int setup(struct backend_run *h, const struct backend_ctx *ctx,
		 char *err, size_t errlen)
{
	const char *url = backend_setting(ctx, "livy_url");
	const char *s;

	if (!url || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))) {
		snprintf(err, errlen, "backend livy needs the setting "
			 "livy_url (http:// or https://): spctl env set "
			 "%s/%s --backend-setting livy_url=URL", ctx->tenant,
			 ctx->env);
		return -1;
	}
	snprintf(h->url, sizeof(h->url), "%s", url);
	if (h->url[strlen(h->url) - 1] == '/')
		h->url[strlen(h->url) - 1] = '\0';
	if ((s = backend_setting(ctx, "livy_user")))
		snprintf(h->user, sizeof(h->user), "%s", s);
	if ((s = backend_setting(ctx, "livy_password_file")) &&
	    read_password(s, h->password, sizeof(h->password), err, errlen))
		return -1;
	if ((s = backend_setting(ctx, "livy_ca")))
		snprintf(h->ca, sizeof(h->ca), "%s", s);
	h->poll_max = LIVY_POLL_MAX_MS;
	if ((s = backend_setting(ctx, "livy_poll_ms")) && atoll(s) >= 10)
		h->poll_max = atoll(s);
	return 0;
}

static struct backend_run *submit(const struct backend_ctx *ctx, char *err,
				  size_t errlen)
{
	struct backend_run *h = xcalloc(1, sizeof(*h));
	struct strbuf json = STRBUF_INIT;
	long status;

	h->ctx = *ctx;
	h->ctx.argv = NULL;
	h->ctx.settings = NULL;
	h->ctx.nsettings = 0;
	h->ctx.workdir = NULL;
	h->stream = 2;
	strbuf_init(&h->body, 0);
	if (setup(h, ctx, err, errlen) ||
	    livy_batch_json(ctx, &json, err, errlen) ||
	    call(h, "POST", "/batches", json.buf, &status, err, errlen))
		goto fail;
	if (status != 200 && status != 201) {
		http_error(h, "POST /batches", status, err, errlen);
		goto fail;
	}
	if (livy_parse_batch(h->body.buf, h->body.len, &h->id, h->state,
			     sizeof(h->state), h->app_id, sizeof(h->app_id),
			     err, errlen))
		goto fail;
	log_info("run %llu attempt %llu: Livy batch %lld",
		 (unsigned long long)ctx->run, (unsigned long long)ctx->attempt,
		 (long long)h->id);
	h->interval = LIVY_POLL_FIRST_MS;
	h->next_poll = time_mono_ms() + h->interval;
	h->deadline = ctx->timeout_ms ? time_mono_ms() + ctx->timeout_ms : 0;
	strbuf_release(&json);
	return h;
fail:
	memset(h->password, 0, sizeof(h->password));
	strbuf_release(&json);
	strbuf_release(&h->body);
	free(h);
	return NULL;
}

/* Pages the log from where the last page ended; a page shorter than asked
 * is the end for now. */
static void fetch_log(struct backend_run *h)
{
	char path[128], err[300];
	long status;
	int n;

	for (int pages = 0; pages < 50; pages++) {
		snprintf(path, sizeof(path), "/batches/%lld/log?from=%lld&size=%d",
			 (long long)h->id, (long long)h->log_from,
			 LIVY_LOG_PAGE);
		if (call(h, "GET", path, NULL, &status, err, sizeof(err)))
			return;
		if (status != 200)
			return;
		n = livy_log_page(h->body.buf, h->body.len, h->ctx.sink,
				  h->ctx.sink_ctx, &h->stream, err, sizeof(err));
		if (n < 0) {
			log_warn("run %llu: %s", (unsigned long long)h->ctx.run,
				 err);
			return;
		}
		h->log_from += n;
		if (n < LIVY_LOG_PAGE)
			return;
	}
}

/* DELETE /batches/{id}: true once Livy has let it go (or never had it). */
static bool delete_batch(struct backend_run *h)
{
	char path[64], err[300];
	long status;

	snprintf(path, sizeof(path), "/batches/%lld", (long long)h->id);
	if (call(h, "DELETE", path, NULL, &status, err, sizeof(err))) {
		log_warn("run %llu: Livy DELETE %s: %s",
			 (unsigned long long)h->ctx.run, path, err);
		return false;
	}
	if (status != 200 && status != 404) {
		http_error(h, "DELETE", status, err, sizeof(err));
		log_warn("run %llu: %s", (unsigned long long)h->ctx.run, err);
		return false;
	}
	log_info("run %llu: Livy batch %lld deleted",
		 (unsigned long long)h->ctx.run, (long long)h->id);
	return true;
}

/* Asks Livy for the state (and the application id until known). */
static void ask_state(struct backend_run *h)
{
	char path[64], err[300], state[32] = "", app[128] = "";
	enum backend_state was = h->st;
	long status;
	int64_t id;
	bool known;

	/* the whole batch only while its application id is unknown */
	snprintf(path, sizeof(path), "/batches/%lld%s", (long long)h->id,
		 h->app_id[0] ? "/state" : "");
	if (call(h, "GET", path, NULL, &status, err, sizeof(err)) == 0 &&
	    status != 200)
		http_error(h, path, status, err, sizeof(err));
	else if (status == 200 &&
		 livy_parse_batch(h->body.buf, h->body.len, &id, state,
				  sizeof(state), app, sizeof(app), err,
				  sizeof(err)))
		status = 0; /* a malformed answer counts as none */
	if (status != 200) {
		if (status == 401 || status == 403 || status == 404 ||
		    ++h->errors >= LIVY_MAX_ERRORS) {
			h->st = BACKEND_FAILED;
			snprintf(h->reason, sizeof(h->reason), "%s", err);
		}
		return;
	}
	h->errors = 0;
	snprintf(h->state, sizeof(h->state), "%s", state);
	h->st = livy_state(state, h->cancelled, &known);
	if (!known)
		log_warn("run %llu: unknown Livy state '%.31s'",
			 (unsigned long long)h->ctx.run, state);
	if (app[0] && strcmp(app, h->app_id)) {
		snprintf(h->app_id, sizeof(h->app_id), "%s", app);
		if (h->st == BACKEND_SUBMITTED)
			h->ctx.report(h->ctx.sink_ctx, BACKEND_SUBMITTED,
				      h->app_id);
	}
	if (h->st == BACKEND_RUNNING && was != BACKEND_RUNNING)
		h->ctx.report(h->ctx.sink_ctx, BACKEND_RUNNING, h->app_id);
	if (h->st != was)
		h->interval = LIVY_POLL_FIRST_MS; /* things move: look soon */
	if (h->st == BACKEND_FAILED)
		snprintf(h->reason, sizeof(h->reason),
			 "Livy batch %lld ended in state %s", (long long)h->id,
			 state);
}

static void fill(struct backend_run *h, struct backend_status *st)
{
	st->state = h->st;
	snprintf(st->app_id, sizeof(st->app_id), "%s", h->app_id);
	snprintf(st->reason, sizeof(st->reason), "%s", h->reason);
	st->exit_code = h->st == BACKEND_SUCCEEDED ? 0 : -1;
}

static bool poll_run(struct backend_run *h, int64_t now, bool read,
		     struct backend_status *st)
{
	if (backend_state_final(h->st) || now < h->next_poll) {
		fill(h, st);
		return backend_state_final(h->st);
	}
	if (h->deadline && now >= h->deadline && !h->timed_out) {
		h->timed_out = true;
		h->cancelled = true;
	}
	if (read)
		fetch_log(h);
	if (h->cancelled && !h->deleted) {
		/* the log first: Livy forgets a batch once it is deleted */
		h->deleted = delete_batch(h);
		if (h->deleted) {
			h->st = h->timed_out ? BACKEND_TIMED_OUT
					     : BACKEND_CANCELLED;
			snprintf(h->reason, sizeof(h->reason), "%s",
				 h->timed_out ? "timeout reached: the Livy "
						"batch was deleted"
					      : "cancelled");
		}
	} else {
		ask_state(h);
		if (backend_state_final(h->st) && read)
			fetch_log(h); /* what came since the last page */
	}
	h->interval = h->interval * 2 > h->poll_max ? h->poll_max
						    : h->interval * 2;
	h->next_poll = now + h->interval;
	fill(h, st);
	return backend_state_final(h->st);
}

static void cancel(struct backend_run *h, int64_t now_mono)
{
	(void)now_mono;
	h->cancelled = true;
	h->next_poll = 0; /* the DELETE goes out on the next poll */
}

static int64_t next_deadline(const struct backend_run *h)
{
	if (backend_state_final(h->st))
		return 0;
	if (h->deadline && h->deadline < h->next_poll)
		return h->deadline;
	return h->next_poll;
}

static void free_run(struct backend_run *h)
{
	if (!h)
		return;
	/* an agent stopping leaves no batch behind it on Livy */
	if (!backend_state_final(h->st) && !h->deleted)
		delete_batch(h);
	memset(h->password, 0, sizeof(h->password));
	strbuf_release(&h->body);
	free(h);
}

const struct backend_ops backend_livy_ops = {
	.name = "livy",
	.submit = submit,
	.poll = poll_run,
	.cancel = cancel,
	.next_deadline = next_deadline,
	.free = free_run,
};
