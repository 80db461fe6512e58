/* cmd_job.c - admin commands for job definitions. */
#include <stdio.h>
#include <string.h>

#include "admin_cmds.h"
#include "audit.h"
#include "jobvers.h"
#include "parse.h"
#include "records.h"
#include "run_args.h"
#include "sched_ctx.h"
#include "util.h"

#define MAX_ARG_LEN 8192

static int check_spark_args(const struct cmd_args *a, struct reply *r)
{
	if (a->nrest > MAX_JOB_ARGS)
		return cmd_fail(r, "invalid",
				"too many spark-submit arguments (%d > %d)",
				a->nrest, MAX_JOB_ARGS);
	for (int i = 0; i < a->nrest; i++)
		if (strlen(a->rest[i]) > MAX_ARG_LEN)
			return cmd_fail(r, "invalid",
					"spark-submit argument %d is longer than %d bytes",
					i + 1, MAX_ARG_LEN);
	return 0;
}

/* A job's arguments are stored here and shown by job show: one that
 * carries a secret (the agents' redaction rules, common/redact.h) is
 * refused, naming the argument and the kind, never the value. */
static int check_no_secrets(const struct cmd_args *a, struct reply *r)
{
	const char *kind;
	int bad = run_args_find_secret((const char *const *)a->rest,
				       (size_t)a->nrest, &kind);

	if (bad < 0)
		return 0;
	return cmd_fail(r, "invalid",
			"spark-submit argument %d holds a secret (%s): keep "
			"secrets on the customer host and give them to the "
			"application there (environment, file, secret store)",
			bad + 1, kind);
}

/* The definition from a job add's flags and arguments, into j (its argv
 * replaced). */
static void define_job(struct sched *c, struct job *j,
		       const struct cmd_args *a)
{
	j->driver_cores = (uint32_t)arg_num(a, "--driver-cores", 1);
	j->driver_memory_mb = (uint32_t)arg_num(a, "--driver-memory", 1024);
	j->executor_cores = (uint32_t)arg_num(a, "--executor-cores", 1);
	j->executor_memory_mb = (uint32_t)arg_num(a, "--executor-memory", 2048);
	j->executors = (uint32_t)arg_num(a, "--executors", 2);
	j->timeout_s = (uint32_t)arg_num(a, "--timeout", 3600);
	j->max_attempts = (uint32_t)arg_num(a, "--max-attempts", 1);
	j->run_budget = arg_num(a, "--run-budget", 0);
	j->max_concurrent = (uint32_t)arg_num(a, "--max-concurrent", 0);
	j->created_ms = c->now_ms;
	j->deleted_ms = 0;
	for (int i = 0; i < j->argc; i++)
		free(j->argv[i]);
	free(j->argv);
	j->argc = 0;
	j->argv = xcalloc((size_t)a->nrest + 1, sizeof(char *));
	for (int i = 0; i < a->nrest; i++)
		j->argv[j->argc++] = xstrdup(a->rest[i]);
}

int cmd_job_add(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	char tenant[64], env[64], name[64], err[256], envkey[ENV_KEY_LEN];
	struct job *j;

	if (parse_path3(a->pos[0], tenant, env, name, 3, err, sizeof(err)))
		return cmd_fail(r, "invalid", "%s", err);
	snprintf(envkey, sizeof(envkey), "%s/%s", tenant, env);
	if (!state_tenant(c->st, tenant))
		return cmd_fail(r, "not_found", "no tenant '%s'", tenant);
	if (!state_env_live(c->st, envkey))
		return cmd_fail(r, "not_found", "no environment '%s'", envkey);
	j = state_job(c->st, a->pos[0]);
	if (j && !j->deleted_ms)
		return cmd_fail(r, "exists", "job '%s' already exists",
				a->pos[0]);
	if (check_spark_args(a, r) || check_no_secrets(a, r))
		return -1;
	if (j) {
		/* a deleted job's key again: its runs keep their history
		 * under their versions, the new definition is the next one */
		if (j->version >= JOB_VERSION_MAX)
			return cmd_fail(r, "invalid",
					"job '%s' has %u versions, the most "
					"kept", j->key, j->version);
		define_job(c, j, a);
		j->version++;
		snprintf(j->version_note, sizeof(j->version_note),
			 "defined again by job add");
	} else {
		j = xcalloc(1, sizeof(*j));
		snprintf(j->key, sizeof(j->key), "%s/%s/%s", tenant, env, name);
		snprintf(j->tenant, sizeof(j->tenant), "%s", tenant);
		snprintf(j->env, sizeof(j->env), "%s", envkey);
		snprintf(j->name, sizeof(j->name), "%s", name);
		define_job(c, j, a);
		j->version = 1;
		snprintf(j->version_note, sizeof(j->version_note), "created");
		state_add_job(c->st, j);
	}
	j->version_ms = c->now_ms;
	cmd_actor(a, j->version_by, sizeof(j->version_by));
	records_put_job(c->batch, c->store, j);
	records_put_job_version(c->batch, c->store, j);
	jw_str(&r->w, "job", j->key);
	jw_strf_print(&r->w, "created job %s", j->key);
	return 0;
}

/* A job that is defined (not deleted), or NULL with not_found in r. */
static struct job *job_arg(struct sched *c, const char *key, struct reply *r)
{
	struct job *j = state_job(c->st, key);
	if (!j || j->deleted_ms) {
		cmd_fail(r, "not_found", "no job '%.192s'", key);
		return NULL;
	}
	return j;
}

/* Runs of j not ended yet: queued (in its queue, or waiting out a retry
 * backoff) or with an agent. */
static size_t live_runs(struct sched *c, const struct job *j)
{
	size_t n = 0;
	for (size_t i = 0; i < c->st->nruns; i++) {
		const struct run *run = c->st->runs[i];
		n += run && run->job == j && !run_state_terminal(run->state);
	}
	return n;
}

/* Deletes a job's definition: no run of it starts, it is not listed. Its
 * ended runs stay (run list, run show) for their history and usage; the
 * key may be defined again. Refused while a run of it is live. */
int cmd_job_delete(struct sched *c, const struct cmd_args *a,
		   struct reply *r)
{
	struct job *j = job_arg(c, a->pos[0], r);
	size_t live;
	char actor[32];

	if (!j)
		return -1;
	if ((live = live_runs(c, j)))
		return cmd_fail(r, "busy",
				"job %s has %zu runs not ended: cancel them "
				"(run cancel) or let them end first",
				j->key, live);
	j->deleted_ms = c->now_ms;
	records_put_job(c->batch, c->store, j);
	audit_deleted(c, j->tenant, cmd_actor(a, actor, sizeof(actor)), "job",
		      j->key);
	jw_str(&r->w, "job", j->key);
	jw_strf_print(&r->w, "deleted job %s (its past runs are kept)", j->key);
	return 0;
}

static void write_memory(struct jw *w, const char *key, uint32_t mb)
{
	char buf[32];
	if (mb % 1024 == 0)
		snprintf(buf, sizeof(buf), "%ug", mb / 1024);
	else
		snprintf(buf, sizeof(buf), "%um", mb);
	jw_str(w, key, buf);
}

static void write_job(struct jw *w, const struct job *j, bool full)
{
	jw_str(w, "job", j->key);
	jw_uint(w, "version", j->version);
	jw_uint(w, "driver_cores", j->driver_cores);
	write_memory(w, "driver_memory", j->driver_memory_mb);
	jw_uint(w, "executors", j->executors);
	jw_uint(w, "executor_cores", j->executor_cores);
	write_memory(w, "executor_memory", j->executor_memory_mb);
	jw_uint(w, "timeout_s", j->timeout_s);
	jw_uint(w, "max_attempts", j->max_attempts);
	if (j->max_concurrent)
		jw_uint(w, "max_concurrent", j->max_concurrent);
	else
		jw_str(w, "max_concurrent", "unlimited");
	if (!full)
		return;
	if (j->run_budget)
		jw_usd(w, "run_budget", j->run_budget);
	else
		jw_str(w, "run_budget", "none");
	jw_time(w, "created", j->created_ms);
	jw_time(w, "version_written", j->version_ms);
	if (j->version_by[0])
		jw_str(w, "version_by", j->version_by);
	jw_arr_open(w, "spark_submit_args");
	for (int i = 0; i < j->argc; i++)
		jw_str(w, NULL, j->argv[i]);
	jw_arr_close(w);
}

int cmd_job_list(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	jw_arr_open(&r->w, "items");
	for (size_t i = 0; i < c->st->jobs.n; i++) {
		const struct job *j = c->st->jobs.v[i];
		if (j->deleted_ms || !cmd_sees(a, j->tenant))
			continue;
		jw_obj_open(&r->w, NULL);
		write_job(&r->w, c->st->jobs.v[i], false);
		jw_obj_close(&r->w);
	}
	jw_arr_close(&r->w);
	return 0;
}

/* job show TENANT/ENV/JOB [--version N]: the current version, or version
 * N read from the store (jobvers.h). */
int cmd_job_show(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	struct job *j = job_arg(c, a->pos[0], r), v;
	uint32_t want;
	int rc;

	if (!j)
		return -1;
	want = (uint32_t)arg_num(a, "--version", j->version);
	if (want == j->version) {
		jw_obj_open(&r->w, "job");
		write_job(&r->w, j, true);
		jw_obj_close(&r->w);
		return 0;
	}
	memset(&v, 0, sizeof(v));
	rc = want < j->version ? jobvers_load(c, j->key, want, &v) : 0;
	if (rc < 0)
		return cmd_fail(r, "internal",
				"job '%s' version %u cannot be read (see the "
				"scheduler's log)", j->key, want);
	if (rc == 0)
		return cmd_fail(r, "not_found",
				"job '%s' has no version %u (versions 1-%u)",
				j->key, want, j->version);
	jw_obj_open(&r->w, "job");
	write_job(&r->w, &v, true);
	jw_obj_close(&r->w);
	job_release(&v);
	return 0;
}

/* One row of job history. */
static void write_version(struct jw *w, const struct job *v)
{
	jw_obj_open(w, NULL);
	jw_uint(w, "version", v->version);
	jw_time(w, "written", v->version_ms ? v->version_ms : v->created_ms);
	jw_str(w, "by", v->version_by[0] ? v->version_by : "-");
	jw_str(w, "changes", v->version_note[0] ? v->version_note : "created");
	jw_obj_close(w);
}

struct history {
	struct jw *w;
	uint32_t last;
};

static int history_one(const struct job *v, void *ctx)
{
	struct history *h = ctx;
	write_version(h->w, v);
	h->last = v->version;
	return 0;
}

/* job history TENANT/ENV/JOB: every version, oldest first. */
int cmd_job_history(struct sched *c, const struct cmd_args *a,
		    struct reply *r)
{
	struct job *j = job_arg(c, a->pos[0], r);
	struct history h = { &r->w, 0 };

	if (!j)
		return -1;
	jw_str(&r->w, "job", j->key);
	jw_arr_open(&r->w, "items");
	if (jobvers_scan(c, j->key, history_one, &h)) {
		jw_arr_close(&r->w);
		return cmd_fail(r, "internal",
				"job '%s': a damaged version record", j->key);
	}
	/* a job defined before versions were kept has no stored version */
	if (h.last < j->version)
		write_version(&r->w, j);
	jw_arr_close(&r->w);
	return 0;
}

static void note_u32(struct strbuf *sb, const char *what, uint32_t was,
		     uint32_t now)
{
	if (was != now)
		strbuf_addf(sb, "%s%s %u -> %u", sb->len ? ", " : "", what,
			    was, now);
}

/* What job set changes, for its answer and the version's note. */
static void describe_set(struct strbuf *sb, const struct job *was,
			 const struct job *now, bool args)
{
	note_u32(sb, "driver-cores", was->driver_cores, now->driver_cores);
	note_u32(sb, "driver-memory-mb", was->driver_memory_mb,
		 now->driver_memory_mb);
	note_u32(sb, "executor-cores", was->executor_cores,
		 now->executor_cores);
	note_u32(sb, "executor-memory-mb", was->executor_memory_mb,
		 now->executor_memory_mb);
	note_u32(sb, "executors", was->executors, now->executors);
	note_u32(sb, "timeout", was->timeout_s, now->timeout_s);
	note_u32(sb, "max-attempts", was->max_attempts, now->max_attempts);
	note_u32(sb, "max-concurrent", was->max_concurrent,
		 now->max_concurrent);
	if (was->run_budget != now->run_budget) {
		char x[40], y[40];
		format_usd(was->run_budget, x, sizeof(x));
		format_usd(now->run_budget, y, sizeof(y));
		strbuf_addf(sb, "%srun-budget %s -> %s", sb->len ? ", " : "",
			    x, y);
	}
	if (args)
		strbuf_addf(sb, "%sspark-submit arguments replaced (%d -> %d)",
			    sb->len ? ", " : "", was->argc, now->argc);
}

/* Whether the new arguments differ from j's. */
static bool args_differ(const struct job *j, const struct cmd_args *a)
{
	if (j->argc != a->nrest)
		return true;
	for (int i = 0; i < a->nrest; i++)
		if (strcmp(j->argv[i], a->rest[i]))
			return true;
	return false;
}

/* The flags of job set as given, over j's values (the rest kept). */
static void set_fields(struct job *now, const struct job *j,
		       const struct cmd_args *a)
{
	now->driver_cores = (uint32_t)arg_num(a, "--driver-cores",
					      j->driver_cores);
	now->driver_memory_mb = (uint32_t)arg_num(a, "--driver-memory",
						  j->driver_memory_mb);
	now->executor_cores = (uint32_t)arg_num(a, "--executor-cores",
						j->executor_cores);
	now->executor_memory_mb = (uint32_t)arg_num(a, "--executor-memory",
						    j->executor_memory_mb);
	now->executors = (uint32_t)arg_num(a, "--executors", j->executors);
	now->timeout_s = (uint32_t)arg_num(a, "--timeout", j->timeout_s);
	now->max_attempts = (uint32_t)arg_num(a, "--max-attempts",
					      j->max_attempts);
	now->run_budget = arg_num(a, "--run-budget", j->run_budget);
	now->max_concurrent = (uint32_t)arg_num(a, "--max-concurrent",
						j->max_concurrent);
}

/* job set TENANT/ENV/JOB [job add's flags] [-- ARGS...]: a new version;
 * flags not given keep their value, the arguments are replaced only with
 * "--". Runs started before keep theirs (jobvers.h). */
int cmd_job_set(struct sched *c, const struct cmd_args *a, struct reply *r)
{
	struct job *j = job_arg(c, a->pos[0], r), now;
	bool args = a->has_rest;
	struct strbuf sb = STRBUF_INIT;

	if (!j)
		return -1;
	if (args && (check_spark_args(a, r) || check_no_secrets(a, r)))
		return -1;
	now = *j;
	set_fields(&now, j, a);
	args = args && args_differ(j, a);
	if (args)
		now.argc = a->nrest;
	describe_set(&sb, j, &now, args);
	if (!sb.len) {
		jw_str(&r->w, "job", j->key);
		jw_uint(&r->w, "version", j->version);
		jw_strf_print(&r->w, "job %s unchanged (version %u)", j->key,
			      j->version);
		return 0;
	}
	if (j->version >= JOB_VERSION_MAX) {
		strbuf_release(&sb);
		return cmd_fail(r, "invalid",
				"job '%s' has %u versions, the most kept",
				j->key, j->version);
	}
	/* the version it replaces stays readable (a job from before
	 * versions has none stored yet), and in memory for its live runs */
	records_put_job_version(c->batch, c->store, j);
	jobvers_retire(c, j);
	set_fields(j, j, a);
	if (args) {
		for (int i = 0; i < j->argc; i++)
			free(j->argv[i]);
		free(j->argv);
		j->argv = xcalloc((size_t)a->nrest + 1, sizeof(char *));
		for (j->argc = 0; j->argc < a->nrest; j->argc++)
			j->argv[j->argc] = xstrdup(a->rest[j->argc]);
	}
	j->version++;
	j->version_ms = c->now_ms;
	cmd_actor(a, j->version_by, sizeof(j->version_by));
	snprintf(j->version_note, sizeof(j->version_note), "%s", sb.buf);
	records_put_job(c->batch, c->store, j);
	records_put_job_version(c->batch, c->store, j);
	jw_str(&r->w, "job", j->key);
	jw_uint(&r->w, "version", j->version);
	jw_strf_print(&r->w, "job %s version %u: %s", j->key, j->version,
		      sb.buf);
	strbuf_release(&sb);
	return 0;
}
