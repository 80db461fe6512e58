/*
 * spark_matrix.h - the Spark compatibility matrix: every recorded client
 * transcript of tests/data/spark-matrix (Spark release x cluster mode x
 * scenario) fed to the agent's parser (agent/spark_output.h) and
 * classifier (common/diagnose.h), against the scenario's expected file.
 * Shared by tests/unit/test_spark_matrix.c, which checks the results, and
 * bin/sp-docgen compat-md, which writes docs/compatibility.md from them.
 * No cmocka here: sp-docgen links it without the test library.
 */
#ifndef SP_SPARK_MATRIX_H
#define SP_SPARK_MATRIX_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

struct matrix_case {
	char version[8], mode[16], file[64];
	int exit_code;
	/* expected: the app id's prefix, the result, the class ("-": none) */
	char want_app[32], want_result[16], want_class[32];
	/* what the parser and the classifier gave */
	char got_app[128], got_result[16], got_class[32];
	char reason[256];  /* spark_watch_result's reason */
	bool running_seen; /* a RUNNING state or phase was reported */
	bool detached;     /* spark-submit left without waiting */
	bool ok_app, ok_result, ok_class;
};

/* Reads DIR/expected and runs each transcript it names. *out: a malloc'd
 * array of *n cases (the caller frees it). 0, or -1 with a message in
 * err (a missing or malformed file). */
int spark_matrix_run(const char *dir, struct matrix_case **out, size_t *n,
		     char *err, size_t len);
/* Whether the case gave what was expected. */
bool spark_matrix_ok(const struct matrix_case *c);
/* docs/compatibility.md: release x mode -> app id parsed, state tracked,
 * cancel, diagnosis classes recognised, then every transcript. */
void spark_matrix_markdown(const struct matrix_case *c, size_t n,
			   struct strbuf *out);

#endif
