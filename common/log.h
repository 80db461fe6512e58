/*
 * log.h - one line per message on stderr, with a level. Under systemd
 * (stderr is the journal's stream: JOURNAL_STREAM names it) each line
 * starts with its syslog priority, "<4>warn: ...", so the journal files it
 * at that priority (journalctl -p warning); otherwise "prog: warn: ...".
 * Warnings an outsider can make repeat (a guessed enrollment token, a
 * refused message) go through a rate limit (log_limited).
 */
#ifndef SP_LOG_H
#define SP_LOG_H

#include <stdbool.h>
#include <stdint.h>

#if defined(__GNUC__)
#define SP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SP_NORETURN __attribute__((noreturn))
#else
#define SP_PRINTF(f, a)
#define SP_NORETURN
#endif

/* Log levels; messages below the current level are dropped. */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
/* Sets the program name shown in every line and the minimum level, and
 * looks whether stderr is the journal (then lines carry priorities). */
void log_setup(const char *prog, enum log_level min);
/* Changes the minimum level (any thread, e.g. on a reload). */
void log_set_level(enum log_level min);
/* Whether lines carry syslog priorities (stderr is the journal). */
bool log_to_journal(void);
/* One line to stderr: "<prog>: <level>: <message>", or under the journal
 * "<P><level>: <message>". Never log a secret. */
void log_msg(enum log_level lvl, const char *fmt, ...) SP_PRINTF(2, 3);
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
/* Lines of routine work that should not delay a reply: log_msg_held
 * keeps its line in the calling thread's memory while the thread holds
 * (from log_hold to log_release), and they are written together at the
 * release (past 16 KiB as the buffer fills). Any other line goes out at
 * once, after the held ones, so the order is kept. The scheduler's core
 * holds during a turn and releases after the turn's replies: each
 * command's "admin: uid N: ..." line waits, no reply waits for it. Held
 * lines are lost if the process dies first (at most one turn's; with
 * log_release_batched, at most 100 ms of them). */
void log_msg_held(enum log_level lvl, const char *fmt, ...) SP_PRINTF(2, 3);
void log_hold(void);
void log_release(void);
/* Ends the hold like log_release, but writes the held lines only once
 * they are 4 KiB or the first of them has waited 100 ms (monotonic ms,
 * time_mono_ms): a thread that holds for many short turns (the
 * scheduler's core, one serial command a turn) writes its lines a few
 * dozen at a time rather than one system call a turn. The thread must
 * call it again, or log_release, by log_held_due_ms. Any line it logs
 * without holding writes the waiting ones first, so the order is kept;
 * a crash loses the waiting ones (at most 100 ms of them). */
void log_release_batched(int64_t now_ms);
/* When this thread's held lines are due (monotonic ms), INT64_MAX if it
 * holds none. */
int64_t log_held_due_ms(void);
/* log_release, and frees the thread's buffer (before the thread ends). */
void log_hold_end(void);
/* Logs at LOG_ERROR and returns -1, for "return error(...)". */
int error(const char *fmt, ...) SP_PRINTF(1, 2);
/* Logs "fatal: ..." and exits 1. Only for start-up failures in main(). */
void die(const char *fmt, ...) SP_PRINTF(1, 2) SP_NORETURN;

/* A rate limit for one repeated message (one per call site, used by one
 * thread): LOG_LIMIT_BURST lines per LOG_LIMIT_WINDOW_MS; the lines past
 * that are counted, and the count is told on the next line logged. Zero
 * it to start. */
#define LOG_LIMIT_BURST 10
#define LOG_LIMIT_WINDOW_MS 10000
struct log_limit {
	bool open;           /* a window has started */
	int64_t window_start; /* its start, monotonic ms */
	unsigned logged;     /* lines logged in it */
	uint64_t dropped;    /* lines not logged since the last one logged */
};
/* Whether a line at now_ms (monotonic) is logged; if so, *dropped gets the
 * number not logged before it (and the count restarts). */
bool log_limit_admit(struct log_limit *l, int64_t now_ms, uint64_t *dropped);
/* log_msg under the limit l; the first line after some were dropped ends
 * with "(N more like this not logged)". */
void log_limited(struct log_limit *l, enum log_level lvl, const char *fmt,
		 ...) SP_PRINTF(3, 4);

#endif
