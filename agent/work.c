/* work.c - supervising runs, whatever their backend, and reporting on
 * them. */
#include "work.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "diagnose.h"
#include "mp.h"
#include "redact.h"
#include "sparkrest.h"
#include "tsink.h"
#include "util.h"

/* A batch goes when it has this many lines or bytes, or is this old. */
#define LOG_BATCH_LINES 500
#define LOG_BATCH_BYTES (256u << 10)
#define LOG_BATCH_MS 200

struct job_run {
	uint64_t run, attempt, epoch;
	const struct backend_ops *ops;
	struct backend_run *h;    /* the backend's; NULL before submit */
	char app_id[128];         /* as the backend last reported it */
	bool stopping;        /* agent shutdown: report as failed */
	struct redact_stream rs;  /* PEM blocks span lines; counts by kind */
	struct diagnoser *diag;   /* reads the raw lines: classifies failures */
	struct tbatch_builder tb; /* the pending batch: lines, then metrics */
	int64_t batch_started;
	/* metrics: totals, and what the last batch reported */
	uint64_t lines[3], bytes;
	uint64_t sent_lines[3], sent_bytes, sent_redacted[REDACT_MAX_KINDS];
	int64_t len_n, len_sum, len_min, len_max; /* this interval's lines */
	int64_t started_mono, running_mono;
	struct work *w;
};

struct work {
	const struct agent_config *cfg;
	struct tsink *sink;
	struct job_run **runs;
	size_t n, alloc;
	struct redactor *redactor; /* built-in rules + the config's */
	unsigned nrules;           /* the config's, in redactor */
	struct strbuf line;        /* a redacted line */
	bool stopping; /* work_stop_all was called: start nothing new */
};

void work_pack_held(const struct work *w, msgpack_packer *pk)
{
	msgpack_pack_array(pk, w->n);
	for (size_t i = 0; i < w->n; i++) {
		msgpack_pack_array(pk, 2);
		msgpack_pack_uint64(pk, w->runs[i]->run);
		msgpack_pack_uint64(pk, w->runs[i]->epoch);
	}
}

/* Adds each line of rules ("KIND REGEX") to r; *added counts those taken.
 * 0, or -1 with the first refusal in err (the other rules are added). */
static int add_rules(struct redactor *r, const char *rules, unsigned *added,
		     char *err, size_t errlen)
{
	int rc = 0;

	*added = 0;
	for (const char *p = rules; *p;) {
		char rule[320], why[256];
		size_t n = strcspn(p, "\n");
		snprintf(rule, sizeof(rule), "%.*s", (int)n, p);
		if (!redact_add_rule(r, rule, why, sizeof(why))) {
			(*added)++;
		} else if (!rc) {
			snprintf(err, errlen, "redact_rule '%s': %s", rule,
				 why);
			rc = -1;
		}
		p += n + (p[n] == '\n');
	}
	return rc;
}

struct work *work_new(const struct agent_config *cfg, struct tsink *sink)
{
	struct work *w = xcalloc(1, sizeof(*w));
	char err[600];

	w->cfg = cfg;
	w->sink = sink;
	w->redactor = redactor_new();
	strbuf_init(&w->line, 0);
	/* each rule passed its check when the config was read */
	if (add_rules(w->redactor, cfg->redact_rules, &w->nrules, err,
		      sizeof(err)))
		log_error("%s; the other rules apply", err);
	return w;
}

static void job_free(struct job_run *j)
{
	if (j->h)
		j->ops->free(j->h);
	tbatch_builder_release(&j->tb);
	diagnoser_free(j->diag);
	free(j);
}

void work_free(struct work *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++)
		job_free(w->runs[i]);
	free(w->runs);
	redactor_free(w->redactor);
	strbuf_release(&w->line);
	free(w);
}

int work_free_slots(const struct work *w)
{
	int free_slots = (int)w->cfg->slots - (int)w->n;
	return free_slots > 0 ? free_slots : 0;
}

size_t work_count(const struct work *w)
{
	return w->n;
}

/* Packs {run, epoch, ...} headers common to every report. */
static void pack_ids(msgpack_packer *pk, const struct job_run *j, size_t extra)
{
	msgpack_pack_map(pk, 2 + extra);
	mp_kv_u64(pk, "run", j->run);
	mp_kv_u64(pk, "epoch", j->epoch);
}

static void send_state(struct job_run *j, const char *state)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_ids(&pk, j, 2);
	mp_kv_str(&pk, "state", state);
	mp_kv_str(&pk, "app_id", j->app_id);
	tsink_event(j->w->sink, "run_event", sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

/* Adds a counter for what grew since the last batch. */
static void add_delta(struct job_run *j, int64_t now, const char *name,
		      uint64_t total, uint64_t *sent)
{
	if (total != *sent)
		tbatch_add_value(&j->tb, now, name, TM_COUNTER,
				 (int64_t)(total - *sent));
	*sent = total;
}

/* Closes the pending batch, with this interval's metrics, into the spool.
 * The final batch also carries the run's timings. */
static void flush_batch(struct job_run *j, bool final)
{
	const struct redactor *red = j->w->redactor;
	int64_t now = time_now_ms(), mono = time_mono_ms();
	char name[64];

	add_delta(j, now, "log_lines.stdout", j->lines[1], &j->sent_lines[1]);
	add_delta(j, now, "log_lines.stderr", j->lines[2], &j->sent_lines[2]);
	add_delta(j, now, "log_bytes", j->bytes, &j->sent_bytes);
	if (j->len_n)
		tbatch_add_histogram(&j->tb, now, "line_bytes", j->len_n,
				     j->len_sum, j->len_min, j->len_max);
	j->len_n = j->len_sum = j->len_max = 0;
	for (unsigned k = 0; k < redact_kind_count(red); k++) {
		snprintf(name, sizeof(name), "redactions.%s",
			 redact_kind_name(red, k));
		add_delta(j, now, name, j->rs.counts[k], &j->sent_redacted[k]);
	}
	if (final) {
		tbatch_add_value(&j->tb, now, "run_ms", TM_GAUGE,
				 mono - j->started_mono);
		if (j->running_mono)
			tbatch_add_value(&j->tb, now, "time_to_running_ms",
					 TM_GAUGE,
					 j->running_mono - j->started_mono);
	}
	tsink_batch(j->w->sink, &j->tb, j->run, j->epoch, final);
}

/* Reports the end of a run. A failed or timed-out run carries the failure
 * class from its output and the line that decided it, redacted (the
 * scheduler's retry policy reads the class; spctl run diagnose shows both). */
/* The application's executors as Spark's monitoring REST reports them,
 * when a URL is configured and the run has an application id: true and
 * *u filled, or false (the scheduler then bills the declared executors). */
static bool ask_spark_rest(struct job_run *j, struct spark_usage *u)
{
	const struct agent_config *cfg = j->w->cfg;
	char err[256];

	if (!cfg->spark_rest_url[0] || !j->app_id[0])
		return false;
	if (sparkrest_executor_usage(cfg->spark_rest_url, j->app_id,
				     time_now_ms(), (long)cfg->spark_rest_timeout_ms,
				     u, err, sizeof(err))) {
		log_warn("run %llu: no executor report from Spark's REST API "
			 "(%s): its declared executors are billed",
			 (unsigned long long)j->run, err);
		return false;
	}
	return true;
}

/* cls: a class decided without the output (backend_unavailable), or
 * NULL; classify: the output decides (the backend's classify first). */
static void send_complete_as(struct job_run *j, const char *result,
			     int exit_code, const char *reason, bool classify,
			     const char *cls)
{
	const struct diagnosis *d = NULL;
	struct spark_usage u;
	bool measured = ask_spark_rest(j, &u);
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct strbuf line = STRBUF_INIT, why = STRBUF_INIT;

	flush_batch(j, true);
	/* the reason may quote the driver (YARN diagnostics, say) */
	redact_line(j->w->redactor, NULL, reason, strlen(reason), &why);
	reason = why.buf;
	if (classify) {
		d = diagnose_result(j->diag);
		redact_line(j->w->redactor, NULL, d->line, strlen(d->line),
			    &line);
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_ids(&pk, j, (d ? 7 : 4) + measured + (!d && cls));
	mp_kv_str(&pk, "result", result);
	mp_kv_i64(&pk, "exit_code", exit_code);
	mp_kv_str(&pk, "app_id", j->app_id);
	mp_kv_str(&pk, "reason", reason);
	if (!d && cls)
		mp_kv_str(&pk, "class", cls);
	if (d) {
		mp_kv_str(&pk, "class", d->category);
		mp_kv_str(&pk, "diag_line", line.buf);
		mp_kv_u64(&pk, "diag_line_no", d->line_no);
	}
	if (measured) {
		mp_pack_cstr(&pk, "executors");
		msgpack_pack_map(&pk, 3);
		mp_kv_u64(&pk, "count", u.executors);
		mp_kv_i64(&pk, "core_ms", u.exec_core_ms);
		mp_kv_i64(&pk, "lifetime_ms", u.exec_lifetime_ms);
	}
	tsink_event(j->w->sink, "complete", sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	log_info("run %llu attempt %llu: %s%s%s%s%s", (unsigned long long)j->run,
		 (unsigned long long)j->attempt, result, reason[0] ? ": " : "",
		 reason, d || cls ? "; class " : "",
		 d ? d->category : cls ? cls : "");
	strbuf_release(&line);
	strbuf_release(&why);
}

static void send_complete(struct job_run *j, const char *result,
			  int exit_code, const char *reason, bool classify)
{
	send_complete_as(j, result, exit_code, reason, classify, NULL);
}

static void on_line(void *ctx, int stream, const char *line, size_t len)
{
	struct job_run *j = ctx;
	struct strbuf *red = &j->w->line;

	diagnose_line(j->diag, line, len);
	/* nothing leaves the host unredacted: the raw line stops here */
	strbuf_reset(red);
	redact_line(j->w->redactor, &j->rs, line, len, red);
	line = red->buf;
	len = red->len;
	if (!j->tb.events)
		j->batch_started = time_mono_ms();
	j->lines[stream == 1 ? 1 : 2]++;
	j->bytes += len;
	if (!j->len_n++ || (int64_t)len < j->len_min)
		j->len_min = (int64_t)len;
	if ((int64_t)len > j->len_max)
		j->len_max = (int64_t)len;
	j->len_sum += (int64_t)len;
	tbatch_add_log(&j->tb, time_now_ms(), stream, line, len);
	if (tbatch_builder_logs(&j->tb) >= LOG_BATCH_LINES ||
	    tbatch_builder_size(&j->tb) >= LOG_BATCH_BYTES)
		flush_batch(j, false);
}

/* A backend's report that the application was submitted (its id learned)
 * or is running: a run_event for the scheduler. */
static void on_report(void *ctx, enum backend_state state, const char *app_id)
{
	struct job_run *j = ctx;

	snprintf(j->app_id, sizeof(j->app_id), "%s", app_id ? app_id : "");
	if (state == BACKEND_RUNNING) {
		j->running_mono = time_mono_ms();
		send_state(j, "running");
	} else {
		send_state(j, "submitted");
	}
}

/* What a lease says, in the strings a backend_ctx borrows: owned here. */
struct lease_args {
	char **argv;
	size_t argc;
	struct backend_setting *settings;
	size_t nsettings;
	char tenant[64], env[64], job[64], backend[BACKEND_NAME_MAX];
};

static char *obj_str(const msgpack_object *o)
{
	return o && o->type == MSGPACK_OBJECT_STR
		       ? xstrndup(o->via.str.ptr, o->via.str.size)
		       : xstrdup("");
}

static void lease_args_read(struct lease_args *la, const msgpack_object *lease)
{
	const msgpack_object *argv = mp_get(lease, "argv");
	const msgpack_object *set = mp_get(lease, "backend_settings");
	char *s;

	memset(la, 0, sizeof(*la));
	la->argc = argv && argv->type == MSGPACK_OBJECT_ARRAY
			   ? argv->via.array.size
			   : 0;
	la->argv = xcalloc(la->argc + 1, sizeof(char *));
	for (size_t i = 0; i < la->argc; i++)
		la->argv[i] = obj_str(&argv->via.array.ptr[i]);
	if (set && set->type == MSGPACK_OBJECT_MAP) {
		size_t n = set->via.map.size;
		la->settings = xcalloc(n ? n : 1, sizeof(*la->settings));
		for (size_t i = 0; i < n; i++) {
			const msgpack_object_kv *kv = &set->via.map.ptr[i];
			la->settings[i].key = obj_str(&kv->key);
			la->settings[i].value = obj_str(&kv->val);
		}
		la->nsettings = n;
	}
	s = obj_str(mp_get(lease, "job")); /* "tenant/env/job" */
	sscanf(s, "%63[^/]/%63[^/]/%63s", la->tenant, la->env, la->job);
	free(s);
	s = obj_str(mp_get(lease, "backend")); /* absent: spark-submit */
	snprintf(la->backend, sizeof(la->backend), "%s",
		 *s ? s : BACKEND_DEFAULT);
	free(s);
}

static void lease_args_release(struct lease_args *la)
{
	for (size_t i = 0; i < la->argc; i++)
		free(la->argv[i]);
	free(la->argv);
	for (size_t i = 0; i < la->nsettings; i++) {
		free((char *)la->settings[i].key);
		free((char *)la->settings[i].value);
	}
	free(la->settings);
}

static void lease_resources(const msgpack_object *lease,
			    struct backend_resources *res)
{
	const msgpack_object *r = mp_get(lease, "resources");
	uint64_t v;

	memset(res, 0, sizeof(*res));
	if (!r || r->type != MSGPACK_OBJECT_MAP)
		return;
#define RES(f) \
	if (!mp_get_u64(r, #f, &v) && v <= UINT32_MAX) \
		res->f = (uint32_t)v;
	RES(driver_cores)
	RES(driver_memory_mb)
	RES(executor_cores)
	RES(executor_memory_mb)
	RES(executors)
#undef RES
}

/* Starts the backend of a lease; false if the run failed to start (it is
 * reported here). */
static bool start_backend(struct work *w, struct job_run *j,
			  const msgpack_object *lease, const char *workdir,
			  uint64_t timeout_s)
{
	struct lease_args la;
	struct backend_ctx ctx;
	char err[600];

	lease_args_read(&la, lease);
	j->ops = backend_find(la.backend);
	if (!j->ops || backend_not_built_in(j->ops)) {
		if (!j->ops)
			snprintf(err, sizeof(err), "backend %s is not known to "
				 "this agent (an older build?)", la.backend);
		else
			j->ops->submit(NULL, err, sizeof(err));
		send_complete_as(j, "failed", -1, err, false,
				 BACKEND_UNAVAILABLE_CLASS);
		lease_args_release(&la);
		return false;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.run = j->run;
	ctx.attempt = j->attempt;
	ctx.tenant = la.tenant;
	ctx.env = la.env;
	ctx.job = la.job;
	ctx.argv = la.argv;
	ctx.argc = la.argc;
	lease_resources(lease, &ctx.res);
	ctx.settings = la.settings;
	ctx.nsettings = la.nsettings;
	ctx.timeout_ms = (int64_t)timeout_s * 1000;
	ctx.workdir = workdir;
	ctx.cfg = w->cfg;
	/* a reload swaps w->redactor; the backend reads it on each poll */
	ctx.redactor = (const struct redactor *const *)&w->redactor;
	ctx.sink = on_line;
	ctx.report = on_report;
	ctx.sink_ctx = j;
	j->h = j->ops->submit(&ctx, err, sizeof(err));
	lease_args_release(&la);
	if (!j->h) {
		send_complete(j, "failed", -1, err, false);
		return false;
	}
	return true;
}

void work_start(struct work *w, const msgpack_object *lease)
{
	struct job_run *j = xcalloc(1, sizeof(*j));
	char workdir[700];
	uint64_t timeout_s = 0;

	j->w = w;
	redact_stream_init(&j->rs);
	j->diag = diagnoser_new();
	tbatch_builder_init(&j->tb);
	j->started_mono = time_mono_ms();
	if (mp_get_u64(lease, "run", &j->run) ||
	    mp_get_u64(lease, "epoch", &j->epoch)) {
		log_error("lease without run or epoch: ignored");
		job_free(j);
		return;
	}
	mp_get_u64(lease, "attempt", &j->attempt);
	mp_get_u64(lease, "timeout_s", &timeout_s);
	snprintf(workdir, sizeof(workdir), "%s/work/%llu-%llu",
		 w->cfg->state_dir, (unsigned long long)j->run,
		 (unsigned long long)j->attempt);
	if (w->stopping) {
		send_complete(j, "failed", -1,
			      "the agent stopped before the run started", false);
		job_free(j);
		return;
	}
	if (!start_backend(w, j, lease, workdir, timeout_s)) {
		job_free(j);
		return;
	}
	send_state(j, "submitted");
	w->runs = xgrow(w->runs, &w->alloc, w->n + 1, sizeof(*w->runs));
	w->runs[w->n++] = j;
}

void work_cancel(struct work *w, uint64_t run)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->runs[i]->run == run)
			w->runs[i]->ops->cancel(w->runs[i]->h, time_mono_ms());
}

void work_stop_all(struct work *w)
{
	w->stopping = true;
	for (size_t i = 0; i < w->n; i++) {
		w->runs[i]->stopping = true;
		w->runs[i]->ops->cancel(w->runs[i]->h, time_mono_ms());
	}
}

int work_pollfds(struct work *w, struct pollfd *pfd, int max)
{
	int n = 0;
	/* a full spool: leave the output in the pipes (spark-submit waits) */
	for (size_t i = 0; i < w->n && !tsink_backlogged(w->sink); i++)
		if (w->runs[i]->ops->pollfds)
			n += w->runs[i]->ops->pollfds(w->runs[i]->h, pfd + n,
						      max - n);
	return n;
}

static void finish(struct job_run *j, struct backend_status *st)
{
	static const char *const names[] = {
		[BACKEND_SUCCEEDED] = "succeeded", [BACKEND_FAILED] = "failed",
		[BACKEND_CANCELLED] = "cancelled",
		[BACKEND_TIMED_OUT] = "timed_out",
	};
	bool classify = st->state == BACKEND_FAILED ||
			st->state == BACKEND_TIMED_OUT;

	if (st->app_id[0])
		snprintf(j->app_id, sizeof(j->app_id), "%s", st->app_id);
	if (j->ops->fetch_logs)
		j->ops->fetch_logs(j->h);
	if (classify && j->ops->classify)
		j->ops->classify(j->h, st, j->diag);
	/* the output is classified when Spark failed or never got going
	 * (a timeout spent waiting for resources is no_resources) */
	if (j->stopping)
		send_complete(j, "failed", st->exit_code,
			      "the agent stopped while the run was in progress",
			      false);
	else
		send_complete(j, names[st->state], st->exit_code, st->reason,
			      classify);
}

void work_tick(struct work *w, int64_t now_mono)
{
	for (size_t i = 0; i < w->n;) {
		struct job_run *j = w->runs[i];
		struct backend_status st;
		bool done;

		memset(&st, 0, sizeof(st));
		st.exit_code = -1;
		done = j->ops->poll(j->h, now_mono, !tsink_backlogged(w->sink),
				    &st);
		if (j->tb.events && now_mono - j->batch_started >= LOG_BATCH_MS)
			flush_batch(j, false);
		if (!done) {
			i++;
			continue;
		}
		finish(j, &st);
		job_free(j);
		w->runs[i] = w->runs[--w->n];
	}
}

int64_t work_next_deadline(const struct work *w)
{
	int64_t next = INT64_MAX;
	for (size_t i = 0; i < w->n; i++) {
		const struct job_run *j = w->runs[i];
		int64_t d = j->ops->next_deadline ? j->ops->next_deadline(j->h)
						  : INT64_MAX;
		if (w->runs[i]->tb.events &&
		    w->runs[i]->batch_started + LOG_BATCH_MS < d)
			d = w->runs[i]->batch_started + LOG_BATCH_MS;
		if (d < next)
			next = d;
	}
	return next;
}

int work_set_redact_rules(struct work *w, const char *rules, char *err,
			  size_t errlen)
{
	struct redactor *red = redactor_new(), *old = w->redactor;
	unsigned n, was = w->nrules;

	if (add_rules(red, rules, &n, err, errlen)) {
		redactor_free(red);
		return -1;
	}
	for (size_t i = 0; i < w->n; i++) {
		struct job_run *j = w->runs[i];
		/* What was counted so far goes out under the old kind names
		 * (an extra kind's id may name another kind, or none, in the
		 * new redactor): after the flush every count was sent, and
		 * both sides start again from zero. The PEM and pending-value
		 * state carries over: built-in kind ids never change. */
		flush_batch(j, false);
		memset(j->rs.counts, 0, sizeof(j->rs.counts));
		memset(j->sent_redacted, 0, sizeof(j->sent_redacted));
		/* the limit warning is once per run and rule set */
		j->rs.rule_limit_hits = 0;
		/* the backend reads w->redactor on its next poll */
	}
	w->redactor = red;
	w->nrules = n;
	redactor_free(old);
	log_info("reload: redact_rule: %u extra rules (was %u), applied to "
		 "%zu runs in progress", n, was, w->n);
	return 0;
}
