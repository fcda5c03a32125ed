#!/usr/bin/env bash
# The dispatcher in the scheduler (docs/user-guide.md, "How placement decides";
# scheduler/dispatch.h): runtime estimates learned from the tasks' measured runtimes,
# kept across a scheduler restart, and the wait at a busy site.  One site of 2 cores,
# tasks without inputs, so a task's placement cost is its wait plus its runtime
# estimate (status --json, placement.cost_s):
#   - the first task of a command costs the prior (60 s);
#   - once it ran (~2 s), the same command costs about its measured runtime, and a
#     command never seen costs the federation-wide average;
#   - the estimates are in the scheduler's database (table runtimes) and, after a
#     kill -9 and a restart, a new task of the command costs the learned value, not
#     the prior;
#   - a task that finds the site's cores taken queues there (READY, its site chosen,
#     `explain` says so) with the wait the running tasks' estimates give, and starts
#     only once a core is free.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"

jobs_env
fed_up 1 --data none --cores 2 --launcher local
D=$FED_DIR

# job NAME COMMAND [RANKS]: a one-task job file $D/NAME.yaml.
job() {
    cat >"$D/$1.yaml" <<EOF
version: 1
name: $1
tasks:
  - name: t
    command: [sh, -c, "$2"]
    ranks: ${3:-1}
    walltime: 5m
EOF
}

# cost ID: the placement cost (seconds) of job ID's task.
cost() {
    job_status "$1"
    py -c 'import json,sys; print(json.loads(sys.argv[1])["tasks"][0]["placement"]["cost_s"])' "$STATUS" ||
        fail "job $1 has no placement cost: $STATUS"
}

# between X LO HI WHAT: LO <= X <= HI, else fail.
between() {
    py -c 'import sys; x, lo, hi = map(float, sys.argv[1:4]); sys.exit(0 if lo <= x <= hi else 1)' "$1" "$2" "$3" ||
        fail "$4: $1, expected between $2 and $3"
}

log "a command never measured costs the prior"
job two "date +%s%N > t0; sleep 2; date +%s%N > t1"
job_submit "$D/two.yaml"
A=$JOB
job_wait "$A" 0
between "$(cost "$A")" 59.9 60.1 "the first task's cost (the prior, 60 s)"

log "measured once: the same command costs its runtime, a new one the federation-wide average"
job_submit "$D/two.yaml"
B=$JOB
job_wait "$B" 0
between "$(cost "$B")" 1.8 5 "the second task of a 2 s command"
job one "sleep 1"
job_submit "$D/one.yaml"
C=$JOB
job_wait "$C" 0
between "$(cost "$C")" 1.8 5 "a new command (the federation-wide average of 2 s tasks)"

log "kept in the database, and across a restart"
py - "$D/scheduler.db" <<'PY' || fail "the runtimes table does not hold what was measured (above)"
import sqlite3, sys
rows = dict((c, (r, n)) for c, r, b, n in
            sqlite3.connect(sys.argv[1]).execute("SELECT command, runtime, bytes, samples FROM runtimes"))
cmd = "sh -c date +%s%N > t0; sleep 2; date +%s%N > t1"
assert cmd in rows and rows[cmd][1] == 2 and 1.8 <= rows[cmd][0] <= 5, rows
assert "" in rows and rows[""][1] == 3, rows
print("runtimes:", rows)
PY
scheduler_crash_restart
wait_all_up 20 site1
job_submit "$D/two.yaml"
E=$JOB
job_wait "$E" 0
between "$(cost "$E")" 1.8 5 "after a restart, the learned runtime of the 2 s command"

log "a task that finds the cores taken queues with the wait of the running ones"
cat >"$D/hold.yaml" <<'EOF'
version: 1
name: hold
tasks:
  - name: t
    command: [sh, -c, "date +%s%N > t0; sleep 4; date +%s%N > t1"]
    walltime: 5m
  - name: u
    command: [sh, -c, "date +%s%N > t0; sleep 4; date +%s%N > t1"]
    walltime: 5m
EOF
job_submit "$D/hold.yaml"
F=$JOB
for ((i = 0; i < 100; i++)); do
    job_status "$F"
    [ "$(py -c 'import json,sys; print(sum(t["state"] == "RUNNING" for t in json.loads(sys.argv[1])["tasks"]))' "$STATUS")" = 2 ] && break
    sleep 0.1
done
job_submit "$D/two.yaml"
G=$JOB
sleep 1
job_status "$G"
py - "$STATUS" <<'PY' || fail "the third task did not queue at site1 (above)"
import json, sys
t = json.loads(sys.argv[1])["tasks"][0]
assert t["state"] == "READY" and t["site"] is None, t
p = t["placement"]
assert p["site"] == "site1", p
# its cost: the 2 s command's estimate + the wait for a core (the running tasks'
# estimates: their command's measured 2 s runs, less what they ran)
assert 2 <= p["cost_s"] <= 10, p
print("queued at site1, cost %.2f s" % p["cost_s"])
PY
grep -q "event=task.queued job=$G task=t site=site1" "$D/scheduler.log" ||
    fail "no task.queued line for job $G in the scheduler's log"
expect_code 0 fedsched explain "$G"
case $OUT in
    *"queues for cores at site1"*) ;;
    *) fail "explain of a queued task does not say it queues at site1: $OUT" ;;
esac
job_wait "$F" 0
job_wait "$G" 0
py - "$D/sites/site1/state/jobs" "$F" "$G" <<'PY' || fail "the queued task overlapped the ones holding the cores (above)"
import sys
base, f, g = sys.argv[1:4]
f1 = min(int(open("%s/%s/%s/t1" % (base, f, t)).read()) for t in ("t", "u"))
g0 = int(open("%s/%s/t/t0" % (base, g)).read())
assert g0 >= f1, "the queued task started %.2f s before a core was free" % ((f1 - g0) / 1e9)
print("queued task started %.2f s after a core was free" % ((g0 - f1) / 1e9))
PY
log "runtimes learned, kept across a restart; queued tasks wait their turn"
