/* service.c - connection caps, the agent port's TLS files, and reloads. */
#include "service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include "admin.h"
#include "agentsvc.h"
#include "config.h"
#include "core.h"
#include "settings.h"
#include "tlscert.h"
#include "util.h"

enum log_level service_log_level(const char *name)
{
	if (!strcmp(name, "debug"))
		return LOG_DEBUG;
	if (!strcmp(name, "warn"))
		return LOG_WARN;
	if (!strcmp(name, "error"))
		return LOG_ERROR;
	return LOG_INFO;
}

int service_conn_limits(const struct sched_config *cfg, bool raise,
			struct conntable_limits *agents,
			struct conntable_limits *admin, char *err,
			size_t errlen)
{
	struct rlimit rl;
	struct conntable_budget b;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		snprintf(err, errlen, "cannot read the open files limit: %s",
			 strerror(errno));
		return -1;
	}
	if (raise && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			snprintf(err, errlen,
				 "cannot raise the open files limit to %llu: "
				 "%s",
				 (unsigned long long)rl.rlim_max,
				 strerror(errno));
			return -1;
		}
	}
	if (conntable_budget(rl.rlim_cur, (size_t)cfg->agent_conns_max,
			     (size_t)cfg->admin_conns_max, &b, err, errlen))
		return -1;
	if (b.clamped)
		log_warn("the open files limit (%llu) holds %zu agent and %zu "
			 "admin connections, fewer than agent_conns_max and "
			 "admin_conns_max: raise LimitNOFILE",
			 (unsigned long long)rl.rlim_cur, b.agent_conns,
			 b.admin_conns);
	*agents = (struct conntable_limits){
		.max_total = b.agent_conns,
		.max_per_source = (size_t)cfg->agent_conns_per_source,
		.auth_timeout_ms = cfg->agent_auth_timeout_ms,
		.idle_timeout_ms = cfg->agent_idle_timeout_ms,
	};
	*admin = (struct conntable_limits){
		.max_total = b.admin_conns,
		.max_per_source = (size_t)cfg->admin_conns_per_uid,
		.reserved = ADMIN_ROOT_RESERVE,
		.idle_timeout_ms = cfg->admin_idle_timeout_ms,
	};
	if (raise) /* at start; a reload names the settings it changes */
		log_info("connections: open files limit %llu; up to %zu agent "
			 "connections (%zu per address), %zu admin (%zu per "
			 "uid, %d kept for root)",
			 (unsigned long long)rl.rlim_cur, b.agent_conns,
			 agents->max_per_source, b.admin_conns,
			 admin->max_per_source, ADMIN_ROOT_RESERVE);
	return 0;
}

/* Says what certificate is served and how long it has left. */
static void log_cert(const char *what, const struct tlscert *tc)
{
	char until[40];
	int64_t left = tc->not_after - time_now_ms() / 1000;

	time_format_iso(tc->not_after * 1000, until, sizeof(until));
	log_info("%s: subject %s, sha256 %.16s..., expires %s", what,
		 tc->subject, tc->sha256, until);
	if (left <= 0)
		log_error("the agent port's TLS certificate expired on %s: "
			  "agents refuse the handshake; renew it and reload",
			  until);
	else if (left < SERVICE_CERT_WARN_DAYS * 86400)
		log_warn("the agent port's TLS certificate expires on %s, in "
			 "%lld hours: renew it and reload",
			 until, (long long)(left / 3600));
}

int service_load_tls(const struct sched_config *cfg, struct tlscert *tc,
		     char *err, size_t errlen)
{
	if (tlscert_load(cfg->tls_cert, cfg->tls_key, cfg->tls_ca, tc, err,
			 errlen))
		return -1;
	log_cert("agent port TLS certificate", tc);
	return 0;
}

static bool conn_key(const char *key)
{
	return !strncmp(key, "agent_conns_", 12) ||
	       !strncmp(key, "admin_conns_", 12) ||
	       !strcmp(key, "agent_auth_timeout_ms") ||
	       !strcmp(key, "agent_idle_timeout_ms") ||
	       !strcmp(key, "admin_idle_timeout_ms");
}

/* What a reload would change, decided before anything is applied. */
struct plan {
	struct sched_config *next; /* the running settings + live changes */
	const char *live[64];
	size_t nlive;
	bool conns;               /* a connection cap or timeout changed */
	struct conntable_limits agent_lim, admin_lim;
	bool tls;                 /* TLS files read again */
	struct tlscert tc;
};

/* Fills p from the settings in force and those just read; -1 with a
 * reason if the result cannot be applied. */
static int plan_reload(const struct sched_config *now,
		       const struct sched_config *read, struct plan *p,
		       char *err, size_t errlen)
{
	struct settings_doc doc;
	const char *changed[64];
	size_t k;

	config_describe(&doc);
	*p->next = *now;
	k = settings_changed(&doc, now, read, changed, ARRAY_SIZE(changed));
	if (!k)
		log_info("reload: no setting changed");
	for (size_t i = 0; i < k; i++) {
		if (!config_live(changed[i])) {
			log_warn("reload: %s changed; it takes effect at the "
				 "next restart",
				 changed[i]);
			continue;
		}
		settings_copy_key(&doc, p->next, read, changed[i]);
		p->live[p->nlive++] = changed[i];
		p->conns |= conn_key(changed[i]);
	}
	if (p->nlive && (config_validate(p->next, err, errlen) ||
			 config_resolve(p->next, err, errlen)))
		return -1;
	if (p->conns && service_conn_limits(p->next, false, &p->agent_lim,
					    &p->admin_lim, err, errlen))
		return -1;
	/* the listener's scheme is the running one: listen waits for a
	 * restart */
	p->tls = url_scheme(now->listen, NULL) == 1;
	if (p->tls && tlscert_load(p->next->tls_cert, p->next->tls_key,
				   p->next->tls_ca, &p->tc, err, errlen))
		return -1;
	if (p->tls && p->tc.not_after <= time_now_ms() / 1000) {
		char when[40];
		time_format_iso(p->tc.not_after * 1000, when, sizeof(when));
		snprintf(err, errlen,
			 "the certificate in tls_cert '%s' expired on %s",
			 p->next->tls_cert, when);
		return -1;
	}
	return 0;
}

void service_reload(struct service *s, int argc, char **argv)
{
	struct sched_config *read = xmalloc(sizeof(*read));
	struct plan p = { .next = xmalloc(sizeof(*p.next)) };
	char err[1024], from[128], to[128];
	struct settings_doc doc;

	sd_notify(0, "RELOADING=1\nSTATUS=reading the configuration again");
	if (config_reread(read, argc, argv, err, sizeof(err)) ||
	    plan_reload(s->applied, read, &p, err, sizeof(err)) ||
	    (p.tls && agentsvc_tls(s->agents, &p.tc, err, sizeof(err)))) {
		/* agentsvc_tls is the last step that may fail: nothing has
		 * changed yet */
		log_error("reload refused: %s; the running settings are kept",
			  err);
		goto out;
	}
	config_describe(&doc);
	for (size_t i = 0; i < p.nlive; i++) {
		settings_format(&doc, s->applied, p.live[i], from,
				sizeof(from));
		settings_format(&doc, p.next, p.live[i], to, sizeof(to));
		log_info("reload: %s %s -> %s", p.live[i], from, to);
	}
	if (p.tls) {
		bool same = !strcmp(p.tc.sha256, s->cert_sha256);
		log_cert(same ? "reload: TLS files read again, the same "
				"certificate"
			      : "reload: TLS certificate replaced for new "
				"connections",
			 &p.tc);
		memcpy(s->cert_sha256, p.tc.sha256, sizeof(s->cert_sha256));
	}
	if (p.conns) {
		agentsvc_set_limits(s->agents, &p.agent_lim);
		admin_set_limits(s->admin, &p.admin_lim);
	}
	if (p.nlive) {
		log_set_level(service_log_level(p.next->log_level));
		core_reconfigure(s->core, p.next);
		/* the core has let go of the settings it read before */
		free(s->applied);
		s->applied = p.next;
		p.next = NULL;
	}
out:
	tlscert_release(&p.tc);
	free(read);
	free(p.next);
	sd_notify(0, "READY=1\nSTATUS=ready; configuration read again");
}
