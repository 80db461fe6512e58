#!/bin/bash
# Power loss, not only a kill: the scheduler runs under bin/faultfs.so, and
# after each kill -9 everything it had not fsynced is dropped from its data
# dir (tests/faultfs/powerloss.py) before it starts again. With a 1 MiB
# log limit (512 KiB commit log segments) and 64 KB jobs, the store
# switches segments, flushes and retires the old ones several times per
# round (the round must show it), and every acknowledged job and start
# must survive the cut. The fourth round runs with direct writes refused
# (faultfs "einval direct"): the commit log falls back to buffered writes
# and fdatasync, and the promise holds the same.
# A scheduler that acknowledged before its log's fsync fails here (a kill
# alone does not notice: the page cache outlives the process).
. "$(dirname "$0")/lib.sh"

[ -x "$BIN/faultfs.so" ] || fail "bin/faultfs.so is missing (make tools)"
D=$T/data
J=$T/faultfs.journal
CTL=$T/faultfs.ctl
: >"$CTL"
mkdir -p "$D"
cat >"$T/sched.conf" <<CONF
store_max_wal_mb = 1
store_min_free_mb = 0
store_min_free_pct = 0
CONF

start_under_faultfs() {
	local DAEMON_ENV=(env FAULTFS_DIR="$D" FAULTFS_LOG="$J" FAULTFS_CTL="$CTL"
		LD_PRELOAD="$BIN/faultfs.so")
	start_scheduler --config "$T/sched.conf"
}

power_cut() {
	kill -KILL "$SCHED_PID"
	wait "$SCHED_PID" 2>/dev/null || true
	python3 "$ROOT/tests/faultfs/powerloss.py" "$D" "$J" --dump >"$T/round$1.txt" ||
		fail "powerloss.py failed"
}

arg=$(head -c 8000 /dev/zero | tr '\0' x)
big=("$arg" "$arg" "$arg" "$arg" "$arg" "$arg" "$arg" "$arg")
runs=()
start_under_faultfs
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null
jobs=0
for round in 1 2 3 4; do
	if [ "$round" = 4 ]; then
		echo "einval direct" >"$CTL"
		kill -KILL "$SCHED_PID"
		wait "$SCHED_PID" 2>/dev/null || true
		python3 "$ROOT/tests/faultfs/powerloss.py" "$D" "$J" --quiet ||
			fail "powerloss.py failed"
		start_under_faultfs
	fi
	for _ in $(seq 40); do
		jobs=$((jobs + 1))
		spctl job add "acme/prod/j$jobs" -- "${big[@]}" >/dev/null ||
			fail "round $round: job add j$jobs refused"
		runs+=("$(spctl run start "acme/prod/j$jobs")") ||
			fail "round $round: run start refused"
	done
	if [ "$round" = 4 ]; then
		grep -q "direct writes refused (Invalid argument); buffered writes and fdatasync instead" \
			"$T/scheduler.log" || fail "round 4: the log did not leave direct writes"
		: >"$CTL"
	fi
	power_cut "$round"
	# a segment is a file the log made, or a spare prepared ahead
	# (NUM.new, written with zeros) renamed into the log
	segs=$(grep -Ec '( C .*/commitlog/[0-9a-f]+\.seg| R .*/commitlog/[0-9a-f]+\.new -> .*\.seg) durable$' "$T/round$round.txt" || true)
	[ "$segs" -ge 3 ] || fail "round $round: $segs log segments, expected a few switches"
	start_under_faultfs
	for i in $(seq "$jobs"); do
		spctl job show "acme/prod/j$i" >/dev/null ||
			fail "round $round: acknowledged job j$i lost in a power loss ($(tail -1 "$T/round$round.txt"))"
	done
	for r in "${runs[@]}"; do
		spctl run show "$r" >/dev/null ||
			fail "round $round: acknowledged run $r lost in a power loss"
	done
done
echo "power loss: ok ($jobs jobs, ${#runs[@]} runs kept across 4 power cuts)"
