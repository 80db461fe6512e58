/* test_parked.c - lease requests parked for work: the index itself
 * (parked.c) against a plain model, then through a real core: work queued
 * in one environment reaches only its agents, a request blocked by a cap
 * is served when the cap frees, and a revocation, a key rotation asked
 * for and a deadline each answer a parked request at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core_fixture.h"
#include "mp.h"
#include "parked.h"
#include "util.h"

/* ---- the index, against a model ---- */

#define NEV 64
#define NENV 3

static uint64_t rnd_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Random adds, removals and expiries; after each step the heap's first
 * deadline is the model's smallest, and every environment's line holds
 * its parked requests in the order they came. */
static void test_index_matches_model(void **state)
{
	static struct event ev[NEV];
	static struct agent ag[NEV];
	static struct env env[NENV];
	bool in[NEV] = { false };
	uint64_t order[NEV] = { 0 }, tick = 0;
	struct parked q = { 0 };
	int64_t now = 0;

	(void)state;
	memset(env, 0, sizeof(env));
	for (int step = 0; step < 20000; step++) {
		int i = (int)(rnd() % NEV);
		unsigned op = (unsigned)(rnd() % 3);
		if (!in[i] && op < 2) {
			parked_add(&q, &ev[i], &ag[i], &env[i % NENV],
				   now + (int64_t)(rnd() % 1000));
			in[i] = true;
			order[i] = ++tick;
			assert_ptr_equal(ag[i].parked, &ev[i]);
		} else if (in[i] && op == 2) {
			parked_remove(&q, &ev[i]);
			in[i] = false;
			assert_null(ag[i].parked);
		} else {
			struct event *due;
			now += 10;
			while ((due = parked_due(&q, now))) {
				assert_true(due->park_until_mono <= now);
				in[due - ev] = false;
				parked_remove(&q, due);
			}
		}
		int64_t min = INT64_MAX;
		size_t n = 0;
		for (int k = 0; k < NEV; k++)
			if (in[k]) {
				n++;
				if (ev[k].park_until_mono < min)
					min = ev[k].park_until_mono;
			}
		assert_int_equal(q.n, n);
		assert_true(parked_next_deadline(&q) == min);
		for (int e = 0; e < NENV; e++) {
			uint64_t last = 0;
			uint32_t count = 0;
			for (struct event *p = env[e].park_head; p;
			     p = p->park_next) {
				assert_true(in[p - ev]);
				assert_true(order[p - ev] > last);
				last = order[p - ev];
				count++;
			}
			assert_int_equal(count, env[e].n_polling);
		}
	}
	while (parked_any(&q))
		parked_remove(&q, parked_any(&q));
	assert_true(parked_next_deadline(&q) == INT64_MAX);
	parked_release(&q);
}

/* ---- through the core ---- */

/* A second agent's identity, swapped into the fixture to speak as it. */
struct who {
	struct sign_key *key;
	char id[64];
	uint64_t seq;
};

static void swap(struct fx *f, struct who *w)
{
	struct who t = { f->key, "", f->seq };

	memcpy(t.id, f->agent, sizeof(t.id));
	f->key = w->key;
	memcpy(f->agent, w->id, sizeof(f->agent));
	f->seq = w->seq;
	*w = t;
}

static void enroll_other(struct fx *f, struct who *w, const char *env)
{
	memset(w, 0, sizeof(*w));
	w->key = sign_key_generate();
	swap(f, w);
	fx_enroll_in(f, env);
	swap(f, w);
}

/* A parked request's answer, delivered by the core after its commit. */
struct answer {
	bool done;
	struct strbuf reply;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void on_answer(struct event *ev)
{
	struct answer *a = ev->owner;

	pthread_mutex_lock(&mu);
	strbuf_reset(&a->reply);
	strbuf_add(&a->reply, ev->reply.buf, ev->reply.len);
	a->done = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	event_free(ev);
}

/* Sends a lease for one slot waiting up to wait_ms, as w (NULL: the
 * fixture's own agent), then waits until the core has taken it in. */
static void park_on(struct fx *f, struct who *w, int64_t wait_ms,
		    struct answer *a, uint32_t pipe)
{
	struct strbuf msg = STRBUF_INIT;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct event *ev;

	memset(a, 0, sizeof(*a));
	strbuf_init(&a->reply, 0);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kv_u64(&pk, "slots", 1);
	mp_kv_i64(&pk, "wait_ms", wait_ms);
	mp_pack_cstr(&pk, "held");
	msgpack_pack_array(&pk, 0);
	if (w)
		swap(f, w);
	seal(f, "lease", &sb, &msg);
	if (w)
		swap(f, w);
	ev = agent_event(f, &msg);
	ev->done = on_answer;
	ev->owner = a;
	ev->pipe = pipe;
	core_post(f->core, ev);
	/* a command after it: its answer comes once the lease was handled */
	admin_ok(f, "tenant list");
	msgpack_sbuffer_destroy(&sb);
	strbuf_release(&msg);
}

static void park(struct fx *f, struct who *w, int64_t wait_ms,
		 struct answer *a)
{
	park_on(f, w, wait_ms, a, 0);
}

static bool answered(struct answer *a)
{
	bool done;
	pthread_mutex_lock(&mu);
	done = a->done;
	pthread_mutex_unlock(&mu);
	return done;
}

/* Waits (at most 10 s) for a's answer; returns the number of runs it
 * leased, or -1 if it was refused (*code then names why). */
static int wait_answer(struct answer *a, char *code, size_t len)
{
	struct timespec ts;
	msgpack_unpacked u;
	const msgpack_object *runs;
	int rc = 0, n;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&mu);
	while (!a->done && rc == 0)
		rc = pthread_cond_timedwait(&cv, &mu, &ts);
	pthread_mutex_unlock(&mu);
	if (!a->done)
		fail_msg("the parked request was not answered within 10 s");
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, a->reply.buf, a->reply.len,
					     NULL),
			 MSGPACK_UNPACK_SUCCESS);
	if (!reply_ok(&u.data)) {
		if (code)
			mp_get_str(&u.data, "error", code, len);
		n = -1;
	} else {
		runs = mp_get(&u.data, "runs");
		assert_non_null(runs);
		n = (int)runs->via.array.size;
	}
	msgpack_unpacked_destroy(&u);
	strbuf_release(&a->reply);
	return n;
}

/* Each turn, parked requests are offered their own environment's work
 * only: a run started in acme/dev answers the agent parked there and
 * leaves the one in acme/prod waiting, until acme/prod has a run. */
static void test_work_reaches_its_environment_only(void **state)
{
	struct fx *f = *state;
	struct answer a_prod, a_dev;
	struct who dev;

	admin_ok(f, "env add acme/dev");
	admin_ok(f, "job add acme/dev/j -- --master yarn app.jar");
	enroll_other(f, &dev, "acme/dev");
	park(f, NULL, 60000, &a_prod);
	park(f, &dev, 60000, &a_dev);
	assert_false(answered(&a_prod));
	assert_false(answered(&a_dev));

	admin_ok(f, "run start acme/dev/j");
	assert_int_equal(wait_answer(&a_dev, NULL, 0), 1);
	admin_ok(f, "tenant list"); /* a turn later: still waiting */
	assert_false(answered(&a_prod));

	admin_ok(f, "run start acme/prod/j");
	assert_int_equal(wait_answer(&a_prod, NULL, 0), 1);
	sign_key_free(dev.key);
}

/* A request that finds runs queued but the environment at its
 * concurrency cap stays parked, and gets the run in the turn that frees
 * the cap. */
static void test_cap_freed_serves_parked(void **state)
{
	struct fx *f = *state;
	struct answer a;
	struct who other;
	uint64_t run, epoch;

	admin_ok(f, "env set acme/prod --max-concurrent 1");
	enroll_other(f, &other, "acme/prod");
	lease_one(f, &run, &epoch);
	admin_ok(f, "run start acme/prod/j");
	park(f, &other, 60000, &a);
	admin_ok(f, "tenant list");
	assert_false(answered(&a));

	complete_one(f, run, epoch, "succeeded", 0);
	assert_int_equal(wait_answer(&a, NULL, 0), 1);
	sign_key_free(other.key);
}

/* Revoking an agent answers its parked request at once, refused. */
static void test_revoke_answers_parked(void **state)
{
	struct fx *f = *state;
	struct answer a;
	char line[128], code[32] = "";

	park(f, NULL, 60000, &a);
	assert_false(answered(&a));
	snprintf(line, sizeof(line), "agent revoke %s", f->agent);
	admin_ok(f, line);
	assert_int_equal(wait_answer(&a, code, sizeof(code)), -1);
	assert_string_equal(code, "forged");
}

/* A key rotation asked for reaches an idle agent at once: its parked
 * request is answered (with no work) in the same turn, carrying it. */
static void test_rotate_answers_parked(void **state)
{
	struct fx *f = *state;
	struct answer a;
	msgpack_unpacked u;
	char line[128];
	bool rotate = false;

	park(f, NULL, 60000, &a);
	snprintf(line, sizeof(line), "agent rotate %s", f->agent);
	admin_ok(f, line);
	/* wait_answer releases the reply: read it first */
	pthread_mutex_lock(&mu);
	while (!a.done)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, a.reply.buf, a.reply.len,
					     NULL),
			 MSGPACK_UNPACK_SUCCESS);
	rotate = mp_get(&u.data, "rotate_key") != NULL;
	assert_true(rotate);
	msgpack_unpacked_destroy(&u);
	assert_int_equal(wait_answer(&a, NULL, 0), 0);
}

/* A request whose wait passes is answered with no runs; one with a long
 * wait beside it stays parked. */
static void test_deadline_answers_parked(void **state)
{
	struct fx *f = *state;
	struct answer shortw, longw;
	struct who other;

	enroll_other(f, &other, "acme/prod");
	park(f, &other, 60000, &longw);
	park(f, NULL, 20, &shortw);
	assert_int_equal(wait_answer(&shortw, NULL, 0), 0);
	admin_ok(f, "tenant list");
	assert_false(answered(&longw));
	/* a stopping scheduler answers what is still parked */
	stop_core(f);
	assert_int_equal(wait_answer(&longw, NULL, 0), 0);
	sign_key_free(other.key);
}

/* The connection of a parked request closes (the agent died): the request
 * is let go at once, and a run started next stays queued instead of
 * going to the agent that is gone. Another connection's close leaves a
 * parked request alone. */
static void test_hangup_lets_parked_go(void **state)
{
	struct fx *f = *state;
	struct answer a, other_a;
	struct who other;
	struct event *h;
	struct json *j;

	enroll_other(f, &other, "acme/prod");
	park_on(f, NULL, 60000, &a, 7);
	park_on(f, &other, 60000, &other_a, 8);
	h = event_new(EV_HANGUP);
	h->pipe = 9; /* no request parked from it */
	core_post(f->core, h);
	admin_ok(f, "tenant list");
	assert_false(answered(&a));

	h = event_new(EV_HANGUP);
	h->pipe = 7;
	core_post(f->core, h);
	assert_int_equal(wait_answer(&a, NULL, 0), 0);
	/* the other agent's request takes the run */
	j = admin(f, "run start acme/prod/j");
	json_free(j);
	assert_int_equal(wait_answer(&other_a, NULL, 0), 1);
	sign_key_free(other.key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_matches_model),
		cmocka_unit_test_setup_teardown(
			test_work_reaches_its_environment_only, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_cap_freed_serves_parked,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_revoke_answers_parked,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rotate_answers_parked,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_deadline_answers_parked,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_hangup_lets_parked_go,
						fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
