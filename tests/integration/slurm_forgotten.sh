#!/usr/bin/env bash
# Jobs that Slurm has forgotten, without accounting (no slurmdbd, no sacct), found by a worker restarted after it was killed: they are
# settled by the exit status their batch scripts wrote, and one that wrote none
# (cancelled by an operator with scancel) is a lost job, a site failure, never a
# completion (issue 10, items 3 and 6).  See slurm_forget_check in lib/slurm.sh.
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
export SLURM_LOCAL_MIN_JOB_AGE=2
FED_LAUNCHER=slurm fed_up 1 --cores 4
scontrol show config | grep -Eq '^AccountingStorageType += accounting_storage/none' ||
    fail "this Slurm keeps accounting; the test is about one that does not"
slurm_forget_check 0
log "without accounting, forgotten jobs are settled by their exit-status files"
