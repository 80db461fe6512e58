/* sp-docgen - documentation made from the code's own tables, so that it
 * cannot drift from them:
 *   sp-docgen config-md    docs/configuration.md (both daemons' settings)
 *   sp-docgen config-man   sparkpilot.conf(5), the same as a man page
 *   sp-docgen spctl-man    spctl(1), from the command table
 *   sp-docgen spctl-completion   bash completion for spctl
 *   sp-docgen scheduler-man | agent-man   the daemons' pages (8)
 *   sp-docgen compat-md DIR   docs/compatibility.md, from the agent's
 *                          parser and classifier run over the Spark
 *                          transcripts in DIR (tests/data/spark-matrix)
 * `make docs` writes them; `make check` fails when the committed
 * docs/configuration.md differs from what this prints. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_config.h"
#include "cmd_docs.h"
#include "config.h"
#include "settings.h"
#include "spark_matrix.h"
#include "strbuf.h"
#include "version.h"

/* A setting's default as text: "" for an unset string. */
static void default_of(const struct setting *s, const void *base, char *buf,
		       size_t len)
{
	const char *p = (const char *)base + s->off;
	if (s->is_int)
		snprintf(buf, len, "%lld", (long long)*(const int64_t *)p);
	else
		snprintf(buf, len, "%s", p);
}

static void range_of(const struct setting *s, char *buf, size_t len)
{
	if (s->is_int)
		snprintf(buf, len, "%lld to %lld", (long long)s->min,
			 (long long)s->max);
	else
		snprintf(buf, len, "%s", s->list ? "repeatable" : "text");
}

/* Markdown table cells: a '|' would end the cell. */
static void md_cell(const char *s)
{
	for (; *s; s++)
		fputs(*s == '|' ? "\\|" : (char[2]){ *s, 0 }, stdout);
}

static void config_md_one(const struct settings_doc *d, const void *defaults)
{
	char def[600], range[64];

	printf("\n## %s\n\n`%s`, or the file given with `--config`.\n\n",
	       d->prog, d->file);
	printf("| key | default | values | flag | on reload | meaning |\n");
	printf("|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < d->n; i++) {
		const struct setting *s = &d->tbl[i];
		const char *flag = settings_flag_of(d, s->key);
		default_of(s, defaults, def, sizeof(def));
		range_of(s, range, sizeof(range));
		printf("| `%s` | ", s->key);
		if (def[0]) {
			fputc('`', stdout);
			md_cell(def);
			fputc('`', stdout);
		} else {
			fputs("—", stdout);
		}
		printf(" | %s | %s%s%s | %s | ", range, flag ? "`" : "",
		       flag ? flag : "—", flag ? "`" : "",
		       d->live && d->live(s->key) ? "at once" : "restart");
		md_cell(s->doc ? s->doc : "");
		printf(" |\n");
	}
}

static void config_md(const struct settings_doc *sd, const void *sdef,
		      const struct settings_doc *ad, const void *adef)
{
	printf("# Configuration reference\n\n"
	       "Every setting of both daemons, made from the settings tables "
	       "in the code\n(`make docs` runs `bin/sp-docgen config-md`; "
	       "`make check` fails when this\nfile and the code disagree). "
	       "The same text is in the config samples that\n`make install` "
	       "writes and in sparkpilot.conf(5).\n\n"
	       "A config file has one `key = value` per line; a line starting "
	       "with `#` is a\ncomment; a value may be quoted, `\"...\"`, with "
	       "`\\\"` and `\\\\` inside. A flag\ngiven on the command line "
	       "overrides the file. \"On reload\": what `systemctl reload` "
	       "(SIGHUP) does with a\nchanged value, apply it at once or "
	       "log that it waits for a restart. A value out of range or a key\nnot known "
	       "is refused at start with the file and line, exit status 2.\n"
	       "`--print-config` prints the settings a daemon would run with, "
	       "as such a file.\n");
	config_md_one(sd, sdef);
	config_md_one(ad, adef);
}

static void config_man_one(const struct settings_doc *d, const void *defaults)
{
	char def[600], range[64];

	printf(".SH %s\n", !strcmp(d->prog, "sparkpilot-scheduler")
				  ? "SCHEDULER SETTINGS"
				  : "AGENT SETTINGS");
	printf("In \\fI%s\\fR.\n", d->file);
	for (size_t i = 0; i < d->n; i++) {
		const struct setting *s = &d->tbl[i];
		const char *flag = settings_flag_of(d, s->key);
		default_of(s, defaults, def, sizeof(def));
		range_of(s, range, sizeof(range));
		printf(".TP\n.B %s\n", s->key);
		man_text(stdout, s->doc ? s->doc : "");
		printf(".\nValues: ");
		man_text(stdout, range);
		printf("; default: ");
		man_text(stdout, def[0] ? def : "none");
		if (flag) {
			printf("; flag \\fB");
			man_text(stdout, flag);
			printf("\\fR");
		}
		printf("; %s.\n", d->live && d->live(s->key)
					   ? "a reload applies it at once"
					   : "a change waits for a restart");
	}
}

static void config_man(const struct settings_doc *sd, const void *sdef,
		       const struct settings_doc *ad, const void *adef)
{
	printf(".TH SPARKPILOT.CONF 5 \"\" \"SparkPilot %s\" "
	       "\"File Formats\"\n",
	       sp_version());
	printf(".SH NAME\nsparkpilot.conf \\- settings of "
	       "sparkpilot\\-scheduler and sparkpilot\\-agent\n");
	printf(".SH SYNOPSIS\n/etc/sparkpilot/scheduler.conf\n.br\n"
	       "/etc/sparkpilot/agent.conf\n");
	printf(".SH DESCRIPTION\nOne \\fIkey\\fR = \\fIvalue\\fR per line; "
	       "a line starting with # is a comment; a value may be quoted "
	       "(\"...\", with \\e\" and \\e\\e inside). A flag on the "
	       "command line overrides the file. A value out of range or an "
	       "unknown key is refused at start with the file and line "
	       "(exit status 2). \\fB\\-\\-print\\-config\\fR prints the "
	       "settings in force as such a file. \\fBsystemctl reload\\fR "
	       "(SIGHUP) reads the scheduler's file again.\n");
	config_man_one(sd, sdef);
	config_man_one(ad, adef);
	printf(".SH SEE ALSO\n\\fBsparkpilot\\-scheduler\\fR(8), "
	       "\\fBsparkpilot\\-agent\\fR(8), \\fBspctl\\fR(1)\n");
}

/* sparkpilot-scheduler(8) or sparkpilot-agent(8): flags from the table,
 * each with the text of the setting it sets. */
static void daemon_man(const struct settings_doc *d, const void *defaults)
{
	bool sched = !strcmp(d->prog, "sparkpilot-scheduler");
	char def[600];

	printf(".TH %s 8 \"\" \"SparkPilot %s\" \"System Administration\"\n",
	       sched ? "SPARKPILOT-SCHEDULER" : "SPARKPILOT-AGENT",
	       sp_version());
	printf(".SH NAME\n");
	man_text(stdout, d->prog);
	printf(" \\- %s\n", sched ? "the SparkPilot scheduler: durable queues "
				      "of every tenant's Spark runs"
				    : "the SparkPilot agent: runs spark-submit "
				      "for a scheduler, inside a customer's "
				      "network");
	printf(".SH SYNOPSIS\n.B ");
	man_text(stdout, d->prog);
	printf("\n[\\fB\\-\\-config\\fR \\fIFILE\\fR] [\\fIFLAG VALUE\\fR]... "
	       "[\\fB\\-\\-print\\-config\\fR]\n.br\n.B ");
	man_text(stdout, d->prog);
	printf("\n\\fB\\-\\-version\\fR | \\fB\\-\\-help\\fR\n");
	printf(".SH DESCRIPTION\n%s\n",
	       sched ? "Keeps tenants' runs in a RocksDB store, enforces quotas, "
		       "budgets and backpressure, and hands runs to agents "
		       "that connect to its agent port; operators use "
		       "\\fBspctl\\fR(1) over its admin socket. A change is "
		       "acknowledged only once it is synced to disk."
		     : "Dials out to its scheduler, enrolls once with a "
		       "one-time token, runs its preflight, then pulls runs "
		       "for its free slots, runs spark-submit, and sends back "
		       "redacted, signed telemetry through a durable spool.");
	printf(".SH OPTIONS\n.TP\n\\fB\\-\\-config\\fR \\fIFILE\\fR\n"
	       "read the settings from FILE (\\fBsparkpilot.conf\\fR(5)) "
	       "first; the flags override it.\n");
	for (size_t i = 0; i < d->nflags; i++) {
		for (size_t k = 0; k < d->n; k++) {
			const struct setting *s = &d->tbl[k];
			if (strcmp(s->key, d->flags[i].key))
				continue;
			default_of(s, defaults, def, sizeof(def));
			printf(".TP\n\\fB");
			man_text(stdout, d->flags[i].flag);
			printf("\\fR \\fIVALUE\\fR\n");
			man_text(stdout, s->doc);
			printf(" (setting \\fB");
			man_text(stdout, s->key);
			printf("\\fR; default ");
			man_text(stdout, def[0] ? def : "none");
			printf(").\n");
		}
	}
	if (sched)
		printf(".TP\n\\fB\\-\\-restore\\-from\\fR "
		       "\\fIBACKUP_DIR\\fR[:\\fIID\\fR]\nrestore backup ID "
		       "(the newest without one) of BACKUP_DIR, taken with "
		       "\\fBspctl backup create\\fR, into the data dir, "
		       "which must be absent or empty, and exit: 0 when done, "
		       "2 with one line naming the problem and nothing written "
		       "to the data dir. Start the scheduler on it "
		       "afterwards.\n");
	printf(".TP\n\\fB\\-\\-print\\-config\\fR\nprint the settings in "
	       "force as a config file, and exit.\n"
	       ".TP\n\\fB\\-\\-version\\fR\nprint the build's version and "
	       "the formats spoken, and exit.\n");
	printf(".SH SIGNALS\nSIGTERM and SIGINT stop it cleanly%s.\n",
	       sched ? "; SIGHUP reads the configuration again (settings "
		       "that allow it change at once, see "
		       "\\fBsparkpilot.conf\\fR(5); the TLS files are read "
		       "again even when their paths did not change, and serve "
		       "new connections; other changes are named and wait for "
		       "a restart; a bad file, or TLS files that do not parse "
		       "or match, are refused and nothing changes)"
		     : " (its runs are stopped and reported); SIGHUP reads the "
		       "configuration again (the log level and the redaction "
		       "rules change at once, the rules for runs in progress "
		       "too; the TLS files are read again for the next "
		       "connection; other changes are named and wait for a "
		       "restart; a bad file is refused)");
	printf(".SH FILES\n.TP\n");
	man_text(stdout, d->file);
	printf("\nthe settings (\\fBsparkpilot.conf\\fR(5)).\n");
	if (sched)
		printf(".TP\n\\fIDATA_DIR\\fR/audit.key\nthe audit log's "
		       "checkpoint key (Ed25519, mode 0600, made at the first "
		       "start; its public half: \\fBspctl audit key\\fR); "
		       "exports are checked offline with "
		       "\\fBsparkpilot\\-audit\\-verify\\fR \\-\\-key "
		       "\\fIKEY FILE\\fR.\n");
	printf(".SH SEE ALSO\n\\fBsparkpilot.conf\\fR(5), %s\n",
	       sched ? "\\fBspctl\\fR(1), \\fBsparkpilot\\-agent\\fR(8)"
		     : "\\fBsparkpilot\\-scheduler\\fR(8)");
}

/* docs/compatibility.md (spark_matrix.h). */
static int compat_md(const char *dir)
{
	struct matrix_case *c;
	struct strbuf sb = STRBUF_INIT;
	size_t n;
	char err[256];

	if (spark_matrix_run(dir, &c, &n, err, sizeof(err))) {
		fprintf(stderr, "sp-docgen: %s\n", err);
		return 1;
	}
	spark_matrix_markdown(c, n, &sb);
	fwrite(sb.buf, 1, sb.len, stdout);
	strbuf_release(&sb);
	free(c);
	return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct settings_doc sd, ad;
	struct sched_config *sdef = calloc(1, sizeof(*sdef));
	struct agent_config *adef = calloc(1, sizeof(*adef));

	if (argc == 3 && !strcmp(argv[1], "compat-md")) {
		free(sdef);
		free(adef);
		return compat_md(argv[2]);
	}
	if (argc != 2 || !sdef || !adef) {
		fprintf(stderr, "usage: sp-docgen config-md | config-man | "
				"spctl-man | spctl-completion | scheduler-man | "
				"agent-man | compat-md DIR\n");
		return 2;
	}
	config_defaults(sdef);
	agent_config_defaults(adef);
	config_describe(&sd);
	agent_config_describe(&ad);
	if (!strcmp(argv[1], "config-md"))
		config_md(&sd, sdef, &ad, adef);
	else if (!strcmp(argv[1], "config-man"))
		config_man(&sd, sdef, &ad, adef);
	else if (!strcmp(argv[1], "spctl-man"))
		cmd_docs_man(stdout, sp_version());
	else if (!strcmp(argv[1], "spctl-completion"))
		cmd_docs_completion(stdout);
	else if (!strcmp(argv[1], "scheduler-man"))
		daemon_man(&sd, sdef);
	else if (!strcmp(argv[1], "agent-man"))
		daemon_man(&ad, adef);
	else {
		fprintf(stderr, "sp-docgen: unknown document '%s'\n", argv[1]);
		return 2;
	}
	free(sdef);
	free(adef);
	return fflush(stdout) ? 1 : 0;
}
