#!/bin/bash
# The agent protocol's answers, byte for byte, with a scripted agent
# (sp-wirecraft) against the real scheduler: a resend of the same sealed
# bytes gets the identical reply, also after the scheduler is killed -9
# and restarted on the same data dir (the reply is stored with its
# effects); so does a resent enrollment; a lease for 0 slots gets a
# well-formed answer; every ok reply carries the cancel list of the runs
# the agent reports in `held` that are not its own (heartbeat, preflight,
# complete, not just lease); a batch of completions names its malformed
# reports by position and still applies the good ones.
. "$(dirname "$0")/lib.sh"

D=$T/wc

# seal SEQ TYPE JSON: seals a message of the scripted agent into $T/SEQ.msg
seal() {
	wirecraft seal "$D" "$2" "$1" "$3" "$T/$1.msg" || fail "cannot seal $2 $1"
}

# send SEQ [TAG]: sends $T/SEQ.msg; the reply's JSON on stdout, its raw
# bytes in $T/SEQ.TAG.reply
send() {
	wirecraft send "$URL" "$T/$1.msg" "$T/$1.${2:-a}.reply" ||
		fail "message $1: no reply"
}

# check EXPR JSON: a python expression over the reply `r` must hold
check() {
	python3 -c 'import json, sys
r = json.loads(sys.argv[2])
sys.exit(0 if eval("(" + sys.argv[1] + ")") else 1)' "$1" "$2" ||
		fail "reply $2 does not satisfy: $1"
}

# restart_hard: kill -9 the scheduler, start it again on the same data dir
restart_hard() {
	local p keep=()
	kill -KILL "$SCHED_PID"
	wait "$SCHED_PID" 2>/dev/null || true
	for p in "${SCHED_PIDS[@]}"; do
		[ "$p" = "$SCHED_PID" ] || keep+=("$p")
	done
	SCHED_PIDS=("${keep[@]}")
	start_scheduler --config "$T/sched.conf"
}

# Leases must not expire on a slow machine between the test's messages.
echo "agent_timeout_ms = 300000" >"$T/sched.conf"
start_scheduler --config "$T/sched.conf"
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null
spctl job add acme/prod/j -- --master yarn app.jar >/dev/null
spctl tenant add beta >/dev/null
spctl env add beta/e >/dev/null
spctl job add beta/e/j -- --master yarn app.jar >/dev/null
foreign=$(spctl run start beta/e/j)

# ---- enrollment: a resend gets the same agent id, even after kill -9 ----
token=$(spctl agent token acme/prod)
id=$(wirecraft enroll "$D" "$URL" "$token") || fail "enrollment refused"
cp "$D/enroll.msg" "$T/0.msg"
r=$(send 0)
check "r['ok'] and r['agent'] == '$id'" "$r"
restart_hard
r=$(send 0)
check "r['ok'] and r['agent'] == '$id'" "$r"
agents=$(spctl --json agent list | json items)
check "len(r) == 1" "$agents" # a resend enrolls no second agent

# ---- preflight, with a foreign run in held: cancel ----
seal 1 preflight '{"spark_ok": true, "spark_version": "3.5.1",
	"disk_free_mb": 100000, "slots": 4, "held": [['"$foreign"', 1]]}'
r=$(send 1)
check "r['ok'] and r['env_state'] == 'ready' and r['cancel'] == [$foreign]" "$r"

# ---- a lease and its resends: the same bytes, before and after kill -9 ----
run=$(spctl run start acme/prod/j)
seal 2 lease '{"slots": 1, "wait_ms": 0, "held": []}'
r=$(send 2)
check "r['ok'] and [x['run'] for x in r['runs']] == [$run]" "$r"
epoch=$(echo "$r" | json runs.0.epoch)
send 2 b >/dev/null
cmp -s "$T/2.a.reply" "$T/2.b.reply" || fail "a resent lease got another reply"
restart_hard
send 2 c >/dev/null
cmp -s "$T/2.a.reply" "$T/2.c.reply" ||
	fail "a lease resent after kill -9 got another reply"
[ "$(spctl --json run show "$run" | json run.epoch)" = "$epoch" ] ||
	fail "the resend was applied again (epoch changed)"
[ "$(spctl --json agent show "$id" | json agent.accepted)" = 2 ] ||
	fail "resends were counted as accepted messages"

# ---- a lease for 0 slots: answered, well-formed, resent identically ----
seal 3 lease '{"slots": 0, "wait_ms": 1000, "held": [['"$run"', '"$epoch"']]}'
r=$(send 3)
check "r == {'ok': True, 'runs': []}" "$r"
restart_hard
send 3 b >/dev/null
cmp -s "$T/3.a.reply" "$T/3.b.reply" ||
	fail "a 0-slot lease resent after kill -9 got another reply"

# ---- heartbeats: a foreign run, then our run under a stale epoch ----
seal 4 heartbeat '{"running": 2, "held": [['"$run"', '"$epoch"'],
	['"$foreign"', 1]]}'
r=$(send 4)
check "r['ok'] and r['cancel'] == [$foreign]" "$r"
[ "$(run_state "$run")" = leased ] || fail "our own held run was disturbed"
seal 5 heartbeat '{"running": 1, "held": [['"$run"', '"$((epoch + 7))"']]}'
r=$(send 5)
check "r['ok'] and r['cancel'] == [$run]" "$r"
[ "$(run_state "$run")" = queued ] || fail "a run held under a stale epoch kept its lease"

# ---- a batch of completions with malformed reports ----
seal 6 lease '{"slots": 1, "wait_ms": 0, "held": []}'
r=$(send 6)
check "[x['run'] for x in r['runs']] == [$run]" "$r"
epoch=$(echo "$r" | json runs.0.epoch)
seal 7 complete '{"held": [['"$run"', '"$epoch"'], ['"$foreign"', 1]],
	"results": [
	{"run": '"$run"', "epoch": '"$epoch"', "result": "succeeded", "exit_code": 0},
	7,
	{"run": '"$run"'},
	{"run": '"$run"', "epoch": '"$epoch"', "result": "exploded"},
	{"run": '"$foreign"', "epoch": 1, "result": "failed"}]}'
r=$(send 7)
check "r['ok'] and r['stale'] == [$foreign] and r['malformed'] == [1, 2, 3]
	and r['cancel'] == [$foreign]" "$r"
[ "$(run_state "$run")" = succeeded ] || fail "the good report in the batch was not applied"
[ "$(run_state "$foreign")" = queued ] || fail "a foreign run was touched"
restart_hard
send 7 b >/dev/null
cmp -s "$T/7.a.reply" "$T/7.b.reply" ||
	fail "a batch resent after kill -9 got another reply"
echo "agent protocol: ok"
