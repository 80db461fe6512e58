/*
 * spark_output.h - watching spark-submit's output (client and cluster
 * mode, YARN, Kubernetes and standalone, as spark-submit prints them): the
 * application id, whether the application is running, and its final
 * result. Pure: lines in, facts out. Spark 3.3 to 4.0 (plain log4j lines,
 * or 4.0's structured JSON records: the same messages, newlines escaped):
 * docs/compatibility.md, made from tests/data/spark-matrix.
 */
#ifndef SP_SPARK_OUTPUT_H
#define SP_SPARK_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

enum spark_mode {
	SPARK_MODE_UNKNOWN,
	SPARK_MODE_YARN,
	SPARK_MODE_K8S,
	SPARK_MODE_STANDALONE, /* cluster mode through the legacy gateway */
};

struct spark_watch {
	enum spark_mode mode;
	char app_id[128];        /* application_..., spark-<hex> or the
				  * standalone driver-<time>-<n> */
	char submission_id[256]; /* Kubernetes namespace:driver-pod */
	char state[32];          /* last YARN state or Kubernetes phase */
	bool running;
	char final_status[16];   /* YARN: SUCCEEDED, FAILED, KILLED */
	int driver_exit_code;    /* Kubernetes driver container, -1 unknown */
	char termination_reason[64];
	char last_error[512];    /* innermost cause or last error line */
	bool error_is_cause;     /* last_error came from "Caused by:" */
	/* spark-submit said it leaves without waiting for the application's
	 * end (Kubernetes or standalone waitAppCompletion=false) */
	bool detached;
};

enum {
	SPARK_EV_APP_ID = 1 << 0,  /* the application id was just learned */
	SPARK_EV_RUNNING = 1 << 1, /* the application just started running */
	SPARK_EV_FINAL = 1 << 2,   /* a final status or exit code was seen */
};

enum spark_result { SPARK_SUCCEEDED, SPARK_FAILED, SPARK_KILLED };

void spark_watch_init(struct spark_watch *w);
/* Feeds one output line (no newline; any bytes). Returns SPARK_EV_ flags. */
unsigned spark_watch_line(struct spark_watch *w, const char *line,
			  size_t len);
/* The result once spark-submit has exited with wait_status. In Kubernetes
 * cluster mode spark-submit exits 0 even if the driver failed (SPARK-26365):
 * the driver's exit code decides; in standalone cluster mode the driver's
 * final state. A submission that did not wait for the application's end
 * (detached) and printed no result is failed: its result is unknown, and
 * a success claimed for it would be a guess. Writes a one-line reason for
 * failures. */
enum spark_result spark_watch_result(const struct spark_watch *w,
				     int wait_status, char *reason,
				     size_t len);

#endif
