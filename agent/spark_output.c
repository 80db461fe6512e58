/* spark_output.c - parsing spark-submit output for ids, states, results. */
#include "spark_output.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

void spark_watch_init(struct spark_watch *w)
{
	memset(w, 0, sizeof(*w));
	w->driver_exit_code = -1;
}

/* Copies the token at p made of chars accepted by ok() into out. */
static size_t take(const char *p, const char *end, char *out, size_t size,
		   int (*ok)(int))
{
	size_t n = 0;
	while (p + n < end && ok((unsigned char)p[n]) && n + 1 < size) {
		out[n] = p[n];
		n++;
	}
	out[n] = '\0';
	return n;
}

static int is_id(int c)
{
	return isalnum(c) || c == '_' || c == '-';
}

static int is_sid(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == ':' || c == '.';
}

static int is_word(int c)
{
	return isalpha(c) || c == '_';
}

/* memmem for a C string needle; NULL if absent. */
static const char *find(const char *s, size_t len, const char *needle)
{
	return memmem(s, len, needle, strlen(needle));
}

static unsigned learn_app_id(struct spark_watch *w, const char *id,
			     enum spark_mode mode)
{
	if (w->app_id[0] || !id[0])
		return 0;
	snprintf(w->app_id, sizeof(w->app_id), "%s", id);
	w->mode = mode;
	return SPARK_EV_APP_ID;
}

static unsigned set_state(struct spark_watch *w, const char *state)
{
	snprintf(w->state, sizeof(w->state), "%s", state);
	if (!w->running && !strcasecmp(state, "running")) {
		w->running = true;
		return SPARK_EV_RUNNING;
	}
	return 0;
}

static unsigned yarn_line(struct spark_watch *w, const char *s, size_t len)
{
	const char *end = s + len, *p;
	char tok[128];
	unsigned ev = 0;

	if ((p = find(s, len, "application_")) &&
	    (find(s, len, "Submitted application") ||
	     find(s, len, "Submitting application") ||
	     find(s, len, "Application report for"))) {
		take(p, end, tok, sizeof(tok), is_id);
		ev |= learn_app_id(w, tok, SPARK_MODE_YARN);
	}
	if ((p = find(s, len, "(state: "))) {
		take(p + 8, end, tok, sizeof(tok), is_word);
		ev |= set_state(w, tok);
	}
	if ((p = find(s, len, "final status: "))) {
		take(p + 14, end, tok, sizeof(w->final_status), is_word);
		if (strcmp(tok, "UNDEFINED")) {
			memcpy(w->final_status, tok, strlen(tok) + 1);
			ev |= SPARK_EV_FINAL;
		}
	}
	return ev;
}

/* Standalone cluster mode (Spark's ClientEndpoint): "Driver successfully
 * submitted as driver-...", then "State of driver-... is RUNNING" and, when
 * it waits for the end, "State of driver driver-... is FINISHED, exiting
 * spark-submit JVM." (also FAILED, ERROR, KILLED). The driver's log stays
 * on its worker: the client sees no error of it. */
static unsigned standalone_line(struct spark_watch *w, const char *s,
				size_t len)
{
	static const struct {
		const char *state, *final;
	} finals[] = {
		{ "FINISHED", "SUCCEEDED" }, { "FAILED", "FAILED" },
		{ "ERROR", "FAILED" },       { "KILLED", "KILLED" },
	};
	const char *end = s + len, *p;
	char tok[128];
	unsigned ev = 0;

	if ((p = find(s, len, "submitted as driver-"))) {
		take(p + 13, end, tok, sizeof(tok), is_id);
		ev |= learn_app_id(w, tok, SPARK_MODE_STANDALONE);
		if (!w->submission_id[0])
			snprintf(w->submission_id, sizeof(w->submission_id),
				 "%s", tok);
	}
	if (w->mode != SPARK_MODE_STANDALONE ||
	    !(p = find(s, len, "State of ")) || !find(s, len, " is "))
		return ev;
	p = find(p, (size_t)(end - p), " is ") + 4;
	take(p, end, tok, sizeof(tok), is_word);
	ev |= set_state(w, tok);
	for (size_t i = 0; i < sizeof(finals) / sizeof(finals[0]); i++)
		if (!strcmp(tok, finals[i].state)) {
			snprintf(w->final_status, sizeof(w->final_status),
				 "%s", finals[i].final);
			ev |= SPARK_EV_FINAL;
		}
	return ev;
}

static unsigned k8s_line(struct spark_watch *w, const char *s, size_t len)
{
	const char *end = s + len, *p;
	char tok[256];
	unsigned ev = 0;

	if ((p = find(s, len, "application ID ")) && end - (p + 15) >= 6 &&
	    !memcmp(p + 15, "spark-", 6)) {
		take(p + 15, end, tok, sizeof(tok), is_id);
		ev |= learn_app_id(w, tok, SPARK_MODE_K8S);
		if ((p = find(s, len, "submission ID ")) &&
		    !w->submission_id[0])
			take(p + 14, end, w->submission_id,
			     sizeof(w->submission_id), is_sid);
	}
	if ((p = find(s, len, "(phase: "))) {
		if (!w->mode)
			w->mode = SPARK_MODE_K8S;
		take(p + 8, end, tok, sizeof(tok), is_word);
		ev |= set_state(w, tok);
	}
	/* "\t exit code: 1" (Spark 2.x prints "Exit code") */
	for (size_t i = 0; i + 11 <= len; i++) {
		if (strncasecmp(s + i, "exit code: ", 11))
			continue;
		p = s + i + 11;
		if (p < end && isdigit((unsigned char)*p) &&
		    w->mode == SPARK_MODE_K8S) {
			/* not atoi: the line is len bytes, not a C string */
			int code = 0;
			for (; p < end && isdigit((unsigned char)*p) &&
			       code < 1000000; p++)
				code = code * 10 + (*p - '0');
			w->driver_exit_code = code & 0xffff;
			ev |= SPARK_EV_FINAL;
		}
		break;
	}
	if ((p = find(s, len, "termination reason: ")))
		take(p + 20, end, w->termination_reason,
		     sizeof(w->termination_reason), is_word);
	return ev;
}

/* Keeps the innermost cause: a "Caused by:" line replaces an earlier one
 * (the last printed is the innermost); other error lines only fill in
 * when no cause has been seen. */
static void error_line(struct spark_watch *w, const char *s, size_t len)
{
	const char *p;
	bool cause = false;
	while (len && isspace((unsigned char)*s))
		s++, len--;
	if ((p = find(s, len, "Caused by: "))) {
		cause = true;
		len -= (size_t)(p + 11 - s);
		s = p + 11;
	} else if (!find(s, len, "Exception") && !find(s, len, "Error:") &&
		   !find(s, len, " ERROR ") && !find(s, len, "Error") &&
		   !find(s, len, "diagnostics:")) {
		return;
	}
	if (!len || (!cause && w->error_is_cause))
		return; /* an empty cause says nothing */
	/* s is not NUL-terminated: compare no further than len */
	if (find(s, len, "\tat ") || (len >= 3 && !memcmp(s, "at ", 3)))
		return;
	if (len >= sizeof(w->last_error)) {
		/* The reason built from this is redacted later: a cut inside
		 * a word could keep part of a token too short for its rule to
		 * know. Cut at a blank; a line without one keeps nothing. */
		len = sizeof(w->last_error) - 1;
		while (len > 0 && !isspace((unsigned char)s[len]))
			len--;
	}
	memcpy(w->last_error, s, len);
	w->last_error[len] = '\0';
	for (char *c = w->last_error; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	w->error_is_cause = cause;
}

unsigned spark_watch_line(struct spark_watch *w, const char *line,
			  size_t len)
{
	unsigned ev = yarn_line(w, line, len);
	ev |= k8s_line(w, line, len);
	ev |= standalone_line(w, line, len);
	/* the Kubernetes client's "Deployed Spark application ... into
	 * Kubernetes" and the standalone one's "not configured to wait for
	 * completion": nothing more will be learned from this output */
	if (find(line, len, "not configured to wait for completion") ||
	    (find(line, len, "Deployed Spark application") &&
	     find(line, len, "into Kubernetes")))
		w->detached = true;
	error_line(w, line, len);
	return ev;
}

/* reason = what happened, then the innermost error line if any. */
static void why(char *reason, size_t len, const struct spark_watch *w,
		const char *what)
{
	if (w->last_error[0])
		snprintf(reason, len, "%s: %s", what, w->last_error);
	else
		snprintf(reason, len, "%s", what);
}

enum spark_result spark_watch_result(const struct spark_watch *w,
				     int wait_status, char *reason,
				     size_t len)
{
	int code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
	char what[160];

	reason[0] = '\0';
	if (WIFSIGNALED(wait_status)) {
		snprintf(what, sizeof(what), "spark-submit killed by signal %d",
			 WTERMSIG(wait_status));
		why(reason, len, w, what);
		return SPARK_FAILED;
	}
	if (w->mode == SPARK_MODE_K8S && w->driver_exit_code >= 0) {
		if (w->driver_exit_code == 0)
			return SPARK_SUCCEEDED;
		snprintf(what, sizeof(what), "driver exit code %d%s%s%s",
			 w->driver_exit_code,
			 w->termination_reason[0] ? " (" : "",
			 w->termination_reason,
			 w->termination_reason[0] ? ")" : "");
		why(reason, len, w, what);
		return SPARK_FAILED;
	}
	if (!strcmp(w->final_status, "KILLED") ||
	    !strcmp(w->final_status, "FAILED")) {
		snprintf(what, sizeof(what), "application %s (exit %d)",
			 w->final_status[0] == 'K' ? "killed" : "failed", code);
		why(reason, len, w, what);
		return w->final_status[0] == 'K' ? SPARK_KILLED : SPARK_FAILED;
	}
	/* standalone: the client exits 0 whatever the driver did (it only
	 * reports the state it polled), so the state decides */
	if (w->mode == SPARK_MODE_STANDALONE &&
	    !strcmp(w->final_status, "SUCCEEDED"))
		return SPARK_SUCCEEDED;
	if (w->detached) {
		snprintf(reason, len,
			 "spark-submit did not wait for the application's end "
			 "(set spark.kubernetes.submission.waitAppCompletion or "
			 "spark.standalone.submit.waitAppCompletion to true): "
			 "its result is unknown");
		return SPARK_FAILED;
	}
	if (code == 0)
		return SPARK_SUCCEEDED;
	snprintf(what, sizeof(what), "spark-submit exited with %d", code);
	why(reason, len, w, what);
	return SPARK_FAILED;
}
