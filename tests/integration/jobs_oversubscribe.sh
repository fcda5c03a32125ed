#!/usr/bin/env bash
# An MPI task with more ranks than the machine has cores (SPEC sections 4-5): the
# sites announce 4 cores each (`fedsched-local --cores 4`, emulating bigger sites on
# a small machine), so a 3-rank task is valid; on a 2-core machine mpirun must then be
# told to oversubscribe.  The task completes, `logs` shows 3 ranks, and its output
# (regrid --factor 1: an exact copy) equals the source slice.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"

jobs_env
fed_up 3 --data demo --cores 4
D=$FED_DIR
NCPU=$(nproc)
log "this machine has $NCPU cores; each site announces 4"

cat >"$D/three.yaml" <<'EOF'
version: 1
name: three-ranks
tasks:
  - name: copy
    command: [regrid, --factor, "1", "{in.t}", "{out.copy}"]
    ranks: 3
    walltime: 1m
    inputs:
      t: site2/demo/climate/temp[0:6]
    outputs:
      copy: {}
EOF
expect_code 0 fedsched validate "$D/three.yaml"
job_submit "$D/three.yaml"
J=$JOB
rc=0
fedsched wait "$J" --timeout 60 >/dev/null 2>"$D/wait.err" || rc=$?
if [ "$rc" != 0 ]; then
    fedsched status "$J" >&2
    echo "[$TEST_NAME] stderr of the task:" >&2
    fedsched logs "$J" copy --stderr 2>&1 | head -n 12 >&2
    fail "a 3-rank task on sites announcing 4 cores ($NCPU on this machine) did not complete: wait exited $rc: $(cat "$D/wait.err")"
fi
job_status "$J"
py -c 'import json,sys; t=json.loads(sys.argv[1])["tasks"][0]; assert t["state"]=="COMPLETED" and t["ranks"]==3 and t["site"]=="site2", t' "$STATUS" ||
    fail "status $J: $STATUS"
expect_code 0 fedsched logs "$J" copy
echo "$OUT" | grep -Eq '^regrid: wrote .* \(shape 6x45x90\) in [0-9.]+ s with 3 ranks$' ||
    fail "logs $J copy: regrid did not run with 3 ranks: $OUT"
expect_code 0 fedsched get "jobs/$J/copy/copy" -o "$D/copy.h5"
py - "$D" <<'PY' || fail "the 3-rank copy differs from the source slice"
import sys, numpy as np, h5py
D = sys.argv[1]
with h5py.File(D + "/sites/site2/data/demo/climate.h5", "r") as h:
    want = h["temp"][0:6].astype(np.float64)
with h5py.File(D + "/copy.h5", "r") as h:
    got = h["copy"][...]
assert got.dtype == np.float64 and np.array_equal(got, want), (got.dtype, got.shape)
PY
log "an oversubscribed 3-rank task completes"
