/* run_args.c - parameters, placeholders and the secret check of a run's
 * arguments. */
#include "run_args.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redact.h"
#include "strbuf.h"
#include "util.h"

static const char *const builtins[] = {
	"run_id", "attempt", "scheduled_date", "scheduled_time",
};

int run_args_find_secret(const char *const *v, size_t n, const char **kind)
{
	static struct redactor *red; /* the core thread's, built-in rules */
	struct redact_stream st;
	char **out;
	int bad = -1;

	*kind = "secret";
	if (n == 0) /* most runs: nothing to redact, no redactor to run */
		return -1;
	out = xcalloc(n + 1, sizeof(char *));
	if (!red)
		red = redactor_new();
	redact_stream_init(&st);
	redact_args(red, &st, v, n, out);
	for (size_t i = 0; i < n; i++) {
		if (bad < 0 && strcmp(out[i], v[i]))
			bad = (int)i;
		free(out[i]);
	}
	free(out);
	for (unsigned k = 0; bad >= 0 && k < redact_kind_count(red); k++)
		if (st.counts[k]) {
			*kind = redact_kind_name(red, k);
			break;
		}
	return bad;
}

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

/* The next placeholder {{NAME}} in s: its start, its name's length;
 * NULL if none. Anything else between braces is plain text. */
static const char *next_placeholder(const char *s, size_t *namelen)
{
	for (const char *p = strstr(s, "{{"); p; p = strstr(p + 1, "{{")) {
		size_t n = 0;
		while (name_char(p[2 + n], n == 0) && n < RUN_PARAM_KEY_MAX)
			n++;
		if (n && p[2 + n] == '}' && p[3 + n] == '}') {
			*namelen = n;
			return p;
		}
	}
	return NULL;
}

static bool is_builtin(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(builtins); i++)
		if (strlen(builtins[i]) == len && !memcmp(builtins[i], name, len))
			return true;
	return false;
}

/* The parameter named name (len bytes) in params, or -1. */
static int find_param(const char *const *params, uint32_t n, const char *name,
		      size_t len)
{
	for (uint32_t i = 0; i < n; i++)
		if (!strncmp(params[i], name, len) && params[i][len] == '=')
			return (int)i;
	return -1;
}

static int check_param(const char *const *params, uint32_t i, char *err,
		       size_t errlen)
{
	const char *kv = params[i], *eq = strchr(kv, '=');
	size_t n = eq ? (size_t)(eq - kv) : 0;

	if (!eq) {
		snprintf(err, errlen, "--param '%.64s' must be KEY=VALUE", kv);
		return -1;
	}
	for (size_t k = 0; k < n; k++)
		if (!name_char(kv[k], k == 0) || n >= RUN_PARAM_KEY_MAX) {
			snprintf(err, errlen, "--param '%.64s': a key is a "
				 "letter or '_' then letters, digits or '_', "
				 "at most %d", kv, RUN_PARAM_KEY_MAX - 1);
			return -1;
		}
	if (!n) {
		snprintf(err, errlen, "--param '%.64s' has no key", kv);
		return -1;
	}
	if (is_builtin(kv, n)) {
		snprintf(err, errlen, "--param %.*s: a built-in placeholder, "
			 "set by the scheduler", (int)n, kv);
		return -1;
	}
	if (strlen(eq + 1) > RUN_PARAM_VALUE_MAX) {
		snprintf(err, errlen, "--param %.*s: the value is longer "
			 "than %d bytes", (int)n, kv, RUN_PARAM_VALUE_MAX);
		return -1;
	}
	if (find_param(params, i, kv, n) >= 0) {
		snprintf(err, errlen, "--param %.*s given twice", (int)n, kv);
		return -1;
	}
	return 0;
}

/* Each placeholder of arg (the job's argument number pos, or with
 * extra the one after "--") is a parameter or a built-in; marks the
 * parameters used. */
static int check_placeholders(const char *arg, bool extra, uint32_t pos,
			      const char *const *params, uint32_t nparams,
			      bool *used, char *err, size_t errlen)
{
	size_t n;

	for (const char *p = next_placeholder(arg, &n); p;
	     p = next_placeholder(p + 4 + n, &n)) {
		int i = find_param(params, nparams, p + 2, n);
		if (i >= 0)
			used[i] = true;
		else if (!is_builtin(p + 2, n)) {
			snprintf(err, errlen, "%s %u%s uses {{%.*s}}, which "
				 "is neither a --param given nor a built-in "
				 "(run_id, attempt, scheduled_date, "
				 "scheduled_time)",
				 extra ? "argument" : "the job's argument",
				 pos, extra ? " after --" : "", (int)n, p + 2);
			return -1;
		}
	}
	return 0;
}

int run_args_check(const struct job *j, const char *const *params,
		   uint32_t nparams, const char *const *args, uint32_t nargs,
		   char *err, size_t errlen)
{
	bool used[RUN_MAX_PARAMS] = { false };
	const char *kind;
	int bad;

	if (nparams > RUN_MAX_PARAMS) {
		snprintf(err, errlen, "more than %d --param", RUN_MAX_PARAMS);
		return -1;
	}
	if (nargs > RUN_MAX_EXTRA_ARGS) {
		snprintf(err, errlen, "more than %d arguments after --",
			 RUN_MAX_EXTRA_ARGS);
		return -1;
	}
	for (uint32_t i = 0; i < nparams; i++)
		if (check_param(params, i, err, errlen))
			return -1;
	for (int i = 0; i < j->argc; i++)
		if (check_placeholders(j->argv[i], false, (uint32_t)i + 1,
				       params, nparams, used, err, errlen))
			return -1;
	for (uint32_t i = 0; i < nargs; i++) {
		if (strlen(args[i]) > RUN_ARG_MAX) {
			snprintf(err, errlen, "argument %u after -- is longer "
				 "than %d bytes", i + 1, RUN_ARG_MAX);
			return -1;
		}
		if (check_placeholders(args[i], true, i + 1, params, nparams,
				       used, err, errlen))
			return -1;
	}
	for (uint32_t i = 0; i < nparams; i++)
		if (!used[i]) {
			snprintf(err, errlen, "--param %.*s: no argument of "
				 "the job uses {{%.*s}}",
				 (int)(strchr(params[i], '=') - params[i]),
				 params[i],
				 (int)(strchr(params[i], '=') - params[i]),
				 params[i]);
			return -1;
		}
	/* the values as given, and the extra arguments: stored and shown */
	if ((bad = run_args_find_secret(params, nparams, &kind)) >= 0) {
		snprintf(err, errlen, "--param %.*s holds a secret (%s): keep "
			 "secrets on the customer host",
			 (int)(strchr(params[bad], '=') - params[bad]),
			 params[bad], kind);
		return -1;
	}
	if ((bad = run_args_find_secret(args, nargs, &kind)) >= 0) {
		snprintf(err, errlen, "argument %d after -- holds a secret "
			 "(%s): keep secrets on the customer host", bad + 1,
			 kind);
		return -1;
	}
	return 0;
}

void run_args_local_time(int64_t ms, int32_t off_s, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000 + off_s);
	struct tm tm;
	char zone[16];

	gmtime_r(&t, &tm);
	if (off_s)
		snprintf(zone, sizeof(zone), "%c%02d:%02d",
			 off_s < 0 ? '-' : '+', abs(off_s) / 3600,
			 abs(off_s) % 3600 / 60);
	else
		snprintf(zone, sizeof(zone), "Z");
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%s",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, zone);
}

/* The scheduled time of r, in its schedule's zone: a schedule's firing
 * (kept by a retry of it), else when it was created (UTC). */
static void scheduled_at(const struct run *r, char *date, size_t dlen,
			 char *when, size_t wlen)
{
	const struct run_extra *x = r->x;
	int64_t ms = x && x->scheduled_ms ? x->scheduled_ms : r->created_ms;
	int32_t off = x && x->scheduled_ms ? x->scheduled_off_s : 0;

	run_args_local_time(ms, off, when, wlen);
	snprintf(date, dlen, "%.10s", when);
}

static char *resolve_one(const char *arg, const struct run *r,
			 const char *date, const char *when)
{
	const struct run_extra *x = r->x;
	struct strbuf sb = STRBUF_INIT;
	const char *from = arg;
	size_t n;

	for (const char *p = next_placeholder(arg, &n); p;
	     p = next_placeholder(from, &n)) {
		const char *name = p + 2;
		int i = x ? find_param((const char *const *)x->params,
				       x->nparams, name, n) : -1;
		strbuf_add(&sb, from, (size_t)(p - from));
		if (i >= 0)
			strbuf_addstr(&sb, x->params[i] + n + 1);
		else if (n == 6 && !memcmp(name, "run_id", 6))
			strbuf_addf(&sb, "%" PRIu64, r->id);
		else if (n == 7 && !memcmp(name, "attempt", 7))
			strbuf_addf(&sb, "%u", r->attempt);
		else if (n == 14 && !memcmp(name, "scheduled_date", 14))
			strbuf_addstr(&sb, date);
		else if (n == 14 && !memcmp(name, "scheduled_time", 14))
			strbuf_addstr(&sb, when);
		else
			strbuf_add(&sb, p, n + 4);
		from = p + n + 4;
	}
	strbuf_addstr(&sb, from);
	return strbuf_detach(&sb, NULL);
}

int run_args_resolve(const struct job *j, const struct run *r, char ***out)
{
	uint32_t nx = r->x ? r->x->nargs : 0;
	int n = j->argc + (int)nx, k = 0;
	char date[16], when[40];

	scheduled_at(r, date, sizeof(date), when, sizeof(when));
	*out = xcalloc((size_t)n + 1, sizeof(char *));
	for (int i = 0; i < j->argc; i++)
		(*out)[k++] = resolve_one(j->argv[i], r, date, when);
	for (uint32_t i = 0; i < nx; i++)
		(*out)[k++] = resolve_one(r->x->args[i], r, date, when);
	return n;
}

void run_args_free(char **v, int n)
{
	for (int i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}
