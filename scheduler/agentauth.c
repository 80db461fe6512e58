/* agentauth.c - an agent message judged on the transport's thread. */
#include "agentauth.h"

#include <stdio.h>
#include <string.h>

#include "core.h"
#include "keyreg.h"
#include "mp.h"
#include "sign.h"
#include "telemetry.h"
#include "wire.h"

/* The enrolled key first; the old one of a rotation only if that fails
 * (messages and spooled batches signed before the rotation). */
static void judge_signed(struct keyreg *keys, struct event *ev)
{
	uint8_t pub[SIGN_PUB_LEN], prev[SIGN_PUB_LEN];
	bool has_prev;

	if (!keyreg_get_keys(keys, ev->msg.agent, pub, prev, &has_prev)) {
		ev->auth = AUTH_FORGED;
		return;
	}
	if (!wire_verify(&ev->msg, pub)) {
		ev->auth = AUTH_OK;
	} else if (has_prev && !wire_verify(&ev->msg, prev)) {
		ev->auth = AUTH_OK;
		ev->key_prev = true;
	} else {
		ev->auth = AUTH_FORGED;
		return;
	}
	if (!strcmp(ev->msg.type, "telemetry")) {
		ev->pre = telemetry_precheck_keys(&ev->msg, pub,
						  has_prev ? prev : NULL);
		ev->pre_free = telemetry_pre_free;
	}
}

void agentauth_judge(struct keyreg *keys, struct event *ev)
{
	char err[128];
	const char *bin;
	size_t len;
	int rc = wire_open(ev->buf, ev->len, &ev->msg, err, sizeof(err));

	ev->msg_open = true;
	if (rc == WIRE_MALFORMED) {
		ev->auth = AUTH_MALFORMED;
		snprintf(ev->auth_detail, sizeof(ev->auth_detail), "%s", err);
	} else if (rc == WIRE_UNSIGNED) {
		ev->auth = AUTH_UNSIGNED;
	} else if (!strcmp(ev->msg.type, "enroll")) {
		/* Proof of possession of the key being enrolled. */
		if (mp_get_bin(ev->msg.body, "pubkey", &bin, &len) ||
		    len != SIGN_PUB_LEN)
			ev->auth = AUTH_MALFORMED;
		else
			ev->auth = wire_verify(&ev->msg, (const uint8_t *)bin)
					   ? AUTH_MALFORMED
					   : AUTH_ENROLL;
	} else {
		judge_signed(keys, ev);
	}
}
