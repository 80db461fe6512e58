#!/bin/bash
# make install: the tree under DESTDIR with PREFIX=/usr (binaries, units
# with the install's paths, the daily backup's service and timer, config
# samples that read back to the defaults, a config file kept when present,
# sysusers/tmpfiles snippets, docs); and units and the timer that
# systemd-analyze verify accepts, from an install whose paths exist on
# this machine.
. "$(dirname "$0")/lib.sh"

install_to() {
	make -C "$ROOT" --no-print-directory install "$@" >"$T/install.log" 2>&1 ||
		fail "make install $*: $(tail -5 "$T/install.log")"
}

R=$T/root
install_to DESTDIR="$R" PREFIX=/usr
for f in usr/bin/sparkpilot-scheduler usr/bin/sparkpilot-agent \
	usr/bin/sparkpilot-agent-static usr/bin/spctl \
	usr/bin/sparkpilot-audit-verify; do
	[ -x "$R/$f" ] || fail "$f not installed executable"
done
for f in usr/lib/systemd/system/sparkpilot-scheduler.service \
	usr/lib/systemd/system/sparkpilot-agent.service \
	usr/lib/systemd/system/sparkpilot-backup.service \
	usr/lib/systemd/system/sparkpilot-backup.timer \
	usr/lib/sysusers.d/sparkpilot.conf usr/lib/tmpfiles.d/sparkpilot.conf \
	etc/sparkpilot/scheduler.conf.sample etc/sparkpilot/agent.conf.sample \
	etc/sparkpilot/scheduler.conf etc/sparkpilot/agent.conf \
	usr/share/doc/sparkpilot/README.md \
	usr/share/doc/sparkpilot/operator-guide.md \
	usr/share/doc/sparkpilot/configuration.md \
	usr/share/man/man5/sparkpilot.conf.5 usr/share/man/man1/spctl.1 \
	usr/share/man/man8/sparkpilot-scheduler.8 \
	usr/share/man/man8/sparkpilot-agent.8 \
	usr/share/bash-completion/completions/spctl; do
	[ -f "$R/$f" ] || fail "$f not installed"
	[ "$(stat -c %a "$R/$f")" = 644 ] || fail "$f: mode $(stat -c %a "$R/$f")"
done
U=$R/usr/lib/systemd/system
! grep -n '@[A-Z]*@' "$U"/*.service "$U"/*.timer ||
	fail "a placeholder left in a unit"
grep -qx 'ExecStart=/usr/bin/sparkpilot-scheduler --config /etc/sparkpilot/scheduler.conf' \
	"$U/sparkpilot-scheduler.service" || fail "scheduler unit: ExecStart"
grep -q '^ExecStart=/usr/bin/sparkpilot-agent --config /etc/sparkpilot/agent.conf' \
	"$U/sparkpilot-agent.service" || fail "agent unit: ExecStart"
# the daily backup: spctl as the scheduler's user (the admin socket's
# group), create then prune, started by a persistent daily timer
B=$U/sparkpilot-backup.service
[ "$(sed -n 's/^ExecStart=//p' "$B")" = "/usr/bin/spctl backup create
/usr/bin/spctl backup prune --keep 7" ] || fail "backup unit: ExecStart: $(grep ExecStart "$B")"
grep -qx 'Type=oneshot' "$B" || fail "backup unit: not a oneshot"
grep -qx 'User=sparkpilot' "$B" || fail "backup unit: not the scheduler's user"
grep -qx 'After=sparkpilot-scheduler.service' "$B" || fail "backup unit: not ordered after the scheduler"
for want in 'OnCalendar=daily' 'Persistent=true' 'RandomizedDelaySec=1h' \
	'Unit=sparkpilot-backup.service' 'WantedBy=timers.target'; do
	grep -qx "$want" "$U/sparkpilot-backup.timer" || fail "backup timer: no $want"
done
[ -f "$U/$(sed -n 's/^Unit=//p' "$U/sparkpilot-backup.timer")" ] ||
	fail "backup timer: its Unit= is not installed"
grep -q '^d /var/backups/sparkpilot 0700 sparkpilot sparkpilot' \
	"$R/usr/lib/tmpfiles.d/sparkpilot.conf" || fail "tmpfiles: no backup dir"
grep -qx 'ReadWritePaths=-/var/backups/sparkpilot' "$U/sparkpilot-scheduler.service" ||
	fail "scheduler unit: the backup dir is not writable"
for u in "$U"/*.service; do
	doc=$(sed -n 's|^Documentation=file:||p' "$u")
	[ -f "$R$doc" ] || fail "$(basename "$u"): Documentation $doc not installed"
done
grep -q '^u sparkpilot ' "$R/usr/lib/sysusers.d/sparkpilot.conf" ||
	fail "sysusers: no sparkpilot user"

# The samples are the defaults, and read back to them.
for d in scheduler agent; do
	got=$("$R/usr/bin/sparkpilot-$d" --config "$R/etc/sparkpilot/$d.conf.sample" \
		--print-config) || fail "$d: the sample does not load"
	[ "$got" = "$("$R/usr/bin/sparkpilot-$d" --print-config)" ] ||
		fail "$d: the sample is not the defaults"
	[ "$got" = "$(grep -v '^# sparkpilot-\|^# Every key' "$R/etc/sparkpilot/$d.conf.sample")" ] ||
		fail "$d: the sample is not what --print-config writes"
done

# An operator's config is kept; its sample is refreshed.
echo 'log_level = debug' >"$R/etc/sparkpilot/scheduler.conf"
rm "$R/etc/sparkpilot/scheduler.conf.sample"
install_to DESTDIR="$R" PREFIX=/usr
[ "$(cat "$R/etc/sparkpilot/scheduler.conf")" = 'log_level = debug' ] ||
	fail "make install overwrote the config file"
[ -f "$R/etc/sparkpilot/scheduler.conf.sample" ] || fail "sample not refreshed"

# Units whose paths exist here: systemd-analyze verify accepts them.
if ! command -v systemd-analyze >/dev/null; then
	echo "install: ok; verify SKIPPED: no systemd-analyze on this machine"
	exit 0
fi
P=$T/p
install_to PREFIX="$P/usr" SYSCONFDIR="$P/etc"
systemd-analyze verify "$P"/usr/lib/systemd/system/*.service \
	"$P"/usr/lib/systemd/system/*.timer \
	>"$T/verify.log" 2>&1 || fail "systemd-analyze verify: $(cat "$T/verify.log")"
# the sandboxing: systemd-analyze security's exposure at most 2.0 for the
# scheduler, 2.5 for the agent (which runs spark-submit), 1.0 for the
# backup (spctl: one Unix socket)
exposure() {
	(cd "$P/usr/lib/systemd/system" &&
		systemd-analyze security --offline=yes "$1" 2>/dev/null) |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p'
}
s=$(exposure sparkpilot-scheduler.service)
a=$(exposure sparkpilot-agent.service)
b=$(exposure sparkpilot-backup.service)
python3 -c 'import sys; s, a, b = map(float, sys.argv[1:]); sys.exit(0 if s <= 2.0 and a <= 2.5 and b <= 1.0 else 1)' \
	"${s:-99}" "${a:-99}" "${b:-99}" ||
	fail "exposure: scheduler ${s:-?} (at most 2.0), agent ${a:-?} (at most 2.5), backup ${b:-?} (at most 1.0)"
# verify reads the timer (one with a bad calendar is refused; 252 does not
# check that its Unit= exists: done above)
sed 's/^OnCalendar=daily$/OnCalendar=dayly/' "$P/usr/lib/systemd/system/sparkpilot-backup.timer" \
	>"$T/bad.timer"
! systemd-analyze verify "$T/bad.timer" >/dev/null 2>&1 ||
	fail "systemd-analyze verify passed a timer with a bad OnCalendar"
# and it would refuse a unit whose binary is missing
rm "$P/usr/bin/sparkpilot-scheduler"
! systemd-analyze verify "$P/usr/lib/systemd/system/sparkpilot-scheduler.service" \
	>/dev/null 2>&1 || fail "systemd-analyze verify passed a unit without its binary"
echo "install: ok"
