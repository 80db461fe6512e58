/*
 * livy_req.h - Apache Livy's batch REST API as data, for the Livy backend
 * (agent/backend_livy.c): the POST /batches body built from a job's
 * spark-submit arguments, Livy's states mapped to run states, and the
 * pages of GET /batches/{id}/log. Pure: no I/O, no clock.
 */
#ifndef SP_LIVY_REQ_H
#define SP_LIVY_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "strbuf.h"

/* The JSON body of POST /batches for ctx: spark-submit's argv read as
 * spark-submit reads it (--class, --conf k=v split on the first '=',
 * --jars/--py-files/--files/--archives lists, memory, cores, executors,
 * --queue, --proxy-user, --name; "--opt=value" too), the first other
 * word is the application file and the rest its arguments. Resources
 * from the job fill what argv leaves unset; the settings livy_queue and
 * livy_proxy_user likewise. --master and --deploy-mode are dropped:
 * Livy decides them. The batch is named "sp-RUN-ATTEMPT" (Livy refuses
 * two live batches of one name); --name becomes spark.app.name.
 * 0, or -1 with a one-line reason in err (no application file, a --conf
 * without '=', an option without its value, an option Livy cannot take
 * such as --properties-file). out is reset first. */
int livy_batch_json(const struct backend_ctx *ctx, struct strbuf *out,
		    char *err, size_t errlen);

/* Livy's batch state (not_started, starting, recovering, running, idle,
 * busy, shutting_down, success, dead, killed, error) as a run state.
 * killed is BACKEND_CANCELLED when we asked for it (cancelled), else a
 * failure (someone else killed it). Unknown states are BACKEND_SUBMITTED
 * with *known false. */
enum backend_state livy_state(const char *state, bool cancelled, bool *known);

/* Reads a POST /batches or GET /batches/{id} answer: id (>= 0), state and
 * appId (either may be null or absent: left ""). 0, or -1 with err. */
int livy_parse_batch(const char *body, size_t len, int64_t *id, char *state,
		     size_t statelen, char *app_id, size_t applen, char *err,
		     size_t errlen);

/* One page of GET /batches/{id}/log?from=F&size=S: each string of "log"
 * goes to sink (stream 2, or 1 after a "stdout: " marker line and 2
 * again after "stderr: ", as Livy prints the spark-submit output it
 * kept). *stream carries the current stream between pages (start at 2).
 * Returns the number of lines, or -1 with err. */
int livy_log_page(const char *body, size_t len, backend_sink_fn sink,
		  void *sink_ctx, int *stream, char *err, size_t errlen);

#endif
