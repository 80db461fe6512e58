/* cmd_webhook.c - spctl webhook add | list | show | remove | test. */
#include <netdb.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "admin_cmds.h"
#include "audit.h"
#include "log.h"
#include "sched_ctx.h"
#include "util.h"
#include "webhook_core.h"
#include "worker.h"

/* `webhook add` resolves the URL's host on a worker thread: a resolver
 * that does not answer must not hold up the core. */
struct add_job {
	struct event *ev;
	struct webhook_hook h; /* all but id and secret */
	struct webhook_url u;
	int gai;               /* getaddrinfo's result */
	char actor[32];        /* for the audit record of the outcome */
	char role[16];
};

static void add_resolve(void *arg)
{
	struct add_job *j = arg;
	struct addrinfo hints, *res = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	j->gai = getaddrinfo(j->u.host,
			     j->u.port[0] ? j->u.port
					  : j->u.https ? "443" : "80",
			     &hints, &res);
	if (res)
		freeaddrinfo(res);
}

/* Creates the hook once its host resolved; the secret goes into this
 * reply and nowhere else (not the log, not the audit log). */
static int add_create(struct sched *c, struct add_job *j, struct reply *r)
{
	struct webhook_hook *h;

	if (j->gai)
		return cmd_fail(r, "invalid",
				"invalid: webhook URL '%.200s': host '%.100s' "
				"does not resolve (%s)",
				j->h.url, j->u.host, gai_strerror(j->gai));
	if (!state_tenant(c->st, j->h.tenant)) /* deleted meanwhile */
		return cmd_fail(r, "not_found", "no tenant '%.64s'",
				j->h.tenant);
	if (webhook_core_count(c, j->h.tenant) >= WEBHOOK_MAX_PER_TENANT)
		return cmd_fail(r, "quota_exceeded",
				"tenant '%s' has %d webhooks, the most it may",
				j->h.tenant, WEBHOOK_MAX_PER_TENANT);
	if (webhook_id_new(j->h.id) || webhook_secret_new(j->h.secret))
		return cmd_fail(r, "internal", "no random bytes for a secret");
	j->h.created_ms = c->now_ms;
	h = webhook_core_add(c, &j->h);
	jw_str(&r->w, "id", h->id);
	jw_str(&r->w, "tenant", h->tenant);
	jw_str(&r->w, "url", h->url);
	jw_str(&r->w, "events", h->events);
	jw_str(&r->w, "secret", h->secret);
	jw_strf_print(&r->w,
		      "webhook %s added for %s: %s (events %s)\n"
		      "signing secret (shown once, store it now): %s",
		      h->id, h->tenant, h->url, h->events, h->secret);
	log_info("webhook %s added for tenant '%s' (events %s)", h->id,
		 h->tenant, h->events);
	return 0;
}

static void add_finish(struct sched *c, void *arg, bool stopping)
{
	struct add_job *j = arg;
	struct reply r;

	char args[64];

	admin_cmds_reply_open(j->ev, &r);
	if (stopping)
		cmd_fail(&r, "shutting_down", "the scheduler is shutting down");
	else
		add_create(c, j, &r);
	if (!stopping) { /* the id, never the secret */
		snprintf(args, sizeof(args), "id=%s", r.failed ? "-" : j->h.id);
		audit_admin_result(c, j->h.tenant, j->actor, j->role,
				   "webhook add", args,
				   r.failed ? r.code : NULL);
	}
	admin_cmds_reply_close(c, j->ev, &r);
	OPENSSL_cleanse(j, sizeof(*j));
	free(j);
}

int cmd_webhook_add(struct sched *c, const struct cmd_args *a,
		    struct reply *r)
{
	const char *tenant = a->pos[0], *url = a->pos[1];
	const char *events = arg_str(a, "--events", WEBHOOK_DEFAULT_EVENTS);
	struct add_job *j;
	char why[256];

	if (!state_tenant(c->st, tenant))
		return cmd_fail(r, "not_found", "no tenant '%.64s'", tenant);
	j = xcalloc(1, sizeof(*j));
	if (webhook_url_parse(url, &j->u, why, sizeof(why))) {
		free(j);
		return cmd_fail(r, "invalid", "invalid: webhook URL '%.200s': %s",
				url, why);
	}
	if (webhook_filter_check(events, why, sizeof(why))) {
		free(j);
		return cmd_fail(r, "invalid", "invalid: %s", why);
	}
	if (webhook_core_count(c, tenant) >= WEBHOOK_MAX_PER_TENANT) {
		free(j);
		return cmd_fail(r, "quota_exceeded",
				"tenant '%s' has %d webhooks, the most it may",
				tenant, WEBHOOK_MAX_PER_TENANT);
	}
	cmd_actor(a, j->actor, sizeof(j->actor));
	snprintf(j->role, sizeof(j->role), "%s",
		 role_name(a->acc ? access_role(a->acc, tenant) : ROLE_ADMIN));
	snprintf(j->h.tenant, sizeof(j->h.tenant), "%s", tenant);
	snprintf(j->h.url, sizeof(j->h.url), "%s", url);
	snprintf(j->h.events, sizeof(j->h.events), "%s", events);
	if (worker_start(c, add_resolve, add_finish, j)) {
		free(j);
		return cmd_fail(r, "internal", "cannot start a thread");
	}
	j->ev = cmd_defer(r);
	return 0;
}

static void write_hook(struct jw *w, const struct webhook_hook *h)
{
	jw_str(w, "id", h->id);
	jw_str(w, "tenant", h->tenant);
	jw_str(w, "url", h->url);
	jw_str(w, "events", h->events);
	jw_uint(w, "delivered", h->delivered);
	jw_uint(w, "pending", h->pending);
	jw_uint(w, "dead", h->dead);
	jw_uint(w, "failed_attempts", h->failed);
	jw_str(w, "last_error", h->last_error[0] ? h->last_error : "-");
	jw_time(w, "last_error_at", h->last_error_ms);
}

int cmd_webhook_list(struct sched *c, const struct cmd_args *a,
		     struct reply *r)
{
	const char *only = a->npos ? a->pos[0] : NULL;
	struct webhook_core *w = c->webhooks;

	if (only && (!state_tenant(c->st, only) || !cmd_sees(a, only)))
		return cmd_fail(r, "not_found", "no tenant '%.64s'", only);
	jw_arr_open(&r->w, "items");
	for (size_t i = 0; i < w->hooks.n; i++) {
		const struct webhook_hook *h = w->hooks.v[i];
		if ((only && strcmp(h->tenant, only)) ||
		    !cmd_sees(a, h->tenant))
			continue;
		jw_obj_open(&r->w, NULL);
		write_hook(&r->w, h);
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
	return 0;
}

static struct webhook_hook *hook_arg(struct sched *c, const struct cmd_args *a,
				     struct reply *r)
{
	struct webhook_hook *h = webhook_core_find(c, a->pos[0]);

	if (!h || !cmd_sees(a, h->tenant)) {
		cmd_fail(r, "not_found", "no webhook '%.64s'", a->pos[0]);
		return NULL;
	}
	return h;
}

/* Deliveries shown by `webhook show`: the oldest first. */
#define SHOW_MAX 100

int cmd_webhook_show(struct sched *c, const struct cmd_args *a,
		     struct reply *r)
{
	struct webhook_hook *h = hook_arg(c, a, r);
	struct webhook_core *w = c->webhooks;
	size_t shown = 0;

	if (!h)
		return -1;
	jw_obj_open(&r->w, "webhook");
	write_hook(&r->w, h);
	jw_time(&r->w, "created", h->created_ms);
	jw_time(&r->w, "last_delivered_at", h->last_ok_ms);
	jw_obj_close(&r->w);
	jw_arr_open(&r->w, "deliveries");
	for (size_t i = 0; i < w->msgs.n && shown < SHOW_MAX; i++) {
		const struct webhook_msg *m = w->msgs.v[i];
		if (strcmp(m->hook, h->id))
			continue;
		shown++;
		jw_obj_open(&r->w, NULL);
		jw_str(&r->w, "webhook_id", m->msg_id);
		jw_str(&r->w, "type", m->type);
		jw_str(&r->w, "state", m->state == WH_DEAD ? "dead" : "pending");
		jw_uint(&r->w, "attempts", m->attempts);
		jw_time(&r->w, "created", m->created_ms);
		if (m->state == WH_DEAD)
			jw_null(&r->w, "next_attempt");
		else
			jw_time(&r->w, "next_attempt", m->next_ms);
		jw_str(&r->w, "last_error", m->last_error[0] ? m->last_error
							     : "-");
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
	return 0;
}

int cmd_webhook_remove(struct sched *c, const struct cmd_args *a,
		       struct reply *r)
{
	struct webhook_hook *h = hook_arg(c, a, r);
	char id[WEBHOOK_ID_LEN], tenant[NAME_MAX_LEN], actor[32];
	uint64_t dropped;

	if (!h)
		return -1;
	/* the command's own record cannot name the tenant once the hook is
	 * gone: this one does */
	audit_deleted(c, h->tenant, cmd_actor(a, actor, sizeof(actor)),
		      "webhook", h->id);
	snprintf(id, sizeof(id), "%s", h->id);
	snprintf(tenant, sizeof(tenant), "%s", h->tenant);
	dropped = h->pending + h->dead;
	webhook_core_remove(c, h);
	jw_str(&r->w, "id", id);
	jw_uint(&r->w, "deliveries_dropped", dropped);
	jw_strf_print(&r->w, "webhook %s of %s removed (%llu deliveries "
		      "not done dropped)", id, tenant,
		      (unsigned long long)dropped);
	return 0;
}

int cmd_webhook_test(struct sched *c, const struct cmd_args *a,
		     struct reply *r)
{
	struct webhook_hook *h = hook_arg(c, a, r);
	const char *msg;

	if (!h)
		return -1;
	msg = webhook_core_test(c, h);
	jw_str(&r->w, "id", h->id);
	jw_str(&r->w, "webhook_id", msg);
	jw_strf_print(&r->w, "webhook.test queued for %s as %s", h->id, msg);
	return 0;
}
