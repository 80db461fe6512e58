/*
 * runner.h - supervising one child process (spark-submit): fork/exec in
 * its own process group with a working directory, stdout/stderr through
 * pipes delivered as lines, a timeout, and cancel (SIGTERM to the group,
 * SIGKILL after a grace period).
 */
#ifndef SP_RUNNER_H
#define SP_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RUNNER_MAX_LINE 8192
/* A piece may grow to this to keep a secret whole (runner_spec.redactor) */
#define RUNNER_HARD_LINE (8 * RUNNER_MAX_LINE)

struct redactor;

struct runner_spec {
	const char *path;   /* program to exec */
	char *const *argv;  /* NULL-terminated; argv[0] is the shown name */
	const char *workdir; /* created if missing; the child chdir()s there */
	char *const *envp;  /* NULL = inherit */
	int64_t timeout_ms; /* 0 = none */
	int64_t grace_ms;   /* SIGTERM -> SIGKILL */
	/* Optional: lines longer than RUNNER_MAX_LINE are cut where its
	 * built-in rules see no secret straddle the cut (redact_split), so
	 * that redacting each piece alone hides the whole secret. Borrowed:
	 * must outlive the runner. NULL: cut at RUNNER_MAX_LINE. */
	const struct redactor *redactor;
};

enum runner_end { RUNNER_EXITED, RUNNER_TIMED_OUT, RUNNER_CANCELLED };

struct runner;

/* Starts the child. NULL with a reason ("cannot run '/x': No such file or
 * directory") if it cannot be started or exec fails. */
struct runner *runner_start(const struct runner_spec *spec, char *err,
			    size_t errlen);
/* The pipe for stream 1 (stdout) or 2 (stderr), or -1 once closed. */
int runner_fd(const struct runner *r, int stream);

typedef void (*runner_line_fn)(void *ctx, int stream, const char *line,
			       size_t len);
/* Reads what is available on stream without blocking and calls fn for each
 * complete line (without the newline). Longer lines come in pieces of
 * RUNNER_MAX_LINE, or, with a redactor, cut where no secret straddles:
 * pieces of at most RUNNER_MAX_LINE, or up to RUNNER_HARD_LINE to keep a
 * secret that starts a piece whole; the rest of a line whose secret is
 * longer than that is dropped. At EOF the last partial line is delivered
 * and the pipe closed. 0, or -1 on a read error (the pipe is closed). */
int runner_read(struct runner *r, int stream, runner_line_fn fn, void *ctx);
/* SIGTERM to the whole process group now, SIGKILL after grace_ms. */
void runner_cancel(struct runner *r, int64_t now_mono);
/* Enforces the timeout and the kill escalation, reaps the child. True once
 * the child is reaped and its pipes are drained (or abandoned grace_ms
 * after the exit, if a grandchild keeps them open); then *wait_status and
 * *why are set. */
bool runner_poll(struct runner *r, int64_t now_mono, int *wait_status,
		 enum runner_end *why);
/* When runner_poll must next be called (monotonic ms), or INT64_MAX. */
int64_t runner_next_deadline(const struct runner *r);
pid_t runner_pid(const struct runner *r);
/* Replaces the redactor that cuts long lines (runner_spec.redactor; a
 * reload swaps the rules under runs in progress). Borrowed as there. A
 * cut looks at nothing but the piece at hand, so it may change between
 * two pieces of one line. */
void runner_set_redactor(struct runner *r, const struct redactor *red);
/* SIGKILLs the group if still alive, reaps, closes, frees. */
void runner_free(struct runner *r);

#endif
