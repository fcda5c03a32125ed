#!/usr/bin/env bash
# A newcomer's first hour (issue 15): messages that name what failed, where, and the
# next step, on a real 3-site federation.
#  - DIR/env puts the fedsched that runs the federation on PATH (a clean shell works);
#  - a failed task's error points to the log stream that holds its words (stdout,
#    stderr, both, or neither), a missing output is reported once, and a publish
#    refusal points to no logs;
#  - a walltime kill under mpirun is exit code 143; explain of a pinned task names the
#    sites its pin leaves out;
#  - `logs` of a site that stopped answering (not yet declared down) exits 75 naming it;
#    a `get` from it names the site's data port; an unreachable scheduler is named as such;
#  - slice errors carry a column; -o into a missing directory says so; a tab in a job
#    file is named; a mistyped verb gets a suggestion; a config file lists every error.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"

jobs_env
fed_up 3 --data demo
D=$FED_DIR

contains() { case $1 in *"$2"*) ;; *) fail "$3: '$2' not in: $1" ;; esac; }
lacks() { case $1 in *"$2"*) fail "$3: '$2' in: $1" ;; esac; }

log "DIR/env alone puts fedsched on PATH: the README's first commands in a clean shell"
out=$(env -i HOME="$D" PATH=/usr/bin:/bin bash -c ". '$D/env' && fedsched sites" 2>&1) ||
    fail "'. DIR/env; fedsched sites' in a clean shell: $out"
contains "$out" site3 "fedsched sites in a clean shell"

log "failure hints point to the stream the task wrote to"
# One job per task: a job's first failure cancels its other tasks.  The tasks that
# exit 0 and leave their output unwritten show the streams without mpirun's own
# report, which it writes to stderr for every rank that exits non-zero.
declare -A FJ
for t in sout serr sboth mute code; do
    case $t in
        sout) cmd='[sh, -c, "echo on stdout"]' ;;
        serr) cmd='[sh, -c, "echo on stderr >&2"]' ;;
        sboth) cmd='[sh, -c, "echo o; echo e >&2"]' ;;
        mute) cmd='["true"]' ;;
        code) cmd='[sh, -c, "echo on stderr >&2; exit 4"]' ;;
    esac
    printf 'version: 1\ntasks:\n  - name: %s\n    command: %s\n    outputs: {o: {}}\n' "$t" "$cmd" >"$D/$t.yaml"
    job_submit "$D/$t.yaml"
    FJ[$t]=$JOB
done
for t in sout serr sboth mute code; do
    job_wait "${FJ[$t]}" 1
    job_status "${FJ[$t]}"
    py - "$STATUS" "${FJ[$t]}" "$t" <<'PY' || fail "job ${FJ[$t]} ($t): wrong error (see above)"
import json, sys
j, job, n = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
t = j["tasks"][0]
e = t["error"] or ""
hint = {
    "sout": "(see 'fedsched logs %s sout')" % job,
    "serr": "(see 'fedsched logs %s serr --stderr')" % job,
    "sboth": "(see 'fedsched logs %s sboth' and 'fedsched logs %s sboth --stderr')" % (job, job),
    "mute": "(it wrote nothing to stdout or stderr)",
    "code": "(see 'fedsched logs %s code --stderr')" % job,
}[n]
assert t["state"] == "FAILED", t
assert e.endswith(" " + hint), "task %s: error %r does not end with %r" % (n, e, hint)
if n == "code":
    assert e == "exited with code 4 " + hint, e
else:
    assert e.count("was not written") == 1, "the missing output told %d times: %r" % (e.count("was not written"), e)
    assert e.startswith("output o was not written as "), e
PY
done
# wait adds no hint of its own (it once sent every failure to --stderr)
expect_code 1 fedsched wait "${FJ[code]}"
contains "$ERR" "with exit code 4: exited with code 4 (see 'fedsched logs ${FJ[code]} code --stderr')" "wait"
expect_code 1 fedsched wait "${FJ[sout]}"
lacks "$ERR" "--stderr" "wait on a task that wrote to stdout"

log "a publish refusal names the name and points to no logs"
cat >"$D/pub.yaml" <<'EOF'
version: 1
tasks:
  - name: w
    command: [regrid, --factor, "5", "{in.m}", "{out.o}"]
    inputs: {m: site1/demo/mask/land}
    outputs: {o: {publish: site2/demo/mask/land}}
    site: site1
EOF
job_submit "$D/pub.yaml"
job_wait "$JOB" 1
contains "$(cat "$D/wait.err")" "cannot publish output as 'site2/demo/mask/land'" "publish refusal"
lacks "$(cat "$D/wait.err")" "fedsched logs" "publish refusal"

log "a walltime kill under mpirun is exit code 143; explain of a pinned task names who is left out"
cat >"$D/wall.yaml" <<'EOF'
version: 1
tasks:
  - {name: nap, command: [sleep, "300"], walltime: 2s, ranks: 2, site: site2}
EOF
job_submit "$D/wall.yaml"
W=$JOB
job_wait "$W" 1
job_status "$W"
py -c 'import json, sys; t = json.loads(sys.argv[1])["tasks"][0]; assert t["exit_code"] == 143 and "walltime" in t["error"], t' "$STATUS" ||
    fail "walltime under mpirun: $STATUS"
expect_code 0 fedsched explain "$W"
contains "$OUT" "; others: 2 not the site the task is pinned to (site1, site3)" "explain of a pinned task"
lacks "$OUT" "others: "$'\n' "explain of a pinned task"

log "logs from a site that stopped answering: 75, naming the site, before it is declared down"
cat >"$D/one.yaml" <<'EOF'
version: 1
tasks:
  - {name: hi, command: [echo, hello], site: site1}
EOF
job_submit "$D/one.yaml"
H=$JOB
job_wait "$H" 0
expect_code 0 fedsched logs "$H" hi
[ "$OUT" = hello ] || fail "logs $H hi: '$OUT'"
# A site is declared down after heartbeat.timeout (5 s here, as long as the scheduler
# gives a site to answer logs): 30 s, so the site that stops is still "up".
sed -i 's/^  timeout: .*/  timeout: 30s/' "$D/federation.yaml"
fed_stop_scheduler
fed_start_scheduler
for s in site1 site2 site3; do wait_state "$s" up 30; done
W1=$(worker_pid site1)
kill -STOP "$W1"
fed_track_stopped=$W1
sleep 1
t0=$SECONDS
expect_error 75 fedsched logs "$H" hi
contains "$ERR" "site 'site1' did not answer within" "logs of a stopped site"
[ $((SECONDS - t0)) -le 9 ] || fail "logs of a stopped site took $((SECONDS - t0)) s"
[ "$(site_state site1)" = up ] || fail "site1 was declared down already: the case is not the one meant"
FEDSCHED_TIMEOUT=2 expect_error 75 fedsched get site1/demo/mask/land -o "$D/m.h5"
contains "$ERR" "no answer from site 'site1' (its data port tcp://" "get from a stopped site"
kill -CONT "$fed_track_stopped"

log "an unreachable scheduler is named as such, with where its address comes from"
PORT=$(py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
FEDSCHED_TIMEOUT=1 expect_error 75 fedsched --scheduler "tcp://127.0.0.1:$PORT" sites
contains "$ERR" "no answer from the scheduler at tcp://127.0.0.1:$PORT" "unreachable scheduler"
contains "$ERR" ". DIR/env" "unreachable scheduler"
out=$(env -u FEDSCHED_SCHEDULER FEDSCHED_TIMEOUT=1 fedsched sites 2>&1) && fail "sites without a scheduler address worked: $out"
contains "$out" "neither --scheduler nor FEDSCHED_SCHEDULER is set" "no scheduler address"

log "slices, -o, tabs, verbs"
expect_error 2 fedsched get 'site1/demo/climate/temp[0, 50]' -o "$D/t.h5"
contains "$ERR" "slice 'site1/demo/climate/temp[0, 50]' at column 28: index 50 is out of bounds" "get out of bounds"
expect_error 2 fedsched get 'site1/demo/climate/temp[0, 1, 2, 3]' -o "$D/t.h5"
contains "$ERR" "at column 34: too many indices" "get too many indices"
expect_error 1 fedsched get site1/demo/mask/land -o "$D/nodir/m.h5"
contains "$ERR" "directory $D/nodir does not exist" "-o into a missing directory"
lacks "$ERR" "errno" "-o into a missing directory"
printf 'version: 1\ntasks:\n  - name: a\n\t  command: [x]\n' >"$D/tab.yaml"
expect_error 2 fedsched validate "$D/tab.yaml"
contains "$ERR" "$D/tab.yaml:4:1: tabs are not allowed in YAML, use spaces" "a tab in a job file"
expect_error 2 fedsched gte x
contains "$ERR" "unknown verb 'gte': did you mean 'get'?" "a mistyped verb"

log "a config file lists every error at once"
cat >"$D/bad-site.yaml" <<'EOF'
name: site9
listen: 7701
cores: lots
data_roots:
  - {path: nowhere}
EOF
expect_error 2 fedsched worker -c "$D/bad-site.yaml"
n=$(echo "$ERR" | grep -c "^fedsched: error: $D/bad-site.yaml:")
[ "$n" = 3 ] || fail "worker -c with 3 errors printed $n: $ERR"
printf 'name: f\nlisten: tcp://127.0.0.1:1\n\theartbeat: {}\n' >"$D/bad-fed.yaml"
expect_error 2 fedsched scheduler -c "$D/bad-fed.yaml"
contains "$ERR" "$D/bad-fed.yaml:3:1: tabs are not allowed in YAML, use spaces" "a tab in federation.yaml"
log "messages lead somewhere"
