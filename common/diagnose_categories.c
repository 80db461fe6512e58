/*
 * diagnose_categories.c - the failure categories of diagnose.h: names,
 * remediation hints, which are wrappers and which a retry cannot fix.
 */
#include "diagnose.h"

#include <string.h>

enum { WRAPPER = 1 << 0, PERMANENT = 1 << 1, CUSTOMER = 1 << 2 };

/* WRAPPER: only wins when nothing specific was found; PERMANENT: a retry
 * cannot fix it; CUSTOMER: the customer's own code or inputs caused it
 * (their classes, their dependency builds, their paths, their Python),
 * not the platform: the POC report (scheduler/pocreport.h) leaves these
 * out of the first-attempt success rate. This flag is the one list of
 * them; docs/operator-guide.md (POC readiness report) repeats it. */
/* clang-format off */
static const struct category_info {
	const char *name;
	unsigned flags;
	const char *hint;
} categories[DIAGNOSE_NCATEGORIES] = {
	[DIAGNOSE_UNKNOWN] = {"unknown", 0,
		"No known failure signature was found: read the end of the "
		"driver log, the last exception and its innermost \"Caused "
		"by:\"."},
	[DIAGNOSE_EXECUTOR_OOM] = {"executor_oom", 0,
		"An executor ran out of JVM heap: raise spark.executor.memory, "
		"split the work into more partitions, or fix the key skew that "
		"overloads single tasks."},
	[DIAGNOSE_DRIVER_OOM] = {"driver_oom", 0,
		"The driver ran out of memory: avoid collect() and toPandas() "
		"on large data (write the result out instead), or raise "
		"spark.driver.memory and spark.driver.maxResultSize."},
	[DIAGNOSE_YARN_MEMORY_KILL] = {"yarn_memory_kill", 0,
		"YARN killed a container for exceeding its memory limit "
		"(off-heap use beyond the JVM heap): raise "
		"spark.executor.memoryOverhead, or spark.driver.memoryOverhead "
		"if it was the driver's."},
	[DIAGNOSE_K8S_OOMKILLED] = {"k8s_oomkilled", 0,
		"Kubernetes OOM-killed a pod for exceeding its memory limit: "
		"raise spark.executor.memoryOverhead or "
		"spark.driver.memoryOverhead (or "
		"spark.kubernetes.memoryOverheadFactor)."},
	[DIAGNOSE_S3_ACCESS_DENIED] = {"s3_access_denied", PERMANENT,
		"S3 refused access (403): fix the execution role's IAM policy, "
		"the bucket policy, or the KMS key policy of encrypted "
		"objects."},
	[DIAGNOSE_CREDENTIALS_EXPIRED] = {"credentials_expired", 0,
		"The AWS credentials were expired or invalid: refresh them "
		"(instance profile, IRSA token or keys) and check the role's "
		"trust policy."},
	[DIAGNOSE_CLASS_NOT_FOUND] = {"class_not_found", PERMANENT | CUSTOMER,
		"A class could not be loaded: check --class, that --jars or "
		"--packages bring the dependency, and that the image contains "
		"the application's jars."},
	[DIAGNOSE_VERSION_CONFLICT] = {"version_conflict",
		PERMANENT | CUSTOMER,
		"A library was built against other versions: align the "
		"application's Spark, Scala and Hadoop versions with the "
		"cluster's (mark Spark provided, shade conflicting "
		"libraries)."},
	[DIAGNOSE_INPUT_MISSING] = {"input_missing", PERMANENT | CUSTOMER,
		"An input path or object does not exist: check the path and "
		"the partition the job reads, and that the job writing it has "
		"finished."},
	[DIAGNOSE_SHUFFLE_FETCH_FAILED] = {"shuffle_fetch_failed", 0,
		"Shuffle data could not be fetched from another executor: look "
		"further up the log for the executor that was lost (memory "
		"kill, lost node) and fix that."},
	[DIAGNOSE_PYTHON_ERROR] = {"python_error", WRAPPER | CUSTOMER,
		"The Python code raised an exception: read the traceback's "
		"last line; a Py4JJavaError wraps a Java error, whose nested "
		"cause is the real failure."},
	[DIAGNOSE_DISK_FULL] = {"disk_full", 0,
		"A node ran out of local disk: use bigger local disks (or "
		"point spark.local.dir at larger volumes) and spill less with "
		"more partitions and less skew."},
	[DIAGNOSE_NODE_LOST] = {"node_lost", 0,
		"A node was lost or decommissioned (e.g. a reclaimed spot "
		"instance): run the driver on on-demand capacity and rely on "
		"retries."},
	[DIAGNOSE_HEARTBEAT_TIMEOUT] = {"heartbeat_timeout", 0,
		"An executor stopped sending heartbeats, usually during long "
		"GC pauses: reduce memory pressure, or raise "
		"spark.network.timeout."},
	[DIAGNOSE_RPC_TIMEOUT] = {"rpc_timeout", 0,
		"An RPC or broadcast timed out: raise "
		"spark.sql.broadcastTimeout (or stop broadcasting large "
		"tables) and spark.network.timeout."},
	[DIAGNOSE_NO_RESOURCES] = {"no_resources", 0,
		"The application never got resources: check the YARN queue or "
		"Kubernetes namespace quota and the cluster's free capacity, "
		"and that the requested sizes fit a node."},
	[DIAGNOSE_STAGE_RETRIES_EXHAUSTED] = {"stage_retries_exhausted",
		WRAPPER,
		"A task failed on every attempt and its stage gave up: the "
		"task's own error, further up the log, is the real cause."},
	[DIAGNOSE_BACKEND_UNAVAILABLE] = {"backend_unavailable", PERMANENT,
		"The agent does not have the environment's Spark backend: "
		"upgrade the agent, or change the backend with spctl env set "
		"TENANT/ENV --backend."},
};
/* clang-format on */

const char *diagnose_category_name(enum diagnose_category c)
{
	return (unsigned)c < DIAGNOSE_NCATEGORIES ? categories[c].name : NULL;
}

static int category_index(const char *name)
{
	for (int c = 0; name && c < DIAGNOSE_NCATEGORIES; c++)
		if (!strcmp(name, categories[c].name))
			return c;
	return -1;
}

bool diagnose_category_known(const char *name)
{
	return category_index(name) >= 0;
}

const char *diagnose_hint(const char *name)
{
	int c = category_index(name);
	return c < 0 ? NULL : categories[c].hint;
}

const char *diagnose_category_hint(enum diagnose_category c)
{
	return (unsigned)c < DIAGNOSE_NCATEGORIES ? categories[c].hint : NULL;
}

bool diagnose_category_wrapper(enum diagnose_category c)
{
	return (unsigned)c < DIAGNOSE_NCATEGORIES &&
	       (categories[c].flags & WRAPPER);
}

bool diagnose_retryable(const char *name)
{
	int c = category_index(name);
	return c < 0 || !(categories[c].flags & PERMANENT);
}

bool diagnose_customer_code(const char *name)
{
	int c = category_index(name);
	return c >= 0 && (categories[c].flags & CUSTOMER);
}
