/* spark_matrix.c - the compatibility matrix run over its transcripts
 * (spark_matrix.h). */
#include "spark_matrix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose.h"
#include "spark_output.h"
#include "util.h"

#define EXITED(n) ((n) << 8)
#define MAX_CASES 512

static const char *const result_names[] = { "succeeded", "failed", "killed" };

/* Feeds one transcript to a fresh parser and classifier. */
static int run_case(const char *dir, struct matrix_case *c, char *err,
		    size_t len)
{
	char path[512], *text, *line, *save = NULL;
	struct diagnoser *d;
	struct spark_watch w;
	unsigned ev = 0;
	enum spark_result res;

	snprintf(path, sizeof(path), "%s/%s/%s/%s", dir, c->version, c->mode,
		 c->file);
	text = read_file(path, 1 << 22, NULL);
	if (!text) {
		snprintf(err, len, "cannot read '%s'", path);
		return -1;
	}
	d = diagnoser_new();
	spark_watch_init(&w);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		ev |= spark_watch_line(&w, line, strlen(line));
		diagnose_line(d, line, strlen(line));
	}
	diagnose_exit(d, EXITED(c->exit_code));
	res = spark_watch_result(&w, EXITED(c->exit_code), c->reason,
				 sizeof(c->reason));
	snprintf(c->got_app, sizeof(c->got_app), "%s", w.app_id);
	snprintf(c->got_result, sizeof(c->got_result), "%s",
		 result_names[res]);
	snprintf(c->got_class, sizeof(c->got_class), "%s",
		 res == SPARK_FAILED ? diagnose_result(d)->category : "-");
	c->running_seen = (ev & SPARK_EV_RUNNING) != 0;
	c->detached = w.detached;
	c->ok_app = w.app_id[0] &&
		    !strncmp(w.app_id, c->want_app, strlen(c->want_app));
	c->ok_result = !strcmp(c->got_result, c->want_result);
	/* "-": no class expected (a success, a kill, an unknown result) */
	c->ok_class = !strcmp(c->want_class, "-") ||
		      !strcmp(c->want_class, c->got_class);
	diagnoser_free(d);
	free(text);
	return 0;
}

int spark_matrix_run(const char *dir, struct matrix_case **out, size_t *n,
		     char *err, size_t len)
{
	char path[512], *text, *line, *save = NULL;
	struct matrix_case *cs;
	size_t k = 0;

	snprintf(path, sizeof(path), "%s/expected", dir);
	text = read_file(path, 1 << 20, NULL);
	if (!text) {
		snprintf(err, len, "cannot read '%s'", path);
		return -1;
	}
	cs = xcalloc(MAX_CASES, sizeof(*cs));
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct matrix_case *c = &cs[k];
		if (line[0] == '#' || !line[0])
			continue;
		if (k == MAX_CASES ||
		    sscanf(line, "%7s %15s %63s %d %31s %15s %31s", c->version,
			   c->mode, c->file, &c->exit_code, c->want_app,
			   c->want_result, c->want_class) != 7) {
			snprintf(err, len, "%s: bad line '%.80s'", path, line);
			goto fail;
		}
		if (run_case(dir, c, err, len))
			goto fail;
		k++;
	}
	free(text);
	*out = cs;
	*n = k;
	return 0;
fail:
	free(text);
	free(cs);
	return -1;
}

bool spark_matrix_ok(const struct matrix_case *c)
{
	return c->ok_app && c->ok_result && c->ok_class;
}

/* How the agent's cancel reaches the application in each mode: it ends
 * spark-submit's process group (agent/runner.c) and stops the application
 * with the id spark-submit printed (agent/backend_submit.c). A fact of
 * the agent's code, not of the transcripts (t2350-cluster-cancel checks
 * it). */
static const char *cancel_text(const char *mode)
{
	if (!strcmp(mode, "yarn"))
		return "the application is killed: `yarn application -kill "
		       "ID` (or the ResourceManager's REST API)";
	if (!strcmp(mode, "k8s"))
		return "the driver pod is killed: `spark-submit --kill "
		       "NAMESPACE:POD --master k8s://...`";
	return "the driver is killed: `spark-submit --kill DRIVER_ID "
	       "--master spark://...`";
}

static const char *mode_title(const char *mode)
{
	return !strcmp(mode, "yarn") ? "YARN cluster"
	       : !strcmp(mode, "k8s") ? "Kubernetes cluster"
				      : "standalone cluster";
}

/* One row of the summary: the cases of version x mode. */
static void summary_row(const struct matrix_case *c, size_t n,
			const char *version, const char *mode,
			struct strbuf *out)
{
	size_t cases = 0, app_ok = 0, tracked = 0, tracked_ok = 0, det = 0,
	       det_ok = 0;
	struct strbuf classes = STRBUF_INIT, missed = STRBUF_INIT;
	const char *prefix = "";
	char quoted[40];

	for (size_t i = 0; i < n; i++) {
		const struct matrix_case *x = &c[i];
		if (strcmp(x->version, version) || strcmp(x->mode, mode))
			continue;
		cases++;
		app_ok += x->ok_app;
		prefix = x->want_app;
		if (x->detached) {
			det++;
			det_ok += x->ok_result;
		} else {
			tracked++;
			tracked_ok += x->ok_result && x->running_seen;
		}
		if (!strcmp(x->want_class, "-") ||
		    !strcmp(x->want_class, "unknown"))
			continue;
		/* each class once, in the order of the transcripts */
		snprintf(quoted, sizeof(quoted), "`%s`", x->want_class);
		if (x->ok_class &&
		    !(classes.len && strstr(classes.buf, quoted)))
			strbuf_addf(&classes, "%s%s", classes.len ? ", " : "",
				    quoted);
		else if (!x->ok_class)
			strbuf_addf(&missed, "%s`%s`", missed.len ? ", " : "",
				    x->want_class);
	}
	if (!cases)
		goto out;
	strbuf_addf(out, "| %s | %s | %s (`%s...`) | ", version,
		    mode_title(mode), app_ok == cases ? "yes" : "**no**",
		    prefix);
	if (tracked_ok == tracked)
		strbuf_addstr(out, "yes");
	else
		strbuf_addf(out, "**no** (%zu of %zu)", tracked_ok, tracked);
	if (det)
		strbuf_addf(out, "; without waitAppCompletion: %s",
			    det_ok == det ? "failed as unknown" : "**wrong**");
	strbuf_addf(out, " | %s | %s%s%s |\n", cancel_text(mode),
		    classes.len ? classes.buf : "none from the client output",
		    missed.len ? "; **missed**: " : "",
		    missed.len ? missed.buf : "");
out:
	strbuf_release(&classes);
	strbuf_release(&missed);
}

void spark_matrix_markdown(const struct matrix_case *c, size_t n,
			   struct strbuf *out)
{
	static const char *const versions[] = { "3.3", "3.4", "3.5", "4.0" };
	static const char *const modes[] = { "yarn", "k8s", "standalone" };
	size_t good = 0;

	for (size_t i = 0; i < n; i++)
		good += spark_matrix_ok(&c[i]);
	strbuf_addstr(
		out,
		"# Spark compatibility\n\n"
		"Generated: `make docs` writes this file from the results of "
		"the agent's parser\n(agent/spark_output.c) and classifier "
		"(common/diagnose.c) over the recorded\nclient output in "
		"tests/data/spark-matrix (`bin/sp-docgen compat-md`);\n"
		"tests/unit/test_spark_matrix.c checks the same results and "
		"t0080 that this\nfile is current. Do not edit it by hand.\n\n"
		"The transcripts are the fake spark-submit's "
		"(tests/fakes/spark-submit, which\nsays which of its lines are "
		"facts read in Spark's sources and which are\n"
		"approximations); Spark itself cannot run where the tests run. "
		"Columns:\n\n"
		"- **app id parsed**: the YARN application id, the Kubernetes "
		"`spark-<hex>`\n  application id, the standalone driver id.\n"
		"- **state tracked**: the application seen running, then its "
		"real end\n  (YARN final status, the Kubernetes driver's exit "
		"code, the standalone\n  driver's final state) decides the run. "
		"A Kubernetes or standalone\n  submission with "
		"`waitAppCompletion=false` leaves at once: its runs are\n  "
		"failed with \"its result is unknown\" rather than guessed "
		"succeeded.\n"
		"- **cancel**: what `spctl run cancel` does there: the agent "
		"ends spark-submit's\n  process group, then stops the "
		"application with the id spark-submit printed\n  (a cancel "
		"before that id is printed stops the client only).\n"
		"- **diagnosis classes recognised**: the failure classes the "
		"transcripts of\n  that release and mode were classified as "
		"expected. A standalone cluster\n  driver's log stays on its "
		"worker: the client output has no error to classify.\n\n"
		"| Spark | mode | app id parsed | state tracked | cancel | "
		"diagnosis classes recognised |\n"
		"|---|---|---|---|---|---|\n");
	for (size_t v = 0; v < ARRAY_SIZE(versions); v++)
		for (size_t m = 0; m < ARRAY_SIZE(modes); m++)
			summary_row(c, n, versions[v], modes[m], out);
	strbuf_addf(out,
		    "\nSpark 4.0 with `spark.log.structuredLogging.enabled=true`"
		    " (JSON log records)\nis in the transcripts `*-structured.txt`"
		    " below.\n\n## Every transcript (%zu, %zu as expected)\n\n"
		    "| Spark | mode | transcript | exit | app id | result | "
		    "class | as expected |\n|---|---|---|---|---|---|---|---|\n",
		    n, good);
	for (size_t i = 0; i < n; i++)
		strbuf_addf(out, "| %s | %s | %s | %d | `%s` | %s | %s | %s |\n",
			    c[i].version, c[i].mode, c[i].file, c[i].exit_code,
			    c[i].got_app[0] ? c[i].got_app : "-",
			    c[i].got_result, c[i].got_class,
			    spark_matrix_ok(&c[i]) ? "yes" : "**no**");
}
