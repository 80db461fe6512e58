/* fuzz_agent_msgs.c - what an enrolled agent's messages do on the core
 * thread (scheduler/agent_msgs.c, agent_work.c, telemetry.c): an agent's
 * signature proves who sent a message, not that its body is sane. Each
 * input is a few messages, signed with the enrolled agent's key as the
 * agent would and posted as the transport posts them (after the checks
 * that fuzz_wire covers); every reply must be a msgpack map with a
 * boolean "ok".
 *
 * Input: up to MAX_MSGS of { u8 step (0: resend the last message, else
 * the next seq), chunk type, chunk body }. The core is core_fixture.c's (an
 * agent of the ready acme/prod with job acme/prod/j, holding run 1 at
 * epoch 1) with long polls and acknowledgement delays off, made afresh as
 * in fuzz_admin.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_fixture.h"
#include "fuzz.h"
#include "mp.h"
#include "telemetry.h"
#include "wire.h"

#define MAX_MSGS 8
#define RESET_EVERY 2000

static struct fx *f;
static unsigned inputs;

static void stop(void)
{
	void *state = f;
	if (f)
		fx_teardown(&state);
	f = NULL;
}

static void start(void)
{
	uint64_t run, epoch;
	void *state;

	fx_setup(&state);
	f = state;
	/* restart as the daemon would, without waiting in the core */
	stop_core(f);
	state_release(&f->st);
	f->cfg.lease_wait_max_ms = 0;
	f->cfg.agent_ack_delay_us = 0;
	start_core(f);
	lease_one(f, &run, &epoch); /* run 1, epoch 1: the agent's */
	inputs = 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("CMOCKA_TEST_ABORT", "1", 1);
	setenv("TMPDIR", fz_tmpdir(), 1); /* see fuzz_admin.c */
	return 0;
}

static void check_reply(const struct strbuf *out, const char *type)
{
	msgpack_unpacked u;
	bool ok;

	msgpack_unpacked_init(&u);
	if (mp_validate(out->buf, out->len) ||
	    msgpack_unpack_next(&u, out->buf, out->len, NULL) !=
		    MSGPACK_UNPACK_SUCCESS ||
	    u.data.type != MSGPACK_OBJECT_MAP ||
	    mp_get_bool(&u.data, "ok", &ok))
		fz_fail("bad reply to a '%s' message (%zu bytes)", type,
			out->len);
	if (getenv("SP_FUZZ_VERBOSE")) {
		char error[64] = "";
		mp_get_str(&u.data, "error", error, sizeof(error));
		fprintf(stderr, "  %s: ok %d %s\n", type, ok, error);
	}
	msgpack_unpacked_destroy(&u);
}

/* Posts a sealed message as agentsvc.c does once it has checked it. */
static void post(const struct strbuf *msg)
{
	struct event *ev = event_new(EV_AGENT);
	struct strbuf out = STRBUF_INIT;
	uint8_t pub[SIGN_PUB_LEN];
	char err[128], type[32];

	ev->len = msg->len;
	ev->buf = xmalloc(msg->len);
	memcpy(ev->buf, msg->buf, msg->len);
	ev->msg_open = true;
	if (wire_open(ev->buf, ev->len, &ev->msg, err, sizeof(err))) {
		ev->auth = AUTH_MALFORMED; /* a body that is not a map */
	} else if (!strcmp(ev->msg.type, "enroll")) {
		ev->auth = AUTH_ENROLL;
	} else {
		ev->auth = AUTH_OK;
		if (!strcmp(ev->msg.type, "telemetry")) {
			sign_key_public(f->key, pub);
			ev->pre = telemetry_precheck(&ev->msg, pub);
			ev->pre_free = telemetry_pre_free;
		}
	}
	memcpy(type, ev->msg.type, sizeof(type)); /* ev is gone after */
	post_wait(f, ev, &out);
	check_reply(&out, type);
	strbuf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct strbuf msg = STRBUF_INIT;

	if (f && ++inputs >= RESET_EVERY)
		stop();
	if (!f)
		start();
	for (int i = 0; i < MAX_MSGS && in.n; i++) {
		uint8_t step = fz_u8(&in);
		char *type = fz_str(&in, 32);
		const uint8_t *body;
		size_t len = fz_chunk(&in, 4096, &body);

		/* step 0 resends the last message byte for byte, as nng's
		 * REQ does after a timeout */
		if (step || !msg.len) {
			strbuf_reset(&msg);
			wire_seal(&msg, type, f->agent, ++f->seq,
				  time_now_ms(), body, len, f->key);
		}
		post(&msg);
		free(type);
	}
	strbuf_release(&msg);
	if (fz_replaying())
		stop();
	return 0;
}
