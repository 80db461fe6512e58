/* test_spark_matrix.c - the compatibility matrix: every transcript of
 * tests/data/spark-matrix (Spark 3.3, 3.4, 3.5, 4.0 x YARN, Kubernetes,
 * standalone cluster mode x scenario) gives the application id, final
 * result and failure class its expected file says (spark_matrix.h); the
 * same results make docs/compatibility.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spark_matrix.h"

#define DIR "tests/data/spark-matrix"

static void test_every_transcript(void **state)
{
	struct matrix_case *c;
	size_t n, bad = 0;
	char err[256];
	(void)state;

	if (spark_matrix_run(DIR, &c, &n, err, sizeof(err)))
		fail_msg("%s", err);
	for (size_t i = 0; i < n; i++) {
		if (spark_matrix_ok(&c[i]))
			continue;
		bad++;
		print_error("%s/%s/%s: app '%s' (want %s...), result %s (want "
			    "%s), class %s (want %s); reason: %s\n",
			    c[i].version, c[i].mode, c[i].file, c[i].got_app,
			    c[i].want_app, c[i].got_result, c[i].want_result,
			    c[i].got_class, c[i].want_class, c[i].reason);
	}
	free(c);
	assert_int_equal(bad, 0);
}

/* Every release in every mode, with a success and a failure each. */
static void test_matrix_is_complete(void **state)
{
	static const char *const versions[] = { "3.3", "3.4", "3.5", "4.0" };
	static const char *const modes[] = { "yarn", "k8s", "standalone" };
	struct matrix_case *c;
	size_t n;
	char err[256];
	(void)state;

	if (spark_matrix_run(DIR, &c, &n, err, sizeof(err)))
		fail_msg("%s", err);
	for (size_t v = 0; v < 4; v++)
		for (size_t m = 0; m < 3; m++) {
			bool ok = false, failed = false;
			for (size_t i = 0; i < n; i++) {
				if (strcmp(c[i].version, versions[v]) ||
				    strcmp(c[i].mode, modes[m]))
					continue;
				ok |= !strcmp(c[i].want_result, "succeeded");
				failed |= !strcmp(c[i].want_result, "failed");
			}
			if (!ok || !failed)
				fail_msg("%s %s: no success or no failure",
					 versions[v], modes[m]);
		}
	free(c);
}

/* The document names each row and marks nothing as missed. */
static void test_markdown(void **state)
{
	struct matrix_case *c;
	struct strbuf sb = STRBUF_INIT;
	size_t n;
	char err[256];
	(void)state;

	if (spark_matrix_run(DIR, &c, &n, err, sizeof(err)))
		fail_msg("%s", err);
	spark_matrix_markdown(c, n, &sb);
	assert_non_null(strstr(sb.buf, "| 4.0 | Kubernetes cluster | yes"));
	assert_non_null(strstr(sb.buf, "| 3.3 | standalone cluster | yes"));
	assert_null(strstr(sb.buf, "**no**"));
	assert_null(strstr(sb.buf, "**missed**"));
	strbuf_release(&sb);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_transcript),
		cmocka_unit_test(test_matrix_is_complete),
		cmocka_unit_test(test_markdown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
