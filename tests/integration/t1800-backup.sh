#!/bin/bash
# Online backups and restore. A scheduler with an agent takes a stream of
# `run start`s (each acknowledged id recorded with the instant its
# acknowledgement arrived) while `backup create` runs: the backup's syncs
# into backup_dir are held (bin/faultfs.so, "hold sync", on that dir
# alone) so that the backup is certainly in progress while starts keep
# being acknowledged, and a second backup command meanwhile is refused.
# The backup is restored with --restore-from into a new dir, a second
# scheduler starts on it (another socket and port), and every start
# acknowledged before the backup command was sent must be there; the
# agent, pointed at it, runs a new run. Replies on one admin connection
# keep the order of its lines even when the first one is a backup. Then
# the refusals, each one line with nothing written: backups not
# configured, a backup_dir with foreign files or inside the data dir, a
# restore into a non-empty dir, an unknown id, a dir that holds no
# backups.
. "$(dirname "$0")/lib.sh"

[ -x "$BIN/faultfs.so" ] || fail "bin/faultfs.so is missing (make tools)"
BK=$T/backups
CTL=$T/faultfs.ctl
: >"$CTL"
printf 'backup_dir = %s\n' "$BK" >"$T/sched.conf"

now_ns() { python3 -c 'import time; print(time.monotonic_ns())'; }

# bad WANT CMD...: fails with one line naming the problem, exit EXIT
bad() {
	local code=$1 want=$2 out rc=0
	shift 2
	out=$("$@" 2>&1 >/dev/null) || rc=$?
	[ "$rc" -eq "$code" ] || fail "'$*' exited $rc, not $code: $out"
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "'$*': not one line: $out"
	[[ "$out" == *"$want"* ]] || fail "'$*' said '$out', not '$want'"
}

# The scheduler under the shim, watching the backup dir only.
saved_env=("${DAEMON_ENV[@]}")
DAEMON_ENV=(env FAULTFS_DIR="$BK" FAULTFS_CTL="$CTL" LD_PRELOAD="$BIN/faultfs.so")
M=http://127.0.0.1:$(free_port)
start_scheduler --config "$T/sched.conf" --metrics-listen "$M"
# sample NAME: one sample of /metrics
sample() {
	fetch "$M/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
[ "$(sample sparkpilot_backup_last_success_timestamp_seconds)" = 0 ] ||
	fail "a backup time before any backup: $(sample sparkpilot_backup_last_success_timestamp_seconds)"
DAEMON_ENV=("${saved_env[@]}")
spctl tenant add acme >/dev/null
spctl env add acme/prod >/dev/null
spctl env add acme/bulk >/dev/null # no agent: its runs stay queued
spctl job add acme/prod/j -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=0.2 app.jar >/dev/null
spctl job add acme/bulk/j -- --master yarn app.jar >/dev/null
start_agent a1 acme/prod
wait_env_ready acme/prod
first=$(spctl run start acme/prod/j)
wait_run_state "$first" succeeded 60

# Nothing to read yet.
bad 1 "does not exist: no backup has been taken" spctl backup verify 1
[ "$(spctl --json backup list | json items)" = "[]" ] || fail "backup list: $(spctl backup list)"

# Starts acknowledged one after another (8 in flight), each id with the
# monotonic instant its reply arrived, until $T/stop exists.
python3 - "$SOCK" acme/bulk/j "$T/acks" "$T/stop" <<'PY' >"$T/loader.log" 2>&1 &
import os, socket, sys, time
sock, job, out, stop = sys.argv[1:]
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
f = open(out, "w")
buf, inflight = b"", 0
while True:
    stopping = os.path.exists(stop)
    while not stopping and inflight < 8:
        s.sendall(("run start %s\n" % job).encode())
        inflight += 1
    if inflight == 0:
        break
    chunk = s.recv(65536)
    if not chunk:
        sys.exit("the admin socket closed")
    buf += chunk
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        inflight -= 1
        t = time.monotonic_ns()
        if b'"ok":true' not in line:
            sys.exit("refused: %s" % line.decode())
        rid = line.split(b'"run":')[1].split(b",")[0].split(b"}")[0]
        f.write("%d %d\n" % (int(rid), t))
        f.flush()
PY
LOADER=$!
PIDS+=("$LOADER")
acks() { [ -f "$T/acks" ] && wc -l <"$T/acks" || echo 0; }
acks_at_least() { [ "$(acks)" -ge "$1" ]; }
wait_until 30 acks_at_least 200 || fail "the loader got $(acks) acknowledgements"

# backup create, with its syncs held: it stays in progress.
echo "hold sync" >"$CTL"
t_sent=$(now_ns)
spctl backup create >"$T/backup.out" 2>&1 &
BPID=$!
PIDS+=("$BPID")
backup_started() { grep -q 'admin: uid [0-9]*: backup create' "$T/scheduler.log"; }
wait_until 10 backup_started || fail "backup create was not taken up"
# Meanwhile one backup command at a time ...
bad 1 "backup create is in progress" spctl backup create
bad 1 "backup create is in progress" spctl backup list
# ... and starts are still acknowledged while the backup is in progress.
acks_after() { [ "$(awk -v t="$t_sent" '$2 > t' "$T/acks" | wc -l)" -ge "$1" ]; }
wait_until 30 acks_after 200 || fail "starts stopped while the backup ran"
kill -0 "$BPID" 2>/dev/null || fail "backup create ended while held: $(cat "$T/backup.out")"
: >"$CTL"
wait "$BPID" || fail "backup create: $(cat "$T/backup.out")"
grep -Eq '^backup 1: .* in [0-9]+ files .*, taken in [0-9]+ ms into ' "$T/backup.out" ||
	fail "backup create printed: $(cat "$T/backup.out")"
touch "$T/stop"
wait "$LOADER" || fail "loader: $(cat "$T/loader.log")"
before=$(awk -v t="$t_sent" '$2 < t' "$T/acks" | wc -l)
[ "$before" -ge 200 ] || fail "only $before starts before the backup"

spctl backup verify 1 | grep -q '^backup 1 is good: ' || fail "backup verify 1: $(spctl backup verify 1)"
# /metrics has it (rendered once a second: wait for the next render)
backup_counted() { [ "$(sample 'sparkpilot_backups_total{result="ok"}')" = 1 ]; }
wait_until 10 backup_counted || fail "backups_total: $(fetch "$M/metrics" | grep backups_total)"
taken=$(date -u -d "$(spctl --json backup list | json items.0.time)" +%s)
[ "$(sample sparkpilot_backup_last_success_timestamp_seconds)" -ge "$taken" ] ||
	fail "last success $(sample sparkpilot_backup_last_success_timestamp_seconds), before the backup ($taken)"
bad 1 "no backup 99" spctl backup verify 99
[ "$(spctl --json backup list | json items.0.state)" = ok ] || fail "backup list: $(spctl backup list)"

# Replies keep the order of the lines on one connection: a backup held,
# then a tenant list behind it on the same connection; another
# connection's answer shows the core has done the list, whose reply still
# waits for the backup's.
echo "hold sync" >"$CTL"
python3 - "$SOCK" "$CTL" <<'PY' || fail "replies out of order"
import socket, sys, time
a = socket.socket(socket.AF_UNIX); a.connect(sys.argv[1])
a.sendall(b"backup create\ntenant list\n")
time_limit = time.monotonic() + 10
b = socket.socket(socket.AF_UNIX); b.connect(sys.argv[1])
b.settimeout(30)  # a core that waits on the held backup fails, not hangs
b.sendall(b"queue stats\n")
assert b"\n" in b.recv(1 << 20)
a.setblocking(False)
try:
    early = a.recv(1 << 20)
except BlockingIOError:
    early = b""
assert early == b"", "a reply before the backup's: %r" % early[:200]
open(sys.argv[2], "w").close()  # release the backup
a.setblocking(True); a.settimeout(30)
data = b""
while data.count(b"\n") < 2:
    data += a.recv(1 << 20)
first, second = data.split(b"\n")[:2]
assert b'"id":2' in first, first[:200]
assert b'"tenants"' in second or b'"items"' in second, second[:200]
PY

# Restore into a new dir, and a second scheduler on it.
"$BIN/sparkpilot-scheduler" --restore-from "$BK:1" --data-dir "$T/restored" \
	>"$T/restore.out" 2>&1 || fail "restore: $(cat "$T/restore.out")"
grep -q "^restored backup 1 (taken .*) from '$BK' into '$T/restored' in [0-9]* ms$" \
	"$T/restore.out" || fail "restore printed: $(cat "$T/restore.out")"
[ "$(ls -a "$T" | grep -c '^\.restored')" -eq 0 ] || fail "a restore sibling was left"
SOCK2=$T/admin2.sock
PORT2=$(free_port)
# the master key of the store's data keys is not in backups: the first
# scheduler's (its default, beside its data dir)
MK="master_key_file = $T/data-keys/master.key"
printf '%s\n' "$MK" >"$T/sched2.conf"
"$BIN/sparkpilot-scheduler" --config "$T/sched2.conf" --data-dir "$T/restored" \
	--admin-socket "$SOCK2" --listen "tcp://127.0.0.1:$PORT2" >>"$T/scheduler2.log" 2>&1 &
SCHED2=$!
SCHED_PIDS+=("$SCHED2")
spctl2() { "$BIN/spctl" --socket "$SOCK2" "$@"; }
wait_until 10 spctl2 tenant list || fail "the restored scheduler did not start"
# every run, page after page: spctl gives at most 10,000 a call, and how
# many runs there are depends on how fast the loader went
python3 - "$BIN/spctl" "$SOCK2" "$T/restored.json" <<'PY' || fail "run list of the restored scheduler"
import json, subprocess, sys
items, after = [], None
while True:
    cmd = [sys.argv[1], "--socket", sys.argv[2], "--json", "run", "list",
           "--limit", "10000"] + (["--after-id", str(after)] if after else [])
    page = json.loads(subprocess.run(cmd, check=True, capture_output=True).stdout)
    items += page["items"]
    after = page.get("next_after_id")
    if not after:
        break
json.dump({"items": items}, open(sys.argv[3], "w"))
PY
python3 - "$T/acks" "$t_sent" "$T/restored.json" "$first" <<'PY' || fail "acknowledged starts missing after the restore"
import json, sys
acks = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
t_sent = int(sys.argv[2])
have = {r["id"] for r in json.load(open(sys.argv[3]))["items"]}
before = [rid for rid, t in acks if t < t_sent]
missing = [rid for rid in before if rid not in have]
if missing or int(sys.argv[4]) not in have:
    sys.exit("%d of %d starts acknowledged before the backup are missing: %s"
             % (len(missing), len(before), missing[:10]))
during = sum(1 for rid, t in acks if t >= t_sent and rid in have)
print("restore: all %d starts acknowledged before the backup are there "
      "(and %d acknowledged after it was asked for)" % (len(before), during))
PY

# The restored scheduler takes new work: the agent, pointed at it, runs it.
kill -TERM "$AGENT_PID_a1"
wait "$AGENT_PID_a1" || true
"$AGENT_BIN" --scheduler "tcp://127.0.0.1:$PORT2" --state-dir "$T/agent-a1" \
	--spark-submit "$FAKE_SPARK" >>"$T/agent-a1.log" 2>&1 &
PIDS+=("$!")
new=$(spctl2 run start acme/prod/j) || fail "run start on the restored scheduler"
SOCK=$SOCK2 wait_run_state "$new" succeeded 60

# Refusals, one line each, nothing written.
bad 1 "backups are not configured: set backup_dir" spctl2 backup create
bad 1 "backups are not configured" spctl2 backup list
mkdir "$T/junk"
echo notes >"$T/junk/notes.txt"
printf 'backup_dir = %s\n%s\n' "$T/junk" "$MK" >"$T/sched2.conf"
kill -HUP "$SCHED2"
says() { # (pipefail would take spctl's refusal for grep's)
	local out
	out=$(spctl2 backup create 2>&1) || true
	[[ "$out" == *"$1"* ]]
}
wait_until 10 says "holds 'notes.txt', which BackupEngine did not write" ||
	fail "a backup_dir with foreign files: $(spctl2 backup create 2>&1)"
bad 1 "holds 'notes.txt'" spctl2 backup create
[ "$(ls "$T/junk")" = notes.txt ] || fail "a refused backup wrote into $T/junk"
printf 'backup_dir = %s\n%s\n' "$T/restored/backups" "$MK" >"$T/sched2.conf"
kill -HUP "$SCHED2"
wait_until 10 says "is inside the data dir" ||
	fail "a backup_dir inside the data dir: $(spctl2 backup create 2>&1)"
[ ! -e "$T/restored/backups" ] || fail "a refused backup made its dir"

mkdir "$T/nonempty"
echo x >"$T/nonempty/keep"
bad 2 "data dir '$T/nonempty' is not empty" \
	"$BIN/sparkpilot-scheduler" --restore-from "$BK" --data-dir "$T/nonempty"
[ "$(ls -A "$T/nonempty")" = keep ] || fail "a refused restore wrote into a non-empty dir"
bad 2 "data dir '$T/data' is not empty" \
	"$BIN/sparkpilot-scheduler" --restore-from "$BK" --data-dir "$T/data"
bad 2 "there is no backup 99 in '$BK' (backups: 1, 2)" \
	"$BIN/sparkpilot-scheduler" --restore-from "$BK:99" --data-dir "$T/r99"
bad 2 "BackupEngine did not write" \
	"$BIN/sparkpilot-scheduler" --restore-from "$T/junk" --data-dir "$T/r99"
mkdir "$T/emptybk"
bad 2 "holds no backups" \
	"$BIN/sparkpilot-scheduler" --restore-from "$T/emptybk" --data-dir "$T/r99"
bad 2 "does not exist" \
	"$BIN/sparkpilot-scheduler" --restore-from "$T/nosuch" --data-dir "$T/r99"
bad 2 "backup id '0' is out of range" \
	"$BIN/sparkpilot-scheduler" --restore-from "$BK:0" --data-dir "$T/r99"
printf 'backup_dir = relative/dir\n' >"$T/rel.conf"
# (a bad setting, like any: the line, then the usage)
rc=0
"$BIN/sparkpilot-scheduler" --config "$T/rel.conf" --data-dir "$T/r99" 2>"$T/rel.err" || rc=$?
[ "$rc" -eq 2 ] && head -n 1 "$T/rel.err" | grep -q "backup_dir 'relative/dir' must be an absolute path" ||
	fail "a relative backup_dir: exit $rc, $(head -n 1 "$T/rel.err")"
[ ! -e "$T/r99" ] || fail "a refused restore made the data dir"
[ "$(ls -a "$T" | grep -c '^\.r99')" -eq 0 ] || fail "a refused restore left a sibling"

kill -0 "$SCHED_PID" || fail "the first scheduler died"
kill -0 "$SCHED2" || fail "the restored scheduler died"
# After a restart, /metrics knows the newest good backup from backup_dir
# (for the alert on a stale backup) before any backup create.
newest=$(date -u -d "$(spctl --json backup list | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][-1]["time"])')" +%s)
stop_scheduler
start_scheduler --config "$T/sched.conf" --metrics-listen "$M"
known() { [ "$(sample sparkpilot_backup_last_success_timestamp_seconds)" = "$newest" ]; }
wait_until 10 known ||
	fail "after a restart: last success $(sample sparkpilot_backup_last_success_timestamp_seconds), not $newest"
echo "backup: ok"
