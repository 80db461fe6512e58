/* test_roles.c - roles on the admin socket (access.h, cmd_access.c)
 * through a real core: grants parsed from role_* values, commands from
 * callers with other uids and groups. A refusal is `forbidden` and says
 * which role is needed and which the caller has; a tenant-scoped viewer
 * sees nothing of another tenant, not in lists, totals or usage, and a
 * run, job or tenant of another is answered as if it did not exist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "config.h"
#include "core_fixture.h"
#include "json.h"
#include "strbuf.h"

static struct sched_config cfg; /* handed to the core by reconfigure */
static uint64_t acme_run, globex_run;

static const struct access_peer
	admin_u = { .uid = 1000, .gid = 1000 },
	op_acme = { .uid = 1001, .gid = 1001 },
	view_acme = { .uid = 1002, .gid = 1002 },
	view_all = { .uid = 1003, .gid = 1003 },
	via_group = { .uid = 1004, .gid = 1004, .ngroups = 1, .groups = { 0 } },
	nobody = { .uid = 1005, .gid = 1005 };

/* Runs line as peer; returns the parsed reply (caller frees). */
static struct json *as(struct fx *f, const struct access_peer *p,
		       const char *line)
{
	struct strbuf out = STRBUF_INIT;
	char err[128];
	struct json *j;

	admin_reply_as(f, p, line, &out);
	j = json_parse(out.buf, out.len, err, sizeof(err));
	if (!j)
		fail_msg("%s: %s", line, err);
	strbuf_release(&out);
	return j;
}

/* Asserts line as p fails with code and message. */
static void refused(struct fx *f, const struct access_peer *p,
		    const char *line, const char *code, const char *msg)
{
	struct json *j = as(f, p, line);
	if (json_get_bool(j, "ok") || strcmp(json_get_str(j, "error"), code) ||
	    strcmp(json_get_str(j, "message"), msg))
		fail_msg("%s: expected %s '%s', got %s '%s'", line, code, msg,
			 json_get_str(j, "error"), json_get_str(j, "message"));
	json_free(j);
}

static struct json *ok_as(struct fx *f, const struct access_peer *p,
			  const char *line)
{
	struct json *j = as(f, p, line);
	if (!json_get_bool(j, "ok"))
		fail_msg("%s: %s", line, json_get_str(j, "message"));
	return j;
}

/* The values of member key of each element of array arr, joined by ','. */
static void column(const struct json *arr, const char *key, char *buf,
		   size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; arr && i < arr->n; i++) {
		const char *v = json_get_str(arr->items[i], key);
		const struct json *n = json_get(arr->items[i], key);
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			 i ? "," : "", v ? v : n ? n->str : "?");
	}
}

static void grant(const char *adm, const char *op, const char *view)
{
	char err[256];
	snprintf(cfg.role_admin, sizeof(cfg.role_admin), "%s", adm);
	snprintf(cfg.role_operator, sizeof(cfg.role_operator), "%s", op);
	snprintf(cfg.role_viewer, sizeof(cfg.role_viewer), "%s", view);
	assert_int_equal(config_resolve(&cfg, err, sizeof(err)), 0);
}

static int setup(void **state)
{
	struct fx *f;
	struct json *j;

	fx_setup(state);
	f = *state;
	admin_ok(f, "tenant add globex");
	admin_ok(f, "env add globex/prod");
	admin_ok(f, "job add globex/prod/j -- --master yarn app.jar");
	admin_ok(f, "dispatch pause");
	j = admin(f, "run start acme/prod/j");
	acme_run = strtoull(json_get(j, "run")->str, NULL, 10);
	json_free(j);
	j = admin(f, "run start globex/prod/j");
	globex_run = strtoull(json_get(j, "run")->str, NULL, 10);
	json_free(j);
	cfg = f->cfg;
	grant("uid:1000", "uid:1001@acme", "uid:1002@acme uid:1003 group:root");
	core_reconfigure(f->core, &cfg);
	return 0;
}

static void test_refusals_name_the_roles(void **state)
{
	struct fx *f = *state;
	char line[64];

	refused(f, &view_acme, "run start acme/prod/j", "forbidden",
		"forbidden: 'run start' needs role operator; uid 1002 has "
		"viewer for acme");
	refused(f, &view_acme, "tenant add x", "forbidden",
		"forbidden: 'tenant add' needs role admin; uid 1002 has "
		"viewer only for some tenants");
	refused(f, &nobody, "tenant list", "forbidden",
		"forbidden: 'tenant list' needs role viewer; uid 1005 has no "
		"role");
	refused(f, &op_acme, "dispatch resume", "forbidden",
		"forbidden: 'dispatch resume' needs role operator; uid 1001 "
		"has operator only for some tenants");
	refused(f, &view_all, "agent token acme/prod", "forbidden",
		"forbidden: 'agent token' needs role admin; uid 1003 has "
		"viewer");
	snprintf(line, sizeof(line), "run cancel %llu",
		 (unsigned long long)acme_run);
	refused(f, &view_all, line, "forbidden",
		"forbidden: 'run cancel' needs role operator; uid 1003 has "
		"viewer for acme");
	/* nothing changed: the run is still queued */
	snprintf(line, sizeof(line), "run show %llu",
		 (unsigned long long)acme_run);
	struct json *j = ok_as(f, &view_acme, line);
	assert_string_equal(json_get_str(json_get(j, "run"), "state"),
			    "queued");
	json_free(j);
	/* help is for anyone, and names each command's role */
	j = ok_as(f, &nobody, "help");
	const struct json *cmds = json_get(j, "commands");
	assert_non_null(cmds);
	for (size_t i = 0; i < cmds->n; i++)
		assert_non_null(json_get_str(cmds->items[i], "role"));
	assert_non_null(strstr(json_get_str(j, "print"),
			       "create a tenant [admin]"));
	json_free(j);
}

static void test_operator_of_one_tenant(void **state)
{
	struct fx *f = *state;
	char line[64];
	struct json *j = ok_as(f, &op_acme, "run start acme/prod/j");
	json_free(j);
	refused(f, &op_acme, "run start globex/prod/j", "not_found",
		"no job 'globex/prod/j'");
	char msg[64];
	snprintf(line, sizeof(line), "run cancel %llu",
		 (unsigned long long)globex_run);
	snprintf(msg, sizeof(msg), "no run %llu",
		 (unsigned long long)globex_run);
	refused(f, &op_acme, line, "not_found", msg);
}

static void test_scoped_viewer_sees_one_tenant(void **state)
{
	struct fx *f = *state;
	char buf[256], line[64];
	struct json *j;

	j = ok_as(f, &view_acme, "tenant list");
	column(json_get(j, "items"), "name", buf, sizeof(buf));
	assert_string_equal(buf, "acme");
	json_free(j);
	j = ok_as(f, &view_acme, "env list");
	column(json_get(j, "items"), "env", buf, sizeof(buf));
	assert_string_equal(buf, "acme/prod");
	json_free(j);
	j = ok_as(f, &view_acme, "job list");
	column(json_get(j, "items"), "job", buf, sizeof(buf));
	assert_string_equal(buf, "acme/prod/j");
	json_free(j);
	j = ok_as(f, &view_acme, "run list");
	column(json_get(j, "items"), "job", buf, sizeof(buf));
	assert_null(strstr(buf, "globex"));
	assert_non_null(strstr(buf, "acme/prod/j"));
	json_free(j);
	j = ok_as(f, &view_acme, "agent list");
	assert_int_equal(json_get(j, "items")->n, 1);
	assert_null(json_get(j, "rejected_unknown_agent"));
	json_free(j);
	/* totals over acme only; no fleet-wide figures */
	j = ok_as(f, &view_acme, "queue stats");
	column(json_get(j, "tenants"), "tenant", buf, sizeof(buf));
	assert_string_equal(buf, "acme");
	assert_null(json_get(j, "wal_sync"));
	assert_null(json_get(j, "agent_connections"));
	const struct json *q = json_get(json_get(j, "tenants")->items[0],
					"queued");
	assert_string_equal(json_get(j, "queued")->str, q->str);
	json_free(j);
	j = ok_as(f, &view_all, "queue stats");
	assert_non_null(json_get(j, "wal_sync"));
	column(json_get(j, "tenants"), "tenant", buf, sizeof(buf));
	assert_string_equal(buf, "acme,globex");
	json_free(j);
	/* what belongs to globex does not exist for it */
	refused(f, &view_acme, "tenant show globex", "not_found",
		"no tenant 'globex'");
	refused(f, &view_acme, "env show globex/prod", "not_found",
		"no environment 'globex/prod'");
	refused(f, &view_acme, "job show globex/prod/j", "not_found",
		"no job 'globex/prod/j'");
	refused(f, &view_acme, "tenant events globex", "not_found",
		"no tenant 'globex'");
	refused(f, &view_acme, "usage globex", "not_found",
		"no tenant 'globex'");
	refused(f, &view_acme, "report env globex/prod", "not_found",
		"no environment 'globex/prod'");
	json_free(ok_as(f, &view_acme, "report env acme/prod --format md"));
	refused(f, &view_acme, "run list --tenant globex", "not_found",
		"no tenant 'globex'");
	snprintf(line, sizeof(line), "run logs %llu",
		 (unsigned long long)globex_run);
	snprintf(buf, sizeof(buf), "no run %llu",
		 (unsigned long long)globex_run);
	refused(f, &view_acme, line, "not_found", buf);
	/* ... as a run that does not exist at all */
	refused(f, &view_acme, "run show 999999", "not_found",
		"no run 999999");
	/* a viewer through its group sees both */
	j = ok_as(f, &via_group, "tenant list");
	column(json_get(j, "items"), "name", buf, sizeof(buf));
	assert_string_equal(buf, "acme,globex");
	json_free(j);
}

static void test_admin_root_and_no_roles(void **state)
{
	struct fx *f = *state;
	struct access_peer root = { 0 };
	struct json *j = ok_as(f, &admin_u, "tenant add initech");
	json_free(j);
	j = ok_as(f, &root, "tenant add hooli");
	json_free(j);
	/* no role_* at all: whoever reaches the socket is admin */
	grant("", "", "");
	core_reconfigure(f->core, &cfg);
	j = ok_as(f, &nobody, "tenant add umbrella");
	json_free(j);
	grant("uid:1000", "uid:1001@acme", "uid:1002@acme uid:1003 group:root");
	core_reconfigure(f->core, &cfg);
}

/* The role_* values themselves: refused where they are wrong. */
static void test_specs(void **state)
{
	char err[256];
	struct access_grants g;
	(void)state;

	assert_int_equal(access_check_spec("user:root group:root uid:7", false,
					   err, sizeof(err)), 0);
	assert_int_equal(access_check_spec("uid:7@acme,globex", true, err,
					   sizeof(err)), 0);
	assert_int_equal(access_check_spec("uid:7@acme", false, err,
					   sizeof(err)), -1);
	assert_string_equal(err,
			    "'uid:7@acme': admin is never limited to tenants");
	assert_int_equal(access_check_spec("user:no-such-user-here", true, err,
					   sizeof(err)), -1);
	assert_string_equal(err, "no user 'no-such-user-here' on this system");
	assert_int_equal(access_check_spec("group:no-such-group-here", true,
					   err, sizeof(err)), -1);
	assert_string_equal(err,
			    "no group 'no-such-group-here' on this system");
	assert_int_equal(access_check_spec("root", true, err, sizeof(err)), -1);
	assert_string_equal(err,
			    "'root' is not user:NAME, group:NAME or uid:N");
	assert_int_equal(access_check_spec("team:x", true, err, sizeof(err)),
			 -1);
	assert_int_equal(access_check_spec("uid:x", true, err, sizeof(err)),
			 -1);
	assert_int_equal(access_check_spec("uid:7@", true, err, sizeof(err)),
			 -1);
	assert_int_equal(access_check_spec("uid:7@a b", true, err,
					   sizeof(err)), -1); /* "b" alone */
	assert_string_equal(err, "'b' is not user:NAME, group:NAME or uid:N");
	assert_int_equal(access_check_spec("uid:7@ac/me", true, err,
					   sizeof(err)), -1);
	memset(&g, 0, sizeof(g));
	assert_int_equal(access_add_grants(&g, ROLE_VIEWER, "  ", err,
					   sizeof(err)), 0);
	assert_false(g.configured);
	for (int i = 0; i < ACCESS_MAX_GRANTS; i++)
		assert_int_equal(access_add_grants(&g, ROLE_VIEWER, "uid:1", err,
						   sizeof(err)), 0);
	assert_int_equal(access_add_grants(&g, ROLE_VIEWER, "uid:1", err,
					   sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals_name_the_roles),
		cmocka_unit_test(test_operator_of_one_tenant),
		cmocka_unit_test(test_scoped_viewer_sees_one_tenant),
		cmocka_unit_test(test_admin_root_and_no_roles),
		cmocka_unit_test(test_specs),
	};
	return cmocka_run_group_tests(tests, setup, fx_teardown);
}
