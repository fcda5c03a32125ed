#!/usr/bin/env bash
# Durability (SPEC section 8): a job acknowledged before the scheduler dies is
# neither lost nor run twice.  A task that ends while the scheduler is down is
# reported when it comes back; a task that is still running when it comes back
# is reconciled with its site and completes; a worker restarted under its task
# re-adopts it (it runs once, attempt 0); a site that lost its task (the worker
# and the task's monitor killed: the node went down) gets it re-placed within
# the task's retries, and without retries the job fails with the reason.
set -euo pipefail
TEST_NAME=jobs_restart
. "$(dirname "$0")/lib/common.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fed_up 2 --launcher local
J=$FED_DIR/jobs; mkdir -p "$J"

restart_scheduler() {
    local sp; sp=$(scheduler_pid)
    kill "$sp"
    for _ in $(seq 1 50); do kill -0 "$sp" 2>/dev/null || break; sleep 0.1; done
    [ -n "${1:-}" ] && sleep "$1"
    fedsched scheduler -c "$FED_DIR/federation.yaml" >>"$FED_DIR/scheduler.log" 2>&1 &
    echo $! >"$FED_DIR/scheduler.pid"; fed_track $!
}
state() { fedsched status "$1" --json | py -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
runs() { cat "$FED_DIR"/sites/*/state/jobs/"$1"/*/count 2>/dev/null | wc -l; }

log "a task that ends while the scheduler is down"
cat >"$J/a.yaml" <<'Y'
version: 1
name: across-restart
tasks:
  - name: slow
    command: [sh, -c, "echo run >> count; sleep 3"]
  - name: after
    command: [sh, -c, "echo run >> count"]
    after: [slow]
Y
id=$(fedsched submit "$J/a.yaml")
sleep 1
restart_scheduler 4
FEDSCHED_TIMEOUT=20 fedsched wait "$id" --timeout 60 || fail "job $id did not complete after the restart: $(fedsched status "$id" 2>&1)"
[ "$(runs "$id")" = 2 ] || fail "job $id: each task must run exactly once, ran $(runs "$id") times"

log "a task still running when the scheduler comes back"
id2=$(fedsched submit "$J/a.yaml")
sleep 1
restart_scheduler
FEDSCHED_TIMEOUT=20 fedsched wait "$id2" --timeout 60 || fail "job $id2 did not complete: $(fedsched status "$id2" 2>&1)"
[ "$(runs "$id2")" = 2 ] || fail "job $id2: each task must run exactly once, ran $(runs "$id2") times"
fedsched jobs --all | grep -q "across-restart" || fail "jobs --all lost the jobs"

log "a worker restarted under its task: adopted, run once"
cat >"$J/b.yaml" <<'Y'
version: 1
name: retried
tasks:
  - name: slow
    command: [sh, -c, "echo run >> count; sleep 2"]
    retries: 1
Y
id3=$(fedsched submit "$J/b.yaml")
sleep 1
site=$(fedsched status "$id3" --json | py -c 'import json,sys; print(json.load(sys.stdin)["tasks"][0]["site"])')
wp=$(worker_pid "$site"); kill -KILL "$wp"
fedsched worker -c "$(site_dir "$site")/site.yaml" >>"$(site_dir "$site")/worker.log" 2>&1 &
echo $! >"$(site_dir "$site")/worker.pid"; fed_track $!
FEDSCHED_TIMEOUT=20 fedsched wait "$id3" --timeout 60 || fail "job $id3 did not complete: $(fedsched status "$id3" 2>&1)"
att=$(fedsched status "$id3" --json | py -c 'import json,sys; print(json.load(sys.stdin)["tasks"][0]["attempt"])')
[ "$att" = 0 ] || fail "job $id3: a worker restart must not cost an attempt, got attempt $att"
[ "$(runs "$id3")" = 1 ] || fail "job $id3: ran $(runs "$id3") times"

# The node went down: the worker and the task's monitor (and so the task) die.
lose_node() {
    local site=$1 id=$2 wp mon
    mon=$(pgrep -f "fedsched-monitor --status $(cd "$(site_dir "$site")" && pwd -P)/state/jobs/$id/")
    [ -n "$mon" ] || fail "no monitor found for job $id at $site"
    wp=$(worker_pid "$site"); kill -KILL "$wp" $mon
    fedsched worker -c "$(site_dir "$site")/site.yaml" >>"$(site_dir "$site")/worker.log" 2>&1 &
    echo $! >"$(site_dir "$site")/worker.pid"; fed_track $!
}

log "a site that lost its task: re-placed within retries"
id5=$(fedsched submit "$J/b.yaml")
sleep 1
lose_node "$(fedsched status "$id5" --json | py -c 'import json,sys; print(json.load(sys.stdin)["tasks"][0]["site"])')" "$id5"
FEDSCHED_TIMEOUT=20 fedsched wait "$id5" --timeout 60 || fail "job $id5 was not retried to completion: $(fedsched status "$id5" 2>&1)"
att=$(fedsched status "$id5" --json | py -c 'import json,sys; print(json.load(sys.stdin)["tasks"][0]["attempt"])')
[ "$att" = 1 ] || fail "job $id5: expected attempt 1 after one site failure, got $att"

log "without retries the job fails, naming the lost site"
sed 's/retries: 1/retries: 0/; s/name: retried/name: not-retried/' "$J/b.yaml" >"$J/c.yaml"
id4=$(fedsched submit "$J/c.yaml")
sleep 1
lose_node "$(fedsched status "$id4" --json | py -c 'import json,sys; print(json.load(sys.stdin)["tasks"][0]["site"])')" "$id4"
expect_code 1 fedsched wait "$id4" --timeout 60
[ "$(state "$id4")" = FAILED ] || fail "job $id4 should have FAILED"
fedsched status "$id4" --json | py -c 'import json,sys; e=json.load(sys.stdin)["tasks"][0]["error"]; assert "monitor" in e, e' ||
    fail "job $id4: the error should say the task's monitor was lost"
log "OK"
