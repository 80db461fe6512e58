#!/bin/bash
# serial-instr.sh: what one serial `run start` costs the scheduler's core
# thread, in instructions, counted by valgrind's callgrind. Unlike the
# rates of vs-beanstalkd.sh these counts do not move with the VM's noise,
# so a change to the request path shows up even when it is a few percent.
#
# Starts a scheduler under callgrind on a temporary store (the settings of
# vs-beanstalkd.sh), warms it up with one second of starts, zeroes the
# counters, runs one client sending `run start bench/prod/pi` and waiting
# for each reply for SECONDS, and prints the instructions per start of
# the core thread and of each part of its turn: before the sync (the part
# that decides a serial client's rate) and after the replies.
#
#   bench/serial-instr.sh [--seconds S] [--scheduler PATH]
#
# --scheduler counts another build (a before/after comparison). Needs
# valgrind (installed from Debian if missing); the scheduler runs about 50
# times slower under it, so S seconds give a few thousand starts.
set -euo pipefail
SECS=5
SCHED=
usage() {
	echo "usage: $0 [--seconds S] [--scheduler PATH]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case $1 in
	--seconds) SECS=$2 ;;
	--scheduler) SCHED=$2 ;;
	*) usage ;;
	esac
	shift 2
done
. "$(dirname "$0")/lib.sh"
bench_need valgrind valgrind
bench_need callgrind_annotate valgrind
bench_setup serialinstr sparkpilot-scheduler spctl sp-bench-serial
PID=
bench_on_exit PID

cat >"$D/sched.conf" <<CONF
log_completions = 0
max_queued_total = 0
CONF
# valgrind runs the scheduler in its own process: PID is the scheduler's
cat >"$D/under-callgrind" <<SH
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file="$D/cg.out" \
	"${SCHED:-$BIN/sparkpilot-scheduler}" "\$@"
SH
chmod +x "$D/under-callgrind"
SCHEDULER=$D/under-callgrind bench_start_scheduler
spctl() { "$BIN/spctl" --socket "$SOCK" "$@" >/dev/null; }
spctl tenant add bench
spctl env add bench/prod
spctl job add bench/prod/pi -- --master yarn app.jar

"$BIN/sp-bench-serial" sp "$SOCK" bench/prod/pi 1 1 >/dev/null
callgrind_control -z "$PID" >/dev/null 2>&1
out=$("$BIN/sp-bench-serial" sp "$SOCK" bench/prod/pi 1 "$SECS")
callgrind_control -d "$PID" >/dev/null 2>&1
n=$(sed -n 's/^[^:]*: \([0-9]*\) acknowledged.*/\1/p' <<<"$out")
echo "$n starts, one client, each waiting for its reply (under callgrind)"
callgrind_annotate --inclusive=yes --threshold=100 "$D/cg.out.1" \
	>"$D/annotated" 2>/dev/null
python3 - "$n" "$D/annotated" <<'PY'
import re, sys
n = int(sys.argv[1])
ir = {}
for line in open(sys.argv[2]):
    m = re.match(r"\s*([\d,]+) \([^)]*\)\s+\S*:(\w+) \[", line)
    if m and m.group(2) not in ir:
        ir[m.group(2)] = int(m.group(1).replace(",", ""))
def per(f):
    return ir.get(f, 0) / n
rows = [
    ("the core thread, all of it", per("core_main")),
    ("before the sync: waiting for, reading and splitting the request",
     per("poll_io")),
    ("before the sync: the command (parse, role, start, audit record,"
     " reply, log line)", per("admin_cmds_exec")),
    ("before the sync: the turn's records (the run)", per("take_changes")),
    ("before the sync: the log record and its write", per("diskguard_commit")),
    ("after the sync: the replies", per("io_flush")),
    ("after the replies: the audit hash", per("audit_settle")),
    ("after the replies: the memtable apply", per("diskguard_apply")),
]
pre = sum(v for k, v in rows if k.startswith("before"))
for k, v in rows:
    print(f"  {v:9,.0f}  {k}")
print(f"  {pre:9,.0f}  before the sync, in all")
PY
