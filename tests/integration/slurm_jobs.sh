#!/usr/bin/env bash
# The joint-job tests (jobs.sh: the climate chain over three sites with 2-rank MPI
# tasks, placement by data, policy none, logs, the scheduler restarted) with every
# site on `launcher: slurm`: a single-node Slurm started by fedsched-local inside the
# federation's directory, one partition per site (issue 10, item 7).
# Exit 77 when Slurm cannot run here (not installed, not root).
set -u
. "$(dirname "$0")/lib/slurm.sh"
slurm_need
FED_LAUNCHER=slurm FED_TEST_NAME=slurm_jobs exec bash "$(dirname "$0")/jobs.sh"
