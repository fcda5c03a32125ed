#!/usr/bin/env bash
# Requests done at most once (SPEC section 8, docs/protocol.md "Tokens"): submit, cancel
# and publish carry a token; the scheduler keeps the answer it gave to a token and gives
# it again instead of doing the request twice.
#   - `submit --token T` twice makes one job and prints its id twice; T with another job
#     file is refused (exit 2); a malformed token is refused (exit 2);
#   - the same job.submit sent again after its answer (a lost reply) gets the same job,
#     also after a scheduler restart; so does a cancel (the second is not "already ended");
#   - a submit whose scheduler is frozen and then killed before it read the request is
#     sent again by the client to the restarted scheduler: exactly one job, the one it
#     printed;
#   - publish with the same token twice answers alike.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"

jobs_env
need zmq
fed_up 1 --launcher local --data demo
D=$FED_DIR
njobs() { fedsched jobs --all --json | py -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

cat >"$D/a.yaml" <<'EOF'
version: 1
name: tok-a
tasks:
  - name: t
    command: [sh, -c, "sleep 30"]
EOF
sed 's/tok-a/tok-b/' "$D/a.yaml" >"$D/b.yaml"

log "submit --token twice: one job"
expect_code 0 fedsched submit "$D/a.yaml" --token tok-1
ID=$OUT
expect_code 0 fedsched submit "$D/a.yaml" --token tok-1
[ "$OUT" = "$ID" ] || fail "the same token made job $OUT after job $ID"
[ "$(njobs)" = 1 ] || fail "two submits with one token made $(njobs) jobs"
expect_error 2 fedsched submit "$D/b.yaml" --token tok-1
case $ERR in *"tok-1"*"another job file"*) ;; *) fail "a token reused with another file: $ERR" ;; esac
expect_error 2 fedsched submit "$D/a.yaml" --token 'not a token!'
[ "$(njobs)" = 1 ] || fail "refused submits made jobs"

log "a lost reply: the same request again gets the same answer, across a restart"
py - "$FEDSCHED_SCHEDULER" "$D/a.yaml" <<'PY' >"$D/raw.out" || fail "raw submits (see above)"
import json, sys, zmq
uri, path = sys.argv[1], sys.argv[2]
s = zmq.Context().socket(zmq.DEALER)
s.setsockopt(zmq.LINGER, 0)
s.connect(uri)
body = {"file": "a.yaml", "text": open(path).read(), "token": "raw-1"}
ids = []
for i in (1, 2):
    s.send(json.dumps({"op": "job.submit", "id": i, "body": body}).encode())
    assert s.poll(20000), "no answer"
    r = json.loads(s.recv())
    assert r["ok"], r
    ids.append(r["body"]["id"])
assert ids[0] == ids[1], ids
print(ids[0])
PY
RAW=$(cat "$D/raw.out")
scheduler_crash_restart
wait_all_up 30 site1
py - "$FEDSCHED_SCHEDULER" "$D/a.yaml" "$RAW" <<'PY' || fail "the token was forgotten across a restart"
import json, sys, zmq
uri, path, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = zmq.Context().socket(zmq.DEALER)
s.setsockopt(zmq.LINGER, 0)
s.connect(uri)
body = {"file": "a.yaml", "text": open(path).read(), "token": "raw-1"}
s.send(json.dumps({"op": "job.submit", "id": 7, "body": body}).encode())
assert s.poll(20000), "no answer"
r = json.loads(s.recv())
assert r["ok"] and r["body"]["id"] == want, (r, want)
for i in (1, 2):
    s.send(json.dumps({"op": "job.cancel", "id": 10 + i, "body": {"id": want, "token": "cancel-1"}}).encode())
    assert s.poll(20000), "no answer"
    r = json.loads(s.recv())
    assert r["ok"] and r["body"]["state"] == "CANCELLED", r
s.send(json.dumps({"op": "job.cancel", "id": 20, "body": {"id": want}}).encode())
assert s.poll(20000)
r = json.loads(s.recv())
assert not r["ok"] and "already ended" in r["error"]["text"], r
PY
[ "$(njobs)" = 2 ] || fail "expected 2 jobs, found $(njobs)"

log "a submit the frozen scheduler never read: sent again to the restarted one"
SP=$(scheduler_pid)
kill -STOP "$SP"
FEDSCHED_TIMEOUT=30 fedsched submit "$D/b.yaml" >"$D/sub.out" 2>"$D/sub.err" &
SUB=$!
fed_track "$SUB"
sleep 2
kill -KILL "$SP"
kill -CONT "$SP" 2>/dev/null
pid_gone "$SP" 10 || fail "the frozen scheduler survived SIGKILL"
fed_start_scheduler
wait "$SUB" || fail "submit exited $? across the restart: $(cat "$D/sub.err")"
NEW=$(cat "$D/sub.out")
[[ $NEW =~ ^[0-9]+$ ]] || fail "submit printed '$NEW'"
[ "$(njobs)" = 3 ] || fail "one submit across a restart made $(($(njobs) - 2)) jobs"
fedsched jobs --all --json | py -c "import json,sys; assert any(j['id'] == $NEW and j['name'] == 'tok-b' for j in json.load(sys.stdin))" ||
    fail "the job submit printed ($NEW) is not the tok-b job"
wait_all_up 30 site1

log "publish with one token twice answers alike"
expect_code 0 fedsched publish site1 . --token pub-1 --json
P1=$OUT
expect_code 0 fedsched publish site1 . --token pub-1 --json
[ "$OUT" = "$P1" ] || fail "the same publish token answered differently: $P1 / $OUT"
for id in "$ID" "$NEW"; do fedsched cancel "$id" >/dev/null || true; done
log "OK"
