#!/bin/bash
# Prometheus /metrics on metrics_listen: the text passes promtool's check,
# its values follow the scheduler's state (runs queued while dispatch is
# paused, then ended), only GET /metrics is served, a bad URL is refused
# at start, and a real Prometheus scrapes it and answers PromQL queries;
# in that Prometheus the shipped alert rules load and evaluate, and every
# query of the shipped dashboard runs. Every metric the rules and the
# dashboard name is one the scheduler serves.
. "$(dirname "$0")/lib.sh"

# A bad URL: one line, exit 2, nothing started.
if out=$("$BIN/sparkpilot-scheduler" --data-dir "$T/bad" --admin-socket "$T/bad.sock" \
	--metrics-listen tcp://127.0.0.1:1 2>&1); then
	fail "a tcp:// metrics_listen was taken"
fi
head -n 1 <<<"$out" | grep -q "^sparkpilot-scheduler: error: metrics_listen 'tcp://127.0.0.1:1' is not an http://HOST:PORT URL$" ||
	fail "bad metrics_listen: $out"

MPORT=$(free_port)
M=http://127.0.0.1:$MPORT
start_scheduler --metrics-listen "$M"
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null
start_agent a1 acme/prod
wait_env_ready acme/prod
spctl job add acme/prod/quick -- --master 'local[2]' \
	--conf spark.fake.duration=0.2 app.jar >/dev/null
spctl dispatch pause >/dev/null
for i in 1 2 3; do spctl run start acme/prod/quick >/dev/null; done

# sample NAME{LABELS}: its value in a scrape now
sample() {
	fetch "$M/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}
is() {
	[ "$(sample "$1")" = "$2" ]
}
Q='sparkpilot_runs{tenant="acme",env="acme/prod",state="queued"}'
wait_until 10 is "$Q" 3 || fail "queued runs: $(sample "$Q"), not 3"
is 'sparkpilot_dispatch_paused' 1 || fail "dispatch paused not shown"
is 'sparkpilot_agents{tenant="acme",env="acme/prod",state="active"}' 1 ||
	fail "active agents: $(sample 'sparkpilot_agents{tenant="acme",env="acme/prod",state="active"}')"
fetch "$M/metrics" >"$T/scrape"
[ "$(cat "$T/status")" = 200 ] || fail "GET /metrics: status $(cat "$T/status")"
grep -q '^sparkpilot_build_info{version="[^"]*",store_format="[0-9]*",agent_protocol="[0-9]*"} 1$' "$T/scrape" ||
	fail "no build_info"
grep -q '^sparkpilot_wal_sync_seconds_count [1-9]' "$T/scrape" || fail "no WAL syncs counted"
grep -q '^process_open_fds [1-9]' "$T/scrape" || fail "no process_open_fds"
promtool check metrics <"$T/scrape" >"$T/promtool.out" 2>&1 ||
	fail "promtool check metrics: $(cat "$T/promtool.out")"
[ ! -s "$T/promtool.out" ] || fail "promtool check metrics: $(cat "$T/promtool.out")"

# every sparkpilot_ metric the rules and the dashboard use is served
for name in $(grep -oh 'sparkpilot_[a-z_]*' "$ROOT/deploy/prometheus/sparkpilot-rules.yml" \
	"$ROOT/deploy/grafana/sparkpilot.json" | sort -u); do
	base=${name%_bucket}
	# served only with tls+tcp:// (t0800 scrapes it)
	[ "$base" = sparkpilot_tls_cert_expiry_timestamp_seconds ] && continue
	grep -q "^# TYPE $base " "$T/scrape" || fail "$name is used in deploy/ but not served"
done

# only GET /metrics
fetch "$M/other" >/dev/null
[ "$(cat "$T/status")" = 404 ] || fail "GET /other: status $(cat "$T/status")"
fetch "$M/metrics" POST >/dev/null
[ "$(cat "$T/status")" = 405 ] || fail "POST /metrics: status $(cat "$T/status")"

# A real Prometheus scrapes it every second.
PPORT=$(free_port)
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $ROOT/deploy/prometheus/sparkpilot-rules.yml
scrape_configs:
  - job_name: sparkpilot
    static_configs:
      - targets: ["127.0.0.1:$MPORT"]
YML
promtool check config "$T/prometheus.yml" >/dev/null || fail "promtool check config"
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
	--web.listen-address="127.0.0.1:$PPORT" >"$T/prometheus.log" 2>&1 &
PIDS+=($!)
# promql QUERY: the single value of an instant query, or nothing
promql() {
	fetch "http://127.0.0.1:$PPORT/api/v1/query?query=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1")" |
		python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if r else "")
except Exception:
    pass'
}
pq() {
	[ "$(promql "$1")" = "$2" ]
}
wait_until 60 pq 'sum(sparkpilot_runs{state="queued"})' 3 ||
	fail "Prometheus: queued runs $(promql 'sum(sparkpilot_runs{state="queued"})'), not 3"
spctl dispatch resume >/dev/null
wait_until 60 pq 'sum(sparkpilot_runs_ended_total{state="succeeded"})' 3 ||
	fail "Prometheus: succeeded runs $(promql 'sum(sparkpilot_runs_ended_total{state="succeeded"})'), not 3"
pq 'sum(sparkpilot_runs{state="queued"})' 0 || fail "Prometheus: runs still queued"
pq 'up{job="sparkpilot"}' 1 || fail "Prometheus: target not up"
# the runs' telemetry was counted
tb=$(sample 'sparkpilot_telemetry_bytes_total{tenant="acme",env="acme/prod"}')
[ "${tb:-0}" -gt 0 ] || fail "no telemetry bytes counted: '$tb'"

# The rules loaded and evaluate without error: every alert in the file.
NRULES=$(grep -c '^ *- alert: ' "$ROOT/deploy/prometheus/sparkpilot-rules.yml")
rules_ok() {
	fetch "http://127.0.0.1:$PPORT/api/v1/rules" | python3 -c '
import json, sys
rules = [r for g in json.load(sys.stdin)["data"]["groups"] for r in g["rules"]]
bad = [r["name"] for r in rules if r.get("health") != "ok"]
sys.exit(0 if len(rules) == int(sys.argv[1]) and not bad else 1)' "$NRULES"
}
wait_until 30 rules_ok || fail "Prometheus: the rules did not all load and evaluate: $(fetch "http://127.0.0.1:$PPORT/api/v1/rules")"
# Every dashboard query runs (its variables as Grafana would fill them).
python3 - "$ROOT/deploy/grafana/sparkpilot.json" "http://127.0.0.1:$PPORT" <<'PY' ||
import json, sys, urllib.parse, urllib.request, urllib.error
d = json.load(open(sys.argv[1]))
for p in d["panels"]:
    for t in p.get("targets", []):
        q = t["expr"].replace("$__rate_interval", "1m").replace("$tenant", ".*")
        url = sys.argv[2] + "/api/v1/query?query=" + urllib.parse.quote(q)
        try:
            status = json.load(urllib.request.urlopen(url, timeout=10))["status"]
        except urllib.error.HTTPError as e:
            status = "%d %s" % (e.code, e.read().decode()[:200])
        if status != "success":
            sys.exit("panel %r: %s: %s" % (p["title"], q, status))
PY
	fail "a dashboard query does not run"
echo "metrics: ok"
