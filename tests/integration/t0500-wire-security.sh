#!/bin/bash
# Forged, replayed, unsigned and tampered agent messages are rejected and
# counted on the agent they name; an exact resend of the last message is
# answered from the cache; an enrollment token works once (a resend of the
# same enrollment gets the same agent id, another key gets token_used).
. "$(dirname "$0")/lib.sh"

start_scheduler
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null
token=$(spctl agent token acme/prod --ttl 60)
wirecraft "$URL" "$token" >"$T/wirecraft.out" 2>&1 ||
	{ cat "$T/wirecraft.out"; fail "a hostile message was not refused as expected"; }
id=$(awk '/^agent /{print $2}' "$T/wirecraft.out")
show=$(spctl --json agent show "$id")
[ "$(echo "$show" | json agent.rejected_replayed)" = 1 ] || fail "replay not counted once"
[ "$(echo "$show" | json agent.rejected_unsigned)" = 1 ] || fail "unsigned not counted once"
[ "$(echo "$show" | json agent.rejected_forged)" -ge 1 ] || fail "forgery not counted"
[ "$(echo "$show" | json agent.accepted)" = 2 ] || fail "accepted count is not 2"

# An expired token is refused. The sleep lets the token's second pass (a
# lower bound on time, whatever the machine's speed); the refusal must
# say why, so that a failure for another reason cannot pass for it.
old=$(spctl agent token acme/prod --ttl 1)
sleep 1.2
if wirecraft "$URL" "$old" >"$T/expired.out" 2>&1; then
	fail "an expired token enrolled"
fi
grep -q "enroll refused: token_expired" "$T/expired.out" ||
	fail "expired token: $(cat "$T/expired.out")"
# The counters are durable.
stop_scheduler
start_scheduler
[ "$(spctl --json agent show "$id" | json agent.rejected_replayed)" = 1 ] ||
	fail "counters lost across restart"
echo "wire security: ok"
