#!/bin/bash
# Operator commands through the real daemons: spctl's usage against the
# scheduler's command table and its one-line errors; queue stats (totals,
# paused, per-tenant and per-environment rows, an oldest queued age that
# stays right while a run waits out a retry backoff); tenant set and agent
# undrain, both surviving a restart; the store format version (a newer
# store refused with nothing written, a version-1 store upgraded).
. "$(dirname "$0")/lib.sh"

# one_line_error CMD...: fails unless CMD exits non-zero with exactly one
# line "spctl: error: ..." on stderr and nothing on stdout.
one_line_error() {
	local rc=0
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -ne 0 ] || fail "'$*' succeeded"
	[ "$(wc -l <"$T/err")" -eq 1 ] || fail "'$*': not one line: $(cat "$T/err")"
	grep -q "^spctl: error: " "$T/err" || fail "'$*': $(cat "$T/err")"
	[ ! -s "$T/out" ] || fail "'$*' printed $(cat "$T/out")"
}

# Backoffs of 15-30 s: a failed run stays in backoff while stats are read.
cat >"$T/sched.conf" <<EOF
retry_base_ms = 30000
retry_max_ms = 60000
EOF
start_scheduler --config "$T/sched.conf"

# ---- usage: complete, and the same commands as the scheduler's table ----
spctl --help >"$T/usage" || fail "spctl --help failed"
for want in "--idempotency-key" "queue stats" "dispatch pause" \
	"dispatch resume" "--max-concurrent" "--max-running" "--max-queued" \
	"--submit-rate" "tenant set" "agent undrain" "agent drain"; do
	grep -q -- "$want" "$T/usage" || fail "spctl --help lacks '$want'"
done
spctl --json help >"$T/help.json"
python3 - "$T/usage" "$T/help.json" <<'EOF' || fail "spctl usage and the scheduler's commands differ"
import json, re, sys
usage = open(sys.argv[1]).read().split("\n\n")[1].splitlines()[1:]
cmds = {c["command"]: c["args"] for c in json.load(open(sys.argv[2]))["commands"]}
entries = {}
for line in usage:  # "  noun verb ARGS", continued by deeper indents
    if line.startswith("  ") and not line.startswith("   "):
        words = line.split()
        # the longest command the words start with: "agent token list"
        name = next((" ".join(words[:n]) for n in (3, 2, 1)
                     if " ".join(words[:n]) in cmds), words[0])
        if name not in cmds:
            sys.exit("spctl lists '%s', which the scheduler does not accept" % line.strip())
        cur = entries[name] = [line]
    else:
        cur.append(line)
for name, args in cmds.items():
    if name not in entries:
        sys.exit("spctl --help lacks '%s'" % name)
    text = " ".join(entries[name])
    for flag in re.findall(r"--[a-z][a-z-]*", args):
        if flag not in text:
            sys.exit("spctl --help: '%s' lacks %s" % (name, flag))
EOF
one_line_error spctl frobnicate
one_line_error spctl run frobnicate 1
one_line_error spctl --bogus tenant list
one_line_error spctl tenant list --bogus
one_line_error spctl run start acme/prod/p --nope 1

# ---- queue stats ----
spctl tenant add acme >/dev/null
spctl tenant add idle >/dev/null
spctl env add acme/prod >/dev/null
spctl env add acme/flaky >/dev/null
spctl job add acme/prod/p -- --master yarn app.jar >/dev/null
spctl job add acme/flaky/f --max-attempts 3 -- --master yarn \
	--deploy-mode cluster --conf spark.fake.outcome=fail \
	--conf spark.fake.duration=0 app.jar >/dev/null
start_agent a1 acme/flaky
wait_env_ready acme/flaky
f=$(spctl run start acme/flaky/f)
in_backoff() {
	spctl --json run show "$f" | json run.waiting | grep -q "retry backoff"
}
wait_until 30 in_backoff || fail "run $f is not in retry backoff"
spctl run start acme/prod/p >/dev/null
spctl run start acme/prod/p >/dev/null
spctl tenant set acme --max-queued 3 >/dev/null
spctl run start acme/prod/p 2>"$T/err" && fail "start past a max-queued set later"
grep -q "(max-queued 3)" "$T/err" || fail "refusal: $(cat "$T/err")"
sleep 2
spctl --json queue stats >"$T/stats.json"
python3 - "$T/stats.json" <<'EOF' || fail "queue stats: $(cat "$T/stats.json")"
import json, sys
s = json.load(open(sys.argv[1]))
t = {r["tenant"]: r for r in s["tenants"]}
e = {r["env"]: r for r in s["items"]}
assert s["queued"] == 3 and s["paused"] is False, "totals"
assert s["oldest_queued_s"] >= 2, "total oldest"
a = t["acme"]
assert (a["queued"], a["dispatched"], a["refused"]) == (3, 1, 1), a
assert a["oldest_queued_s"] >= 2, a
assert t["idle"]["queued"] == 0 and t["idle"]["oldest_queued_s"] == 0, t["idle"]
# in backoff: counted from its failure, not from the end of its backoff
fl = e["acme/flaky"]
assert fl["queued"] == 1 and fl["dispatched"] == 1, fl
assert 0 <= fl["oldest_queued_s"] <= 14, fl
p = e["acme/prod"]
assert (p["queued"], p["refused"]) == (2, 1) and p["oldest_queued_s"] >= 2, p
for row in s["tenants"] + s["items"]:
    assert row["oldest_queued_s"] >= 0, row
# every acknowledged change above was one synced write
w = s["wal_sync"]
assert w["syncs"] >= 8, w
assert 0 < w["p50_us"] <= w["p99_us"] <= w["p999_us"] <= w["max_us"], w
EOF
spctl queue stats >"$T/stats.txt"
for want in "^queued: *3$" "^paused: *false$" "^tenants:$" \
	"^  TENANT  QUEUED  RUNNING  OLDEST_QUEUED_S  DISPATCHED  REFUSED$" \
	"^  acme  *3  *0  *[0-9]*  *1  *1$" "^  idle  *0  *0  *0  *0  *0$" \
	"^environments:$" "^  TENANT  ENV  *QUEUED" \
	"^  acme  *acme/flaky  *1  *0  *[0-9]*  *1  *0$"; do
	grep -q -- "$want" "$T/stats.txt" ||
		fail "queue stats table lacks /$want/: $(cat "$T/stats.txt")"
done

# ---- tenant set: the same bounds as tenant add, one-line refusals ----
# the tenant's settings (what tenant set may change), not its moving
# figures: the flaky run may end meanwhile
settings() {
	spctl --json tenant show acme | python3 -c '
import json, sys
t = json.load(sys.stdin)["tenant"]
b = t.pop("budget")
t["budget"] = {k: b[k] for k in ("monthly", "mode", "cancel_running")}
for k in ("queued", "running", "retention", "environments", "guard"):
    t.pop(k, None)
print(json.dumps(t, sort_keys=True))'
}
settings >"$T/before"
for bad in "--max-running 0" "--max-queued -1" "--submit-rate 99999999999" \
	"--weight 0" "max-running=0" "submit_rate=-3" "bogus=1" \
	"--budget-mode medium" "--max-queued" ""; do
	# shellcheck disable=SC2086
	one_line_error spctl tenant set acme $bad
done
one_line_error spctl tenant set nosuch --max-running 2
settings >"$T/after"; diff "$T/before" "$T/after" >&2 ||
	fail "a refused tenant set changed the tenant"
grep -q "'unlimited' lifts the limit" <(spctl tenant set acme max-running=0 2>&1) ||
	fail "no hint at 'unlimited'"
out=$(spctl tenant set acme --max-running 2 submit-rate=5 max_queued=unlimited \
	--weight 3)
want="updated tenant acme: weight 1 -> 3, max-running unlimited -> 2,"
want+=" max-queued 3 -> unlimited, submit-rate unlimited -> 5"
[ "$out" = "$want" ] || fail "tenant set said: $out"
spctl tenant add r >/dev/null
spctl env add r/e >/dev/null
spctl job add r/e/j -- --master yarn app.jar >/dev/null
spctl tenant set r submit-rate=1 >/dev/null
spctl run start r/e/j >/dev/null
spctl run start r/e/j 2>"$T/err" && fail "start past a submit-rate set later"
grep -q "submit-rate of 1 runs/s" "$T/err" || fail "rate refusal: $(cat "$T/err")"

# ---- agent drain / undrain, across a restart ----
spctl env add acme/dr >/dev/null
spctl job add acme/dr/ok -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=0 app.jar >/dev/null
start_agent a2 acme/dr
wait_env_ready acme/dr
a2=$(spctl --json agent list | python3 -c '
import json, sys
print([a["id"] for a in json.load(sys.stdin)["items"] if a["env"] == "acme/dr"][0])')
spctl agent drain "$a2" >/dev/null
d=$(spctl run start acme/dr/ok)
one_line_error spctl agent undrain nosuch
stop_scheduler
start_scheduler --config "$T/sched.conf"
[ "$(spctl --json agent show "$a2" | json agent.state)" = draining ] ||
	fail "the drain did not survive a restart"
spctl --json tenant show acme >"$T/acme.json"
for kv in weight=3 max_running=2 max_queued=unlimited submit_rate=5; do
	[ "$(json "tenant.${kv%%=*}" <"$T/acme.json")" = "${kv#*=}" ] ||
		fail "tenant set did not survive a restart: $kv: $(cat "$T/acme.json")"
done
wait_agent_waiting "$a2" # the drained agent had its chances at the run
[ "$(run_state "$d")" = queued ] || fail "a draining agent got work"
spctl agent undrain "$a2" | grep -q "is active: it takes new work$" ||
	fail "undrain reply"
wait_run_state "$d" succeeded 30
spctl agent undrain "$a2" | grep -q "(it was not draining)" ||
	fail "a second undrain"
stop_scheduler
start_scheduler --config "$T/sched.conf"
[ "$(spctl --json agent show "$a2" | json agent.state)" = active ] ||
	fail "the undrain did not survive a restart"
# the flaky run's attempts add usage as they end: end it now, so the
# figures compared across the upgrades below cannot move meanwhile
f_ended() { case $(run_state "$f") in failed | cancelled) ;; *) false ;; esac; }
spctl run cancel "$f" >/dev/null 2>&1 || true
wait_until 30 f_ended || fail "run $f did not end: $(run_state "$f")"
stop_scheduler

# ---- store format: an older store (1 to 6) is upgraded on open ----
[ "$("$BIN/sp-storemeta" "$T/data")" = "format_version 7" ] ||
	fail "a new store is not format 7"
start_scheduler --config "$T/sched.conf"
usage_before=$(spctl --json usage acme | json total)
by_job_before=$(spctl --json usage acme --by job | json total)
stop_scheduler
for old in 1 2 3 4 5 6; do
	"$BIN/sp-storemeta" "$T/data" --set-version $old
	start_scheduler --config "$T/sched.conf"
	grep -q "format version $old upgraded to 7" "$T/scheduler.log" ||
		fail "no upgrade from $old logged"
	# older stores kept no usage roll-ups: rebuilt from the runs, once
	# each time (the roll-ups of the last upgrade are replaced, not added)
	# (format 4 kept them)
	[ "$(grep -c "usage roll-ups rebuilt" "$T/scheduler.log")" = "$((old < 4 ? old : 3))" ] ||
		fail "usage roll-ups not rebuilt from $old"
	[ "$(spctl --json usage acme | json total)" = "$usage_before" ] ||
		fail "usage after the upgrade from $old: $(spctl --json usage acme | json total)"
	# the roll-ups by job (format 6) are rebuilt from the runs
	[ "$(spctl --json usage acme --by job | json total)" = "$by_job_before" ] ||
		fail "usage by job after the upgrade from $old: $(spctl --json usage acme --by job | json total)"
	[ "$(spctl --json tenant show acme | json tenant.max_running)" = 2 ] ||
		fail "the store upgraded from $old lost a record"
	[ "$(run_state "$d")" = succeeded ] ||
		fail "the store upgraded from $old lost run $d"
	spctl run logs "$d" >/dev/null || fail "logs after the upgrade from $old"
	stop_scheduler
done
grep -c "upgraded to 7" "$T/scheduler.log" | grep -qx 6 ||
	fail "the store was upgraded more than once per version"

# ---- store format: a newer store is refused, untouched ----
snapshot() { (cd "$T/data" && find . -type f | sort | xargs md5sum); }
"$BIN/sp-storemeta" "$T/data" --set-version 8
snapshot >"$T/before"
rc=0
timeout 20 "$BIN/sparkpilot-scheduler" --data-dir "$T/data" \
	--admin-socket "$SOCK" --listen "tcp://127.0.0.1:$(free_port)" \
	>"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "newer store: exit $rc"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "newer store: $(cat "$T/err")"
grep -q "format version 8; this build reads format versions up to 7" "$T/err" ||
	fail "newer store: $(cat "$T/err")"
snapshot | cmp -s - "$T/before" || fail "a refused store was written to"
[ ! -e "$SOCK" ] || fail "a refused store left an admin socket"
echo "admin: ok"
