#!/bin/bash
# The alert rules and the dashboard shipped in deploy/: the rules pass
# promtool's check and their unit tests (promtool test rules), and the
# dashboard is a provisionable Grafana dashboard whose every panel has a
# query. (t1700 runs the rules and the panels' queries in a real
# Prometheus scraping a real scheduler.)
. "$(dirname "$0")/lib.sh"

D=$ROOT/deploy
promtool check rules "$D/prometheus/sparkpilot-rules.yml" >"$T/check.out" 2>&1 ||
	fail "promtool check rules: $(cat "$T/check.out")"
n=$(grep -c '^ *- alert: ' "$D/prometheus/sparkpilot-rules.yml")
grep -q "SUCCESS: $n rules found" "$T/check.out" || fail "promtool check rules: $(cat "$T/check.out")"
(cd "$D/prometheus" && promtool test rules sparkpilot-rules.test.yml) >"$T/test.out" 2>&1 ||
	fail "promtool test rules: $(cat "$T/test.out")"

# every alert has a unit test
for a in $(sed -n 's/^ *- alert: //p' "$D/prometheus/sparkpilot-rules.yml"); do
	grep -q "alertname: $a\$" "$D/prometheus/sparkpilot-rules.test.yml" ||
		fail "alert $a has no unit test"
done

# A threshold changed the wrong way is caught by the unit tests.
sed 's/sparkpilot_agent_last_seen_seconds > 120/sparkpilot_agent_last_seen_seconds > 1200/' \
	"$D/prometheus/sparkpilot-rules.yml" >"$T/sparkpilot-rules.yml"
cp "$D/prometheus/sparkpilot-rules.test.yml" "$T/"
if (cd "$T" && promtool test rules sparkpilot-rules.test.yml) >/dev/null 2>&1; then
	fail "the rules' unit tests did not notice a changed threshold"
fi

python3 - "$D/grafana/sparkpilot.json" <<'PY' || fail "the dashboard is not right"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["uid"] == "sparkpilot" and d["title"], "uid and title"
panels = [p for p in d["panels"] if p["type"] != "row"]
assert len(panels) >= 15, "too few panels"
for p in panels:
    assert p.get("targets"), "panel %r has no query" % p["title"]
    for t in p["targets"]:
        assert t["expr"].strip(), "panel %r: empty query" % p["title"]
names = {v["name"] for v in d["templating"]["list"]}
assert {"datasource", "tenant"} <= names, "variables"
titles = [p["title"] for p in panels]
assert len(titles) == len(set(titles)), "two panels with one title"
PY
echo "alerts and dashboard: ok"
