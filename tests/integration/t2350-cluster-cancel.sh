#!/bin/bash
# Cluster-mode cancel: the application outlives spark-submit there, so a
# cancel also stops it, with the ids spark-submit printed: `yarn
# application -kill APP_ID` (tests/fakes/yarn) on YARN, or the
# ResourceManager's REST API when yarn_rm_url is set; `spark-submit --kill
# NS:POD --master k8s://...` on Kubernetes; `spark-submit --kill
# DRIVER_ID --master spark://...` through a standalone master. With
# collect_driver_log = 1 the driver's log (`yarn logs`, `kubectl logs`)
# joins the run's logs, redacted.
. "$(dirname "$0")/lib.sh"

export FAKE_CALLS=$T/calls
: >"$FAKE_CALLS"

# a ResourceManager that records the kill requests it gets
python3 - "$T/rm.port" "$T/rm.jsonl" >>"$T/rm.log" 2>&1 <<'PY' &
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_PUT(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode()
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps({"path": self.path, "body": body,
                                "type": self.headers.get("Content-Type")}) + "\n")
        data = b'{"state":"KILLED"}'
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
s = HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY
PIDS+=("$!")
wait_until 10 test -s "$T/rm.port" || fail "fake ResourceManager did not start"

start_scheduler
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null
spctl env add acme/rm >/dev/null
cat >"$T/a1.conf" <<CONF
kill_grace_ms = 1000
yarn_path = $ROOT/tests/fakes/yarn
kubectl_path = $ROOT/tests/fakes/kubectl
collect_driver_log = 1
CONF
cat >"$T/a2.conf" <<CONF
kill_grace_ms = 1000
yarn_path = $T/no-such-yarn
yarn_rm_url = http://127.0.0.1:$(cat "$T/rm.port")/
CONF
start_agent a1 acme/prod --config "$T/a1.conf"
start_agent a2 acme/rm --config "$T/a2.conf"
wait_env_ready acme/prod
wait_env_ready acme/rm

# the run's app id, "" while it has none (json prints null as None)
app_of() {
	local a
	a=$(spctl --json run show "$1" | json run.app_id)
	[ "$a" = None ] || echo "$a"
}
has_app() {
	[ -n "$(app_of "$1")" ]
}

# 1. YARN cluster mode: yarn application -kill with the run's app id
spctl job add acme/prod/yarn -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=120 app.jar >/dev/null
r=$(spctl run start acme/prod/yarn)
wait_run_state "$r" running 30
wait_until 10 has_app "$r" || fail "no app id for run $r"
app=$(app_of "$r")
spctl run cancel "$r" >/dev/null
wait_run_state "$r" cancelled 20
grep -qx "yarn application -kill $app" "$FAKE_CALLS" ||
	fail "no yarn kill of $app: $(cat "$FAKE_CALLS")"
spctl run logs "$r" | grep -q "Killing application $app" ||
	fail "the kill's output is not in the run's logs"

# 2. Kubernetes cluster mode: spark-submit --kill NS:POD --master ...
spctl job add acme/prod/k8s -- --master k8s://https://k8s.internal:6443 \
	--deploy-mode cluster --name etl --conf spark.fake.duration=120 \
	local:///opt/app.jar >/dev/null
k=$(spctl run start acme/prod/k8s)
wait_run_state "$k" running 30
# the id is in the client's output, which reaches the logs in batches
sid_of() { spctl run logs "$1" | sed -n 's/.*submission ID \([^ ]*\) to finish.*/\1/p' | head -n 1; }
has_sid() { [ -n "$(sid_of "$1")" ]; }
wait_until 30 has_sid "$k" || fail "no submission id in the logs"
sid=$(sid_of "$k")
spctl run cancel "$k" >/dev/null
wait_run_state "$k" cancelled 20
grep -qx "spark-submit --kill $sid --master k8s://https://k8s.internal:6443" "$FAKE_CALLS" ||
	fail "no spark-submit --kill $sid: $(cat "$FAKE_CALLS")"

# 3. standalone cluster mode: spark-submit --kill DRIVER_ID --master spark://...
spctl job add acme/prod/sa -- --master spark://sa-master.internal:7077 \
	--deploy-mode cluster --conf spark.standalone.submit.waitAppCompletion=true \
	--conf spark.fake.duration=120 app.jar >/dev/null
s=$(spctl run start acme/prod/sa)
wait_until 30 has_app "$s" || fail "standalone run $s never started"
drv=$(app_of "$s")
[[ "$drv" == driver-* ]] || fail "standalone app id '$drv', not a driver id"
spctl run cancel "$s" >/dev/null
wait_run_state "$s" cancelled 20
wait_until 10 grep -qx "spark-submit --kill $drv --master spark://sa-master.internal:7077" "$FAKE_CALLS" ||
	fail "no spark-submit --kill $drv: $(cat "$FAKE_CALLS")"

# 4. client mode: the local process is the application, nothing else runs
before=$(wc -l <"$FAKE_CALLS")
spctl job add acme/prod/client -- --master yarn --deploy-mode client \
	--conf spark.fake.duration=120 app.jar >/dev/null
c=$(spctl run start acme/prod/client)
# (a client-mode run stays submitted: no app id reports it running)
live() { case $(run_state "$1") in submitted|running) ;; *) false ;; esac; }
wait_until 30 live "$c" || fail "client-mode run $c is $(run_state "$c")"
spctl run cancel "$c" >/dev/null
wait_run_state "$c" cancelled 20
tail -n +$((before + 1)) "$FAKE_CALLS" | grep -q '^yarn ' &&
	fail "a client-mode cancel ran yarn: $(cat "$FAKE_CALLS")"

# 5. the ResourceManager's REST API when yarn_rm_url is set
spctl job add acme/rm/yarn -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=120 app.jar >/dev/null
m=$(spctl run start acme/rm/yarn)
wait_run_state "$m" running 30
wait_until 10 has_app "$m" || fail "no app id for run $m"
mapp=$(app_of "$m")
spctl run cancel "$m" >/dev/null
wait_run_state "$m" cancelled 20
grep -q "\"path\": \"/ws/v1/cluster/apps/$mapp/state\", \"body\": \"{\\\\\"state\\\\\":\\\\\"KILLED\\\\\"}\", \"type\": \"application/json\"" "$T/rm.jsonl" ||
	fail "no RM kill of $mapp: $(cat "$T/rm.jsonl" 2>/dev/null)"

# 6. driver log collection at the end (collect_driver_log = 1)
spctl job add acme/prod/ylog -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=0.3 app.jar >/dev/null
y=$(spctl run start acme/prod/ylog)
wait_run_state "$y" succeeded 30
yapp=$(app_of "$y")
grep -qx "yarn logs -applicationId $yapp" "$FAKE_CALLS" || fail "no yarn logs call"
logs=$(spctl run logs "$y")
grep -q "driver log line from the AM of $yapp" <<<"$logs" || fail "YARN driver log not collected"
grep -q ghp_fakeDriverLogSecret <<<"$logs" && fail "secret from the driver log kept"
spctl job add acme/prod/klog -- --master k8s://https://k8s.internal:6443 \
	--deploy-mode cluster --name etl --conf spark.fake.duration=0.3 \
	local:///opt/app.jar >/dev/null
kl=$(spctl run start acme/prod/klog)
wait_run_state "$kl" succeeded 30
ksid=$(spctl run logs "$kl" | sed -n 's/.*submission ID \([^ ]*\) to finish.*/\1/p' | head -n 1)
grep -qx "kubectl logs -n ${ksid%%:*} ${ksid#*:}" "$FAKE_CALLS" ||
	fail "no kubectl logs of $ksid: $(cat "$FAKE_CALLS")"
logs=$(spctl run logs "$kl")
grep -q "Running Spark version 3.5.1 in pod ${ksid#*:}" <<<"$logs" || fail "driver pod log not collected"
grep -q hunter2-driver-pod-secret <<<"$logs" && fail "secret from the pod log kept"
echo "cluster-cancel: ok"
