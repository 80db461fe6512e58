/*
 * sparkrest.h - executor lifetimes from Spark's monitoring REST API (a
 * history server on :18080 or the driver UI on :4040), for metering: after
 * an application ends the agent asks for its executors so the scheduler can
 * bill them by how long each really ran (dynamic allocation, lost
 * executors) instead of the declared executor count times wall time.
 */
#ifndef SP_SPARKREST_H
#define SP_SPARKREST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits on what a REST answer may claim; anything beyond is refused. */
#define SPARKREST_MAX_BODY (8u << 20) /* bytes of response body */
#define SPARKREST_MAX_CORES 65536     /* totalCores of one executor */
#define SPARKREST_MAX_APP_ID 128      /* characters of an application id */

/* What Spark's monitoring REST reports about a finished application's
 * executors (the driver excluded: it is billed from the job's driver
 * resources). Lifetimes in ms; executors without removeTime end at the
 * application's end (app_end_ms). */
struct spark_usage {
	uint32_t executors;	  /* executors listed (driver excluded) */
	int64_t exec_core_ms;	  /* sum of totalCores x lifetime */
	int64_t exec_lifetime_ms; /* sum of lifetimes */
};

/* Parses the JSON array that GET /api/v1/applications/{id}/allexecutors
 * returns (body[0..len), need not be NUL-terminated). Each element needs a
 * string "id" (the one named "driver" is skipped), an integer "totalCores"
 * in 0..SPARKREST_MAX_CORES and an "addTime"; "removeTime" is optional.
 * Dates are Spark's "yyyy-MM-dd'T'HH:mm:ss.SSS'GMT'" (UTC). A lifetime is
 * (removeTime, or app_end_ms if absent) - addTime, clamped at 0; the sums
 * saturate at INT64_MAX. Returns 0 and fills *out, or -1 with a one-line
 * reason in err (naming the executor when one is at fault) and *out
 * untouched. Survives arbitrary bytes. */
int sparkrest_parse_executors(const char *body, size_t len, int64_t app_end_ms,
			      struct spark_usage *out, char *err,
			      size_t errlen);

/* true if app_id is 1..SPARKREST_MAX_APP_ID characters of [A-Za-z0-9_-]
 * (YARN application_..., Kubernetes spark-..., local-..., app-...), so it
 * can go into a URL path as is. */
bool sparkrest_app_id_valid(const char *app_id);

/* GET {base_url}/api/v1/applications/{app_id}/allexecutors with libcurl and
 * parses the answer as above. base_url is the server root, http:// or
 * https://, with or without a trailing slash, possibly with a path prefix
 * (a proxy), without query or fragment. timeout_ms bounds the whole request
 * (connect included); at most SPARKREST_MAX_BODY bytes of body are read;
 * the HTTP status must be 200; redirects are not followed. Errors never
 * quote base_url (it may carry credentials; libcurl's own reason may name
 * the host). Returns 0 and fills *out, or
 * -1 with a one-line reason in err ("... HTTP 404 ...", "... timed out
 * ...").
 * libcurl's global state is set up on first use (curl_global_init under a
 * pthread_once), so agents that never call this never initialise it; a
 * caller that already called curl_global_init is fine (it is counted).
 * Safe to call from several threads at once. Blocks for up to timeout_ms:
 * call it from a worker thread or with a short timeout. */
int sparkrest_executor_usage(const char *base_url, const char *app_id,
			     int64_t app_end_ms, long timeout_ms,
			     struct spark_usage *out, char *err, size_t errlen);

/* false, with why, in the static agent build (SP_STATIC_AGENT), which
 * cannot load libcurl; true otherwise. */
bool sparkrest_available(char *why, size_t len);

#endif
