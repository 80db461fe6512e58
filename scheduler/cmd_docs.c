/* cmd_docs.c - spctl(1) and spctl's bash completion from the command
 * table. */
#include "cmd_docs.h"

#include <stdbool.h>
#include <string.h>

#include "admin_cmds.h"

void man_text(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else if (*s != '`')
			fputc(*s, out);
	}
}

void cmd_docs_man(FILE *out, const char *version)
{
	size_t n;
	const struct command *t = admin_cmds_table(&n);

	fprintf(out, ".TH SPCTL 1 \"\" \"SparkPilot %s\" \"User Commands\"\n",
		version);
	fputs(".SH NAME\nspctl \\- control a SparkPilot scheduler\n"
	      ".SH SYNOPSIS\n.B spctl\n[\\fB\\-\\-socket\\fR \\fIPATH\\fR] "
	      "[\\fB\\-\\-json\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR...]\n.br\n"
	      ".B spctl\n\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR\n"
	      ".SH DESCRIPTION\nspctl sends one command to the scheduler's "
	      "admin socket and prints its reply: a table or key/value "
	      "lines, or the JSON reply as is with \\fB\\-\\-json\\fR. Who may "
	      "connect is who may open the socket (the scheduler's user and "
	      "group).\n"
	      ".SH OPTIONS\n.TP\n\\fB\\-\\-socket\\fR \\fIPATH\\fR\nthe admin "
	      "socket; else $SPARKPILOT_SOCKET, else "
	      "/run/sparkpilot/admin.sock.\n.TP\n\\fB\\-\\-json\\fR\nprint "
	      "the reply as JSON.\n.TP\n\\fB\\-\\-help\\fR\nthe commands, "
	      "without asking a scheduler.\n.TP\n\\fB\\-\\-version\\fR\nthe "
	      "build's version.\n.SH COMMANDS\n",
	      out);
	for (size_t i = 0; i < n; i++) {
		fputs(".TP\n.B ", out);
		man_text(out, t[i].words);
		if (t[i].args[0]) {
			fputc(' ', out);
			man_text(out, t[i].args);
		}
		fputc('\n', out);
		man_text(out, t[i].summary);
		fprintf(out, " (role: %s).\n",
			t[i].scope == SCOPE_ANY ? "anyone"
						: role_name(t[i].role));
	}
	fputs(".SH ENVIRONMENT\n.TP\n.B SPARKPILOT_SOCKET\nthe admin "
	      "socket, when \\fB\\-\\-socket\\fR is not given.\n.TP\n"
	      ".B SPCTL_TIMEOUT\nseconds to wait for a reply (1 to 86400, "
	      "default 30).\n"
	      ".SH EXIT STATUS\n0 done; 1 the scheduler refused (one line "
	      "\"spctl: error: ...\" on stderr names why); 77 the caller's "
	      "role does not allow the command (forbidden); 2 it could not "
	      "be asked (bad usage, no socket, no reply).\n"
	      ".SH SEE ALSO\n\\fBsparkpilot\\-scheduler\\fR(8), "
	      "\\fBsparkpilot.conf\\fR(5)\n",
	      out);
}

/* The first word of a command ("tenant" of "tenant add"), into buf. */
static void noun_of(const char *words, char *buf, size_t len)
{
	size_t k = strcspn(words, " ");
	snprintf(buf, len, "%.*s", (int)(k < len ? k : len - 1), words);
}

static bool seen_noun(const struct command *t, size_t i)
{
	char a[32], b[32];
	noun_of(t[i].words, a, sizeof(a));
	for (size_t j = 0; j < i; j++) {
		noun_of(t[j].words, b, sizeof(b));
		if (!strcmp(a, b))
			return true;
	}
	return false;
}

/* Whether a command of noun between from and j has the same second word
 * ("agent token" and "agent token list": one verb, "token"). */
static bool verb_seen(const struct command *t, size_t from, size_t j,
		      const char *noun, const char *verb, size_t vlen)
{
	char other[32];

	for (size_t k = from; k < j; k++) {
		const char *v = strchr(t[k].words, ' ');
		noun_of(t[k].words, other, sizeof(other));
		if (v && !strcmp(noun, other) && strcspn(v + 1, " ") == vlen &&
		    !strncmp(v + 1, verb, vlen))
			return true;
	}
	return false;
}

static void flags_words(FILE *out, const struct command *c)
{
	for (const struct flag_spec *f = c->flags; f && f->name; f++)
		fprintf(out, "%s%s", f == c->flags ? "" : " ", f->name);
}

void cmd_docs_completion(FILE *out)
{
	size_t n;
	const struct command *t = admin_cmds_table(&n);
	char noun[32], other[32];

	fputs("# bash completion for spctl: made from the scheduler's command "
	      "table\n# (bin/sp-docgen spctl-completion), installed as\n"
	      "# share/bash-completion/completions/spctl.\n"
	      "_spctl() {\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} i words=()\n"
	      "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "\t\tcase ${COMP_WORDS[i]} in\n"
	      "\t\t--socket) ((i++)) ;;\n"
	      "\t\t--json) ;;\n"
	      "\t\t--) return 0 ;; # spark-submit's arguments\n"
	      "\t\t*) words+=(\"${COMP_WORDS[i]}\") ;;\n"
	      "\t\tesac\n"
	      "\tdone\n"
	      "\tif [ ${#words[@]} -eq 0 ]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"--socket --json --help "
	      "--version",
	      out);
	for (size_t i = 0; i < n; i++) {
		if (seen_noun(t, i))
			continue;
		noun_of(t[i].words, noun, sizeof(noun));
		fprintf(out, " %s", noun);
	}
	fputs("\" -- \"$cur\"))\n\t\treturn 0\n\tfi\n"
	      "\tif [ ${#words[@]} -eq 1 ]; then\n\t\tcase ${words[0]} in\n",
	      out);
	/* the second word: a noun's verbs, or a one-word command's flags */
	for (size_t i = 0; i < n; i++) {
		if (seen_noun(t, i))
			continue;
		noun_of(t[i].words, noun, sizeof(noun));
		fprintf(out, "\t\t%s) COMPREPLY=($(compgen -W \"", noun);
		if (!strchr(t[i].words, ' ')) {
			flags_words(out, &t[i]);
		} else {
			bool first = true;
			for (size_t j = i; j < n; j++) {
				const char *verb = strchr(t[j].words, ' ');
				size_t vlen;
				noun_of(t[j].words, other, sizeof(other));
				if (!verb || strcmp(noun, other))
					continue;
				vlen = strcspn(++verb, " ");
				if (verb_seen(t, i, j, noun, verb, vlen))
					continue;
				fprintf(out, "%s%.*s", first ? "" : " ",
					(int)vlen, verb);
				first = false;
			}
		}
		fputs("\" -- \"$cur\")) ;;\n", out);
	}
	fputs("\t\tesac\n\t\treturn 0\n\tfi\n"
	      "\tcase \"${words[0]} ${words[1]} \" in\n",
	      out);
	/* then a command's flags, whatever follows */
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "\t\"%s \"*) ", t[i].words);
		fputs("COMPREPLY=($(compgen -W \"", out);
		flags_words(out, &t[i]);
		fputs("\" -- \"$cur\")) ;;\n", out);
	}
	fputs("\tesac\n}\ncomplete -F _spctl spctl\n", out);
}
