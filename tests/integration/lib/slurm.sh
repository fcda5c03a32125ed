# shellcheck shell=bash
# Helpers for the Slurm tests (tests/integration/slurm*.sh).  Source first:
#
#   . "$(dirname "$0")/lib/slurm.sh"
#   slurm_need                 # exit 77 unless a local Slurm can run here
#
# After fed_up (with FED_LAUNCHER=slurm), SLURM_CONF is set by DIR/env and:
#   slurm_jobs                 # squeue: "ID|STATE|NAME" of every job, one a line
#   slurm_comp_count NAME      # records of job name NAME in DIR/slurm/jobcomp.log
#   slurm_stop DAEMON / slurm_start DAEMON   (slurmctld, slurmd)

# slurm_need: skip (exit 77) when Slurm and munge are missing or this is not root.
slurm_need() {
    local c
    for c in munged mungekey slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
        if ! command -v "$c" >/dev/null 2>&1; then
            echo "[$(basename "$0" .sh)] SKIP: $c is not installed (cluster/install-deps installs Slurm)" >&2
            exit 77
        fi
    done
    if [ "$(id -u)" != 0 ]; then
        echo "[$(basename "$0" .sh)] SKIP: a local Slurm needs root" >&2
        exit 77
    fi
}

slurm_jobs() { squeue -h -t all -o '%i|%T|%j' 2>/dev/null; }

slurm_comp_count() {
    local f="$FED_DIR/slurm/jobcomp.log"
    [ -f "$f" ] || { echo 0; return 0; }
    grep -c -- " Name=$1 " "$f" || true
}

slurm_pid() { cat "$FED_DIR/slurm/$1.pid"; }

# slurm_stop DAEMON [SIGNAL]: stop one Slurm daemon (TERM by default) and wait for it.
slurm_stop() {
    local pid i
    pid=$(slurm_pid "$1") || fail "no $1.pid in $FED_DIR/slurm"
    kill -"${2:-TERM}" "$pid" 2>/dev/null || fail "$1 (pid $pid) was not running"
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "$1 (pid $pid) did not stop"
}

slurm_start() {
    "$REPO_ROOT/cluster/slurm-local" start --dir "$FED_DIR" "$1" >/dev/null || fail "could not start $1 again"
}
