#!/bin/sh
# Replays every fuzz corpus and every past crash input once through its
# target's entry point under ASan+UBSan (the replay_NAME binaries that
# `make fuzz-replay` builds with replay_main.c). Used by `make check`.
#   tests/fuzz/replay.sh BINDIR NAME...
# Prints one line per target and "fuzz-replay: N passed, N failed".
set -u
bindir=$1
shift
here=$(dirname "$0")
LSAN_OPTIONS="suppressions=$here/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
pass=0
fail=0
for name in "$@"; do
	dirs="$here/corpus/$name"
	if [ ! -d "$dirs" ]; then
		echo "FAILED: $name: no corpus in $dirs" >&2
		fail=$((fail + 1))
		continue
	fi
	[ -d "$here/crashes/$name" ] && dirs="$dirs $here/crashes/$name"
	# shellcheck disable=SC2086
	if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1 \
		"$bindir/replay_$name" $dirs; then
		pass=$((pass + 1))
	else
		echo "FAILED: replay_$name $dirs" >&2
		echo "  (SP_FUZZ_VERBOSE=1 names each input as it runs)" >&2
		fail=$((fail + 1))
	fi
done
echo "fuzz-replay: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
