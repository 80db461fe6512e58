/* cron.c - five-field cron expressions and their next firing in a time
 * zone. The search walks wall-clock fields (month, day, hour, minute),
 * jumping to the next value each field allows, and maps each candidate
 * to UTC with tzone_local_to_utc. */
#include "cron.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util.h"

enum cron_field { F_MIN, F_HOUR, F_MDAY, F_MON, F_WDAY, F_COUNT };

static const struct {
	const char *name;
	int lo, hi;
} fields[F_COUNT] = {
	{ "minute", 0, 59 },	 { "hour", 0, 23 }, { "day-of-month", 1, 31 },
	{ "month", 1, 12 },	 { "day-of-week", 0, 7 },
};

static const char *const month_names[] = { "jan", "feb", "mar", "apr",
					   "may", "jun", "jul", "aug",
					   "sep", "oct", "nov", "dec" };
static const char *const wday_names[] = { "sun", "mon", "tue", "wed",
					  "thu", "fri", "sat" };

static const struct {
	const char *name, *expr;
} macros[] = {
	{ "@yearly", "0 0 1 1 *" },  { "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
	{ "@daily", "0 0 * * *" },   { "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

#define fail err_fail

/* One field's text, for error messages. */
struct cron_ctx {
	enum cron_field f;
	const char *text;
	size_t len;
	char *err;
	size_t errlen;
};

static int field_fail(const struct cron_ctx *c, const char *why)
{
	return fail(c->err, c->errlen, "cron: %s field '%.*s': %s",
		    fields[c->f].name, (int)c->len, c->text, why);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A number or (in the month and day-of-week fields) a name at *p. */
static int parse_value(const struct cron_ctx *c, const char **p,
		       const char *end, int *out)
{
	const char *s = *p;
	char why[96];
	int v = 0;

	if (s < end && is_alpha(*s)) {
		const char *const *names = NULL;
		size_t n = 0, len = 0;

		while (s + len < end && is_alpha(s[len]))
			len++;
		if (c->f == F_MON) {
			names = month_names;
			n = ARRAY_SIZE(month_names);
		} else if (c->f == F_WDAY) {
			names = wday_names;
			n = ARRAY_SIZE(wday_names);
		}
		for (size_t i = 0; i < n && len == 3; i++) {
			if (!strncasecmp(s, names[i], 3)) {
				*out = (int)i + (c->f == F_MON);
				*p = s + 3;
				return 0;
			}
		}
		snprintf(why, sizeof(why), "unknown name '%.*s'", (int)len,
			 s);
		return field_fail(c, why);
	}
	if (s >= end || !is_digit(*s)) {
		if (s >= end || *s == ',')
			return field_fail(c, "empty list item");
		snprintf(why, sizeof(why), "unexpected '%c'", *s);
		return field_fail(c, why);
	}
	for (; s < end && is_digit(*s); s++) {
		v = v * 10 + (*s - '0');
		if (v > 999)
			return field_fail(c, "number too large");
	}
	if (v < fields[c->f].lo || v > fields[c->f].hi) {
		snprintf(why, sizeof(why), "%d is out of range %d-%d", v,
			 fields[c->f].lo, fields[c->f].hi);
		return field_fail(c, why);
	}
	*out = v;
	*p = s;
	return 0;
}

/* One list item: '*', a value, or a range, each with an optional step.
 * Sets the bits it covers in *bits. */
static int parse_item(const struct cron_ctx *c, const char *s,
		      const char *end, uint64_t *bits)
{
	int lo = fields[c->f].lo, hi = fields[c->f].hi, step = 1;
	bool range = false;
	char why[96];

	if (s == end)
		return field_fail(c, "empty list item");
	if (*s == '*') {
		s++;
		range = true;
	} else {
		if (parse_value(c, &s, end, &lo))
			return -1;
		hi = lo;
		if (s < end && *s == '-') {
			s++;
			if (parse_value(c, &s, end, &hi))
				return -1;
			if (lo > hi)
				return field_fail(c, "range start after end");
			range = true;
		}
	}
	if (s < end && *s == '/') {
		/* "5/15" means 5-59/15 to some crons and is refused by
		 * others: refuse it rather than guess. */
		if (!range)
			return field_fail(c, "a step needs '*' or a range");
		s++;
		if (s == end || !is_digit(*s))
			return field_fail(c, "a step needs a number");
		step = 0;
		for (; s < end && is_digit(*s); s++) {
			step = step * 10 + (*s - '0');
			if (step > 999)
				return field_fail(c, "step too large");
		}
		if (step == 0)
			return field_fail(c, "step 0");
	}
	if (s != end) {
		snprintf(why, sizeof(why), "unexpected '%c'", *s);
		return field_fail(c, why);
	}
	for (int v = lo; v <= hi; v += step)
		*bits |= (uint64_t)1 << v;
	return 0;
}

static int parse_field(struct cron_ctx *c, uint64_t *bits)
{
	const char *s = c->text, *end = c->text + c->len;

	*bits = 0;
	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *stop = comma ? comma : end;
		if (parse_item(c, s, stop, bits))
			return -1;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int parse_fields(const char *expr, struct cron_spec *out, char *err,
			size_t errlen)
{
	const char *f[F_COUNT], *p = expr;
	size_t len[F_COUNT];
	int n = 0;
	uint64_t bits[F_COUNT];

	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		if (n < F_COUNT)
			f[n] = p;
		while (*p && !is_blank(*p))
			p++;
		if (n < F_COUNT)
			len[n] = (size_t)(p - f[n]);
		n++;
	}
	if (n != F_COUNT)
		return fail(err, errlen, "cron: expected 5 fields, got %d", n);
	for (int i = 0; i < F_COUNT; i++) {
		struct cron_ctx c = { (enum cron_field)i, f[i], len[i], err,
				      errlen };
		if (parse_field(&c, &bits[i]))
			return -1;
	}
	memset(out, 0, sizeof(*out));
	out->minutes = bits[F_MIN];
	out->hours = (uint32_t)bits[F_HOUR];
	out->mdays = (uint32_t)bits[F_MDAY];
	out->months = (uint16_t)bits[F_MON];
	/* 7 is Sunday too. */
	out->wdays = (uint8_t)((bits[F_WDAY] | bits[F_WDAY] >> 7) & 0x7f);
	/* cron's rule: the day fields combine with OR only when both are
	 * restricted, and a field that starts with '*' is not. */
	out->mday_star = f[F_MDAY][0] == '*';
	out->wday_star = f[F_WDAY][0] == '*';
	return 0;
}

int cron_parse(const char *expr, struct cron_spec *out, char *err,
	       size_t errlen)
{
	const char *p = expr;
	size_t n;

	if (!expr)
		return fail(err, errlen, "cron: no expression");
	if (strlen(expr) > CRON_EXPR_MAX)
		return fail(err, errlen, "cron: expression longer than %d "
			    "characters", CRON_EXPR_MAX);
	for (size_t i = 0; expr[i]; i++)
		if ((unsigned char)expr[i] < 0x20 && expr[i] != '\t')
			return fail(err, errlen,
				    "cron: control character in expression");
	while (is_blank(*p))
		p++;
	if (*p != '@')
		return parse_fields(expr, out, err, errlen);
	n = strcspn(p, " \t");
	if (p[n + strspn(p + n, " \t")])
		return fail(err, errlen, "cron: '%.*s' takes no fields",
			    (int)n, p);
	if (n == 7 && !strncasecmp(p, "@reboot", 7))
		return fail(err, errlen, "cron: @reboot is not supported: a "
			    "schedule needs times (there is no boot to run "
			    "at)");
	for (size_t i = 0; i < ARRAY_SIZE(macros); i++)
		if (strlen(macros[i].name) == n &&
		    !strncasecmp(p, macros[i].name, n))
			return parse_fields(macros[i].expr, out, err, errlen);
	return fail(err, errlen, "cron: unknown macro '%.*s'", (int)n, p);
}

/* ---- the search ---- */

/* A wall-clock minute. */
struct wall {
	int64_t y;
	int mon, day, hour, min;
};

static bool day_matches(const struct cron_spec *c, const struct wall *w)
{
	int64_t days = tzone_days_from_civil(w->y, w->mon, w->day);
	bool md = c->mdays >> w->day & 1;
	bool wd = c->wdays >> tzone_weekday(days) & 1;

	if (c->mday_star || c->wday_star)
		return md && wd;
	return md || wd;
}

static void next_day(struct wall *w)
{
	w->hour = w->min = 0;
	if (++w->day > tzone_month_days(w->y, w->mon)) {
		w->day = 1;
		if (++w->mon > 12) {
			w->mon = 1;
			w->y++;
		}
	}
}

static void next_month(struct wall *w)
{
	w->day = 1;
	w->hour = w->min = 0;
	if (++w->mon > 12) {
		w->mon = 1;
		w->y++;
	}
}

/* The lowest bit of bits at or above from, or -1. */
static int bit_from(uint64_t bits, int from, int top)
{
	for (int i = from; i <= top; i++)
		if (bits >> i & 1)
			return i;
	return -1;
}

/* Moves w to the first wall minute at or after it that the expression
 * matches; false once w passes year `last`. */
static bool wall_match(const struct cron_spec *c, struct wall *w,
		       int64_t last)
{
	int v;

	while (w->y <= last) {
		if (!(c->months >> w->mon & 1)) {
			next_month(w);
			continue;
		}
		if (!day_matches(c, w)) {
			next_day(w);
			continue;
		}
		if ((v = bit_from(c->hours, w->hour, 23)) < 0) {
			next_day(w);
			continue;
		}
		if (v != w->hour) {
			w->hour = v;
			w->min = 0;
		}
		if ((v = bit_from(c->minutes, w->min, 59)) < 0) {
			w->min = 0;
			if (++w->hour > 23)
				next_day(w);
			continue;
		}
		w->min = v;
		return true;
	}
	return false;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t cron_next(const struct cron_spec *c, const struct tzone *z,
		  int64_t after_ms)
{
	int64_t a = floor_div(after_ms, 1000), local, days, last;
	struct wall w;

	if (!c->minutes || !c->hours || !c->mdays || !c->months ||
	    !c->wdays)
		return INT64_MAX;
	/* Only wall times at or after a's own can fire after a: an earlier
	 * one either fired (first occurrence) or was skipped before a. */
	local = a + (z ? tzone_offset(z, a) : 0);
	days = floor_div(local, 86400);
	tzone_civil_from_days(days, &w.y, &w.mon, &w.day);
	w.hour = (int)(local - days * 86400) / 3600;
	w.min = (int)(local - days * 86400) % 3600 / 60;
	last = w.y + 8;
	while (wall_match(c, &w, last)) {
		int64_t ls = tzone_days_from_civil(w.y, w.mon, w.day) * 86400 +
			     w.hour * 3600 + w.min * 60;
		int64_t u[2], gap_end = 0, f;
		int n = z ? tzone_local_to_utc(z, ls, u, &gap_end) : 1;

		if (!z)
			u[0] = ls;
		/* A repeated time fires at its first instant, a skipped
		 * one at the end of the gap. */
		f = n > 0 ? u[0] : gap_end;
		if (f > a)
			return f > INT64_MAX / 1000 ? INT64_MAX : f * 1000;
		/* Already fired (a lies in a repeated hour's second pass):
		 * the next minute. */
		if (++w.min > 59) {
			w.min = 0;
			if (++w.hour > 23)
				next_day(&w);
		}
	}
	return INT64_MAX;
}
