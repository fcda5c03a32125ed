#!/usr/bin/env bash
# A worker that crashes leaves its tasks' processes running (they are not killed with
# it); the scheduler gives the tasks up (or runs them again elsewhere), so the worker,
# once restarted, must kill what its previous life left: no task runs twice at once.
# A single-site federation, a task running `sleep 300`; the worker is SIGKILLed: the
# sleep lives on; the worker is started again: within seconds the sleep is gone, the
# worker's log names the leftover, and the job ends FAILED (no retries, no other site)
# saying its site restarted without it (or went down).  A task that ended before the crash is not
# touched, and a process that merely shares nothing with the task survives.  The journal
# of running tasks is compacted while 3,000 short jobs pass, keeping the sleep's entry.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"

jobs_env
need zmq
fed_up 1 --launcher local
D=$FED_DIR

cat >"$D/done.yaml" <<'EOF'
version: 1
name: quick
tasks:
  - name: q
    command: [sh, -c, "echo ok"]
    walltime: 30s
EOF
job_submit "$D/done.yaml"
QUICK=$JOB
job_wait "$QUICK" 0

cat >"$D/long.yaml" <<'EOF'
version: 1
name: long
tasks:
  - name: s
    command: [sh, -c, "echo $$ > pid; exec sleep 300"]
    walltime: 10m
EOF
job_submit "$D/long.yaml"
J=$JOB
PIDF=$(task_dir site1 "$J" s)/pid
wait_file "$PIDF" 20 || fail "the task of job $J did not start (no $PIDF)"
SLEEP=$(cat "$PIDF")
fed_track "$SLEEP"                      # stopped on exit even if the test fails
kill -0 "$SLEEP" || fail "no sleep at pid $SLEEP"
# An unrelated process started by hand, not a task: it must survive.
sleep 300 &
BYSTANDER=$!
fed_track "$BYSTANDER"

# 3,000 short jobs meanwhile: the journal passes its 64 KiB and is rewritten with the
# tasks running then, the sleep's among them.
log "3,000 short jobs while the sleep runs: the journal is compacted, the sleep kept"
py - "$FEDSCHED_SCHEDULER" 3000 <<'PY' || fail "the short jobs did not all complete (see above)"
import json, sys, time, zmq
uri, n = sys.argv[1], int(sys.argv[2])
job = "version: 1\nname: short\ntasks:\n  - name: t\n    command: [\"true\"]\n"
s = zmq.Context().socket(zmq.DEALER)
s.setsockopt(zmq.LINGER, 0)
s.connect(uri)
for i in range(n):
    s.send(json.dumps({"op": "job.submit", "id": i + 1, "body": {"file": "short.yaml", "text": job}}).encode())
ok = 0
for i in range(n):
    assert s.poll(30000), "no answer to a submit"
    ok += json.loads(s.recv())["ok"]
assert ok == n, "%d of %d submits accepted" % (ok, n)
deadline = time.time() + 120
while time.time() < deadline:
    s.send(json.dumps({"op": "job.list", "id": 0, "body": {"all": False}}).encode())
    assert s.poll(30000)
    names = [j["name"] for j in json.loads(s.recv())["body"]["jobs"]]
    if names.count("short") == 0:
        break
    time.sleep(0.2)
else:
    sys.exit("short jobs still running after 120 s")
PY
JL=$D/sites/site1/state/running.log
size=$(stat -c %s "$JL")
[ "$size" -lt 70000 ] || fail "the task journal was not compacted: $size bytes"
grep -q "^+ $J s 0 $SLEEP " "$JL" || fail "the compacted journal lost the running task: $(head -c 300 "$JL")"

log "worker killed (SIGKILL): its task's sleep $SLEEP lives on"
fed_kill_worker site1 KILL
sleep 0.5
kill -0 "$SLEEP" 2>/dev/null || fail "the sleep died with the worker: nothing left to test"

log "worker started again: it kills the leftover"
fed_start_worker site1
wait_all_up 20 site1
pid_gone "$SLEEP" 10 || fail "the sleep of the crashed worker's task (pid $SLEEP) still runs after the restart"
grep -q "event=task.leftover job=$J task=s attempt=0 session=$SLEEP killed=1" "$D/sites/site1/worker.log" ||
    fail "the worker's log does not name the leftover: $(grep leftover "$D/sites/site1/worker.log")"
if grep -q "event=task.leftover job=$QUICK " "$D/sites/site1/worker.log"; then
    fail "the task that ended before the crash was taken for a leftover"
fi
kill -0 "$BYSTANDER" 2>/dev/null || fail "a process that is no task's was killed"

job_wait "$J" 1
job_status "$J"
py - "$STATUS" <<'PY' || fail "status $J after the restart (see above)"
import json, sys
t = json.loads(sys.argv[1])["tasks"][0]
assert t["state"] == "FAILED", t
# the hello of the restarted worker, or the heartbeat timeout if that came first
assert "restarted without it" in (t["error"] or "") or "went down" in (t["error"] or ""), t["error"]
PY
log "the crashed worker's task was killed by its successor; the job failed with the reason"
