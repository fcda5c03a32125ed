#!/usr/bin/env bash
# What a batch site says in the protocol (docs/protocol.md, "Batch sites"), sent by a
# stand-in site (a Python DEALER socket saying hello as site "hpc") to a real scheduler:
# - site.hello `launcher` and site.heartbeat `cores` and `queue` show in `sites` and
#   `sites --json` (launcher, queue, the cores the heartbeat said);
# - malformed ones are refused with code 2 (launcher not a name, queue not an object,
#   a count not an integer, wait_s a string, an unknown key), the scheduler lives on;
# - task.update `batch` shows in `status --json` and `status`; a batch that is not an
#   object of strings and numbers is refused with code 2.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"
need zmq

jobs_env
fed_up 1
D=$FED_DIR
cat >"$D/fed.py" <<'PY'
import json, subprocess, sys, time, zmq

uri = sys.argv[1]
ctx = zmq.Context()
s = ctx.socket(zmq.DEALER)
s.setsockopt(zmq.LINGER, 0)
s.connect(uri)
bad = []
nid = [100]
starts = []

def call(op, body, want_ok=True, code=None):
    nid[0] += 1
    s.send(json.dumps({"op": op, "id": nid[0], "body": body}).encode())
    deadline = time.time() + 5
    while time.time() < deadline:
        if not s.poll(int((deadline - time.time()) * 1000) + 1):
            break
        r = json.loads(s.recv())
        if r.get("op") == "task.start":
            starts.append(r)           # kept for the test below
            continue
        if r.get("id") != nid[0] or r.get("op") != op:
            continue                   # an older answer
        if want_ok and not r.get("ok"):
            bad.append("%s %s: refused: %s" % (op, body, r.get("error")))
        if not want_ok and (r.get("ok") or (code and r["error"]["code"] != code)):
            bad.append("%s %s: expected error code %s, got %s" % (op, body, code, r))
        else:
            print("ok   %s -> %s" % (op, "ok" if r.get("ok") else "error %s: %s" % (r["error"]["code"], r["error"]["text"][:90])))
        return r
    bad.append("%s: no answer" % op)

def sites():
    return {x["name"]: x for x in json.loads(subprocess.check_output(["fedsched", "sites", "--json"]))}

hello = {"proto": 1, "name": "hpc", "region": "hpc", "data_uri": "tcp://127.0.0.1:9", "cores": 4,
         "tasks": []}
call("site.hello", dict(hello, launcher="not a name!"), want_ok=False, code=2)
call("site.hello", dict(hello, launcher=7), want_ok=False, code=2)
call("site.hello", dict(hello, launcher="slurm"))
q = {"pending": 3, "running": 1, "cores_idle": 2, "wait_s": 40.5, "reachable": True}
for body in ({"name": "hpc", "queue": "full"},
             {"name": "hpc", "queue": dict(q, pending="3")},
             {"name": "hpc", "queue": dict(q, pending=-1)},
             {"name": "hpc", "queue": dict(q, wait_s="soon")},
             {"name": "hpc", "queue": dict(q, depth=9)},
             {"name": "hpc", "queue": {"pending": 1}},
             {"name": "hpc", "cores": 0},
             {"name": "hpc", "cores": "16"}):
    call("site.heartbeat", body, want_ok=False, code=2)
call("site.heartbeat", {"name": "hpc", "cores_free": 2, "running": 1, "cores": 16, "queue": q})
h = sites().get("hpc", {})
if h.get("launcher") != "slurm" or h.get("cores") != 16 or h.get("state") != "up":
    bad.append("sites --json: hpc %s" % h)
if h.get("queue") != {"pending": 3, "running": 1, "cores_idle": 2, "wait_s": 40.5}:
    bad.append("sites --json: queue %s" % h.get("queue"))
if sites().get("site1", {}).get("launcher") != "mpirun" or sites()["site1"].get("queue") is not None:
    bad.append("sites --json: site1 %s" % sites().get("site1"))
table = subprocess.check_output(["fedsched", "sites"]).decode()
line = [l for l in table.splitlines() if l.startswith("hpc ")]
if not line or "slurm" not in line[0] or "3 pending" not in line[0]:
    bad.append("sites table: %r" % table)

# A task pinned to hpc: its task.start comes to this socket.
job = subprocess.check_output(["fedsched", "submit", sys.argv[2]]).decode().strip()
start = None
deadline = time.time() + 10
while time.time() < deadline and not start:
    call("site.heartbeat", {"name": "hpc", "cores_free": 2, "running": 1, "queue": q})
    if s.poll(300):
        m = json.loads(s.recv())
        if m.get("op") == "task.start":
            starts.append(m)
    if starts:
        start = starts[0]
        s.send(json.dumps({"op": "task.start", "id": start["id"], "ok": True, "body": {}}).encode())
if not start:
    bad.append("no task.start came for job %s" % job)
else:
    b = start["body"]
    key = {"site": "hpc", "job": b["job"], "task": b["task"], "attempt": b["attempt"]}
    call("task.update", dict(key, state="STAGING"))
    batch = {"system": "slurm", "id": "4242", "state": "PENDING", "reason": "Priority", "start": 1900000000}
    call("task.update", dict(key, state="RUNNING", batch=batch))
    for badb in ("PENDING", ["x"], {"state": ["PENDING"]}, {"id": None}):
        call("task.update", dict(key, state="RUNNING", batch=badb), want_ok=False, code=2)
    st = json.loads(subprocess.check_output(["fedsched", "status", job, "--json"]))
    if st["tasks"][0].get("batch") != batch:
        bad.append("status --json batch: %s" % st["tasks"][0].get("batch"))
    out = subprocess.check_output(["fedsched", "status", job]).decode()
    if "task t: Slurm job 4242 PENDING (Priority)" not in out:
        bad.append("status table: %r" % out)
    call("task.update", dict(key, state="FAILED", exit_code=3, error="test ends it",
                             batch=dict(batch, state="FAILED", reason="NonZeroExitCode")))
    st = json.loads(subprocess.check_output(["fedsched", "status", job, "--json"]))
    t = st["tasks"][0]
    if t["state"] != "FAILED" or t["batch"]["state"] != "FAILED":
        bad.append("status after FAILED: %s" % t)
for m in bad:
    print("FAIL", m)
sys.exit(1 if bad else 0)
PY
cat >"$D/pinned.yaml" <<'EOF'
version: 1
name: at-hpc
tasks:
  - name: t
    command: ["true"]
    site: hpc
EOF
py "$D/fed.py" "$FEDSCHED_SCHEDULER" "$D/pinned.yaml" || fail "batch site messages were not handled as docs/protocol.md says (above)"
kill -0 "$(scheduler_pid)" || fail "the scheduler died"
expect_code 0 fedsched sites
log "batch site messages: shown when right, refused with code 2 when malformed"
