/* log.c - lines on stderr with a level; syslog priorities under the
 * journal; a rate limit for messages an outsider can repeat. */
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static const char *log_prog = "sparkpilot";
/* read by every thread, changed by a reload */
static _Atomic int log_min = LOG_INFO;
static bool log_journal;

/* systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected
 * to stderr; the variable alone is not enough (a child may have inherited
 * it with stderr redirected), the fd must be that stream. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (!js || sscanf(js, "%llu:%llu%c", &dev, &ino, &end) != 2)
		return false;
	if (fstat(2, &st))
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void log_setup(const char *prog, enum log_level min)
{
	log_prog = prog;
	log_min = min;
	log_journal = stderr_is_journal();
}

void log_set_level(enum log_level min)
{
	log_min = min;
}

bool log_to_journal(void)
{
	return log_journal;
}

/* syslog(3) priorities: LOG_DEBUG 7, LOG_INFO 6, LOG_WARNING 4, LOG_ERR
 * 3; a fatal start-up error is LOG_CRIT, 2. */
static const char *const names[] = { "debug", "info", "warn", "error" };
static const int priorities[] = { 7, 6, 4, 3 };

/* The lines of a thread between log_hold and log_release (and, after
 * log_release_batched, those not due yet). */
static _Thread_local struct {
	bool on;
	char *buf;
	size_t n;
	int64_t first_ms; /* when the first of them was held (monotonic) */
} held;
#define HELD_CAP 16384
/* log_release_batched writes the held lines once they are this many
 * bytes, or once the first has waited this long */
#define BATCH_BYTES 4096
#define BATCH_MS 100

void log_hold(void)
{
	if (!held.buf)
		held.buf = xmalloc(HELD_CAP);
	held.on = true;
}

static void write_held(void)
{
	if (held.n)
		(void)!write(2, held.buf, held.n);
	held.n = 0;
}

void log_release(void)
{
	write_held();
	held.on = false;
}

void log_release_batched(int64_t now_ms)
{
	held.on = false;
	if (held.n >= BATCH_BYTES || now_ms >= held.first_ms + BATCH_MS)
		write_held();
}

int64_t log_held_due_ms(void)
{
	return held.n ? held.first_ms + BATCH_MS : INT64_MAX;
}

void log_hold_end(void)
{
	log_release();
	free(held.buf);
	held.buf = NULL;
}

/* Appends s to line[0..at), at most up to cap; returns the new end. */
static size_t put(char *line, size_t at, size_t cap, const char *s)
{
	size_t n = strnlen(s, cap - at);
	memcpy(line + at, s, n);
	return at + n;
}

/* "<PRIORITY>LEVEL: MSG" for the journal, else "PROG: LEVEL: MSG", cut
 * at 2046 bytes, then a newline: copied, not formatted (an admin
 * command's line is on the path to its reply). One write per line (or
 * per batch of whole lines) so concurrent threads never interleave. A
 * line to hold waits in the thread's buffer while it holds; any other
 * goes out at once, after the held ones. */
static void emit(int priority, const char *level, const char *msg,
		 bool hold)
{
	char line[2048];
	const size_t cap = sizeof(line) - 2;
	size_t n = 0;

	if (log_journal) { /* a syslog priority: one digit, 0 to 7 */
		line[n++] = '<';
		line[n++] = (char)('0' + priority);
		line[n++] = '>';
	} else {
		n = put(line, n, cap, log_prog);
		n = put(line, n, cap, ": ");
	}
	n = put(line, n, cap, level);
	n = put(line, n, cap, ": ");
	n = put(line, n, cap, msg);
	line[n++] = '\n';
	hold = hold && held.on;
	if (!hold && !held.n) {
		(void)!write(2, line, n);
		return;
	}
	if (held.n + n > HELD_CAP)
		write_held();
	if (!held.n)
		held.first_ms = time_mono_ms();
	memcpy(held.buf + held.n, line, n);
	held.n += n;
	if (!hold)
		write_held();
}

static void log_v(enum log_level lvl, bool hold, const char *fmt,
		  va_list ap)
{
	char msg[2048];

	if ((int)lvl < log_min)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	emit(priorities[lvl], names[lvl], msg, hold);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v(lvl, false, fmt, ap);
	va_end(ap);
}

void log_msg_held(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v(lvl, true, fmt, ap);
	va_end(ap);
}

int error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v(LOG_ERROR, false, fmt, ap);
	va_end(ap);
	return -1;
}

void die(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(2, "fatal", msg, false);
	exit(1);
}

bool log_limit_admit(struct log_limit *l, int64_t now_ms, uint64_t *dropped)
{
	if (!l->open || now_ms - l->window_start >= LOG_LIMIT_WINDOW_MS) {
		l->open = true;
		l->window_start = now_ms;
		l->logged = 0;
	}
	if (l->logged >= LOG_LIMIT_BURST) {
		l->dropped++;
		return false;
	}
	l->logged++;
	*dropped = l->dropped;
	l->dropped = 0;
	return true;
}

void log_limited(struct log_limit *l, enum log_level lvl, const char *fmt,
		 ...)
{
	char msg[1900];
	uint64_t dropped;
	va_list ap;

	if ((int)lvl < log_min || !log_limit_admit(l, time_mono_ms(), &dropped))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (dropped)
		log_msg(lvl, "%s (%" PRIu64 " more like this not logged)", msg,
			dropped);
	else
		log_msg(lvl, "%s", msg);
}
