/*
 * diagnose.h - why did a Spark run fail? Classifies a failed run from its
 * driver output (spark-submit on YARN or Kubernetes, PySpark, EMR) into the
 * failure categories of the operator guide (Diagnostics), with the line
 * that decided and a remediation hint.
 *
 * Streaming: feed each output line as it arrives (any bytes, any length),
 * then the exit status, then read the result. Memory is fixed at
 * diagnoser_new(): one best line per category, whatever the input size,
 * and one buffer as long as the longest line kept.
 *
 * The lines kept are redacted with the built-in rules (common/redact.h)
 * before a window of a long one is cut: a window cut first could keep a
 * secret and leave out the key name that marks it.
 *
 * How a line is chosen:
 *  - Within a line the rightmost specific signature wins (Spark prints the
 *    innermost cause last: "Job aborted ...: ExecutorLostFailure ...
 *    Reason: Container killed by YARN ..."), except that credentials_expired
 *    beats the "Status Code: 403" that comes with it. A FileNotFoundException
 *    on a Spark local file (blockmgr-, shuffle_) is not input_missing.
 *  - Lines carry a weight: 2 for the report of the final failure (the
 *    Exception in thread "main" trace, "Job aborted", "User class threw
 *    exception", YARN diagnostics of a finished application, Kubernetes
 *    "Container final statuses", spark-submit's "Error: ", a top-level
 *    Python traceback), 1 for ERROR log records, 0 for the rest. Stack
 *    frames, "Caused by:" and other continuation lines take the weight of
 *    the record they belong to.
 *  - Specific categories beat the wrappers python_error and
 *    stage_retries_exhausted whatever their weight; among specific
 *    categories the heaviest line wins, then the latest one, so the last
 *    "Caused by:" of a trace (the innermost) beats the ones above it.
 *    Among wrappers python_error beats stage_retries_exhausted; for a
 *    Python traceback the deciding line is its exception line
 *    ("KeyError: 'id'"), not "Traceback (most recent call last):".
 *  - Exit status 101 (spark-submit could not load the main class) decides
 *    class_not_found; so does "exit code: 101" in the Kubernetes driver's
 *    final status, as "exit code: 137" decides k8s_oomkilled.
 *  - no_resources by waiting: YARN "(state: ACCEPTED)" or Kubernetes
 *    "(phase: Pending)" reports that are still the last state reported when
 *    the result is read, for at least DIAGNOSE_WAIT_SECONDS by the lines'
 *    own timestamps (yy/MM/dd HH:mm:ss or ISO) or, when the reports carry
 *    none, for at least DIAGNOSE_WAIT_REPORTS reports (their interval is
 *    unknown: 1 s, or 30 s with Spark 3's default logging frequency). A run
 *    that got past the wait is not blamed on it.
 * Beyond the reference table, these well-known Spark/YARN messages are
 * recognised: "running beyond physical|virtual memory limits" (YARN kill
 * of the AM container) -> yarn_memory_kill; "exit code 137(SIGKILL"
 * (Spark's Kubernetes executor loss) -> k8s_oomkilled; "Executor heartbeat
 * timed out after" -> heartbeat_timeout. "[Dd]ecommission" on INFO lines
 * and in config keys ("spark.decommission.enabled") is ignored: it is
 * routine there.
 *
 * Retryable (diagnose_retryable): everything except class_not_found,
 * version_conflict, input_missing, s3_access_denied and
 * backend_unavailable, which a retry cannot fix. This matches policy_class_retryable() in scheduler/policy.c
 * (a unit test holds them equal). credentials_expired stays retryable: the
 * next attempt gets fresh credentials. driver_oom is deterministic for the
 * same input and arguably permanent; unknown is retryable.
 */
#ifndef SP_DIAGNOSE_H
#define SP_DIAGNOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The deciding line is cut to this many bytes, NUL included. */
#define DIAGNOSE_LINE_MAX 512
/* Defaults of the waiting-for-resources rule (diagnose_set_wait_limits). */
#define DIAGNOSE_WAIT_SECONDS 600
#define DIAGNOSE_WAIT_REPORTS 120

/* In the reference table's order; names by diagnose_category_name(). */
enum diagnose_category {
	DIAGNOSE_UNKNOWN,
	DIAGNOSE_EXECUTOR_OOM,
	DIAGNOSE_DRIVER_OOM,
	DIAGNOSE_YARN_MEMORY_KILL,
	DIAGNOSE_K8S_OOMKILLED,
	DIAGNOSE_S3_ACCESS_DENIED,
	DIAGNOSE_CREDENTIALS_EXPIRED,
	DIAGNOSE_CLASS_NOT_FOUND,
	DIAGNOSE_VERSION_CONFLICT,
	DIAGNOSE_INPUT_MISSING,
	DIAGNOSE_SHUFFLE_FETCH_FAILED,
	DIAGNOSE_PYTHON_ERROR,
	DIAGNOSE_DISK_FULL,
	DIAGNOSE_NODE_LOST,
	DIAGNOSE_HEARTBEAT_TIMEOUT,
	DIAGNOSE_RPC_TIMEOUT,
	DIAGNOSE_NO_RESOURCES,
	DIAGNOSE_STAGE_RETRIES_EXHAUSTED,
	/* no signature: the agent decides it when the environment's backend
	 * is not built into it (agent/backend.h) */
	DIAGNOSE_BACKEND_UNAVAILABLE,
	DIAGNOSE_NCATEGORIES
};

struct diagnosis {
	enum diagnose_category id;
	const char *category; /* static: "executor_oom", ..., "unknown" */
	const char *hint;     /* static: one or two full sentences */
	bool retryable;	      /* as diagnose_retryable(category) */
	/* The deciding line: redacted, trimmed, control bytes as spaces,
	 * invalid UTF-8 as '?', and if longer than DIAGNOSE_LINE_MAX - 1 a
	 * window around the signature with "..." at the cut ends. "" when nothing decided;
	 * "spark-submit exited with status 101" when only the exit did. */
	char line[DIAGNOSE_LINE_MAX];
	uint64_t line_no; /* 1-based; 0 when decided by no line */
};

struct diagnoser;

/* A new diagnoser with the default limits; aborts on OOM (xmalloc). Free
 * with diagnoser_free (NULL is fine). Afterwards it allocates only to
 * redact a line longer than any kept before. */
struct diagnoser *diagnoser_new(void);
void diagnoser_free(struct diagnoser *d);
/* Forgets everything seen (keeps the wait limits), for the next run. */
void diagnoser_reset(struct diagnoser *d);
/* The waiting-for-resources rule: still ACCEPTED/Pending for seconds by
 * the log's timestamps, or, for reports without timestamps (or seconds
 * 0), for reports lines; both 0 disables the rule. */
void diagnose_set_wait_limits(struct diagnoser *d, unsigned seconds,
			      unsigned reports);

/* Feeds one output line of stdout or stderr, in output order, with or
 * without its trailing newline. Any bytes (NULs included) and any length;
 * the line is not kept beyond this call. line may be NULL if len is 0. */
void diagnose_line(struct diagnoser *d, const char *line, size_t len);
/* What a launcher knows beyond the lines (EMR on EKS's failureReason
 * CLUSTER_UNAVAILABLE -> no_resources): c decides, with line as the
 * deciding line (control bytes as spaces, cut to DIAGNOSE_LINE_MAX - 1),
 * only when nothing else does (no signature in the lines, no exit 101, no
 * wait). The caller redacts line. Cleared by diagnoser_reset. */
void diagnose_fallback(struct diagnoser *d, enum diagnose_category c,
		       const char *line);
/* spark-submit's wait status, as from waitpid(). Optional; only exit 101
 * changes the result (signals and other codes decide nothing). */
void diagnose_exit(struct diagnoser *d, int wait_status);
/* The classification of what was fed so far (may be called at any time).
 * Points into d: valid until the next call on d. Never NULL. */
const struct diagnosis *diagnose_result(struct diagnoser *d);

/* "executor_oom" ... for a category; NULL if out of range. */
const char *diagnose_category_name(enum diagnose_category c);
/* Whether name is one of the DIAGNOSE_NCATEGORIES names ("unknown" is). */
bool diagnose_category_known(const char *name);
/* The hint for a category name; NULL for a name that is not known. */
const char *diagnose_hint(const char *name);
/* Whether a retry might succeed after a failure of this category; true
 * for NULL, "" and names that are not known (nothing says otherwise). */
bool diagnose_retryable(const char *name);
/* Whether a failure of this category is attributed to the customer's
 * code or inputs rather than the platform: class_not_found,
 * version_conflict, input_missing, python_error (an exception the
 * application's Python raised, with no more specific cause found). false
 * for NULL, "" and names not known. */
bool diagnose_customer_code(const char *name);
/* By category number: its hint (NULL if out of range), and whether it is
 * a wrapper (python_error, stage_retries_exhausted: the real cause is
 * nested in it). */
const char *diagnose_category_hint(enum diagnose_category c);
bool diagnose_category_wrapper(enum diagnose_category c);

#endif
