#!/bin/bash
# t0960-roles.sh - roles on the admin socket with real peers: spctl run as
# other uids (setpriv), their uid, primary group and supplementary groups
# read by the scheduler from the socket (SO_PEERCRED, SO_PEERGROUPS). A
# command the role does not allow exits 77 with one line naming the role
# needed and the role held, and changes nothing; a tenant-scoped viewer
# sees its tenant only; a reload changes the roles at once; an unknown
# user in role_* stops the start with FILE:LINE.
source "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "t0960: skipped: needs root (setpriv to other uids)"
	exit 0
fi
# the callers reach the socket (mode 0660, group root) through group root
chmod 0750 "$T"
C=$T/sched.conf
cat >"$C" <<EOF
role_operator = uid:65533@acme
role_viewer = uid:65534@acme group:nogroup
EOF
start_scheduler --config "$C"
spctl tenant add acme >/dev/null
spctl tenant add globex >/dev/null
spctl env add acme/prod >/dev/null
spctl env add globex/prod >/dev/null
spctl job add acme/prod/j -- --master yarn app.jar >/dev/null
spctl job add globex/prod/j -- --master yarn app.jar >/dev/null
spctl dispatch pause >/dev/null
g=$(spctl run start globex/prod/j)

# as UID [GROUPS]: spctl as that uid, group root, supplementary GROUPS
as() {
	local uid=$1 groups=$2
	shift 2
	if [ -n "$groups" ]; then
		setpriv --reuid="$uid" --regid=0 --groups="$groups" "$BIN/spctl" --socket "$SOCK" "$@"
	else
		setpriv --reuid="$uid" --regid=0 --clear-groups "$BIN/spctl" --socket "$SOCK" "$@"
	fi
}

# the operator of acme starts a run of acme, not of globex
r=$(as 65533 "" run start acme/prod/j) || fail "the operator of acme could not start a run"
set +e
out=$(as 65533 "" run start globex/prod/j 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] && [ "$out" = "spctl: error: no job 'globex/prod/j'" ] ||
	fail "another tenant's job was not hidden (exit $rc): $out"
# the viewer of acme: forbidden to start, exit 77, one line
set +e
out=$(as 65534 "" run start acme/prod/j 2>&1)
rc=$?
set -e
[ "$rc" = 77 ] || fail "forbidden exited $rc, not 77: $out"
[ "$out" = "spctl: error: forbidden: 'run start' needs role operator; uid 65534 has viewer for acme" ] ||
	fail "the refusal is not the one line expected: $out"
grep -q "admin: uid 65534: forbidden: run start needs role operator, has viewer for acme" \
	"$T/scheduler.log" || fail "the refusal was not logged"
[ "$(spctl --json run list | json items | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] ||
	fail "a refused start changed something"
# ... sees acme only
[ "$(as 65534 "" --json tenant list | json items | python3 -c 'import json,sys; print(",".join(t["name"] for t in json.load(sys.stdin)))')" = acme ] ||
	fail "the viewer of acme saw another tenant"
set +e
out=$(as 65534 "" run show "$g" 2>&1)
set -e
[ "$out" = "spctl: error: no run $g" ] || fail "another tenant's run was not hidden: $out"
# a viewer through a supplementary group (group:nogroup) sees both
ng=$(getent group nogroup | cut -d: -f3)
n=$(as 65531 "$ng" --json tenant list | json items | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 2 ] || fail "uid 65531 in group nogroup saw $n tenants, not 2"
# someone with no role at all
set +e
out=$(as 65530 "" tenant list 2>&1)
rc=$?
set -e
[ "$rc" = 77 ] && [ "$out" = "spctl: error: forbidden: 'tenant list' needs role viewer; uid 65530 has no role" ] ||
	fail "a caller with no role was not refused (exit $rc): $out"
as 65530 "" help >/dev/null || fail "help is for anyone"

# a reload grants at once
cat >>"$C" <<EOF
role_admin = uid:65530
EOF
kill -HUP "$SCHED_PID"
wait_until 10 grep -q "reload: role_admin  -> uid:65530" "$T/scheduler.log" ||
	fail "role_admin was not applied: $(tail -3 "$T/scheduler.log")"
as 65530 "" tenant add initech >/dev/null || fail "the new admin was refused"
# a bad one is refused, the roles in force kept
echo "role_viewer = user:no-such-user-here" >>"$C"
kill -HUP "$SCHED_PID"
wait_until 10 grep -q "reload refused: $C:4: role_viewer: no user 'no-such-user-here' on this system" \
	"$T/scheduler.log" || fail "a bad role_viewer was not refused: $(tail -3 "$T/scheduler.log")"
as 65534 "" tenant list >/dev/null || fail "a refused reload changed the roles"

# the operator guide's role matrix is the command table's
spctl --json help | python3 -c '
import json, re, sys
table = {c["command"]: c["role"] for c in json.load(sys.stdin)["commands"]}
doc = {}
text = open(sys.argv[1]).read().split("### Roles", 1)[1]
for line in text.splitlines():
    m = re.match(r"\| (`.*`) \| (\w+)", line)
    if m:
        for cmd in re.findall(r"`([^`]+)`", m.group(1)):
            doc[cmd] = m.group(2)
bad = sorted(set(table.items()) ^ set(doc.items()))
sys.exit("the role matrix and the command table differ: %s" % bad if bad else 0)
' "$ROOT/docs/operator-guide.md" || fail "docs/operator-guide.md, Roles: the matrix is stale"

# at start: FILE:LINE, exit 2, nothing started
printf 'role_operator = group:no-such-group-here@acme\n' >"$T/bad.conf"
set +e
out=$("$BIN/sparkpilot-scheduler" --config "$T/bad.conf" --data-dir "$T/d2" \
	--admin-socket "$T/s2" 2>&1)
rc=$?
set -e
[ "$rc" = 2 ] || fail "an unknown group started the scheduler (exit $rc)"
grep -q "$T/bad.conf:1: role_operator: no group 'no-such-group-here' on this system" <<<"$out" ||
	fail "the unknown group was not named with its line: $out"
[ ! -e "$T/d2" ] || fail "a refused start left a data dir"
echo "roles: ok"
