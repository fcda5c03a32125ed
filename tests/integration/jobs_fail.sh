#!/usr/bin/env bash
# Jobs that fail or are stopped, on a real 3-site local federation (SPEC sections 3-4):
# a task exiting 7 fails its job (`wait` exits 1, the task FAILED with exit_code 7)
# and its downstream task is CANCELLED without ever running; `fedsched cancel` of a
# job running `sleep 300` kills the sleep within 10 s, the job is CANCELLED and `wait`
# exits 1; `walltime: 2s` on `sleep 300` kills it, the job FAILED with an error that
# says walltime.  The PIDs come from the task itself (`echo $$ > pidfile; exec sleep`
# in its working directory, DIR/sites/SITE/state/jobs/<id>/<task>/).
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"

jobs_env
fed_up 3
D=$FED_DIR

# --- a failing task fails its job; its downstream task never runs --------------------------
log "a task exiting 7: job FAILED, task FAILED with exit_code 7, downstream CANCELLED"
cat >"$D/fail.yaml" <<'EOF'
version: 1
name: failing
tasks:
  - name: bad
    command: [sh, -c, "exit 7"]
    ranks: 1
    walltime: 30s
    outputs:
      x: {}
  - name: down
    command: [sh, -c, "echo ran > ran.txt"]
    walltime: 30s
    inputs:
      x: bad.x
EOF
job_submit "$D/fail.yaml"
FAIL=$JOB
job_wait "$FAIL" 1
job_status "$FAIL"
py - "$STATUS" <<'PY' || fail "job $FAIL with a task exiting 7: wrong status (see above)"
import json, sys
j = json.loads(sys.argv[1])
t = {x["name"]: x for x in j["tasks"]}
assert j["state"] == "FAILED", "job state %s, expected FAILED" % j["state"]
assert j["ended"], "job ended is %r" % j["ended"]
b, d = t["bad"], t["down"]
assert b["state"] == "FAILED", "task bad: %s, expected FAILED" % b["state"]
assert b["exit_code"] == 7, "task bad: exit_code %r, expected 7" % b["exit_code"]
assert b["site"] in ("site1", "site2", "site3"), b
assert d["state"] == "CANCELLED", "task down: %s, expected CANCELLED" % d["state"]
assert d["started"] is None and d["exit_code"] is None, "task down was started: %s" % d
PY
ls "$D"/sites/*/state/jobs/"$FAIL"/down/ran.txt >/dev/null 2>&1 &&
    fail "the downstream task of a failed task ran (ran.txt exists)"

# --- cancel kills the running task's processes --------------------------------------------------
log "cancel of a job running sleep 300: the sleep is killed, job CANCELLED, wait exits 1"
cat >"$D/nap.yaml" <<'EOF'
version: 1
name: nap
tasks:
  - name: nap
    command: [sh, -c, "echo $$ > pidfile; exec sleep 300"]
    walltime: 10m
    outputs:
      x: {}
  - name: after
    command: [sh, -c, "echo ran > ran.txt"]
    walltime: 30s
    inputs:
      x: nap.x
EOF
job_submit "$D/nap.yaml"
NAP=$JOB
# The pidfile appears in the task's directory at whichever site runs it.
t0=$SECONDS
PIDFILE=""
while [ $((SECONDS - t0)) -lt 30 ] && [ -z "$PIDFILE" ]; do
    for s in site1 site2 site3; do
        f=$(task_dir "$s" "$NAP" nap)/pidfile
        [ -s "$f" ] && PIDFILE=$f
    done
    sleep 0.2
done
[ -n "$PIDFILE" ] || { fedsched status "$NAP" >&2; fail "task nap of job $NAP did not start within 30 s (no pidfile)"; }
sleep 0.2
SLEEP=$(cat "$PIDFILE")
if ! [[ $SLEEP =~ ^[0-9]+$ ]] || ! kill -0 "$SLEEP" 2>/dev/null; then
    fail "no running sleep at pid '$SLEEP' ($PIDFILE)"
fi
case $(ps -o args= -p "$SLEEP") in "sleep 300"*) ;; *) fail "pid $SLEEP is not the task's sleep: $(ps -o args= -p "$SLEEP")" ;; esac
job_status "$NAP"
py -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["state"]=="RUNNING" and j["tasks"][0]["state"]=="RUNNING", j' "$STATUS" ||
    fail "job $NAP is not RUNNING while its sleep runs: $STATUS"
expect_code 0 fedsched cancel "$NAP"
pid_gone "$SLEEP" 10 || fail "cancel of job $NAP: its sleep (pid $SLEEP) is still running 10 s later"
job_wait "$NAP" 1
job_status "$NAP"
py - "$STATUS" <<'PY' || fail "job $NAP after cancel: wrong status (see above)"
import json, sys
j = json.loads(sys.argv[1])
t = {x["name"]: x for x in j["tasks"]}
assert j["state"] == "CANCELLED", "job state %s, expected CANCELLED" % j["state"]
assert t["nap"]["state"] == "CANCELLED", "task nap: %s, expected CANCELLED" % t["nap"]["state"]
assert t["after"]["state"] == "CANCELLED" and t["after"]["started"] is None, "task after: %s" % t["after"]
PY
expect_error 1 fedsched cancel "$NAP"

# --- walltime ----------------------------------------------------------------------------------
log "walltime 2s on sleep 300: killed, job FAILED, the error says walltime"
cat >"$D/wall.yaml" <<'EOF'
version: 1
name: overtime
tasks:
  - name: nap
    command: [sh, -c, "echo $$ > pidfile; exec sleep 300"]
    walltime: 2s
EOF
job_submit "$D/wall.yaml"
WALL=$JOB
t0=$SECONDS
job_wait "$WALL" 1
[ $((SECONDS - t0)) -le 20 ] || fail "a task with walltime 2s ended only after $((SECONDS - t0)) s"
job_status "$WALL"
py - "$STATUS" <<'PY' || fail "job $WALL past its walltime: wrong status (see above)"
import json, sys
j = json.loads(sys.argv[1])
t = j["tasks"][0]
assert j["state"] == "FAILED", "job state %s, expected FAILED" % j["state"]
assert t["state"] == "FAILED", "task nap: %s, expected FAILED" % t["state"]
assert "walltime" in (t["error"] or ""), "task nap's error does not mention walltime: %r" % t["error"]
PY
SITE=$(py -c 'import json,sys; print(json.loads(sys.argv[1])["tasks"][0]["site"])' "$STATUS")
PIDFILE=$(task_dir "$SITE" "$WALL" nap)/pidfile
[ -s "$PIDFILE" ] || fail "task nap of job $WALL left no pidfile at $PIDFILE"
SLEEP=$(cat "$PIDFILE")
pid_gone "$SLEEP" 10 || fail "walltime: the task's sleep (pid $SLEEP) is still running after the job FAILED"

log "failing, cancelled and overtime jobs behave"
