/* test_sparkrest.c - executor lifetimes from Spark's monitoring REST:
 * sample allexecutors bodies (tests/data/sparkrest) with sums worked out by
 * hand, malformed bodies refused with a reason, random bytes survived,
 * application id checks, and the real HTTP path against tests/fakes/
 * spark-rest (200, 404, a body too big, a timeout), fed by the fake
 * spark-submit's spark.fake.rest_dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sparkrest.h"
#include "strbuf.h"
#include "util.h"

#define REST_FAKE "tests/fakes/spark-rest"
#define SUBMIT_FAKE "tests/fakes/spark-submit"
/* 2026-11-23T00:10:00.000Z, the end of dynamic-allocation.json's app */
#define DYN_APP_END 1795392600000LL

static char *load(const char *name, size_t *len)
{
	char path[256];
	char *text;

	snprintf(path, sizeof(path), "tests/data/sparkrest/%s", name);
	text = read_file(path, 1 << 20, len);
	if (!text)
		fail_msg("cannot read %s (run from the repository root)", path);
	return text;
}

static int parse(const char *body, int64_t app_end, struct spark_usage *u,
		 char *err, size_t errlen)
{
	return sparkrest_parse_executors(body, strlen(body), app_end, u, err,
					 errlen);
}

static void test_dynamic_allocation(void **s)
{
	struct spark_usage u;
	char err[256];
	size_t len;
	char *body = load("dynamic-allocation.json", &len);
	(void)s;
	/* 1: 4 cores 23:40:05.250 .. app end 00:10:00.000 = 1794750 ms
	 * 2: 4 cores 23:40:05.731 .. 23:52:35.731 = 750000 (idle, killed)
	 * 3: 4 cores 23:41:10.000 .. 23:44:30.500 = 200500 (lost node)
	 * 4: 4 cores 23:44:41.100 .. 00:02:11.100 = 1050000 (past midnight)
	 * 5: 2 cores 23:59:59.999 .. app end 00:10:00.000 = 600001 */
	assert_int_equal(sparkrest_parse_executors(body, len, DYN_APP_END, &u,
						   err, sizeof(err)),
			 0);
	assert_int_equal(u.executors, 5);
	assert_int_equal(u.exec_lifetime_ms, 4395251);
	assert_int_equal(u.exec_core_ms, 4 * 3795250 + 2 * 600001);

	/* an app end before every addTime: executors still running count 0,
	 * the removed ones keep their lifetimes */
	assert_int_equal(
		sparkrest_parse_executors(body, len, 0, &u, err, sizeof(err)),
		0);
	assert_int_equal(u.executors, 5);
	assert_int_equal(u.exec_lifetime_ms, 750000 + 200500 + 1050000);
	assert_int_equal(u.exec_core_ms, 4 * 2000500);
	free(body);
}

static void test_driver_only_and_empty(void **s)
{
	struct spark_usage u;
	char err[256];
	size_t len;
	char *body = load("driver-only.json", &len);
	(void)s;
	/* local mode: the driver holds the 8 cores, and it is not billed
	 * from here */
	memset(&u, 0xff, sizeof(u));
	assert_int_equal(sparkrest_parse_executors(body, len, DYN_APP_END, &u,
						   err, sizeof(err)),
			 0);
	assert_int_equal(u.executors, 0);
	assert_int_equal(u.exec_lifetime_ms, 0);
	assert_int_equal(u.exec_core_ms, 0);
	free(body);

	body = load("empty.json", &len);
	memset(&u, 0xff, sizeof(u));
	assert_int_equal(sparkrest_parse_executors(body, len, DYN_APP_END, &u,
						   err, sizeof(err)),
			 0);
	assert_int_equal(u.executors, 0);
	assert_int_equal(u.exec_core_ms, 0);
	free(body);
}

#define ADD "\"addTime\":\"2026-11-22T14:43:37.123GMT\""

static void test_malformed_refused(void **s)
{
	static const struct {
		const char *body, *why;
	} cases[] = {
		{"", "bad JSON"},
		{"[{\"id\":\"1\",\"totalCores\":1," ADD "}", "bad JSON"},
		{"{\"id\":\"1\"}", "not a JSON array"},
		{"\"[]\"", "not a JSON array"},
		{"[1]", "element 0 is not an object"},
		{"[{\"id\":\"driver\"},[]]", "element 1 is not an object"},
		{"[{\"totalCores\":1," ADD "}]", "element 0 has no string id"},
		{"[{\"id\":7,\"totalCores\":1," ADD "}]",
		 "element 0 has no string id"},
		{"[{\"id\":\"7\"," ADD "}]", "executor '7': no totalCores"},
		{"[{\"id\":\"7\",\"totalCores\":\"4\"," ADD "}]",
		 "executor '7': no totalCores"},
		{"[{\"id\":\"7\",\"totalCores\":-1," ADD "}]",
		 "executor '7': totalCores"},
		{"[{\"id\":\"7\",\"totalCores\":1.5," ADD "}]",
		 "executor '7': totalCores"},
		{"[{\"id\":\"7\",\"totalCores\":65537," ADD "}]",
		 "executor '7': totalCores"},
		{"[{\"id\":\"7\",\"totalCores\":99999999999999999999999," ADD
		 "}]",
		 "executor '7': totalCores"},
		{"[{\"id\":\"7\",\"totalCores\":1e3," ADD "}]",
		 "executor '7': totalCores"},
		{"[{\"id\":\"7\",\"totalCores\":1}]", "executor '7': addTime"},
		{"[{\"id\":\"7\",\"totalCores\":1,\"addTime\":1700000000000}]",
		 "executor '7': addTime"},
		{"[{\"id\":\"7\",\"totalCores\":1,"
		 "\"addTime\":\"2026-11-22 14:43:37.123GMT\"}]",
		 "executor '7': addTime"},
		{"[{\"id\":\"7\",\"totalCores\":1,"
		 "\"addTime\":\"2026-11-22T14:43:37.123Z\"}]",
		 "executor '7': addTime"},
		{"[{\"id\":\"7\",\"totalCores\":1,"
		 "\"addTime\":\"2026-11-22T14:43:37.123GMT+1\"}]",
		 "executor '7': addTime"},
		{"[{\"id\":\"7\",\"totalCores\":1,"
		 "\"addTime\":\"2026-13-22T14:43:37.123GMT\"}]",
		 "executor '7': addTime"},
		{"[{\"id\":\"7\",\"totalCores\":1,"
		 "\"addTime\":\"2026-11-22T24:00:00.000GMT\"}]",
		 "executor '7': addTime"},
		{"[{\"id\":\"7\",\"totalCores\":1,"
		 "\"addTime\":\"1969-12-31T23:59:59.999GMT\"}]",
		 "executor '7': addTime"},
		{"[{\"id\":\"7\",\"totalCores\":1,"
		 "\"addTime\":\"2026-11-2xT14:43:37.123GMT\"}]",
		 "executor '7': addTime"},
		{"[{\"id\":\"7\",\"totalCores\":1," ADD
		 ",\"removeTime\":\"2026-02-30T00:00:00.000GMT\"}]",
		 "executor '7': removeTime"},
		{"[{\"id\":\"7\",\"totalCores\":1," ADD ",\"removeTime\":{}}]",
		 "executor '7': removeTime"},
		/* a hostile id is quoted printable, on one line */
		{"[{\"id\":\"a\\nb\\u0000c\",\"totalCores\":-2," ADD "}]",
		 "executor 'a?b?c': totalCores"},
	};
	struct spark_usage u, before;
	char err[256];
	(void)s;
	memset(&before, 0x5a, sizeof(before));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		u = before;
		err[0] = '\0';
		if (parse(cases[i].body, DYN_APP_END, &u, err, sizeof(err)) !=
		    -1)
			fail_msg("case %zu accepted: %s", i, cases[i].body);
		if (!strstr(err, cases[i].why))
			fail_msg("case %zu: '%s' lacks '%s'", i, err,
				 cases[i].why);
		assert_null(strchr(err, '\n'));
		assert_memory_equal(&u, &before, sizeof(u));
	}
}

static void test_edges_accepted(void **s)
{
	struct spark_usage u;
	char err[256];
	(void)s;
	/* removeTime before addTime (clock skew) clamps at 0; null
	 * removeTime means still running; unknown fields are ignored; the
	 * driver's fields are not checked */
	assert_int_equal(
		parse("[{\"id\":\"driver\"},"
		      "{\"id\":\"1\",\"totalCores\":3,\"extra\":[1,{}],"
		      "\"addTime\":\"2026-11-22T14:00:01.000GMT\","
		      "\"removeTime\":\"2026-11-22T14:00:00.000GMT\"},"
		      "{\"id\":\"2\",\"totalCores\":0,"
		      "\"addTime\":\"2024-02-29T00:00:00.000GMT\","
		      "\"removeTime\":null}]",
		      1709164800000LL + 5000, &u, err, sizeof(err)),
		0);
	assert_int_equal(u.executors, 2);
	assert_int_equal(u.exec_lifetime_ms, 5000);
	assert_int_equal(u.exec_core_ms, 0);
}

static void test_sums_saturate(void **s)
{
	struct spark_usage u;
	char err[256];
	(void)s;
	/* 65536 cores x ~8000 years overflows int64 in one product; two
	 * executors running to an app end of INT64_MAX overflow the sum */
	assert_int_equal(
		parse("[{\"id\":\"1\",\"totalCores\":65536,"
		      "\"addTime\":\"1970-01-01T00:00:00.000GMT\","
		      "\"removeTime\":\"9999-12-31T23:59:59.999GMT\"}]",
		      0, &u, err, sizeof(err)),
		0);
	assert_int_equal(u.exec_lifetime_ms, 253402300799999LL);
	assert_true(u.exec_core_ms == INT64_MAX);
	assert_int_equal(parse("[{\"id\":\"1\",\"totalCores\":1," ADD "},"
			       "{\"id\":\"2\",\"totalCores\":1," ADD "}]",
			       INT64_MAX, &u, err, sizeof(err)),
			 0);
	assert_true(u.exec_lifetime_ms == INT64_MAX);
	assert_true(u.exec_core_ms == INT64_MAX);
	/* an app end far in the past: lifetimes clamp, nothing wraps */
	assert_int_equal(parse("[{\"id\":\"1\",\"totalCores\":1," ADD "}]",
			       INT64_MIN, &u, err, sizeof(err)),
			 0);
	assert_int_equal(u.exec_lifetime_ms, 0);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* A byte that JSON or a Spark date cares about, or any byte. */
static char fuzz_byte(void)
{
	static const char alphabet[] = "[]{}\",:0123456789-.eTGM\\u \xff";

	if (rnd(2))
		return alphabet[rnd(sizeof(alphabet))]; /* NUL included */
	return (char)rnd(256);
}

/* Changes a digit or letter into another value byte: the JSON mostly stays
 * valid and the dates, cores and ids go wrong instead. */
static void mutate_value(char *b, size_t n)
{
	static const char value[] = "0123456789-.:eTGMZx";

	for (int tries = 0; tries < 64; tries++) {
		size_t at = rnd((uint32_t)n);
		if ((b[at] >= '0' && b[at] <= '9') ||
		    (b[at] >= 'A' && b[at] <= 'Z')) {
			b[at] = value[rnd(sizeof(value) - 1)];
			return;
		}
	}
}

/* One fuzz body: a mutated sample (value changes, flips, structural bytes,
 * a cut) or plain random bytes; returned in an exact-size buffer so an
 * over-read shows under ASan. */
static char *mutate(char *const *seeds, const size_t *lens, size_t nseeds,
		    size_t *len)
{
	size_t k = rnd((uint32_t)nseeds + 1), n;
	bool values_only = rnd(2);
	char *b;

	if (k == nseeds) {
		n = rnd(300);
		b = xmalloc(n ? n : 1);
		for (size_t i = 0; i < n; i++)
			b[i] = fuzz_byte();
		*len = n;
		return b;
	}
	n = lens[k];
	b = xmalloc(n);
	memcpy(b, seeds[k], n);
	for (uint32_t m = 1 + rnd(8); m > 0 && n > 0; m--) {
		if (values_only)
			mutate_value(b, n);
		else
			b[rnd((uint32_t)n)] = fuzz_byte();
	}
	if (!values_only && rnd(4) == 0)
		n = rnd((uint32_t)n + 1);
	*len = n;
	return b;
}

static void test_random_bodies_survive(void **s)
{
	static const char *const names[] = {"dynamic-allocation.json",
					    "driver-only.json", "empty.json"};
	static const char small[] =
		"[{\"id\":\"1\",\"totalCores\":2," ADD
		",\"removeTime\":\"2026-11-22T14:44:37.123GMT\"}]";
	char *seeds[4];
	size_t lens[4];
	unsigned ok = 0, refused = 0, deep = 0;
	(void)s;
	for (size_t i = 0; i < 3; i++)
		seeds[i] = load(names[i], &lens[i]);
	seeds[3] = xstrdup(small);
	lens[3] = strlen(small);
	for (int i = 0; i < 20000; i++) {
		struct spark_usage u = {0};
		char err[128] = "", *b;
		size_t n;

		b = mutate(seeds, lens, 4, &n);
		if (sparkrest_parse_executors(b, n, DYN_APP_END, &u, err,
					      sizeof(err)) == 0) {
			assert_true(u.exec_lifetime_ms >= 0);
			assert_true(u.exec_core_ms >= 0);
			ok++;
		} else {
			assert_true(err[0] != '\0');
			assert_null(strchr(err, '\n'));
			refused++;
			deep += strstr(err, "executor '") != NULL;
		}
		free(b);
	}
	/* the mutations exercise both outcomes, and refusals past the JSON
	 * syntax (bad dates and cores) */
	assert_true(ok > 100);
	assert_true(refused > 100);
	assert_true(deep > 50);
	for (size_t i = 0; i < 4; i++)
		free(seeds[i]);
}

static void test_app_id_valid(void **s)
{
	char long_id[SPARKREST_MAX_APP_ID + 2];
	(void)s;
	assert_true(sparkrest_app_id_valid("application_1700000000000_0042"));
	assert_true(sparkrest_app_id_valid(
		"spark-0a1b2c3d4e5f60718293a4b5c6d7e8f9"));
	assert_true(sparkrest_app_id_valid("local-1795859595319"));
	assert_true(sparkrest_app_id_valid("app-20261122144337-0001"));
	assert_false(sparkrest_app_id_valid(""));
	assert_false(sparkrest_app_id_valid("../../etc/passwd"));
	assert_false(sparkrest_app_id_valid("a/b"));
	assert_false(sparkrest_app_id_valid("a%2fb"));
	assert_false(sparkrest_app_id_valid("a b"));
	assert_false(sparkrest_app_id_valid("a?x=1"));
	assert_false(sparkrest_app_id_valid("app.1"));
	memset(long_id, 'a', sizeof(long_id) - 2);
	long_id[sizeof(long_id) - 2] = '\0';
	assert_true(sparkrest_app_id_valid(long_id));
	long_id[sizeof(long_id) - 2] = 'a';
	long_id[sizeof(long_id) - 1] = '\0';
	assert_false(sparkrest_app_id_valid(long_id));
}

static void test_request_refused_before_network(void **s)
{
	static const struct {
		const char *base, *app, *why;
	} cases[] = {
		{"http://127.0.0.1:1", "../x", "application id '../x'"},
		{"http://127.0.0.1:1", "", "application id"},
		{"ftp://127.0.0.1:1", "local-1", "http:// or https://"},
		{"file:///etc", "local-1", "http:// or https://"},
		{"http://127.0.0.1:1/?a=", "local-1", "query"},
		{"http://127.0.0.1:1/#x", "local-1", "query"},
		{"http://127.0.0.1:1/a b", "local-1", "space"},
	};
	struct spark_usage u;
	char err[256];
	(void)s;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		err[0] = '\0';
		assert_int_equal(sparkrest_executor_usage(cases[i].base,
							  cases[i].app, 0, 1000,
							  &u, err, sizeof(err)),
				 -1);
		if (!strstr(err, cases[i].why))
			fail_msg("case %zu: '%s' lacks '%s'", i, err,
				 cases[i].why);
	}
}

/* ---- live: the fake REST server and the fake spark-submit ---- */

struct live {
	char dir[64];
	pid_t server;
	int port;
};

static int live_setup(void **s)
{
	struct live *l = xcalloc(1, sizeof(*l));

	snprintf(l->dir, sizeof(l->dir), "/tmp/test_sparkrest.XXXXXX");
	if (!mkdtemp(l->dir)) {
		free(l);
		return -1;
	}
	l->server = -1;
	*s = l;
	return 0;
}

/* Stops the server (if any) by its pid and waits for it; the exit
 * status, or -1. */
static int server_stop(struct live *l)
{
	int status = -1;

	if (l->server <= 0)
		return -1;
	kill(l->server, SIGTERM);
	while (waitpid(l->server, &status, 0) == -1 && errno == EINTR)
		;
	l->server = -1;
	return status;
}

/* Runs in every path, failed assertions included: stop the server, remove
 * the temp dir. */
static int live_teardown(void **s)
{
	struct live *l = *s;
	DIR *d = opendir(l->dir);
	struct dirent *e;
	char path[512];

	server_stop(l);
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", l->dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(l->dir);
	free(l);
	return 0;
}

static void need_script(const char *path)
{
	if (access(path, R_OK) != 0)
		fail_msg("%s not found: run the test from the repository root "
			 "(build/tests/test_sparkrest)",
			 path);
}

/* Starts tests/fakes/spark-rest --dir l->dir --port 0 [flag val] and reads
 * "listening on PORT" from its stdout. */
static void server_start(struct live *l, const char *flag, const char *val)
{
	char line[64] = "";
	size_t n = 0;
	int fds[2];
	int64_t deadline;

	need_script(REST_FAKE);
	assert_int_equal(pipe(fds), 0);
	l->server = fork();
	assert_true(l->server >= 0);
	if (l->server == 0) {
		/* an aborted test (ASan) must not leave the server behind */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execlp("python3", "python3", REST_FAKE, "--dir", l->dir,
		       "--port", "0", flag, val, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	/* a generous bound for a loaded machine, not a speed assertion */
	deadline = time_mono_ms() + 20000;
	while (n + 1 < sizeof(line) && !strchr(line, '\n')) {
		struct pollfd p = {fds[0], POLLIN, 0};
		ssize_t r;

		if (time_mono_ms() > deadline ||
		    (poll(&p, 1, 100) < 0 && errno != EINTR))
			break;
		if (!(p.revents & (POLLIN | POLLHUP)))
			continue;
		r = read(fds[0], line + n, sizeof(line) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		line[n] = '\0';
	}
	close(fds[0]);
	if (sscanf(line, "listening on %d", &l->port) != 1 || l->port <= 0)
		fail_msg("%s did not say 'listening on PORT' (got '%s')",
			 REST_FAKE, line);
}

static void write_body(const struct live *l, const char *app, const char *body,
		       size_t len)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s.json", l->dir, app);
	assert_int_equal(write_file_atomic(path, body, len, 0644), 0);
}

static void test_live_fetch(void **s)
{
	struct live *l = *s;
	struct spark_usage u;
	char base[64], err[256];
	size_t len;
	char *body = load("dynamic-allocation.json", &len), *big;

	write_body(l, "application_1700000000000_0042", body, len);
	write_body(l, "local-1", "[{\"id\":\"1\"}]", 12);
	free(body);
	big = xmalloc(SPARKREST_MAX_BODY + 1);
	memset(big, ' ', SPARKREST_MAX_BODY + 1);
	big[0] = '[';
	big[SPARKREST_MAX_BODY] = ']';
	write_body(l, "local-big", big, SPARKREST_MAX_BODY + 1);
	free(big);
	server_start(l, NULL, NULL);

	/* with and without a trailing slash */
	snprintf(base, sizeof(base), "http://127.0.0.1:%d/", l->port);
	assert_int_equal(sparkrest_executor_usage(
				 base, "application_1700000000000_0042",
				 DYN_APP_END, 10000, &u, err, sizeof(err)),
			 0);
	assert_int_equal(u.executors, 5);
	assert_int_equal(u.exec_lifetime_ms, 4395251);
	assert_int_equal(u.exec_core_ms, 4 * 3795250 + 2 * 600001);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", l->port);
	memset(&u, 0, sizeof(u));
	assert_int_equal(sparkrest_executor_usage(
				 base, "application_1700000000000_0042",
				 DYN_APP_END, 10000, &u, err, sizeof(err)),
			 0);
	assert_int_equal(u.executors, 5);

	/* unknown application: the status and Spark's reason */
	assert_int_equal(sparkrest_executor_usage(base, "local-404", 0, 10000,
						  &u, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "HTTP 404"));
	assert_non_null(strstr(err, "unknown app: local-404"));
	/* served but malformed */
	assert_int_equal(sparkrest_executor_usage(base, "local-1", 0, 10000, &u,
						  err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "executor '1': no totalCores"));
	/* one byte past the cap */
	assert_int_equal(sparkrest_executor_usage(base, "local-big", 0, 10000,
						  &u, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "larger than"));
	/* the server stops cleanly on SIGTERM */
	assert_int_equal(server_stop(l), 0);
	/* nobody listening any more */
	assert_int_equal(sparkrest_executor_usage(base, "local-1", 0, 10000, &u,
						  err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "executors of local-1"));
}

static void test_live_timeout(void **s)
{
	struct live *l = *s;
	struct spark_usage u;
	char base[64], err[256];

	write_body(l, "local-1", "[ ]", 3);
	server_start(l, "--delay", "30");
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", l->port);
	assert_int_equal(sparkrest_executor_usage(base, "local-1", 0, 300, &u,
						  err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "timed out after 300 ms"));
	/* a handler asleep in its delay does not hold the server up */
	assert_int_equal(server_stop(l), 0);
}

static void test_live_forced_status(void **s)
{
	struct live *l = *s;
	struct spark_usage u;
	char base[64], err[256];

	write_body(l, "local-1", "[ ]", 3);
	server_start(l, "--status", "503");
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", l->port);
	assert_int_equal(sparkrest_executor_usage(base, "local-1", 0, 10000, &u,
						  err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "HTTP 503"));
}

/* Runs the fake spark-submit in local mode to the end; its exit status. */
static int run_submit(const struct live *l)
{
	char dir_conf[128];
	int status = -1;
	pid_t pid;

	need_script(SUBMIT_FAKE);
	snprintf(dir_conf, sizeof(dir_conf), "spark.fake.rest_dir=%s", l->dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(null, 1);
		dup2(null, 2);
		execlp("python3", "python3", SUBMIT_FAKE, "--master",
		       "local[2]", "--conf", dir_conf, "--conf",
		       "spark.fake.executors=3", "--conf",
		       "spark.fake.executor_cores=2", "--conf",
		       "spark.fake.lost_executors=1", "--conf",
		       "spark.fake.duration=0.3", "--conf",
		       "spark.fake.interval=0.1", "etl.py", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return status;
}

static void test_fake_submit_publishes(void **s)
{
	struct live *l = *s;
	struct spark_usage u, ended;
	char name[256] = "", path[512], err[256];
	struct dirent *e;
	int files = 0;
	size_t len;
	char *body;
	DIR *d;

	assert_int_equal(run_submit(l), 0);
	d = opendir(l->dir);
	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(name, sizeof(name), "%s", e->d_name);
			files++;
		}
	closedir(d);
	/* one file, no temp file left behind, named after the app id */
	assert_int_equal(files, 1);
	assert_true(!strncmp(name, "local-", 6));
	assert_non_null(strstr(name, ".json"));
	snprintf(path, sizeof(path), "%s/%s", l->dir, name);
	body = read_file(path, 1 << 20, &len);
	assert_non_null(body);

	/* an app end of 0: only the lost executor, removed halfway through
	 * the 0.3 s run, has a lifetime */
	assert_int_equal(
		sparkrest_parse_executors(body, len, 0, &u, err, sizeof(err)),
		0);
	assert_int_equal(u.executors, 3);
	assert_true(u.exec_lifetime_ms > 0 && u.exec_lifetime_ms <= 151);
	assert_int_equal(u.exec_core_ms, 2 * u.exec_lifetime_ms);
	/* ended now: the two others run to the end as well */
	assert_int_equal(sparkrest_parse_executors(body, len, time_now_ms(),
						   &ended, err, sizeof(err)),
			 0);
	assert_int_equal(ended.executors, 3);
	assert_true(ended.exec_lifetime_ms > u.exec_lifetime_ms);
	assert_int_equal(ended.exec_core_ms, 2 * ended.exec_lifetime_ms);
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dynamic_allocation),
		cmocka_unit_test(test_driver_only_and_empty),
		cmocka_unit_test(test_malformed_refused),
		cmocka_unit_test(test_edges_accepted),
		cmocka_unit_test(test_sums_saturate),
		cmocka_unit_test(test_random_bodies_survive),
		cmocka_unit_test(test_app_id_valid),
		cmocka_unit_test(test_request_refused_before_network),
		cmocka_unit_test_setup_teardown(test_live_fetch, live_setup,
						live_teardown),
		cmocka_unit_test_setup_teardown(test_live_timeout, live_setup,
						live_teardown),
		cmocka_unit_test_setup_teardown(test_live_forced_status,
						live_setup, live_teardown),
		cmocka_unit_test_setup_teardown(test_fake_submit_publishes,
						live_setup, live_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
