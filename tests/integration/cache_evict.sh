#!/usr/bin/env bash
# The site's cache of staged inputs is bounded (site.yaml cache_max, docs/operator-guide.md):
# once over the cap the least recently used inputs go, never one a task still running
# uses.  site1 (cache_max: 3MiB) runs tasks pinned to it that read 1 MiB slices of a
# dataset held by site2: a long task holds slice 0 while five short tasks stage slices
# 1-5; slice 0 stays as long as its task runs, the cache ends at or under the cap, the
# worker's log shows the evictions, and a slice still cached is reused, not fetched.
# A cache_max below 1MiB is refused with its line.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"

jobs_env
fed_dir
mkdir -p "$FED_DIR/sites/site2/data/c"
# 96 rows of 16384 float32: 64 KiB a row, 16 rows = 1 MiB a slice
py - "$FED_DIR/sites/site2/data/c/big.h5" <<'PY'
import sys, numpy as np, h5py
with h5py.File(sys.argv[1], "w") as h:
    h.create_dataset("v", data=np.arange(96 * 16384, dtype=np.float32).reshape(96, 16384))
PY
fed_up 2 --launcher local
D=$FED_DIR
SD=$(site_dir site1)
CACHE=$SD/state/cache

log "cache_max below 1MiB is refused with its line"
cp "$SD/site.yaml" "$D/bad-site.yaml"
echo "cache_max: 512KiB" >>"$D/bad-site.yaml"
expect_error 2 fedsched worker -c "$D/bad-site.yaml"
case $ERR in *"bad-site.yaml:"*"cache_max"*"1MiB"*) ;; *) fail "bad cache_max: $ERR" ;; esac

log "site1 restarted with cache_max: 3MiB"
echo "cache_max: 3MiB" >>"$SD/site.yaml"
fed_kill_worker site1 TERM
fed_start_worker site1
wait_all_up 20 site1 site2
grep -q "event=cache.limit bytes=3145728" "$SD/worker.log" || fail "the worker did not take cache_max: 3MiB"

# job FILE NAME ROWS COMMAND: a task pinned to site1 reading v[ROWS]
job() {
    cat >"$D/$1" <<EOF
version: 1
name: $2
tasks:
  - name: t
    site: site1
    command: [sh, -c, "$4"]
    walltime: 1m
    inputs:
      x: site2/c/big/v[$3]
EOF
}
job hold.yaml hold 0:16 "echo {in.x} > inpath; sleep 8"
job_submit "$D/hold.yaml"
HOLD=$JOB
wait_file "$(task_dir site1 "$HOLD" t)/inpath" 20 || fail "the holding task did not start"
HELD=$(cut -d: -f1 <"$(task_dir site1 "$HOLD" t)/inpath")
case $HELD in "$CACHE"/*.h5) ;; *) fail "the input was not staged into the cache: $HELD" ;; esac

for i in 1 2 3 4 5; do
    job "s$i.yaml" "s$i" "$((i * 16)):$((i * 16 + 16))" "true"
    job_submit "$D/s$i.yaml"
    job_wait "$JOB" 0
    sleep 1.2                           # the worker trims at most once a second
    if fedsched status "$HOLD" --json | grep -q '"state": *"RUNNING"'; then
        [ -f "$HELD" ] || fail "the input of the running job $HOLD was evicted (after slice $i)"
    fi
done
job_wait "$HOLD" 0
sleep 1.5
grep -q "event=cache.evict" "$SD/worker.log" || fail "no eviction logged"
total=$(find "$CACHE" -name '*.h5' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
[ "$total" -le $((3 * 1024 * 1024 + 64 * 1024)) ] ||
    fail "the cache holds $total bytes, over its 3MiB cap: $(ls -l "$CACHE")"

log "a slice still cached is reused"
job again.yaml again 80:96 "true"
job_submit "$D/again.yaml"
job_wait "$JOB" 0
grep -q "event=stage.cached job=$JOB task=t input=x" "$SD/worker.log" ||
    fail "the most recently used slice (v[80:96]) was fetched again instead of reused"
log "cache bounded at 3MiB, in-use input kept, recent input reused"
