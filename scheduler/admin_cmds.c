/* admin_cmds.c - the admin command table, argument parsing and dispatch. */
#include "admin_cmds.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "parse.h"
#include "sched_ctx.h"
#include "util.h"

/* Copies src to dst (size n) as one line: messages quote the client's
 * words, which may hold newlines and other control characters. */
static void copy_one_line(char *dst, size_t n, const char *src)
{
	static const char esc[] = "btn\0fr";
	size_t k = 0;

	for (; *src && k + 3 < n; src++) {
		unsigned char c = (unsigned char)*src;
		if (c >= 8 && c <= 13 && c != 11) {
			dst[k++] = '\\';
			dst[k++] = esc[c - 8];
		} else {
			dst[k++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
		}
	}
	dst[k] = '\0';
}

int cmd_fail(struct reply *r, const char *code, const char *fmt, ...)
{
	char msg[sizeof(r->msg)];
	va_list ap;

	if (r->failed)
		return -1;
	r->failed = true;
	snprintf(r->code, sizeof(r->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	copy_one_line(r->msg, sizeof(r->msg), msg);
	return -1;
}

int cmd_refuse(struct reply *r, const struct refusal *why)
{
	cmd_fail(r, why->code, "%s", why->message);
	r->retry_after_ms = why->retry_after_ms;
	return -1;
}

static int flag_index(const struct cmd_args *a, const char *flag)
{
	/* flags are "--name": compare the first letter of the name before
	 * the whole (a start asks for half a dozen flags) */
	for (int i = 0; a->specs[i].name; i++)
		if (a->specs[i].name[2] == flag[2] &&
		    !strcmp(a->specs[i].name, flag))
			return i;
	return -1;
}

bool arg_set(const struct cmd_args *a, const char *flag)
{
	int i = flag_index(a, flag);
	return i >= 0 && a->set[i];
}

int64_t arg_num(const struct cmd_args *a, const char *flag, int64_t def)
{
	int i = flag_index(a, flag);
	return i >= 0 && a->set[i] ? a->num[i] : def;
}

int arg_multi(const struct cmd_args *a, const char *flag, const char **out,
	      int max)
{
	int fi = flag_index(a, flag), n = 0;

	for (int i = 0; fi >= 0 && i < a->nmulti; i++)
		if (a->multi_flag[i] == fi) {
			if (n < max)
				out[n] = a->multi[i];
			n++;
		}
	return n;
}

const char *arg_str(const struct cmd_args *a, const char *flag,
		    const char *def)
{
	int i = flag_index(a, flag);
	return i >= 0 && a->set[i] ? a->raw[i] : def;
}

void jw_strf_print(struct jw *w, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	jw_str(w, "print", sb.buf);
	strbuf_release(&sb);
}

void jw_time(struct jw *w, const char *key, int64_t ms)
{
	char buf[40];
	if (ms <= 0) {
		jw_null(w, key);
		return;
	}
	time_format_iso(ms, buf, sizeof(buf));
	jw_str(w, key, buf);
}

void jw_usd(struct jw *w, const char *key, int64_t micro)
{
	char buf[40];
	format_usd(micro, buf, sizeof(buf));
	jw_str(w, key, buf);
}

void jw_hours(struct jw *w, const char *key, int64_t unit_ms)
{
	char buf[48];
	/* 4 decimals: units of 0.0001 h = 360 ms, rounded down */
	int64_t tenk = unit_ms / 360;
	snprintf(buf, sizeof(buf), "%lld.%04lld", (long long)(tenk / 10000),
		 (long long)(tenk % 10000));
	jw_str(w, key, buf);
}

static int parse_flag_value(const struct flag_spec *f, const char *val,
			    int64_t *num, char *err, size_t errlen)
{
	uint64_t u;
	uint32_t mb;
	switch (f->type) {
	case FT_UINT:
		if (parse_u64(val, (uint64_t)f->min, (uint64_t)f->max, &u, err,
			      errlen))
			return -1;
		*num = (int64_t)u;
		return 0;
	case FT_INT:
		return parse_i64(val, f->min, f->max, num, err, errlen);
	case FT_USD:
		if (parse_usd(val, num, err, errlen))
			return -1;
		if (*num > f->max) {
			snprintf(err, errlen, "'%s' is too large", val);
			return -1;
		}
		return 0;
	case FT_GB:
		if (parse_gb(val, &mb, err, errlen))
			return -1;
		*num = mb;
		return 0;
	case FT_LIMIT:
		if (!strcmp(val, "unlimited")) {
			*num = 0;
			return 0;
		}
		if (parse_u64(val, (uint64_t)f->min, (uint64_t)f->max, &u, err,
			      errlen)) {
			size_t n = strlen(err);
			snprintf(err + n, errlen - n,
				 "; 'unlimited' lifts the limit");
			return -1;
		}
		*num = (int64_t)u;
		return 0;
	case FT_PCT:
		if (parse_percent(val, &mb, err, errlen))
			return -1;
		*num = mb;
		return 0;
	case FT_ONOFF:
		if (strcmp(val, "on") && strcmp(val, "off")) {
			snprintf(err, errlen, "'%.40s' must be on or off", val);
			return -1;
		}
		*num = !strcmp(val, "on");
		return 0;
	case FT_STR:
	case FT_BOOL:
	case FT_MULTI:
		return 0;
	}
	return -1;
}

/* The flag of cmd named name (nlen bytes, without its "--"); in a
 * KEY=VALUE word '_' stands for '-', as `show` prints the keys. */
static int find_flag(const struct command *cmd, const char *name, size_t nlen,
		     bool kv)
{
	for (int k = 0; cmd->flags[k].name; k++) {
		const char *f = cmd->flags[k].name + 2;
		size_t i;
		if (strlen(f) != nlen)
			continue;
		for (i = 0; i < nlen; i++)
			if (f[i] != name[i] && !(kv && f[i] == '-' && name[i] == '_'))
				break;
		if (i == nlen)
			return k;
	}
	return -1;
}

/* Records flag fi with value val (NULL for FT_BOOL). */
static int set_flag(const struct command *cmd, struct cmd_args *a, int fi,
		    const char *val, struct reply *r)
{
	const struct flag_spec *f = &cmd->flags[fi];
	char err[256];

	if (f->type == FT_MULTI && val) {
		if (a->nmulti >= CMD_MAX_MULTI)
			return cmd_fail(r, "usage", "more than %d values of "
					"repeated options", CMD_MAX_MULTI);
		a->set[fi] = true;
		a->multi_flag[a->nmulti] = fi;
		a->multi[a->nmulti++] = val;
		return 0;
	}
	if (a->set[fi])
		return cmd_fail(r, "usage", "option '%s' given twice", f->name);
	a->set[fi] = true;
	if (f->type == FT_BOOL)
		return val ? cmd_fail(r, "usage", "option '%s' takes no value",
				      f->name)
			   : 0;
	a->raw[fi] = val;
	if (parse_flag_value(f, val, &a->num[fi], err, sizeof(err)))
		return cmd_fail(r, "invalid", "%s: %s", f->name, err);
	return 0;
}

/* Splits the words after the command into positionals, flags and rest.
 * Flags are "--name value" or "--name=value"; a command with kv also
 * takes "name=value" words after its positionals. Only reads argv: a
 * borrows its words and collects the positionals in a->pos, since argv
 * owns them and moving them in place would free one twice. */
static int parse_args(const struct command *cmd, int argc, char *const *argv,
		      struct cmd_args *a, struct reply *r)
{
	a->specs = cmd->flags;
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i], *eq = strchr(w, '='), *val = NULL;
		bool kv = cmd->kv && eq && strncmp(w, "--", 2) &&
			  a->npos >= cmd->min_pos;
		size_t nlen;
		int fi;

		if (!strcmp(w, "--")) {
			if (!cmd->rest)
				return cmd_fail(r, "usage",
						"'%s' takes no '--' arguments",
						cmd->words);
			a->has_rest = true;
			a->rest = argv + i + 1;
			a->nrest = argc - i - 1;
			break;
		}
		if (strncmp(w, "--", 2) && !kv) {
			if (a->npos >= cmd->max_pos || a->npos >= CMD_MAX_POS)
				return cmd_fail(r, "usage",
						"unexpected argument '%s'; usage: %s %s",
						w, cmd->words, cmd->args);
			a->pos[a->npos++] = argv[i];
			continue;
		}
		if (!kv)
			w += 2;
		nlen = eq ? (size_t)(eq - w) : strlen(w);
		fi = find_flag(cmd, w, nlen, kv);
		if (fi < 0 && kv)
			return cmd_fail(r, "usage", "unknown key '%.*s' for '%s'",
					(int)nlen, w, cmd->words);
		if (fi < 0)
			return cmd_fail(r, "usage",
					"unknown option '--%.*s' for '%s'",
					(int)nlen, w, cmd->words);
		if (eq)
			val = eq + 1;
		else if (cmd->flags[fi].type != FT_BOOL && i + 1 >= argc)
			return cmd_fail(r, "usage", "option '%s' needs a value",
					cmd->flags[fi].name);
		else if (cmd->flags[fi].type != FT_BOOL)
			val = argv[++i];
		if (set_flag(cmd, a, fi, val, r))
			return -1;
	}
	if (a->npos < cmd->min_pos)
		return cmd_fail(r, "usage", "missing argument; usage: %s %s",
				cmd->words, cmd->args);
	if (cmd->rest && (a->has_rest || !cmd->rest_optional) &&
	    a->nrest == 0)
		return cmd_fail(r, "usage",
				"missing '-- SPARK_SUBMIT_ARGS...'; usage: %s %s",
				cmd->words, cmd->args);
	return 0;
}

/* The length of words' first word if it is word, else 0. */
static size_t first_word_is(const char *words, const char *word)
{
	size_t n = 0;

	while (words[n] && words[n] != ' ' && words[n] == word[n])
		n++;
	return !word[n] && (!words[n] || words[n] == ' ') ? n : 0;
}

/* How many of cl's first words spell words ("agent token list"): all of
 * them, or 0. */
static int words_match(const char *words, const struct cmdline *cl)
{
	int n = 0;

	for (const char *p = words; *p; n++) {
		size_t len;
		if (n >= cl->argc || !(len = first_word_is(p, cl->argv[n])))
			return 0;
		p += len + (p[len] == ' ');
	}
	return n;
}

/* The command cl's first words name: the longest that matches, so that
 * "agent token list" is not "agent token" with a word "list". */
static const struct command *find_command(const struct cmdline *cl,
					  int *nwords, struct reply *r)
{
	size_t ncommands;
	const struct command *commands = admin_cmds_table(&ncommands);
	const struct command *best = NULL;
	bool noun_known = false;

	*nwords = 0;
	for (size_t i = 0; i < ncommands; i++) {
		const char *words = commands[i].words;
		int n;
		/* most commands differ in the first letter, most others in
		 * the first word: skip them cheaply (every request looks its
		 * command up in the whole table) */
		if (words[0] != cl->argv[0][0] ||
		    !first_word_is(words, cl->argv[0]))
			continue;
		noun_known = true;
		if ((n = words_match(words, cl)) > *nwords) {
			*nwords = n;
			best = &commands[i];
		}
	}
	if (best)
		return best;
	if (noun_known && cl->argc >= 2)
		cmd_fail(r, "usage", "unknown command '%.64s %.64s'; try 'help'",
			 cl->argv[0], cl->argv[1]);
	else if (noun_known)
		cmd_fail(r, "usage", "'%.64s' needs a verb; try 'help'",
			 cl->argv[0]);
	else
		cmd_fail(r, "usage", "unknown command '%.64s'; try 'help'",
			 cl->argv[0]);
	return NULL;
}

int cmd_help(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	size_t ncommands;
	const struct command *commands = admin_cmds_table(&ncommands);
	struct strbuf sb = STRBUF_INIT;
	(void)c;
	(void)a;
	strbuf_addstr(&sb, "commands (and the least role each needs):\n");
	for (size_t i = 0; i < ncommands; i++)
		strbuf_addf(&sb, "  %s %s\n      %s [%s]\n", commands[i].words,
			    commands[i].args, commands[i].summary,
			    commands[i].scope == SCOPE_ANY
				    ? "anyone"
				    : role_name(commands[i].role));
	jw_str(&r->w, "print", sb.buf);
	jw_arr_open(&r->w, "commands");
	for (size_t i = 0; i < ncommands; i++) {
		jw_obj_open(&r->w, NULL);
		jw_str(&r->w, "command", commands[i].words);
		jw_str(&r->w, "args", commands[i].args);
		jw_str(&r->w, "summary", commands[i].summary);
		jw_str(&r->w, "role", commands[i].scope == SCOPE_ANY
					      ? "anyone"
					      : role_name(commands[i].role));
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
	strbuf_release(&sb);
	return 0;
}

bool admin_cmds_read_verb(const char *verb)
{
	static const char *const verbs[] = { "help",	 "list",     "show",
					     "logs",	 "stats",    "usage",
					     "events",	 "metrics",  "diagnose",
					     "export",	 "verify",   "key" };
	return str_in(verb, verbs, ARRAY_SIZE(verbs));
}

/* Commands that change nothing are not written to the log or the audit
 * log. */
static bool read_only(const struct command *cmd)
{
	const char *sp = strrchr(cmd->words, ' ');
	return admin_cmds_read_verb(sp ? sp + 1 : cmd->words);
}

void admin_cmds_refuse_retry(struct event *ev, const char *code,
			     const char *msg, int64_t retry_after_ms)
{
	struct jw w;
	strbuf_reset(&ev->reply);
	jw_init(&w, &ev->reply);
	jw_obj_open(&w, NULL);
	jw_bool(&w, "ok", false);
	jw_str(&w, "error", code);
	jw_str(&w, "message", msg);
	if (retry_after_ms > 0)
		jw_int(&w, "retry_after_ms", retry_after_ms);
	jw_obj_close(&w);
}

void admin_cmds_refuse(struct event *ev, const char *code, const char *msg)
{
	admin_cmds_refuse_retry(ev, code, msg, 0);
}

struct event *cmd_defer(struct reply *r)
{
	r->deferred = true;
	return r->ev;
}

void admin_cmds_reply_open(struct event *ev, struct reply *r)
{
	memset(r, 0, sizeof(*r));
	r->ev = ev;
	strbuf_reset(&ev->reply);
	/* one allocation that most replies fit (a start's is 70 bytes)
	 * rather than one and then a few reallocations */
	strbuf_grow(&ev->reply, 120);
	jw_init(&r->w, &ev->reply);
	jw_obj_open(&r->w, NULL);
	jw_bool(&r->w, "ok", true);
}

void admin_cmds_reply_close(struct sched *c, struct event *ev,
			    struct reply *r)
{
	if (r->failed)
		admin_cmds_refuse_retry(ev, r->code, r->msg,
					r->retry_after_ms);
	else
		jw_obj_close(&r->w);
	sched_complete(c, ev);
}

void admin_cmds_exec(struct sched *c, struct event *ev)
{
	struct reply r;
	struct cmd_args a;
	const struct command *cmd = NULL;
	int nwords = 0;
	struct access acc;
	bool parsed = false, ro;

	if (ev->reply.len) { /* refused by the transport (e.g. a bad line) */
		sched_complete(c, ev);
		return;
	}
	memset(&a, 0, sizeof(a));
	access_of(&c->cfg->grants, &ev->peer, &acc);
	a.acc = &acc;
	admin_cmds_reply_open(ev, &r);
	if (ev->cmd.argc == 0)
		cmd_fail(&r, "usage", "empty command; try 'help'");
	else
		cmd = find_command(&ev->cmd, &nwords, &r);
	if (cmd && !parse_args(cmd, ev->cmd.argc - nwords,
			       ev->cmd.argv + nwords, &a, &r)) {
		parsed = true;
		if (!cmd_authorize(c, cmd, &a, &r))
			cmd->fn(c, &a, &r);
	}
	ro = cmd && read_only(cmd);
	/* changes, and refusals: any command refused a role; a command
	 * answered later by its worker (a backup) is recorded as started */
	if (cmd && (!ro || (r.failed && !strcmp(r.code, "forbidden"))))
		audit_admin(c, cmd, &a, parsed,
			    r.failed	 ? r.code
			    : r.deferred ? "started"
					 : NULL);
	if (!r.failed && !ro)
		log_msg_held(LOG_INFO, "admin: uid %u: %s %s",
			     (unsigned)ev->peer.uid, cmd->words,
			     a.npos ? a.pos[0] : "");
	if (!r.deferred) /* else the handler's worker answers it later */
		admin_cmds_reply_close(c, ev, &r);
}
