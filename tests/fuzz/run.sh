#!/bin/sh
# Runs libFuzzer targets one after another (`make fuzz`; docs/fuzzing.md).
#   tests/fuzz/run.sh --seconds N --bin DIR --work DIR NAME...
# Each target DIR/fuzz_NAME starts from its committed seeds
# (tests/fuzz/corpus/NAME, read only) and the inputs earlier runs found
# (WORK/corpus/NAME, where new ones are written), for N seconds. A crash
# input is written to WORK/crashes/NAME/ and the target's log kept in
# WORK/logs/NAME.log. Prints one line per target, then a summary; exits
# non-zero if any target crashed.
set -u
seconds=60
bin=build-fuzz/fuzz
work=build-fuzz
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "run.sh: unknown option '$1'" >&2; exit 2 ;;
	*) break ;;
	esac
done
here=$(dirname "$0")
LSAN_OPTIONS="suppressions=$here/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS

# The largest input worth trying, per target: room for a few records or
# lines, small enough to keep each run fast.
max_len() {
	case $1 in
	admin) echo 2048 ;;
	run_codec) echo 1024 ;;
	# a zone byte, an instant and an expression of at most 128 bytes
	cron) echo 512 ;;
	json | sched_config | agent_config | redact | sparkrest | backup_meta) echo 4096 ;;
	*) echo 8192 ;;
	esac
}

ntargets=$#
crashed=0
for name in "$@"; do
	exe="$bin/fuzz_$name"
	seeds="$here/corpus/$name"
	corpus="$work/corpus/$name"
	crashes="$work/crashes/$name"
	log="$work/logs/$name.log"
	mkdir -p "$corpus" "$crashes" "$work/logs"
	set -- -max_total_time="$seconds" -max_len="$(max_len "$name")" \
		-timeout=10 -print_final_stats=1 -artifact_prefix="$crashes/"
	start=$(date +%s)
	"$exe" "$@" "$corpus" "$seeds" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
		tail -1)
	# the last status line: "#N ... cov: C ft: F corp: N/SIZE ..."
	stats=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
	cov=$(echo "$stats" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$stats" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$stats" | sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
	if [ "$rc" -eq 0 ]; then
		echo "fuzz_$name: ok, ${execs:-?} execs, cov ${cov:-?}," \
			"ft ${ft:-?}, corpus ${corp:-?}, ${took} s"
	else
		crashed=$((crashed + 1))
		input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" |
			tail -1)
		echo "fuzz_$name: CRASH after ${took} s, input ${input:-?}," \
			"log $log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|fuzz: )' \
			"$log" | head -3 | sed 's/^/    /'
	fi
done
echo "fuzz: $ntargets targets, $crashed crashed"
[ "$crashed" -eq 0 ]
