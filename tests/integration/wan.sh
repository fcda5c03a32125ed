#!/usr/bin/env bash
# WAN emulation (SPEC section 9, docs/wan.md): `cluster/fedsched-local up --wan
# --config FED.yaml` with three sites a, b, c whose links are a-b 40 Mbit/s,
# a-c 400 Mbit/s and b-c the default (400 Mbit/s).
#  - every site comes up, each worker inside its own namespace fs-<H>-<SITE>, the
#    qdiscs carry the configured rates, and no namespace has a route beyond the
#    federation's own /32s;
#  - a task pinned to b reading a's 8 MiB dataset stages it in >= 1.3 s
#    (8 MiB * 8 / 40e6 = 1.7 s), one pinned to c in well under that; both run
#    with the default launcher, mpirun (which needs an interface with an address
#    in the namespace);
#  - crash: scheduler and workers killed with SIGKILL (a task process left running
#    inside a namespace), `up` again in the same DIR works and leaves no stale
#    namespace; after another SIGKILL `down` removes every namespace, root veth and
#    route of the federation, and a second `down` is fine.
# Skips (exit 77: ctest reports it skipped) only when not root or `ip netns add` is
# impossible here.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

# shellcheck source=tests/integration/lib/wan.sh
. "$(dirname "$0")/lib/wan.sh"
wan_need
T0=$SECONDS
tlog() { log "[$((SECONDS - T0)) s] $*"; }
D=$FED_DIR
H=$(printf '%s' "$(cd "$D" && pwd)" | sha1sum | cut -c1-8)
PREFIX="fs-$H"

# What of this federation is left in the kernel: namespaces, root-side veths, routes.
leftovers() {
    ip netns list | awk '{print $1}' | grep "^$PREFIX-" || true
    ip -o link show | grep -o "fs${H}r[0-9]*" || true
    if [ -n "${BLOCK:-}" ]; then ip -4 route show table all | grep -F "$BLOCK." || true; fi
}

# 8 MiB at site a, published by the worker's start-up scan.
mkdir -p "$D/sites/a/data"
py - "$D/sites/a/data/big.h5" <<'PY' || fail "cannot write the test dataset"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f["x"] = np.arange(1 << 20, dtype="float64")      # 8 MiB
PY
cat >"$D/fed-in.yaml" <<'EOF'
name: wan-test
heartbeat: {interval: 1s, timeout: 5s}
sites: [a, b, c]
links:
  default: {bandwidth: 400Mbit/s, latency: 20ms}
  pairs:
    - between: [a, b]
      bandwidth: 40Mbit/s
      latency: 80ms
    - between: [a, c]
      bandwidth: 50MB/s            # = 400 Mbit/s
EOF

up() {
    if ! "$FEDSCHED_LOCAL" up --dir "$D" --config "$D/fed-in.yaml" --wan >"$D/up.log" 2>&1; then
        cat "$D/up.log" >&2
        fail "fedsched-local up --wan failed"
    fi
    # shellcheck disable=SC1091
    . "$D/env"
    export FEDSCHED_SCHEDULER FEDSCHED_KEYS
}

t_start=$SECONDS
up
tlog "federation up with --wan in $((SECONDS - t_start)) s: $FEDSCHED_SCHEDULER"
[ -f "$D/wan.state" ] || fail "no $D/wan.state"
grep -q "^prefix $PREFIX\$" "$D/wan.state" || fail "wan.state does not name prefix $PREFIX: $(cat "$D/wan.state")"
BLOCK=$(awk '$1 == "block" { sub(/\.0\/24$/, "", $2); print $2 }' "$D/wan.state")
[[ $BLOCK =~ ^10\.77\.[0-9]+$ ]] || fail "wan.state: bad block '$BLOCK'"
[[ $FEDSCHED_SCHEDULER == "tcp://$BLOCK.254:7700" ]] || fail "FEDSCHED_SCHEDULER is $FEDSCHED_SCHEDULER, expected tcp://$BLOCK.254:7700"
wait_all_up 10 a b c
tlog "all up"

# Each worker runs in its own namespace and listens on its own address there.
n=0
for s in a b c; do
    n=$((n + 1))
    pid=$(worker_pid "$s")
    got=$(ip netns identify "$pid" 2>/dev/null)
    [ "$got" = "$PREFIX-$s" ] || fail "worker of $s (pid $pid) runs in netns '$got', expected $PREFIX-$s"
    listen=$(config_listen "$(site_dir "$s")/site.yaml")
    [ "$listen" = "tcp://$BLOCK.$n:7701" ] || fail "site $s listens on $listen, expected tcp://$BLOCK.$n:7701"
    routes=$(ip -n "$PREFIX-$s" -4 route show)
    if echo "$routes" | grep -vqE "^$BLOCK\.[0-9]+ dev "; then
        fail "netns $PREFIX-$s has a route beyond the federation's /32s: $routes"
    fi
done
tc -n "$PREFIX-a" qdisc show dev to-b | grep -q "rate 40Mbit" ||
    fail "a->b qdisc: $(tc -n "$PREFIX-a" qdisc show dev to-b)"
tc -n "$PREFIX-b" qdisc show dev to-a | grep -q "rate 40Mbit" ||
    fail "b->a qdisc: $(tc -n "$PREFIX-b" qdisc show dev to-a)"
tc -n "$PREFIX-c" qdisc show dev to-a | grep -q "rate 400Mbit" ||
    fail "c->a qdisc: $(tc -n "$PREFIX-c" qdisc show dev to-a)"
tc -n "$PREFIX-b" qdisc show dev to-c | grep -q "rate 400Mbit" ||
    fail "b->c qdisc (default): $(tc -n "$PREFIX-b" qdisc show dev to-c)"

# The dataset is in the catalog (through the root namespace's links, unlimited).
for ((i = 0; i < 50; i++)); do
    fedsched catalog --json 2>/dev/null | grep -q '"a/big/x"' && break
    sleep 0.2
done
fedsched catalog --json | grep -q '"a/big/x"' || fail "a/big/x not in the catalog: $(fedsched catalog)"

# crash PIDFILE...: SIGKILL those daemons at once; wait until each is gone or a
# zombie (orphans may be reaped late here); remove the pid files.
crash() {
    local f pids=() pid i alive
    for f in "$@"; do
        pid=$(cat "$f") || fail "no $f"
        kill -KILL "$pid" 2>/dev/null || fail "$f: pid $pid was not running"
        pids+=("$pid")
    done
    for ((i = 0; i < 50; i++)); do
        alive=0
        for pid in "${pids[@]}"; do
            if kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
                alive=1
            fi
        done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    [ $alive = 0 ] || fail "SIGKILLed daemons still alive after 5 s"
    rm -f "$@"
}

# stage SITE: run a task pinned to SITE reading a/big/x; prints the staging seconds
# from the site's stage.fetched log line.
stage() {
    local site=$1 job secs
    cat >"$D/job-$site.yaml" <<EOF
version: 1
name: wan-$site
tasks:
  - name: read
    command: [sh, -c, "test -s {in.x.file}"]
    walltime: 60s
    site: $site
    inputs:
      x: a/big/x
EOF
    expect_code 0 fedsched submit "$D/job-$site.yaml"
    job=$OUT
    expect_code 0 fedsched wait "$job" --timeout 40
    secs=$(grep "event=stage.fetched job=$job " "$(site_dir "$site")/worker.log" |
        grep -o 'bytes=8388608 seconds=[0-9.]*' | sed 's/.*seconds=//')
    [ -n "$secs" ] || fail "no stage.fetched of 8388608 bytes for job $job at $site: $(grep stage "$(site_dir "$site")/worker.log")"
    echo "$secs"
}
slow=$(stage b) || exit 1
tlog "a -> b (40 Mbit/s): 8 MiB staged in $slow s (1.68 s at the line rate)"
fast=$(stage c) || exit 1
tlog "a -> c (400 Mbit/s): 8 MiB staged in $fast s (0.17 s at the line rate)"
py - "$slow" "$fast" <<'PY' || fail "the link rates do not show in the transfer times (a->b $slow s, a->c $fast s)"
import sys
slow, fast = map(float, sys.argv[1:])
assert slow >= 1.3, "a->b at 40 Mbit/s took %.3f s, expected >= 1.3 s" % slow
assert slow <= 6, "a->b at 40 Mbit/s took %.3f s, expected about 1.7 s" % slow
assert fast < 0.8 and fast * 3 < slow, "a->c at 400 Mbit/s took %.3f s (a->b %.3f s)" % (fast, slow)
PY

# --- crash: SIGKILL everything, a process left inside a namespace -------------------------
tlog "SIGKILL of the scheduler and every worker, a process left in $PREFIX-b; up again"
ip netns exec "$PREFIX-b" setsid sleep 300 </dev/null >/dev/null 2>&1 &
fed_track $!
crash "$D/scheduler.pid" "$D"/sites/{a,b,c}/worker.pid
ip netns pids "$PREFIX-b" | grep -q . || fail "the test's sleep is not in $PREFIX-b"
up
wait_all_up 10 a b c
tlog "all up"
got=$(ip netns list | awk '{print $1}' | grep "^$PREFIX-" | sort | tr '\n' ' ')
[ "$got" = "$PREFIX-a $PREFIX-b $PREFIX-c " ] || fail "after a second up: namespaces '$got'"
BLOCK=$(awk '$1 == "block" { sub(/\.0\/24$/, "", $2); print $2 }' "$D/wan.state")
expect_code 0 fedsched get 'a/big/x[0:4]' -o "$D/four.h5"

tlog "SIGKILL of the workers again; down removes every namespace, veth and route"
crash "$D"/sites/{a,b,c}/worker.pid
expect_code 0 "$FEDSCHED_LOCAL" down --dir "$D"
left=$(leftovers)
[ -z "$left" ] || fail "left after down: $left"
[ -f "$D/wan.state" ] && fail "wan.state still there after down"
expect_code 0 "$FEDSCHED_LOCAL" down --dir "$D"
tlog "done in $((SECONDS - t_start)) s"
