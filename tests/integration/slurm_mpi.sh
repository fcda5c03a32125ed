#!/usr/bin/env bash
# A 2-rank MPI task through a real local Slurm (issue 10, items 2 and 7), once with
# `slurm.mpi: srun` (site1: srun --mpi=pmix inside the batch job) and once with
# `slurm.mpi: mpirun` (site2: Open MPI's mpirun inside the allocation): each rank of
# an MPI program writes its rank, the communicator's size, SLURM_JOB_ID and
# SLURM_PROCID into the task's directory.  Checked: both ranks ran, in one
# MPI_COMM_WORLD of 2, inside the Slurm job whose id the job completion log gives
# for the attempt's job name; one Slurm job per attempt; sbatch got --ntasks=2 and
# --time in whole minutes (scontrol's TimeLimit); the task COMPLETED and `logs`
# shows the ranks' stdout.  Exit 77 when Slurm cannot run here.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"
# shellcheck source=tests/integration/lib/slurm.sh
. "$(dirname "$0")/lib/slurm.sh"
slurm_need
need mpicc

jobs_env
fed_dir
D=$FED_DIR
mkdir -p "$D/bin"
cat >"$D/ranks.c" <<'EOF'
/* Each rank writes rank-R.txt in its working directory: what MPI and Slurm say. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
int main (int argc, char **argv)
{
    int rank, size;
    MPI_Init (&argc, &argv);
    MPI_Comm_rank (MPI_COMM_WORLD, &rank);
    MPI_Comm_size (MPI_COMM_WORLD, &size);
    int sum = 0;
    MPI_Allreduce (&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    char path[64];
    snprintf (path, sizeof (path), "rank-%d.txt", rank);
    FILE *f = fopen (path, "w");
    if (!f)
        return 1;
    const char *job = getenv ("SLURM_JOB_ID"), *procid = getenv ("SLURM_PROCID");
    fprintf (f, "rank=%d size=%d sum=%d slurm_job=%s procid=%s task=%s\n", rank, size, sum,
             job ? job : "none", procid ? procid : "none", getenv ("FEDSCHED_TASK"));
    fclose (f);
    printf ("rank %d of %d in Slurm job %s\n", rank, size, job ? job : "none");
    MPI_Finalize ();
    return 0;
}
EOF
mpicc -o "$D/bin/mpi_ranks" "$D/ranks.c" || fail "mpicc could not build the test's MPI program"
PATH="$D/bin:$PATH"
export PATH

FED_LAUNCHER=slurm fed_up 2 --cores 4
# site2 starts its ranks with mpirun inside the allocation.
sed -i 's/^  poll: 1s$/  poll: 1s\n  mpi: mpirun/' "$(site_dir site2)/site.yaml"
grep -q '^  mpi: mpirun$' "$(site_dir site2)/site.yaml" || fail "test bug: could not set slurm.mpi at site2"
fed_kill_worker site2 TERM
fed_start_worker site2
wait_state site2 up 30

cat >"$D/mpi.yaml" <<'EOF'
version: 1
name: mpi-through-slurm
tasks:
  - name: viasrun
    command: [mpi_ranks]
    ranks: 2
    walltime: 90s
    site: site1
  - name: viampirun
    command: [mpi_ranks]
    ranks: 2
    walltime: 90s
    site: site2
EOF
job_submit "$D/mpi.yaml"
J=$JOB
job_wait "$J" 0
job_status "$J"
py - "$STATUS" <<'PY' || fail "job $J: the MPI tasks did not complete where pinned (see above)"
import json, sys
t = {x["name"]: x for x in json.loads(sys.argv[1])["tasks"]}
for n, s in (("viasrun", "site1"), ("viampirun", "site2")):
    assert t[n]["state"] == "COMPLETED" and t[n]["exit_code"] == 0, t[n]
    assert t[n]["site"] == s and t[n]["ranks"] == 2, t[n]
PY

for pair in site1:viasrun site2:viampirun; do
    site=${pair%%:*} task=${pair#*:}
    td=$(task_dir "$site" "$J" "$task")
    name="fedsched.$site.$J.$task.0"
    [ "$(slurm_comp_count "$name")" = 1 ] ||
        fail "$task: $(slurm_comp_count "$name") job completion records for job name $name, expected 1"
    sid=$(grep " Name=$name " "$D/slurm/jobcomp.log" | sed -E 's/^JobId=([0-9]+) .*/\1/')
    grep " Name=$name " "$D/slurm/jobcomp.log" | grep -q " JobState=COMPLETED Partition=$site " ||
        fail "$task: the Slurm job did not complete in partition $site: $(grep " Name=$name " "$D/slurm/jobcomp.log")"
    grep " Name=$name " "$D/slurm/jobcomp.log" | grep -q " ProcCnt=2 " ||
        fail "$task: the Slurm job did not have 2 CPUs (--ntasks=2)"
    grep " Name=$name " "$D/slurm/jobcomp.log" | grep -q " TimeLimit=2 " ||
        fail "$task: walltime 90s should be --time=2 (whole minutes, rounded up)"
    log "$task: Slurm job $sid in partition $site"
    for r in 0 1; do
        [ -f "$td/rank-$r.txt" ] || fail "$task: rank $r wrote nothing in $td ($(ls "$td"))"
        line=$(cat "$td/rank-$r.txt")
        case $line in
            "rank=$r size=2 sum=1 slurm_job=$sid "*" task=$task") ;;
            *) fail "$task: rank $r wrote '$line', expected rank=$r size=2 sum=1 slurm_job=$sid ... task=$task" ;;
        esac
    done
    [ -f "$td/rank-2.txt" ] && fail "$task: a third rank ran"
    expect_code 0 fedsched logs "$J" "$task"
    [ "$(echo "$OUT" | grep -c "of 2 in Slurm job $sid")" = 2 ] ||
        fail "$task: logs do not show both ranks' lines: $OUT"
done
# srun gives each rank its SLURM_PROCID; under mpirun the ranks are Open MPI's own.
grep -q 'procid=0' "$(task_dir site1 "$J" viasrun)/rank-0.txt" &&
    grep -q 'procid=1' "$(task_dir site1 "$J" viasrun)/rank-1.txt" ||
    fail "mpi: srun: the ranks were not Slurm tasks 0 and 1: $(cat "$(task_dir site1 "$J" viasrun)"/rank-*.txt)"
grep -q 'srun --mpi=pmix --ntasks=2' "$(task_dir site1 "$J" viasrun)/exit.0.slurm.sh" ||
    fail "site1's batch script does not start the ranks with srun --mpi=pmix"
grep -q 'mpirun -np 2' "$(task_dir site2 "$J" viampirun)/exit.0.slurm.sh" ||
    fail "site2's batch script does not start the ranks with mpirun"
log "2-rank MPI tasks ran through Slurm with both srun and mpirun"
