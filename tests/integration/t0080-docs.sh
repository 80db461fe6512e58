#!/bin/bash
# Documentation made from the code's tables is current: the committed
# docs/configuration.md is what bin/sp-docgen prints now (`make docs`
# rewrites it), and the generated man page formats without a warning.
. "$(dirname "$0")/lib.sh"

"$BIN/sp-docgen" config-md >"$T/configuration.md" || fail "sp-docgen config-md failed"
diff -u "$ROOT/docs/configuration.md" "$T/configuration.md" >"$T/diff" ||
	fail "docs/configuration.md is stale, run 'make docs':
$(head -20 "$T/diff")"

"$BIN/sp-docgen" config-man >"$T/sparkpilot.conf.5" || fail "sp-docgen config-man failed"
groff -man -ww -z "$T/sparkpilot.conf.5" 2>"$T/groff.err" || fail "groff failed"
[ ! -s "$T/groff.err" ] || fail "sparkpilot.conf(5): $(head -5 "$T/groff.err")"
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
