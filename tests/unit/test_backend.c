/* test_backend.c - the agent's backend registry (agent/backend.h), the
 * settings each backend takes (common/backend_keys.h, and the scheduler's
 * env_backend.h that stores them), and the Livy backend's requests and
 * answers as data (agent/livy_req.h): argv -> batch JSON, Livy states ->
 * run states, log pages -> lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "env_backend.h"
#include "json.h"
#include "livy_req.h"
#include "model.h"
#include "mp.h"
#include "strbuf.h"

/* ---- registry ---- */

static void test_registry(void **s)
{
	(void)s;
	assert_ptr_equal(backend_find(NULL), &backend_submit_ops);
	assert_ptr_equal(backend_find(""), &backend_submit_ops);
	assert_ptr_equal(backend_find("spark-submit"), &backend_submit_ops);
	assert_ptr_equal(backend_find("livy"), &backend_livy_ops);
	assert_ptr_equal(backend_find("emr-eks"), &backend_emr_ops);
	assert_null(backend_find("yarn"));
	assert_false(backend_not_built_in(&backend_submit_ops));
	assert_false(backend_not_built_in(&backend_livy_ops));
	/* built in here (the static agent registers it as not built in) */
	assert_false(backend_not_built_in(&backend_emr_ops));
	/* every registered name is one the scheduler accepts, and back */
	assert_true(backend_name_valid("spark-submit"));
	assert_true(backend_name_valid("livy"));
	assert_true(backend_name_valid("emr-eks"));
	assert_false(backend_name_valid("Livy"));
	assert_false(backend_name_valid(NULL));
}

/* ---- settings ---- */

static void test_setting_keys(void **s)
{
	char err[300];
	(void)s;
	assert_int_equal(backend_check_setting("livy", "livy_url", err,
					       sizeof(err)), 0);
	assert_int_equal(backend_check_setting("emr-eks", "virtual_cluster_id",
					       err, sizeof(err)), 0);
	assert_int_equal(backend_check_setting("livy", "region", err,
					       sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown setting 'region' for backend "
				    "livy (known: livy_url, livy_user,"));
	assert_int_equal(backend_check_setting("spark-submit", "x", err,
					       sizeof(err)), -1);
	assert_string_equal(err, "unknown setting 'x' for backend "
				 "spark-submit (it takes none)");
	assert_int_equal(backend_check_setting("nope", "x", err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "unknown backend 'nope'"));
	/* a small buffer is cut, never overrun */
	assert_int_equal(backend_check_setting("livy", "zz", err, 20), -1);
	assert_int_equal(strlen(err), 19);
}

static void test_env_settings(void **s)
{
	struct env e;
	struct strbuf ch = STRBUF_INIT, out = STRBUF_INIT;
	char err[300];
	struct jw w;
	(void)s;

	memset(&e, 0, sizeof(e));
	/* a record from before the field: spark-submit */
	assert_string_equal(env_backend_name(&e), "spark-submit");
	assert_int_equal(env_backend_check(&e, NULL, "livy_url=http://l", err,
					   sizeof(err)), -1);
	assert_int_equal(env_backend_check(&e, "livy", "livy_url=http://l",
					   err, sizeof(err)), 0);
	env_backend_apply(&e, "livy", "livy_url=http://l", &ch);
	assert_string_equal(e.backend, "livy");
	assert_string_equal(e.backend_settings, "livy_url=http://l\n");
	assert_string_equal(ch.buf, " backend spark-submit -> livy, backend "
				    "setting livy_url set,");
	/* a secret's file must be a path: the secret never comes here */
	assert_int_equal(env_backend_check(&e, NULL, "livy_password_file=pw",
					   err, sizeof(err)), -1);
	assert_non_null(strstr(err, "absolute path"));
	assert_int_equal(env_backend_check(&e, NULL, "livy_user=a\nb", err,
					   sizeof(err)), -1);
	assert_int_equal(env_backend_check(&e, NULL, "=x", err, sizeof(err)),
			 -1);
	assert_int_equal(env_backend_check(&e, NULL, "livy_user", err,
					   sizeof(err)), -1);
	env_backend_apply(&e, NULL, "livy_user=ana", &ch);
	env_backend_apply(&e, NULL, "livy_url=http://m", &ch);
	assert_string_equal(e.backend_settings,
			    "livy_url=http://m\nlivy_user=ana\n");
	/* KEY= removes */
	env_backend_apply(&e, NULL, "livy_url=", &ch);
	assert_string_equal(e.backend_settings, "livy_user=ana\n");
	/* shown as an object */
	jw_init(&w, &out);
	jw_obj_open(&w, NULL);
	env_backend_write(&w, &e);
	jw_obj_close(&w);
	assert_string_equal(out.buf, "{\"backend\":\"livy\",\"backend_settings"
				     "\":{\"livy_user\":\"ana\"}}");
	/* another backend drops the keys it does not take */
	env_backend_apply(&e, "emr-eks", NULL, &ch);
	assert_string_equal(e.backend_settings, "");
	strbuf_release(&ch);
	strbuf_release(&out);
}

static void test_env_pack(void **s)
{
	struct env e;
	struct strbuf ch = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	const msgpack_object *set;
	char v[64];
	(void)s;

	memset(&e, 0, sizeof(e));
	env_backend_apply(&e, "livy", "livy_url=http://l:8998", &ch);
	env_backend_apply(&e, NULL, "livy_user=ana", &ch);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	env_backend_pack(&pk, &e);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, sb.data, sb.size, NULL),
			 MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(mp_get_str(&u.data, "backend", v, sizeof(v)), 0);
	assert_string_equal(v, "livy");
	set = mp_get(&u.data, "backend_settings");
	assert_non_null(set);
	assert_int_equal(set->type, MSGPACK_OBJECT_MAP);
	assert_int_equal(set->via.map.size, 2);
	assert_int_equal(mp_get_str(set, "livy_user", v, sizeof(v)), 0);
	assert_string_equal(v, "ana");
	msgpack_unpacked_destroy(&u);
	/* no environment: spark-submit, no settings */
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 2);
	env_backend_pack(&pk, NULL);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, sb.data, sb.size, NULL),
			 MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(mp_get_str(&u.data, "backend", v, sizeof(v)), 0);
	assert_string_equal(v, "spark-submit");
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&ch);
}

/* ---- Livy: argv -> POST /batches ---- */

static int batch(const char *const *words, const struct backend_resources *res,
		 const struct backend_setting *set, size_t nset,
		 struct strbuf *out, char *err)
{
	struct backend_ctx ctx;
	size_t n = 0;

	while (words[n])
		n++;
	memset(&ctx, 0, sizeof(ctx));
	ctx.run = 7;
	ctx.attempt = 2;
	ctx.argv = (char *const *)words;
	ctx.argc = n;
	if (res)
		ctx.res = *res;
	ctx.settings = set;
	ctx.nsettings = nset;
	return livy_batch_json(&ctx, out, err, 300);
}

static void test_livy_batch_json(void **s)
{
	static const char *const argv[] = {
		"--master", "yarn", "--deploy-mode=cluster", "--class",
		"com.acme.Main", "--conf", "spark.a=1=2", "--conf=spark.b=x",
		"--jars", "s3://j/a.jar,s3://j/b.jar", "--name", "etl",
		"--num-executors", "4", "--driver-memory", "2g", "--verbose",
		"s3://acme/app.jar", "--in", "s3://x", NULL
	};
	static const struct backend_resources res = { 1, 1024, 2, 4096, 9 };
	static const struct backend_setting set[] = {
		{ "livy_queue", "etl" }, { "livy_proxy_user", "ana" },
	};
	struct strbuf out = STRBUF_INIT;
	struct json *j;
	char err[300];
	(void)s;

	assert_int_equal(batch(argv, &res, set, 2, &out, err), 0);
	/* argv wins over the declared resources; --master/--deploy-mode go */
	assert_string_equal(
		out.buf,
		"{\"file\":\"s3://acme/app.jar\",\"className\":\"com.acme.Main\","
		"\"args\":[\"--in\",\"s3://x\"],"
		"\"jars\":[\"s3://j/a.jar\",\"s3://j/b.jar\"],"
		"\"driverMemory\":\"2g\",\"driverCores\":1,"
		"\"executorMemory\":\"4096m\",\"executorCores\":2,"
		"\"numExecutors\":4,\"name\":\"sp-7-2\",\"queue\":\"etl\","
		"\"proxyUser\":\"ana\",\"conf\":{\"spark.a\":\"1=2\","
		"\"spark.b\":\"x\",\"spark.app.name\":\"etl\"}}");
	j = json_parse(out.buf, out.len, err, sizeof(err));
	assert_non_null(j);
	json_free(j);
	strbuf_release(&out);
}

static void test_livy_batch_refusals(void **s)
{
	static const char *const noconf[] = { "--conf", "spark.x", "a.jar",
					      NULL };
	static const char *const nofile[] = { "--class", "A", NULL };
	static const char *const novalue[] = { "--class", NULL };
	static const char *const props[] = { "--properties-file", "p",
					     "a.jar", NULL };
	static const char *const bare[] = { "app.py", NULL };
	struct strbuf out = STRBUF_INIT;
	char err[300];
	(void)s;

	assert_int_equal(batch(noconf, NULL, NULL, 0, &out, err), -1);
	assert_string_equal(err, "Spark config without '=': spark.x");
	assert_int_equal(batch(nofile, NULL, NULL, 0, &out, err), -1);
	assert_string_equal(err, "no application file in the job's arguments");
	assert_int_equal(batch(novalue, NULL, NULL, 0, &out, err), -1);
	assert_string_equal(err, "spark-submit option --class without its "
				 "value");
	assert_int_equal(batch(props, NULL, NULL, 0, &out, err), -1);
	assert_string_equal(err, "spark-submit option --properties-file "
				 "cannot be sent to Livy");
	/* nothing declared: only what Livy needs */
	assert_int_equal(batch(bare, NULL, NULL, 0, &out, err), 0);
	assert_string_equal(out.buf, "{\"file\":\"app.py\",\"args\":[],"
				     "\"name\":\"sp-7-2\",\"conf\":{}}");
	strbuf_release(&out);
}

/* ---- Livy: states and answers ---- */

static void test_livy_states(void **s)
{
	bool known;
	(void)s;
	assert_int_equal(livy_state("starting", false, &known),
			 BACKEND_SUBMITTED);
	assert_true(known);
	assert_int_equal(livy_state("not_started", false, &known),
			 BACKEND_SUBMITTED);
	assert_int_equal(livy_state("running", false, &known),
			 BACKEND_RUNNING);
	assert_int_equal(livy_state("shutting_down", false, &known),
			 BACKEND_RUNNING);
	assert_int_equal(livy_state("success", false, &known),
			 BACKEND_SUCCEEDED);
	assert_int_equal(livy_state("dead", false, &known), BACKEND_FAILED);
	assert_int_equal(livy_state("error", false, &known), BACKEND_FAILED);
	/* killed by us is a cancel; by someone else, a failure */
	assert_int_equal(livy_state("killed", true, &known),
			 BACKEND_CANCELLED);
	assert_int_equal(livy_state("killed", false, &known), BACKEND_FAILED);
	assert_int_equal(livy_state("weird", false, &known),
			 BACKEND_SUBMITTED);
	assert_false(known);
	assert_true(backend_state_final(BACKEND_TIMED_OUT));
	assert_false(backend_state_final(BACKEND_RUNNING));
}

static void test_livy_parse_batch(void **s)
{
	static const char ok[] = "{\"id\":3,\"name\":\"sp-1-1\",\"state\":"
				 "\"starting\",\"appId\":null,\"log\":[]}";
	static const char app[] = "{\"id\":0,\"state\":\"running\",\"appId\":"
				  "\"application_1_0001\"}";
	char state[32], id_s[128], err[200];
	int64_t id;
	(void)s;

	assert_int_equal(livy_parse_batch(ok, strlen(ok), &id, state,
					  sizeof(state), id_s, sizeof(id_s),
					  err, sizeof(err)), 0);
	assert_int_equal(id, 3);
	assert_string_equal(state, "starting");
	assert_string_equal(id_s, "");
	assert_int_equal(livy_parse_batch(app, strlen(app), &id, state,
					  sizeof(state), id_s, sizeof(id_s),
					  err, sizeof(err)), 0);
	assert_string_equal(id_s, "application_1_0001");
	assert_int_equal(livy_parse_batch("{\"id\":-1}", 9, &id, state,
					  sizeof(state), id_s, sizeof(id_s),
					  err, sizeof(err)), -1);
	assert_int_equal(livy_parse_batch("<html>", 6, &id, state,
					  sizeof(state), id_s, sizeof(id_s),
					  err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not JSON"));
}

struct lines {
	struct strbuf sb;
	int n;
};

static void collect(void *ctx, int stream, const char *line, size_t len)
{
	struct lines *l = ctx;
	strbuf_addf(&l->sb, "%d:%.*s|", stream, (int)len, line);
	l->n++;
}

static void test_livy_log_pages(void **s)
{
	static const char p1[] = "{\"id\":0,\"from\":0,\"total\":5,\"log\":["
				 "\"stdout: \",\"hello\",\"\\nstderr: \","
				 "\"INFO a\"]}";
	static const char p2[] = "{\"id\":0,\"from\":4,\"total\":5,\"log\":["
				 "\"ERROR b\",7]}";
	struct lines l = { STRBUF_INIT, 0 };
	int stream = 2;
	char err[200];
	(void)s;

	/* markers are counted (they move `from`) but not logged */
	assert_int_equal(livy_log_page(p1, strlen(p1), collect, &l, &stream,
				       err, sizeof(err)), 4);
	assert_int_equal(l.n, 2);
	assert_int_equal(stream, 2);
	assert_int_equal(livy_log_page(p2, strlen(p2), collect, &l, &stream,
				       err, sizeof(err)), 1);
	assert_string_equal(l.sb.buf, "1:hello|2:INFO a|2:ERROR b|");
	assert_int_equal(livy_log_page("{\"id\":0}", 8, collect, &l, &stream,
				       err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no \"log\" list"));
	strbuf_release(&l.sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_setting_keys),
		cmocka_unit_test(test_env_settings),
		cmocka_unit_test(test_env_pack),
		cmocka_unit_test(test_livy_batch_json),
		cmocka_unit_test(test_livy_batch_refusals),
		cmocka_unit_test(test_livy_states),
		cmocka_unit_test(test_livy_parse_batch),
		cmocka_unit_test(test_livy_log_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
