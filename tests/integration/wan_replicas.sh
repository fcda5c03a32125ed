#!/usr/bin/env bash
# A task stages from the replica placement costed, not the first by name (issue 9,
# item 7; docs/protocol.md, task.start): dataset shared/x has replicas at site a
# (behind an 8 Mbit/s link to b, and first in the catalog's order) and at site c
# (400 Mbit/s to b).  A task pinned to b reads it: its input crosses the fast link,
# as the serving sites' audit lines (c serves it, a never does), the worker's
# fetch.done line and the links' tbf counters (a->b carries nothing of it) show.
# Then the same with the links the other way round (c slow, a fast): a serves it.
# Skips (exit 77) only where network namespaces cannot be made.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/wan.sh
. "$(dirname "$0")/lib/wan.sh"
wan_need
D=$FED_DIR
BYTES=$((2 << 20))

for s in a c; do
    mkdir -p "$D/sites/$s/data"
    py - "$D/sites/$s/data/rep.h5" <<'PY' || fail "cannot write the test dataset"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f["x"] = np.arange(1 << 18, dtype="float64")          # 2 MiB
PY
done
# run LINK_AB LINK_BC TAG: a federation whose a-b and b-c links are as given;
# publish shared/x at a and c; a task at b reads it.  Prints the serving site.
run() {
    local ab=$1 cb=$2 tag=$3 job s0 s1
    cat >"$D/fed-$tag.yaml" <<EOF
name: wan-replicas
heartbeat: {interval: 1s, timeout: 10s}
sites: [a, b, c]
links:
  default: {bandwidth: 400Mbit/s, latency: 5ms}
  pairs:
    - {between: [a, b], bandwidth: $ab, latency: 20ms}
    - {between: [c, b], bandwidth: $cb, latency: 20ms}
EOF
    wan_up "$D/fed-$tag.yaml"
    wait_all_up 20 a b c
    expect_code 0 fedsched publish a rep.h5 --name shared/x
    expect_code 0 fedsched publish c rep.h5 --name shared/x
    expect_code 0 fedsched catalog shared/x --json
    py -c 'import json, sys; c = json.loads(sys.argv[1]); assert [r["site"] for r in c[0]["replicas"]] == ["a", "c"], c' "$OUT" ||
        fail "shared/x should have replicas a, c (in that order): $OUT"
    cat >"$D/job-$tag.yaml" <<EOF
version: 1
name: replicas-$tag
tasks:
  - name: read
    command: [sh, -c, "cp {in.x.file} $D/got-$tag.h5"]
    walltime: 60s
    site: b
    inputs: {x: shared/x}
EOF
    s0=$(wan_sent a b)
    s1=$(wan_sent c b)
    expect_code 0 fedsched submit "$D/job-$tag.yaml"
    job=$OUT
    expect_code 0 fedsched wait "$job" --timeout 60
    SENT_AB=$(($(wan_sent a b) - s0))
    SENT_CB=$(($(wan_sent c b) - s1))
    py - "$D/got-$tag.h5" <<'PY' || fail "the staged input is not exact"
import sys, h5py, numpy as np
v = h5py.File(sys.argv[1], "r")["data"][()]
assert np.array_equal(v, np.arange(1 << 18, dtype="float64")), v
PY
    FROM=$(fetch_done b "$job" | py -c 'import json, sys; d = json.load(sys.stdin); print(d[0]["from"] if len(d) == 1 else "?")')
    AUDIT_A=$(grep -c 'event=audit op=get reader=b dataset=shared/x ' "$D/sites/a/worker.log")
    AUDIT_C=$(grep -c 'event=audit op=get reader=b dataset=shared/x ' "$D/sites/c/worker.log")
    log "$tag: a-b $ab, c-b $cb: fetched from $FROM; audit lines a=$AUDIT_A c=$AUDIT_C; bytes sent a->b $SENT_AB, c->b $SENT_CB"
    "$FEDSCHED_LOCAL" down --dir "$D" >/dev/null 2>&1 || fail "down failed"
}

run 8Mbit/s 400Mbit/s fast-c
[ "$FROM" = c ] || fail "the task at b fetched shared/x from '$FROM', not from c over the fast link"
[ "$AUDIT_C" = 1 ] && [ "$AUDIT_A" = 0 ] || fail "audit lines: a $AUDIT_A, c $AUDIT_C (expected c 1, a 0)"
[ "$SENT_CB" -ge "$BYTES" ] || fail "c->b sent $SENT_CB bytes, less than the input's $BYTES"
[ "$SENT_AB" -lt $((BYTES / 10)) ] || fail "a->b sent $SENT_AB bytes while the input came from c"

# The other way round: the cheaper replica is the one named first.  A fresh
# federation in the same directory: no catalog, measured links or cached inputs
# from the first run.
for s in a b c; do
    mv "$D/sites/$s/worker.log" "$D/$s-1.log"
    rm -rf "$D/sites/$s/state"
done
rm -f "$D"/scheduler.db*
run 400Mbit/s 8Mbit/s fast-a
[ "$FROM" = a ] || fail "the task at b fetched shared/x from '$FROM', not from a over the fast link"
[ "$AUDIT_A" = 1 ] && [ "$AUDIT_C" = 0 ] || fail "audit lines: a $AUDIT_A, c $AUDIT_C (expected a 1, c 0)"
[ "$SENT_AB" -ge "$BYTES" ] || fail "a->b sent $SENT_AB bytes, less than the input's $BYTES"
[ "$SENT_CB" -lt $((BYTES / 10)) ] || fail "c->b sent $SENT_CB bytes while the input came from a"
