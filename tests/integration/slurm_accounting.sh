#!/usr/bin/env bash
# Jobs that Slurm's controller has forgotten, with accounting (slurmdbd, sacct,
# fedsched-local --slurm-accounting): ONE sacct per poll settles them, and one an
# operator cancelled with scancel is the task's own failure, "cancelled in Slurm,
# not by fedsched" (issue 10, items 3 and 6).  See slurm_forget_check in
# lib/slurm.sh.  Exit 77 when Slurm, slurmdbd or MariaDB cannot run here.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"
# shellcheck source=tests/integration/lib/slurm.sh
. "$(dirname "$0")/lib/slurm.sh"
slurm_need accounting
jobs_env
export SLURM_LOCAL_MIN_JOB_AGE=2
FED_LAUNCHER=slurm fed_up 1 --cores 4 --slurm-accounting
scontrol show config | grep -Eq '^AccountingStorageType += accounting_storage/slurmdbd' ||
    fail "fedsched-local --slurm-accounting did not configure accounting"
slurm_forget_check 1
grep -q 'event=slurm.config site=site1 accounting=1' "$(site_dir site1)/worker.log" ||
    fail "site1's worker did not see that the cluster keeps accounting"
log "with accounting, forgotten jobs are settled by sacct"
