#!/bin/bash
# Verifiable tenant deletion by crypto-shredding. Tenant acme puts a
# unique marker into its job arguments and its log lines, and so does
# globex (another marker). The markers are never in clear in any file of
# the data dir or the backup dir (the values are sealed), while `job
# show` and `run logs` show them. A backup is taken. `tenant delete` is
# refused while acme has a live run, then --force revokes its agent and
# cancels its runs, removes its webhook, destroys its data key, and
# prints a receipt (counts
# per column family, the key destroyed, the time) that the audit log
# holds under acme's pseudonym. Then no file under the data dir or the
# backup dir holds acme's marker, and the pre-deletion backup restored
# (same master key) cannot decrypt acme's arguments or logs while
# globex's read. The audit chain stays intact.
. "$(dirname "$0")/lib.sh"

BK=$T/backups
KEY=$T/keys/master.key
MARK=mrkzebra7f3aquokka41
MARK2=mrkotter9c2bheron17
printf 'backup_dir = %s\nmaster_key_file = %s\n' "$BK" "$KEY" >"$T/sched.conf"

# hits WORD DIR...: how many times WORD is in clear in the files under DIR
hits() {
	local word=$1
	shift
	python3 - "$word" "$@" <<'PY'
import os, sys
w = sys.argv[1].encode()
n = 0
for d in sys.argv[2:]:
    for root, _, files in os.walk(d):
        for f in files:
            try:
                n += open(os.path.join(root, f), "rb").read().count(w)
            except OSError:
                pass
print(n)
PY
}

start_scheduler --config "$T/sched.conf"
[ -f "$KEY" ] || fail "no master key created at $KEY"
[ "$(stat -c %a "$KEY")" = 600 ] || fail "master key mode $(stat -c %a "$KEY")"
[ -f "$T/data/keyring" ] || fail "no keyring file"
for t in acme globex; do
	spctl tenant add $t >/dev/null
	spctl env add $t/prod >/dev/null
done
spctl job add acme/prod/etl -- --master 'local[2]' --conf spark.fake.duration=0.3 \
	--conf "spark.app.name=$MARK" --conf "spark.fake.print=hello $MARK" \
	app.jar >/dev/null
spctl job add acme/prod/slow -- --master 'local[2]' --conf spark.fake.duration=120 \
	--conf "spark.app.name=$MARK" app.jar >/dev/null
# a second version of it (job versions are kept in jobvers, sealed too)
spctl job set acme/prod/slow --executors 2 -- --master 'local[2]' \
	--conf spark.fake.duration=120 --conf "spark.app.name=$MARK-v2" app.jar >/dev/null
spctl job add globex/prod/etl -- --master 'local[2]' --conf spark.fake.duration=0.3 \
	--conf "spark.app.name=$MARK2" --conf "spark.fake.print=hello $MARK2" \
	app.jar >/dev/null
# a hook nobody listens on: its deliveries stay in the outbox
spctl webhook add acme "http://127.0.0.1:$(free_port)/hook" >/dev/null
start_agent a1 acme/prod
start_agent g1 globex/prod
wait_env_ready acme/prod
wait_env_ready globex/prod
ra=$(spctl run start acme/prod/etl)
rg=$(spctl run start globex/prod/etl)
wait_run_state "$ra" succeeded 60
wait_run_state "$rg" succeeded 60
logs_have() { spctl run logs "$1" | grep -q "$2"; }
wait_until 20 logs_have "$ra" "hello $MARK" || fail "acme's logs lack the marker"
wait_until 20 logs_have "$rg" "hello $MARK2" || fail "globex's logs lack the marker"
spctl job show acme/prod/etl | grep -q "$MARK" || fail "job show lacks the marker"

# sealed at rest: in no file, WAL and table files alike
spctl backup create >/dev/null
[ -f "$BK/keyring" ] || fail "no copy of the keyring beside the backups"
n=$(hits "$MARK" "$T/data" "$BK")
[ "$n" = 0 ] || fail "acme's marker in clear $n times before the deletion"
[ "$(hits "$MARK2" "$T/data" "$BK")" = 0 ] || fail "globex's marker in clear"

# refused while a run is live, nothing changed
slow=$(spctl run start acme/prod/slow)
live() { case $(run_state "$1") in leased|submitted|running) ;; *) false ;; esac; }
wait_until 60 live "$slow" || fail "run $slow is $(run_state "$slow"), not live"
out=$(spctl tenant delete acme 2>&1) && fail "delete without --confirm: $out"
[[ "$out" == *"cannot be undone: add --confirm"* ]] || fail "no --confirm: $out"
out=$(spctl tenant delete acme --confirm 2>&1) && fail "delete with a live run: $out"
[[ "$out" == *"has 0 queued and 1 live runs"*"--force"* ]] || fail "refusal: $out"
spctl tenant show acme >/dev/null || fail "a refused delete removed the tenant"
spctl job show acme/prod/etl | grep -q "$MARK" || fail "a refused delete lost the key"
spctl run start acme/prod/slow >/dev/null # a queued one too

agent_id=$(spctl --json agent list | python3 -c '
import json, sys
for a in json.load(sys.stdin)["items"]:
    if a["env"] == "acme/prod": print(a["id"])')
# the commit log holds acme's records (names in keys: not sealed) ...
[ "$(hits acme "$T/data/commitlog")" -gt 0 ] || fail "acme not in the commit log before the deletion"
spctl --json tenant delete acme --confirm --force >"$T/receipt.json" ||
	fail "tenant delete --force: $(cat "$T/receipt.json")"
r() { json "$1" <"$T/receipt.json"; }
[ "$(r tenant)" = acme ] || fail "receipt tenant $(r tenant)"
ps=$(r pseudonym)
[[ "$ps" =~ ^tenant-[0-9a-f]{12}$ ]] || fail "pseudonym '$ps'"
[ "$(r removed.tenants)" = 1 ] && [ "$(r removed.envs)" = 1 ] &&
	[ "$(r removed.jobs)" = 2 ] && [ "$(r removed.runs)" = 3 ] &&
	[ "$(r removed.agents)" = 1 ] && [ "$(r removed.tokens)" = 1 ] ||
	fail "receipt counts: $(cat "$T/receipt.json")"
[ "$(r removed.telemetry)" -ge 1 ] && [ "$(r removed.usage)" -ge 1 ] &&
	[ "$(r removed.webhooks)" = 1 ] && [ "$(r removed.jobvers)" = 3 ] ||
	fail "receipt telemetry/usage: $(cat "$T/receipt.json")"
[ "$(r runs_cancelled)" = 2 ] && [ "$(r agents_revoked)" = 1 ] ||
	fail "receipt runs/agents: $(cat "$T/receipt.json")"
[ "$(r key_id)" -ge 1 ] && [ "$(r compacted)" = True ] && [ "$(r wal_rolled)" = True ] ||
	fail "receipt key/compaction: $(cat "$T/receipt.json")"
[ -n "$(r key_destroyed)" ] && [ -n "$(r time)" ] || fail "receipt times"
# ... and no file of it keeps them once the receipt is out
[ "$(hits acme "$T/data/commitlog")" = 0 ] || fail "acme's records still in the commit log after the deletion"

# gone from every view
spctl tenant show acme >/dev/null 2>&1 && fail "tenant still shown"
spctl job show acme/prod/etl >/dev/null 2>&1 && fail "job still shown"
spctl run show "$ra" >/dev/null 2>&1 && fail "run still shown"
spctl agent show "$agent_id" >/dev/null 2>&1 && fail "agent still shown"
spctl tenant list | grep -q acme && fail "tenant still listed"
spctl webhook list | grep -q acme && fail "webhook still listed"
spctl run logs "$rg" | grep -q "hello $MARK2" || fail "globex's logs lost"

# the audit log: the receipt under the pseudonym, the chain intact
spctl --json audit list --limit 1000 >"$T/audit.json"
python3 - "$T/audit.json" "$ps" <<'PY' || fail "audit: $(cat "$T/audit.json")"
import json, sys
items = json.load(open(sys.argv[1]))["items"]
ps = sys.argv[2]
dele = [i for i in items if i["kind"] == "delete" and i["tenant"] == ps]
assert dele and "runs=3" in json.dumps(dele[0]), dele
assert not any(i["tenant"] == "acme" for i in items), "a clear name shown"
PY
spctl audit verify >/dev/null || fail "audit chain broken after the delete"

# the strong form: nowhere in clear, data dir and backup dir
n=$(hits "$MARK" "$T/data" "$BK")
[ "$n" = 0 ] || fail "acme's marker in clear $n times after the deletion"
grep -q "acme" "$T/data/keyring" "$BK/keyring" && fail "acme still in a keyring"

# a new tenant of the same name starts afresh
spctl tenant add acme >/dev/null
spctl tenant delete acme --confirm >/dev/null || fail "deleting an empty tenant"

# the backup taken before the deletion, restored with the same master key
stop_scheduler
"$BIN/sparkpilot-scheduler" --restore-from "$BK:1" --data-dir "$T/restored" \
	>"$T/restore.out" 2>&1 || fail "restore: $(cat "$T/restore.out")"
[ -f "$T/restored/keyring" ] || fail "restore did not copy the keyring"
printf 'master_key_file = %s\n' "$KEY" >"$T/sched2.conf"
SOCK=$T/admin2.sock
start_scheduler --config "$T/sched2.conf" --data-dir "$T/restored"
spctl job show acme/prod/etl >"$T/job.txt" || fail "restored job show"
grep -q "$MARK" "$T/job.txt" && fail "acme's arguments decrypted from the old backup"
grep -q "data key destroyed" "$T/job.txt" || fail "job show: $(cat "$T/job.txt")"
spctl run logs "$ra" >"$T/logs.txt" 2>&1 || true
grep -q "$MARK" "$T/logs.txt" && fail "acme's logs decrypted from the old backup"
grep -q "data key destroyed" "$T/logs.txt" || fail "run logs: $(cat "$T/logs.txt")"
spctl run logs "$rg" | grep -q "hello $MARK2" || fail "globex's logs unreadable after restore"
spctl job show globex/prod/etl | grep -q "$MARK2" || fail "globex's args unreadable after restore"
stop_scheduler

# refusals at start, one line each
bad_start() {
	local want=$1 out rc=0
	shift
	out=$(timeout 20 "$BIN/sparkpilot-scheduler" --admin-socket "$T/x.sock" \
		--listen "tcp://127.0.0.1:$(free_port)" "$@" 2>&1 >/dev/null) || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "start '$*' exited $rc"
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "not one line: $out"
	[[ "$out" == *"$want"* ]] || fail "start said '$out', not '$want'"
}
mkdir -p "$T/k2"
printf 'master_key_file = %s\n' "$T/k2/other.key" >"$T/other.conf"
python3 -c 'print("ab" * 32)' >"$T/k2/other.key"
chmod 600 "$T/k2/other.key"
bad_start "written under another master key" --config "$T/other.conf" --data-dir "$T/restored"
chmod 644 "$T/k2/other.key"
bad_start "readable or writable by others" --config "$T/other.conf" --data-dir "$T/restored"
printf 'master_key_file = %s\n' "$T/k2/none.key" >"$T/none.conf"
bad_start "cannot read master key '$T/k2/none.key'" --config "$T/none.conf" --data-dir "$T/restored"
mv "$T/restored/keyring" "$T/keyring.aside"
bad_start "keyring '$T/restored/keyring' is missing" --config "$T/sched2.conf" --data-dir "$T/restored"
echo "tenant delete: ok"
