/* cmd_access.c - whether the caller may run a command (access.h): its role
 * for the tenant the command is about, or its global role, against the
 * command's minimum. What a caller may not see is answered as if it did
 * not exist, so that a scoped viewer learns nothing of other tenants, not
 * even their names. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_cmds.h"
#include "runstore.h"
#include "sched_ctx.h"
#include "util.h"
#include "schedule_core.h"
#include "webhook_core.h"

bool cmd_sees(const struct cmd_args *a, const char *tenant)
{
	return !a->acc || access_sees(a->acc, tenant);
}

const char *cmd_actor(const struct cmd_args *a, char *buf, size_t len)
{
	snprintf(buf, len, "uid:%u", a->acc ? (unsigned)a->acc->uid : 0u);
	return buf;
}

bool cmd_sees_all(const struct cmd_args *a)
{
	return !a->acc || access_sees_all(a->acc);
}

/* The tenant a command is about, if it names one that exists: the first
 * word of TENANT[/ENV[/JOB]], a run's, an agent's. NULL otherwise (the
 * handler then answers "no ..."). hidden gets the not_found reply a
 * caller who may not see that tenant is given instead. */
static const char *target_tenant(struct sched *c, const struct command *cmd,
				 const struct cmd_args *a,
				 char t[NAME_MAX_LEN], char *hidden, size_t len)
{
	const char *w = a->npos ? a->pos[0] : NULL;

	if (!w)
		return NULL;
	if (cmd->scope == SCOPE_TENANT) {
		size_t n = strcspn(w, "/"), slashes = 0;
		for (const char *p = w; *p; p++)
			slashes += *p == '/';
		snprintf(hidden, len, "no %s '%.192s'",
			 slashes == 0	? "tenant"
			 : slashes == 1 ? "environment"
					: "job",
			 w);
		if (n >= NAME_MAX_LEN)
			return NULL;
		memcpy(t, w, n);
		t[n] = '\0';
		return state_tenant(c->st, t) ? t : NULL;
	}
	if (cmd->scope == SCOPE_RUN) {
		char *end;
		uint64_t id = strtoull(w, &end, 10);
		const struct run *run = *end ? NULL : runstore_get(c, id);
		snprintf(hidden, len, "no run %" PRIu64, id);
		return run ? run->job->tenant : NULL;
	}
	if (cmd->scope == SCOPE_WEBHOOK) {
		const struct webhook_hook *h = webhook_core_find(c, w);
		snprintf(hidden, len, "no webhook '%.64s'", w);
		return h ? h->tenant : NULL;
	}
	if (cmd->scope == SCOPE_SCHEDULE) {
		const struct schedule_def *d = schedule_core_find_word(c, w);
		snprintf(hidden, len, "no schedule '%.64s'", w);
		return d ? d->tenant : NULL;
	}
	if (cmd->scope == SCOPE_AGENT) {
		const struct agent *ag = state_agent(c->st, w);
		const struct env *e = ag ? state_env(c->st, ag->env) : NULL;
		snprintf(hidden, len, "no agent '%.64s'", w);
		return e ? e->tenant : NULL;
	}
	return NULL;
}

int cmd_authorize(struct sched *c, const struct command *cmd,
		  const struct cmd_args *a, struct reply *r)
{
	const struct access *acc = a->acc;
	char hidden[256] = "", where[NAME_MAX_LEN + 8] = "", t[NAME_MAX_LEN];
	const char *tenant = NULL;
	enum role have;

	if (!acc || cmd->scope == SCOPE_ANY)
		return 0;
	switch (cmd->scope) {
	case SCOPE_GLOBAL:
		have = acc->global;
		break;
	case SCOPE_TENANT:
	case SCOPE_RUN:
	case SCOPE_AGENT:
	case SCOPE_WEBHOOK:
	case SCOPE_SCHEDULE:
		tenant = target_tenant(c, cmd, a, t, hidden, sizeof(hidden));
		/* no such tenant, or none named (usage without one): the
		 * handler answers, showing only what the caller sees */
		have = tenant ? access_role(acc, tenant) : acc->best;
		break;
	default: /* SCOPE_LIST: the handler leaves out what it may not see */
		have = acc->best;
		break;
	}
	if (have <= cmd->role)
		return 0;
	if (tenant && have == ROLE_NONE && acc->best != ROLE_NONE)
		return cmd_fail(r, "not_found", "%s", hidden);
	if (tenant)
		snprintf(where, sizeof(where), " for %s", tenant);
	else if (have == ROLE_NONE && acc->best != ROLE_NONE) {
		/* scoped grants only: say so rather than "no role" */
		have = acc->best;
		snprintf(where, sizeof(where), " only for some tenants");
	}
	log_limited(&c->forbidden_log, LOG_WARN,
		    "admin: uid %u: forbidden: %s needs role %s, has %s%s",
		    (unsigned)acc->uid, cmd->words, role_name(cmd->role),
		    role_name(have), where);
	return cmd_fail(r, "forbidden",
			"forbidden: '%s' needs role %s; uid %u has %s%s",
			cmd->words, role_name(cmd->role), (unsigned)acc->uid,
			role_name(have), where);
}
