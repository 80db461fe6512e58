# lib.sh - shared helpers for the integration scripts (sourced).
# Every script gets a private temp dir, daemons on a temporary admin socket
# and a free loopback port, and a trap that stops what it started by PID.
# Under pipefail, a reader that stops early (grep -q, head) can kill its
# writer with SIGPIPE and so fail the pipeline: bash's echo writes a line
# at a time, so a variable is given to grep as a here-string
# (grep -q PATTERN <<<"$out"), never through echo and a pipe.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$ROOT/bin
# the agent binary the scripts start (make check runs some of them again
# with the static build)
AGENT_BIN=${AGENT_BIN:-$BIN/sparkpilot-agent}
FAKE_SPARK=$ROOT/tests/fakes/spark-submit
T=$(mktemp -d "${TMPDIR:-/tmp}/sp-it.XXXXXX")
PIDS=()       # agents and other helpers
SCHED_PIDS=() # schedulers: stopped last
SOCK=$T/admin.sock
export SPARKPILOT_SOCKET=$SOCK

cleanup() {
	local rc=$? p
	# Agents first: they stop (and report) while their scheduler answers.
	for p in "${PIDS[@]}" "${SCHED_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || continue
		for _ in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ]; then
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "---- $(basename "$f") (last 30 lines)"
			tail -n 30 "$f"
		done
	fi
	rm -rf "$T"
}
trap cleanup EXIT
# A command that stops a script through set -e says which it was (fail
# says it for the checks): otherwise such a stop shows only the logs.
set -E
# (Said by the script's own shell only: a command substitution that
# ends in a failing command is often what a check expects.)
trap '_sp_err=$?; [ "$BASH_SUBSHELL" -gt 0 ] ||
	echo "FAIL: ${BASH_SOURCE[0]##*/}:$LINENO: \"$BASH_COMMAND\" exited $_sp_err" >&2' ERR

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# SP_FAKE_DATE="2026-12-02 10:00:00" (UTC) runs the daemons with their
# wall clock moved to that moment (libfaketime): a fixed offset from the
# real clock, so every daemon of the test agrees and time keeps running;
# monotonic clocks (timeouts, leases, nng) are left alone. The scripts
# that depend on the calendar are run at a month's edges this way
# (tests/integration/dates.sh).
DAEMON_ENV=()
if [ -n "${SP_FAKE_DATE:-}" ]; then
	faketime_lib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -n 1)
	[ -n "$faketime_lib" ] || fail "SP_FAKE_DATE needs libfaketime (scripts/install-deps.sh)"
	case $AGENT_BIN in *-static)
		fail "SP_FAKE_DATE: the static agent cannot take a fake clock (LD_PRELOAD)" ;;
	esac
	fake_s=$(date -u -d "$SP_FAKE_DATE" +%s) || fail "SP_FAKE_DATE: '$SP_FAKE_DATE' is not a date"
	# FORCE_MONOTONIC_FIX=0: with it (glibc's default) a timed wait on a
	# CLOCK_MONOTONIC condition variable returns at once, and the core
	# thread would spin instead of sleeping to its next wake-up.
	fake_off=$((fake_s - $(date -u +%s)))
	DAEMON_ENV=(env LD_PRELOAD="$faketime_lib" FAKETIME_DONT_FAKE_MONOTONIC=1
		FAKETIME_FORCE_MONOTONIC_FIX=0 FAKETIME="$(printf '%+d' "$fake_off")")
	# The fake spark-submit (python, started by the agent) keeps the fake
	# wall clock, since the agent bills the executor times it publishes,
	# but with its monotonic clock faked too: python's sleep fails with
	# EINVAL under FAKETIME_DONT_FAKE_MONOTONIC.
	printf '#!/bin/sh\nexec env -u FAKETIME_DONT_FAKE_MONOTONIC -u FAKETIME_FORCE_MONOTONIC_FIX "%s" "$@"\n' \
		"$FAKE_SPARK" >"$T/spark-submit"
	chmod +x "$T/spark-submit"
	FAKE_SPARK=$T/spark-submit
fi

# ok_bad_jobs: tenants acme (environment acme/prod, agent a1 with 2
# slots, ready) and globex (globex/dev, no agent); jobs acme/prod/ok (a
# short success), acme/prod/bad (a short failure, class executor_oom) and
# globex/dev/j (never run: no agent).
ok_bad_jobs() {
	spctl tenant add acme >/dev/null
	spctl env add acme/prod >/dev/null
	spctl tenant add globex >/dev/null
	spctl env add globex/dev >/dev/null
	start_agent a1 acme/prod --slots 2
	wait_env_ready acme/prod
	spctl job add acme/prod/ok -- --conf spark.fake.duration=0.1 local:///ok.jar >/dev/null
	spctl job add acme/prod/bad -- --conf spark.fake.duration=0.1 \
		--conf spark.fake.outcome=fail --conf spark.fake.signature=executor_oom \
		local:///bad.jar >/dev/null
	spctl job add globex/dev/j -- local:///g.jar >/dev/null
}

# clock_ahead SECONDS: the daemons started from now on see the wall clock
# that many seconds ahead of the real one (or of SP_FAKE_DATE's clock, if
# set), through libfaketime as above.
clock_ahead() {
	local lib
	lib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -n 1)
	[ -n "$lib" ] || fail "$(basename "$0") needs libfaketime (scripts/install-deps.sh)"
	DAEMON_ENV=(env LD_PRELOAD="$lib" FAKETIME_DONT_FAKE_MONOTONIC=1
		FAKETIME_FORCE_MONOTONIC_FIX=0
		FAKETIME="$(printf '%+d' $((${fake_off:-0} + $1)))")
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_until SECONDS CMD... : polls CMD every 0.1 s until it succeeds.
wait_until() {
	local secs=$1
	shift
	local n=$((secs * 10))
	while [ "$n" -gt 0 ]; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

spctl() {
	"$BIN/spctl" --socket "$SOCK" "$@"
}

# sp-wirecraft plays an agent: it stamps its messages with the daemons'
# clock.
wirecraft() {
	"${DAEMON_ENV[@]}" "$BIN/sp-wirecraft" "$@"
}

# json FIELD.PATH : reads JSON on stdin and prints one field ("a.b.0.c").
json() {
	python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if not isinstance(v, (dict, list)) else json.dumps(v))' "$1"
}

start_scheduler() {
	PORT=${PORT:-$(free_port)}
	URL=${URL:-tcp://127.0.0.1:$PORT}
	"${DAEMON_ENV[@]}" "$BIN/sparkpilot-scheduler" --data-dir "$T/data" --admin-socket "$SOCK" \
		--listen "$URL" "$@" >>"$T/scheduler.log" 2>&1 &
	SCHED_PID=$!
	SCHED_PIDS+=("$SCHED_PID")
	wait_until 10 spctl tenant list || fail "scheduler did not start"
}

stop_scheduler() {
	kill -TERM "$SCHED_PID"
	wait "$SCHED_PID" || fail "scheduler exited with $?"
}

# start_agent NAME TENANT/ENV [extra agent flags]: enrolls a new agent.
start_agent() {
	local name=$1 env=$2
	shift 2
	local token
	token=$(spctl agent token "$env")
	"${DAEMON_ENV[@]}" "$AGENT_BIN" --scheduler "$URL" --state-dir "$T/agent-$name" \
		--enroll-token "$token" --spark-submit "$FAKE_SPARK" "$@" \
		>>"$T/agent-$name.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	eval "AGENT_PID_$name=$pid"
}

env_state() {
	spctl --json env show "$1" | json environment.state
}

run_state() {
	spctl --json run show "$1" | json run.state
}

# env_is ENV STATE / run_is RUN STATE: for wait_until (evaluated each time)
env_is() {
	[ "$(env_state "$1")" = "$2" ]
}

run_is() {
	[ "$(run_state "$1")" = "$2" ]
}

# wait_env_ready ENV [SECONDS]
wait_env_ready() {
	wait_until "${2:-20}" env_is "$1" ready ||
		fail "environment $1 is $(env_state "$1"), expected ready"
}

# wait_run_state RUN STATE [SECONDS]
wait_run_state() {
	wait_until "${3:-30}" run_is "$1" "$2" ||
		fail "run $1 is $(run_state "$1"), expected $2"
}

# agent_accepted ID: how many messages of agent ID the scheduler took.
agent_accepted() {
	spctl --json agent show "$1" | json agent.accepted
}

agent_heard() { # ID N: for wait_until
	[ "$(agent_accepted "$1")" -ge "$2" ]
}

# wait_agent_asked ID [N]: waits until the scheduler has taken N (default
# 1) more messages from agent ID (after a restart or a reload: it talks
# again).
wait_agent_asked() {
	local want=$(($(agent_accepted "$1") + ${2:-1}))
	wait_until 30 agent_heard "$1" "$want" ||
		fail "agent $1 stopped talking to the scheduler"
}

# wait_agent_waiting ID: waits until a request of agent ID for work waits
# at the scheduler (its long poll). The scheduler offers a parked request
# work in the turn that makes some, and leases at once to a request that
# arrives when there is some: so once the agent waits, after a change, it
# has had its chances to get work. A check that something was NOT
# dispatched waits for this, never for a sleep.
wait_agent_waiting() {
	wait_until 30 agent_waits "$1" ||
		fail "agent $1 does not wait for work at the scheduler"
}
agent_waits() {
	[ "$(spctl --json agent show "$1" | json agent.waiting_for_work)" = True ]
}

# start_with_agent: a scheduler with tenant acme, environment acme/prod and
# one agent a1 in it, ready for work.
start_with_agent() {
	start_scheduler
	spctl tenant add acme >/dev/null
	spctl env add acme/prod >/dev/null
	start_agent a1 acme/prod
	wait_env_ready acme/prod
}

# TLS material for tests (openssl).
mkcert() { # DIR NAME: a CA and a server certificate for localhost
	local d=$1
	mkdir -p "$d"
	# valid from now on the daemons' clock (dates.sh may move it)
	"${DAEMON_ENV[@]}" openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/ca.key" -out "$d/ca.crt" -subj "/CN=$2" -days 2 2>/dev/null
	mkcert_server "$d" server 2
}
# mkcert_server DIR NAME DAYS [CLOCK...]: DIR/NAME.key and DIR/NAME.crt,
# a new key and a certificate for localhost signed by DIR's CA, valid DAYS
# days from now on CLOCK's time (a command prefix; default: the daemons').
mkcert_server() {
	local d=$1 n=$2 days=$3
	shift 3
	local clock=("${DAEMON_ENV[@]}")
	[ $# -gt 0 ] && clock=("$@")
	"${clock[@]}" openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/$n.key" -out "$d/$n.csr" -subj /CN=localhost 2>"$d/$n.err" ||
		fail "openssl req for $n: $(tail -3 "$d/$n.err")"
	printf 'subjectAltName=DNS:localhost\n' >"$d/ext"
	"${clock[@]}" openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
		-CAcreateserial -out "$d/$n.crt" -days "$days" -extfile "$d/ext" 2>"$d/$n.err" ||
		fail "openssl x509 for $n: $(tail -3 "$d/$n.err")"
}

# fetch URL [METHOD]: the body on stdout, the HTTP status in $T/status
# (python3: curl is not among the test dependencies).
fetch() {
	python3 - "$1" "${2:-GET}" "$T/status" <<'PY'
import os, sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1], method=sys.argv[2])
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        body, status = r.read().decode(), r.status
except urllib.error.HTTPError as e:
    body, status = "", e.code
open(sys.argv[3], "w").write(str(status))
try:
    sys.stdout.write(body)
    sys.stdout.flush()
except BrokenPipeError:
    # the reader stopped once it had what it wanted (grep -q): under
    # pipefail, a failure here would fail its pipeline
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
PY
}
