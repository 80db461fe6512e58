#!/bin/bash
# make demo: SparkPilot's main job end to end, on a scheduler with its
# RocksDB store in a temporary directory and one agent running the fake
# spark-submit (tests/fakes/spark-submit). Stops everything it started.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/bin
D=$(mktemp -d /tmp/sparkpilot-demo.XXXXXX)
SOCK=$D/admin.sock
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$D"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
spctl() { "$BIN/spctl" --socket "$SOCK" "$@"; }

say "Start the scheduler (store in $D/data, agents on tcp://127.0.0.1:$PORT)"
"$BIN/sparkpilot-scheduler" --data-dir "$D/data" --admin-socket "$SOCK" \
	--listen "tcp://127.0.0.1:$PORT" 2>"$D/scheduler.log" &
PIDS+=($!)
for _ in $(seq 100); do spctl tenant list >/dev/null 2>&1 && break; sleep 0.1; done
export SPARKPILOT_SOCKET=$SOCK

say "A tenant and an environment"
run spctl tenant add acme --weight 2 --max-queued 1000 --monthly-budget 100 --budget-mode hard
run spctl env add acme/prod --price-vcpu-hour 0.048 --price-gb-hour 0.0053 --spot-discount 60
run spctl env list

say "Enroll an agent with a one-time token"
TOKEN=$(spctl agent token acme/prod --ttl 300)
echo "\$ spctl agent token acme/prod --ttl 300"
echo "${TOKEN:0:12}... (one-time, expires in 5 minutes)"
"$BIN/sparkpilot-agent" --scheduler "tcp://127.0.0.1:$PORT" \
	--state-dir "$D/agent" --enroll-token "$TOKEN" \
	--spark-submit "$ROOT/tests/fakes/spark-submit" --slots 2 \
	2>"$D/agent.log" &
PIDS+=($!)
last=pending
printf 'environment acme/prod: %s' "$last"
for _ in $(seq 400); do
	s=$(spctl --json env show acme/prod | python3 -c 'import json,sys; print(json.load(sys.stdin)["environment"]["state"])')
	if [ "$s" != "$last" ]; then printf ' -> %s' "$s"; last=$s; fi
	[ "$s" = ready ] || [ "$s" = failed ] && break
	sleep 0.02
done
echo
echo "the scheduler's log of the transitions:"
grep -o 'environment acme/prod: .*' "$D/scheduler.log" | sed 's/^/  /'
run spctl env show acme/prod
run spctl agent list

say "Two jobs: a SparkPi on YARN, and an ETL job whose executors run out of memory"
run spctl job add acme/prod/pi --executors 2 --executor-memory 4 --timeout 600 -- \
	--master yarn --deploy-mode cluster --class org.apache.spark.examples.SparkPi \
	--conf spark.fake.duration=2 local:///opt/spark/examples/jars/spark-examples.jar 1000
run spctl job add acme/prod/etl --executors 4 -- \
	--master yarn --deploy-mode cluster --conf spark.fake.outcome=fail \
	--conf spark.fake.signature=executor_oom --conf spark.fake.duration=1.5 \
	s3://acme-jobs/etl.py --date 2026-11-22

say "Start one run of each"
OK=$(spctl run start acme/prod/pi)
BAD=$(spctl run start acme/prod/etl)
echo "\$ spctl run start acme/prod/pi   -> run $OK"
echo "\$ spctl run start acme/prod/etl  -> run $BAD"
sleep 0.3
run spctl run list
for _ in $(seq 300); do
	a=$(spctl --json run show "$OK" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run"]["state"])')
	b=$(spctl --json run show "$BAD" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run"]["state"])')
	case "$a/$b" in succeeded/failed) break ;; esac
	sleep 0.1
done

say "The runs' states"
run spctl run list
run spctl run show "$OK"
run spctl run show "$BAD"

say "Their logs (redacted and streamed back by the agent)"
printf '$ spctl run logs %s | tail -n 12\n' "$OK"
spctl run logs "$OK" | tail -n 12
printf '$ spctl run logs %s | grep -m3 -E "ERROR|OutOfMemory"\n' "$BAD"
spctl run logs "$BAD" | grep -m3 -E 'ERROR|OutOfMemory' || true

say "Why the failed run failed, and its metrics"
run spctl run diagnose "$BAD"
run spctl run metrics "$OK"

say "Usage per environment and day, and the tenant's budget"
run spctl usage acme
run spctl tenant show acme

say "A nightly pipeline: each step after the one before, for one date"
run spctl job add acme/prod/ingest -- --conf spark.fake.duration=0.5 \
	local:///opt/etl.jar ingest --date '{{day}}'
run spctl job add acme/prod/transform -- --conf spark.fake.duration=0.5 \
	local:///opt/etl.jar transform --date '{{day}}' --run '{{run_id}}'
ING=$(spctl run start acme/prod/ingest --param day=2026-12-04)
TRA=$(spctl run start acme/prod/transform --after "$ING" --param day=2026-12-04)
echo "\$ spctl run start acme/prod/ingest --param day=2026-12-04          -> run $ING"
echo "\$ spctl run start acme/prod/transform --after $ING --param day=2026-12-04  -> run $TRA"
printf '$ spctl --json run show %s | waiting\n' "$TRA"
spctl --json run show "$TRA" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run"]["waiting"])'
for _ in $(seq 300); do
	t=$(spctl --json run show "$TRA" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run"]["state"])')
	case "$t" in succeeded | failed | skipped) break ;; esac
	sleep 0.1
done
run spctl run show "$TRA"
echo "# the same pipeline every night at 02:00 Berlin time, for the date it stands for:"
run spctl job add acme/prod/nightly-ingest -- --conf spark.fake.duration=0.5 \
	local:///opt/etl.jar ingest --date '{{scheduled_date}}'
run spctl job add acme/prod/nightly-transform -- --conf spark.fake.duration=0.5 \
	local:///opt/etl.jar transform --date '{{scheduled_date}}'
SCH=$(spctl schedule add acme/prod/nightly-ingest --cron '0 2 * * *' \
	--timezone Europe/Berlin --concurrency forbid --then nightly-transform)
echo "\$ spctl schedule add acme/prod/nightly-ingest --cron '0 2 * * *' --timezone Europe/Berlin --concurrency forbid --then nightly-transform  -> schedule $SCH"
run spctl schedule show "$SCH"

say "Stop the agent and the scheduler"
for p in "${PIDS[@]}"; do kill -TERM "$p"; done
for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
PIDS=()
echo "stopped; the demo's store is removed with $D"
