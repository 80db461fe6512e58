/* sp-docgen - documentation made from the code's own tables, so that it
 * cannot drift from them:
 *   sp-docgen config-md    docs/configuration.md (both daemons' settings)
 *   sp-docgen config-man   sparkpilot.conf(5), the same as a man page
 * `make docs` writes them; `make check` fails when the committed
 * docs/configuration.md differs from what this prints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_config.h"
#include "config.h"
#include "settings.h"
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
	printf("| key | default | values | flag | meaning |\n");
	printf("|---|---|---|---|---|\n");
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
		printf(" | %s | %s%s%s | ", range, flag ? "`" : "",
		       flag ? flag : "—", flag ? "`" : "");
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
	       "overrides the file. A value out of range or a key\nnot known "
	       "is refused at start with the file and line, exit status 2.\n"
	       "`--print-config` prints the settings a daemon would run with, "
	       "as such a file.\n");
	config_md_one(sd, sdef);
	config_md_one(ad, adef);
}

/* troff: a leading '.' or '\'' would be a request, a '\\' an escape. */
static void man_text(const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", stdout);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", stdout);
		else if (*s == '-')
			fputs("\\-", stdout);
		else if (*s != '`')
			fputc(*s, stdout);
	}
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
		man_text(s->doc ? s->doc : "");
		printf(".\nValues: ");
		man_text(range);
		printf("; default: ");
		man_text(def[0] ? def : "none");
		if (flag) {
			printf("; flag \\fB");
			man_text(flag);
			printf("\\fR");
		}
		printf(".\n");
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

int main(int argc, char **argv)
{
	struct settings_doc sd, ad;
	struct sched_config *sdef = calloc(1, sizeof(*sdef));
	struct agent_config *adef = calloc(1, sizeof(*adef));

	if (argc != 2 || !sdef || !adef) {
		fprintf(stderr, "usage: sp-docgen config-md | config-man\n");
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
	else {
		fprintf(stderr, "sp-docgen: unknown document '%s'\n", argv[1]);
		return 2;
	}
	free(sdef);
	free(adef);
	return fflush(stdout) ? 1 : 0;
}
