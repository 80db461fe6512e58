/*
 * sp-emr-drive - drives the agent's EMR on EKS code (agent/emr.h) without
 * a scheduler, for tests/integration/t2400-emr-eks.sh against the fakes
 * (tests/fakes/aws):
 *
 *   sp-emr-drive [options] run ARGV...     start, poll to the end, fetch
 *                                           the driver's logs, classify
 *   sp-emr-drive [options] cancel ARGV...  start, cancel once RUNNING, poll
 *   sp-emr-drive [options] check           DescribeVirtualCluster
 *   sp-emr-drive [options] creds           which source the chain found
 *   sp-emr-drive actions [--trust]         the IAM actions the code needs
 *                                           (permissions / trust policy)
 *
 * Options: --endpoint URL (EMR), --s3 URL, --sts URL, --imds URL, --vc ID,
 * --role ARN, --release LABEL, --region R, --log-uri S3URI, --run N,
 * --attempt N, --tenant T, --env E, --poll-ms N, --max-polls N.
 * Credentials come from the chain (aws_creds.h): the environment, web
 * identity, the shared files, IMDS.
 *
 * Prints key=value lines: job=, state=, reason=, details=, category=,
 * line= (the deciding line), log: LINE (each driver log line, redacted),
 * sts_fetches=, retries=; "error: ..." and exit 1 on a failed call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws_creds.h"
#include "aws_http.h"
#include "diagnose.h"
#include "emr.h"
#include "redact.h"
#include "strbuf.h"
#include "util.h"

struct opts {
	struct emr_config cfg;
	char sts[512], imds[512];
	struct emr_job job;
	long poll_ms;
	int max_polls;
};

struct logctx {
	struct redactor *red;
	struct redact_stream rs;
	struct diagnoser *diag;
};

static void on_line(void *ctx, int stream, const char *line, size_t len)
{
	struct logctx *l = ctx;
	struct strbuf out = STRBUF_INIT;

	redact_line(l->red, &l->rs, line, len, &out);
	diagnose_line(l->diag, out.buf, out.len);
	printf("log: %d %s\n", stream, out.buf);
	strbuf_release(&out);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static int fail(const char *what, const char *err)
{
	printf("error: %s: %s\n", what, err);
	return 1;
}

/* Polls until a terminal state (or, with until_running, RUNNING). */
static int poll(struct emr *e, const struct opts *o, const char *id,
		bool until_running, struct emr_status *st)
{
	char err[512];

	for (int i = 0; i < o->max_polls; i++) {
		if (emr_describe(e, id, st, err, sizeof(err)))
			return fail("describe", err);
		if (emr_state_terminal(st->state) ||
		    (until_running && st->state == EMR_RUNNING))
			return 0;
		sleep_ms(o->poll_ms);
	}
	return fail("poll", "no end state within --max-polls");
}

static int finish(struct emr *e, const char *id, struct emr_status *st)
{
	struct logctx l;
	const struct diagnosis *d;
	char err[512];
	int found = 0, rc = 0;

	printf("state=%s\nreason=%s\ndetails=%s\n", st->state_name,
	       st->failure_reason, st->state_details);
	l.red = redactor_new();
	redact_stream_init(&l.rs);
	l.diag = diagnoser_new();
	if (e->cfg.log_uri[0] &&
	    emr_fetch_driver_logs(e, id, on_line, &l, &found, err,
				  sizeof(err)))
		rc = fail("logs", err);
	printf("logs_found=%d\n", found);
	if (st->state == EMR_FAILED) {
		emr_classify(st, l.diag);
		d = diagnose_result(l.diag);
		printf("category=%s\nline=%s\n", d->category, d->line);
	}
	diagnoser_free(l.diag);
	redactor_free(l.red);
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: sp-emr-drive [options] run|cancel ARGV... | "
		"check | creds | actions\n");
	return 2;
}

static int parse(struct opts *o, int argc, char **argv, int *i)
{
	for (; *i < argc && !strncmp(argv[*i], "--", 2); *i += 2) {
		const char *k = argv[*i] + 2, *v = *i + 1 < argc ? argv[*i + 1]
							       : NULL;
		struct { const char *name; char *dst; size_t len; } s[] = {
			{ "endpoint", o->cfg.endpoint, sizeof(o->cfg.endpoint) },
			{ "s3", o->cfg.s3_endpoint, sizeof(o->cfg.s3_endpoint) },
			{ "sts", o->sts, sizeof(o->sts) },
			{ "imds", o->imds, sizeof(o->imds) },
			{ "vc", o->cfg.virtual_cluster_id,
			  sizeof(o->cfg.virtual_cluster_id) },
			{ "role", o->cfg.execution_role_arn,
			  sizeof(o->cfg.execution_role_arn) },
			{ "release", o->cfg.release_label,
			  sizeof(o->cfg.release_label) },
			{ "region", o->cfg.region, sizeof(o->cfg.region) },
			{ "log-uri", o->cfg.log_uri, sizeof(o->cfg.log_uri) },
		};
		size_t j;

		if (!v)
			return -1;
		for (j = 0; j < ARRAY_SIZE(s); j++)
			if (!strcmp(k, s[j].name)) {
				snprintf(s[j].dst, s[j].len, "%s", v);
				break;
			}
		if (j < ARRAY_SIZE(s))
			continue;
		if (!strcmp(k, "run"))
			o->job.run = strtoull(v, NULL, 10);
		else if (!strcmp(k, "attempt"))
			o->job.attempt = strtoull(v, NULL, 10);
		else if (!strcmp(k, "tenant"))
			o->job.tenant = v;
		else if (!strcmp(k, "env"))
			o->job.env = v;
		else if (!strcmp(k, "poll-ms"))
			o->poll_ms = atol(v);
		else if (!strcmp(k, "max-polls"))
			o->max_polls = atoi(v);
		else
			return -1;
	}
	return 0;
}

static void defaults(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->cfg.region, sizeof(o->cfg.region), "us-east-1");
	snprintf(o->cfg.release_label, sizeof(o->cfg.release_label),
		 "emr-6.15.0-latest");
	snprintf(o->cfg.execution_role_arn, sizeof(o->cfg.execution_role_arn),
		 "arn:aws:iam::111122223333:role/sparkpilot-job");
	o->job.run = 1;
	o->job.tenant = "acme";
	o->job.env = "prod";
	o->poll_ms = 100;
	o->max_polls = 600;
}

static int run(struct emr *e, struct opts *o, const char *cmd)
{
	struct emr_status st;
	char id[80], err[512];

	if (emr_start(e, &o->job, id, sizeof(id), err, sizeof(err)))
		return fail("start", err);
	printf("job=%s\n", id);
	fflush(stdout);
	if (!strcmp(cmd, "cancel")) {
		if (poll(e, o, id, true, &st))
			return 1;
		if (emr_cancel(e, id, err, sizeof(err)))
			return fail("cancel", err);
	}
	if (poll(e, o, id, false, &st))
		return 1;
	return finish(e, id, &st);
}

int main(int argc, char **argv)
{
	struct aws_provider p;
	struct aws_creds c;
	struct opts o;
	struct emr e;
	char err[512];
	int i = 1, rc;

	if (argc >= 2 && !strcmp(argv[1], "actions")) {
		bool trust = argc == 3 && !strcmp(argv[2], "--trust");
		for (size_t k = 0; k < emr_napis; k++)
			if (emr_apis[k].trust == trust)
				printf("%s\n", emr_apis[k].iam_action);
		return 0;
	}
	defaults(&o);
	if (parse(&o, argc, argv, &i) || i >= argc)
		return usage();
	aws_provider_init(&p);
	snprintf(p.sts_endpoint, sizeof(p.sts_endpoint), "%s", o.sts);
	snprintf(p.imds_endpoint, sizeof(p.imds_endpoint), "%s", o.imds);
	snprintf(p.region, sizeof(p.region), "%s", o.cfg.region);
	emr_init(&e, &o.cfg, &p);
	o.job.argv = (const char *const *)argv + i + 1;
	o.job.argc = (size_t)(argc - i - 1);
	if (!strcmp(argv[i], "creds")) {
		rc = aws_creds_get(&p, &c, err, sizeof(err))
			     ? fail("creds", err)
			     : (printf("source=%s\n", c.source), 0);
	} else if (emr_config_check(&o.cfg, err, sizeof(err))) {
		rc = fail("config", err);
	} else if (!strcmp(argv[i], "check")) {
		rc = emr_check_cluster(&e, err, sizeof(err))
			     ? fail("check", err)
			     : (printf("cluster=RUNNING\n"), 0);
	} else if (!strcmp(argv[i], "run") || !strcmp(argv[i], "cancel")) {
		rc = run(&e, &o, argv[i]);
	} else {
		rc = usage();
	}
	printf("sts_fetches=%llu\nretries=%llu\n",
	       (unsigned long long)p.fetches,
	       (unsigned long long)e.client.retries);
	memset(&c, 0, sizeof(c));
	aws_provider_release(&p);
	return rc;
}
