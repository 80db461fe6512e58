/* livy_req.c - Livy batch requests and answers, as data. */
#include "livy_req.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

/* What argv says, borrowed from it. */
struct batch {
	const char *file, *class_name, *name, *queue, *proxy_user;
	const char *driver_memory, *executor_memory;
	const char *driver_cores, *executor_cores, *num_executors;
	const char *jars, *py_files, *files, *archives;
	const char *conf[256];
	size_t nconf;
	char *const *args;
	size_t nargs;
};

/* spark-submit options that take a value and where they go. */
static const struct {
	const char *opt;
	size_t off;
} opts[] = {
#define O(o, f) { o, offsetof(struct batch, f) }
	O("--class", class_name), O("--name", name), O("--queue", queue),
	O("--proxy-user", proxy_user), O("--driver-memory", driver_memory),
	O("--executor-memory", executor_memory),
	O("--driver-cores", driver_cores),
	O("--executor-cores", executor_cores),
	O("--num-executors", num_executors), O("--jars", jars),
	O("--py-files", py_files), O("--files", files),
	O("--archives", archives),
#undef O
};
/* taken and dropped: Livy's server decides them */
static const char *const dropped[] = { "--master", "--deploy-mode", NULL };
/* flags without a value that change nothing for a batch */
static const char *const flags[] = { "--verbose", "--supervise", NULL };

static bool in(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

/* Splits "--opt=value" or takes the next word; 0, or -1 if missing. */
static int opt_value(char *const *argv, size_t argc, size_t *i,
		     const char *opt, const char **val)
{
	size_t n = strlen(opt);
	if (!strncmp(argv[*i], opt, n) && argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
		return 0;
	}
	if (*i + 1 >= argc)
		return -1;
	*val = argv[++*i];
	return 0;
}

static const char *opt_name(const char *word, char *buf, size_t len)
{
	size_t n = strcspn(word, "=");
	snprintf(buf, len, "%.*s", (int)n, word);
	return buf;
}

static int read_argv(const struct backend_ctx *ctx, struct batch *b,
		     char *err, size_t errlen)
{
	char name[64];

	for (size_t i = 0; i < ctx->argc; i++) {
		const char *w = ctx->argv[i], *v = NULL;
		bool done = false;

		if (w[0] != '-' || w[1] != '-') {
			b->file = w;
			b->args = ctx->argv + i + 1;
			b->nargs = ctx->argc - i - 1;
			return 0;
		}
		opt_name(w, name, sizeof(name));
		if (in(flags, name))
			continue;
		if (opt_value(ctx->argv, ctx->argc, &i, name, &v)) {
			snprintf(err, errlen, "spark-submit option %s without "
				 "its value", name);
			return -1;
		}
		if (in(dropped, name))
			continue;
		if (!strcmp(name, "--conf")) {
			if (!strchr(v, '=')) {
				snprintf(err, errlen, "Spark config without "
					 "'=': %.200s", v);
				return -1;
			}
			if (b->nconf == sizeof(b->conf) / sizeof(b->conf[0])) {
				snprintf(err, errlen, "more than %zu --conf",
					 b->nconf);
				return -1;
			}
			b->conf[b->nconf++] = v;
			continue;
		}
		for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
			if (!strcmp(opts[k].opt, name)) {
				*(const char **)((char *)b + opts[k].off) = v;
				done = true;
			}
		if (!done) {
			snprintf(err, errlen, "spark-submit option %s cannot "
				 "be sent to Livy", name);
			return -1;
		}
	}
	snprintf(err, errlen, "no application file in the job's arguments");
	return -1;
}

/* A comma-separated list as a JSON array of strings. */
static void list(struct jw *w, const char *key, const char *csv)
{
	if (!csv)
		return;
	jw_arr_open(w, key);
	for (const char *p = csv; *p;) {
		size_t n = strcspn(p, ",");
		if (n)
			jw_strn(w, NULL, p, n);
		p += n + (p[n] == ',');
	}
	jw_arr_close(w);
}

/* An integer option: a number as JSON, or the text if it is none (Livy
 * then refuses it with its own message). */
static void number(struct jw *w, const char *key, const char *v,
		   uint32_t fallback)
{
	char *end;
	long long n;

	if (!v) {
		if (fallback)
			jw_uint(w, key, fallback);
		return;
	}
	n = strtoll(v, &end, 10);
	if (*v && !*end)
		jw_int(w, key, n);
	else
		jw_str(w, key, v);
}

static void memory(struct jw *w, const char *key, const char *v, uint32_t mb)
{
	char buf[32];
	if (v) {
		jw_str(w, key, v);
	} else if (mb) {
		snprintf(buf, sizeof(buf), "%um", mb);
		jw_str(w, key, buf);
	}
}

int livy_batch_json(const struct backend_ctx *ctx, struct strbuf *out,
		    char *err, size_t errlen)
{
	struct batch b;
	struct jw w;
	char name[64];
	const char *s;

	memset(&b, 0, sizeof(b));
	strbuf_reset(out);
	if (read_argv(ctx, &b, err, errlen))
		return -1;
	jw_init(&w, out);
	jw_obj_open(&w, NULL);
	jw_str(&w, "file", b.file);
	if (b.class_name)
		jw_str(&w, "className", b.class_name);
	jw_arr_open(&w, "args");
	for (size_t i = 0; i < b.nargs; i++)
		jw_str(&w, NULL, b.args[i]);
	jw_arr_close(&w);
	list(&w, "jars", b.jars);
	list(&w, "pyFiles", b.py_files);
	list(&w, "files", b.files);
	list(&w, "archives", b.archives);
	memory(&w, "driverMemory", b.driver_memory, ctx->res.driver_memory_mb);
	number(&w, "driverCores", b.driver_cores, ctx->res.driver_cores);
	memory(&w, "executorMemory", b.executor_memory,
	       ctx->res.executor_memory_mb);
	number(&w, "executorCores", b.executor_cores, ctx->res.executor_cores);
	number(&w, "numExecutors", b.num_executors, ctx->res.executors);
	snprintf(name, sizeof(name), "sp-%llu-%llu",
		 (unsigned long long)ctx->run, (unsigned long long)ctx->attempt);
	jw_str(&w, "name", name);
	if ((s = b.queue ? b.queue : backend_setting(ctx, "livy_queue")))
		jw_str(&w, "queue", s);
	if ((s = b.proxy_user ? b.proxy_user
			      : backend_setting(ctx, "livy_proxy_user")))
		jw_str(&w, "proxyUser", s);
	jw_obj_open(&w, "conf");
	for (size_t i = 0; i < b.nconf; i++) {
		const char *eq = strchr(b.conf[i], '=');
		char key[256];
		snprintf(key, sizeof(key), "%.*s", (int)(eq - b.conf[i]),
			 b.conf[i]);
		jw_str(&w, key, eq + 1);
	}
	if (b.name)
		jw_str(&w, "spark.app.name", b.name);
	jw_obj_close(&w);
	jw_obj_close(&w);
	return 0;
}

enum backend_state livy_state(const char *state, bool cancelled, bool *known)
{
	static const struct {
		const char *name;
		enum backend_state st;
	} map[] = {
		{ "not_started", BACKEND_SUBMITTED },
		{ "starting", BACKEND_SUBMITTED },
		{ "recovering", BACKEND_SUBMITTED },
		{ "running", BACKEND_RUNNING },
		{ "idle", BACKEND_RUNNING },
		{ "busy", BACKEND_RUNNING },
		{ "shutting_down", BACKEND_RUNNING },
		{ "success", BACKEND_SUCCEEDED },
		{ "dead", BACKEND_FAILED },
		{ "error", BACKEND_FAILED },
		{ "killed", BACKEND_FAILED },
	};

	*known = true;
	if (!strcmp(state, "killed") && cancelled)
		return BACKEND_CANCELLED;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].name, state))
			return map[i].st;
	*known = false;
	return BACKEND_SUBMITTED;
}

int livy_parse_batch(const char *body, size_t len, int64_t *id, char *state,
		     size_t statelen, char *app_id, size_t applen, char *err,
		     size_t errlen)
{
	char why[200];
	struct json *root = json_parse(body, len, why, sizeof(why));
	const struct json *v;
	const char *s;
	char *end;
	long long n;

	if (!root) {
		snprintf(err, errlen, "Livy's answer is not JSON: %s", why);
		return -1;
	}
	v = json_get(root, "id");
	n = v && v->type == JSON_NUMBER ? strtoll(v->str, &end, 10) : -1;
	if (!v || v->type != JSON_NUMBER || *end || n < 0) {
		snprintf(err, errlen, "Livy's answer has no batch id");
		json_free(root);
		return -1;
	}
	*id = n;
	s = json_get_str(root, "state");
	snprintf(state, statelen, "%s", s ? s : "");
	s = json_get_str(root, "appId");
	snprintf(app_id, applen, "%s", s ? s : "");
	json_free(root);
	return 0;
}

int livy_log_page(const char *body, size_t len, backend_sink_fn sink,
		  void *sink_ctx, int *stream, char *err, size_t errlen)
{
	char why[200];
	struct json *root = json_parse(body, len, why, sizeof(why));
	const struct json *log;
	int n = 0;

	if (!root) {
		snprintf(err, errlen, "Livy's log page is not JSON: %s", why);
		return -1;
	}
	log = json_get(root, "log");
	if (!log || log->type != JSON_ARRAY) {
		snprintf(err, errlen, "Livy's log page has no \"log\" list");
		json_free(root);
		return -1;
	}
	for (size_t i = 0; i < log->n; i++) {
		const struct json *l = log->items[i];
		if (l->type != JSON_STRING)
			continue;
		n++;
		/* Livy keeps spark-submit's output under these markers */
		if (!strcmp(l->str, "stdout: ")) {
			*stream = 1;
			continue;
		}
		if (!strcmp(l->str, "\nstderr: ") ||
		    !strcmp(l->str, "stderr: ")) {
			*stream = 2;
			continue;
		}
		sink(sink_ctx, *stream, l->str, l->str_len);
	}
	json_free(root);
	return n;
}
