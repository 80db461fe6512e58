/*
 * run_args.h - a run's spark-submit arguments: its job version's, with
 * {{KEY}} placeholders replaced by the run's parameters and the built-ins
 * (run_id, attempt, scheduled_date, scheduled_time), then its extra
 * arguments. Also the secret check every stored argument goes through.
 */
#ifndef SP_RUN_ARGS_H
#define SP_RUN_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define RUN_PARAM_KEY_MAX 64
#define RUN_PARAM_VALUE_MAX 1024
#define RUN_ARG_MAX 8192

/* The first of v[0..n) that carries a secret (the agents' built-in
 * redaction rules), its kind in *kind; -1 if none. Core thread. */
int run_args_find_secret(const char *const *v, size_t n, const char **kind);

/* Checks a start's parameters ("KEY=VALUE" each) and extra arguments
 * against job version j: each key well formed, given once, not a
 * built-in, and used by a placeholder; each placeholder of the
 * arguments a parameter or a built-in; no secret anywhere. 0, or -1 with
 * a one-line reason naming the parameter or argument. */
int run_args_check(const struct job *j, const char *const *params,
		   uint32_t nparams, const char *const *args, uint32_t nargs,
		   char *err, size_t errlen);

/* r's arguments as j (its version) resolves them for attempt r->attempt:
 * a NULL-terminated vector in *out (free with run_args_free), its length
 * returned. Placeholders it cannot resolve (only in runs older than the
 * check) are left as they are. */
int run_args_resolve(const struct job *j, const struct run *r, char ***out);
void run_args_free(char **v, int n);
/* ms as a wall-clock time off_s seconds from UTC, ISO 8601 with the
 * offset: "2026-03-29T02:00:00+02:00" ("Z" for 0). */
void run_args_local_time(int64_t ms, int32_t off_s, char *buf, size_t len);

#endif
