/* cmd_access.c - whether the caller may run a command (access.h): its role
 * for the tenant the command is about, or its global role, against the
 * command's minimum. What a caller may not see is answered as if it did
 * not exist, so that a scoped viewer learns nothing of other tenants, not
 * even their names. */
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
	char s[32] = "uid:";

	/* every start names its actor: no format parsing */
	fmt_u64(s + 4, a->acc ? a->acc->uid : 0u);
	str_copy(buf, len, s);
	return buf;
}

bool cmd_sees_all(const struct cmd_args *a)
{
	return !a->acc || access_sees_all(a->acc);
}

/* The tenant a command is about, if it names one that exists: the first
 * word of TENANT[/ENV[/JOB]], a run's, an agent's. NULL otherwise (the
 * handler then answers "no ..."). */
static const char *target_tenant(struct sched *c, const struct command *cmd,
				 const struct cmd_args *a,
				 char t[NAME_MAX_LEN])
{
	const char *w = a->npos ? a->pos[0] : NULL;

	if (!w)
		return NULL;
	if (cmd->scope == SCOPE_TENANT) {
		size_t n = strcspn(w, "/");
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
		return run ? run->job->tenant : NULL;
	}
	if (cmd->scope == SCOPE_WEBHOOK) {
		const struct webhook_hook *h = webhook_core_find(c, w);
		return h ? h->tenant : NULL;
	}
	if (cmd->scope == SCOPE_SCHEDULE) {
		const struct schedule_def *d = schedule_core_find_word(c, w);
		return d ? d->tenant : NULL;
	}
	if (cmd->scope == SCOPE_AGENT) {
		const struct agent *ag = state_agent(c->st, w);
		const struct env *e = ag ? state_env(c->st, ag->env) : NULL;
		return e ? e->tenant : NULL;
	}
	return NULL;
}

/* The not_found reply given, instead of "forbidden", to a caller who may
 * not see the tenant a command names: the one it would get if the thing
 * did not exist. Made only then, off the path every command takes. */
static void hidden_reply(const struct command *cmd, const struct cmd_args *a,
			 char *hidden, size_t len)
{
	const char *w = a->pos[0];

	if (cmd->scope == SCOPE_TENANT) {
		size_t slashes = 0;
		for (const char *p = w; *p; p++)
			slashes += *p == '/';
		snprintf(hidden, len, "no %s '%.192s'",
			 slashes == 0	? "tenant"
			 : slashes == 1 ? "environment"
					: "job",
			 w);
	} else if (cmd->scope == SCOPE_RUN) {
		snprintf(hidden, len, "no run %llu", strtoull(w, NULL, 10));
	} else {
		snprintf(hidden, len, "no %s '%.64s'",
			 cmd->scope == SCOPE_WEBHOOK	? "webhook"
			 : cmd->scope == SCOPE_SCHEDULE ? "schedule"
							: "agent",
			 w);
	}
}

int cmd_authorize(struct sched *c, const struct command *cmd,
		  const struct cmd_args *a, struct reply *r)
{
	const struct access *acc = a->acc;
	char hidden[256], where[NAME_MAX_LEN + 8] = "", t[NAME_MAX_LEN];
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
		tenant = target_tenant(c, cmd, a, t);
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
	if (tenant && have == ROLE_NONE && acc->best != ROLE_NONE) {
		hidden_reply(cmd, a, hidden, sizeof(hidden));
		return cmd_fail(r, "not_found", "%s", hidden);
	}
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
