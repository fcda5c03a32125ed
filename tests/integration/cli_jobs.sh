#!/usr/bin/env bash
# The job verbs of the fedsched command (SPEC section 3) against a fake scheduler:
# a Python ROUTER socket that answers the job ops of docs/protocol.md with canned
# bodies.  Checks each verb's output and exit code: validate/submit send {file, text}
# and print job-file errors one "fedsched: error:" line each (exit 2, also past 1 KiB
# of text); submit prints the id alone; jobs (table, --all, --json field names);
# status --json is the body as is, and the table; explain names every candidate with
# its cost or exclusion, cheapest first; wait 0/1/124/75; watch's plain lines (and
# the redrawn view on a pseudo-terminal); cancel; logs; links; usage errors (exit 2)
# and an unreachable scheduler (exit 75).  The fake is stopped by its PID on exit.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
need fedsched
need zmq

fed_dir
D=$FED_DIR

cat >"$D/fake.py" <<'PY'
# A fake scheduler: canned answers to the job ops; every request is logged.
import json, sys, zmq

d = sys.argv[1]

def task(name, state, site=None, ranks=1, exit_code=None, started=None, ended=None,
         moved=None, error=None, placement=None, attempt=1):
    return {"name": name, "state": state, "site": site, "ranks": ranks,
            "exit_code": exit_code, "started": started, "ended": ended,
            "bytes_local": 1000 if moved is not None else None, "bytes_moved": moved,
            "attempt": attempt, "error": error, "placement": placement}

PLACE_DOWN = {"site": "site2", "reason": "input cma/era5/precip is at site2 (no bytes to move)",
              "cost_s": 12.5,
              "candidates": [{"site": "site1", "cost_s": 40.25, "excluded": None},
                             {"site": "site3", "cost_s": None,
                              "excluded": "policy regions=eu of nbs/census/pop forbids region asia"},
                             {"site": "site2", "cost_s": 12.5, "excluded": None},
                             {"site": "site4", "cost_s": None,
                              "excluded": "4 ranks > 2 cores"}]}
PLACE_ROUTE = {"site": "site3", "reason": "pinned to site3 by the job file", "cost_s": 3.0,
               "candidates": [{"site": "site3", "cost_s": 3.0, "excluded": None},
                              {"site": "site1", "cost_s": None, "excluded": "task is pinned to site3"}]}
PLACE_NOWHERE = {"site": None, "reason": "no site can run the task now", "cost_s": None,
                 "candidates": [{"site": "site1", "cost_s": None, "excluded": "site is drained"},
                                {"site": "site2", "cost_s": None, "excluded": "site is down"}]}
T0, T1, T2 = "2026-11-27T07:21:40Z", "2026-11-27T07:21:52Z", "2026-11-27T07:22:40Z"

def job(i, name, state, tasks, ended=None):
    return {"id": i, "name": name, "state": state, "submitted": T0, "ended": ended, "tasks": tasks}

STATUS = {
    42: job(42, "flood-risk", "COMPLETED",
            [task("downscale", "COMPLETED", "site2", 4, 0, T0, T1, 0, placement=PLACE_DOWN),
             task("route", "COMPLETED", "site3", 1, 0, T1, T2, 3 * 1024 * 1024,
                  placement=PLACE_ROUTE)], ended=T2),
    43: job(43, "broken", "FAILED",
            [task("downscale", "COMPLETED", "site2", 4, 0, T0, T1, 0, placement=PLACE_DOWN),
             task("route", "FAILED", "site3", 1, 3, T1, T2, 0,
                  error="exited with status 3", placement=PLACE_ROUTE, attempt=2)], ended=T2),
    44: job(44, "forever", "RUNNING",
            [task("downscale", "RUNNING", "site2", 4, None, T0, None, None, placement=PLACE_DOWN),
             task("stuck", "READY", None, 2, placement=PLACE_NOWHERE),
             task("later", "WAITING", None, 1)]),
    45: job(45, "stopped", "CANCELLED",
            [task("downscale", "CANCELLED", "site2", 4, None, T0, T1, None, placement=PLACE_DOWN)],
            ended=T1),
}

def progressing(i, n):
    """Job i after n status calls: PENDING, RUNNING (downscale), RUNNING (route), COMPLETED."""
    if n == 0:
        return job(i, "prog", "PENDING", [task("downscale", "READY"), task("route", "WAITING")])
    if n == 1:
        return job(i, "prog", "RUNNING", [task("downscale", "RUNNING", "site2", 4, started=T0),
                                          task("route", "WAITING")])
    if n == 2:
        return job(i, "prog", "RUNNING", [task("downscale", "COMPLETED", "site2", 4, 0, T0, T1),
                                          task("route", "RUNNING", "site3", started=T1)])
    return job(i, "prog", "COMPLETED", [task("downscale", "COMPLETED", "site2", 4, 0, T0, T1),
                                        task("route", "COMPLETED", "site3", 1, 0, T1, T2)],
               ended=T2)

JOBS = [{"id": 44, "name": "forever", "state": "RUNNING", "done": 0, "total": 3, "submitted": T0},
        {"id": 46, "name": "prog", "state": "PENDING", "done": 0, "total": 2, "submitted": T1}]
ENDED = [{"id": 42, "name": "flood-risk", "state": "COMPLETED", "done": 2, "total": 2,
          "submitted": T0}]
LINKS = {"default": {"bandwidth": 125000000, "latency": 0.01},
         "links": [{"from": "site1", "to": "site2", "bandwidth": 1.0e9, "latency": 0.002,
                    "configured_bandwidth": 1.25e9, "measured_bandwidth": 9.5e8, "samples": 7},
                   {"from": "site2", "to": "site3", "bandwidth": 5.0e7, "latency": 0.05,
                    "configured_bandwidth": 5.0e7, "measured_bandwidth": None, "samples": 0}]}

json.dump({str(k): v for k, v in STATUS.items()}, open(d + "/status.json", "w"))
json.dump(LINKS, open(d + "/links.json", "w"))

def file_errors(b):
    f, text = b["file"], b["text"]
    if "many-errors" in text:
        return "\n".join("%s:%d:3: unknown key 'k%d' (allowed: name, command, ranks)" % (f, i + 1, i)
                         for i in range(40))
    if "bad" in text:
        return ("%s:3:5: unknown key 'tsks' (did you mean 'tasks'?)\n"
                "%s:9:12: task 'route': unknown dataset 'mwr/basins/nope'\n"
                "%s:14:1: dependency cycle: a -> b -> a" % (f, f, f))
    return None

calls = {}
def answer(op, b):
    if op in ("job.validate", "job.submit"):
        errs = file_errors(b)
        if errs:
            return None, (2, errs)
        if op == "job.validate":
            return {"name": "flood-risk", "tasks": 2}, None
        return {"id": 43 if "failjob" in b["text"] else 42}, None
    if op == "job.list":
        return {"jobs": JOBS + (ENDED if b.get("all") else [])}, None
    if op == "job.status":
        i = b.get("id")
        if i in STATUS:
            return STATUS[i], None
        if i in (46, 47):
            n = calls.get(i, 0)
            calls[i] = n + 1
            return progressing(i, n), None
        if i == 48:
            return "silence", None
        return None, (1, "no such job: %s" % i)
    if op == "job.cancel":
        if b.get("id") == 44:
            return {"state": "CANCELLED"}, None
        if b.get("id") in STATUS:
            return None, (1, "job %s already ended (%s)" % (b["id"], STATUS[b["id"]]["state"]))
        return None, (1, "no such job: %s" % b.get("id"))
    if op == "job.logs":
        if b.get("id") == 42 and b.get("task") == "downscale":
            return {"site": "site2", "stdout": "hello from downscale\nrank 0 of 4\n",
                    "stderr": "warning: fill value\n", "truncated": False}, None
        return None, (1, "job %s has no task '%s'" % (b.get("id"), b.get("task")))
    if op == "links.list":
        return LINKS, None
    return None, (2, "unknown request '%s'" % op)

ctx = zmq.Context()
s = ctx.socket(zmq.ROUTER)
s.bind("tcp://127.0.0.1:*")
log = open(d + "/requests.log", "w")
with open(d + "/endpoint.tmp", "w") as f:
    f.write(s.getsockopt_string(zmq.LAST_ENDPOINT))
import os
os.rename(d + "/endpoint.tmp", d + "/endpoint")
while True:
    rid, frame = s.recv_multipart()[:2]
    req = json.loads(frame)
    op, mid, body = req["op"], req["id"], req.get("body") or {}
    log.write(json.dumps({"op": op, "body": body}) + "\n")
    log.flush()
    res, err = answer(op, body)
    if res == "silence":
        continue
    if err:
        rep = {"op": op, "id": mid, "ok": False, "error": {"code": err[0], "text": err[1]}}
    else:
        rep = {"op": op, "id": mid, "ok": True, "body": res}
    s.send_multipart([rid, json.dumps(rep).encode()])
PY

py "$D/fake.py" "$D" >"$D/fake.log" 2>&1 &
fed_track $!
for _ in $(seq 100); do
    [ -f "$D/endpoint" ] && break
    sleep 0.1
done
[ -f "$D/endpoint" ] || fail "the fake scheduler did not start: $(cat "$D/fake.log")"
FEDSCHED_SCHEDULER=$(cat "$D/endpoint")
FEDSCHED_TIMEOUT=5
export FEDSCHED_SCHEDULER FEDSCHED_TIMEOUT
unset FEDSCHED_KEYS
log "fake scheduler at $FEDSCHED_SCHEDULER"

# contains TEXT NEEDLE WHAT: fail unless TEXT holds NEEDLE.
contains() {
    case $1 in
        *"$2"*) ;;
        *) fail "$3: expected '$2' in: $1" ;;
    esac
}
# last_request: the body of the latest request the fake received.
last_request() { tail -n 1 "$D/requests.log"; }

cat >"$D/good.yaml" <<'EOF'
version: 1
name: flood-risk
tasks:
  - name: downscale
    command: [regrid, "{in.rain}", "{out.fine}"]
EOF
printf 'version: 1\ntsks: bad\n' >"$D/bad.yaml"
printf 'version: 1\n# many-errors\n' >"$D/many.yaml"
printf 'version: 1\n# failjob\n' >"$D/fail.yaml"

# --- --help and usage errors -----------------------------------------------------------
log "--help of every verb; usage errors exit 2"
for v in validate submit jobs status explain wait watch cancel logs links; do
    expect_code 0 fedsched "$v" --help
    contains "$OUT" "usage: fedsched $v" "$v --help"
    expect_error 2 fedsched "$v" --no-such-option
done
for v in status explain wait watch cancel; do
    expect_error 2 fedsched "$v" abc
    contains "$ERR" "JOBID must be a positive integer" "$v abc"
    expect_error 2 fedsched "$v" 0
    expect_error 2 fedsched "$v" -- -3
    expect_error 2 fedsched "$v"
done
expect_error 2 fedsched logs 12x downscale
contains "$ERR" "JOBID must be a positive integer" "logs 12x"
expect_error 2 fedsched logs 42
expect_error 2 fedsched logs 42 downscale --stdout --stderr
expect_error 2 fedsched wait 42 --timeout soon
expect_error 2 fedsched validate
expect_error 2 fedsched submit a.yaml b.yaml
expect_error 2 fedsched jobs extra
expect_error 2 fedsched status 42 43

# --- job files ---------------------------------------------------------------------------
log "validate / submit: file errors, {file, text}, FILE:LINE:COL errors one per line"
expect_error 2 fedsched validate "$D/missing.yaml"
contains "$ERR" "cannot read $D/missing.yaml" "validate of a missing file"
expect_error 2 fedsched submit "$D/missing.yaml"
contains "$ERR" "cannot read $D/missing.yaml" "submit of a missing file"
expect_error 2 fedsched validate "$D"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' '#' >"$D/huge.yaml"
expect_error 2 fedsched validate "$D/huge.yaml"
contains "$ERR" "1 MiB" "a job file over 1 MiB"

expect_code 0 fedsched validate "$D/good.yaml"
[ "$OUT" = "$D/good.yaml: valid (2 tasks)" ] || fail "validate printed: $OUT"
py - "$(last_request)" "$D/good.yaml" <<'PY' || fail "validate did not send {file, text} (see above)"
import json, sys
r = json.loads(sys.argv[1])
assert r["op"] == "job.validate", r
assert r["body"] == {"file": sys.argv[2], "text": open(sys.argv[2]).read()}, r
PY

expect_error 2 fedsched validate "$D/bad.yaml"
py - "$ERR" "$D/bad.yaml" <<'PY' || fail "validate: errors not one per line (see above)"
import sys
err, f = sys.argv[1], sys.argv[2]
lines = err.splitlines()
want = ["fedsched: error: %s:3:5: unknown key 'tsks' (did you mean 'tasks'?)" % f,
        "fedsched: error: %s:9:12: task 'route': unknown dataset 'mwr/basins/nope'" % f,
        "fedsched: error: %s:14:1: dependency cycle: a -> b -> a" % f]
assert lines == want, lines
PY
expect_error 2 fedsched validate "$D/many.yaml"
[ "$(echo "$ERR" | grep -c "^fedsched: error: $D/many.yaml:[0-9]*:3: unknown key")" = 40 ] ||
    fail "validate: 40 errors (over 1 KiB of text) expected, one per line: $ERR"
expect_error 2 fedsched submit "$D/bad.yaml"
[ "$(echo "$ERR" | grep -c "^fedsched: error: $D/bad.yaml:")" = 3 ] ||
    fail "submit: 3 error lines expected: $ERR"
[ -z "$OUT" ] || fail "submit of a bad file printed on stdout: $OUT"

log "submit prints the id alone; --json; --wait"
expect_code 0 fedsched submit "$D/good.yaml"
[ "$OUT" = 42 ] || fail "submit must print the job id alone, got: '$OUT'"
contains "$(last_request)" '"op": "job.submit"' "submit's request"
expect_code 0 fedsched submit "$D/good.yaml" --json
py - "$OUT" <<'PY' || fail "submit --json (see above)"
import json, sys
assert json.loads(sys.argv[1]) == {"id": 42}, sys.argv[1]
PY
expect_code 0 fedsched submit --wait "$D/good.yaml"
[ "$OUT" = 42 ] || fail "submit --wait must print the job id alone, got: '$OUT'"
expect_error 1 fedsched submit --wait "$D/fail.yaml"
[ "$OUT" = 43 ] || fail "submit --wait of a failing job: stdout '$OUT'"
contains "$ERR" "task route failed at site3 with exit code 3" "submit --wait of a failing job"
expect_code 0 fedsched submit --wait --json "$D/good.yaml"
py - "$OUT" "$D/status.json" <<'PY' || fail "submit --wait --json must print the final status"
import json, sys
assert json.loads(sys.argv[1]) == json.load(open(sys.argv[2]))["42"]
PY

# --- jobs, status, explain ------------------------------------------------------------------
log "jobs: table, --all, --json"
expect_code 0 fedsched jobs
contains "$(echo "$OUT" | head -n 1)" "ID  NAME" "jobs header"
contains "$OUT" "TASKS" "jobs header"
contains "$OUT" "SUBMITTED" "jobs header"
echo "$OUT" | grep -Eq '^44 +forever +RUNNING +0/3 +2026-11-27T07:21:40Z$' || fail "jobs row for 44: $OUT"
echo "$OUT" | grep -q flood-risk && fail "jobs without --all listed an ended job: $OUT"
contains "$(last_request)" '"all": false' "job.list body"
expect_code 0 fedsched jobs --all
contains "$OUT" "flood-risk" "jobs --all"
contains "$(last_request)" '"all": true' "job.list --all body"
expect_code 0 fedsched jobs --all --json
py - "$OUT" <<'PY' || fail "jobs --json (see above)"
import json, sys
j = json.loads(sys.argv[1])
assert [list(x) for x in j] == [["id", "name", "state", "tasks_done", "tasks_total", "submitted"]] * 3, j
assert j[0] == {"id": 44, "name": "forever", "state": "RUNNING", "tasks_done": 0, "tasks_total": 3,
                "submitted": "2026-11-27T07:21:40Z"}, j[0]
assert j[2]["tasks_done"] == 2 and j[2]["state"] == "COMPLETED", j[2]
PY

log "status: --json is the body; the table"
for id in 42 43 44; do
    expect_code 0 fedsched status "$id" --json
    py - "$OUT" "$D/status.json" "$id" <<'PY' || fail "status $id --json differs from the body"
import json, sys
assert json.loads(sys.argv[1]) == json.load(open(sys.argv[2]))[sys.argv[3]]
PY
done
expect_code 0 fedsched status 42
contains "$OUT" "job 42 (flood-risk): COMPLETED, 2 of 2 tasks completed" "status job line"
echo "$OUT" | grep -Eq '^TASK +STATE +SITE +RANKS +EXIT +STARTED +ENDED +MOVED$' ||
    fail "status table header: $OUT"
echo "$OUT" | grep -Eq '^route +COMPLETED +site3 +1 +0 +2026-11-27T07:21:52Z +2026-11-27T07:22:40Z +3.0 MiB$' ||
    fail "status row for route: $OUT"
expect_code 0 fedsched status 43
contains "$OUT" "task route (attempt 2): exited with status 3" "status of a failed job"
expect_error 1 fedsched status 99
contains "$ERR" "no such job: 99" "status of an unknown job"

log "explain: every candidate, cheapest first, then the excluded"
expect_code 0 fedsched explain 42 downscale
py - "$OUT" <<'PY' || fail "explain 42 downscale (see above)"
import sys
out = sys.argv[1]
assert "task downscale: COMPLETED at site2" in out, out
assert "It ran at site2, the earliest estimated finish: 12.5 s (2 of 4 sites could run it)" in out, out
assert "input cma/era5/precip is at site2 (no bytes to move)" in out, out
rows = [l.split() for l in out.splitlines() if l.startswith("    site")]
assert [r[0] for r in rows] == ["site2", "site1", "site3", "site4"], rows
assert rows[0][1:4] == ["12.5", "s", "chosen"], rows[0]
assert rows[1][1:3] == ["40.2", "s"] or rows[1][1:3] == ["40.3", "s"], rows[1]
assert "excluded: policy regions=eu of nbs/census/pop forbids region asia" in out, out
assert "excluded: 4 ranks > 2 cores" in out, out
assert "route" not in out, out
PY
expect_code 0 fedsched explain 44
contains "$OUT" "task downscale: RUNNING at site2" "explain 44"
contains "$OUT" "It runs at site2" "explain 44"
contains "$OUT" "task stuck: READY" "explain 44"
contains "$OUT" "cannot run anywhere at the moment" "explain 44 stuck"
contains "$OUT" "excluded: site is drained" "explain 44 stuck"
contains "$OUT" "excluded: site is down" "explain 44 stuck"
contains "$OUT" "task later: WAITING" "explain 44"
contains "$OUT" "waits for the tasks it depends on" "explain 44 later"
expect_error 1 fedsched explain 42 nosuchtask
contains "$ERR" "no task 'nosuchtask'" "explain of an unknown task"
expect_code 0 fedsched explain 42 --json
py - "$OUT" "$D/status.json" <<'PY' || fail "explain --json (see above)"
import json, sys
j, st = json.loads(sys.argv[1]), json.load(open(sys.argv[2]))["42"]
assert [t["placement"] for t in j] == [t["placement"] for t in st["tasks"]], j
PY

# --- wait, watch -------------------------------------------------------------------------------
log "wait: 0 COMPLETED, 1 FAILED/CANCELLED, 124 timeout, 1 unknown, 75 unreachable"
expect_code 0 fedsched wait 42
contains "$OUT" "job 42: COMPLETED" "wait 42"
expect_error 1 fedsched wait 43
contains "$ERR" "job 43 FAILED: task route failed at site3 with exit code 3: exited with status 3" "wait 43"
expect_error 1 fedsched wait 45
contains "$ERR" "job 45 was CANCELLED" "wait 45"
t0=$(date +%s.%N)
expect_error 124 fedsched wait 44 --timeout 1.5
t1=$(date +%s.%N)
contains "$ERR" "still RUNNING after 1.5 s" "wait --timeout"
py -c "import sys; d = float(sys.argv[2]) - float(sys.argv[1]); assert 1.4 < d < 4, d" "$t0" "$t1" ||
    fail "wait --timeout 1.5 did not end after about 1.5 s"
expect_code 124 fedsched wait 44 --timeout 0
expect_error 1 fedsched wait 99
contains "$ERR" "no such job: 99" "wait for an unknown job"
expect_code 0 fedsched wait 46
FEDSCHED_TIMEOUT=1 expect_error 75 fedsched wait 48 --timeout 30
contains "$ERR" "no answer from" "wait while the scheduler is silent"
FEDSCHED_SCHEDULER=tcp://127.0.0.1:1 FEDSCHED_TIMEOUT=1 expect_error 75 fedsched wait 42
for v in "jobs" "status 42" "links" "validate $D/good.yaml"; do
    # shellcheck disable=SC2086
    FEDSCHED_SCHEDULER=tcp://127.0.0.1:1 FEDSCHED_TIMEOUT=1 expect_error 75 fedsched $v
done

log "watch: one plain line per change when stdout is not a terminal"
expect_code 0 fedsched watch 47
py - "$OUT" <<'PY' || fail "watch 47 (see above)"
import re, sys
lines = sys.argv[1].splitlines()
assert all(re.match(r"^\d\d:\d\d:\d\d (job|task) ", l) for l in lines), lines
text = "\n".join(l[9:] for l in lines)
for want in ("job 47 (prog) PENDING, 2 tasks", "task downscale READY", "task route WAITING",
             "job 47 RUNNING", "task downscale RUNNING at site2", "task downscale COMPLETED at site2",
             "task route RUNNING at site3", "task route COMPLETED at site3", "job 47 COMPLETED"):
    assert want in text.splitlines(), (want, text)
assert len(lines) == 9, lines
PY
expect_error 1 fedsched watch 43
contains "$OUT" "task route FAILED at site3 (exit code 3): exited with status 3" "watch 43"
contains "$ERR" "job 43 FAILED" "watch 43"
if command -v script >/dev/null 2>&1; then
    log "watch on a terminal: the view redrawn in place"
    TERM=dumb script -qec "fedsched watch 42" /dev/null >"$D/tty.out" 2>&1 </dev/null ||
        fail "watch 42 on a pty failed: $(cat "$D/tty.out")"
    grep -q 'job 42 flood-risk  COMPLETED  \[#*\]  2/2 tasks done' "$D/tty.out" ||
        fail "watch on a pty: no progress line: $(cat "$D/tty.out")"
    grep -Eq 'route +COMPLETED +site3' "$D/tty.out" || fail "watch on a pty: no task line"
else
    log "SKIPPED: watch on a terminal (no script(1) to make a pty)"
fi

# --- cancel, logs, links --------------------------------------------------------------------------
log "cancel"
expect_code 0 fedsched cancel 44
[ "$OUT" = "job 44: CANCELLED" ] || fail "cancel printed: $OUT"
expect_error 1 fedsched cancel 42
contains "$ERR" "job 42 already ended (COMPLETED)" "cancel of an ended job"
expect_error 1 fedsched cancel 99

log "logs"
expect_code 0 fedsched logs 42 downscale
[ "$OUT" = "$(printf 'hello from downscale\nrank 0 of 4')" ] || fail "logs stdout: $OUT"
expect_code 0 fedsched logs 42 downscale --stdout
contains "$OUT" "hello from downscale" "logs --stdout"
expect_code 0 fedsched logs 42 downscale --stderr
[ "$OUT" = "warning: fill value" ] || fail "logs --stderr: $OUT"
contains "$(last_request)" '"task": "downscale"' "job.logs body"
expect_error 1 fedsched logs 42 nosuchtask
contains "$ERR" "has no task 'nosuchtask'" "logs of an unknown task"

log "links: table with the default; --json is the body"
expect_code 0 fedsched links
echo "$OUT" | grep -Eq '^FROM +TO +BANDWIDTH +LATENCY +MEASURED +SAMPLES$' || fail "links header: $OUT"
echo "$OUT" | grep -Eq '^site1 +site2 +1.0 GB/s +2.0ms +950.0 MB/s +7$' || fail "links row 1: $OUT"
echo "$OUT" | grep -Eq '^site2 +site3 +50.0 MB/s +50ms +- +0$' || fail "links row 2: $OUT"
contains "$OUT" "default (pairs not listed): bandwidth 125.0 MB/s, latency 10ms" "links default"
expect_code 0 fedsched links --json
py - "$OUT" "$D/links.json" <<'PY' || fail "links --json differs from the body"
import json, sys
assert json.loads(sys.argv[1]) == json.load(open(sys.argv[2]))
PY

log "all job verbs behave"
