#!/bin/bash
# --version on every binary: one line, exit 0, nothing started; the version
# is the checkout's `git describe` the build recorded, and the daemons name
# the formats they speak. spctl's --version is an option of spctl's own,
# never taken from a command's arguments.
. "$(dirname "$0")/lib.sh"

want=unknown
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	want=$(git -C "$ROOT" describe --always --dirty --tags)
fi

# check_version BINARY PATTERN [ARGS...]: BINARY [ARGS...] --version says
# "NAME VERSION..." matching PATTERN, on one line, and exits 0.
check_version() {
	local bin=$1 pattern=$2 out
	shift 2
	out=$("$BIN/$bin" "$@" --version) || fail "$bin --version: exit $?"
	[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] ||
		fail "$bin --version: more than one line: $out"
	[[ "$out" =~ $pattern ]] || fail "$bin --version: '$out' is not '$pattern'"
}

v=${want//./\\.}
check_version sparkpilot-scheduler \
	"^sparkpilot-scheduler $v \(store format [0-9]+, agent protocol [0-9]+\)$"
check_version sparkpilot-agent \
	"^sparkpilot-agent $v \(agent protocol [0-9]+, spool format [0-9]+\)$"
check_version sparkpilot-agent-static \
	"^sparkpilot-agent $v \(agent protocol [0-9]+, spool format [0-9]+\)$"
check_version spctl "^spctl $v$"
# after other flags too, and nothing is started: the data dir stays absent
check_version sparkpilot-scheduler "^sparkpilot-scheduler $v " \
	--data-dir "$T/never"
[ ! -e "$T/never" ] || fail "--version started the scheduler"
check_version sparkpilot-agent "^sparkpilot-agent $v " --state-dir "$T/never"
[ ! -e "$T/never" ] || fail "--version started the agent"

# The same protocol on both sides.
sp=$("$BIN/sparkpilot-scheduler" --version | sed 's/.*agent protocol \([0-9]*\).*/\1/')
ap=$("$BIN/sparkpilot-agent" --version | sed 's/.*agent protocol \([0-9]*\).*/\1/')
[ "$sp" = "$ap" ] || fail "scheduler speaks protocol $sp, agent $ap"

# A command's own '--version' is an argument, not spctl's option.
if out=$("$BIN/spctl" --socket "$T/none.sock" job add acme/prod/j -- app.jar --version 2>&1); then
	fail "spctl job add with no scheduler succeeded: $out"
fi
[[ "$out" == "spctl: error: "* ]] || fail "spctl took --version from a command's arguments: $out"
echo "version: ok ($want)"
