#!/bin/bash
# make bench: starts a scheduler on a temporary store and measures
# acknowledged run starts per second over the admin socket (WAL synced per
# turn of the core thread). Prints the figures; docs/performance.md keeps
# the last ones with this command.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/bin
D=$(mktemp -d "${TMPDIR:-/tmp}/sp-bench.XXXXXX")
SOCK=$D/admin.sock
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN/sparkpilot-scheduler" --data-dir "$D/data" --admin-socket "$SOCK" \
	--listen "tcp://127.0.0.1:$PORT" --log-level warn 2>"$D/scheduler.log" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$D"' EXIT
for _ in $(seq 100); do "$BIN/spctl" --socket "$SOCK" tenant list >/dev/null 2>&1 && break; sleep 0.1; done
spctl() { "$BIN/spctl" --socket "$SOCK" "$@" >/dev/null; }
spctl tenant add bench
spctl env add bench/prod
spctl job add bench/prod/pi -- --master yarn app.jar
echo "== submit throughput (runs queued, no agent)"
"$BIN/sp-bench-submit" "$SOCK" bench/prod/pi 1 20000 1
"$BIN/sp-bench-submit" "$SOCK" bench/prod/pi 4 20000 64
"$BIN/sp-bench-submit" "$SOCK" bench/prod/pi 8 20000 256
