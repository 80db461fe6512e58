#!/bin/bash
# Agent memory benchmark (issue 4): starts a scheduler on a temporary store
# and a free loopback port, and one real bin/sparkpilot-agent with the fake
# spark-submit (tests/fakes/spark-submit). Reads the agent's resident
# memory from /proc (VmRSS now, VmHWM the peak so far, RssAnon its own
# heap and stacks) when it is enrolled and idle (long-polling for work),
# then while one run prints LINES numbered lines over SECONDS in local mode
# (every line redacted, batched, spooled and sent as signed telemetry), and
# after the run. spark-submit is a child process: its memory is not counted.
# Prints the figures; stops everything it started, by PID.
#
#   bench/agent-mem.sh [--lines N] [--seconds S] [--agent BINARY]
# (BINARY in bin/: sparkpilot-agent, or sparkpilot-agent-static)
set -euo pipefail
LINES=200000
DURATION=20
AGENT=sparkpilot-agent
while [ $# -gt 0 ]; do
	case "$1" in
	--lines) LINES=$2; shift 2 ;;
	--seconds) DURATION=$2; shift 2 ;;
	--agent) AGENT=$2; shift 2 ;;
	*) echo "usage: $0 [--lines N] [--seconds S] [--agent BINARY]" >&2; exit 2 ;;
	esac
done
. "$(dirname "$0")/lib.sh"
bench_setup agentmem sparkpilot-scheduler "$AGENT" spctl
FAKE_SPARK=$ROOT/tests/fakes/spark-submit
PID=
AGENT_PID=
bench_on_exit AGENT_PID PID

spctl() { "$BIN/spctl" --socket "$SOCK" "$@"; }
json() { python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."): v = v[k]
print(v)' "$1"; }
# kB of a /proc/PID/status field
kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
mem() { echo "VmRSS $(kb "$AGENT_PID" VmRSS) kB, VmHWM $(kb "$AGENT_PID" VmHWM) kB (RssAnon $(kb "$AGENT_PID" RssAnon) kB, RssFile $(kb "$AGENT_PID" RssFile) kB; Pss $(awk '$1 == "Pss:" { print $2 }' "/proc/$AGENT_PID/smaps_rollup") kB)"; }
# resident kB by mapping (the binary, each library, heap, stacks): largest
by_mapping() { python3 - "/proc/$AGENT_PID/smaps" <<'PY'
import collections, os, sys
rss, name = collections.Counter(), None
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 5 and "-" in f[0] and ":" not in f[0]:
        name = os.path.basename(f[5]) if len(f) > 5 else "[anon]"
    elif f[0] == "Rss:":
        rss[name] += int(f[1])
print(", ".join(f"{n} {k}" for n, k in rss.most_common(8)))
PY
}
wait_for() { # SECONDS COMMAND...: until COMMAND succeeds
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}

echo "log_completions = 0" >"$D/sched.conf"
"$BIN/sparkpilot-scheduler" --config "$D/sched.conf" --data-dir "$D/data" \
	--admin-socket "$SOCK" --listen "$URL" --log-level warn \
	>>"$D/scheduler.log" 2>&1 &
PID=$!
wait_for 20 spctl tenant list >/dev/null 2>&1 || { cat "$D/scheduler.log" >&2; exit 1; }
spctl tenant add bench >/dev/null
spctl env add bench/mem >/dev/null
spctl job add bench/mem/lines -- --master 'local[2]' \
	--conf spark.fake.lines="$LINES" --conf spark.fake.duration="$DURATION" \
	app.jar >/dev/null

"$BIN/$AGENT" --scheduler "$URL" --state-dir "$D/agent" \
	--enroll-token "$(spctl agent token bench/mem)" --spark-submit "$FAKE_SPARK" \
	>>"$D/agent.log" 2>&1 &
AGENT_PID=$!
env_ready() { [ "$(spctl --json env show bench/mem | json environment.state)" = ready ]; }
wait_for 30 env_ready || { echo "agent-mem: environment not ready" >&2; cat "$D/agent.log" >&2; exit 1; }
sleep 3 # a few long polls: steady state
echo "agent idle: $(mem)"
echo "  resident kB by mapping: $(by_mapping)"

run=$(spctl run start bench/mem/lines)
run_state() { spctl --json run show "$run" | json run.state; }
t0=$(date +%s%N)
max_rss=0
samples=0
while :; do
	state=$(run_state)
	case "$state" in succeeded|failed|cancelled|timed_out) break ;; esac
	if [ "$state" = running ] || [ "$state" = submitted ]; then
		rss=$(kb "$AGENT_PID" VmRSS)
		[ "$rss" -gt "$max_rss" ] && max_rss=$rss
		samples=$((samples + 1))
	fi
	[ $(( ($(date +%s%N) - t0) / 1000000000 )) -lt $((DURATION * 4 + 60)) ] ||
		{ echo "agent-mem: run $run did not end" >&2; exit 1; }
	sleep 0.2
done
t1=$(date +%s%N)
[ "$state" = succeeded ] || { echo "agent-mem: run $run $state" >&2; tail "$D/agent.log" >&2; exit 1; }
# the run's last batches may still be on their way
logged() { [ "$(spctl --json run show "$run" | json run.log_lines)" -ge "$LINES" ]; }
wait_for 30 logged || true
stored=$(spctl --json run show "$run" | json run.log_lines)
# (the kernel folds per-thread RSS counts into VmHWM lazily: it can lag
# behind a sampled VmRSS)
echo "agent streaming $LINES lines over ${DURATION} s: max sampled VmRSS $max_rss kB ($samples samples), VmHWM $(kb "$AGENT_PID" VmHWM) kB"
echo "run $run: $state in $(( (t1 - t0) / 1000000 )) ms, $stored log lines stored by the scheduler"
sleep 2
echo "agent after the run: $(mem)"
