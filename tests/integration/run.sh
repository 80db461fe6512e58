#!/bin/bash
# Runs every tests/integration/tNNNN-*.sh (or those given) and prints
# "integration: N passed, N failed".
cd "$(dirname "$0")"
pass=0
fail=0
failed=()
scripts=("$@")
[ ${#scripts[@]} -eq 0 ] && scripts=(t[0-9][0-9][0-9][0-9]-*.sh)
for t in "${scripts[@]}"; do
	start=$(date +%s)
	if bash "$t" >"/tmp/sp-it-$$.out" 2>&1; then
		pass=$((pass + 1))
		echo "ok   $t ($(($(date +%s) - start)) s)"
	else
		fail=$((fail + 1))
		failed+=("$t")
		echo "FAIL $t ($(($(date +%s) - start)) s)"
		sed 's/^/    /' "/tmp/sp-it-$$.out"
	fi
	rm -f "/tmp/sp-it-$$.out"
done
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
