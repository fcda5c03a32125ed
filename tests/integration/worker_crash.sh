#!/usr/bin/env bash
# A worker restart neither kills nor re-runs the tasks it was running (SPEC section 8).
# Each task runs under a monitor of its own (fedsched-monitor) that outlives the worker;
# the worker journals every attempt, and a restarted worker re-adopts what it finds.
# A one-site federation (local launcher, 8 cores announced):
#   - a task running when the worker is SIGKILLed lives on, is adopted by the next
#     worker (its log says so), and ends once, with its own exit code (7);
#   - a task that ends while no worker runs reports its own result when the worker is
#     back: COMPLETED, its output registered and readable with `get`;
#   - a task that ended before the crash is not reported again; a bystander lives;
#   - the journal is compacted while 3,000 short jobs pass, keeping the running tasks;
#   - a worker stopped with SIGTERM (an upgrade) leaves its task running too;
#   - a task whose monitor dies with the worker (the node went down) is a site
#     failure: retried elsewhere within its retries, never silently lost.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"

jobs_env
need zmq
fed_up 1 --launcher local --cores 8
D=$FED_DIR
runs() { cat "$(task_dir site1 "$1" "$2")/runs" 2>/dev/null | wc -l; }
go() { touch "$(task_dir site1 "$1" "$2")/go"; }

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

# A: runs until told, then exits 7.  B: runs until told, then writes its output.
cat >"$D/a.yaml" <<'EOF'
version: 1
name: long-a
tasks:
  - name: a
    command: [sh, -c, "echo $$ > pid; echo run >> runs; while [ ! -e go ]; do sleep 0.1; done; exit 7"]
    walltime: 10m
EOF
cat >"$D/b.yaml" <<'EOF'
version: 1
name: long-b
tasks:
  - name: b
    command: [/usr/bin/python3, -c, "import h5py, numpy, os, sys, time\nopen('runs', 'a').write('run\\n')\nwhile not os.path.exists('go'): time.sleep(0.1)\nh5py.File(sys.argv[1], 'w')['o'] = numpy.arange(5) * 3", "{out.o.file}"]
    walltime: 10m
    outputs:
      o: {publish: results/b/o}
EOF
job_submit "$D/a.yaml"
A=$JOB
job_submit "$D/b.yaml"
B=$JOB
PIDF=$(task_dir site1 "$A" a)/pid
wait_file "$PIDF" 20 || fail "the task of job $A did not start (no $PIDF)"
SH=$(cat "$PIDF")
fed_track "$SH"                         # stopped on exit even if the test fails
wait_file "$(task_dir site1 "$B" b)/runs" 20 || fail "the task of job $B did not start"
sleep 300 &
BYSTANDER=$!
fed_track "$BYSTANDER"

log "3,000 short jobs while A and B run: the journal is compacted, A and B kept"
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
deadline = time.time() + 180
while time.time() < deadline:
    s.send(json.dumps({"op": "job.list", "id": 0, "body": {"all": False}}).encode())
    assert s.poll(30000)
    names = [j["name"] for j in json.loads(s.recv())["body"]["jobs"]]
    if names.count("short") == 0:
        break
    time.sleep(0.2)
else:
    sys.exit("short jobs still running after 180 s")
PY
JL=$D/sites/site1/state/tasks.journal
size=$(stat -c %s "$JL")
[ "$size" -lt 400000 ] || fail "the task journal was not compacted: $size bytes"
for j in "$A" "$B"; do
    grep -q "\"run\":{\"job\":$j," "$JL" || fail "the compacted journal lost job $j's task: $(head -c 600 "$JL")"
done

log "worker killed (SIGKILL): A (pid $SH) and B live on"
fed_kill_worker site1 KILL
sleep 0.5
kill -0 "$SH" 2>/dev/null || fail "task A died with the worker"
log "B ends while no worker runs"
go "$B" b
for _ in $(seq 1 100); do
    [ -s "$(task_dir site1 "$B" b)/exit.0.json" ] && break
    sleep 0.1
done
[ -s "$(task_dir site1 "$B" b)/exit.0.json" ] || fail "B's monitor recorded no exit status while the worker was down"

log "worker started again: it adopts A and reports B"
fed_start_worker site1
wait_all_up 20 site1
job_wait "$B" 0
grep -q "event=task.adopted job=$A task=a attempt=0" "$D/sites/site1/worker.log" ||
    fail "the worker's log does not say it adopted A: $(grep -E 'adopt|recover' "$D/sites/site1/worker.log")"
kill -0 "$SH" 2>/dev/null || fail "task A (pid $SH) was killed by the restarted worker"
kill -0 "$BYSTANDER" 2>/dev/null || fail "a process that is no task's was killed"
if grep -q "event=task.recovered job=$QUICK " "$D/sites/site1/worker.log"; then
    fail "the task that ended before the crash was recovered again"
fi
expect_code 0 fedsched get results/b/o -o "$D/b.h5"
py -c "import h5py, numpy; assert list(h5py.File('$D/b.h5', 'r')['o'][()]) == [0, 3, 6, 9, 12]" ||
    fail "B's output, registered after the restart, reads wrong"

log "worker stopped with SIGTERM (an upgrade): A still runs, and is adopted again"
WP=$(cat "$D/sites/site1/worker.pid")
fed_kill_worker site1 TERM
pid_gone "$WP" 10 || fail "the worker did not stop on SIGTERM"
kill -0 "$SH" 2>/dev/null || fail "task A died with a worker stopped by SIGTERM"
fed_start_worker site1
wait_all_up 20 site1
go "$A" a
job_wait "$A" 1
job_status "$A"
py - "$STATUS" <<'PY' || fail "status $A after the restarts (see above)"
import json, sys
t = json.loads(sys.argv[1])["tasks"][0]
assert t["state"] == "FAILED" and t["exit_code"] == 7 and t["attempt"] == 0, t
PY
[ "$(runs "$A" a)" = 1 ] || fail "A ran $(runs "$A" a) times"
[ "$(runs "$B" b)" = 1 ] || fail "B ran $(runs "$B" b) times"

log "the monitor dies with the worker (the node went down): a site failure, retried"
cat >"$D/c.yaml" <<'EOF'
version: 1
name: lost-node
tasks:
  - name: c
    command: [sh, -c, "echo run >> runs; while [ ! -e go ]; do sleep 0.1; done"]
    retries: 1
EOF
job_submit "$D/c.yaml"
C=$JOB
wait_file "$(task_dir site1 "$C" c)/runs" 20 || fail "the task of job $C did not start"
MON=$(pgrep -f "fedsched-monitor --status $(cd "$(task_dir site1 "$C" c)" && pwd -P)/exit.0.json")
[ -n "$MON" ] || fail "no monitor found for job $C"
fed_kill_worker site1 KILL
kill -KILL "$MON"
fed_start_worker site1
wait_all_up 20 site1
for _ in $(seq 1 100); do
    [ "$(runs "$C" c)" = 2 ] && break
    sleep 0.1
done
[ "$(runs "$C" c)" = 2 ] || fail "job $C was not run again after its monitor was lost (runs: $(runs "$C" c))"
go "$C" c
job_wait "$C" 0
job_status "$C"
py - "$STATUS" <<'PY' || fail "status $C (see above)"
import json, sys
t = json.loads(sys.argv[1])["tasks"][0]
assert t["state"] == "COMPLETED" and t["attempt"] == 1, t
PY
log "tasks outlive their worker, are adopted, and end once with their own results"
