/* jobvers.c - earlier versions of jobs, in memory while live runs use
 * them, else in the store (see jobvers.h). */
#include "jobvers.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "records.h"
#include "sched_ctx.h"
#include "util.h"

int jobvers_load(struct sched *c, const char *key, uint32_t v,
		 struct job *out)
{
	uint8_t k[JOB_KEY_LEN + 4];
	size_t klen = records_job_version_key(key, v, k), len = 0;
	char *val = NULL, err[256];
	int rc = store_get(c->store, CF_JOBVERS, k, klen, &val, &len, err,
			   sizeof(err));

	if (rc == 1)
		rc = records_decode_job(c->store, CF_JOBVERS, k, klen, val,
					len, out) ? -1 : 1;
	else if (rc < 0)
		log_error("job %s version %u: %s", key, v, err);
	free(val);
	return rc;
}

const struct job *jobvers_get(struct sched *c, struct job *j, uint32_t v)
{
	struct job *old;

	if (!v || v == j->version)
		return j;
	for (size_t i = 0; i < j->old_versions.n; i++) {
		old = j->old_versions.v[i];
		if (old->version == v)
			return old;
	}
	old = xcalloc(1, sizeof(*old));
	if (jobvers_load(c, j->key, v, old) != 1) {
		log_error("job %s: version %u not found in the store; the "
			  "current version %u is used", j->key, v, j->version);
		free(old);
		return j;
	}
	old->envp = j->envp;
	old->tenantp = j->tenantp;
	ptrvec_push(&j->old_versions, old);
	return old;
}

struct scan_ctx {
	struct store *store;
	size_t prefix;
	jobvers_fn fn;
	void *ctx;
};

static int scan_one(const void *key, size_t klen, const void *val,
		    size_t vlen, void *arg)
{
	struct scan_ctx *s = arg;
	const uint8_t *k = key;
	struct job v;
	int rc;

	if (klen != s->prefix + 4 || k[s->prefix - 1])
		return -1;
	memset(&v, 0, sizeof(v));
	if (records_decode_job(s->store, CF_JOBVERS, key, klen, val, vlen,
			       &v))
		return -1;
	rc = s->fn(&v, s->ctx);
	job_release(&v);
	return rc;
}

int jobvers_scan(struct sched *c, const char *key, jobvers_fn fn, void *ctx)
{
	uint8_t start[JOB_KEY_LEN + 4], end[JOB_KEY_LEN + 4];
	struct scan_ctx s = { c->store, strlen(key) + 1, fn, ctx };

	/* every version: from key\0 0 up to key\0 2^32-1, inclusive */
	memcpy(start, key, s.prefix);
	memcpy(end, key, s.prefix - 1);
	end[s.prefix - 1] = 1; /* key\1 sorts after every key\0... */
	return store_scan(c->store, CF_JOBVERS, start, s.prefix, end, s.prefix,
			  scan_one, &s);
}

/* A copy of j's definition as a version of its own (argv copied). */
static struct job *copy_version(const struct job *j)
{
	struct job *v = xcalloc(1, sizeof(*v));

	memcpy(v->key, j->key, sizeof(v->key));
	memcpy(v->tenant, j->tenant, sizeof(v->tenant));
	memcpy(v->env, j->env, sizeof(v->env));
	memcpy(v->name, j->name, sizeof(v->name));
	v->driver_cores = j->driver_cores;
	v->driver_memory_mb = j->driver_memory_mb;
	v->executor_cores = j->executor_cores;
	v->executor_memory_mb = j->executor_memory_mb;
	v->executors = j->executors;
	v->timeout_s = j->timeout_s;
	v->max_attempts = j->max_attempts;
	v->run_budget = j->run_budget;
	v->created_ms = j->created_ms;
	v->max_concurrent = j->max_concurrent;
	v->version = j->version;
	v->version_ms = j->version_ms;
	memcpy(v->version_by, j->version_by, sizeof(v->version_by));
	memcpy(v->version_note, j->version_note, sizeof(v->version_note));
	v->argv = xcalloc((size_t)j->argc + 1, sizeof(char *));
	for (int i = 0; i < j->argc; i++)
		v->argv[v->argc++] = xstrdup(j->argv[i]);
	v->envp = j->envp;
	v->tenantp = j->tenantp;
	return v;
}

/* Whether version v is in use[] (n entries). */
static bool in_use(const uint32_t *use, size_t n, uint32_t v)
{
	for (size_t i = 0; i < n; i++)
		if (use[i] == v)
			return true;
	return false;
}

void jobvers_retire(struct sched *c, struct job *j)
{
	uint32_t use[64];
	size_t n = 0;
	bool overflow = false;

	for (size_t i = 0; i < c->st->nruns; i++) {
		const struct run *r = c->st->runs[i];
		if (!r || r->job != j || run_state_terminal(r->state) ||
		    in_use(use, n, r->job_version))
			continue;
		if (n < ARRAY_SIZE(use))
			use[n++] = r->job_version;
		else
			overflow = true; /* keep them all: rare, and safe */
	}
	for (size_t i = j->old_versions.n; i-- > 0;) {
		struct job *old = j->old_versions.v[i];
		if (overflow || in_use(use, n, old->version))
			continue;
		job_release(old);
		free(old);
		ptrvec_remove_at(&j->old_versions, i);
	}
	if (overflow || in_use(use, n, j->version))
		ptrvec_push(&j->old_versions, copy_version(j));
}
