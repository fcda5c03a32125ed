#!/usr/bin/env bash
# A site worker on Slurm killed with SIGKILL while its tasks run in Slurm and others
# wait there, then restarted (issue 10, items 2, 3, 4 and 7; SPEC section 8):
# - two tasks run in Slurm (each waits for a file the test writes), then the
#   partition is set DOWN and two more are submitted: they pend there, and
#   `status --json` shows Slurm's word on them (batch: PENDING, PartitionDown);
# - the worker is killed (SIGKILL); while no worker runs, the running tasks end (one
#   writes its output, one exits 5) and, the partition up again, the pending ones run
#   and end;
# - the restarted worker adopts all four from its journal (by the job ids kept beside
#   their status files) and reports each one's own end: COMPLETED with its output
#   registered (readable with `get`) or FAILED with exit code 5;
# - every attempt has exactly one Slurm job: one record per job name in the job
#   completion log, and each task ran once (its `runs` file has one line).
# Exit 77 when Slurm cannot run here.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"
# shellcheck source=tests/integration/lib/slurm.sh
. "$(dirname "$0")/lib/slurm.sh"
slurm_need

jobs_env
FED_LAUNCHER=slurm fed_up 1 --cores 4
D=$FED_DIR
go() { touch "$(task_dir site1 "$1" "$2")/go"; }
runs() { cat "$(task_dir site1 "$1" "$2")/runs" 2>/dev/null | wc -l; }
wait_slurm_state() {
    local name=$1 want=$2 t0=$SECONDS st
    while :; do
        st=$(slurm_state "$name")
        [ "$st" = "$want" ] && return 0
        [ $((SECONDS - t0)) -lt 60 ] || fail "Slurm job $name is '$st', not $want, after 60 s"
        sleep 0.3
    done
}

cat >"$D/run.yaml" <<'EOF'
version: 1
name: running
tasks:
  - name: out
    command: [/usr/bin/python3, -c, "import h5py, numpy, os, sys, time\nopen('runs', 'a').write('run\\n')\nwhile not os.path.exists('go'): time.sleep(0.1)\nh5py.File(sys.argv[1], 'w')['o'] = numpy.arange(6) * 7", "{out.o.file}"]
    walltime: 10m
    outputs:
      o: {publish: results/slurm/o}
EOF
cat >"$D/five.yaml" <<'EOF'
version: 1
name: five
tasks:
  - name: five
    command: [sh, -c, "echo run >> runs; while [ ! -e go ]; do sleep 0.1; done; exit 5"]
    walltime: 10m
EOF
cat >"$D/pend.yaml" <<'EOF'
version: 1
name: pending
tasks:
  - name: p1
    command: [sh, -c, "echo run >> runs"]
    walltime: 10m
  - name: p2
    command: [sh, -c, "echo run >> runs; echo p2 done"]
    walltime: 10m
EOF
job_submit "$D/run.yaml"
R=$JOB
job_submit "$D/five.yaml"
F=$JOB
wait_slurm_state "fedsched.site1.$R.out.0" RUNNING
wait_slurm_state "fedsched.site1.$F.five.0" RUNNING
scontrol update PartitionName=site1 State=DOWN || fail "could not set partition site1 DOWN"
job_submit "$D/pend.yaml"
P=$JOB
wait_slurm_state "fedsched.site1.$P.p1.0" PENDING
wait_slurm_state "fedsched.site1.$P.p2.0" PENDING

log "status shows Slurm's word on the pending tasks"
t0=$SECONDS
while :; do
    job_status "$P"
    py - "$STATUS" <<'PY' && break
import json, sys
for t in json.loads(sys.argv[1])["tasks"]:
    b = t.get("batch") or {}
    assert b.get("system") == "slurm" and b.get("id") and b.get("state") == "PENDING", t
    assert b.get("reason") == "PartitionDown", t
PY
    [ $((SECONDS - t0)) -lt 20 ] || fail "status --json of job $P does not show batch PENDING (PartitionDown): $STATUS"
    sleep 0.5
done
expect_code 0 fedsched status "$P"
echo "$OUT" | grep -Eq "^task p1: Slurm job [0-9]+ PENDING \(PartitionDown\)$" ||
    fail "status does not show Slurm's state and reason: $OUT"
expect_code 0 fedsched explain "$P" p2
echo "$OUT" | grep -Eq "Batch: Slurm job [0-9]+ PENDING \(PartitionDown\)" ||
    fail "explain does not show Slurm's state and reason: $OUT"

log "worker killed (SIGKILL) with two tasks running in Slurm and two pending there"
fed_kill_worker site1 KILL
go "$R" out
go "$F" five
scontrol update PartitionName=site1 State=UP || fail "could not set partition site1 UP"
t0=$SECONDS
while :; do
    n=0
    for nm in "$R.out" "$F.five" "$P.p1" "$P.p2"; do
        case $(slurm_state "fedsched.site1.$nm.0") in COMPLETED | FAILED) n=$((n + 1)) ;; esac
    done
    [ $n = 4 ] && break
    [ $((SECONDS - t0)) -lt 60 ] || fail "the four Slurm jobs did not end while the worker was down: $(slurm_jobs)"
    sleep 0.3
done
log "all four ended while no worker ran; restarting the worker"
fed_start_worker site1
job_wait "$R" 0
job_wait "$F" 1
job_wait "$P" 0
job_status "$R"
py - "$STATUS" <<'PY' || fail "job $R after the restart: wrong state (see above)"
import json, sys
t = json.loads(sys.argv[1])["tasks"][0]
assert t["state"] == "COMPLETED" and t["attempt"] == 0, t
PY
job_status "$F"
py - "$STATUS" <<'PY' || fail "job $F after the restart: wrong state (see above)"
import json, sys
t = json.loads(sys.argv[1])["tasks"][0]
assert t["state"] == "FAILED" and t["exit_code"] == 5 and t["attempt"] == 0, t
assert t["batch"]["state"] == "FAILED", t
PY
expect_code 0 fedsched get results/slurm/o -o "$D/o.h5"
py -c 'import h5py, sys; v = list(h5py.File(sys.argv[1])["o"][...]); assert v == [0, 7, 14, 21, 28, 35], v' "$D/o.h5" ||
    fail "the output of the task that ended while the worker was down is not what it wrote"
for nm in "$R out" "$F five" "$P p1" "$P p2"; do
    set -- $nm
    [ "$(slurm_comp_count "fedsched.site1.$1.$2.0")" = 1 ] ||
        fail "task $2 of job $1: $(slurm_comp_count "fedsched.site1.$1.$2.0") Slurm jobs in the job completion log, expected exactly 1"
    [ "$(runs "$1" "$2")" = 1 ] || fail "task $2 of job $1 ran $(runs "$1" "$2") times"
done
n=$(grep -c 'event=slurm.adopt ' "$(site_dir site1)/worker.log")
[ "$n" = 4 ] || fail "the restarted worker adopted $n Slurm jobs, expected 4"
grep -q 'event=slurm.resubmit' "$(site_dir site1)/worker.log" && fail "a job was submitted again"
log "worker restart: every attempt had exactly one Slurm job and reported its own end"
