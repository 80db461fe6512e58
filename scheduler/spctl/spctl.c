/* spctl.c - the operator's command line tool: a thin client of the admin
 * socket. It sends the words it is given as one line and prints the JSON
 * reply as a table (or as is, with --json). */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmdline.h"
#include "format.h"
#include "json.h"
#include "parse.h"
#include "runlist.h"
#include "strbuf.h"
#include "util.h"
#include "version.h"

/* One entry per command of the scheduler's table (admin_cmds.c), in its
 * order; tests/integration/t0950-admin.sh checks the two agree. */
static const char usage[] =
	"usage: spctl [--socket PATH] [--json] COMMAND [ARGS...]\n"
	"       spctl --help | --version\n"
	"\n"
	"commands:\n"
	"  tenant add NAME [--weight N] [--max-running N] [--max-queued N]\n"
	"      [--submit-rate N] [--monthly-budget USD] [--budget-mode soft|hard]\n"
	"      [--cancel-running on|off] [--retention-days N]\n"
	"  tenant list\n"
	"  tenant show NAME\n"
	"  tenant set NAME [--weight N] [--max-running N|unlimited]\n"
	"      [--max-queued N|unlimited] [--submit-rate N|unlimited]\n"
	"      [--monthly-budget USD] [--budget-mode soft|hard]\n"
	"      [--cancel-running on|off] [--retention-days N]\n"
	"      (or KEY=VALUE words: max-running=10 submit-rate=unlimited)\n"
	"  tenant suspend NAME\n"
	"  tenant resume NAME\n"
	"  tenant delete NAME --confirm [--force]\n"
	"  tenant events NAME [--limit N]\n"
	"  env add TENANT/ENV [--mode full|byoc_lite] [--price-vcpu-hour USD]\n"
	"      [--price-gb-hour USD] [--spot-discount PCT] [--max-concurrent N]\n"
	"      [--backend spark-submit|livy|emr-eks]\n"
	"  env set TENANT/ENV [--price-vcpu-hour USD] [--price-gb-hour USD]\n"
	"      [--spot-discount PCT] [--max-concurrent N|unlimited]\n"
	"      [--backend NAME] [--backend-setting KEY=VALUE]\n"
	"      (or KEY=VALUE words)\n"
	"  env delete TENANT/ENV\n"
	"  env list\n"
	"  env show TENANT/ENV\n"
	"  agent token TENANT/ENV [--ttl SECONDS]\n"
	"  agent token list [TENANT/ENV]\n"
	"  agent token revoke ID\n"
	"  agent list\n"
	"  agent show ID\n"
	"  agent drain ID\n"
	"  agent undrain ID\n"
	"  agent revoke ID\n"
	"  agent rotate ID\n"
	"  job add TENANT/ENV/JOB [--driver-cores N] [--driver-memory GB]\n"
	"      [--executor-cores N] [--executor-memory GB] [--executors N]\n"
	"      [--timeout SECONDS] [--max-attempts N] [--run-budget USD]\n"
	"      [--max-concurrent N] -- SPARK_SUBMIT_ARGS...\n"
	"  job delete TENANT/ENV/JOB\n"
	"  job list\n"
	"  job set TENANT/ENV/JOB [job add's flags] [-- SPARK_SUBMIT_ARGS...]\n"
	"  job show TENANT/ENV/JOB [--version N]\n"
	"  job history TENANT/ENV/JOB\n"
	"  run start TENANT/ENV/JOB [--priority N] [--idempotency-key KEY]\n"
	"      [--param KEY=VALUE]... [--after RUN[,RUN...] [--after-any|--after-ok]]\n"
	"      [--hold] [-- EXTRA_ARGS...]\n"
	"  run list [--tenant T] [--env T/E] [--job T/E/J] [--state S[,S...]]\n"
	"      [--created-by uid:N|user:NAME|schedule:ID] [--schedule ID]\n"
	"      [--since TIME] [--until TIME] [--class CLASS] [--after-id ID]\n"
	"      [--limit N] [--oldest-first]\n"
	"      [--watch [--interval SECONDS] [--watch-count N]]\n"
	"  run show RUN\n"
	"  run logs RUN [--after N] [--limit N] [--follow]\n"
	"  run metrics RUN\n"
	"  run diagnose RUN\n"
	"  run cancel RUN\n"
	"  run hold RUN\n"
	"  run release RUN\n"
	"  run retry RUN\n"
	"  run set RUN --priority N\n"
	"  schedule add TENANT/ENV/JOB --cron 'MIN HOUR DOM MON DOW'\n"
	"      [--timezone AREA/CITY] [--concurrency allow|forbid|replace]\n"
	"      [--catch-up none|last|all] [--starting-deadline DURATION]\n"
	"      [--then JOB[,JOB...]] [-- EXTRA_ARGS...]\n"
	"  schedule list [--tenant T]\n"
	"  schedule show ID\n"
	"  schedule pause ID\n"
	"  schedule resume ID\n"
	"  schedule delete ID\n"
	"  queue stats\n"
	"  dispatch pause\n"
	"  dispatch resume\n"
	"  backup create      (needs backup_dir; SPCTL_TIMEOUT for a big store)\n"
	"  backup list\n"
	"  backup verify ID\n"
	"  backup prune --keep N\n"
	"  usage [TENANT] [--from DATE] [--to DATE] [--format table|json|csv]\n"
	"      [--by job|user|env|day]\n"
	"  report env TENANT/ENV [--days N] [--format table|md]\n"
	"  audit list [--tenant T] [--since TIME] [--limit N]\n"
	"  audit export [--since TIME]   (JSON lines, every page: > FILE.jsonl)\n"
	"  audit verify\n"
	"  audit key\n"
	"  webhook add TENANT URL [--events run.succeeded,run.failed,...]\n"
	"      (prints the signing secret, once)\n"
	"  webhook list [TENANT]\n"
	"  webhook show ID\n"
	"  webhook remove ID\n"
	"  webhook test ID\n"
	"  help          (the scheduler's own list, with a line on each)\n"
	"\n"
	"The socket is --socket, else $SPARKPILOT_SOCKET, else\n"
	"/run/sparkpilot/admin.sock. --json prints the scheduler's reply as is.\n"
	"SPCTL_TIMEOUT (seconds, default 30) bounds the wait for a reply.\n"
	"An error is one line \"spctl: error: ...\" on stderr, with exit status 1\n"
	"when the scheduler refused, 77 when the caller's role does not allow\n"
	"the command (forbidden), 2 when it could not be asked.\n";

struct opts {
	const char *socket;
	bool json;
	int timeout_ms;
};

static int fail(int code, const char *fmt, ...) SP_PRINTF(2, 3);

static int fail(int code, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "spctl: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* One exchange; prints the reply. Returns the exit status; *reply_out
 * receives the parsed reply when the caller wants it (follow). */
static int exchange(int fd, const struct opts *o, int argc, char **argv,
		    bool print, struct json **reply_out)
{
	struct strbuf line = STRBUF_INIT, raw = STRBUF_INIT, out = STRBUF_INIT;
	char err[512];
	struct json *reply;
	int rc = 0;

	cmdline_join(&line, argc, argv);
	if (admin_call(fd, line.buf, line.len, &raw, o->timeout_ms, err,
		       sizeof(err))) {
		rc = fail(2, "%s", err);
		goto out;
	}
	reply = json_parse(raw.buf, raw.len, err, sizeof(err));
	if (!reply || reply->type != JSON_OBJECT) {
		json_free(reply);
		rc = fail(2, "the scheduler sent a malformed reply: %s", err);
		goto out;
	}
	if (!json_get_bool(reply, "ok")) {
		const char *msg = json_get_str(reply, "message");
		const char *code = json_get_str(reply, "error");
		if (o->json)
			printf("%s\n", raw.buf);
		/* 77: EX_NOPERM (sysexits.h), apart from every other refusal */
		rc = fail(code && !strcmp(code, "forbidden") ? 77 : 1, "%s",
			  msg ? msg : "unknown error");
		json_free(reply);
		goto out;
	}
	if (print && o->json) {
		printf("%s\n", raw.buf);
	} else if (print) {
		format_reply(&out, reply);
		fwrite(out.buf, 1, out.len, stdout);
	}
	if (reply_out)
		*reply_out = reply;
	else
		json_free(reply);
out:
	fflush(stdout);
	strbuf_release(&line);
	strbuf_release(&raw);
	strbuf_release(&out);
	return rc;
}

/* Asks for page after page, each with --after N (the reply's "next"),
 * until a reply says done: run logs RUN --follow (every half second),
 * audit export (at once; the first page without --after). */
static int pages(int fd, const struct opts *o, int argc, char **argv,
		 bool follow)
{
	char *words[10], after[32];
	int n = 0, max = follow ? 3 : 5;
	uint64_t next = 0;
	bool first = !follow;

	for (int i = 0; i < argc && n <= max; i++)
		if (strcmp(argv[i], "--follow"))
			words[n++] = argv[i];
	if (follow && n != 3)
		return fail(2, "%s", "usage: run logs RUN --follow");
	if (n > max)
		return fail(2, "%s", "usage: audit export [--since TIME]");
	for (;;) {
		struct json *reply = NULL;
		const struct json *nx;
		bool done;
		int rc;
		words[n] = (char *)"--after";
		snprintf(after, sizeof(after), "%llu", (unsigned long long)next);
		words[n + 1] = after;
		rc = exchange(fd, o, first ? n : n + 2, words, true, &reply);
		first = false;
		if (rc)
			return rc;
		nx = json_get(reply, "next");
		if (nx && nx->type == JSON_NUMBER)
			parse_u64(nx->str, 0, UINT64_MAX, &next, NULL, 0);
		done = json_get_bool(reply, "done");
		json_free(reply);
		if (done)
			return 0;
		if (follow)
			usleep(500 * 1000);
	}
}

int main(int argc, char **argv)
{
	struct opts o = { NULL, false, 30000 };
	int i, fd, rc;
	char err[512];
	const char *t = getenv("SPCTL_TIMEOUT");
	bool follow = false;

	signal(SIGPIPE, SIG_IGN);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json")) {
			o.json = true;
		} else if (!strcmp(argv[i], "--socket")) {
			if (++i == argc)
				return fail(2, "%s", "--socket needs a path");
			o.socket = argv[i];
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("spctl %s\n", sp_version());
			return 0;
		} else {
			return fail(2, "unknown option '%.64s' (see spctl --help)",
				    argv[i]);
		}
	}
	if (i == argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (t) {
		uint64_t secs;
		if (parse_u64(t, 1, 86400, &secs, err, sizeof(err)))
			return fail(2, "SPCTL_TIMEOUT: %s", err);
		o.timeout_ms = (int)secs * 1000;
	}
	if (!o.socket)
		o.socket = getenv("SPARKPILOT_SOCKET");
	if (!o.socket || !*o.socket)
		o.socket = "/run/sparkpilot/admin.sock";
	fd = admin_connect(o.socket, err, sizeof(err));
	if (fd == -1)
		return fail(2, "%s", err);
	if (argc - i >= 2 && !strcmp(argv[i], "run") &&
	    !strcmp(argv[i + 1], "logs"))
		for (int k = i + 2; k < argc; k++)
			follow |= !strcmp(argv[k], "--follow");
	if (follow) {
		rc = pages(fd, &o, argc - i, argv + i, true);
	} else if (argc - i >= 2 && !strcmp(argv[i], "run") &&
		   !strcmp(argv[i + 1], "list")) {
		struct runlist_opts ro = { o.json, o.timeout_ms };
		rc = runlist_run(fd, &ro, argc - i, argv + i);
	}
	else if (argc - i >= 2 && !strcmp(argv[i], "audit") &&
		 !strcmp(argv[i + 1], "export"))
		rc = pages(fd, &o, argc - i, argv + i, false);
	else
		rc = exchange(fd, &o, argc - i, argv + i, true, NULL);
	close(fd);
	return rc;
}
