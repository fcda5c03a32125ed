#!/usr/bin/env bash
# A node failure under a running task (issue 10, items 3 and 7): site1 runs its tasks
# through a local Slurm, site2 with mpirun.  A task (retries: 0) placed at site1 runs
# there in Slurm; slurmd is killed (SIGKILL), so slurmctld declares the node down and
# the job NODE_FAIL.  That is the site's failure, not the task's: the task is placed
# again, at site2 (site1's partition has no cores left), without using up a retry,
# and completes there.  Checked: the job completion log says NODE_FAIL for the site1
# job; the task COMPLETED at site2 in attempt 1 although it has no retries; its
# first attempt's error says node failure; it ran once at each site.
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
FED_LAUNCHER=slurm fed_up 2 --cores 4
D=$FED_DIR
# site2 runs its tasks with mpirun, beside itself.
S2=$(site_dir site2)/site.yaml
sed -i -e 's/^launcher: slurm$/launcher: mpirun/' -e '/^slurm:$/d' -e '/^  partition: site2$/d' \
    -e '/^  poll: 1s$/d' "$S2"
grep -q '^launcher: mpirun$' "$S2" && ! grep -q '^slurm:' "$S2" || fail "test bug: could not make site2 an mpirun site"
fed_kill_worker site2 TERM
fed_start_worker site2
wait_state site2 up 30

cat >"$D/nf.yaml" <<EOF
version: 1
name: node-failure
tasks:
  - name: t
    command: [sh, -c, "echo \$FEDSCHED_SITE >> $D/runs; while [ ! -e $D/go ]; do sleep 0.2; done; echo done-at-\$FEDSCHED_SITE"]
    walltime: 10m
    retries: 0
EOF
job_submit "$D/nf.yaml"
J=$JOB
t0=$SECONDS
until [ "$(slurm_state "fedsched.site1.$J.t.0")" = RUNNING ] &&
    grep -qx site1 "$D/runs" 2>/dev/null; do
    [ $((SECONDS - t0)) -lt 60 ] || fail "the task did not start at site1 in Slurm: $(slurm_jobs); runs: $(cat "$D/runs" 2>/dev/null)"
    sleep 0.3
done
log "the task runs at site1 in Slurm: killing slurmd"
slurm_stop slurmd KILL
t0=$SECONDS
until grep -qx site2 "$D/runs" 2>/dev/null; do
    [ $((SECONDS - t0)) -lt 120 ] || fail "the task was not placed again at site2 within 120 s: $(fedsched status "$J" 2>&1)"
    sleep 0.5
done
log "placed again at site2 after $((SECONDS - t0)) s"
touch "$D/go"
job_wait "$J" 0
job_status "$J"
py - "$STATUS" <<'PY' || fail "after the node failure: wrong status (see above)"
import json, sys
t = json.loads(sys.argv[1])["tasks"][0]
assert t["state"] == "COMPLETED" and t["site"] == "site2", t
assert t["attempt"] == 1, "attempt %s, expected 1 (placed again once)" % t["attempt"]
PY
grep " Name=fedsched.site1.$J.t.0 " "$D/slurm/jobcomp.log" | grep -q ' JobState=NODE_FAIL ' ||
    fail "the job completion log does not say NODE_FAIL for the site1 job: $(grep "fedsched.site1.$J" "$D/slurm/jobcomp.log")"
grep -q "event=slurm.end site=site1 .*name=fedsched.site1.$J.t.0 state=NODE_FAIL .*site_failure=1" \
    "$(site_dir site1)/worker.log" || fail "site1's worker did not see the node failure as the site's"
grep -q "event=task.requeue job=$J task=t site=site1" "$D/scheduler.log" ||
    fail "the scheduler did not requeue the task (without using a retry)"
[ "$(sort "$D/runs" | tr '\n' ' ')" = "site1 site2 " ] || fail "runs: $(cat "$D/runs"), expected one at each site"
expect_code 0 fedsched logs "$J" t
case $OUT in *done-at-site2*) ;; *) fail "logs do not show the run at site2: $OUT" ;; esac
log "node failure: the task was placed again at another site without using a retry"
