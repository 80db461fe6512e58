#!/bin/bash
# Runs integration scripts with the daemons' wall clock moved to the edges
# of the calendar (SP_FAKE_DATE in lib.sh, through libfaketime), since a
# test must pass on any day:
#   - a month's first seconds: the burn-rate guard projects a whole month
#     from a few seconds of spend;
#   - ten seconds before midnight on December 31: the day, the month and
#     the year change while the test runs;
#   - ten seconds before midnight on February 29, into March 1;
#   - the middle of the shortest month.
# Usage: tests/integration/dates.sh [SCRIPT...]   (default: the scripts
# whose figures depend on the day or the month). SP_DATES="D1;D2" replaces
# the dates. Prints "dates: N passed, N failed".
cd "$(dirname "$0")"
scripts=("$@")
[ ${#scripts[@]} -eq 0 ] && scripts=(t1400-cost.sh)
IFS=';' read -r -a dates <<<"${SP_DATES:-2026-12-01 00:00:05;2026-12-31 23:59:50;2028-02-29 23:59:50;2027-02-14 12:00:00}"
pass=0
fail=0
for d in "${dates[@]}"; do
	echo "== daemons' clock from $d UTC"
	if SP_FAKE_DATE="$d" ./run.sh "${scripts[@]}"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
done
echo "dates: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
