/* test_keyring.c - per-tenant data keys (scheduler/keyring.c): seal and
 * open round trips; every seal's nonce its own, in a forked child too; a wrong record key (AAD), a flipped byte and a
 * destroyed key refused; the keyring file rewritten atomically and read
 * back, refused under another master key or damaged; the master key
 * created 0600 and refused when others may read it; pseudonyms; and
 * the job arguments sealed in a real store (records.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core_fixture.h"
#include "keyring.h"
#include "records.h"
#include "run_codec.h"
#include "state.h"
#include "store.h"
#include "util.h"

static char root[64];

static int setup(void **s)
{
	(void)s;
	snprintf(root, sizeof(root), "/tmp/sp-keyring-XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **s)
{
	char cmd[128];
	(void)s;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd);
}

static const uint8_t master[KEYRING_KEY_BYTES] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static void test_seal_open(void **s)
{
	struct keyring *kr = keyring_new(master);
	struct strbuf sealed = STRBUF_INIT, plain = STRBUF_INIT;
	static const char text[] = "spark.app.name=secret-ish marker";
	char err[256];
	uint8_t key[12] = { 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1 };

	(void)s;
	assert_int_equal(keyring_seal(kr, "acme", "logs", key, sizeof(key),
				      text, sizeof(text) - 1, &sealed), -1);
	assert_int_equal(keyring_ensure(kr, "acme", 1000, err, sizeof(err)), 0);
	assert_int_equal(keyring_ensure(kr, "globex", 1000, err, sizeof(err)),
			 0);
	assert_int_equal(keyring_key_id(kr, "acme"), 1);
	assert_int_equal(keyring_key_id(kr, "globex"), 2);
	assert_int_equal(keyring_seal(kr, "acme", "logs", key, sizeof(key),
				      text, sizeof(text) - 1, &sealed), 0);
	assert_int_equal(sealed.len, sizeof(text) - 1 + SEAL_OVERHEAD);
	assert_true(keyring_is_sealed(sealed.buf, sealed.len));
	assert_int_equal(keyring_value_key_id(sealed.buf, sealed.len), 1);
	assert_null(memmem(sealed.buf, sealed.len, "marker", 6));
	assert_int_equal(keyring_open_value(kr, "logs", key, sizeof(key),
					    sealed.buf, sealed.len, &plain), 0);
	assert_int_equal(plain.len, sizeof(text) - 1);
	assert_memory_equal(plain.buf, text, plain.len);

	/* another record's key, another column family: refused */
	strbuf_reset(&plain);
	key[11] = 2;
	assert_int_equal(keyring_open_value(kr, "logs", key, sizeof(key),
					    sealed.buf, sealed.len, &plain), -1);
	key[11] = 1;
	assert_int_equal(keyring_open_value(kr, "telemetry", key, sizeof(key),
					    sealed.buf, sealed.len, &plain), -1);
	/* any byte flipped, header included: refused */
	for (size_t i = 2; i < sealed.len; i++) {
		sealed.buf[i] ^= 0x20;
		strbuf_reset(&plain);
		assert_int_not_equal(keyring_open_value(kr, "logs", key,
							sizeof(key), sealed.buf,
							sealed.len, &plain),
				     0);
		sealed.buf[i] ^= 0x20;
	}
	/* through an opener (cached key schedules): the same, and a refusal
	 * leaves it fit for the next value */
	struct keyring_opener *op = keyring_opener_new();
	struct strbuf other = STRBUF_INIT;
	assert_int_equal(keyring_seal(kr, "globex", "logs", key, sizeof(key),
				      "g", 1, &other), 0);
	for (int round = 0; round < 3; round++) {
		strbuf_reset(&plain);
		assert_int_equal(keyring_open_with(op, kr, "logs", key,
						   sizeof(key), sealed.buf,
						   sealed.len, &plain), 0);
		assert_memory_equal(plain.buf, text, plain.len);
		strbuf_reset(&plain);
		assert_int_equal(keyring_open_with(op, kr, "jobs", key,
						   sizeof(key), sealed.buf,
						   sealed.len, &plain), -1);
		strbuf_reset(&plain);
		assert_int_equal(keyring_open_with(op, kr, "logs", key,
						   sizeof(key), other.buf,
						   other.len, &plain), 0);
		assert_memory_equal(plain.buf, "g", 1);
	}
	strbuf_release(&other);
	keyring_opener_free(op);
	/* destroyed: unreadable, and told apart from damage */
	uint32_t id;
	assert_int_equal(keyring_destroy(kr, "acme", &id, err, sizeof(err)), 0);
	assert_int_equal(id, 1);
	assert_int_equal(keyring_key_id(kr, "acme"), 0);
	strbuf_reset(&plain);
	assert_int_equal(keyring_open_value(kr, "logs", key, sizeof(key),
					    sealed.buf, sealed.len, &plain),
			 KEYRING_DESTROYED);
	/* a new key for the name is a new id: the old data stays dead */
	assert_int_equal(keyring_ensure(kr, "acme", 2000, err, sizeof(err)), 0);
	assert_int_equal(keyring_key_id(kr, "acme"), 3);
	assert_int_equal(keyring_open_value(kr, "logs", key, sizeof(key),
					    sealed.buf, sealed.len, &plain),
			 KEYRING_DESTROYED);
	strbuf_release(&sealed);
	strbuf_release(&plain);
	keyring_free(kr);
}

/* Each seal has a nonce of its own: across the batches nonces are drawn
 * in, and in a forked child, which must not take its parent's next one. */
static void test_seal_nonces(void **s)
{
	enum { N = 200 }; /* more than one batch of nonces */
	struct keyring *kr = keyring_new(master);
	struct strbuf sealed = STRBUF_INIT, plain = STRBUF_INIT;
	uint8_t key[4] = { 1, 2, 3, 4 }, seen[N][SEAL_NONCE], child[SEAL_NONCE];
	char err[256];
	int p[2];
	pid_t pid;

	(void)s;
	assert_int_equal(keyring_ensure(kr, "acme", 1000, err, sizeof(err)), 0);
	for (int i = 0; i < N; i++) {
		strbuf_reset(&sealed);
		assert_int_equal(keyring_seal(kr, "acme", "runs", key,
					      sizeof(key), "v", 1, &sealed),
				 0);
		memcpy(seen[i], sealed.buf + SEAL_HEADER, SEAL_NONCE);
		strbuf_reset(&plain);
		assert_int_equal(keyring_open_value(kr, "runs", key,
						    sizeof(key), sealed.buf,
						    sealed.len, &plain),
				 0);
		for (int j = 0; j < i; j++)
			assert_memory_not_equal(seen[i], seen[j], SEAL_NONCE);
	}

	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		strbuf_reset(&sealed);
		if (keyring_seal(kr, "acme", "runs", key, sizeof(key), "v", 1,
				 &sealed) ||
		    write(p[1], sealed.buf + SEAL_HEADER, SEAL_NONCE) !=
			    SEAL_NONCE)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], child, SEAL_NONCE), SEAL_NONCE);
	close(p[0]);
	waitpid(pid, NULL, 0);
	strbuf_reset(&sealed);
	assert_int_equal(keyring_seal(kr, "acme", "runs", key, sizeof(key),
				      "v", 1, &sealed),
			 0);
	assert_memory_not_equal(child, sealed.buf + SEAL_HEADER, SEAL_NONCE);
	for (int j = 0; j < N; j++)
		assert_memory_not_equal(child, seen[j], SEAL_NONCE);
	strbuf_release(&sealed);
	strbuf_release(&plain);
	keyring_free(kr);
}

static void test_file(void **s)
{
	char mk[128], dir[128], bk[128], path[160], err[512], *text;
	uint8_t other[KEYRING_KEY_BYTES];
	struct keyring *kr, *kr2;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct stat st;
	size_t len;
	uint32_t id;

	(void)s;
	snprintf(mk, sizeof(mk), "%s/keys/master.key", root);
	snprintf(dir, sizeof(dir), "%s/data", root);
	snprintf(bk, sizeof(bk), "%s/backups", root);
	assert_int_equal(mkdir_p(dir, 0700), 0);
	kr = keyring_load(mk, dir, false, err, sizeof(err));
	assert_non_null(kr);
	assert_int_equal(stat(mk, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(keyring_set_copy(kr, bk, err, sizeof(err)), 0);
	assert_true(keyring_has_copy(kr, bk));
	assert_int_equal(keyring_ensure(kr, "acme", 5, err, sizeof(err)), 0);
	assert_int_equal(keyring_ensure(kr, "globex", 6, err, sizeof(err)), 0);
	assert_int_equal(keyring_destroy(kr, "acme", &id, err, sizeof(err)), 0);
	/* both files say the same, and no temp file is left */
	snprintf(path, sizeof(path), "%s/keyring", dir);
	text = read_file(path, 1 << 20, &len);
	assert_non_null(text);
	assert_null(strstr(text, "acme"));
	assert_non_null(strstr(text, "key globex 2 6 "));
	free(text);
	snprintf(path, sizeof(path), "%s/keyring", bk);
	text = read_file(path, 1 << 20, &len);
	assert_non_null(text);
	assert_null(strstr(text, "acme"));
	free(text);
	snprintf(err, sizeof(err), "ls %s | grep -q tmp", dir);
	assert_int_not_equal(system(err), 0);

	/* read back: the same keys, the same pseudonyms */
	kr2 = keyring_load(mk, dir, true, err, sizeof(err));
	assert_non_null(kr2);
	assert_int_equal(keyring_count(kr2), 1);
	assert_int_equal(keyring_key_id(kr2, "globex"), 2);
	assert_int_equal(keyring_seal(kr, "globex", "jobs", "k", 1, "x", 1, &a),
			 0);
	assert_int_equal(keyring_open_value(kr2, "jobs", "k", 1, a.buf, a.len,
					    &b), 0);
	assert_memory_equal(b.buf, "x", 1);
	char p1[32], p2[32];
	keyring_pseudonym(kr, "acme", p1, sizeof(p1));
	keyring_pseudonym(kr2, "acme", p2, sizeof(p2));
	assert_string_equal(p1, p2);
	assert_int_equal(strlen(p1), strlen("tenant-") + 12);
	assert_int_equal(strncmp(p1, "tenant-", 7), 0);
	keyring_pseudonym(kr, "globex", p2, sizeof(p2));
	assert_string_not_equal(p1, p2);
	/* next ids survive: a destroyed id is never given again */
	assert_int_equal(keyring_ensure(kr2, "initech", 7, err, sizeof(err)), 0);
	assert_int_equal(keyring_key_id(kr2, "initech"), 3);
	keyring_free(kr2);

	/* under another master key: refused, one line naming it */
	memset(other, 0x5a, sizeof(other));
	kr2 = keyring_new(other);
	snprintf(path, sizeof(path), "%s/keyring", dir);
	text = read_file(path, 1 << 20, &len);
	assert_int_equal(keyring_parse(kr2, text, len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "another master key"));
	keyring_free(kr2);
	free(text);

	/* the keyring missing for a sealing store: refused */
	assert_int_equal(unlink(path), 0);
	assert_null(keyring_load(mk, dir, true, err, sizeof(err)));
	assert_non_null(strstr(err, "is missing"));
	/* ... and no new master key is made over an existing keyring */
	kr2 = keyring_load(mk, dir, false, err, sizeof(err));
	assert_non_null(kr2);
	keyring_free(kr2);
	strbuf_release(&a);
	strbuf_release(&b);
	keyring_free(kr);
}

static void test_master_key(void **s)
{
	char mk[128], err[512];
	uint8_t k1[KEYRING_KEY_BYTES], k2[KEYRING_KEY_BYTES];
	FILE *f;

	(void)s;
	snprintf(mk, sizeof(mk), "%s/mk/master.key", root);
	assert_int_equal(keyring_master_load(mk, false, k1, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "cannot read master key '"));
	assert_int_equal(keyring_master_load(mk, true, k1, err, sizeof(err)), 0);
	assert_int_equal(keyring_master_load(mk, true, k2, err, sizeof(err)), 0);
	assert_memory_equal(k1, k2, sizeof(k1));
	assert_int_equal(chmod(mk, 0640), 0);
	assert_int_equal(keyring_master_load(mk, true, k2, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "readable or writable by others"));
	assert_int_equal(chmod(mk, 0400), 0);
	assert_int_equal(keyring_master_load(mk, true, k2, err, sizeof(err)), 0);
	assert_int_equal(chmod(mk, 0600), 0);
	f = fopen(mk, "w");
	fputs("not hex\n", f);
	fclose(f);
	assert_int_equal(keyring_master_load(mk, true, k2, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "not 64 hex digits"));
}

static void test_parse_damage(void **s)
{
	struct keyring *kr = keyring_new(master), *kr2;
	struct strbuf text = STRBUF_INIT;
	char err[256];

	(void)s;
	keyring_ensure(kr, "acme", 1, err, sizeof(err));
	keyring_format(kr, &text);
	/* every byte flipped in turn: refused or read the same, never
	 * another key */
	for (size_t i = 0; i < text.len; i++) {
		text.buf[i] ^= 1;
		kr2 = keyring_new(master);
		if (keyring_parse(kr2, text.buf, text.len, err, sizeof(err)) == 0)
			assert_true(keyring_count(kr2) <= 1);
		else
			assert_int_equal(strncmp(err, "keyring line ", 13), 0);
		keyring_free(kr2);
		text.buf[i] ^= 1;
	}
	kr2 = keyring_new(master);
	assert_int_equal(keyring_parse(kr2, text.buf, text.len - 1, err,
				       sizeof(err)), -1);
	keyring_free(kr2);
	strbuf_release(&text);
	keyring_free(kr);
}

/* Job arguments in a real store: sealed on disk, read back, and read as
 * destroyed once the key is gone. */
static void test_job_argv(void **s)
{
	char dir[128], err[256];
	struct store *st;
	struct keyring *kr = keyring_new(master);
	struct store_batch *b;
	struct sched_state state;
	struct tenant *t = xcalloc(1, sizeof(*t));
	struct env *e = xcalloc(1, sizeof(*e));
	struct job j = { 0 };
	char *argv[] = { (char *)"--conf", (char *)"spark.app.name=zebra42" };
	char *val = NULL;
	size_t vlen = 0;
	uint32_t id;

	(void)s;
	snprintf(dir, sizeof(dir), "%s/store", root);
	st = store_open(dir, err, sizeof(err));
	assert_non_null(st);
	store_set_keyring(st, kr);
	assert_int_equal(keyring_ensure(kr, "acme", 1, err, sizeof(err)), 0);
	snprintf(t->name, sizeof(t->name), "acme");
	snprintf(e->key, sizeof(e->key), "acme/prod");
	snprintf(e->tenant, sizeof(e->tenant), "acme");
	snprintf(e->name, sizeof(e->name), "prod");
	snprintf(j.key, sizeof(j.key), "acme/prod/etl");
	snprintf(j.tenant, sizeof(j.tenant), "acme");
	snprintf(j.env, sizeof(j.env), "acme/prod");
	snprintf(j.name, sizeof(j.name), "etl");
	j.argc = 2;
	j.argv = argv;
	b = store_batch_new();
	records_put_tenant(b, st, t);
	records_put_env(b, st, e);
	records_put_job(b, st, &j);
	assert_int_equal(store_write(st, b, true, err, sizeof(err)), 0);
	store_batch_free(b);
	free(t);
	free(e);
	assert_int_equal(store_get(st, CF_JOBS, "acme/prod/etl", 13, &val,
				   &vlen, err, sizeof(err)), 1);
	assert_null(memmem(val, vlen, "zebra42", 7));
	free(val);

	state_init(&state);
	assert_int_equal(records_load(st, &state, err, sizeof(err)), 0);
	struct job *got = state_job(&state, "acme/prod/etl");
	assert_non_null(got);
	assert_int_equal(got->argc, 2);
	assert_string_equal(got->argv[1], "spark.app.name=zebra42");
	state_release(&state);

	assert_int_equal(keyring_destroy(kr, "acme", &id, err, sizeof(err)), 0);
	state_init(&state);
	assert_int_equal(records_load(st, &state, err, sizeof(err)), 0);
	got = state_job(&state, "acme/prod/etl");
	assert_non_null(got);
	assert_int_equal(got->argc, 1);
	assert_string_equal(got->argv[0], KEYRING_DESTROYED_TEXT);
	state_release(&state);
	store_close(st);
	keyring_free(kr);
}

/* Whether any segment of the store's commit log holds needle. */
static bool log_holds(const char *dir, const char *needle)
{
	char path[512];
	bool found = false;
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "%s/commitlog", dir);
	d = opendir(path);
	assert_non_null(d);
	while (!found && (e = readdir(d))) {
		size_t n = 0;
		char *text;
		snprintf(path, sizeof(path), "%s/commitlog/%s", dir, e->d_name);
		if (e->d_name[0] == '.' ||
		    !(text = read_file(path, 1 << 30, &n)))
			continue;
		found = memmem(text, n, needle, strlen(needle)) != NULL;
		free(text);
	}
	closedir(d);
	return found;
}

/* An agent's last reply (a lease carries the job's arguments) is sealed
 * in the store and in its commit log, read back, and dropped once the
 * key is gone. */
static void test_agent_reply(void **s)
{
	static const char reply[] = "{\"argv\":[\"spark.app.name=zebra43\"]}";
	char dir[128], err[256], *val = NULL;
	struct keyring *kr = keyring_new(master);
	struct agent a = { .slots = 1 };
	struct sched_state state;
	struct store_batch *b;
	struct store *st;
	struct agent *got;
	size_t vlen = 0;
	uint32_t id;

	(void)s;
	snprintf(dir, sizeof(dir), "%s/agents", root);
	st = store_open(dir, err, sizeof(err));
	assert_non_null(st);
	store_set_keyring(st, kr);
	assert_int_equal(keyring_ensure(kr, "acme", 1, err, sizeof(err)), 0);
	snprintf(a.id, sizeof(a.id), "ag-1");
	snprintf(a.env, sizeof(a.env), "acme/prod");
	a.last_reply = xstrdup(reply);
	a.last_reply_len = strlen(reply);
	b = store_batch_new();
	records_put_agent(b, st, &a);
	assert_int_equal(store_write(st, b, true, err, sizeof(err)), 0);
	store_batch_free(b);
	free(a.last_reply);
	assert_int_equal(store_get(st, CF_AGENTS, "ag-1", 4, &val, &vlen, err,
				   sizeof(err)), 1);
	assert_null(memmem(val, vlen, "zebra43", 7));
	free(val);
	assert_false(log_holds(dir, "zebra43"));
	assert_true(log_holds(dir, "ag-1")); /* the record is there */

	state_init(&state);
	assert_int_equal(records_load(st, &state, err, sizeof(err)), 0);
	got = state_agent(&state, "ag-1");
	assert_non_null(got);
	assert_int_equal(got->last_reply_len, strlen(reply));
	assert_memory_equal(got->last_reply, reply, strlen(reply));
	state_release(&state);

	assert_int_equal(keyring_destroy(kr, "acme", &id, err, sizeof(err)), 0);
	state_init(&state);
	assert_int_equal(records_load(st, &state, err, sizeof(err)), 0);
	got = state_agent(&state, "ag-1");
	assert_non_null(got);
	assert_null(got->last_reply);
	state_release(&state);
	store_close(st);
	keyring_free(kr);
}

/* A run's reason and diagnosis line: sealed, read back, bound to the run
 * (another id refuses them), and shown as destroyed without the key. */
static void test_run_fields(void **s)
{
	struct keyring *kr = keyring_new(master);
	struct sched_state st;
	struct tenant *t = xcalloc(1, sizeof(*t));
	struct env *e = xcalloc(1, sizeof(*e));
	struct job *j = xcalloc(1, sizeof(*j));
	struct run r = { 0 }, back = { 0 };
	msgpack_sbuffer sb;
	msgpack_zone zone;
	char err[128];
	uint32_t id;

	(void)s;
	state_init(&st);
	snprintf(t->name, sizeof(t->name), "acme");
	snprintf(e->key, sizeof(e->key), "acme/prod");
	snprintf(e->tenant, sizeof(e->tenant), "acme");
	snprintf(j->key, sizeof(j->key), "acme/prod/j");
	snprintf(j->tenant, sizeof(j->tenant), "acme");
	snprintf(j->env, sizeof(j->env), "acme/prod");
	state_add_tenant(&st, t);
	state_add_env(&st, e);
	state_add_job(&st, j);
	assert_int_equal(keyring_ensure(kr, "acme", 1, err, sizeof(err)), 0);
	r.id = 42;
	r.job = j;
	run_detail_get(&r)->reason = xstrdup("failed: zebra77 not found");
	r.d->diag_line = xstrdup("ERROR Main: path s3://zebra77/x missing");
	msgpack_zone_init(&zone, 4096);
	msgpack_sbuffer_init(&sb);
	run_encode_sealed(&r, NULL, kr, &sb);
	assert_null(memmem(sb.data, sb.size, "zebra77", 7));
	assert_int_equal(run_decode_sealed(sb.data, sb.size, &st, kr, NULL, &zone,
					   &back), 0);
	assert_string_equal(run_detail(&back)->reason, r.d->reason);
	assert_string_equal(run_detail(&back)->diag_line, r.d->diag_line);
	run_clear(&back);
	/* the same bytes as run 43's: refused as corrupt */
	char *p = memmem(sb.data, sb.size, "\xcf\0\0\0\0\0\0\0\x2a", 9);
	if (!p) /* packed as a small int */
		p = memchr(sb.data + 1, 42, 4);
	assert_non_null(p);
	p[p[0] == 42 ? 0 : 8] = 43;
	memset(&back, 0, sizeof(back));
	assert_int_equal(run_decode_sealed(sb.data, sb.size, &st, kr, NULL, &zone,
					   &back), -1);
	p[p[0] == 43 ? 0 : 8] = 42;
	assert_int_equal(keyring_destroy(kr, "acme", &id, err, sizeof(err)), 0);
	memset(&back, 0, sizeof(back));
	assert_int_equal(run_decode_sealed(sb.data, sb.size, &st, kr, NULL, &zone,
					   &back), 0);
	assert_string_equal(run_detail(&back)->reason, KEYRING_DESTROYED_TEXT);
	assert_string_equal(back.d->diag_line, KEYRING_DESTROYED_TEXT);
	run_clear(&back);
	/* older records, in clear, still read */
	msgpack_sbuffer_clear(&sb);
	run_encode(&r, &sb);
	memset(&back, 0, sizeof(back));
	assert_int_equal(run_decode_sealed(sb.data, sb.size, &st, kr, NULL, &zone,
					   &back), 0);
	assert_string_equal(run_detail(&back)->diag_line, r.d->diag_line);
	run_clear(&back);
	run_clear(&r);
	msgpack_sbuffer_destroy(&sb);
	msgpack_zone_destroy(&zone);
	state_release(&st);
	keyring_free(kr);
}

struct hunt {
	const char *word;
	size_t hits;
};

static int hunt_one(const void *key, size_t klen, const void *val,
		    size_t vlen, void *ctx)
{
	struct hunt *h = ctx;
	size_t n = strlen(h->word);
	h->hits += memmem(key, klen, h->word, n) != NULL ||
		   memmem(val, vlen, h->word, n) != NULL;
	return 0;
}

/* tenant delete on a real core: refused while a run is live, then with
 * --force every record of the tenant leaves memory and every column
 * family (the audit log apart, which names it by its pseudonym from
 * then on), while another tenant's stay; the key is gone from the
 * keyring; a restart loads nothing of it. */
static void test_tenant_delete(void **state)
{
	struct fx *f = *state;
	struct keyring *kr = keyring_new(master);
	struct strbuf out = STRBUF_INIT;
	struct json *j;
	uint64_t run, epoch;
	char err[256];

	store_set_keyring(f->store, kr);
	assert_int_equal(keyring_ensure(kr, "acme", 1, err, sizeof(err)), 0);
	admin_ok(f, "tenant add globex");
	admin_ok(f, "env add globex/prod");
	admin_ok(f, "job add globex/prod/j -- --master yarn keep.jar");
	admin_ok(f, "job add acme/prod/k -- --master yarn zebra99.jar");
	lease_one(f, &run, &epoch);
	admin_ok(f, "run start acme/prod/k");
	admin_ok(f, "run start globex/prod/j");
	admin_ok(f, "agent token acme/prod");
	admin_reply(f, "tenant delete acme --confirm", &out);
	assert_non_null(strstr(out.buf, "\"busy\""));
	assert_non_null(strstr(out.buf, "1 queued and 1 live"));
	j = admin(f, "tenant delete acme --confirm --force");
	assert_string_equal(json_get_str(j, "tenant"), "acme");
	assert_int_equal(strncmp(json_get_str(j, "pseudonym"), "tenant-", 7),
			 0);
	json_free(j);
	admin_reply(f, "tenant show acme", &out);
	assert_non_null(strstr(out.buf, "not_found"));
	admin_reply(f, "job show acme/prod/j", &out);
	assert_non_null(strstr(out.buf, "not_found"));
	admin_ok(f, "job show globex/prod/j");
	assert_int_equal(keyring_key_id(kr, "acme"), 0);
	assert_int_not_equal(keyring_key_id(kr, "globex"), 0);
	stop_core(f);

	/* nothing of it in any column family but the audit log */
	for (int cf = 0; cf < CF_COUNT; cf++) {
		struct hunt h = { "acme", 0 };
		if (cf == CF_AUDIT)
			continue;
		assert_true(store_scan(f->store, cf, NULL, 0, NULL, 0,
				       hunt_one, &h) >= 0);
		if (h.hits)
			fail_msg("'acme' in %zu records of '%s'", h.hits,
				 store_cf_name(cf));
	}
	state_release(&f->st);
	start_core(f);
	assert_null(state_tenant(&f->st, "acme"));
	assert_null(state_env(&f->st, "acme/prod"));
	assert_null(state_run(&f->st, run));
	assert_non_null(state_tenant(&f->st, "globex"));
	assert_non_null(state_job(&f->st, "globex/prod/j"));
	admin_ok(f, "tenant add acme"); /* the name is free again */
	stop_core(f);
	store_set_keyring(f->store, NULL);
	strbuf_release(&out);
	keyring_free(kr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_open),
		cmocka_unit_test(test_seal_nonces),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_master_key),
		cmocka_unit_test(test_parse_damage),
		cmocka_unit_test(test_job_argv),
		cmocka_unit_test(test_agent_reply),
		cmocka_unit_test(test_run_fields),
		cmocka_unit_test_setup_teardown(test_tenant_delete, fx_setup,
						fx_teardown),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
