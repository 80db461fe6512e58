#!/bin/bash
# The units' SystemCallFilter= against what the daemons really call: the
# scheduler and an agent (with its spark-submit) run under strace through
# enrollment, runs that succeed and fail (each sent to a webhook: libcurl
# on the delivery thread), a cancel, telemetry, /metrics,
# backups (create, list, verify, prune: a worker thread and RocksDB's
# BackupEngine), the systemd notify socket, a reload and a stop; every
# system call seen must pass the filter its unit sets (sets as
# systemd-analyze names them). So must the backup unit's spctl.
# systemd is not PID 1 here, so this is how the filters are held to the
# code.
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || fail "strace is missing (scripts/install-deps.sh)"
if ! command -v systemd-analyze >/dev/null; then
	echo "syscalls: SKIPPED: no systemd-analyze on this machine"
	exit 0
fi
systemd-analyze syscall-filter >"$T/sets" 2>/dev/null || fail "systemd-analyze syscall-filter failed"

python3 - "$T/n.sock" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    s.recv(4096)
PY
PIDS+=($!)
wait_until 10 test -S "$T/n.sock" || fail "no notify socket"

printf 'log_level = info\nbackup_dir = %s\n' "$T/backups" >"$T/sched.conf"
PORT=$(free_port)
URL=tcp://127.0.0.1:$PORT
MPORT=$(free_port)
NOTIFY_SOCKET=$T/n.sock WATCHDOG_USEC=400000 strace -f -qq -o "$T/sched.trace" \
	"$BIN/sparkpilot-scheduler" --config "$T/sched.conf" --data-dir "$T/data" \
	--admin-socket "$SOCK" --listen "$URL" \
	--metrics-listen "http://127.0.0.1:$MPORT" >>"$T/scheduler.log" 2>&1 &
STRACE_S=$!
wait_until 30 spctl tenant list || fail "the traced scheduler did not start"
SCHED=$(pgrep -P "$STRACE_S")
SCHED_PIDS+=("$SCHED" "$STRACE_S")
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null
tok=$(spctl agent token acme/prod)
strace -f -qq -o "$T/agent.trace" "$AGENT_BIN" --scheduler "$URL" \
	--state-dir "$T/agent" --enroll-token "$tok" --spark-submit "$FAKE_SPARK" \
	>>"$T/agent.log" 2>&1 &
STRACE_A=$!
wait_env_ready acme/prod 60
AGENT=$(pgrep -P "$STRACE_A")
PIDS+=("$AGENT" "$STRACE_A")

# a webhook receiver: the run events are delivered through libcurl
mkdir -p "$T/wh"
RPORT=$(free_port)
"$ROOT/tests/fakes/webhook-receiver" --port "$RPORT" --dir "$T/wh" >>"$T/wh.log" 2>&1 &
PIDS+=($!)
wait_until 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $RPORT), 1)" ||
	fail "the webhook receiver did not start"
spctl --json webhook add acme "http://localhost:$RPORT/acme" | json secret >"$T/wh/acme.secret"

spctl job add acme/prod/ok -- --master 'local[2]' --conf spark.fake.duration=0.3 \
	--conf spark.fake.lines=200 app.jar >/dev/null
spctl job add acme/prod/bad -- --master yarn --conf spark.fake.outcome=fail \
	--conf spark.fake.signature=node_lost app.jar >/dev/null
spctl job add acme/prod/long -- --master 'local[2]' --conf spark.fake.duration=30 app.jar >/dev/null
ok=$(spctl run start acme/prod/ok)
bad=$(spctl run start acme/prod/bad)
long=$(spctl run start acme/prod/long)
# cancelled once its spark-submit runs
started() {
	case $(run_state "$long") in submitted | running) return 0 ;; esac
	return 1
}
wait_until 60 started || fail "run $long did not start: $(run_state "$long")"
spctl run cancel "$long" >/dev/null
wait_run_state "$ok" succeeded 60
wait_run_state "$bad" failed 60
wait_run_state "$long" cancelled 60
fetch "http://127.0.0.1:$MPORT/metrics" >/dev/null && [ "$(cat "$T/status")" = 200 ] ||
	fail "no /metrics"
delivered() { [ "$(grep -c '"status": 204' "$T/wh/acme.log" 2>/dev/null)" -ge 3 ]; }
wait_until 30 delivered || fail "the webhooks were not delivered: $(cat "$T/wh/acme.log" 2>&1)"
spctl queue stats >/dev/null
spctl run logs "$ok" >/dev/null
spctl run diagnose "$bad" >/dev/null
strace -f -qq -o "$T/spctl.trace" "$BIN/spctl" --socket "$SOCK" backup create >/dev/null ||
	fail "backup create under strace"
spctl backup create >/dev/null
spctl backup list >/dev/null
spctl backup verify 1 >/dev/null
spctl backup prune --keep 1 >/dev/null
printf 'log_level = debug\nbackup_dir = %s\n' "$T/backups" >"$T/sched.conf"
kill -HUP "$SCHED"
wait_until 10 grep -q 'reload: log_level info -> debug' "$T/scheduler.log" || fail "no reload"
kill -TERM "$AGENT"
wait "$STRACE_A" || true
kill -TERM "$SCHED"
wait "$STRACE_S" || true

# check UNIT TRACE: every call in TRACE passes UNIT's SystemCallFilter=
check() {
	python3 - "$T/sets" "$ROOT/systemd/$1" "$T/$2" <<'PY'
import re, sys
groups, cur = {}, None
for line in open(sys.argv[1]):
    l = line.strip()
    if line.startswith("@"):
        cur = l; groups[cur] = []; continue
    if l and not l.startswith("#") and cur:
        groups[cur].append(l)
def expand(names):
    out = set()
    for n in names:
        out |= expand(groups.get(n, [])) if n.startswith("@") else {n}
    return out
allow, deny = None, set()
for line in open(sys.argv[2]):
    m = re.match(r"SystemCallFilter=(~?)(.*)", line.strip())
    if not m:
        continue
    names = expand(m.group(2).split())
    if m.group(1):
        deny |= names
    else:
        allow = names if allow is None else allow | names
if allow is None and not deny:
    sys.exit("%s sets no SystemCallFilter=" % sys.argv[2])
calls = set()
for line in open(sys.argv[3]):
    m = re.match(r"^\d+\s+(?:<\.\.\. )?([a-z_0-9]+)[( ]", line)
    if m and not line.split(None, 1)[1].startswith("+++") and not line.split(None, 1)[1].startswith("---"):
        calls.add(m.group(1))
bad = sorted(c for c in calls if (allow is not None and c not in allow) or c in deny)
print("%s: %d system calls seen" % (sys.argv[2].split("/")[-1], len(calls)))
sys.exit("refused by the filter: %s" % " ".join(bad) if bad else 0)
PY
}
check sparkpilot-scheduler.service.in sched.trace || fail "the scheduler calls what its unit's filter refuses"
check sparkpilot-agent.service.in agent.trace || fail "the agent calls what its unit's filter refuses"
check sparkpilot-backup.service.in spctl.trace || fail "spctl calls what the backup unit's filter refuses"

# The agent's filter applies to spark-submit, a JVM: where a JVM is
# installed, one compiles and runs a program that does what a driver does
# (threads, a thread pool, files, a loopback socket, a child process,
# garbage collection) under strace, and its calls must pass too.
if command -v java >/dev/null; then
	cat >"$T/Driver.java" <<'JAVA'
import java.io.*;
import java.net.*;
import java.nio.file.*;
import java.util.concurrent.*;
public class Driver {
    public static void main(String[] a) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        Future<Long> f = pool.submit(() -> {
            long n = 0;
            for (int i = 0; i < 2000000; i++) n += new byte[64].length;
            return n;
        });
        Path p = Files.createTempFile("driver", ".txt");
        Files.writeString(p, "spark\n");
        Files.readAllLines(p);
        Files.delete(p);
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket c = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort());
             Socket s = ss.accept()) {
            c.getOutputStream().write(1);
            s.getInputStream().read();
        }
        Process pr = new ProcessBuilder("true").start();
        pr.waitFor();
        System.gc();
        System.out.println("driver done " + f.get());
        pool.shutdown();
    }
}
JAVA
	strace -f -qq -o "$T/jvm.trace" java -Xmx256m "$T/Driver.java" >"$T/jvm.out" 2>&1 ||
		fail "the JVM program failed: $(cat "$T/jvm.out")"
	grep -q "driver done" "$T/jvm.out" || fail "the JVM program did not finish: $(cat "$T/jvm.out")"
	check sparkpilot-agent.service.in jvm.trace || fail "a JVM calls what the agent unit's filter refuses"
else
	echo "(no java on this machine: the agent's filter is not checked against a JVM)"
fi
echo "syscalls: ok"
