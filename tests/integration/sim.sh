#!/usr/bin/env bash
# `fedsched sim`, the federation simulator (docs/sim.md): no daemons, only the
# command and the scenario files in cluster/sim/.
#  - seven-centres.yaml: exit 0, all four strategies in the table, fedsched moves
#    fewer WAN bytes than centralised (and than random and greedy), every task done;
#    --json parses and says the same; two runs are identical (deterministic);
#    --placements shows where each task ran; --strategy picks strategies
#  - bad scenarios exit 2 with FILE:LINE:COL; a missing file exits 1; usage errors 2
#  - federation-200.yaml (200 sites, generated) with 20,000 tasks runs every task
#    under every strategy, within a generous time limit
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
fed_dir
cd "$REPO_ROOT"
SEVEN=cluster/sim/seven-centres.yaml
BIG=cluster/sim/federation-200.yaml

log "fedsched sim $SEVEN"
expect_code 0 fedsched sim "$SEVEN"
table=$OUT
echo "$table"
for s in fedsched centralised random greedy; do
    echo "$table" | grep -q "^$s " || fail "strategy $s missing from the table"
done
echo "$table" | grep -q "copied .* whole to met" || fail "no centralised copy line"

log "--json"
expect_code 0 fedsched sim "$SEVEN" --json
echo "$OUT" >"$FED_DIR/seven.json"
py - "$FED_DIR/seven.json" <<'EOF' || fail "the JSON document is not as expected"
import json, sys
doc = json.load(open(sys.argv[1]))
sc = doc["scenario"]
assert sc["name"] == "seven-centres" and sc["sites"] == 7, sc
assert sc["tasks"] >= 20, sc
res = {r["strategy"]: r for r in doc["results"]}
assert list(res) == ["fedsched", "centralised", "random", "greedy"], list(res)
for r in res.values():
    assert r["tasks_done"] == sc["tasks"], r
    assert r["makespan_s"] > 0, r
f = res["fedsched"]
for other in ("centralised", "random", "greedy"):
    assert f["wan_bytes"] < res[other]["wan_bytes"], (other, f["wan_bytes"], res[other]["wan_bytes"])
assert f["makespan_s"] < res["centralised"]["makespan_s"], res
assert res["centralised"]["central_site"] == "met", res["centralised"]
assert res["centralised"]["copy_bytes"] == res["centralised"]["wan_bytes"]
assert f["decisions"] == sc["tasks"] and f["decisions_per_s"] > 0, f
print("fedsched: %.0f s, %.3g bytes; centralised: %.0f s, %.3g bytes"
      % (f["makespan_s"], f["wan_bytes"], res["centralised"]["makespan_s"],
         res["centralised"]["wan_bytes"]))
EOF

log "deterministic: a second run gives the same figures"
expect_code 0 fedsched sim "$SEVEN" --json
echo "$OUT" >"$FED_DIR/seven2.json"
py - "$FED_DIR/seven.json" "$FED_DIR/seven2.json" <<'EOF' || fail "two runs differ"
import json, sys
keys = ("strategy", "makespan_s", "wan_bytes", "transfers", "tasks_done")
a, b = (json.load(open(p))["results"] for p in sys.argv[1:3])
assert [[r[k] for k in keys] for r in a] == [[r[k] for k in keys] for r in b], (a, b)
EOF

log "--placements, --strategy"
expect_code 0 fedsched sim "$SEVEN" --placements --strategy fedsched,greedy
echo "$OUT" | grep -Eq '^evacuation-demand +pop +pop' \
    || fail "evacuation-demand (policy none at pop) not at pop: $OUT"
echo "$OUT" | grep -q '^random ' && fail "--strategy fedsched,greedy ran random"
expect_error 2 fedsched sim "$SEVEN" --strategy fastest
expect_error 2 fedsched sim
expect_code 0 fedsched sim --help
echo "$OUT" | grep -q centralised || fail "--help does not describe the strategies"

log "bad scenarios: exit 2 with FILE:LINE:COL"
bad=$FED_DIR/bad.yaml
cat >"$bad" <<'EOF'
sites: [{name: a, cores: 4}]
datasets: [{name: d, site: a, bytes: 1GB}]
tasks:
  - {name: t, runtime: 1s, inputs: [d, nowhere]}
EOF
expect_error 2 fedsched sim "$bad"
echo "$ERR" | grep -q "$bad:4:[0-9]*: .*unknown dataset 'nowhere'" || fail "no FILE:LINE:COL: $ERR"
printf 'sites: [{name: a, cores: 4}]\ntasks: [{name: t, runtime: soon}]\n' >"$bad"
expect_error 2 fedsched sim "$bad"
echo "$ERR" | grep -q "$bad:2:[0-9]*:" || fail "no FILE:LINE:COL: $ERR"
printf 'sites: [{name: a, cores: 4}\n' >"$bad"
expect_error 2 fedsched sim "$bad"
echo "$ERR" | grep -q "$bad:[0-9]*:[0-9]*:" || fail "no FILE:LINE:COL for a YAML syntax error: $ERR"
expect_error 2 fedsched sim "$SEVEN" --tasks 10     # resizing is for generated scenarios
expect_error 1 fedsched sim "$FED_DIR/missing.yaml"

log "200 sites, 20,000 tasks (generated)"
start=$(date +%s.%N)
expect_code 0 fedsched sim "$BIG" --tasks 20000 --datasets 80000 --json
end=$(date +%s.%N)
echo "$OUT" >"$FED_DIR/big.json"
py - "$FED_DIR/big.json" "$start" "$end" <<'EOF' || fail "the 200-site run is not as expected"
import json, sys
doc = json.load(open(sys.argv[1]))
sc = doc["scenario"]
assert sc["sites"] == 200 and sc["tasks"] == 20000 and sc["generated"], sc
res = {r["strategy"]: r for r in doc["results"]}
for r in res.values():
    assert r["tasks_done"] + r["tasks_unplaceable"] <= 20000, r
    assert r["tasks_done"] >= 19000, r
    print("%-12s makespan %9.0f s  WAN %.3g bytes  sim %.2f s"
          % (r["strategy"], r["makespan_s"], r["wan_bytes"], r["wall_s"]))
assert res["fedsched"]["wan_bytes"] < res["centralised"]["wan_bytes"]
took = float(sys.argv[3]) - float(sys.argv[2])
print("all four strategies: %.1f s" % took)
assert took < 120, took        # sanitizer builds are slow; the bench has the real figure
EOF
