#!/bin/bash
# vs-beanstalkd.sh: the serial request path against beanstalkd's. Each
# client sends one request and waits for its reply before the next (a
# script calling `spctl run start` in a loop), for SECONDS:
#   SparkPilot: `run start bench/prod/pi` lines on the admin socket, each
#     reply {"ok":true,...} sent after the turn's synced WriteBatch;
#   beanstalkd: `put` into a tube, each reply INSERTED sent after its
#     binlog write and fsync (-f 0: fsync after every write).
# Both keep their data in the same temporary directory (one filesystem).
# Shapes: 1 client, then 4; the two servers alternate, ROUNDS times each.
# Prints each run (requests/s acknowledged, server CPU us per request from
# /proc/PID/stat utime+stime, the load average) and the medians and ranges.
#
#   bench/vs-beanstalkd.sh [--seconds S] [--rounds N] [--clients "1 4"]
#                          [--perf SECONDS] [--scheduler PATH]
#                          [--set 'KEY = VALUE']...
#                          [--server-cpus LIST] [--client-cpus LIST]
# --perf records the scheduler with `perf record -g` for that long during
# an extra one-client run and prints the top of `perf report` (self time by
# object and by symbol); PERF_KEEP=FILE keeps perf.data. --scheduler runs
# another build of the scheduler (a before/after comparison); --set adds a
# scheduler setting. --server-cpus and --client-cpus pin both servers (every
# thread) and the clients to CPUs (taskset lists, e.g. 1 and 0): whether
# a client shares its server's CPU moves the one-client figures more than
# any change to the request path (docs/performance.md, Serial request path).
set -euo pipefail
SECONDS_PER=10
ROUNDS=3
CLIENTS="1 4"
PERF=0
SCHED=
SETTINGS=
SERVER_CPUS=
CLIENT_CPUS=
usage() {
	echo "usage: $0 [--seconds S] [--rounds N] [--clients \"1 4\"] [--perf S]" \
		"[--scheduler PATH] [--set 'KEY = VALUE']..." \
		"[--server-cpus LIST] [--client-cpus LIST]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case "$1" in
	--seconds) SECONDS_PER=$2 ;;
	--rounds) ROUNDS=$2 ;;
	--clients) CLIENTS=$2 ;;
	--perf) PERF=$2 ;;
	--scheduler) SCHED=$2 ;;
	--set) SETTINGS+="$2"$'\n' ;;
	--server-cpus) SERVER_CPUS=$2 ;;
	--client-cpus) CLIENT_CPUS=$2 ;;
	*) usage ;;
	esac
	shift 2
done
. "$(dirname "$0")/lib.sh"
bench_need beanstalkd beanstalkd
bench_setup vsbs sparkpilot-scheduler spctl sp-bench-serial
PID=
BPID=
bench_on_exit BPID PID

# The scheduler as run.sh starts it (no per-run completion lines, no
# global queued limit: the starts stay queued, no agent serves bench/prod),
# at its default log level.
cat >"$D/sched.conf" <<CONF
log_completions = 0
max_queued_total = 0
$SETTINGS
CONF
SCHEDULER=$SCHED bench_start_scheduler
spctl() { "$BIN/spctl" --socket "$SOCK" "$@" >/dev/null; }
spctl tenant add bench
spctl env add bench/prod
spctl job add bench/prod/pi -- --master yarn app.jar

BPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir "$D/binlog"
beanstalkd -b "$D/binlog" -f 0 -l 127.0.0.1 -p "$BPORT" 2>>"$D/beanstalkd.log" &
BPID=$!
until python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])))' "$BPORT" 2>/dev/null; do
	kill -0 "$BPID" 2>/dev/null || { cat "$D/beanstalkd.log" >&2; exit 1; }
	sleep 0.01
done

if [ -n "$SERVER_CPUS" ]; then
	taskset -a -p -c "$SERVER_CPUS" "$PID" >/dev/null
	taskset -a -p -c "$SERVER_CPUS" "$BPID" >/dev/null
fi
CLIENT=("$BIN/sp-bench-serial")
[ -z "$CLIENT_CPUS" ] || CLIENT=(taskset -c "$CLIENT_CPUS" "$BIN/sp-bench-serial")

HZ=$(getconf CLK_TCK)

# one_run NAME PID CLIENTS ARGS...: appends "NAME CLIENTS RATE US_PER_REQ LOAD"
one_run() {
	local name=$1 pid=$2 nc=$3 c0 c1 out n rate load
	shift 3
	c0=$(bench_cpu_ticks "$pid")
	out=$("${CLIENT[@]}" "$@")
	c1=$(bench_cpu_ticks "$pid")
	load=$(cut -d' ' -f1 /proc/loadavg)
	n=$(sed -n 's/^[^:]*: \([0-9]*\) acknowledged.*/\1/p' <<<"$out")
	rate=$(sed -n 's/.* = \([0-9]*\)\/s.*/\1/p' <<<"$out")
	us=$(( (c1 - c0) * 1000000 / HZ / n ))
	echo "  $out; server CPU $us us/request; load $load"
	echo "$name $nc $rate $us $load" >>"$D/results"
}

for nc in $CLIENTS; do
	echo "== $nc client(s), each waiting for its reply, ${SECONDS_PER} s a run"
	for r in $(seq "$ROUNDS"); do
		one_run sparkpilot "$PID" "$nc" sp "$SOCK" bench/prod/pi "$nc" "$SECONDS_PER"
		one_run beanstalkd "$BPID" "$nc" bs 127.0.0.1 "$BPORT" bench "$nc" "$SECONDS_PER"
	done
done
python3 - "$D/results" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
for nc in sorted({int(r[1]) for r in rows}):
    med = {}
    for name in ("sparkpilot", "beanstalkd"):
        rs = [r for r in rows if r[0] == name and int(r[1]) == nc]
        rate = [int(r[2]) for r in rs]
        us = [int(r[3]) for r in rs]
        load = [float(r[4]) for r in rs]
        med[name] = statistics.median(rate)
        print(f"{nc} client(s) {name}: {statistics.median(rate):.0f}/s "
              f"({min(rate)} - {max(rate)}), server CPU "
              f"{statistics.median(us):.0f} us/request ({min(us)} - {max(us)}), "
              f"load {min(load):.2f} - {max(load):.2f}")
    print(f"{nc} client(s) ratio sparkpilot / beanstalkd: "
          f"{med['sparkpilot'] / med['beanstalkd']:.2f}")
PY

if [ "$PERF" -gt 0 ]; then
	echo "== perf: the scheduler during a one-client run"
	"${CLIENT[@]}" sp "$SOCK" bench/prod/pi 1 $((PERF + 2)) >/dev/null &
	SPID=$!
	sleep 1
	perf record -q -g -p "$PID" -o "$D/perf.data" -- sleep "$PERF" 2>/dev/null
	wait "$SPID"
	[ -z "${PERF_KEEP:-}" ] || cp "$D/perf.data" "$PERF_KEEP"
	# self time by shared object, then by symbol (no call graphs)
	perf report -i "$D/perf.data" --stdio --no-children --sort dso -g none \
		2>/dev/null | grep -v '^#' | grep -v '^$' | head -15 || true
	perf report -i "$D/perf.data" --stdio --no-children --sort dso,sym \
		-g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60 || true
fi
