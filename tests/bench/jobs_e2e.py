#!/usr/bin/python3
"""jobs_e2e.py - end-to-end job throughput: N one-task jobs running `true` with the
local launcher, from the first submit to the last completion, through a real local
federation (scheduler, workers, ZeroMQ, SQLite).  Used by tests/bench/placement.

    jobs_e2e.py SCHEDULER_URI N

Submits all N jobs over one connection (pipelined, as many clients would), then polls
job.list until none is PENDING or RUNNING.  Prints jobs/s for submit alone and end to end.
"""
import json, sys, time
import zmq

uri, n = sys.argv[1], int(sys.argv[2])
job = "version: 1\nname: t\ntasks:\n  - name: t\n    command: [\"true\"]\n"
ctx = zmq.Context()
s = ctx.socket(zmq.DEALER)
s.setsockopt(zmq.LINGER, 0)
s.connect(uri)

def call(op, body, i):
    s.send(json.dumps({"op": op, "id": i, "body": body}).encode())

t0 = time.time()
for i in range(n):
    call("job.submit", {"file": "bench.yaml", "text": job}, i + 1)
ids, errors = [], 0
poller = zmq.Poller(); poller.register(s, zmq.POLLIN)
while len(ids) + errors < n:
    if not poller.poll(30000):
        sys.exit("jobs_e2e: no answer from the scheduler for 30 s")
    r = json.loads(s.recv())
    if r.get("ok"):
        ids.append(r["body"]["id"])
    else:
        errors += 1
        print("submit refused:", r.get("error"), file=sys.stderr)
t_submit = time.time() - t0
deadline = time.time() + 600
pending = n
while time.time() < deadline:
    call("job.list", {"all": False}, 0)
    if not poller.poll(30000):
        sys.exit("jobs_e2e: no answer from the scheduler for 30 s")
    r = json.loads(s.recv())
    pending = len(r["body"]["jobs"])
    if pending == 0:
        break
    time.sleep(0.05)
t_all = time.time() - t0
call("job.list", {"all": True}, 0)
r = json.loads(s.recv())
states = {}
for j in r["body"]["jobs"]:
    if j["id"] in set(ids):
        states[j["state"]] = states.get(j["state"], 0) + 1
print("end-to-end: %d jobs submitted in %.2f s (%.0f submits/s), all ended in %.2f s: %.0f jobs/s; states %s"
      % (n, t_submit, n / t_submit, t_all, n / t_all, json.dumps(states)))
