#!/bin/bash
# Fan-in: what N idle agents cost the scheduler, and how fast a start
# reaches one of them. Starts a scheduler on a temporary store (a tenant,
# an environment, N enrollment tokens), then bin/sp-fleetsim with N agents
# (one process, one connection per agent, the real agent protocol), waits
# until every agent is enrolled and long-polling, and reports:
#   - with all agents idle, over a 10 s window: the scheduler's CPU %
#     (utime + stime from /proc/PID/stat), RSS, open fds and threads, and
#     sp-fleetsim's CPU % (who pays for the polling);
#   - starts paced at R per second for S seconds (bin/sp-bench-submit over
#     the admin socket): submit -> agent latency p50 / p99 / max, from the
#     send of each start command (as bench/run.sh measures it) to the lease
#     reaching an agent, and the same from the start's acknowledgement
#     (read by the submitter; the scheduler answers both after the same
#     synced write, so a lease may arrive first: negative then); and both
#     processes' CPU % over that window.
#
#   bench/fanin.sh --agents N [--rate R] [--seconds S] [--slots K]
#                  [--window W] [--idle-poll MS] [--scheduler BIN]
#                  [--perf FILE] [--set 'KEY = VALUE']...
# --idle-poll is the simulated agents' idle long poll (default 25000, the
# agent's idle_poll_ms); --scheduler runs another build of the scheduler
# (to compare two).
# --perf records the idle scheduler for 5 s more with `perf record -g`
# into FILE (after the idle figures, so that perf does not weigh on them):
# `perf report -i FILE` shows where its idle CPU goes.
set -euo pipefail
AGENTS=
RATE=1000
SECONDS_RUN=10
SLOTS=4
WINDOW=256
IDLE_S=
SETTINGS=
PERF=
IDLE_POLL=25000
SCHED_BIN=
usage() {
	echo "usage: $0 --agents N [--rate R] [--seconds S] [--slots K] [--window W] [--idle-poll MS] [--scheduler BIN] [--perf FILE] [--set 'KEY = VALUE']..." >&2
	exit 2
}
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case "$1" in
	--agents) AGENTS=$2 ;;
	--rate) RATE=$2 ;;
	--seconds) SECONDS_RUN=$2 ;;
	--slots) SLOTS=$2 ;;
	--window) WINDOW=$2 ;;
	--perf) PERF=$2 ;;
	--idle-poll) IDLE_POLL=$2 ;;
	--scheduler) SCHED_BIN=$2 ;;
	--set) SETTINGS+="$2"$'\n' ;;
	*) usage ;;
	esac
	shift 2
done
[ -n "$AGENTS" ] && [ "$AGENTS" -ge 1 ] || usage
[ -z "$SCHED_BIN" ] || SCHEDULER=$(realpath "$SCHED_BIN")
# the idle window spans a whole poll and more: 10 s, or 1.2 polls
IDLE_S=$((IDLE_POLL * 12 / 10000))
[ "$IDLE_S" -ge 10 ] || IDLE_S=10
. "$(dirname "$0")/lib.sh"
bench_setup fanin sparkpilot-scheduler spctl sp-fleetsim sp-bench-submit
PID=
SIM_PID=
bench_on_exit SIM_PID PID

# Every agent connects from 127.0.0.1: the per-address cap (1,000 by
# default) and the total cap (10,000) must hold the fleet.
CAP=$((AGENTS + AGENTS / 10 + 100))
[ "$CAP" -ge 1000 ] || CAP=1000
cat >"$D/sched.conf" <<CONF
log_completions = 0
agent_conns_max = $CAP
agent_conns_per_source = $CAP
$SETTINGS
CONF

CLK=$(getconf CLK_TCK)
status_of() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

bench_start_scheduler --log-level warn
spctl() { "$BIN/spctl" --socket "$SOCK" "$@" >/dev/null; }
spctl tenant add fan
spctl env add fan/prod
spctl job add fan/prod/pi -- --master yarn app.jar

# N tokens over one admin connection, 200 commands in flight (spctl once
# per token would take minutes for 10,000).
t0=$(now_ms)
python3 - "$SOCK" "$AGENTS" >"$D/tokens" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
n, sent, got, buf = int(sys.argv[2]), 0, 0, b""
while got < n:
    k = min(200 - (sent - got), n - sent)
    if k > 0:
        s.sendall(b"agent token fan/prod --ttl 3600\n" * k)
        sent += k
    buf += s.recv(1 << 16)
    *lines, buf = buf.split(b"\n")
    for l in lines:
        r = json.loads(l)
        if not r.get("ok"):
            sys.exit(f"fanin: agent token: {r}")
        print(r["token"])
        got += 1
PY
echo "fan-in: $AGENTS agents, $SLOTS slots each; $AGENTS tokens minted in $(($(now_ms) - t0)) ms"

t0=$(now_ms)
"${FLEETSIM:-$BIN/sp-fleetsim}" --scheduler "$URL" --tokens "$D/tokens" --slots "$SLOTS" \
	--run-ms 0 --enroll-window "$WINDOW" --idle-poll "$IDLE_POLL" --lease-log "$D/lease.log" \
	--status "$D/status" >"$D/fleetsim.log" 2>&1 &
SIM_PID=$!
until grep -qs 'agents ready' "$D/fleetsim.log"; do
	kill -0 "$SIM_PID" 2>/dev/null || { cat "$D/fleetsim.log" >&2; exit 1; }
	kill -0 "$PID" 2>/dev/null || { tail "$D/scheduler.log" >&2; exit 1; }
	[ $(($(now_ms) - t0)) -lt 600000 ] || { echo "fanin: agents not ready after 600 s: $(cat "$D/status" 2>/dev/null)" >&2; exit 1; }
	sleep 0.2
done
echo "  $(grep 'agents ready' "$D/fleetsim.log" | sed 's/^fleetsim: //') (wall $(($(now_ms) - t0)) ms with the start)"
# let the enrollment's writes settle and every agent fall into its poll
sleep 3

# cpu_pct T0_TICKS T1_TICKS MS
cpu_pct() { python3 -c "import sys; print(f'{(int(sys.argv[2]) - int(sys.argv[1])) * 100000 / int(sys.argv[4]) / int(sys.argv[3]):.1f}')" "$1" "$2" "$CLK" "$3"; }

# messages the agents sent so far (sp-fleetsim's status, once a second)
calls() { awk '{print $5}' "$D/status"; }
c0=$(calls)
s0=$(bench_cpu_ticks "$PID"); f0=$(bench_cpu_ticks "$SIM_PID"); t0=$(now_ms)
sleep "$IDLE_S"
s1=$(bench_cpu_ticks "$PID"); f1=$(bench_cpu_ticks "$SIM_PID"); t1=$(now_ms)
c1=$(calls)
echo "  idle ($IDLE_S s, all agents long-polling): scheduler CPU $(cpu_pct "$s0" "$s1" $((t1 - t0)))%," \
	"RSS $(($(status_of "$PID" VmRSS) / 1024)) MiB, $(ls "/proc/$PID/fd" | wc -l) fds," \
	"$(status_of "$PID" Threads) threads; sp-fleetsim CPU $(cpu_pct "$f0" "$f1" $((t1 - t0)))%," \
	"RSS $(($(status_of "$SIM_PID" VmRSS) / 1024)) MiB, $(status_of "$SIM_PID" Threads) threads;" \
	"the agents sent $(((c1 - c0) * 1000 / (t1 - t0))) messages/s (an idle agent: one long poll every 0.8 - 1 x $IDLE_POLL ms)"

if [ -n "$PERF" ]; then
	perf record -F 499 -g -p "$PID" -o "$PERF" -- sleep 5 >/dev/null 2>&1 ||
		echo "fanin: perf record failed" >&2
fi

RUNS=$((RATE * SECONDS_RUN))
: >"$D/submit.log"
: >"$D/ack.log"
s0=$(bench_cpu_ticks "$PID"); f0=$(bench_cpu_ticks "$SIM_PID"); t0=$(now_ms)
"$BIN/sp-bench-submit" "$SOCK" fan/prod/pi 1 "$RUNS" 256 "$RATE" "$D/submit.log" "$D/ack.log" |
	sed -n 's/.*latency \(p50 .*\)/  start acknowledged: \1/p' >"$D/ack.txt"
s1=$(bench_cpu_ticks "$PID"); f1=$(bench_cpu_ticks "$SIM_PID"); t1=$(now_ms)
# the last leases: every run reached an agent (or give up after 10 s)
for _ in $(seq 100); do
	[ "$(wc -l <"$D/lease.log")" -ge "$RUNS" ] && break
	sleep 0.1
done
echo "  $RUNS starts at $RATE/s: scheduler CPU $(cpu_pct "$s0" "$s1" $((t1 - t0)))%," \
	"sp-fleetsim CPU $(cpu_pct "$f0" "$f1" $((t1 - t0)))% (over the $((t1 - t0)) ms of submitting)"
python3 - "$D/submit.log" "$D/ack.log" "$D/lease.log" <<'PY'
import sys
sent = dict(map(int, l.split()) for l in open(sys.argv[1]))
acked = dict(map(int, l.split()) for l in open(sys.argv[2]))
got = {}
for l in open(sys.argv[3]):
    r, t = map(int, l.split())
    got.setdefault(r, t)
def show(name, since):
    lat = sorted(got[r] - since[r] for r in since if r in got)
    miss = len(since) - len(lat)
    p = lambda q: lat[min(len(lat) - 1, int(len(lat) * q))] / 1000 if lat else 0
    print(f"  {name}: {len(lat)} runs, p50 {p(0.5):.2f} ms, p99 {p(0.99):.2f} ms, "
          f"max {lat[-1] / 1000 if lat else 0:.2f} ms" + (f"; {miss} never reached an agent" if miss else ""))
show("submit -> agent (from the send)", sent)
show("ack -> agent (from the acknowledgement)", acked)
PY
cat "$D/ack.txt"
echo "  machine: $(uptime | sed 's/.*load/load/')"
bench_stop "$SIM_PID"
SIM_PID=
sed -n 's/^fleetsim: \([0-9]* agents (.*\)/  fleetsim totals: \1/p' "$D/fleetsim.log"
grep -v '^fleetsim:' "$D/fleetsim.log" | head -5 >&2 || true
