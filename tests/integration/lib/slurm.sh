# shellcheck shell=bash
# Helpers for the Slurm tests (tests/integration/slurm*.sh).  Source first:
#
#   . "$(dirname "$0")/lib/slurm.sh"
#   slurm_need                 # exit 77 unless a local Slurm can run here
#
# After fed_up (with FED_LAUNCHER=slurm), SLURM_CONF is set by DIR/env and:
#   slurm_jobs                 # squeue: "ID|STATE|NAME" of every job, one a line
#   slurm_state NAME, slurm_id NAME   # of the job called NAME
#   slurm_comp_count NAME      # records of job name NAME in DIR/slurm/jobcomp.log
#   slurm_stop DAEMON / slurm_start DAEMON   (slurmctld, slurmd)

# slurm_need: skip (exit 77) when Slurm and munge are missing or this is not root.
# slurm_need accounting: also slurmdbd and MariaDB.
slurm_need() {
    local c cmds=(munged mungekey slurmctld slurmd sbatch squeue sinfo scontrol scancel)
    [ "${1:-}" = accounting ] && cmds+=(slurmdbd sacctmgr sacct mariadbd mariadb-install-db)
    for c in "${cmds[@]}"; do
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

# slurm_state NAME: the state squeue shows for the job called NAME ("" if none).
slurm_state() { slurm_jobs | awk -F'|' -v n="$1" '$3 == n { print $2 }' | tail -n 1; }
# slurm_id NAME: its Slurm job id ("" if none).
slurm_id() { slurm_jobs | awk -F'|' -v n="$1" '$3 == n { print $1 }' | tail -n 1; }

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

# slurm_forget_check ACCOUNTING: the body of slurm_forgotten.sh (ACCOUNTING 0) and
# slurm_accounting.sh (1), on a Slurm started with SLURM_LOCAL_MIN_JOB_AGE=2:
# slurmctld forgets ended jobs after 2 s (MinJobAge).  Three tasks run at site1;
# its worker is killed (SIGKILL); one task completes, one exits 3, one an operator
# cancels with scancel; squeue no longer lists any of them; the worker restarts and
# must settle them from what is left: the status files their batch scripts wrote,
# and with accounting sacct.  The cancelled one wrote no status: with accounting,
# sacct says CANCELLED (the task's own failure, "not by fedsched"); without, Slurm
# has lost the job (a site failure), never a completion.
slurm_forget_check() {
    local acct=$1 D=$FED_DIR
    scontrol show config 2>/dev/null | grep -Eq '^MinJobAge += 2 sec' ||
        fail "slurmctld's MinJobAge is not 2 (start it with SLURM_LOCAL_MIN_JOB_AGE=2)"
    # Slurm takes ~10 s to forget a job: the site must not be declared down (and its
    # tasks lost) meanwhile, so the scheduler waits 90 s for a heartbeat here.
    sed -i 's/^  timeout: 5s$/  timeout: 90s/' "$D/federation.yaml"
    grep -q '^  timeout: 90s$' "$D/federation.yaml" || fail "test bug: could not raise the heartbeat timeout"
    fed_stop_scheduler
    fed_start_scheduler
    wait_all_up 30 site1
    local t0
    # One job per task: a failed task would cancel the others of its job.
    local s cmd
    declare -A J=()
    for s in ok bad ext; do
        case $s in
            ok) cmd='sleep 4; echo fine > fine.txt' ;;
            bad) cmd='sleep 4; exit 3' ;;
            ext) cmd='sleep 300' ;;
        esac
        printf 'version: 1\nname: forgotten-%s\ntasks:\n  - name: %s\n    command: [sh, -c, "%s"]\n    walltime: 5m\n    site: site1\n' \
            "$s" "$s" "$cmd" >"$D/forget-$s.yaml"
        job_submit "$D/forget-$s.yaml"
        J[$s]=$JOB
    done
    local n
    t0=$SECONDS
    while :; do
        n=0
        for s in ok bad ext; do
            [ "$(slurm_state "fedsched.site1.${J[$s]}.$s.0")" = RUNNING ] && n=$((n + 1))
        done
        [ $n = 3 ] && break
        [ $((SECONDS - t0)) -lt 60 ] || fail "the three tasks never ran together: $(slurm_jobs)"
        sleep 0.3
    done
    fed_kill_worker site1 KILL
    local ext
    ext=$(slurm_id "fedsched.site1.${J[ext]}.ext.0")
    scancel "$ext" || fail "scancel $ext failed"
    t0=$SECONDS
    while slurm_jobs | grep -q "|fedsched\.site1\."; do
        [ $((SECONDS - t0)) -lt 90 ] || fail "Slurm still lists the jobs 90 s later: $(slurm_jobs)"
        sleep 0.5
    done
    log "Slurm has forgotten the three jobs; site1's worker starts again"
    fed_start_worker site1
    job_wait "${J[ok]}" 0
    job_wait "${J[bad]}" 1
    job_wait "${J[ext]}" 1
    local all="["
    for s in ok bad ext; do
        job_status "${J[$s]}"
        all="$all$STATUS,"
    done
    all="${all%,}]"
    py - "$all" "$acct" <<'PY' || fail "the forgotten jobs were settled wrongly (see above)"
import json, sys
t = {j["tasks"][0]["name"]: j["tasks"][0] for j in json.loads(sys.argv[1])}
acct = sys.argv[2] == "1"
assert t["ok"]["state"] == "COMPLETED" and t["ok"]["exit_code"] == 0, t["ok"]
assert t["bad"]["state"] == "FAILED" and t["bad"]["exit_code"] == 3, t["bad"]
e = t["ext"]
assert e["state"] == "FAILED", e
if acct:
    assert "cancelled in Slurm, not by fedsched" in (e["error"] or ""), "with accounting: %r" % e["error"]
else:
    assert "Slurm no longer knows job" in (e["error"] or ""), "without accounting: %r" % e["error"]
for x in t.values():
    assert x["attempt"] == 0, x
PY
    [ -f "$(task_dir site1 "${J[ok]}" ok)/fine.txt" ] || fail "task ok did not run to its end"
}
