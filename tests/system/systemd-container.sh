#!/bin/bash
# systemd-container.sh - both daemons as installed services under a real
# systemd (PID 1 of a systemd-nspawn container with Debian 12 minbase),
# following the operator guide: `make install`, systemd-sysusers at boot,
# the scheduler enabled with TLS and /metrics, an agent enrolled with its
# token as a credential, a run through the fake spark-submit. Then what
# only a real systemd shows: Type=notify (active only when ready, the
# STATUS line), the sandbox in force (`systemd-analyze security` on the
# running units, held to 2.0 and 2.5), journal priorities (`journalctl -p
# warning`), `systemctl reload` of a renewed certificate and of a new
# redaction rule, the daily backup's service taking a backup through the
# admin socket under its own sandbox, and the watchdog restarting a
# scheduler whose core stopped (SIGSTOP), with its runs kept.
#
#   tests/system/systemd-container.sh [WORKDIR]   (root; default
#                                                 /var/tmp/sparkpilot-nspawn)
#
# Needs root, systemd-nspawn (package systemd-container) and debootstrap
# (installed if missing), Debian's archive, and a built tree (make). About
# 3 minutes once the root is made. Not part of `make check`; `make
# system-test` runs it.
set -u
ROOT_DIR=$(cd "$(dirname "$0")/../.." && pwd)
W=${1:-/var/tmp/sparkpilot-nspawn}
R=$W/root
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
NSPAWN=

fail() {
	echo "systemd-container: FAIL: $*" >&2
	[ -n "$LEADER" ] && in_ct journalctl -u sparkpilot-scheduler -u sparkpilot-agent \
		--no-pager 2>/dev/null | tail -20 >&2
	exit 1
}
LEADER=
# in_ct CMD...: runs CMD inside the container (its namespaces)
in_ct() {
	nsenter -t "$LEADER" -a "$@"
}
stop_container() {
	if [ -n "$LEADER" ]; then
		in_ct systemctl poweroff >/dev/null 2>&1
		for _ in $(seq 60); do
			kill -0 "$NSPAWN" 2>/dev/null || break
			sleep 1
		done
	fi
	[ -n "$NSPAWN" ] && kill "$NSPAWN" 2>/dev/null
	[ -n "$NSPAWN" ] && wait "$NSPAWN" 2>/dev/null
}
trap stop_container EXIT
# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
	local n=$(($1 * 5))
	shift
	for _ in $(seq "$n"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

[ "$(id -u)" = 0 ] || { echo "systemd-container: needs root" >&2; exit 2; }
[ -x "$ROOT_DIR/bin/sparkpilot-scheduler" ] ||
	{ echo "systemd-container: build first (make)" >&2; exit 2; }
for p in systemd-container debootstrap; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		{ apt-get update -qq && apt-get install -y -qq "$p" >/dev/null; } ||
		{ echo "systemd-container: cannot install $p" >&2; exit 2; }
done

# The root: Debian 12 minbase with systemd and the daemons' run-time
# libraries (what the packages a user installs would pull in).
if [ ! -x "$R/lib/systemd/systemd" ]; then
	mkdir -p "$W"
	echo "systemd-container: debootstrap into $R"
	debootstrap --variant=minbase \
		--include=systemd,systemd-sysv,dbus,libnng1,librocksdb7.8,libmsgpackc2,libcurl4,libssl3,libpcre2-8-0,libsystemd0,libmbedtls14,python3,openssl \
		bookworm "$R" "$MIRROR" >"$W/debootstrap.log" 2>&1 ||
		{ echo "systemd-container: debootstrap failed: $W/debootstrap.log" >&2; exit 1; }
fi
printf '127.0.0.1 localhost\n' >"$R/etc/hosts"
rm -rf "$R/var/lib/sparkpilot" "$R/var/lib/sparkpilot-agent" "$R/etc/sparkpilot" \
	"$R/var/backups/sparkpilot" \
	"$R/etc/systemd/system/multi-user.target.wants/sparkpilot-"*
make -s -C "$ROOT_DIR" install DESTDIR="$R" PREFIX=/usr >"$W/install.log" 2>&1 ||
	fail "make install: $(tail -3 "$W/install.log")"
mkdir -p "$R/opt/spark/bin"
install -m 0755 "$ROOT_DIR/tests/fakes/spark-submit" "$R/opt/spark/bin/spark-submit"

# Boot. --keep-unit and --register=no: the host need not run systemd.
systemd-nspawn -D "$R" -b -M sparkpilot-test --register=no --keep-unit \
	--console=pipe >"$W/console.log" 2>&1 &
NSPAWN=$!
container_init() {
	LEADER=$(pgrep -P "$NSPAWN" | head -n 1)
	[ -n "$LEADER" ]
}
wait_for 30 container_init || fail "the container did not start: $(tail -3 "$W/console.log")"
booted() {
	case $(in_ct systemctl is-system-running) in running | degraded) return 0 ;; esac
	return 1
}
wait_for 60 booted || fail "the container did not boot: $(in_ct systemctl is-system-running)"
in_ct id sparkpilot >/dev/null || fail "systemd-sysusers made no user sparkpilot"

# The scheduler, with TLS files the service user can read (so that a
# reload can renew them) and /metrics.
in_ct sh -ec '
mkdir -p /etc/sparkpilot/tls && cd /etc/sparkpilot/tls
mk() { # NAME DAYS
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout $1.key -out $1.csr -subj /CN=localhost 2>/dev/null
	printf "subjectAltName=DNS:localhost\n" >ext
	openssl x509 -req -in $1.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-out $1.crt -days $2 -extfile ext 2>/dev/null
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout ca.key -out ca.crt -subj /CN=test-ca -days 365 2>/dev/null
mk server 10
mk renewed 90
cp server.crt cert.pem; cp server.key key.pem
chgrp sparkpilot cert.pem key.pem; chmod 0640 key.pem
cp ca.crt /etc/sparkpilot/ca.crt
cat >>/etc/sparkpilot/scheduler.conf <<EOF
listen = tls+tcp://127.0.0.1:7450
tls_cert = /etc/sparkpilot/tls/cert.pem
tls_key = /etc/sparkpilot/tls/key.pem
metrics_listen = http://127.0.0.1:9464
backup_dir = /var/backups/sparkpilot
role_viewer = uid:65534
EOF
' || fail "TLS setup"
in_ct systemctl enable --now sparkpilot-scheduler >/dev/null 2>&1 ||
	fail "the scheduler did not start"
# Type=notify: active means ready, with the scheduler's status line
[ "$(in_ct systemctl show -p ActiveState --value sparkpilot-scheduler)" = active ] ||
	fail "the scheduler is not active"
in_ct systemctl show -p StatusText --value sparkpilot-scheduler | grep -q '^ready: ' ||
	fail "no ready STATUS: $(in_ct systemctl show -p StatusText --value sparkpilot-scheduler)"
in_ct spctl tenant add acme >/dev/null || fail "spctl as root"
in_ct spctl env add acme/prod >/dev/null || fail "env add"

# The agent, its one-time token as a credential.
in_ct sh -ec '
spctl agent token acme/prod --ttl 3600 >/etc/sparkpilot/enroll-token
chmod 0600 /etc/sparkpilot/enroll-token
cat >>/etc/sparkpilot/agent.conf <<EOF
scheduler = tls+tcp://localhost:7450
tls_ca = /etc/sparkpilot/ca.crt
spark_submit = /opt/spark/bin/spark-submit
EOF
systemctl enable --now sparkpilot-agent >/dev/null 2>&1
' || fail "the agent did not start"
env_ready() {
	in_ct spctl env show acme/prod | grep -q 'state: *ready'
}
wait_for 60 env_ready || fail "the environment did not become ready"
in_ct spctl job add acme/prod/pi -- --master yarn --deploy-mode cluster \
	--conf spark.fake.duration=0.5 app.jar >/dev/null || fail "job add"
run_is() { # RUN STATE
	in_ct spctl run show "$1" | grep -q "state: *$2\$"
}
r=$(in_ct spctl run start acme/prod/pi) || fail "run start"
wait_for 60 run_is "$r" succeeded || fail "run $r did not succeed"
echo "systemd-container: scheduler and agent up under systemd; run $r succeeded"

# The sandbox of the running units.
for u in scheduler:2.0 agent:2.5; do
	unit=sparkpilot-${u%%:*}.service
	score=$(in_ct systemd-analyze security "$unit" --no-pager 2>/dev/null |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
	[ -n "$score" ] || fail "no security score for $unit"
	awk -v s="$score" -v m="${u##*:}" 'BEGIN { exit !(s <= m) }' ||
		fail "$unit scores $score, over ${u##*:}"
	echo "systemd-container: $unit: exposure $score (at most ${u##*:})"
done

# Journal priorities: the certificate expires within 14 days, a warning.
in_ct journalctl -p warning -u sparkpilot-scheduler --no-pager |
	grep -q "warn: the agent port's TLS certificate expires on" ||
	fail "the expiry warning is not at priority warning in the journal"
in_ct journalctl -p warning -u sparkpilot-scheduler --no-pager | grep -q "info: " &&
	fail "info lines at priority warning"

# systemctl reload: a renewed certificate, a redaction rule.
in_ct sh -ec '
cd /etc/sparkpilot/tls
cp renewed.crt cert.pem; cp renewed.key key.pem
systemctl reload sparkpilot-scheduler
echo "redact_rule = employee_id EMP-[0-9]{6}" >>/etc/sparkpilot/agent.conf
systemctl reload sparkpilot-agent
' || fail "systemctl reload"
# systemctl reload returns once the signal is sent (ExecReload= kill):
# wait for the daemons to log what they applied
journal_has() { # UNIT TEXT
	in_ct journalctl -u "$1" --no-pager | grep -q -- "$2"
}
wait_for 15 journal_has sparkpilot-scheduler "reload: TLS certificate replaced for new connections" ||
	fail "the renewed certificate was not taken"
wait_for 15 journal_has sparkpilot-agent "reload: redact_rule: 1 extra rules (was 0)" ||
	fail "the agent's reload"
agent_status() {
	in_ct systemctl show -p StatusText --value sparkpilot-agent | grep -q '^agent ag-'
}
wait_for 15 agent_status ||
	fail "the agent's status after the reload: $(in_ct systemctl show -p StatusText --value sparkpilot-agent)"

# The daily backup's service, as the timer starts it: spctl as the
# scheduler's own user (admin although roles are set), under its sandbox.
in_ct systemctl start sparkpilot-backup.service ||
	fail "the backup service failed: $(in_ct journalctl -u sparkpilot-backup --no-pager | tail -5)"
in_ct spctl backup list | grep -q . || fail "no backup listed after the backup service"
n=$(in_ct spctl --json backup list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
[ "$n" = 1 ] || fail "$n backups after the backup service, not 1"
in_ct systemctl enable --now sparkpilot-backup.timer >/dev/null 2>&1 ||
	fail "the backup timer cannot be enabled"
in_ct systemctl list-timers --no-pager | grep -q sparkpilot-backup.timer ||
	fail "the backup timer is not scheduled"
echo "systemd-container: the backup service took backup 1 as the scheduler's user"

# The watchdog: a scheduler that stops (SIGSTOP: its core thread pings no
# more) is restarted by systemd after WatchdogSec, its runs kept.
pid=$(in_ct systemctl show -p MainPID --value sparkpilot-scheduler)
in_ct sh -c "kill -STOP $pid" || fail "cannot stop the scheduler"
restarted() {
	[ "$(in_ct systemctl show -p NRestarts --value sparkpilot-scheduler)" = 1 ] &&
		[ "$(in_ct systemctl show -p ActiveState --value sparkpilot-scheduler)" = active ]
}
wait_for 90 restarted || fail "the watchdog did not restart the stopped scheduler"
in_ct journalctl -u sparkpilot-scheduler --no-pager | grep -q "Watchdog timeout" ||
	fail "no watchdog timeout in the journal"
run_is "$r" succeeded || fail "run $r lost across the restart"
r2=$(in_ct spctl run start acme/prod/pi) || fail "run start after the restart"
wait_for 90 run_is "$r2" succeeded || fail "run $r2 after the restart did not succeed"
echo "systemd-container: the watchdog restarted the stopped scheduler; run $r kept, run $r2 succeeded"
echo "systemd-container: ok"
