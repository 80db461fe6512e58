#!/bin/bash
# Documentation made from the code's tables is current: the committed
# docs/configuration.md and docs/compatibility.md are what bin/sp-docgen
# prints now (`make docs` rewrites them), and the generated man page
# formats without a warning.
. "$(dirname "$0")/lib.sh"

"$BIN/sp-docgen" config-md >"$T/configuration.md" || fail "sp-docgen config-md failed"
diff -u "$ROOT/docs/configuration.md" "$T/configuration.md" >"$T/diff" ||
	fail "docs/configuration.md is stale, run 'make docs':
$(head -20 "$T/diff")"
# the Spark compatibility matrix, from the parser's results now
"$BIN/sp-docgen" compat-md "$ROOT/tests/data/spark-matrix" >"$T/compatibility.md" ||
	fail "sp-docgen compat-md failed"
diff -u "$ROOT/docs/compatibility.md" "$T/compatibility.md" >"$T/diff" ||
	fail "docs/compatibility.md is stale, run 'make docs':
$(head -20 "$T/diff")"

"$BIN/sp-docgen" config-man >"$T/sparkpilot.conf.5" || fail "sp-docgen config-man failed"
groff -man -ww -z "$T/sparkpilot.conf.5" 2>"$T/groff.err" || fail "groff failed"
[ ! -s "$T/groff.err" ] || fail "sparkpilot.conf(5): $(head -5 "$T/groff.err")"
for page in spctl-man scheduler-man agent-man; do
	"$BIN/sp-docgen" "$page" >"$T/$page" || fail "sp-docgen $page failed"
	groff -man -ww -z "$T/$page" 2>"$T/groff.err" || fail "groff failed"
	[ ! -s "$T/groff.err" ] || fail "$page: $(head -5 "$T/groff.err")"
done
grep -q '^\\fB\\-\\-data\\-dir\\fR' "$T/scheduler-man" || fail "scheduler(8): no --data-dir"
grep -q '^\\fB\\-\\-enroll\\-token\\-file\\fR' "$T/agent-man" || fail "agent(8): no --enroll-token-file"

# spctl's completion, run as bash would: comp WORD... completes the last
"$BIN/sp-docgen" spctl-completion >"$T/spctl.bash" || fail "sp-docgen spctl-completion failed"
bash -n "$T/spctl.bash" || fail "the completion script is not valid bash"
comp() {
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_spctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$T/spctl.bash" spctl "$@" |
		sort | tr '\n' ' '
}
[ "$(comp te)" = "tenant " ] || fail "completion of 'te': $(comp te)"
[ "$(comp tenant '')" = "add delete events list resume set show suspend " ] ||
	fail "completion of 'tenant ': $(comp tenant '')"
[ "$(comp --socket /x --json run st)" = "start " ] ||
	fail "completion after spctl's options: $(comp --socket /x --json run st)"
[ "$(comp tenant add acme --we)" = "--weight " ] || fail "flag completion: $(comp tenant add acme --we)"
[ "$(comp usage acme --f)" = "--format --from " ] || fail "a one-word command's flags: $(comp usage acme --f)"
[ "$(comp job add a/b/c -- --cl)" = " " ] || fail "completed spark-submit's arguments: $(comp job add a/b/c -- --cl)"
# every command spctl --help names (a list kept apart from the table) completes
"$BIN/spctl" --help | sed -n 's/^  \([a-z][a-z]*\)\( [a-z][a-z]*\)\{0,1\}\( .*\)\{0,1\}$/\1\2/p' >"$T/cmds"
[ "$(wc -l <"$T/cmds")" -gt 20 ] || fail "spctl --help lists too few commands"
nouns=" $(comp '') "
while read -r noun verb; do
	case $nouns in *" $noun "*) ;; *) fail "'$noun' does not complete: $nouns" ;; esac
	[ -n "$verb" ] || continue
	case " $(comp "$noun" '') " in
	*" $verb "*) ;;
	*) fail "'$noun $verb' does not complete: $(comp "$noun" '')" ;;
	esac
done <"$T/cmds"

# every key of both daemons is in both documents
for d in scheduler agent; do
	for key in $("$BIN/sparkpilot-$d" --print-config |
		sed -n 's/^\(# \)\{0,1\}\([a-z_]*\) = .*/\2/p'); do
		grep -q "^| \`$key\` |" "$T/configuration.md" ||
			fail "$key: not in docs/configuration.md"
		grep -qx ".B $key" "$T/sparkpilot.conf.5" ||
			fail "$key: not in sparkpilot.conf(5)"
	done
done
# unknown documents are refused
if "$BIN/sp-docgen" nonsense >/dev/null 2>"$T/err"; then
	fail "sp-docgen took an unknown document"
fi
grep -qx "sp-docgen: unknown document 'nonsense'" "$T/err" || fail "sp-docgen: $(cat "$T/err")"
echo "docs: ok"
