/* test_run_args.c - parameters, placeholders and the secret check of a
 * run's arguments (run_args.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "run_args.h"
#include "util.h"

static const char *const job_args[] = {
	"--conf", "spark.app.name=etl-{{day}}", "local:///etl.jar",
	"{{scheduled_date}}", "run-{{run_id}}-{{attempt}}", "{{ day }}",
	"{{", "x{{region}}y{{day}}z",
};

/* j with a copy of argv (a job owns its arguments). */
static void job_of(struct job *j, const char *const *argv, int argc)
{
	memset(j, 0, sizeof(*j));
	snprintf(j->key, sizeof(j->key), "acme/prod/etl");
	j->argv = xcalloc((size_t)argc + 1, sizeof(char *));
	for (int i = 0; i < argc; i++)
		j->argv[i] = xstrdup(argv[i]);
	j->argc = argc;
}

static int check(const struct job *j, const char *const *params, uint32_t np,
		 const char *const *args, uint32_t na, char *err)
{
	return run_args_check(j, params, np, args, na, err, 320);
}

static void test_check(void **state)
{
	const char *ok[] = { "day=2026-12-01", "region=eu" };
	const char *extra[] = { "--x", "{{region}}" };
	struct job j;
	char err[320];

	(void)state;
	job_of(&j, job_args, ARRAY_SIZE(job_args));
	assert_int_equal(check(&j, ok, 2, extra, 2, err), 0);
	/* a placeholder with no parameter */
	assert_int_equal(check(&j, ok, 1, NULL, 0, err), -1);
	assert_non_null(strstr(err, "the job's argument 8 uses {{region}}"));
	/* a parameter no argument uses */
	const char *unused[] = { "day=1", "region=2", "dya=3" };
	assert_int_equal(check(&j, unused, 3, NULL, 0, err), -1);
	assert_string_equal(err, "--param dya: no argument of the job uses "
				 "{{dya}}");
	const char *twice[] = { "day=1", "region=2", "day=3" };
	assert_int_equal(check(&j, twice, 3, NULL, 0, err), -1);
	assert_string_equal(err, "--param day given twice");
	const char *bad_key[] = { "9day=1" };
	assert_int_equal(check(&j, bad_key, 1, NULL, 0, err), -1);
	assert_non_null(strstr(err, "a key is a letter"));
	const char *no_eq[] = { "day" };
	assert_int_equal(check(&j, no_eq, 1, NULL, 0, err), -1);
	assert_non_null(strstr(err, "must be KEY=VALUE"));
	const char *builtin[] = { "day=1", "region=2", "attempt=3" };
	assert_int_equal(check(&j, builtin, 3, NULL, 0, err), -1);
	assert_non_null(strstr(err, "--param attempt: a built-in"));
	const char *unknown_extra[] = { "{{nope}}" };
	assert_int_equal(check(&j, ok, 2, unknown_extra, 1, err), -1);
	assert_non_null(strstr(err, "argument 1 after -- uses {{nope}}"));
	/* secrets, in a value or an extra argument */
	const char *secret[] = {
		"day=1", "region=spark.hadoop.fs.s3a.secret.key=AKIAIOSFODNN7EXAMPLEKEY"
	};
	assert_int_equal(check(&j, secret, 2, NULL, 0, err), -1);
	assert_non_null(strstr(err, "--param region holds a secret"));
	const char *secret_arg[] = {
		"--conf", "spark.hadoop.fs.s3a.secret.key=AKIAIOSFODNN7EXAMPLEKEY"
	};
	assert_int_equal(check(&j, ok, 2, secret_arg, 2, err), -1);
	assert_non_null(strstr(err, "argument 2 after -- holds a secret"));
	/* a long value */
	char big[RUN_PARAM_VALUE_MAX + 16] = "day=";
	memset(big + 4, 'v', RUN_PARAM_VALUE_MAX + 1);
	big[RUN_PARAM_VALUE_MAX + 5] = '\0';
	const char *longv[] = { big, "region=1" };
	assert_int_equal(check(&j, longv, 2, NULL, 0, err), -1);
	assert_non_null(strstr(err, "longer than 1024 bytes"));
	job_release(&j);
}

static void test_resolve(void **state)
{
	struct job j;
	struct run r;
	char **argv;
	int argc;

	(void)state;
	job_of(&j, job_args, ARRAY_SIZE(job_args));
	memset(&r, 0, sizeof(r));
	r.id = 42;
	r.attempt = 2;
	r.created_ms = 1796083200000; /* 2026-12-01T00:00:00Z */
	struct run_extra *x = run_extra_get(&r);
	x->params = xcalloc(2, sizeof(char *));
	x->params[0] = xstrdup("day=2026-11-30");
	x->params[1] = xstrdup("region=eu");
	x->nparams = 2;
	x->args = xcalloc(1, sizeof(char *));
	x->args[0] = xstrdup("--tail={{scheduled_time}}");
	x->nargs = 1;
	argc = run_args_resolve(&j, &r, &argv);
	assert_int_equal(argc, (int)ARRAY_SIZE(job_args) + 1);
	assert_string_equal(argv[1], "spark.app.name=etl-2026-11-30");
	assert_string_equal(argv[3], "2026-12-01");
	assert_string_equal(argv[4], "run-42-2");
	assert_string_equal(argv[5], "{{ day }}"); /* not a placeholder */
	assert_string_equal(argv[6], "{{");
	assert_string_equal(argv[7], "xeuy2026-11-30z");
	assert_string_equal(argv[8], "--tail=2026-12-01T00:00:00Z");
	assert_null(argv[argc]);
	run_args_free(argv, argc);
	/* a schedule's firing: its time in its zone's offset */
	x->schedule = 3;
	x->scheduled_ms = 1774746000000; /* 2026-03-29T01:00:00Z */
	x->scheduled_off_s = 7200;
	argc = run_args_resolve(&j, &r, &argv);
	assert_string_equal(argv[3], "2026-03-29");
	assert_string_equal(argv[8], "--tail=2026-03-29T03:00:00+02:00");
	run_args_free(argv, argc);
	x->scheduled_off_s = -12600; /* -03:30 */
	argc = run_args_resolve(&j, &r, &argv);
	assert_string_equal(argv[3], "2026-03-28");
	assert_string_equal(argv[8], "--tail=2026-03-28T21:30:00-03:30");
	run_args_free(argv, argc);
	run_clear(&r);
	job_release(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_resolve),
	};
	log_setup("test_run_args", LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
