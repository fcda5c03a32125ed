#!/usr/bin/env bash
# Bad job files against a real 3-site federation with the demo data (SPEC section 4):
# each is refused by `validate` and by `submit` with exit 2 and
# "fedsched: error: FILE:LINE:COL: message" at the line of the mistake, and nothing
# is queued (`jobs --all` is unchanged): an unknown key, a missing command, duplicate
# task names, a dependency cycle, an unknown dataset, an out-of-range index, more
# ranks than any site has cores, an input with policy none (at site3) pinned to
# another site, a pinned reader of an output that inherits policy none, and a
# file of 40 errors (all reported, past the first kilobyte).  A good file still
# goes through afterwards.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"

jobs_env
fed_dir
# A dataset only site3 may read: in site3's data root before start-up, published
# again with --policy none below.
mkdir -p "$(data_root site3)/private"
py - "$(data_root site3)/private/obs.h5" <<'PY'
import sys, numpy as np, h5py
with h5py.File(sys.argv[1], "w") as h:
    h.create_dataset("v", data=np.arange(6 * 45 * 90, dtype=np.float64).reshape(6, 45, 90))
PY
fed_up 3 --data demo
D=$FED_DIR
expect_code 0 fedsched publish site3 private/obs.h5 --policy none
expect_code 0 fedsched catalog site3/private/obs/v --json
py -c 'import json,sys; c=json.loads(sys.argv[1]); assert len(c)==1 and c[0]["policy"]=="none", c' "$OUT" ||
    fail "site3/private/obs/v is not published with policy none: $OUT"

# One job already in the federation, so "unchanged" compares a non-empty list.
cat >"$D/good.yaml" <<'EOF'
version: 1
tasks:
  - name: ok
    command: [sh, -c, "true"]
    walltime: 30s
EOF
job_submit "$D/good.yaml"
job_wait "$JOB" 0
IDS=$(job_ids)

# bad NAME LINE: write $D/NAME.yaml from stdin and check it is refused at LINE.
bad() {
    cat >"$D/$1.yaml"
    refused "$D/$1.yaml" "$2" "$1"
}

log "unknown key"
bad unknown-key 6 <<'EOF'
version: 1
tasks:
  - name: a
    command: [sh, -c, "true"]
    walltime: 30s
    colour: blue
EOF
log "missing command"
bad no-command 3 <<'EOF'
version: 1
tasks:
  - name: a
    ranks: 1
EOF
log "duplicate task names"
bad duplicate 5 <<'EOF'
version: 1
tasks:
  - name: a
    command: [sh, -c, "true"]
  - name: a
    command: [sh, -c, "true"]
EOF
log "dependency cycle"
bad cycle '[0-9]+' <<'EOF'
version: 1
tasks:
  - name: a
    command: [sh, -c, "true"]
    inputs: {x: c.out}
    outputs: {out: {}}
  - name: b
    command: [sh, -c, "true"]
    inputs: {x: a.out}
    outputs: {out: {}}
  - name: c
    command: [sh, -c, "true"]
    after: [b]
    outputs: {out: {}}
EOF
echo "$ERR" | grep -q cycle || fail "dependency cycle: the message does not say cycle: $ERR"
log "unknown dataset"
bad unknown-dataset 6 <<'EOF'
version: 1
tasks:
  - name: a
    command: [sh, -c, "true"]
    inputs:
      x: site1/demo/climate/nope
EOF
log "index out of range"
bad out-of-range 6 <<'EOF'
version: 1
tasks:
  - name: a
    command: [sh, -c, "true"]
    inputs:
      x: "site2/demo/climate/temp[24, :, :]"
EOF
log "ranks above every site's cores"
bad too-many-ranks 5 <<'EOF'
version: 1
tasks:
  - name: a
    command: [sh, -c, "true"]
    ranks: 100000
EOF
log "an input with policy none pinned to another site"
bad none-pinned '(3|4|5|7)' <<'EOF'
version: 1
tasks:
  - name: a
    command: [anomaly, "{in.obs}", "{in.base}", "{out.anom}"]
    site: site1
    inputs:
      obs: site3/private/obs/v
      base: site1/demo/climate/temp[0]
    outputs:
      anom: {}
EOF
log "a pinned reader of an output that inherits policy none"
bad none-inherited '(8|9|10|12)' <<'EOF'
version: 1
tasks:
  - name: a
    command: [regrid, --factor, "5", "{in.obs}", "{out.c}"]
    inputs:
      obs: site3/private/obs/v
    outputs:
      c: {}
  - name: b
    command: [regrid, --factor, "3", "{in.c}", "{out.d}"]
    site: site2
    inputs:
      c: a.c
    outputs:
      d: {}
EOF
log "40 errors in one file (over 1 KiB of text): every one reported, by validate and submit"
{
    echo "version: 1"
    echo "tasks:"
    for i in $(seq 1 40); do
        echo "  - {name: t$i, command: [sh, -c, \"true\"], colour_of_task_number_$i: blue}"
    done
} >"$D/many.yaml"
for v in validate submit; do
    expect_error 2 fedsched "$v" "$D/many.yaml"
    n=$(echo "$ERR" | grep -c "^fedsched: error: $D/many.yaml:[0-9]*:[0-9]*: .*unknown key")
    [ "$n" = 40 ] || fail "$v of a file with 40 errors reported $n of them: $ERR"
done

[ "$(job_ids)" = "$IDS" ] || fail "bad job files were queued: jobs --all went from [$IDS] to [$(job_ids)]"

log "a good file is still accepted"
job_submit "$D/good.yaml"
job_wait "$JOB" 0
log "bad job files refused with FILE:LINE:COL, nothing queued"
