/* test_admin_args.c - the admin command line, generated from the command
 * table (admin_cmds_table): every command, each of its flags in every
 * position relative to its positionals (as "--flag value" and as
 * "--flag=value"), repeated flags, "--" in every place, unknown flags,
 * flags without their value and hostile values, all sent through the real
 * dispatcher to a real core over a real store. Each line must get one JSON
 * object: {"ok":true,...} or {"ok":false,"error":CODE,"message":ONE_LINE};
 * under ASan (make unit-san) any double free or overread aborts the run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_cmds.h"
#include "cmdline.h"
#include "core_fixture.h"
#include "json.h"

#define MAX_WORDS 64

/* One generated command line, its words borrowed from the table, from
 * string literals or from own[]. */
struct line {
	const char *w[MAX_WORDS];
	int n;
	char own[12][96];
	int nown;
};

enum expect {
	ANSWER, /* ok, or any one-line error */
	PARSED, /* the words were understood: ok, or an error from the
		 * handler (never "usage") */
	USAGE,  /* refused as a usage error naming `why` */
};

struct stats {
	unsigned lines, ok, refused;
	unsigned parsed, parsed_ok; /* lines expected PARSED */
};

static struct fx *fx;
static struct stats stats;
static unsigned fresh; /* numbers new names, so that adds succeed */

static void add(struct line *l, const char *word)
{
	assert_true(l->n < MAX_WORDS);
	l->w[l->n++] = word;
}

/* A word kept in l itself. */
static const char *keep(struct line *l, const char *fmt, ...) SP_PRINTF(2, 3);
static const char *keep(struct line *l, const char *fmt, ...)
{
	va_list ap;
	char *s;

	assert_true(l->nown < 12);
	s = l->own[l->nown++];
	va_start(ap, fmt);
	vsnprintf(s, sizeof(l->own[0]), fmt, ap);
	va_end(ap);
	return s;
}

/* Inserts word at index at (0 = first). */
static void insert(struct line *l, int at, const char *word)
{
	assert_true(l->n < MAX_WORDS && at <= l->n);
	memmove(l->w + at + 1, l->w + at, (size_t)(l->n - at) * sizeof(*l->w));
	l->w[at] = word;
	l->n++;
}

/* The command's own words ("agent", "token", "list"), into l. Returns
 * how many. */
static int add_command_words(struct line *l, const struct command *cmd)
{
	int n = 0;

	for (const char *p = cmd->words; *p; n++) {
		size_t len = strcspn(p, " ");
		add(l, keep(l, "%.*s", (int)len, p));
		p += len + (p[len] == ' ');
	}
	return n;
}

/* A positional value for cmd, from the name its usage gives it: the
 * fixture's acme/prod/j and agent, run 1, or a new name for an add. */
static const char *positional(struct line *l, const struct command *cmd)
{
	bool adds = strstr(cmd->words, " add") != NULL;
	const char *arg = cmd->args[0] == '[' ? cmd->args + 1 : cmd->args;

	/* deletes take a job of their own (send_line defines it again), so
	 * the lines after them still find acme/prod/j */
	if (!strcmp(cmd->words, "job delete"))
		return "acme/prod/doomed";
	/* webhooks: acme and a URL that resolves; an id send_line makes */
	if (!strcmp(cmd->words, "webhook add"))
		return strcmp(l->w[l->n - 1], "add") ? "http://127.0.0.1:1/h"
						     : "acme";
	if (!strncmp(cmd->words, "webhook ", 8) && !strcmp(arg, "ID"))
		return "WHID";
	/* schedules: of the fixture's job; an id send_line makes */
	if (!strcmp(cmd->words, "schedule add"))
		return "acme/prod/j";
	if (!strncmp(cmd->words, "schedule ", 9) && !strcmp(arg, "ID"))
		return "SCHID";
	if (!strncmp(arg, "TENANT/ENV/JOB", 14))
		return adds ? keep(l, "acme/prod/g%u", ++fresh) : "acme/prod/j";
	if (!strncmp(arg, "TENANT/ENV", 10))
		return adds ? keep(l, "acme/g%u", ++fresh) : "acme/prod";
	if (!strncmp(arg, "NAME", 4) || !strncmp(arg, "TENANT", 6))
		return adds ? keep(l, "g%u", ++fresh) : "acme";
	if (!strncmp(arg, "ID", 2))
		return fx->agent;
	if (!strncmp(arg, "RUN", 3))
		return "1";
	return "x";
}

/* A valid value for flag f. */
static const char *value(struct line *l, const struct flag_spec *f)
{
	static const char *const strs[][2] = {
		{ "--budget-mode", "soft" }, { "--mode", "full" },
		{ "--format", "json" },      { "--from", "2026-01-01" },
		{ "--to", "2026-01-31" },    { "--state", "queued" },
		{ "--tenant", "acme" },      { "--events", "run.*" },
		{ "--backend", "livy" },
		{ "--backend-setting", "livy_url=http://livy:8998" },
		{ "--param", "day=2026-01-01" }, { "--after", "1" },
		{ "--env", "acme/prod" },    { "--job", "acme/prod/j" },
		{ "--created-by", "uid:0" }, { "--since", "2026-01-01" },
		{ "--until", "2027-01-01" }, { "--class", "oom" },
		{ "--by", "job" },
		{ "--timezone", "UTC" },     { "--concurrency", "forbid" },
		{ "--catch-up", "all" },     { "--starting-deadline", "2h" },
		{ "--then", "j" },
	};
	/* each schedule add at times of its own: the same times twice are
	 * refused as a duplicate */
	if (!strcmp(f->name, "--cron")) {
		++fresh;
		return keep(l, "%u %u * * *", fresh % 60, fresh / 60 % 24);
	}
	switch (f->type) {
	case FT_UINT:
	case FT_INT:
		return keep(l, "%lld", (long long)(f->min > 1 ? f->min : 1));
	case FT_USD:
		return "5";
	case FT_GB:
		return "2";
	case FT_LIMIT:
		return "unlimited";
	case FT_PCT:
		return "12.5";
	case FT_ONOFF:
		return "on";
	case FT_BOOL:
		return NULL;
	case FT_STR:
	case FT_MULTI:
		break;
	}
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (!strcmp(f->name, strs[i][0]))
			return strs[i][1];
	return keep(l, "key-%u", ++fresh);
}

/* The base line of cmd: its words, npos positionals, "-- app.jar" if it
 * takes them. *first is the index of the first positional. */
static void base_line(struct line *l, const struct command *cmd, int npos,
		      int *first)
{
	memset(l, 0, sizeof(*l));
	*first = add_command_words(l, cmd);
	for (int i = 0; i < npos; i++)
		add(l, positional(l, cmd));
	if (cmd->rest) {
		add(l, "--");
		add(l, "app.jar");
	}
}

/* Checks reply is one JSON object answering line as expected. */
static void check_reply(const char *line, const struct strbuf *reply,
			enum expect want, const char *why)
{
	char err[128];
	struct json *j = json_parse(reply->buf, reply->len, err, sizeof(err));
	const struct json *ok;
	const char *code, *msg;

	if (!j || j->type != JSON_OBJECT)
		fail_msg("'%s': reply is not a JSON object (%s): %s", line,
			 j ? "not an object" : err, reply->buf);
	if (memchr(reply->buf, '\n', reply->len))
		fail_msg("'%s': reply of more than one line", line);
	ok = json_get(j, "ok");
	if (!ok || ok->type != JSON_BOOL)
		fail_msg("'%s': reply without ok: %s", line, reply->buf);
	stats.lines++;
	stats.parsed += want == PARSED;
	if (ok->boolean) {
		stats.ok++;
		stats.parsed_ok += want == PARSED;
		if (want == USAGE)
			fail_msg("'%s': accepted, want '%s'", line, why);
		json_free(j);
		return;
	}
	stats.refused++;
	code = json_get_str(j, "error");
	/* run start's --param must name a placeholder of the job's
	 * arguments and --after-any/--after-ok go with --after; run hold,
	 * release and set depend on the run's state (run 1 is cancelled by
	 * then): parsed, and refused (t2550 checks those refusals) */
	if (want == PARSED && code &&
	    ((!strcmp(code, "invalid") && !strncmp(line, "run start", 9)) ||
	     (!strcmp(code, "conflict") && !strncmp(line, "run ", 4))))
		stats.parsed--;
	/* schedule add needs --cron: a line without it is parsed and
	 * refused (t2600-schedules checks that refusal) */
	if (want == PARSED && code && !strcmp(code, "invalid") &&
	    !strncmp(line, "schedule add", 12) && !strstr(line, "--cron"))
		stats.parsed--;
	msg = json_get_str(j, "message");
	if (!code || !*code || !msg || !*msg)
		fail_msg("'%s': error without code or message: %s", line,
			 reply->buf);
	if (strpbrk(msg, "\r\n"))
		fail_msg("'%s': message of more than one line: %s", line,
			 reply->buf);
	if (want == PARSED && !strcmp(code, "usage"))
		fail_msg("'%s': not understood: %s", line, msg);
	if (want == USAGE && (strcmp(code, "usage") || !strstr(msg, why)))
		fail_msg("'%s': %s: %s, want usage '%s'", line, code, msg, why);
	json_free(j);
}

/* The hook the webhook lines name (WHID), made again when a line
 * removed it. */
static char hook_id[32];

static void webhook_id_in(struct strbuf *line)
{
	struct strbuf reply = STRBUF_INIT, out = STRBUF_INIT;
	char cmd[64];
	const char *at = strstr(line->buf, "WHID");

	if (!at)
		return;
	snprintf(cmd, sizeof(cmd), "webhook show %s", hook_id);
	admin_reply(fx, cmd, &reply);
	if (!hook_id[0] || !strstr(reply.buf, "\"ok\":true")) {
		struct json *j = admin(fx, "webhook add acme http://127.0.0.1:1/w");
		snprintf(hook_id, sizeof(hook_id), "%s", json_get_str(j, "id"));
		json_free(j);
	}
	strbuf_add(&out, line->buf, (size_t)(at - line->buf));
	strbuf_addstr(&out, hook_id);
	strbuf_addstr(&out, at + 4);
	strbuf_reset(line);
	strbuf_addstr(line, out.buf);
	strbuf_release(&out);
	strbuf_release(&reply);
}

/* The schedule the schedule lines name (SCHID), made again when a line
 * deleted it. */
static char schedule_id[32];

static void schedule_id_in(struct strbuf *line)
{
	struct strbuf reply = STRBUF_INIT, out = STRBUF_INIT;
	char cmd[64];
	const char *at = strstr(line->buf, "SCHID");

	if (!at)
		return;
	snprintf(cmd, sizeof(cmd), "schedule show %s", schedule_id);
	admin_reply(fx, cmd, &reply);
	if (!schedule_id[0] || !strstr(reply.buf, "\"ok\":true")) {
		struct json *j = admin(fx, "schedule add acme/prod/j --cron "
				       "\"59 23 31 12 *\"");
		snprintf(schedule_id, sizeof(schedule_id), "%s",
			 json_get(j, "schedule")->str);
		json_free(j);
	}
	strbuf_add(&out, line->buf, (size_t)(at - line->buf));
	strbuf_addstr(&out, schedule_id);
	strbuf_addstr(&out, at + 5);
	strbuf_reset(line);
	strbuf_addstr(line, out.buf);
	strbuf_release(&out);
	strbuf_release(&reply);
}

/* A schedule a `schedule add` line made is deleted again: a tenant may
 * have only SCHEDULE_MAX_PER_TENANT. */
static void schedule_added(const struct strbuf *reply)
{
	char err[128], cmd[64];
	struct json *j = json_parse(reply->buf, reply->len, err, sizeof(err));
	const struct json *id = j ? json_get(j, "schedule") : NULL;

	if (id && id->type == JSON_NUMBER) {
		snprintf(cmd, sizeof(cmd), "schedule delete %s", id->str);
		admin_ok(fx, cmd);
	}
	json_free(j);
}

/* A hook a `webhook add` line made is removed again: a tenant may have
 * only WEBHOOK_MAX_PER_TENANT. */
static void webhook_added(const struct strbuf *reply)
{
	char err[128], cmd[64];
	struct json *j = json_parse(reply->buf, reply->len, err, sizeof(err));
	const char *id = j ? json_get_str(j, "id") : NULL;

	if (id && strncmp(id, "wh_", 3) == 0) {
		snprintf(cmd, sizeof(cmd), "webhook remove %s", id);
		admin_ok(fx, cmd);
	}
	json_free(j);
}

/* Sends l through the dispatcher and checks its reply. */
static void send_line(const struct line *l, enum expect want, const char *why)
{
	struct strbuf line = STRBUF_INIT, reply = STRBUF_INIT;

	cmdline_join(&line, l->n, (char **)l->w);
	webhook_id_in(&line);
	schedule_id_in(&line);
	if (!strncmp(line.buf, "job delete ", 11)) /* there, deleted or not */
		admin_reply(fx, "job add acme/prod/doomed -- app.jar", &reply);
	strbuf_reset(&reply);
	admin_reply(fx, line.buf, &reply);
	check_reply(line.buf, &reply, want, why);
	if (!strncmp(line.buf, "webhook add ", 12))
		webhook_added(&reply);
	if (!strncmp(line.buf, "schedule add ", 13))
		schedule_added(&reply);
	strbuf_release(&line);
	strbuf_release(&reply);
}

/* The positional counts cmd takes: min_pos and, if different, max_pos. */
static int pos_counts(const struct command *cmd, int counts[2])
{
	counts[0] = cmd->min_pos;
	counts[1] = cmd->max_pos;
	return cmd->max_pos > cmd->min_pos ? 2 : 1;
}

/* Flag f of cmd with a valid value at every place among the npos
 * positionals (and after "--", where it is a Spark argument), written
 * "--flag value" and "--flag=value". */
static void flag_everywhere(const struct command *cmd,
			    const struct flag_spec *f, int npos)
{
	int last = npos + (cmd->rest ? 2 : 0);

	for (int at = 0; at <= last; at++) {
		for (int joined = 0; joined < 2; joined++) {
			struct line l;
			const char *v;
			int first;

			if (at == npos + 1)
				continue; /* between "--" and its args */
			base_line(&l, cmd, npos, &first);
			v = value(&l, f);
			if (joined && v) {
				insert(&l, first + at,
				       keep(&l, "%s=%s", f->name, v));
			} else {
				if (v)
					insert(&l, first + at, v);
				insert(&l, first + at, f->name);
			}
			send_line(&l, PARSED, NULL);
		}
	}
}

/* Flag f given twice, in every pair of places among the positionals. */
static void flag_twice(const struct command *cmd, const struct flag_spec *f,
		       int npos)
{
	for (int a = 0; a <= npos; a++) {
		for (int b = a; b <= npos; b++) {
			struct line l;
			const char *v;
			int first;

			base_line(&l, cmd, npos, &first);
			v = value(&l, f);
			/* the later place first, so the earlier index holds */
			if (v)
				insert(&l, first + b, v);
			insert(&l, first + b, f->name);
			/* a flag taking no value: no "=" form */
			insert(&l, first + a,
			       v ? keep(&l, "%s=%s", f->name, v) : f->name);
			/* a repeatable flag is parsed, its values checked
			 * by the command */
			if (f->type == FT_MULTI)
				send_line(&l, PARSED, NULL);
			else
				send_line(&l, USAGE, "given twice");
		}
	}
}

/* Flag f as the last word before "--" (or of the line): no value. */
static void flag_without_value(const struct command *cmd,
			       const struct flag_spec *f, int npos)
{
	struct line l;
	int first;

	if (f->type == FT_BOOL)
		return;
	base_line(&l, cmd, npos, &first);
	insert(&l, first + npos, f->name);
	/* before "--", the "--" is taken as its value and found wrong */
	send_line(&l, cmd->rest ? ANSWER : USAGE, "needs a value");
}

/* Values a client may send that no handler expects: newlines, control
 * characters, invalid UTF-8, an empty word. */
static void flag_hostile(const struct command *cmd, const struct flag_spec *f,
			 int npos)
{
	static const char *const bad[] = { "a\nb", "\t\x01\x1b[31m", "\xff\xfe",
					   "", "-1", "99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct line l;
		int first;

		base_line(&l, cmd, npos, &first);
		insert(&l, first, bad[i]);
		insert(&l, first, f->name);
		send_line(&l, ANSWER, NULL);
	}
}

/* Every flag of cmd at once, before the positionals and after them. */
static void all_flags(const struct command *cmd, int npos)
{
	for (int after = 0; after < 2; after++) {
		struct line l;
		int first, at;

		base_line(&l, cmd, npos, &first);
		at = first + (after ? npos : 0);
		for (int k = 0; cmd->flags[k].name; k++) {
			const char *v = value(&l, &cmd->flags[k]);
			if (v)
				insert(&l, at, v);
			insert(&l, at, cmd->flags[k].name);
		}
		send_line(&l, PARSED, NULL);
	}
}

/* An unknown flag in every place, with a value and with none. */
static void unknown_flag(const struct command *cmd, int npos)
{
	static const char *const forms[][2] = {
		{ "--no-such-flag", "1" },
		{ "--no-such-flag=1", NULL },
		{ "--no-such-flag", NULL },
		{ "---", NULL },
	};
	for (int at = 0; at <= npos; at++) {
		for (size_t k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
			struct line l;
			int first;

			base_line(&l, cmd, npos, &first);
			if (forms[k][1])
				insert(&l, first + at, forms[k][1]);
			insert(&l, first + at, forms[k][0]);
			send_line(&l, USAGE, "unknown option");
		}
	}
}

/* "--" in every place among the positionals, and "--" alone at the end. */
static void dashdash(const struct command *cmd, int npos)
{
	for (int at = 0; at <= npos; at++) {
		struct line l;
		int first;

		base_line(&l, cmd, npos, &first);
		if (cmd->rest) {
			l.n -= 2; /* drop "-- app.jar": "--" goes at `at` */
			insert(&l, first + at, "--");
			add(&l, "app.jar");
			if (at < npos)
				send_line(&l, USAGE, "missing argument");
			else
				send_line(&l, PARSED, NULL);
			l.n--; /* "--" with nothing after it */
			if (at == npos)
				send_line(&l, USAGE, "missing '--");
			continue;
		}
		insert(&l, first + at, "--");
		send_line(&l, USAGE, "takes no '--'");
		add(&l, "x");
		send_line(&l, USAGE, "takes no '--'");
	}
}

/* KEY=VALUE words of a kv command: after the positionals, each flag as
 * key=value and key_with_underscores=value. */
static void kv_words(const struct command *cmd, const struct flag_spec *f,
		     int npos)
{
	struct line l;
	char key[64];
	const char *v;
	int first;

	if (!cmd->kv || f->type == FT_BOOL)
		return;
	base_line(&l, cmd, npos, &first);
	v = value(&l, f);
	add(&l, keep(&l, "%s=%s", f->name + 2, v));
	send_line(&l, PARSED, NULL);
	snprintf(key, sizeof(key), "%s", f->name + 2);
	for (char *p = key; *p; p++)
		if (*p == '-')
			*p = '_';
	base_line(&l, cmd, npos, &first);
	add(&l, keep(&l, "%s=%s", key, value(&l, f)));
	send_line(&l, PARSED, NULL);
	base_line(&l, cmd, npos, &first);
	add(&l, keep(&l, "%s=%s", f->name + 2, value(&l, f)));
	add(&l, keep(&l, "%s=%s", f->name + 2, value(&l, f)));
	send_line(&l, USAGE, "given twice");
}

static void every_line_of(const struct command *cmd)
{
	int counts[2], nc = pos_counts(cmd, counts);

	assert_true(cmd->max_pos <= CMD_MAX_POS);
	for (int c = 0; c < nc; c++) {
		int npos = counts[c];
		for (int k = 0; cmd->flags[k].name; k++) {
			const struct flag_spec *f = &cmd->flags[k];
			flag_everywhere(cmd, f, npos);
			flag_twice(cmd, f, npos);
			flag_without_value(cmd, f, npos);
			flag_hostile(cmd, f, npos);
			kv_words(cmd, f, npos);
		}
		all_flags(cmd, npos);
		unknown_flag(cmd, npos);
		dashdash(cmd, npos);
	}
}

/* Too many and too few positionals, hostile positionals. */
static void positional_counts(const struct command *cmd)
{
	struct line l;
	int first;

	base_line(&l, cmd, cmd->max_pos, &first);
	insert(&l, first + cmd->max_pos, "extra");
	send_line(&l, USAGE, "unexpected argument 'extra'");
	if (cmd->min_pos > 0) {
		base_line(&l, cmd, cmd->min_pos - 1, &first);
		send_line(&l, USAGE, "missing argument");
	}
	for (int i = 0; i < cmd->max_pos; i++) {
		base_line(&l, cmd, cmd->max_pos, &first);
		l.w[first + i] = "a\nb\x01\xff";
		send_line(&l, ANSWER, NULL);
	}
}

static void test_every_command_line(void **state)
{
	size_t n;
	const struct command *cmds = admin_cmds_table(&n);

	fx = *state;
	memset(&stats, 0, sizeof(stats));
	assert_true(n > 20);
	for (size_t i = 0; i < n; i++) {
		every_line_of(&cmds[i]);
		positional_counts(&cmds[i]);
	}
	/* the scheduler still answers; the lines that parse name things that
	 * exist with valid values, so nearly all of them did their work (a
	 * few find their run in the wrong state) */
	admin_ok(fx, "tenant list");
	print_message("%u generated lines: %u ok, %u refused; %u of %u valid "
		      "lines ok\n", stats.lines, stats.ok, stats.refused,
		      stats.parsed_ok, stats.parsed);
	assert_true(stats.parsed > 200);
	assert_true(stats.parsed_ok * 10 >= stats.parsed * 9);
}

/* Words that name no command, or a noun without its verb. */
static void test_unknown_commands(void **state)
{
	static const char *const lines[][2] = {
		{ "frobnicate", "unknown command 'frobnicate'" },
		{ "tenant", "needs a verb" },
		{ "tenant frob", "unknown command 'tenant frob'" },
		{ "--weight 3", "unknown command" },
		{ "-- tenant add x", "unknown command" },
		{ "\"a\\nb\"", "unknown command" },
	};
	struct strbuf reply = STRBUF_INIT;

	fx = *state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		admin_reply(fx, lines[i][0], &reply);
		check_reply(lines[i][0], &reply, USAGE, lines[i][1]);
	}
	strbuf_release(&reply);
}

/* The string at path "a.b.c" of j, or NULL. */
static const char *get_path(const struct json *j, const char *path)
{
	char key[64];
	const char *dot;

	while ((dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		j = json_get(j, key);
		path = dot + 1;
	}
	j = json_get(j, path);
	return j && (j->type == JSON_STRING || j->type == JSON_NUMBER) ? j->str
									: NULL;
}

/* A show command's field after the line that set it. */
static void assert_shows(const char *set, const char *show, const char *path,
			 const char *want)
{
	struct json *j;
	const char *got;

	admin_ok(fx, set);
	j = admin(fx, show);
	got = get_path(j, path);
	if (!got || strcmp(got, want))
		fail_msg("after '%s', '%s' shows %s = %s, want %s", set, show,
			 path, got ? got : "nothing", want);
	json_free(j);
}

/* An option before the positional means what it means after it (the
 * lines that killed the scheduler with a double free). */
static void test_option_before_positional(void **state)
{
	struct json *j;
	char show[64];

	fx = *state;
	assert_shows("tenant add --monthly-budget 5 beta", "tenant show beta",
		     "tenant.budget.monthly", "5.00");
	assert_shows("tenant set --weight 3 beta", "tenant show beta",
		     "tenant.weight", "3");
	assert_shows("env add --mode byoc_lite beta/lite",
		     "env show beta/lite", "environment.mode", "byoc_lite");
	assert_shows("job add --executors 3 acme/prod/k -- app.jar",
		     "job show acme/prod/k", "job.executors", "3");
	j = admin(fx,
		  "run start --priority 5 --idempotency-key k1 acme/prod/j");
	snprintf(show, sizeof(show), "run show %s", get_path(j, "run"));
	json_free(j);
	j = admin(fx, show);
	assert_string_equal(get_path(j, "run.priority"), "5");
	assert_string_equal(get_path(j, "run.idempotency_key"), "k1");
	json_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_option_before_positional,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_commands, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_every_command_line,
						fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
