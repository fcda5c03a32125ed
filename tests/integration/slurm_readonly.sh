#!/usr/bin/env bash
# Tasks run through Slurm see the site's data roots read-only too (issue 14 item 3,
# "for plain commands through the launcher"): data_roots_readonly.sh with every site on
# `launcher: slurm`, where the ranks are started by slurmstepd (each rank runs as
# `fedsched-monitor --exec --readonly ROOT... -- COMMAND`).  Exit 77 when Slurm cannot
# run here.
set -u
# shellcheck source=tests/integration/lib/slurm.sh
. "$(dirname "$0")/lib/slurm.sh"
slurm_need
FED_LAUNCHER=slurm exec bash "$(dirname "$0")/data_roots_readonly.sh"
