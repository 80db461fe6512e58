/* tzone.c - TZif files (RFC 8536) and their POSIX TZ footers, read into a
 * value of the caller's; no localtime, no TZ, no global state. */
#include "tzone.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Bounds that keep a hostile file small and every sum in range. */
#define TZ_MAX_TRANS 10000
#define TZ_MAX_TYPES 256
#define TZ_MAX_CHARS 4096
#define TZ_MAX_LEAPS 10000
#define TZ_MAX_FILE (1 << 20)
/* Instants beyond 2^60 s (36 billion years) are clamped: a transition
 * there is refused, an argument there is moved to it, so that adding an
 * offset or a day's seconds can never overflow. */
#define TZ_LIMIT ((int64_t)1 << 60)
/* RFC 8536 section 3.2: utoff SHOULD be in -89999..93599. */
#define TZ_OFF_MIN (-89999)
#define TZ_OFF_MAX 93599
#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"

/* One end of daylight saving time in a POSIX TZ rule. */
struct tz_when {
	char kind;   /* 'J' (1-365, no Feb 29), 'n' (0-365), 'M' */
	int n;	     /* the day for 'J' and 'n' */
	int m, w, d; /* month, week 1-5 (5 = last), weekday for 'M' */
	int32_t time; /* seconds after local midnight, -167h..167h */
};

struct tz_rule {
	int32_t std_off, dst_off; /* local = utc + off */
	bool has_dst;
	struct tz_when start, end;
};

struct tzone {
	char name[TZONE_NAME_MAX + 1];
	size_t ntrans;
	int64_t *trans;	   /* ascending */
	uint8_t *idx;	   /* type of each transition */
	size_t ntypes;
	int32_t *offs;	   /* utoff of each type */
	bool has_rule;	   /* a footer, in force after the last transition */
	struct tz_rule rule;
};

#define fail err_fail

/* Calendar: Howard Hinnant's days_from_civil and civil_from_days, for the
 * proleptic Gregorian calendar, with floor division for negative years. */
int64_t tzone_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void tzone_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t z = days + 719468, era, doe, yoe, doy, mp;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int tzone_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday. */
	int64_t w = (days + 4) % 7;
	return (int)(w < 0 ? w + 7 : w);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int tzone_month_days(int64_t y, int m)
{
	static const int len[12] = { 31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };
	if (m < 1 || m > 12)
		return 0;
	return len[m - 1] + (m == 2 && is_leap(y));
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t clamp(int64_t t)
{
	return t < -TZ_LIMIT ? -TZ_LIMIT : t > TZ_LIMIT ? TZ_LIMIT : t;
}

/* ---- POSIX TZ strings (the footer) ---- */

struct tzs {
	const char *p, *end;
};

static int tzs_peek(const struct tzs *s)
{
	return s->p < s->end ? (unsigned char)*s->p : -1;
}

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* A zone abbreviation: 3 or more letters, or <...> of letters, digits,
 * '+' and '-'. */
static int tzs_name(struct tzs *s)
{
	const char *start = s->p;
	int c;

	if (tzs_peek(s) == '<') {
		s->p++;
		while ((c = tzs_peek(s)) != '>') {
			if (!is_alpha(c) && !is_digit(c) && c != '+' &&
			    c != '-')
				return -1;
			s->p++;
		}
		s->p++;
		return s->p - start >= 5 ? 0 : -1;
	}
	while (is_alpha(tzs_peek(s)))
		s->p++;
	return s->p - start >= 3 ? 0 : -1;
}

static int tzs_num(struct tzs *s, int max, int *out)
{
	int v = 0, n = 0;

	while (is_digit(tzs_peek(s))) {
		v = v * 10 + (*s->p++ - '0');
		if (++n > 3 || v > max)
			return -1;
	}
	if (n == 0)
		return -1;
	*out = v;
	return 0;
}

/* [+-]hh[:mm[:ss]] with hh at most max_h; seconds, signed. */
static int tzs_hms(struct tzs *s, int max_h, int32_t *out)
{
	int sign = 1, h, m = 0, sec = 0;

	if (tzs_peek(s) == '+' || tzs_peek(s) == '-')
		sign = *s->p++ == '-' ? -1 : 1;
	if (tzs_num(s, max_h, &h))
		return -1;
	if (tzs_peek(s) == ':') {
		s->p++;
		if (tzs_num(s, 59, &m))
			return -1;
		if (tzs_peek(s) == ':') {
			s->p++;
			if (tzs_num(s, 59, &sec))
				return -1;
		}
	}
	*out = sign * (h * 3600 + m * 60 + sec);
	return 0;
}

static int tzs_when(struct tzs *s, struct tz_when *w)
{
	int c = tzs_peek(s);

	memset(w, 0, sizeof(*w));
	if (c == 'J') {
		s->p++;
		w->kind = 'J';
		if (tzs_num(s, 365, &w->n) || w->n < 1)
			return -1;
	} else if (c == 'M') {
		s->p++;
		w->kind = 'M';
		if (tzs_num(s, 12, &w->m) || w->m < 1 ||
		    tzs_peek(s) != '.')
			return -1;
		s->p++;
		if (tzs_num(s, 5, &w->w) || w->w < 1 || tzs_peek(s) != '.')
			return -1;
		s->p++;
		if (tzs_num(s, 6, &w->d))
			return -1;
	} else {
		w->kind = 'n';
		if (tzs_num(s, 365, &w->n))
			return -1;
	}
	w->time = 2 * 3600;
	if (tzs_peek(s) == '/') {
		s->p++;
		/* RFC 8536 section 3.3.1: -167 to 167 hours. */
		if (tzs_hms(s, 167, &w->time))
			return -1;
	}
	return 0;
}

/* Parses a POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3". Its
 * offsets are west of Greenwich; ours are east. */
static int tz_parse_rule(const char *p, size_t len, struct tz_rule *r)
{
	struct tzs s = { p, p + len };
	int32_t off;

	memset(r, 0, sizeof(*r));
	if (tzs_name(&s) || tzs_hms(&s, 24, &off))
		return -1;
	r->std_off = r->dst_off = -off;
	if (s.p == s.end)
		return 0;
	if (tzs_name(&s))
		return -1;
	r->has_dst = true;
	r->dst_off = r->std_off + 3600;
	if (tzs_peek(&s) != ',' && s.p != s.end) {
		if (tzs_hms(&s, 24, &off))
			return -1;
		r->dst_off = -off;
	}
	if (s.p == s.end) {
		/* No rule: POSIX leaves it to the implementation; glibc
		 * and tzcode use the US rules. */
		static const char us[] = ",M3.2.0,M11.1.0";
		s.p = us;
		s.end = us + sizeof(us) - 1;
	}
	if (tzs_peek(&s) != ',')
		return -1;
	s.p++;
	if (tzs_when(&s, &r->start) || tzs_peek(&s) != ',')
		return -1;
	s.p++;
	if (tzs_when(&s, &r->end) || s.p != s.end)
		return -1;
	return 0;
}

/* The day (since the epoch) a rule's date falls on in year y. */
static int64_t tz_when_day(const struct tz_when *w, int64_t y)
{
	int64_t jan1 = tzone_days_from_civil(y, 1, 1), first;
	int day, mdays;

	if (w->kind == 'J')
		return jan1 + w->n - 1 + (is_leap(y) && w->n >= 60);
	if (w->kind == 'n')
		return jan1 + w->n;
	first = tzone_days_from_civil(y, w->m, 1);
	mdays = tzone_month_days(y, w->m);
	day = 1 + (w->d - tzone_weekday(first) + 7) % 7 + (w->w - 1) * 7;
	while (day > mdays)
		day -= 7;
	return first + day - 1;
}

/* The UTC instants daylight saving time starts and ends in year y. */
static void tz_rule_year(const struct tz_rule *r, int64_t y, int64_t *start,
			 int64_t *end)
{
	*start = tz_when_day(&r->start, y) * 86400 + r->start.time -
		 r->std_off;
	*end = tz_when_day(&r->end, y) * 86400 + r->end.time - r->dst_off;
}

static int64_t year_of(int64_t t)
{
	int64_t y;
	int m, d;

	tzone_civil_from_days(floor_div(t, 86400), &y, &m, &d);
	return y;
}

/* Walks the rule's changes in the years around t's, in order (an end
 * before a start at the same instant, so that a rule that is in daylight
 * time all year, "EST5EDT,0/0,J365/25", stays in it). Sets *dst
 * to the state at t and *next to the first change after t. */
static void tz_rule_scan(const struct tz_rule *r, int64_t t, bool *dst,
			 int64_t *next)
{
	int64_t y = year_of(t), ev[10];
	bool on[10];
	int n = 0;

	/* A change of year k falls within a week or so of year k (/time
	 * reaches 167 hours), and each kind of change moves on by about a
	 * year from one year to the next: so the last change at or before
	 * t is one of years y-2..y, the first after it one of y..y+2. */
	for (int64_t k = y - 2; k <= y + 2; k++) {
		int64_t s, e;
		tz_rule_year(r, k, &s, &e);
		ev[n] = e;
		on[n++] = false;
		ev[n] = s;
		on[n++] = true;
	}
	/* Insertion sort of 10, stable: ties keep end before start. */
	for (int i = 1; i < n; i++) {
		for (int j = i; j > 0 && (ev[j - 1] > ev[j] ||
					  (ev[j - 1] == ev[j] && on[j - 1] &&
					   !on[j]));
		     j--) {
			int64_t te = ev[j];
			bool to = on[j];
			ev[j] = ev[j - 1];
			on[j] = on[j - 1];
			ev[j - 1] = te;
			on[j - 1] = to;
		}
	}
	*dst = false;
	*next = INT64_MAX;
	for (int i = 0; i < n; i++) {
		if (ev[i] <= t) {
			*dst = on[i];
		} else {
			*next = ev[i];
			break;
		}
	}
}

static int32_t tz_rule_offset(const struct tz_rule *r, int64_t t)
{
	bool dst;
	int64_t next;

	if (!r->has_dst)
		return r->std_off;
	tz_rule_scan(r, t, &dst, &next);
	return dst ? r->dst_off : r->std_off;
}

/* ---- TZif ---- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_hdr {
	char version;
	size_t utcnt, stdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static int tzif_header(const uint8_t *p, size_t len, struct tzif_hdr *h,
		       const char **why)
{
	uint32_t c[6];

	if (len < 44) {
		*why = "truncated header";
		return -1;
	}
	if (memcmp(p, "TZif", 4)) {
		*why = "not a TZif file";
		return -1;
	}
	h->version = (char)p[4];
	if (h->version != 0 && (h->version < '2' || h->version > '4')) {
		*why = "unknown TZif version";
		return -1;
	}
	for (int i = 0; i < 6; i++)
		c[i] = be32(p + 20 + 4 * i);
	h->utcnt = c[0];
	h->stdcnt = c[1];
	h->leapcnt = c[2];
	h->timecnt = c[3];
	h->typecnt = c[4];
	h->charcnt = c[5];
	if (h->timecnt > TZ_MAX_TRANS || h->typecnt < 1 ||
	    h->typecnt > TZ_MAX_TYPES || h->charcnt > TZ_MAX_CHARS ||
	    h->leapcnt > TZ_MAX_LEAPS) {
		*why = "count out of range";
		return -1;
	}
	if ((h->utcnt && h->utcnt != h->typecnt) ||
	    (h->stdcnt && h->stdcnt != h->typecnt)) {
		*why = "bad isstdcnt or isutcnt";
		return -1;
	}
	return 0;
}

/* The size of a data block; the counts are capped, so it cannot wrap. */
static size_t tzif_block_len(const struct tzif_hdr *h, size_t tsize)
{
	return h->timecnt * (tsize + 1) + h->typecnt * 6 + h->charcnt +
	       h->leapcnt * (tsize + 4) + h->stdcnt + h->utcnt;
}

/* Reads a data block of tsize-byte times (4: version 1, 8: later) into
 * z. p holds at least tzif_block_len bytes. */
static int tzif_block(const uint8_t *p, const struct tzif_hdr *h,
		      size_t tsize, struct tzone *z, const char **why)
{
	const uint8_t *idx = p + h->timecnt * tsize;
	const uint8_t *types = idx + h->timecnt;

	z->ntrans = h->timecnt;
	z->ntypes = h->typecnt;
	z->trans = xcalloc(h->timecnt + 1, sizeof(*z->trans));
	z->idx = xcalloc(h->timecnt + 1, 1);
	z->offs = xcalloc(h->typecnt, sizeof(*z->offs));
	for (size_t i = 0; i < h->timecnt; i++) {
		int64_t t = tsize == 8 ? be64(p + 8 * i) :
					 (int32_t)be32(p + 4 * i);
		if (t < -TZ_LIMIT || t > TZ_LIMIT) {
			*why = "transition time out of range";
			return -1;
		}
		if (i && t <= z->trans[i - 1]) {
			*why = "transition times not ascending";
			return -1;
		}
		if (idx[i] >= h->typecnt) {
			*why = "transition type out of range";
			return -1;
		}
		z->trans[i] = t;
		z->idx[i] = idx[i];
	}
	for (size_t i = 0; i < h->typecnt; i++) {
		int32_t off = (int32_t)be32(types + 6 * i);
		if (off < TZ_OFF_MIN || off > TZ_OFF_MAX) {
			*why = "UT offset out of range";
			return -1;
		}
		if (types[6 * i + 4] > 1 || types[6 * i + 5] >= h->charcnt) {
			*why = "bad local time type";
			return -1;
		}
		z->offs[i] = off;
	}
	return 0;
}

/* A name as an error message shows it: one printable line. */
static void tz_shown(char *buf, size_t len, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < len && name[i]; i++)
		buf[i] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
	buf[i] = '\0';
}

/* The right/ zones count leap seconds in their times; a schedule's
 * minutes would be off by them, so such a file is refused rather than
 * read half right. */
static int tzif_leaps(const struct tzif_hdr *h, const char **why)
{
	if (!h->leapcnt)
		return 0;
	*why = "leap seconds (a right/ zone) are not supported";
	return -1;
}

static int tzif_parse(const uint8_t *buf, size_t len, struct tzone *z,
		      const char **why)
{
	struct tzif_hdr h;
	size_t blen;
	const uint8_t *foot, *nl;

	if (tzif_header(buf, len, &h, why))
		return -1;
	blen = tzif_block_len(&h, 4);
	if (len - 44 < blen) {
		*why = "truncated data";
		return -1;
	}
	if (h.version == 0) {
		if (tzif_leaps(&h, why))
			return -1;
		return tzif_block(buf + 44, &h, 4, z, why);
	}
	/* Version 2+: skip the 32-bit block, read the 64-bit one. */
	buf += 44 + blen;
	len -= 44 + blen;
	if (tzif_header(buf, len, &h, why))
		return -1;
	blen = tzif_block_len(&h, 8);
	if (len - 44 < blen) {
		*why = "truncated data";
		return -1;
	}
	if (tzif_leaps(&h, why) || tzif_block(buf + 44, &h, 8, z, why))
		return -1;
	foot = buf + 44 + blen;
	len -= 44 + blen;
	if (len == 0 || foot[0] != '\n' ||
	    !(nl = memchr(foot + 1, '\n', len - 1))) {
		*why = "missing footer";
		return -1;
	}
	if (nl == foot + 1)
		return 0; /* an empty footer: no rule */
	if (tz_parse_rule((const char *)foot + 1, (size_t)(nl - foot - 1),
			  &z->rule)) {
		*why = "bad TZ string in footer";
		return -1;
	}
	z->has_rule = true;
	return 0;
}

int tzone_parse(const uint8_t *buf, size_t len, const char *name,
		struct tzone **out, char *err, size_t errlen)
{
	struct tzone *z = xcalloc(1, sizeof(*z));
	const char *why = "";

	tz_shown(z->name, sizeof(z->name), name ? name : "");
	if (tzif_parse(buf, len, z, &why)) {
		fail(err, errlen, "time zone '%s': %s", z->name, why);
		tzone_free(z);
		return -1;
	}
	*out = z;
	return 0;
}

void tzone_free(struct tzone *z)
{
	if (!z)
		return;
	free(z->trans);
	free(z->idx);
	free(z->offs);
	free(z);
}

const char *tzone_name(const struct tzone *z)
{
	return z->name;
}

static bool tz_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > TZONE_NAME_MAX || name[0] == '/' ||
	    strstr(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)name[i];
		if (!is_alpha(c) && !is_digit(c) && !strchr("/_-+", c))
			return false;
	}
	return true;
}

static struct tzone *tz_utc(const char *name)
{
	struct tzone *z = xcalloc(1, sizeof(*z));

	tz_shown(z->name, sizeof(z->name), name);
	z->ntypes = 1;
	z->offs = xcalloc(1, sizeof(*z->offs));
	return z;
}

int tzone_load(const char *name, struct tzone **out, char *err,
	       size_t errlen)
{
	const char *dir = getenv("TZDIR");
	char path[4096];
	size_t len;
	uint8_t *buf;
	int rc;

	if (!name || !tz_name_ok(name)) {
		char shown[TZONE_NAME_MAX + 1];
		tz_shown(shown, sizeof(shown), name ? name : "");
		return fail(err, errlen, "bad time zone name '%s': letters, "
			    "digits, '/', '_', '-', '+', up to %d, and no "
			    "'..' or leading '/'", shown, TZONE_NAME_MAX);
	}
	if (!dir || !*dir)
		dir = TZ_DEFAULT_DIR;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf = (uint8_t *)read_file(path, TZ_MAX_FILE, &len);
	if (!buf) {
		/* UTC needs no file: a container without tzdata still
		 * runs schedules in UTC. */
		if (errno == ENOENT &&
		    (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC"))) {
			*out = tz_utc(name);
			return 0;
		}
		if (errno == ENOENT)
			return fail(err, errlen, "unknown time zone '%s': no "
				    "such file in %s", name, dir);
		return fail(err, errlen, "unknown time zone '%s': cannot "
			    "read %s: %s", name, path, strerror(errno));
	}
	rc = tzone_parse(buf, len, name, out, err, errlen);
	free(buf);
	return rc;
}

/* ---- offsets ---- */

int32_t tzone_offset(const struct tzone *z, int64_t utc_s)
{
	size_t lo = 0, hi = z->ntrans;

	utc_s = clamp(utc_s);
	if (z->ntrans == 0)
		return z->has_rule ? tz_rule_offset(&z->rule, utc_s) :
				     z->offs[0];
	if (utc_s < z->trans[0])
		return z->offs[0];
	/* The last transition at or before utc_s. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->trans[mid] <= utc_s)
			lo = mid;
		else
			hi = mid;
	}
	if (lo == z->ntrans - 1 && z->has_rule)
		return tz_rule_offset(&z->rule, utc_s);
	return z->offs[z->idx[lo]];
}

/* The first instant after t at which the offset may change (INT64_MAX:
 * never). */
static int64_t tz_next_change(const struct tzone *z, int64_t t)
{
	size_t lo = 0, hi = z->ntrans;
	bool dst;
	int64_t next;

	if (z->ntrans && t < z->trans[z->ntrans - 1]) {
		/* The first transition after t. */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (z->trans[mid] <= t)
				lo = mid + 1;
			else
				hi = mid;
		}
		return z->trans[lo];
	}
	if (!z->has_rule || !z->rule.has_dst)
		return INT64_MAX;
	tz_rule_scan(&z->rule, t, &dst, &next);
	return next;
}

/* Offsets are within about a day of UTC, so every instant whose local
 * time could be local_s lies within this much of it. */
#define TZ_WINDOW (27 * 3600)
/* Enough segments for any real zone within the window; a fuzzed file
 * with more just has the rest ignored. */
#define TZ_MAX_SEGS 64

int tzone_local_to_utc(const struct tzone *z, int64_t local_s,
		       int64_t out[2], int64_t *gap_end)
{
	int64_t s, e, u, stop;
	int32_t off;
	int n = 0;

	local_s = clamp(local_s);
	s = local_s - TZ_WINDOW;
	stop = local_s + TZ_WINDOW;
	*gap_end = INT64_MIN;
	/* Each stretch [s, e) of one offset holds at most one instant with
	 * this wall time: local_s - off, if it falls inside. */
	for (int i = 0; i < TZ_MAX_SEGS && s <= stop && n < 2; i++) {
		off = tzone_offset(z, s);
		e = tz_next_change(z, s);
		u = local_s - off;
		if (u >= s && u < e)
			out[n++] = u;
		else if (n == 0 && *gap_end == INT64_MIN && s + off > local_s)
			/* The wall clock is already past local_s where this
			 * stretch starts: the clocks skipped it. */
			*gap_end = s;
		if (e == INT64_MAX)
			break;
		s = e;
	}
	if (n == 0 && *gap_end == INT64_MIN)
		*gap_end = local_s - tzone_offset(z, local_s);
	return n;
}
