#!/bin/sh
# Runs each cmocka unit test binary given as an argument; prints a summary
# line "N passed, N failed" and fails if any test binary failed.
pass=0
fail=0
for t in "$@"; do
	if "$t"; then
		pass=$((pass + 1))
	else
		echo "FAILED: $t" >&2
		fail=$((fail + 1))
	fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
