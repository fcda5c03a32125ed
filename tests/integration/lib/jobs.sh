# shellcheck shell=bash
# shellcheck disable=SC2034  # JOB, STATUS, MODELS_DIR are read by the tests
# Helpers for the job tests (tests/integration/jobs*.sh).  Source after common.sh:
#
#   . "$(dirname "$0")/lib/common.sh"
#   . "$(dirname "$0")/lib/jobs.sh"
#   jobs_env                      # models on PATH, mpirun allowed as root (before fed_up)
#   fed_up 3 --data demo
#   job_submit "$FED_DIR/j.yaml"  # JOB=<id>
#   job_wait "$JOB" 0             # `fedsched wait` must exit 0 (within JOB_WAIT_S)
#   job_status "$JOB"             # STATUS=<status --json>

JOB=""
STATUS=""
JOB_WAIT_S=${JOB_WAIT_S:-90}

# jobs_env: what the federation's workers inherit.  The example models are in
# the build's models/ (beside the fedsched on PATH, else build/models of the
# repository); Open MPI refuses to run as root unless told.
jobs_env() {
    need fedsched
    need h5py
    need mpirun
    local bin cand
    bin=$(dirname "$(command -v fedsched)")
    MODELS_DIR=""
    for cand in "$bin/models" "$REPO_ROOT/build/models"; do
        if [ -x "$cand/regrid" ] && [ -x "$cand/climatology" ] && [ -x "$cand/anomaly" ] &&
            [ -x "$cand/ensemble_mean" ] && [ -x "$cand/risk_index" ]; then
            MODELS_DIR=$(cd "$cand" && pwd)
            break
        fi
    done
    [ -n "$MODELS_DIR" ] || fail "the example models are not built ($bin/models, build/models): build first"
    PATH="$MODELS_DIR:$PATH"
    OMPI_ALLOW_RUN_AS_ROOT=1
    OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    export PATH OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM
}

# job_submit FILE: submit; JOB is the id (stdout must be the id alone).
job_submit() {
    expect_code 0 fedsched submit "$1"
    JOB=$OUT
    [[ $JOB =~ ^[1-9][0-9]*$ ]] || fail "submit $1 must print the job id alone, got: '$JOB'"
}

# job_wait ID CODE: `fedsched wait ID` must exit CODE (0 or 1); a job still
# running after JOB_WAIT_S seconds fails the test (wait exits 124).
job_wait() {
    local rc=0
    fedsched wait "$1" --timeout "$JOB_WAIT_S" >"$FED_DIR/wait.out" 2>"$FED_DIR/wait.err" || rc=$?
    if [ "$rc" != "$2" ]; then
        echo "[$TEST_NAME] wait $1: $(cat "$FED_DIR/wait.out" "$FED_DIR/wait.err")" >&2
        fedsched status "$1" >&2 || true
        [ "$rc" = 124 ] && fail "job $1 did not end within ${JOB_WAIT_S}s"
        fail "fedsched wait $1 exited $rc, expected $2"
    fi
}

# job_status ID: STATUS is `fedsched status ID --json`.
job_status() {
    expect_code 0 fedsched status "$1" --json
    STATUS=$OUT
}

# job_ids: the ids in `fedsched jobs --all --json`, one a line, sorted.
job_ids() {
    expect_code 0 fedsched jobs --all --json
    py -c 'import json, sys; print("\n".join(str(j["id"]) for j in sorted(json.loads(sys.argv[1]), key=lambda j: j["id"])))' "$OUT" ||
        fail "jobs --all --json is not a list of jobs: $OUT"
}

# task_dir SITE ID TASK: the task's working directory at SITE.
task_dir() { echo "$FED_DIR/sites/$1/state/jobs/$2/$3"; }

# pid_gone PID SECONDS: true once PID has exited (a zombie counts as gone)
# within SECONDS; false if it is still alive then.
pid_gone() {
    local pid=$1 limit=$2 t0=$SECONDS st
    while [ $((SECONDS - t0)) -lt "$limit" ]; do
        st=$(ps -o stat= -p "$pid" 2>/dev/null) || return 0
        case $st in Z*) return 0 ;; esac
        sleep 0.2
    done
    return 1
}

# scheduler_crash_restart: SIGKILL the scheduler (it must die within 10 s), then
# start it again on the same federation.yaml and state (fed_start_scheduler).
scheduler_crash_restart() {
    local spid
    spid=$(scheduler_pid)
    kill -KILL "$spid" || fail "the scheduler (pid $spid) was not running"
    pid_gone "$spid" 10 || fail "the scheduler (pid $spid) survived SIGKILL"
    fed_start_scheduler
}

# wait_file FILE SECONDS: wait until FILE exists and is not empty.
wait_file() {
    local t0=$SECONDS
    while [ $((SECONDS - t0)) -lt "$2" ]; do
        [ -s "$1" ] && return 0
        sleep 0.2
    done
    return 1
}

# refused FILE LINE [WHAT]: validate and submit both exit 2 with
# "fedsched: error: FILE:LINE:COL: ..." (LINE may be a regex, e.g. '[0-9]+').
refused() {
    local f=$1 line=$2 what=${3:-$1} v
    for v in validate submit; do
        expect_error 2 fedsched "$v" "$f"
        echo "$ERR" | grep -Eq "^fedsched: error: $f:$line:[0-9]+: " ||
            fail "$what: '$v' exited 2 but without 'fedsched: error: $f:$line:COL: message': $ERR"
        [ -z "$OUT" ] || fail "$what: '$v' of a bad job file printed on stdout: $OUT"
    done
}
