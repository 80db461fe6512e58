/* test_agent_rotate.c - the agent's side of a key rotation (agent/rotate.c,
 * client.c): the new key written (mode 0600) before anything is sent, a
 * `rotate` sealed with the current key whose proof verifies, the new key
 * found again by an agent restarted before the rename, a rotation sent
 * with the new key once the old one is refused, the rename on the ok,
 * identity.key.next dropped on a refusal, and a rotation by the key's age.
 * No scheduler: the messages are checked as the scheduler checks them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent_config.h"
#include "client.h"
#include "keyproof.h"
#include "mp.h"
#include "outbox.h"
#include "rotate.h"
#include "sign.h"
#include "util.h"
#include "wire.h"

#define AGENT "ag-0123456789ab"

struct fx {
	char dir[64], next[128], key[128];
	struct agent_config cfg;
	struct client *cl;
	struct outbox out;
};

static struct client *open_client(struct fx *f)
{
	char err[512];
	struct client *cl = client_open(&f->cfg, err, sizeof(err));

	if (!cl)
		fail_msg("client_open: %s", err);
	return cl;
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	log_setup("test", LOG_ERROR);
	strcpy(f->dir, "/tmp/sp-rot.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->next, sizeof(f->next), "%s/identity.key.next", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/identity.key", f->dir);
	agent_config_defaults(&f->cfg);
	snprintf(f->cfg.state_dir, sizeof(f->cfg.state_dir), "%s", f->dir);
	/* nothing listens there: the client dials in the background */
	snprintf(f->cfg.scheduler, sizeof(f->cfg.scheduler),
		 "tcp://127.0.0.1:1");
	f->cl = open_client(f);
	assert_int_equal(client_set_agent_id(f->cl, AGENT), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	outbox_clear(&f->out);
	client_close(f->cl);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	free(f);
	return system(cmd);
}

static void pub_of(const struct sign_key *k, uint8_t pub[SIGN_PUB_LEN])
{
	sign_key_public(k, pub);
}

/* The queued rotate (popped): its envelope must verify with signer, its
 * body name old and new_pub, and its proof verify. */
static void check_rotate(struct fx *f, const uint8_t signer[SIGN_PUB_LEN],
			 const uint8_t old[SIGN_PUB_LEN],
			 const uint8_t new_pub[SIGN_PUB_LEN])
{
	struct outbox_msg *m = f->out.head;
	struct wire_msg w;
	const char *bin, *proof;
	size_t len, plen;
	char err[128];

	assert_non_null(m);
	assert_string_equal(m->type, "rotate");
	assert_true(m->sealed.len > 0);
	assert_int_equal(wire_open(m->sealed.buf, m->sealed.len, &w, err,
				   sizeof(err)), WIRE_OK);
	assert_string_equal(w.agent, AGENT);
	assert_int_equal(wire_verify(&w, signer), 0);
	assert_int_equal(mp_get_bin(w.body, "pubkey", &bin, &len), 0);
	assert_memory_equal(bin, new_pub, SIGN_PUB_LEN);
	assert_int_equal(mp_get_bin(w.body, "old_pubkey", &bin, &len), 0);
	assert_memory_equal(bin, old, SIGN_PUB_LEN);
	assert_int_equal(mp_get_bin(w.body, "proof", &proof, &plen), 0);
	assert_int_equal(keyproof_verify(AGENT, old, new_pub,
					 (const uint8_t *)proof, plen), 0);
	wire_msg_release(&w);
	outbox_pop(&f->out);
}

static void test_asked_crash_and_finish(void **state)
{
	struct fx *f = *state;
	uint8_t old[SIGN_PUB_LEN], next[SIGN_PUB_LEN], now[SIGN_PUB_LEN];
	struct rotate r;
	struct stat st;
	char err[1300];

	pub_of(client_key(f->cl), old);
	rotate_init(&r, f->cl, 0);
	assert_false(rotate_plan(&r, f->cl, &f->out, time_mono_ms()));
	assert_int_equal(access(f->next, F_OK), -1);

	rotate_request(&r, "asked");
	assert_true(rotate_plan(&r, f->cl, &f->out, time_mono_ms()));
	/* on disk, owner-only, before anything was sent */
	assert_int_equal(stat(f->next, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	pub_of(client_next_key(f->cl), next);
	check_rotate(f, old, old, next);

	/* the agent dies before the answer: the restart finds the new key
	 * and sends the same rotation */
	client_close(f->cl);
	f->cl = open_client(f);
	assert_non_null(client_next_key(f->cl));
	pub_of(client_next_key(f->cl), now);
	assert_memory_equal(now, next, SIGN_PUB_LEN);
	rotate_init(&r, f->cl, 0);
	assert_true(rotate_plan(&r, f->cl, &f->out, time_mono_ms()));
	check_rotate(f, old, old, next);

	/* the old key refused as forged: once more, sealed with the new */
	assert_int_equal(rotate_refused(&r, f->cl, "forged"), 0);
	assert_true(rotate_plan(&r, f->cl, &f->out, time_mono_ms()));
	check_rotate(f, next, old, next);
	/* and refused again: the agent's identity is refused */
	assert_int_equal(rotate_refused(&r, f->cl, "forged"), -1);
	assert_int_equal(rotate_refused(&r, f->cl, "shutting_down"), -1);

	/* the ok: identity.key is the new key, identity.key.next gone */
	assert_int_equal(client_rotate_commit(f->cl, err, sizeof(err)), 0);
	assert_null(client_next_key(f->cl));
	assert_int_equal(access(f->next, F_OK), -1);
	pub_of(client_key(f->cl), now);
	assert_memory_equal(now, next, SIGN_PUB_LEN);
	client_close(f->cl);
	f->cl = open_client(f);
	pub_of(client_key(f->cl), now);
	assert_memory_equal(now, next, SIGN_PUB_LEN);
	assert_null(client_next_key(f->cl));
	assert_int_equal(stat(f->key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

/* A refusal drops the new key, keeps the current one, and waits before
 * the next try, even when asked again. */
static void test_refused_drops_new_key(void **state)
{
	struct fx *f = *state;
	uint8_t old[SIGN_PUB_LEN], now[SIGN_PUB_LEN];
	struct rotate r;
	int64_t t = time_mono_ms();

	pub_of(client_key(f->cl), old);
	rotate_init(&r, f->cl, 0);
	rotate_request(&r, "asked");
	assert_true(rotate_plan(&r, f->cl, &f->out, t));
	outbox_pop(&f->out);
	assert_int_equal(rotate_refused(&r, f->cl, "key_in_use"), 0);
	assert_null(client_next_key(f->cl));
	assert_int_equal(access(f->next, F_OK), -1);
	pub_of(client_key(f->cl), now);
	assert_memory_equal(now, old, SIGN_PUB_LEN);
	rotate_request(&r, "asked");
	assert_false(rotate_plan(&r, f->cl, &f->out, t + 1000));
	assert_true(rotate_plan(&r, f->cl, &f->out, t + 3601 * 1000));
	outbox_pop(&f->out);
}

/* identity.key older than key_rotate_days: rotated without being asked;
 * younger: not. */
static void test_by_age(void **state)
{
	struct fx *f = *state;
	struct timespec ts[2] = { { .tv_sec = 0, .tv_nsec = UTIME_OMIT } };
	struct rotate r;

	rotate_init(&r, f->cl, 1);
	assert_false(rotate_plan(&r, f->cl, &f->out, time_mono_ms()));
	ts[1].tv_sec = time(NULL) - 2 * 86400;
	assert_int_equal(utimensat(AT_FDCWD, f->key, ts, 0), 0);
	client_close(f->cl);
	f->cl = open_client(f);
	rotate_init(&r, f->cl, 0);
	assert_false(rotate_plan(&r, f->cl, &f->out, time_mono_ms()));
	rotate_init(&r, f->cl, 1);
	assert_true(rotate_plan(&r, f->cl, &f->out, time_mono_ms()));
	assert_non_null(client_next_key(f->cl));
}

/* A leftover identity.key.next of an agent not enrolled is no rotation
 * of its: removed at start. */
static void test_not_enrolled(void **state)
{
	struct fx *f = *state;
	char id[128];
	struct sign_key *k = sign_key_generate();

	client_close(f->cl);
	f->cl = NULL;
	snprintf(id, sizeof(id), "%s/agent.id", f->dir);
	assert_int_equal(unlink(id), 0);
	assert_int_equal(sign_key_save(k, f->next), 0);
	f->cl = open_client(f);
	assert_null(client_next_key(f->cl));
	assert_int_equal(access(f->next, F_OK), -1);
	sign_key_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_asked_crash_and_finish,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_drops_new_key,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_by_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_enrolled, setup,
						teardown),
	};
	sign_init_lean();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
