#!/bin/bash
# t1950-key-rotation.sh - an agent's identity key replaced without
# enrolling again, with the real daemons: `spctl agent rotate` -> the
# agent makes a new key, the scheduler takes it (agent show, the log),
# identity.key is the new key and identity.key.next is gone, runs go on,
# and a restarted agent signs with the new key. Then the crashes between
# writing identity.key.next and the rename (SPARKPILOT_TEST_ROTATE_CRASH,
# agent/rotate.h): before the scheduler heard of it (the restarted agent
# sends it), after the scheduler's ok (sent again, answered ok again),
# and the same after the grace ended (the old key refused, the new one
# finishes it); a power cut (faultfs) after writing identity.key.next and
# after the rename. Last, a rotation by age (key_rotate_days).
. "$(dirname "$0")/lib.sh"

echo "key_rotate_grace_s = 600" >"$T/sched.conf"
start_scheduler --config "$T/sched.conf"
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null
spctl job add acme/prod/pi -- --master yarn --conf spark.fake.duration=0.2 \
	local:///opt/spark/examples.jar >/dev/null
start_agent a1 acme/prod
wait_env_ready acme/prod
S=$T/agent-a1
id=$(cat "$S/agent.id")

# the SHA-256 of the raw Ed25519 public key in a PEM private key file
file_fp() {
	openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | sha256sum | cut -d' ' -f1
}

field() {
	spctl --json agent show "$id" | json "agent.$1"
}

fp_is() { [ "$(field key_fingerprint)" = "$1" ]; }
fp_is_not() { [ "$(field key_fingerprint)" != "$1" ]; }

run_ok() {
	local r
	r=$(spctl run start acme/prod/pi)
	wait_run_state "$r" succeeded 60
}

agent_pid() {
	eval "echo \$AGENT_PID_a1"
}

# stop_agent: SIGTERM, and it must exit 0 (start_agent passes the
# environment on: VAR=x start_agent ... starts the agent with VAR)
stop_agent() {
	local p
	p=$(agent_pid)
	kill -TERM "$p"
	wait "$p" || fail "the agent exited with $?"
}

# died: the agent killed itself at the test hook (gone, or a zombie not
# reaped yet)
died() {
	local p
	p=$(agent_pid)
	! kill -0 "$p" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ]
}

# ---- on command ----
fp0=$(field key_fingerprint)
[ "$fp0" = "$(file_fp "$S/identity.key")" ] ||
	fail "agent show's fingerprint is not the agent's key"
sum0=$(sha256sum <"$S/identity.key")
spctl agent rotate "$id" | grep -q "key rotation requested" ||
	fail "agent rotate did not say it asked"
wait_until 30 fp_is_not "$fp0" || fail "agent show still reports the old key"
wait_until 10 grep -q "identity key rotated (sha256" "$S.log" ||
	fail "the agent did not log the rotation"
[ ! -e "$S/identity.key.next" ] || fail "identity.key.next is still there"
[ "$(sha256sum <"$S/identity.key")" != "$sum0" ] || fail "identity.key did not change"
fp1=$(file_fp "$S/identity.key")
[ "$(field key_fingerprint)" = "$fp1" ] || fail "the scheduler's key is not identity.key"
[ "$(stat -c %a "$S/identity.key")" = 600 ] || fail "identity.key is not mode 0600"
[ "$(field key_rotation)" = none ] || fail "a rotation is still asked for"
field key_rotated | grep -q '^20' || fail "agent show: no key_rotated"
field old_key_accepted_until | grep -q '^20' || fail "agent show: the old key's end is not shown"
grep -q "agent $id: identity key rotated (sha256 $fp1); the old key is accepted until 20" \
	"$T/scheduler.log" || fail "the scheduler did not log the rotation"
spctl agent show "$id" | grep -q "$fp1" || fail "spctl agent show does not print the fingerprint"
run_ok

# restarted, the agent signs with the new key
stop_agent
start_agent a1 acme/prod # same state dir: same identity, no enrollment
wait_agent_asked "$id"
run_ok
[ "$(field rejected_forged)" = 0 ] || fail "messages were refused as forged"

# ---- crash after identity.key.next is written, before the scheduler
# heard of it: the old key still works, and the restart finishes it ----
stop_agent
SPARKPILOT_TEST_ROTATE_CRASH=after_write start_agent a1 acme/prod
spctl agent rotate "$id" >/dev/null
wait_until 30 died || fail "the agent did not stop at after_write"
[ -e "$S/identity.key.next" ] || fail "no identity.key.next after after_write"
[ "$(field key_fingerprint)" = "$fp1" ] || fail "the scheduler took a key it was never sent"
fp2=$(file_fp "$S/identity.key.next")
start_agent a1 acme/prod
wait_until 30 fp_is "$fp2" || fail "the restarted agent did not finish the rotation"
wait_until 10 test ! -e "$S/identity.key.next" || fail "identity.key.next is still there"
[ "$(file_fp "$S/identity.key")" = "$fp2" ] || fail "identity.key is not the new key"
grep -q "identity.key.next found" "$S.log" || fail "the agent did not say it resumed"
run_ok

# ---- crash after the scheduler's ok, before the rename: sent again,
# answered ok again ----
stop_agent
SPARKPILOT_TEST_ROTATE_CRASH=before_rename start_agent a1 acme/prod
spctl agent rotate "$id" >/dev/null
wait_until 30 died || fail "the agent did not stop at before_rename"
fp3=$(file_fp "$S/identity.key.next")
[ "$(field key_fingerprint)" = "$fp3" ] || fail "the scheduler did not take the new key"
[ "$(file_fp "$S/identity.key")" = "$fp2" ] || fail "identity.key changed before the rename"
start_agent a1 acme/prod
wait_until 30 test ! -e "$S/identity.key.next" || fail "the rotation was not finished"
[ "$(file_fp "$S/identity.key")" = "$fp3" ] || fail "identity.key is not the new key"
grep -q "agent $id: key rotation sent again; answered again" "$T/scheduler.log" ||
	fail "the scheduler did not answer the resent rotation"
run_ok

# ---- a power cut instead of a crash (bin/faultfs.so rolls back what was
# not synced, docs/storage.md Power-loss testing; the static agent cannot
# take LD_PRELOAD): identity.key.next, written before the scheduler is
# told, survives; so does the rename once the agent says it rotated ----
if [[ $AGENT_BIN != *-static ]]; then
	[ -x "$BIN/faultfs.so" ] || fail "bin/faultfs.so is missing (make tools)"
	power_cut() {
		python3 "$ROOT/tests/faultfs/powerloss.py" "$S" "$T/journal" --quiet ||
			fail "powerloss.py failed"
	}
	stop_agent
	rm -f "$T/journal"
	SPARKPILOT_TEST_ROTATE_CRASH=after_write FAULTFS_DIR=$S FAULTFS_LOG=$T/journal \
		LD_PRELOAD=$BIN/faultfs.so start_agent a1 acme/prod
	spctl agent rotate "$id" >/dev/null
	wait_until 30 died || fail "the agent did not stop at after_write"
	fpn=$(file_fp "$S/identity.key.next")
	power_cut
	[ -e "$S/identity.key.next" ] && [ "$(file_fp "$S/identity.key.next")" = "$fpn" ] ||
		fail "identity.key.next did not survive a power cut"
	start_agent a1 acme/prod
	wait_until 30 fp_is "$fpn" || fail "the rotation was not finished after a power cut"
	wait_until 10 test ! -e "$S/identity.key.next" || fail "identity.key.next is still there"

	stop_agent
	rm -f "$T/journal"
	# (not `n`: wait_until's own counter would shadow it)
	rotations=$(grep -c "identity key rotated" "$S.log")
	FAULTFS_DIR=$S FAULTFS_LOG=$T/journal LD_PRELOAD=$BIN/faultfs.so start_agent a1 acme/prod
	spctl agent rotate "$id" >/dev/null
	rotated_again() { [ "$(grep -c "identity key rotated" "$S.log")" -gt "$rotations" ]; }
	wait_until 30 rotated_again || fail "the agent did not rotate"
	kill -KILL "$(agent_pid)"
	wait "$(agent_pid)" 2>/dev/null || true
	power_cut
	[ ! -e "$S/identity.key.next" ] || fail "the rename was undone by a power cut"
	[ "$(file_fp "$S/identity.key")" = "$(field key_fingerprint)" ] ||
		fail "identity.key after a power cut is not the key the scheduler has"
	start_agent a1 acme/prod
	run_ok
fi

# ---- the same, the agent away through the whole grace: the old key is
# refused, the rotation signed with the new key finishes it ----
echo "key_rotate_grace_s = 1" >"$T/sched.conf"
kill -HUP "$SCHED_PID"
wait_until 10 grep -q "reload: key_rotate_grace_s 600 -> 1" "$T/scheduler.log" ||
	fail "key_rotate_grace_s was not reloaded"
stop_agent
SPARKPILOT_TEST_ROTATE_CRASH=before_rename start_agent a1 acme/prod
spctl agent rotate "$id" >/dev/null
wait_until 30 died || fail "the agent did not stop at before_rename"
fp4=$(file_fp "$S/identity.key.next")
grace_over() { [ "$(field old_key_accepted_until)" = None ]; }
wait_until 10 grace_over || fail "the grace did not end"
forged=$(field rejected_forged)
start_agent a1 acme/prod
wait_until 30 test ! -e "$S/identity.key.next" || fail "the rotation was not finished"
[ "$(file_fp "$S/identity.key")" = "$fp4" ] || fail "identity.key is not the new key"
grep -q "the scheduler refuses the old key; sending the rotation signed with the new one" \
	"$S.log" || fail "the agent did not retry with the new key"
[ "$(field rejected_forged)" = $((forged + 1)) ] ||
	fail "the old key's rotation was not counted as forged once"
run_ok

# ---- by age: identity.key older than key_rotate_days ----
stop_agent
printf 'key_rotate_days = 1\n' >"$T/agent.conf"
touch -d '2 days ago' "$S/identity.key"
start_agent a1 acme/prod --config "$T/agent.conf"
wait_until 30 fp_is_not "$fp4" || fail "an old key was not rotated"
wait_until 10 test ! -e "$S/identity.key.next" || fail "identity.key.next is still there"
[ "$(field key_fingerprint)" = "$(file_fp "$S/identity.key")" ] ||
	fail "the scheduler's key is not identity.key after the rotation by age"
grep -q "key rotation (identity.key reached key_rotate_days)" "$S.log" ||
	fail "the agent did not say why it rotated"
run_ok
echo "key rotation: ok"
