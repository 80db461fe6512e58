#!/bin/bash
# The agent's spool under failure, while a run streams numbered lines:
#   A. the scheduler is killed -9 and restarted mid-stream;
#   B. the agent is killed -9 mid-stream (its run is stopped by the next
#      agent and run again: the first attempt's spooled lines still arrive);
#   C. a spool record is damaged while the agent is down: skipped, counted
#      (spctl agent show: spool.corrupt) and logged, never fatal;
#   D. the agent's network is cut (it runs in a network namespace of its
#      own) and restored.
# In A, B and D, `run logs` must hold every line the agent read, once: for each
# attempt, "progress line 1..k of N" with no gap and no repeat (k = N for
# an attempt that finished).
. "$(dirname "$0")/lib.sh"

N=1500
LINES_JOB=(-- --master 'local[2]' --conf spark.fake.lines=$N
	--conf spark.fake.duration=4 app.jar)

# check_lines RUN ATTEMPTS: the log is ATTEMPTS runs of 1..k, the last to N.
check_lines() {
	spctl --json run logs "$1" --limit 100000 | python3 -c '
import json, re, sys
lines = [l["line"] for l in json.load(sys.stdin)["lines"]]
nums = [int(m.group(1)) for m in (re.match(r"progress line (\d+) of", l) for l in lines) if m]
runs, cur = [], []
for n in nums:
    if cur and n != cur[-1] + 1:
        runs.append(cur); cur = []
    cur.append(n)
runs.append(cur)
want = int(sys.argv[1]); total = int(sys.argv[2])
ok = len(runs) == want and all(r[0] == 1 for r in runs) and runs[-1][-1] == total
print("attempt line counts:", [len(r) for r in runs])
sys.exit(0 if ok else 1)' "$2" "$N" || fail "run $1: lines lost or repeated"
	[ "$(spctl --json run logs "$1" --limit 100000 | json done)" = True ] ||
		fail "run $1: log not done"
}

# streaming RUN MIN: the scheduler has stored at least MIN of its lines
streaming() {
	[ "$(spctl --json run show "$1" | json run.log_lines)" -ge "$2" ]
}
wait_streaming() {
	wait_until 30 streaming "$1" 100 || fail "run $1 is not streaming"
}

# Agent telemetry counters must show nothing refused.
check_agent() {
	local id
	id=$(spctl --json agent list | json items.0.id)
	spctl --json agent show "$id" | python3 -c '
import json, sys
t = json.load(sys.stdin)["agent"]["telemetry"]
bad = {k: v for k, v in t.items() if k.startswith("rejected") and v}
print("telemetry:", t)
sys.exit(1 if bad or t["batches"] == 0 else 0)' || fail "telemetry refused"
}

# ---- A: scheduler killed mid-stream
start_with_agent
spctl job add acme/prod/stream "${LINES_JOB[@]}" >/dev/null
r=$(spctl run start acme/prod/stream)
wait_streaming "$r"
kill -KILL "$SCHED_PID"
wait "$SCHED_PID" 2>/dev/null || true
sleep 1
start_scheduler
wait_run_state "$r" succeeded 60
check_lines "$r" 1
check_agent
echo "A (scheduler killed): ok"

# ---- B: agent killed mid-stream
r=$(spctl run start acme/prod/stream)
wait_streaming "$r"
kill -KILL "$AGENT_PID_a1"
wait "$AGENT_PID_a1" 2>/dev/null || true
"${DAEMON_ENV[@]}" "$AGENT_BIN" --scheduler "$URL" --state-dir "$T/agent-a1" \
	--spark-submit "$FAKE_SPARK" >>"$T/agent-a1.log" 2>&1 &
AGENT_PID_a1=$!
PIDS+=("$AGENT_PID_a1")
wait_run_state "$r" succeeded 90
[ "$(spctl --json run show "$r" | json run.attempt)" = 2 ] ||
	fail "the killed attempt must be run again"
check_lines "$r" 2
check_agent
echo "B (agent killed): ok"

# ---- C: a damaged spool record is skipped, counted and reported
# log_lane_bytes: the bytes in the agent's spool segments of log lines.
log_lane_bytes() {
	cat "$T"/agent-a1/spool/*-l.seg 2>/dev/null | wc -c
}
log_lane_grew() {
	[ "$(log_lane_bytes)" -ge "$1" ]
}
r=$(spctl run start acme/prod/stream)
wait_streaming "$r"
stop_scheduler # the agent spools what it cannot send
# Wait for that to be seen on disk (no acknowledgements come now, so the log
# lane only grows), rather than for a time a slow machine may not fill.
spooled=$(log_lane_bytes)
wait_until 30 log_lane_grew "$((spooled + 2048))" ||
	fail "the agent spooled no lines while the scheduler was down"
kill -KILL "$AGENT_PID_a1"
wait "$AGENT_PID_a1" 2>/dev/null || true
seg=$(ls -S "$T"/agent-a1/spool/*-l.seg | head -1)
python3 - "$seg" <<'PY'
import os, sys
p = sys.argv[1]
n = os.path.getsize(p)
with open(p, "r+b") as f:  # flip bytes in the middle: a record's payload
    f.seek(n // 2)
    b = f.read(16)
    f.seek(n // 2)
    f.write(bytes(x ^ 0x5A for x in b))
PY
start_scheduler
"${DAEMON_ENV[@]}" "$AGENT_BIN" --scheduler "$URL" --state-dir "$T/agent-a1" \
	--spark-submit "$FAKE_SPARK" >>"$T/agent-a1.log" 2>&1 &
AGENT_PID_a1=$!
PIDS+=("$AGENT_PID_a1")
wait_run_state "$r" succeeded 90
id=$(spctl --json agent list | json items.0.id)
wait_until 10 sh -c "[ \"\$(\"$BIN/spctl\" --socket \"$SOCK\" --json agent show $id | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"agent\"][\"spool\"][\"corrupt\"])')\" -ge 1 ]" ||
	fail "the damaged record was not reported: $(spctl agent show "$id")"
grep -q "spool:" "$T/agent-a1.log" || fail "the agent did not log the damage"
spctl --json run logs "$r" --limit 100000 | python3 -c '
import json, re, sys
nums = [int(m.group(1)) for m in (re.match(r"progress line (\d+) of", l["line"])
        for l in json.load(sys.stdin)["lines"]) if m]
last = nums[len(nums) - nums[::-1].index(1) - 1:]
sys.exit(0 if last == list(range(1, int(sys.argv[1]) + 1)) else 1)' "$N" ||
	fail "run $r: its last attempt is incomplete"
echo "C (damaged spool record): ok"

# ---- D: network partition (the agent in a namespace of its own)
NS=sp-it-$$
VH=vsph$$
VA=vspa$$
if ! ip netns add "$NS" 2>/dev/null; then
	echo "D (partition): SKIPPED: cannot create a network namespace here"
	exit 0
fi
netns_cleanup() {
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL
	ip link del "$VH" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
}
trap 'cleanup; netns_cleanup' EXIT
NET=10.231.$((RANDOM % 250)).
ip link add "$VH" type veth peer name "$VA"
ip link set "$VA" netns "$NS"
ip addr add "${NET}1/30" dev "$VH"
ip link set "$VH" up
ip netns exec "$NS" ip addr add "${NET}2/30" dev "$VA"
ip netns exec "$NS" ip link set "$VA" up
ip netns exec "$NS" ip link set lo up

kill -TERM "$AGENT_PID_a1"
wait "$AGENT_PID_a1" 2>/dev/null || true
stop_scheduler
PORT2=$(free_port)
URL="tcp://${NET}1:$PORT2"
start_scheduler
spctl env add acme/edge >/dev/null
spctl job add acme/edge/stream "${LINES_JOB[@]}" >/dev/null
tok=$(spctl agent token acme/edge)
ip netns exec "$NS" "${DAEMON_ENV[@]}" "$AGENT_BIN" --scheduler "$URL" \
	--state-dir "$T/agent-ns" --enroll-token "$tok" \
	--spark-submit "$FAKE_SPARK" >>"$T/agent-ns.log" 2>&1 &
PIDS+=($!)
wait_env_ready acme/edge
r=$(spctl run start acme/edge/stream)
wait_streaming "$r"
ip link set "$VH" down # the cut: packets to the agent go nowhere
sleep 3
ip link set "$VH" up
wait_run_state "$r" succeeded 90
check_lines "$r" 1
echo "D (partition): ok"
