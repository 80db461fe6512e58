/*
 * diagnose.c - classifying a failed Spark run from its driver output.
 *
 * Every line goes through one pass that looks for all signatures at once:
 * two 256-entry tables give, for a pair of adjacent bytes, the set of
 * signatures (bits of a uint64_t) that can start there, so an ordinary
 * INFO line costs two table loads and an AND per byte and almost never
 * reaches a comparison. The rules that pick among matches are in
 * diagnose.h.
 */
#include "diagnose.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "redact.h"
#include "strbuf.h"
#include "util.h"

/* ---- signatures ---- */

enum needle_kind {
	N_CAT,	     /* a category's signature */
	N_FINAL,     /* marks the report of the final failure */
	N_DIAG,	     /* YARN "diagnostics: " (final once the app ended) */
	N_STATE,     /* YARN "(state: X)" */
	N_PHASE,     /* Kubernetes "(phase: X)" */
	N_TRACEBACK, /* a Python traceback starts (python_error too) */
};

/* Returns the category a match at `at` stands for, or -1 for none. */
typedef int verify_fn(const char *s, size_t len, size_t at);

struct needle {
	const char *s;
	unsigned char len;
	unsigned char kind;
	bool nocase;
	signed char cat;
	verify_fn *verify;
};

static const char *find(const char *s, size_t len, const char *what)
{
	return memmem(s, len, what, strlen(what));
}

static bool has_at(const char *s, size_t len, size_t at, const char *what)
{
	size_t n = strlen(what);
	return at <= len && len - at >= n && !memcmp(s + at, what, n);
}

/* Skips the digits at s[*at]; false if there were none. */
static bool skip_digits(const char *s, size_t len, size_t *at, bool dots)
{
	size_t start = *at;
	while (*at < len &&
	       (isdigit((unsigned char)s[*at]) || (dots && s[*at] == '.')))
		(*at)++;
	return *at > start;
}

static bool digit_at(const char *s, size_t len, size_t at)
{
	return at < len && isdigit((unsigned char)s[at]);
}

#define OOM "java.lang.OutOfMemoryError"
static int verify_oom(const char *s, size_t len, size_t at)
{
	static const char main_thread[] = "in thread \"main\" ";
	size_t after = at + sizeof(OOM) - 1;

	if (at >= sizeof(main_thread) - 1 &&
	    !memcmp(s + at - (sizeof(main_thread) - 1), main_thread,
		    sizeof(main_thread) - 1))
		return DIAGNOSE_DRIVER_OOM;
	if (has_at(s, len, after, ": Java heap space") ||
	    has_at(s, len, after, ": GC overhead limit exceeded"))
		return DIAGNOSE_EXECUTOR_OOM;
	return -1;
}

#define YARN_KILL "Container killed by YARN for exceeding "
static int verify_yarn_kill(const char *s, size_t len, size_t at)
{
	size_t after = at + sizeof(YARN_KILL) - 1;
	if (has_at(s, len, after, "memory limits") ||
	    has_at(s, len, after, "physical memory limits") ||
	    has_at(s, len, after, "virtual memory limits"))
		return DIAGNOSE_YARN_MEMORY_KILL;
	return -1;
}

/* "exit code: N" of the Kubernetes driver's final status. */
static int verify_exit_code(const char *s, size_t len, size_t at)
{
	size_t p = at + 11, start = p;
	if (!skip_digits(s, len, &p, false) || p - start != 3)
		return -1;
	if (!memcmp(s + start, "137", 3))
		return DIAGNOSE_K8S_OOMKILLED;
	if (!memcmp(s + start, "101", 3))
		return DIAGNOSE_CLASS_NOT_FOUND;
	return -1;
}

static int verify_403(const char *s, size_t len, size_t at)
{
	return digit_at(s, len, at + 16) ? -1 : DIAGNOSE_S3_ACCESS_DENIED;
}

static int verify_minus_100(const char *s, size_t len, size_t at)
{
	return digit_at(s, len, at + 17) ? -1 : DIAGNOSE_NODE_LOST;
}

/* A FileNotFoundException on Spark's own local files (blockmgr-*,
 * shuffle_*) means lost shuffle output, not missing input. Only the path
 * after the match is searched, so that a line of many matches stays
 * linear. */
static int verify_file_not_found(const char *s, size_t len, size_t at)
{
	size_t n = len - at < 512 ? len - at : 512;
	if (find(s + at, n, "blockmgr-") || find(s + at, n, "shuffle_"))
		return -1;
	return DIAGNOSE_INPUT_MISSING;
}

/* Routine on INFO lines (scale-down) and in config keys. */
static int verify_decommission(const char *s, size_t len, size_t at)
{
	if (at > 0 && s[at - 1] == '.')
		return -1;
	if (find(s, len < 48 ? len : 48, " INFO "))
		return -1;
	return DIAGNOSE_NODE_LOST;
}

#define HEARTBEATS "no recent heartbeats: "
static int verify_heartbeats(const char *s, size_t len, size_t at)
{
	size_t p = at + sizeof(HEARTBEATS) - 1;
	if (skip_digits(s, len, &p, false) &&
	    has_at(s, len, p, " ms exceeds timeout"))
		return DIAGNOSE_HEARTBEAT_TIMEOUT;
	return -1;
}

/* Task \d+ in stage [\d.]+ failed \d+ times */
static int verify_task_failed(const char *s, size_t len, size_t at)
{
	size_t p = at + 5;
	if (skip_digits(s, len, &p, false) && has_at(s, len, p, " in stage ") &&
	    (p += 10, skip_digits(s, len, &p, true)) &&
	    has_at(s, len, p, " failed ") &&
	    (p += 8, skip_digits(s, len, &p, false)) &&
	    has_at(s, len, p, " times"))
		return DIAGNOSE_STAGE_RETRIES_EXHAUSTED;
	return -1;
}

#define N(str, kind, nocase, cat, verify)                                      \
	{                                                                      \
		str, sizeof(str) - 1, kind, nocase, cat, verify                \
	}
#define CAT(str, cat) N(str, N_CAT, false, cat, NULL)
#define CATV(str, verify) N(str, N_CAT, false, -1, verify)

static const struct needle needles[] = {
	CATV(OOM, verify_oom),
	CAT("bigger than spark.driver.maxResultSize", DIAGNOSE_DRIVER_OOM),
	CATV(YARN_KILL, verify_yarn_kill),
	CAT("running beyond physical memory limits", DIAGNOSE_YARN_MEMORY_KILL),
	CAT("running beyond virtual memory limits", DIAGNOSE_YARN_MEMORY_KILL),
	N("termination reason: OOMKilled", N_CAT, true, DIAGNOSE_K8S_OOMKILLED,
	  NULL),
	N("exit code: ", N_CAT, true, -1, verify_exit_code),
	CAT("exit code 137(SIGKILL", DIAGNOSE_K8S_OOMKILLED),
	CAT("AccessDenied", DIAGNOSE_S3_ACCESS_DENIED),
	CAT("Access Denied", DIAGNOSE_S3_ACCESS_DENIED),
	CATV("Status Code: 403", verify_403),
	CAT("ExpiredToken", DIAGNOSE_CREDENTIALS_EXPIRED),
	CAT("InvalidAccessKeyId", DIAGNOSE_CREDENTIALS_EXPIRED),
	CAT("SignatureDoesNotMatch", DIAGNOSE_CREDENTIALS_EXPIRED),
	CAT("ClassNotFoundException", DIAGNOSE_CLASS_NOT_FOUND),
	CAT("NoClassDefFoundError", DIAGNOSE_CLASS_NOT_FOUND),
	CAT("Failed to load class", DIAGNOSE_CLASS_NOT_FOUND),
	CAT("NoSuchMethodError", DIAGNOSE_VERSION_CONFLICT),
	CAT("AbstractMethodError", DIAGNOSE_VERSION_CONFLICT),
	CAT("IncompatibleClassChangeError", DIAGNOSE_VERSION_CONFLICT),
	CAT("Path does not exist:", DIAGNOSE_INPUT_MISSING),
	CATV("java.io.FileNotFoundException", verify_file_not_found),
	CAT("NoSuchKey", DIAGNOSE_INPUT_MISSING),
	CAT("FetchFailedException", DIAGNOSE_SHUFFLE_FETCH_FAILED),
	CAT("Py4JJavaError", DIAGNOSE_PYTHON_ERROR),
	CAT("PythonException", DIAGNOSE_PYTHON_ERROR),
	N("Traceback (most recent call last)", N_TRACEBACK, false,
	  DIAGNOSE_PYTHON_ERROR, NULL),
	CAT("No space left on device", DIAGNOSE_DISK_FULL),
	CAT("Container released on a *lost* node", DIAGNOSE_NODE_LOST),
	CATV("Exit status: -100", verify_minus_100),
	N("decommission", N_CAT, true, -1, verify_decommission),
	CATV(HEARTBEATS, verify_heartbeats),
	CAT("Executor heartbeat timed out after", DIAGNOSE_HEARTBEAT_TIMEOUT),
	CAT("RpcTimeoutException", DIAGNOSE_RPC_TIMEOUT),
	CAT("Futures timed out after", DIAGNOSE_RPC_TIMEOUT),
	CAT("Could not execute broadcast in", DIAGNOSE_RPC_TIMEOUT),
	CAT("Initial job has not accepted any resources",
	    DIAGNOSE_NO_RESOURCES),
	CATV("Task ", verify_task_failed),
	N("Exception in thread \"main\"", N_FINAL, false, -1, NULL),
	N("Job aborted", N_FINAL, false, -1, NULL),
	N("User class threw exception", N_FINAL, false, -1, NULL),
	N("Application diagnostics message", N_FINAL, false, -1, NULL),
	N("Container final statuses", N_FINAL, false, -1, NULL),
	N("diagnostics: ", N_DIAG, false, -1, NULL),
	N("(state: ", N_STATE, false, -1, NULL),
	N("(phase: ", N_PHASE, false, -1, NULL),
};

_Static_assert(ARRAY_SIZE(needles) <= 64, "needle sets are uint64_t");

/* first[c] / second[c]: the needles whose first / second byte is c. */
static uint64_t first_byte[256], second_byte[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void add_byte(uint64_t *table, unsigned char c, bool nocase,
		     uint64_t bit)
{
	table[c] |= bit;
	if (nocase) {
		table[(unsigned char)tolower(c)] |= bit;
		table[(unsigned char)toupper(c)] |= bit;
	}
}

static void build_tables(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(needles); i++) {
		const struct needle *n = &needles[i];
		add_byte(first_byte, (unsigned char)n->s[0], n->nocase,
			 1ULL << i);
		add_byte(second_byte, (unsigned char)n->s[1], n->nocase,
			 1ULL << i);
	}
}

static bool same_nocase(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)a[i]) !=
		    tolower((unsigned char)b[i]))
			return false;
	return true;
}

/* ---- the diagnoser ---- */

struct candidate {
	uint64_t line_no; /* 0: none */
	unsigned char weight;
	char text[DIAGNOSE_LINE_MAX];
};

struct diagnoser {
	uint64_t nlines;
	struct candidate cand[DIAGNOSE_NCATEGORIES];
	unsigned char record_weight; /* of the log record being continued */
	bool in_traceback;	     /* waiting for its exception line */
	bool app_ended;		     /* YARN FINISHED, FAILED or KILLED */
	/* waiting for resources: ACCEPTED / Pending reports in a row */
	bool waiting;
	uint64_t wait_reports;
	int64_t wait_first_s, wait_last_s; /* -1: untimed */
	struct candidate wait_line;
	unsigned wait_min_seconds, wait_min_reports;
	bool exited;
	int wait_status;
	/* diagnose_fallback: decides when the lines do not */
	int fallback;
	char fallback_line[DIAGNOSE_LINE_MAX];
	struct diagnosis result;
	/* kept across resets: the built-in redaction rules, and a line
	 * redacted before a window of it is cut */
	struct redactor *red;
	struct strbuf red_line;
};

/* What one pass over a line found. */
struct scan {
	int spec, wrap; /* categories, -1 none */
	size_t spec_at, wrap_at;
	bool final, diag, traceback;
	size_t state_at, phase_at; /* offsets of the state word, or NONE */
};

#define NONE SIZE_MAX

static bool refines(int a, int b)
{
	return a == DIAGNOSE_CREDENTIALS_EXPIRED &&
	       b == DIAGNOSE_S3_ACCESS_DENIED;
}

/* Scanning goes left to right, so a later match is further right. */
static void scan_take(struct scan *sc, int cat, size_t at)
{
	if (diagnose_category_wrapper(cat)) {
		/* python_error is the nearer cause of a stage failure */
		if (sc->wrap < 0 || cat == DIAGNOSE_PYTHON_ERROR ||
		    sc->wrap == cat) {
			sc->wrap = cat;
			sc->wrap_at = at;
		}
		return;
	}
	if (sc->spec >= 0 && refines(sc->spec, cat))
		return;
	sc->spec = cat;
	sc->spec_at = at;
}

static void scan_match(struct scan *sc, const struct needle *n, const char *s,
		       size_t len, size_t at)
{
	int cat = n->cat;

	if (n->verify && (cat = n->verify(s, len, at)) < 0)
		return;
	switch (n->kind) {
	case N_TRACEBACK:
		sc->traceback = true;
		/* fall through */
	case N_CAT:
		scan_take(sc, cat, at);
		break;
	case N_FINAL:
		sc->final = true;
		break;
	case N_DIAG:
		sc->diag = !has_at(s, len, at + n->len, "N/A");
		break;
	case N_STATE:
		sc->state_at = at + n->len;
		break;
	case N_PHASE:
		sc->phase_at = at + n->len;
		break;
	}
}

static void scan_line(struct scan *sc, const char *s, size_t len)
{
	memset(sc, 0, sizeof(*sc));
	sc->spec = sc->wrap = -1;
	sc->state_at = sc->phase_at = NONE;
	for (size_t i = 0; i + 1 < len; i++) {
		uint64_t m = first_byte[(unsigned char)s[i]] &
			     second_byte[(unsigned char)s[i + 1]];
		while (m) {
			const struct needle *n = &needles[__builtin_ctzll(m)];
			m &= m - 1;
			if (len - i < n->len)
				continue;
			if (n->nocase ? same_nocase(s + i, n->s, n->len)
				      : !memcmp(s + i, n->s, n->len))
				scan_match(sc, n, s, len, i);
		}
	}
}

/* ---- the deciding line, made safe to show ---- */

/* Length of a valid UTF-8 sequence at p (2..4), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (p[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* Copies s[0..len) into out (room bytes, > 4) as printable UTF-8;
 * stops before a character that does not fit. Returns bytes written. */
static size_t copy_clean(char *out, size_t room, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, i = 0, n;

	while (i < len && o < room) {
		if (p[i] < 0x80) {
			out[o++] =
				p[i] < 0x20 || p[i] == 0x7f ? ' ' : (char)p[i];
			i++;
		} else if ((n = utf8_seq(p + i, len - i)) == 0) {
			out[o++] = '?';
			i++;
		} else if (o + n <= room) {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		} else {
			break;
		}
	}
	return o;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0';
}

/* Bytes of a long line kept after the start of its signature. */
#define SHOWN_AFTER 120

/* The trimmed line, or a window of it around offset at, with "..."
 * where it was cut. */
static void excerpt(char *out, const char *s, size_t len, size_t at)
{
	const size_t max = DIAGNOSE_LINE_MAX - 1;
	size_t start = 0, o = 0, copied;

	while (start < len && is_blank(s[start]))
		start++;
	while (len > start && is_blank(s[len - 1]))
		len--;
	/* too long and the signature (+ some context) past the cut: move
	 * the window just far enough to show it */
	if (len - start > max && at + SHOWN_AFTER > start + max - 3) {
		start = at + SHOWN_AFTER - (max - 6);
		if (start > at)
			start = at;
		while (start < at && ((unsigned char)s[start] & 0xc0) == 0x80)
			start++; /* not in the middle of a character */
		memcpy(out, "...", 3);
		o = 3;
	}
	copied = copy_clean(out + o, max - o, s + start, len - start);
	if (copied < len - start) {
		size_t end = o + copied, cut = end > max - 3 ? max - 3 : end;
		while (cut > o && cut < end &&
		       ((unsigned char)out[cut] & 0xc0) == 0x80)
			cut--; /* cut before a whole character */
		memcpy(out + cut, "...", 3);
		o = cut + 3;
	} else {
		o += copied;
	}
	out[o] = '\0';
}

/* The excerpt of a line is cut from the line redacted whole: a window
 * cut first could show a secret whose key name it left out. at is where
 * category cat's signature is (-1: none, the window starts the line). */
static void redacted_excerpt(struct diagnoser *d, char *out, int cat,
			     const char *s, size_t len, size_t at)
{
	struct scan sc;

	strbuf_reset(&d->red_line);
	if (redact_line(d->red, NULL, s, len, &d->red_line)) {
		s = d->red_line.buf;
		len = d->red_line.len;
		/* the signature moved with the text before it */
		scan_line(&sc, s, len);
		at = cat >= 0 && sc.spec == cat	  ? sc.spec_at
		     : cat >= 0 && sc.wrap == cat ? sc.wrap_at
						  : 0;
	}
	excerpt(out, s, len, at);
}

static void keep(struct diagnoser *d, int cat, unsigned char weight,
		 const char *s, size_t len, size_t at)
{
	struct candidate *c = &d->cand[cat];
	if (c->line_no && weight < c->weight)
		return;
	c->line_no = d->nlines;
	c->weight = weight;
	redacted_excerpt(d, c->text, cat, s, len, at);
}

/* ---- line context: records, weights, traceback, waiting ---- */

enum line_kind { L_BLANK, L_NEW, L_CONT };

static bool timestamp_at(const char *s, size_t len, const char *shape)
{
	size_t n = strlen(shape);
	if (len < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i])
				    : (shape[i] != '?' && s[i] != shape[i]))
			return false;
	return true;
}

#define SPARK_TS "dd/dd/dd dd:dd:dd"
#define ISO_TS "dddd-dd-dd?dd:dd:dd"

/* Seconds of the line's leading timestamp, or -1 if it has none. */
static int64_t line_time(const char *s, size_t len)
{
	char buf[20];
	struct tm tm = {0};
	const char *fmt = timestamp_at(s, len, SPARK_TS) ? "%y/%m/%d %H:%M:%S"
			  : timestamp_at(s, len, ISO_TS) ? "%Y-%m-%d%n%H:%M:%S"
							 : NULL;
	if (!fmt)
		return -1;
	memcpy(buf, s, sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	if (!strptime(buf, fmt, &tm))
		return -1;
	return (int64_t)timegm(&tm);
}

static bool starts(const char *s, size_t len, const char *what)
{
	return has_at(s, len, 0, what);
}

/* Whether a line starts a log record or continues the one before (stack
 * frames, "Caused by:", the throwable log4j prints under its message). */
static enum line_kind line_kind(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && is_blank(s[i]))
		i++;
	if (i == len)
		return L_BLANK;
	if (i > 0)
		return L_CONT;
	if (timestamp_at(s, len, SPARK_TS) || timestamp_at(s, len, ISO_TS) ||
	    starts(s, len, "Exception in thread") ||
	    starts(s, len, "Error: ") ||
	    starts(s, len, "Traceback (most recent call last)"))
		return L_NEW;
	return L_CONT;
}

/* The weight the line's own content gives it. */
static unsigned char own_weight(const struct diagnoser *d,
				const struct scan *sc, const char *s,
				size_t len)
{
	if (sc->final || (sc->diag && d->app_ended) ||
	    starts(s, len, "Error: ") ||
	    starts(s, len, "Traceback (most recent call last)"))
		return 2;
	if (find(s, len < 48 ? len : 48, " ERROR "))
		return 1;
	return 0;
}

static bool word_is(const char *s, size_t len, size_t at, const char *word)
{
	size_t n = strlen(word);
	return at != NONE && has_at(s, len, at, word) &&
	       (len - at == n || !isalpha((unsigned char)s[at + n]));
}

/* A state report: a run of ACCEPTED/Pending reports is a wait. */
static void track_state(struct diagnoser *d, const struct scan *sc,
			const char *s, size_t len)
{
	bool wait;
	int64_t t;

	if (sc->state_at != NONE)
		d->app_ended = word_is(s, len, sc->state_at, "FINISHED") ||
			       word_is(s, len, sc->state_at, "FAILED") ||
			       word_is(s, len, sc->state_at, "KILLED");
	wait = word_is(s, len, sc->state_at, "ACCEPTED") ||
	       word_is(s, len, sc->phase_at, "Pending");
	if (!wait) {
		d->waiting = false;
		return;
	}
	t = line_time(s, len);
	if (!d->waiting) {
		d->waiting = true;
		d->wait_reports = 0;
		d->wait_first_s = t;
	}
	d->wait_reports++;
	d->wait_last_s = t;
	if (d->wait_first_s < 0)
		d->wait_first_s = t;
	d->wait_line.line_no = d->nlines;
	redacted_excerpt(d, d->wait_line.text, -1, s, len, 0);
}

/* After "Traceback (most recent call last):", the first line that is not
 * indented names the Python exception: "KeyError: 'id'". */
static bool python_exception_line(struct diagnoser *d, const char *s,
				  size_t len, enum line_kind kind)
{
	if (!d->in_traceback || kind == L_BLANK)
		return false;
	if (kind == L_NEW) {
		d->in_traceback = false;
		return false;
	}
	if (is_blank(s[0]) ||
	    starts(s, len, "During handling of the above exception") ||
	    starts(s, len, "The above exception was the direct cause"))
		return false;
	d->in_traceback = false;
	return true;
}

void diagnose_line(struct diagnoser *d, const char *line, size_t len)
{
	struct scan sc;
	enum line_kind kind;
	unsigned char w;

	if (!line)
		len = 0;
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	d->nlines++;
	kind = line_kind(line, len);
	if (kind == L_BLANK)
		return;
	scan_line(&sc, line, len);
	if (sc.state_at != NONE || sc.phase_at != NONE)
		track_state(d, &sc, line, len);
	w = own_weight(d, &sc, line, len);
	if (kind == L_NEW) {
		d->record_weight = w;
		d->in_traceback = false;
	} else if (w > d->record_weight) {
		d->record_weight = w;
	}
	if (python_exception_line(d, line, len, kind) && sc.spec < 0) {
		sc.wrap = DIAGNOSE_PYTHON_ERROR;
		sc.wrap_at = 0;
	}
	if (sc.traceback)
		d->in_traceback = true;
	if (sc.spec >= 0)
		keep(d, sc.spec, d->record_weight, line, len, sc.spec_at);
	if (sc.wrap >= 0)
		keep(d, sc.wrap, d->record_weight, line, len, sc.wrap_at);
}

void diagnose_exit(struct diagnoser *d, int wait_status)
{
	d->exited = true;
	d->wait_status = wait_status;
}

/* ---- the verdict ---- */

/* By the log's own clock when the reports carry timestamps; counting
 * reports otherwise, as their interval is unknown. */
static bool waited_too_long(const struct diagnoser *d)
{
	if (!d->waiting)
		return false;
	if (d->wait_first_s >= 0 && d->wait_min_seconds)
		return d->wait_last_s - d->wait_first_s >=
		       (int64_t)d->wait_min_seconds;
	return d->wait_min_reports && d->wait_reports >= d->wait_min_reports;
}

/* The specific category with the heaviest, then latest, line; if none,
 * the preferred wrapper; -1 if nothing matched at all. */
static int best_candidate(const struct diagnoser *d)
{
	int best = -1;
	for (int c = 1; c < DIAGNOSE_NCATEGORIES; c++) {
		const struct candidate *k = &d->cand[c], *b;
		if (!k->line_no || diagnose_category_wrapper(c))
			continue;
		b = best < 0 ? NULL : &d->cand[best];
		if (!b || k->weight > b->weight ||
		    (k->weight == b->weight && k->line_no > b->line_no))
			best = c;
	}
	if (best < 0 && d->cand[DIAGNOSE_PYTHON_ERROR].line_no)
		best = DIAGNOSE_PYTHON_ERROR;
	if (best < 0 && d->cand[DIAGNOSE_STAGE_RETRIES_EXHAUSTED].line_no)
		best = DIAGNOSE_STAGE_RETRIES_EXHAUSTED;
	return best;
}

static void set_result(struct diagnosis *r, int cat,
		       const struct candidate *from, const char *text)
{
	r->id = (enum diagnose_category)cat;
	r->category = diagnose_category_name(cat);
	r->hint = diagnose_category_hint(cat);
	r->retryable = diagnose_retryable(r->category);
	r->line_no = from ? from->line_no : 0;
	snprintf(r->line, sizeof(r->line), "%s", from ? from->text : text);
}

const struct diagnosis *diagnose_result(struct diagnoser *d)
{
	const struct candidate *cnf = &d->cand[DIAGNOSE_CLASS_NOT_FOUND];
	int best;

	if (d->exited && WIFEXITED(d->wait_status) &&
	    WEXITSTATUS(d->wait_status) == 101)
		set_result(&d->result, DIAGNOSE_CLASS_NOT_FOUND,
			   cnf->line_no ? cnf : NULL,
			   "spark-submit exited with status 101");
	else if (waited_too_long(d))
		set_result(&d->result, DIAGNOSE_NO_RESOURCES, &d->wait_line,
			   NULL);
	else if ((best = best_candidate(d)) >= 0)
		set_result(&d->result, best, &d->cand[best], NULL);
	else if (d->fallback > 0)
		set_result(&d->result, d->fallback, NULL, d->fallback_line);
	else
		set_result(&d->result, DIAGNOSE_UNKNOWN, NULL, "");
	return &d->result;
}

/* ---- life cycle and the category list ---- */

struct diagnoser *diagnoser_new(void)
{
	struct diagnoser *d = xcalloc(1, sizeof(*d));
	pthread_once(&tables_once, build_tables);
	d->wait_min_seconds = DIAGNOSE_WAIT_SECONDS;
	d->wait_min_reports = DIAGNOSE_WAIT_REPORTS;
	d->red = redactor_new();
	strbuf_init(&d->red_line, 0);
	diagnoser_reset(d);
	return d;
}

void diagnoser_free(struct diagnoser *d)
{
	if (!d)
		return;
	redactor_free(d->red);
	strbuf_release(&d->red_line);
	free(d);
}

void diagnoser_reset(struct diagnoser *d)
{
	unsigned seconds = d->wait_min_seconds, reports = d->wait_min_reports;
	struct redactor *red = d->red;
	struct strbuf line = d->red_line;

	memset(d, 0, sizeof(*d));
	d->wait_min_seconds = seconds;
	d->wait_min_reports = reports;
	d->wait_first_s = d->wait_last_s = -1;
	d->red = red;
	d->red_line = line;
}

void diagnose_fallback(struct diagnoser *d, enum diagnose_category c,
		       const char *line)
{
	size_t n = 0;

	if (c <= DIAGNOSE_UNKNOWN || c >= DIAGNOSE_NCATEGORIES)
		return;
	d->fallback = (int)c;
	/* the same cleanliness as a deciding line: printable, one line */
	for (; line && line[n] && n + 1 < sizeof(d->fallback_line); n++)
		d->fallback_line[n] = (unsigned char)line[n] < 0x20 ||
					      (unsigned char)line[n] == 0x7f
				      ? ' '
				      : line[n];
	d->fallback_line[n] = '\0';
}

void diagnose_set_wait_limits(struct diagnoser *d, unsigned seconds,
			      unsigned reports)
{
	d->wait_min_seconds = seconds;
	d->wait_min_reports = reports;
}
