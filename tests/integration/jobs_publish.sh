#!/usr/bin/env bash
# A task's output published under a name that already holds other data is refused:
# the task fails with the reason, and the catalog keeps the first dataset alone.
# A restarted worker still serves the outputs of tasks that ran before.
set -euo pipefail
TEST_NAME=jobs_publish
. "$(dirname "$0")/lib/common.sh"
fed_up 2 --data demo --launcher local
job() {
    cat >"$FED_DIR/$1.yaml" <<Y
version: 1
name: $1
tasks:
  - name: copy
    command: [h5copy, -i, "{in.x.file}", -s, "{in.x.dset}", -o, "{out.y.file}", -d, "{out.y.dset}"]
    site: $2
    inputs:
      x: $2/demo/climate/temp[0]
    outputs:
      y: {publish: results/clash}
Y
}
job first site1
job second site2
id1=$(fedsched submit "$FED_DIR/first.yaml")
expect_code 0 fedsched wait "$id1" --timeout 60
id2=$(fedsched submit "$FED_DIR/second.yaml")
expect_code 1 fedsched wait "$id2" --timeout 60
err=$(fedsched status "$id2" --json | py -c 'import json,sys; print(json.load(sys.stdin)["tasks"][0]["error"])')
case $err in *"already holds other data"*) ;; *) fail "the clash was not the reason: '$err'" ;; esac
reps=$(fedsched catalog 'results/clash' --json | py -c 'import json,sys; print([r["site"] for r in json.load(sys.stdin)[0]["replicas"]])')
[ "$reps" = "['site1']" ] || fail "results/clash should stay at site1 alone, has $reps"

log "a restarted worker serves the outputs of earlier tasks"
wp=$(worker_pid site1); kill "$wp"
for _ in $(seq 1 50); do kill -0 "$wp" 2>/dev/null || break; sleep 0.1; done
fedsched worker -c "$(site_dir site1)/site.yaml" >>"$(site_dir site1)/worker.log" 2>&1 &
echo $! >"$(site_dir site1)/worker.pid"; fed_track $!
wait_state site1 up 20 2>/dev/null || sleep 3
expect_code 0 fedsched get 'results/clash[0:2]' -o "$FED_DIR/again.h5"
expect_code 0 fedsched get "jobs/$id1/copy/y" -o "$FED_DIR/again2.h5"
log "OK"
