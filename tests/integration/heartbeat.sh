#!/usr/bin/env bash
# A long HDF5 read must not stall a site's event loop: while a large compressed
# slice streams out of site1, site1's heartbeats keep arriving (its
# last_heartbeat keeps moving and it never goes down), and a small request to
# the same site is answered meanwhile.  A transfer also resumes after the
# serving worker is restarted in the middle of it.
set -euo pipefail
TEST_NAME=heartbeat
. "$(dirname "$0")/lib/common.sh"
need_tools() { [ -x "$FEDSCHED_TOOLS/h5mk" ] || fail "h5mk not found in FEDSCHED_TOOLS"; }
need_tools
fed_dir
mkdir -p "$(data_root site1)/big"
# 192 MiB of float32, gzip-9 in small chunks: slow to read, so the read is long.
"$FEDSCHED_TOOLS/h5mk" "$(data_root site1)/big/slow.h5" x float32 3072x16384 --chunks 64x256 --gzip 9 >/dev/null
"$FEDSCHED_TOOLS/h5mk" "$(data_root site1)/big/small.h5" y int32 100 >/dev/null
fed_up 2
hb() { fedsched sites --json | py -c 'import json,sys; print([s for s in json.load(sys.stdin) if s["name"]=="site1"][0]["last_heartbeat"] or "")'; }
state() { fedsched sites --json | py -c 'import json,sys; print([s for s in json.load(sys.stdin) if s["name"]=="site1"][0]["state"])'; }

log "a long read at site1 while watching its heartbeats"
start=$(date +%s%N)
fedsched get 'site1/big/slow/x' -o "$FED_DIR/slow.h5" 2>"$FED_DIR/get.err" &
gp=$!; fed_track "$gp"
seen=()
for _ in $(seq 1 40); do
  kill -0 "$gp" 2>/dev/null || break
  [ "$(state)" = up ] || fail "site1 went $(state) during a long read"
  seen+=("$(hb)")
  # a small request to the busy site is still served
  fedsched get 'site1/big/small/y[3]' -o "$FED_DIR/small.h5" || fail "small get failed during the long read"
  sleep 0.5
done
wait "$gp" || fail "the long get failed: $(cat "$FED_DIR/get.err")"
dur=$(( ($(date +%s%N) - start) / 1000000 ))
distinct=$(printf '%s\n' "${seen[@]}" | sort -u | wc -l)
log "long read took ${dur} ms; ${#seen[@]} samples, $distinct distinct heartbeat times"
if [ "${#seen[@]}" -ge 4 ]; then
  [ "$distinct" -ge 2 ] || fail "last_heartbeat did not move during the long read"
fi
py - "$(data_root site1)/big/slow.h5" "$FED_DIR/slow.h5" <<'PY' || fail "long read returned wrong data"
import sys, h5py, numpy as np
a = h5py.File(sys.argv[1], "r")["x"]; b = h5py.File(sys.argv[2], "r")["x"]
assert a.shape == b.shape and a.dtype == b.dtype
for i in range(0, a.shape[0], 512):
    assert np.array_equal(a[i:i+512], b[i:i+512]), i
PY

log "a transfer resumes after the serving worker restarts"
FEDSCHED_TIMEOUT=30 fedsched get 'site1/big/slow/x' -o "$FED_DIR/resumed.h5" 2>"$FED_DIR/get2.err" &
gp=$!; fed_track "$gp"
# Restart the worker as soon as the transfer has begun (its output file exists).
for _ in $(seq 1 100); do
  compgen -G "$FED_DIR/resumed.h5.part-*" >/dev/null && break
  sleep 0.05
done
kill -0 "$gp" 2>/dev/null || fail "get finished before the restart: make the dataset bigger"
wp=$(worker_pid site1); kill "$wp"
for _ in $(seq 1 50); do kill -0 "$wp" 2>/dev/null || break; sleep 0.1; done
fedsched worker -c "$(site_dir site1)/site.yaml" >>"$(site_dir site1)/worker.log" 2>&1 &
echo $! >"$(site_dir site1)/worker.pid"; fed_track $!
wait "$gp" || fail "the interrupted get did not resume: $(cat "$FED_DIR/get2.err")"
py - "$(data_root site1)/big/slow.h5" "$FED_DIR/resumed.h5" <<'PY' || fail "resumed transfer returned wrong data"
import sys, h5py, numpy as np
a = h5py.File(sys.argv[1], "r")["x"]; b = h5py.File(sys.argv[2], "r")["x"]
for i in range(0, a.shape[0], 512):
    assert np.array_equal(a[i:i+512], b[i:i+512]), i
PY
log "OK"
