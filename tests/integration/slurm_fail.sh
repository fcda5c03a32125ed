#!/usr/bin/env bash
# Tasks through a real local Slurm that do not simply complete (issue 10, items 3, 4
# and 7), on three sites with `launcher: slurm`:
# - walltime exceeded: `walltime: 30s` on `sleep 600` becomes --time=1; Slurm ends it
#   (TIMEOUT in the job completion log) and the task FAILED with an error that says
#   walltime and TIMEOUT;
# - `fedsched cancel` of a job with one task running in Slurm and one pending there:
#   the job is CANCELLED and squeue lists none of its Slurm jobs afterwards;
# - an unknown partition (site3): the task FAILED with Slurm's own message, after one
#   sbatch, and is not submitted again;
# - slurmctld stopped for 20 s under a running task: the task stays RUNNING (squeue
#   fails meanwhile: the worker backs off) and COMPLETED after slurmctld is back.
# The walltime task runs while the others are tested.  Exit 77 when Slurm cannot
# run here.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"
# shellcheck source=tests/integration/lib/slurm.sh
. "$(dirname "$0")/lib/slurm.sh"
slurm_need

jobs_env
FED_LAUNCHER=slurm fed_up 3 --cores 8
D=$FED_DIR

# task_field ID TASK FIELD: one field of a task in `status --json`.
task_field() {
    local json
    json=$(fedsched status "$1" --json 2>/dev/null) || { echo "?"; return 0; }
    py -c 'import json, sys
t = [x for x in json.loads(sys.argv[1])["tasks"] if x["name"] == sys.argv[2]][0]
print(t.get(sys.argv[3]))' "$json" "$2" "$3" 2>/dev/null || echo "?"
}


# --- walltime exceeded (runs in the background of the rest) -------------------------------
log "walltime 30s on sleep 600: submitted with --time=1"
cat >"$D/long.yaml" <<'EOF'
version: 1
name: too-long
tasks:
  - name: nap
    command: [sh, -c, "sleep 600"]
    walltime: 30s
    site: site1
EOF
job_submit "$D/long.yaml"
LONG=$JOB
LONG_T0=$SECONDS

# --- an unknown partition ------------------------------------------------------------------
log "site3 configured with a partition Slurm does not have: the task fails once with Slurm's message"
sed -i 's/^  partition: site3$/  partition: nosuchpartition/' "$(site_dir site3)/site.yaml"
grep -q 'partition: nosuchpartition' "$(site_dir site3)/site.yaml" || fail "test bug: could not edit site3's partition"
fed_kill_worker site3 TERM
fed_start_worker site3
wait_state site3 up 30
cat >"$D/badpart.yaml" <<'EOF'
version: 1
name: bad-partition
tasks:
  - name: t
    command: [sh, -c, "echo should-not-run"]
    walltime: 1m
    site: site3
EOF
job_submit "$D/badpart.yaml"
BAD=$JOB
job_wait "$BAD" 1
job_status "$BAD"
py - "$STATUS" <<'PY' || fail "unknown partition: wrong status (see above)"
import json, sys
t = json.loads(sys.argv[1])["tasks"][0]
assert t["state"] == "FAILED", t
assert "invalid partition specified: nosuchpartition" in (t["error"] or ""), "error lacks Slurm's message: %r" % t["error"]
assert t["attempt"] == 0, "the task was tried again (attempt %s)" % t["attempt"]
PY
sleep 3
n=$(grep -c 'event=slurm.submit.fail' "$(site_dir site3)/worker.log")
[ "$n" = 1 ] || fail "site3 ran sbatch $n times for the task in an unknown partition, expected once"
grep -q 'event=slurm.submit ' "$(site_dir site3)/worker.log" && fail "site3 says a job was queued in the unknown partition"
[ -z "$(ls "$(task_dir site3 "$BAD" t)"/rank* 2>/dev/null)" ] || fail "the task ran"

# --- cancel: one running, one pending -----------------------------------------------------------
log "cancel of a job with a task running in Slurm and one pending there: squeue ends up empty of them"
cat >"$D/two.yaml" <<'EOF'
version: 1
name: two-big
tasks:
  - name: a
    command: [sh, -c, "sleep 300"]
    ranks: 4
    walltime: 10m
    site: site2
  - name: b
    command: [sh, -c, "sleep 300"]
    ranks: 4
    walltime: 10m
    site: site2
EOF
job_submit "$D/two.yaml"
TWO=$JOB
# The node has 8 CPUs and the walltime task holds one: one of the two runs, one pends.
t0=$SECONDS
while :; do
    sa=$(slurm_state "fedsched.site2.$TWO.a.0") sb=$(slurm_state "fedsched.site2.$TWO.b.0")
    case "$sa/$sb" in RUNNING/PENDING | PENDING/RUNNING) break ;; esac
    [ $((SECONDS - t0)) -lt 60 ] || fail "expected one of job $TWO's Slurm jobs running and one pending, squeue: a=$sa b=$sb"
    sleep 0.5
done
expect_code 0 fedsched cancel "$TWO"
job_wait "$TWO" 1
t0=$SECONDS
while :; do
    left=$(squeue -h -o '%i|%T|%j' | grep "|fedsched.site2.$TWO\." || true)
    [ -z "$left" ] && break
    [ $((SECONDS - t0)) -lt 20 ] || fail "20 s after cancel, squeue still lists: $left"
    sleep 0.5
done
[ "$(task_field "$TWO" a state)/$(task_field "$TWO" b state)" = CANCELLED/CANCELLED ] ||
    fail "after cancel: tasks a, b are $(task_field "$TWO" a state)/$(task_field "$TWO" b state)"

# --- slurmctld stopped for 20 s under a running task --------------------------------------------
log "slurmctld stopped for 20 s under a running task: it stays RUNNING, completes afterwards"
cat >"$D/outage.yaml" <<'EOF'
version: 1
name: outage
tasks:
  - name: work
    command: [sh, -c, "echo started > started.txt; sleep 25; echo done > done.txt"]
    walltime: 5m
    site: site2
EOF
job_submit "$D/outage.yaml"
OUT_JOB=$JOB
t0=$SECONDS
# Running means the task's own process has started (srun needs slurmctld to create
# the job step: an outage before that fails the step, as on any cluster).
until [ -f "$(task_dir site2 "$OUT_JOB" work)/started.txt" ]; do
    [ $((SECONDS - t0)) -lt 60 ] || fail "the outage task never started under Slurm"
    sleep 0.2
done
[ "$(slurm_state "fedsched.site2.$OUT_JOB.work.0")" = RUNNING ] || fail "squeue does not show the outage task RUNNING"
slurm_stop slurmctld
t0=$SECONDS
while [ $((SECONDS - t0)) -lt 20 ]; do
    st=$(task_field "$OUT_JOB" work state)
    [ "$st" = RUNNING ] || fail "with slurmctld down the task became '$st', expected it to stay RUNNING"
    sleep 2
done
grep -q 'event=slurm.unreachable site=site2' "$(site_dir site2)/worker.log" ||
    fail "site2's worker did not notice slurmctld was down (no event=slurm.unreachable)"
slurm_start slurmctld
job_wait "$OUT_JOB" 0
[ -f "$(task_dir site2 "$OUT_JOB" work)/done.txt" ] || fail "the task did not run to its end"
grep -q 'event=slurm.reachable site=site2' "$(site_dir site2)/worker.log" ||
    fail "site2's worker did not log slurmctld coming back"

# --- the walltime task's end ---------------------------------------------------------------------
log "waiting for Slurm to end the walltime task (its time limit is enforced about every 30 s)"
JOB_WAIT_S=240 job_wait "$LONG" 1
log "the walltime task ended after $((SECONDS - LONG_T0)) s"
job_status "$LONG"
py - "$STATUS" <<'PY' || fail "walltime: wrong status (see above)"
import json, sys
t = json.loads(sys.argv[1])["tasks"][0]
assert t["state"] == "FAILED", t
e = t["error"] or ""
assert "walltime" in e and "TIMEOUT" in e, "error does not say walltime/TIMEOUT: %r" % e
PY
grep " Name=fedsched.site1.$LONG.nap.0 " "$D/slurm/jobcomp.log" | grep -q ' JobState=TIMEOUT ' ||
    fail "the job completion log does not show the walltime task TIMEOUT: $(grep "fedsched.site1.$LONG.nap.0" "$D/slurm/jobcomp.log")"
log "timeout, cancel, unknown partition and a slurmctld outage all behave"
