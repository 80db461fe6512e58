/*
 * schedule_rec.h - a recurring schedule as stored (docs/storage.md,
 * schedules): the column family `schedules`, key the tenant's name, a NUL
 * and the schedule id (u64 BE), so that tenant delete's range deletion
 * [tenant\0, tenant\1) takes them; value a msgpack map (a missing field
 * reads as zero, so fields can be added without a format change) whose
 * extra arguments are sealed under the tenant's data key, as a job's are
 * (records_pack_argv). The last id given is the meta key
 * META_SCHEDULE_SEQ (u64 BE). The decoder reads bytes back from the store
 * and is fuzzed (tests/fuzz/fuzz_schedule_rec.c).
 */
#ifndef SP_SCHEDULE_REC_H
#define SP_SCHEDULE_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cron.h"
#include "model.h"
#include "schedule.h"
#include "store.h"
#include "tzone.h"

#define META_SCHEDULE_SEQ "schedule_seq"
/* Jobs a firing starts after the schedule's own (--then). */
#define SCHEDULE_THEN_MAX 8
#define SCHEDULE_THEN_LEN 512
#define SCHEDULE_ERR_LEN 200
/* tenant, NUL, id */
#define SCHEDULE_KEY_MAX (NAME_MAX_LEN + 8)

struct schedule_def {
	uint64_t id;
	char tenant[NAME_MAX_LEN];
	char job[JOB_KEY_LEN];         /* TENANT/ENV/JOB */
	char cron[CRON_EXPR_MAX];
	char zone[TZONE_NAME_MAX];
	int concurrency;               /* enum schedule_concurrency */
	int catchup;                   /* enum schedule_catchup */
	int64_t deadline_ms;           /* 0: none */
	char then[SCHEDULE_THEN_LEN];  /* "JOB2,JOB3": names in job's env */
	bool paused;
	int64_t created_ms;
	char created_by[32];           /* "uid:N" */
	int64_t cursor_ms;             /* the last firing time handled */
	int64_t last_fired_ms;         /* the last started firing's time */
	uint32_t nlast;                /* its runs: the job's, then --then's */
	uint64_t last_runs[1 + SCHEDULE_THEN_MAX];
	uint64_t fired, skipped, missed, refused;
	char last_error[SCHEDULE_ERR_LEN]; /* the last refused start's */
	int64_t last_error_ms;
	int nargs;                     /* extra arguments, owned */
	char **args;
	/* runtime, not stored */
	struct cron_spec spec;
	struct tzone *tz;
	int64_t watch_ms;  /* watched without a break since (schedule.h) */
	int64_t next_ms;   /* the next due time (INT64_MAX: none) */
};

/* The key of schedule (tenant, id) into key (>= SCHEDULE_KEY_MAX);
 * returns its length. */
size_t schedule_rec_key(const char *tenant, uint64_t id, uint8_t *key);

void schedule_rec_put(struct store_batch *b, struct store *s,
		      const struct schedule_def *d);
void schedule_rec_delete(struct store_batch *b, struct store *s,
			 const struct schedule_def *d);

/* Decodes a stored schedule into the zeroed d (its args owned by d; s's
 * keyring opens them; with s NULL, sealed arguments are refused). The
 * runtime fields are left zero. 0, or -1 with a one-line reason (d then
 * holds nothing to free). */
int schedule_rec_decode(struct store *s, const void *key, size_t klen,
			const void *val, size_t vlen, struct schedule_def *d,
			char *err, size_t errlen);

/* Frees what d owns (its arguments, its zone); d stays valid. */
void schedule_def_release(struct schedule_def *d);

#endif
