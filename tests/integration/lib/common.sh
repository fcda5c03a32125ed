# shellcheck shell=bash
# shellcheck disable=SC2034  # WAITED, OUT, ERR are read by the tests
# Helpers for the integration tests (tests/integration/*.sh).  Source it:
#
#   . "$(dirname "$0")/lib/common.sh"
#   fed_up 3                  # local federation in a temp dir, torn down on exit
#   fedsched publish site1 a/b.h5 || fail "publish failed"
#   expect_code 2 fedsched get 'x[::0]' -o "$FED_DIR/o.h5"
#
# The helpers work with or without `set -euo pipefail` in the test.
# Tests run from the repository root with fedsched on PATH; FEDSCHED_TOOLS is
# the directory of the helper programs (h5sel, h5mk).  Every process a test
# starts is stopped by its PID in the EXIT trap (fedsched-local down for the
# federation's daemons, fed_track for any other).

PY=/usr/bin/python3
py() { "$PY" "$@"; }

TEST_NAME=$(basename "${0:-test}" .sh)
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
FEDSCHED_LOCAL="$REPO_ROOT/cluster/fedsched-local"
FED_DIR=""
FED_PIDS=()

# Find fedsched: PATH (ctest puts the build dir there), else build/.
if ! command -v fedsched >/dev/null 2>&1 && [ -x "$REPO_ROOT/build/fedsched" ]; then
    PATH="$REPO_ROOT/build:$REPO_ROOT/build/tests:$PATH"
    export PATH
fi
if [ -z "${FEDSCHED_TOOLS:-}" ] && command -v fedsched >/dev/null 2>&1; then
    FEDSCHED_TOOLS="$(dirname "$(command -v fedsched)")/tests"
fi
export FEDSCHED_TOOLS

log() { echo "[$TEST_NAME] $*"; }

# fail MSG: say what failed and stop the test (exit 1; the EXIT trap cleans up).
fail() {
    echo "[$TEST_NAME] FAIL: $*" >&2
    exit 1
}

# skip WHY: this test cannot run here (not root, no namespaces, ...): say why and exit
# 77, which ctest reports as skipped (SKIP_RETURN_CODE in tests/CMakeLists.txt), never
# as passed.  For a sub-case that cannot run, log a line starting "SKIPPED:" instead.
skip() {
    echo "[$TEST_NAME] SKIP: $*"
    exit 77
}

# Stop on a missing prerequisite of the test machine (not the product).
need() {
    case $1 in
        fedsched) command -v fedsched >/dev/null 2>&1 || fail "fedsched is not on PATH (build first)" ;;
        h5py) "$PY" -c 'import h5py, numpy' 2>/dev/null || fail "python3-h5py is not installed" ;;
        zmq) "$PY" -c 'import zmq' 2>/dev/null || fail "python3-zmq is not installed" ;;
        yaml) "$PY" -c 'import yaml' 2>/dev/null || fail "python3-yaml is not installed" ;;
        *) command -v "$1" >/dev/null 2>&1 || fail "$1 is not installed" ;;
    esac
}

# expect_code CODE CMD...: run CMD; fail (showing its stderr) unless it exits
# CODE.  CODE may be "nonzero".  Its stdout is left in $OUT, stderr in $ERR.
OUT=""
ERR=""
expect_code() {
    local want=$1 got tmp
    shift
    tmp=$(mktemp "${TMPDIR:-/tmp}/fedsched-expect.XXXXXX")
    OUT=$("$@" 2>"$tmp") && got=0 || got=$?
    ERR=$(cat "$tmp")
    rm -f "$tmp"
    if [ "$want" = nonzero ]; then
        [ "$got" != 0 ] && return 0
    elif [ "$got" = "$want" ]; then
        return 0
    fi
    {
        echo "[$TEST_NAME] command: $*"
        echo "[$TEST_NAME] exit code $got, expected $want"
        [ -n "$OUT" ] && echo "[$TEST_NAME] stdout: $(echo "$OUT" | head -c 2000)"
        echo "[$TEST_NAME] stderr: $(echo "$ERR" | head -c 2000)"
    } >&2
    fail "'$*' exited $got, expected $want"
}

# expect_error CODE CMD...: as expect_code, and stderr must hold "fedsched: error:".
expect_error() {
    expect_code "$@"
    case $ERR in
        *"fedsched: error:"*) ;;
        *) fail "'${*:2}' exited $1 but stderr lacks 'fedsched: error:': $ERR" ;;
    esac
}

# Register a PID started by the test: it is killed (TERM, then KILL) on exit.
fed_track() { FED_PIDS+=("$1"); }

_fed_stop_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    return 0
}

_fed_cleanup() {
    local rc=$? pid f
    set +e
    trap - EXIT INT TERM
    for pid in "${FED_PIDS[@]}"; do
        kill -CONT "$pid" 2>/dev/null
        _fed_stop_pid "$pid"
    done
    if [ -n "$FED_DIR" ] && [ -d "$FED_DIR" ]; then
        # Continue anything a test left stopped, so TERM can work.
        for f in "$FED_DIR/scheduler.pid" "$FED_DIR"/sites/*/worker.pid; do
            [ -f "$f" ] && kill -CONT "$(cat "$f")" 2>/dev/null
        done
        if [ "$rc" != 0 ]; then
            for f in "$FED_DIR/scheduler.log" "$FED_DIR"/sites/*/worker.log; do
                [ -f "$f" ] || continue
                echo "----- [$TEST_NAME] tail of ${f#"$FED_DIR"/}" >&2
                tail -n 15 "$f" >&2
            done
        fi
        "$FEDSCHED_LOCAL" down --dir "$FED_DIR" >/dev/null 2>&1
        # Daemons built with sanitizers report into their logs when they exit:
        # any report fails the test, whatever it checked.
        for f in "$FED_DIR/scheduler.log" "$FED_DIR"/sites/*/worker.log; do
            [ -f "$f" ] || continue
            if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"; then
                echo "----- [$TEST_NAME] sanitizer report in ${f#"$FED_DIR"/}" >&2
                grep -A25 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f" | head -60 >&2
                rc=1
            fi
        done
        if [ -n "${FED_KEEP:-}" ]; then
            echo "[$TEST_NAME] FED_KEEP set: kept $FED_DIR" >&2
        else
            rm -rf "$FED_DIR"
        fi
    fi
    if [ "$rc" = 0 ]; then
        echo "[$TEST_NAME] PASS"
    elif [ "$rc" = 77 ]; then
        echo "[$TEST_NAME] SKIPPED"
    else
        echo "[$TEST_NAME] FAILED (exit $rc)" >&2
    fi
    exit "$rc"
}

_fed_trap() {
    trap _fed_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# fed_dir: make the temp dir (and the cleanup trap) without starting anything.
fed_dir() {
    [ -n "$FED_DIR" ] && return 0
    FED_DIR=$(mktemp -d "${TMPDIR:-/tmp}/fedsched-$TEST_NAME.XXXXXX")
    _fed_trap
    # Backstop for a test killed outright (SIGKILL, a test runner's timeout): its
    # EXIT trap never runs, and the daemons, in sessions of their own, would live
    # on.  A detached reaper waits for the test to end, then stops what the
    # federation directory's pid files name and removes it; after a normal end the
    # trap has done both and the reaper finds nothing.
    # shellcheck disable=SC2016  # expanded by the reaper's shell
    setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done
        [ -d "$3" ] || exit 0
        "$2" down --dir "$3" >/dev/null 2>&1
        [ -n "$4" ] || rm -rf "$3"' fedsched-reaper "$$" "$FEDSCHED_LOCAL" "$FED_DIR" "${FED_KEEP:-}" \
        </dev/null >/dev/null 2>&1 &
}

# fed_up N [fedsched-local up options]: start an N-site federation in a temp
# dir (FED_DIR), source its env.  The EXIT trap stops it and removes the dir,
# also when the test fails.  Sites: site1..siteN, data roots
# $FED_DIR/sites/SITE/data, prefix SITE.  Files placed in the data roots
# before (with fed_dir first) are published by the workers' start-up scan.
fed_up() {
    local n=$1
    shift
    need fedsched
    fed_dir
    local has_data=0 a
    for a in "$@"; do
        case $a in --data | --data=*) has_data=1 ;; esac
    done
    [ $has_data = 1 ] || set -- "$@" --data none
    if ! "$FEDSCHED_LOCAL" up --dir "$FED_DIR" --sites "$n" "$@" >"$FED_DIR/up.log" 2>&1; then
        cat "$FED_DIR/up.log" >&2
        fail "cluster/fedsched-local up --sites $n $* failed"
    fi
    # shellcheck disable=SC1091
    . "$FED_DIR/env"
    export FEDSCHED_SCHEDULER FEDSCHED_KEYS
    log "federation of $n site(s) up in $FED_DIR ($FEDSCHED_SCHEDULER)"
}

site_dir() { echo "$FED_DIR/sites/$1"; }
data_root() { echo "$FED_DIR/sites/$1/data"; }
worker_pid() { cat "$FED_DIR/sites/$1/worker.pid"; }
scheduler_pid() { cat "$FED_DIR/scheduler.pid"; }

# The `listen:` URI of a config file (federation.yaml or site.yaml).
config_listen() {
    "$PY" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["listen"])' "$1"
}

# Stop a daemon by its pid file (TERM, KILL after 5 s); wait until it is gone.
_stop_pidfile() {
    local f=$1 pid
    [ -f "$f" ] || return 0
    pid=$(cat "$f")
    _fed_stop_pid "$pid"
    rm -f "$f"
}

# fed_kill_worker SITE [SIGNAL]: kill the site's worker (default KILL).
fed_kill_worker() {
    local f="$FED_DIR/sites/$1/worker.pid" pid i
    pid=$(cat "$f") || fail "no worker.pid for $1"
    kill -"${2:-KILL}" "$pid" 2>/dev/null || fail "worker of $1 (pid $pid) was not running"
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$f"
}

# fed_start_worker SITE: start the site's worker in the background as an
# operator would (fedsched worker -c site.yaml); its pid goes to worker.pid.
fed_start_worker() {
    local sd="$FED_DIR/sites/$1"
    setsid fedsched worker -c "$sd/site.yaml" >>"$sd/worker.log" 2>&1 </dev/null &
    echo $! >"$sd/worker.pid"
    fed_track $!
}

fed_stop_scheduler() { _stop_pidfile "$FED_DIR/scheduler.pid"; }

fed_start_scheduler() {
    setsid fedsched scheduler -c "$FED_DIR/federation.yaml" >>"$FED_DIR/scheduler.log" 2>&1 </dev/null &
    echo $! >"$FED_DIR/scheduler.pid"
    fed_track $!
}

# site_state SITE: the site's state in `fedsched sites --json` ("" if absent).
site_state() {
    local json
    json=$(FEDSCHED_TIMEOUT=3 fedsched sites --json 2>/dev/null) || { echo "unreachable"; return 0; }
    "$PY" 2>/dev/null -c '
import json, sys
for s in json.loads(sys.argv[1]):
    if s.get("name") == sys.argv[2]:
        print(s.get("state")); break
' "$json" "$1" || true
}

# wait_state SITE STATE SECONDS: wait until `sites` shows SITE in STATE;
# sets WAITED to the seconds it took; fails the test after SECONDS.
# shellcheck disable=SC2034
WAITED=0
wait_state() {
    local site=$1 want=$2 limit=$3 t0=$SECONDS st=""
    while [ $((SECONDS - t0)) -le "$limit" ]; do
        st=$(site_state "$site") || st=""
        if [ "$st" = "$want" ]; then
            WAITED=$((SECONDS - t0))
            return 0
        fi
        sleep 0.5
    done
    fail "site $site not '$want' within ${limit}s (last state: '${st}')"
}

# wait_all_up SECONDS SITE...: every site up.
wait_all_up() {
    local limit=$1 s
    shift
    for s in "$@"; do
        wait_state "$s" up "$limit"
    done
}
