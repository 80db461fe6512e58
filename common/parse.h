/*
 * parse.h - strict parsers for operator input: numbers, dollars, GB, names.
 * Each returns 0, or -1 with a one-line reason in err (err may be NULL).
 */
#ifndef SP_PARSE_H
#define SP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decimal digits only, within [min, max]. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
	      char *err, size_t errlen);
/* An optional '-' then decimal digits, within [min, max]. */
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out,
	      char *err, size_t errlen);
/* Decimal dollars ("12", "0.5", "0.000001") to micro-USD, no floating
 * point; at most 6 decimals; never negative. */
int parse_usd(const char *s, int64_t *micro_usd, char *err, size_t errlen);
/* A percentage 0..100 with up to 2 decimals ("65", "12.5") to basis
 * points (0..10000). */
int parse_percent(const char *s, uint32_t *bp, char *err, size_t errlen);
/* micro-USD as dollars with at least 2 decimals ("12.50", "0.000001"). */
void format_usd(int64_t micro, char *buf, size_t len);
/* Memory in GB with up to 3 decimals ("4", "0.5") to MB; 1 MB..4096 GB. */
int parse_gb(const char *s, uint32_t *mb, char *err, size_t errlen);
/* true for a tenant/env/job name: 1..63 of [a-z0-9_-], first [a-z0-9]. */
bool name_valid(const char *s);
/* 0 if valid, else -1 with a reason such as "name 'a b' contains a space". */
int name_reason(const char *s, char *err, size_t errlen);
/* Splits "TENANT/ENV" (parts 2) or "TENANT/ENV/JOB" (parts 3) and checks
 * each name; job is untouched when parts is 2. */
int parse_path3(const char *s, char tenant[64], char env[64], char job[64],
		int parts, char *err, size_t errlen);
/* An ISO-8601 UTC date ("2026-03-01", midnight) or date and time
 * ("2026-03-01T12:30", "2026-03-01T12:30:05", a trailing Z allowed) to
 * ms since the epoch: 0, or -1 if s is neither. The form of every admin
 * command's --since and --until. */
int parse_utc_time(const char *s, int64_t *ms);

#endif
