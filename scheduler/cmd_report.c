/* cmd_report.c - `report env TENANT/ENV`: the go/no-go criteria of a proof
 * of concept (pocreport.h), as a table, as Markdown a sales engineer
 * pastes into a POC summary, and as JSON (spctl --json). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "admin_cmds.h"
#include "log.h"
#include "pocreport.h"
#include "run_codec.h"
#include "sched_ctx.h"
#include "store.h"
#include "strbuf.h"
#include "util.h"
#include "worker.h"

#define MAXZ(a, b) ((a) > (b) ? (a) : (b))

/* A decimal member ("12.5") from x/y, rounded down to a tenth. */
static void jw_decimal(struct jw *w, const char *key, int64_t x, int64_t y)
{
	int64_t tenths = y ? x * 10 / y : 0;
	char buf[40];
	snprintf(buf, sizeof(buf), "%" PRId64 ".%" PRId64, tenths / 10,
		 tenths % 10);
	jw_raw(w, key, buf);
}

/* Each criterion's own figures, after name, value, threshold and pass. */
static void write_figures(struct jw *w, const struct poc_report *p,
			  enum poc_criterion c)
{
	switch (c) {
	case POC_TIME_TO_READY:
		if (p->ready_after_ms < 0)
			jw_null(w, "value");
		else
			jw_decimal(w, "value", p->ready_after_ms, 60000);
		jw_uint(w, "threshold", POC_READY_MAX_MS / 60000);
		jw_str(w, "unit", "minutes");
		jw_bool(w, "upper_bound", p->ready_bound);
		break;
	case POC_RUNS_AND_DAYS:
		jw_uint(w, "value", p->runs);
		jw_uint(w, "threshold", POC_MIN_RUNS);
		jw_str(w, "unit", "runs");
		jw_decimal(w, "days_covered",
			   p->runs ? p->last_ms - p->first_ms : 0,
			   86400LL * 1000);
		jw_uint(w, "days_threshold", p->days - 1);
		jw_uint(w, "active_days", p->active_days);
		break;
	case POC_FIRST_ATTEMPT_SUCCESS:
		if (!p->counted)
			jw_null(w, "value");
		else
			jw_decimal(w, "value", (int64_t)p->first_ok * 100,
				   (int64_t)p->counted);
		jw_uint(w, "threshold", POC_SUCCESS_MIN_PCT);
		jw_str(w, "unit", "percent");
		jw_uint(w, "counted", p->counted);
		jw_uint(w, "succeeded_first_attempt", p->first_ok);
		jw_uint(w, "excluded_customer_code", p->excluded_customer);
		jw_uint(w, "cancelled", p->cancelled);
		break;
	case POC_FAILURES_DIAGNOSED:
		jw_uint(w, "value", p->no_class + p->no_logs);
		jw_uint(w, "threshold", 0);
		jw_str(w, "unit", "failed runs lacking a class or logs");
		jw_uint(w, "failed", p->failed);
		jw_uint(w, "without_class", p->no_class);
		jw_uint(w, "without_logs", p->no_logs);
		break;
	case POC_SECURITY_FINDINGS:
		jw_uint(w, "value", p->nfindings + p->findings_dropped);
		jw_uint(w, "threshold", 0);
		jw_str(w, "unit", "findings");
		jw_arr_open(w, "findings");
		for (uint32_t i = 0; i < p->nfindings; i++)
			jw_str(w, NULL, p->findings[i]);
		jw_arr_close(w);
		break;
	default:
		break;
	}
}

static void write_json(struct jw *w, const struct env *e,
		       const struct poc_report *p, const char *note)
{
	char buf[256];

	jw_str(w, "env", e->key);
	jw_str(w, "tenant", e->tenant);
	jw_uint(w, "days", p->days);
	jw_time(w, "from", p->from_ms);
	jw_time(w, "to", p->to_ms);
	jw_uint(w, "retention_days", p->retention_days);
	jw_bool(w, "retention_limited", p->retention_limited);
	jw_str(w, "note", note[0] ? note : NULL);
	jw_arr_open(w, "criteria");
	for (int c = 0; c < POC_NCRITERIA; c++) {
		jw_obj_open(w, NULL);
		jw_str(w, "name", pocreport_name(c));
		jw_str(w, "title", pocreport_title(c));
		write_figures(w, p, c);
		jw_bool(w, "pass", p->pass[c]);
		jw_str(w, "text", pocreport_value_text(p, c, buf, sizeof(buf)));
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_str(w, "verdict", p->go ? "GO" : "NO-GO");
}

/* Left-aligned cells padded to the width of their column. */
static void table_row(struct strbuf *sb, const char *const cell[4],
		      const size_t width[4])
{
	for (int i = 0; i < 4; i++) {
		strbuf_addstr(sb, cell[i]);
		if (i < 3)
			for (size_t n = strlen(cell[i]); n < width[i] + 2; n++)
				strbuf_addch(sb, ' ');
	}
	strbuf_addch(sb, '\n');
}

static void write_table(struct strbuf *sb, const struct env *e,
			const struct poc_report *p, const char *note)
{
	char val[POC_NCRITERIA][256], thr[POC_NCRITERIA][96];
	const char *head[4] = { "criterion", "value", "threshold", "result" };
	size_t width[4];

	for (int i = 0; i < 4; i++)
		width[i] = strlen(head[i]);
	for (int c = 0; c < POC_NCRITERIA; c++) {
		pocreport_value_text(p, c, val[c], sizeof(val[c]));
		pocreport_threshold_text(p, c, thr[c], sizeof(thr[c]));
		width[0] = MAXZ(width[0], strlen(pocreport_name(c)));
		width[1] = MAXZ(width[1], strlen(val[c]));
		width[2] = MAXZ(width[2], strlen(thr[c]));
	}
	strbuf_addf(sb, "POC readiness of %s, last %u day%s\n", e->key, p->days,
		    p->days == 1 ? "" : "s");
	table_row(sb, head, width);
	for (int c = 0; c < POC_NCRITERIA; c++) {
		const char *row[4] = { pocreport_name(c), val[c], thr[c],
				       p->pass[c] ? "pass" : "FAIL" };
		table_row(sb, row, width);
	}
	for (uint32_t i = 0; i < p->nfindings; i++)
		strbuf_addf(sb, "finding: %s\n", p->findings[i]);
	if (note[0])
		strbuf_addf(sb, "note: %s\n", note);
	strbuf_addf(sb, "verdict: %s\n", p->go ? "GO" : "NO-GO");
}

/* Markdown cells: a '|' would end the cell, a newline the row. */
static void md_cell(struct strbuf *sb, const char *s)
{
	strbuf_addstr(sb, " ");
	for (; *s; s++) {
		if (*s == '|')
			strbuf_addstr(sb, "\\|");
		else
			strbuf_addch(sb, *s == '\n' ? ' ' : *s);
	}
	strbuf_addstr(sb, " |");
}

static void write_md(struct strbuf *sb, const struct env *e,
		     const struct poc_report *p, const char *note)
{
	char val[256], thr[96];

	strbuf_addf(sb, "### POC readiness: %s (last %u day%s)\n\n", e->key,
		    p->days, p->days == 1 ? "" : "s");
	strbuf_addstr(sb, "| Criterion | Measured | Threshold | Result |\n"
			  "|---|---|---|---|\n");
	for (int c = 0; c < POC_NCRITERIA; c++) {
		strbuf_addch(sb, '|');
		md_cell(sb, pocreport_title(c));
		md_cell(sb, pocreport_value_text(p, c, val, sizeof(val)));
		md_cell(sb, pocreport_threshold_text(p, c, thr, sizeof(thr)));
		md_cell(sb, p->pass[c] ? "pass" : "**fail**");
		strbuf_addch(sb, '\n');
	}
	strbuf_addf(sb, "\n**Verdict: %s**\n", p->go ? "GO" : "NO-GO");
	if (p->nfindings)
		strbuf_addstr(sb, "\nOpen findings:\n\n");
	for (uint32_t i = 0; i < p->nfindings; i++)
		strbuf_addf(sb, "- %s\n", p->findings[i]);
	if (note[0])
		strbuf_addf(sb, "\n_Note: %s_\n", note);
}

/* Report p of e as the reply: as text (a table, or Markdown) in
 * "print", and as JSON members; with a note when its window is longer
 * than the tenant's retention. */
static void reply_report(struct reply *r, const struct env *e,
			 const struct poc_report *p, const char *format)
{
	struct strbuf sb = STRBUF_INIT;
	char note[256] = "";

	if (p->retention_limited)
		snprintf(note, sizeof(note),
			 "runs ended more than %u days ago are removed by "
			 "retention: the %u-day window counts the runs kept",
			 p->retention_days, p->days);
	if (!strcmp(format, "md"))
		write_md(&sb, e, p, note);
	else
		write_table(&sb, e, p, note);
	jw_str(&r->w, "print", sb.buf);
	strbuf_release(&sb);
	write_json(&r->w, e, p, note);
}

/* ---- the environment's runs kept only in the store ----
 *
 * They are read back with one scan of every run record: seconds with
 * millions stored, so the scan runs on a worker thread (worker.h) while
 * the core goes on, and the command is answered when it ends. The core
 * counts the runs in memory first and copies the marks of the runs in
 * the store only, so a run paged out or read back meanwhile is counted
 * once. The worker reads no state: a record's job key says whose it is,
 * and run_summary_read what it counts. */

/* A report refused because REPORT_SCANS_MAX (sched_ctx.h) read the
 * store is told to try again this much later. */
#define REPORT_RETRY_MS 1000

struct report_scan {
	struct event *ev;  /* the deferred command */
	struct store *store;
	uint64_t *stored;  /* the marks of runs in the store only */
	uint64_t nstored;
	char env[ENV_KEY_LEN];
	size_t envlen;
	char format[8];
	uint64_t unreadable; /* records it could not read, not counted */
	int rc;              /* the scan's: -1 the store failed (logged) */
	struct poc_report p; /* begun by the core: the runs in memory */
};

static int scan_one(const void *key, size_t klen, const void *val,
		    size_t vlen, void *arg)
{
	struct report_scan *rs = arg;
	uint64_t id = klen == 8 ? store_get_u64be(key) : 0;
	struct run_summary s;

	/* another environment's run costs no more than its first elements */
	if (!stored_marked(rs->stored, rs->nstored, id) ||
	    run_record_owner(val, vlen, rs->env, rs->envlen) == RECORD_OTHERS)
		return 0;
	if (run_summary_read(val, vlen, &s))
		rs->unreadable++;
	else
		pocreport_add_summary(&rs->p, rs->env, &s);
	return 0;
}

static void scan_run(void *arg)
{
	struct report_scan *rs = arg;

	rs->rc = store_scan(rs->store, CF_RUNS, NULL, 0, NULL, 0, scan_one, rs);
}

static void scan_finish(struct sched *c, void *arg, bool stopping)
{
	struct report_scan *rs = arg;
	const struct env *e = state_env_live(c->st, rs->env);
	struct reply r;

	(void)stopping; /* the report is whole either way: send it */
	c->report_scans--;
	if (rs->unreadable)
		log_warn("report env %s: %" PRIu64 " run records in the store "
			 "could not be read and are not counted", rs->env,
			 rs->unreadable);
	admin_cmds_reply_open(rs->ev, &r);
	if (!e) {
		cmd_fail(&r, "not_found",
			 "no environment '%.128s' (removed while its report "
			 "read the store)", rs->env);
	} else if (rs->rc) {
		cmd_fail(&r, "store", "cannot read the runs kept in the store "
			 "(the scheduler's log says why)");
	} else {
		pocreport_judge(c->st, e, &rs->p);
		reply_report(&r, e, &rs->p, rs->format);
	}
	admin_cmds_reply_close(c, rs->ev, &r);
	free(rs->stored);
	free(rs);
}

/* Hands the report begun in *p to a worker that adds the environment's
 * runs kept in the store; the command is answered when it ends. 0, or -1
 * refused (r says why). */
static int start_scan(struct sched *c, const struct env *e,
		      const struct poc_report *p, const char *format,
		      struct reply *r)
{
	struct report_scan *rs;

	if (c->report_scans >= REPORT_SCANS_MAX) {
		r->retry_after_ms = REPORT_RETRY_MS;
		return cmd_fail(r, "busy",
				"%d reports are reading the runs kept in the "
				"store: try again when one ends",
				REPORT_SCANS_MAX);
	}
	rs = xcalloc(1, sizeof(*rs));
	rs->store = c->store;
	rs->stored = state_stored_copy(c->st, &rs->nstored);
	snprintf(rs->env, sizeof(rs->env), "%s", e->key);
	rs->envlen = strlen(rs->env);
	snprintf(rs->format, sizeof(rs->format), "%s", format);
	rs->p = *p;
	rs->p.env = NULL; /* the core's: the worker reads none of it */
	if (worker_start(c, scan_run, scan_finish, rs)) {
		free(rs->stored);
		free(rs);
		return cmd_fail(r, "internal",
				"cannot start a thread to read the store");
	}
	/* the worker does not touch rs->ev: set after it started */
	rs->ev = cmd_defer(r);
	c->report_scans++;
	return 0;
}

int cmd_report_env(struct sched *c, const struct cmd_args *a,
		   struct reply *r)
{
	const struct env *e = state_env_live(c->st, a->pos[0]);
	const char *format = arg_str(a, "--format", "table");
	uint32_t days = (uint32_t)arg_num(a, "--days", POC_DAYS_DEFAULT);
	struct tenant *t;
	struct poc_report p;
	uint32_t keep;

	if (!e)
		return cmd_fail(r, "not_found", "no environment '%.128s'",
				a->pos[0]);
	if (strcmp(format, "table") && strcmp(format, "md"))
		return cmd_fail(r, "invalid",
				"--format: '%.32s' must be table or md", format);
	t = state_tenant(c->st, e->tenant);
	keep = t && t->retention_days ? t->retention_days
				      : (uint32_t)c->cfg->log_retention_days;
	pocreport_begin(c->st, e, c->now_ms, days, keep, &p);
	if (t && t->n_stored)
		return start_scan(c, e, &p, format, r);
	pocreport_judge(c->st, e, &p);
	reply_report(r, e, &p, format);
	return 0;
}
