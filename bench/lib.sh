# lib.sh - what the benchmark scripts share (sourced): their binaries, a
# temporary directory, an admin socket in it and a free loopback port, and
# stopping what they started, by PID.
#   bench_setup NAME BINARY...   sets ROOT BIN D SOCK PORT URL
#   bench_stop PID...            SIGTERM each, then wait for each (SIGKILL
#                                after 10 s)
#   bench_on_exit VAR...         on exit: bench_stop the PIDs the named
#                                variables hold then, and remove $D
#   bench_start_scheduler ARG... starts $SCHEDULER (default the built one)
#                                on $D/sched.conf, $D/data, $SOCK and $URL
#                                with ARGs; sets PID once it answers
#   bench_start_timed            bench_start_scheduler --log-level info;
#                                sets START_MS, until the first admin answer
#   bench_queued_in ENV          queued + running runs of ENV (queue stats)
#   bench_cpu_ticks PID          its utime + stime, in clock ticks
#   now_ms                       the wall clock in ms
#   bench_need CMD PACKAGE       installs PACKAGE from Debian if CMD is missing

bench_need() {
	command -v "$1" >/dev/null && return
	apt-get install -y "$2" >/dev/null ||
		{ apt-get update >/dev/null && apt-get install -y "$2" >/dev/null; }
}

bench_setup() {
	local name=$1 b
	shift
	ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	BIN=$ROOT/bin
	for b in "$@"; do
		[ -x "$BIN/$b" ] || { echo "$0: $BIN/$b is missing: run make bench" >&2; exit 2; }
	done
	D=$(mktemp -d "${TMPDIR:-/tmp}/sp-$name.XXXXXX")
	SOCK=$D/admin.sock
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	URL=tcp://127.0.0.1:$PORT
}

bench_stop() {
	local p i
	for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
	# 10 s each, then SIGKILL: libnng 1.5's close can hang (sp-fleetsim's
	# thousands of sockets after its scheduler stopped)
	for p in "$@"; do
		for i in $(seq 100); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

bench_on_exit() {
	BENCH_PID_VARS="$*"
	trap bench_exit EXIT
}

bench_exit() {
	local v pids=()
	for v in $BENCH_PID_VARS; do
		[ -z "${!v:-}" ] || pids+=("${!v}")
	done
	bench_stop "${pids[@]}"
	rm -rf "$D"
}

bench_start_scheduler() {
	# The wait below ticks on a FIFO nothing writes to: bash's read with a
	# timeout, no process started per tick.
	[ -p "$D/tick" ] || mkfifo "$D/tick"
	exec 9<>"$D/tick"
	rm -f "$SOCK" # a kill -9 leaves it behind
	"${SCHEDULER:-$BIN/sparkpilot-scheduler}" --config "$D/sched.conf" \
		--data-dir "$D/data" --admin-socket "$SOCK" --listen "$URL" "$@" \
		>>"$D/scheduler.log" 2>&1 9<&- &
	PID=$!
	# The socket appears once the state is loaded; only then is spctl
	# asked. An spctl every 10 ms from the start added about half a
	# second to a start of 3,000,000 runs (process starts on the two
	# cores the loader threads use).
	until [ -S "$SOCK" ]; do
		kill -0 "$PID" 2>/dev/null || { cat "$D/scheduler.log" >&2; exit 1; }
		read -rt 0.01 -u 9 || :
	done
	until "$BIN/spctl" --socket "$SOCK" tenant list >/dev/null 2>&1; do
		kill -0 "$PID" 2>/dev/null || { cat "$D/scheduler.log" >&2; exit 1; }
		sleep 0.01
	done
}

bench_start_timed() {
	local t0
	t0=$(now_ms)
	bench_start_scheduler --log-level info
	START_MS=$(($(now_ms) - t0))
}

bench_queued_in() {
	"$BIN/spctl" --socket "$SOCK" --json queue stats | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(e["queued"] + e["running"] for e in d["items"] if e["env"] == sys.argv[1]))' "$1"
}

bench_cpu_ticks() {
	# the fields after the command's name, which may hold blanks
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

now_ms() { date +%s%3N; }
