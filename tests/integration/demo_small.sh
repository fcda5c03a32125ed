#!/usr/bin/env bash
# The seven-site demo, scaled down: `./cluster/demo --small` (docs/benchmarks.md,
# "The seven-site demo") with the fedsched under test (FEDSCHED_DEMO_NOBUILD=1: the
# demo neither installs nor builds when fedsched is on PATH, as ctest puts it).
# Checks: exit 0; the last line is the headline
#   headline: makespan federated F s, centralised C s, speedup S x; WAN bytes federated A, centralised B
# the federated run moved fewer bytes over the WAN than the centralised one (A < B);
# the models were published once as an app and the other sites fetched its bundle;
# the whole demo took under two minutes; and nothing of the demo's federation is left
# (no network namespace or root-side veth of its directory, no daemon); no sanitizer
# report in the daemons' logs (FEDSCHED_DEMO_LOGS: the demo copies them out on exit).
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
need fedsched
need h5py
need yaml
need mpirun
fed_dir                                 # a temp dir for the demo's output, removed on exit
OUTF="$FED_DIR/demo.out"

t0=$SECONDS
# The demo runs in a directory of its own (mktemp); we only watch its output.
FEDSCHED_DEMO_NOBUILD=1 FEDSCHED_DEMO_LOGS="$FED_DIR/logs" ./cluster/demo --small >"$OUTF" 2>&1
rc=$?
took=$((SECONDS - t0))
log "cluster/demo --small: exit $rc in ${took} s"
if [ $rc != 0 ]; then
    # The first failure and its reason before the tails (CI shows the start of this).
    grep -E '^demo:|event=task\.failed|level=error' "$OUTF" | head -n 12 >&2
    grep -hE 'event=task\.failed|level=(warn|error)' "$FED_DIR"/logs/*.log 2>/dev/null | head -n 12 >&2
    tail -n 60 "$OUTF" >&2
    fail "./cluster/demo --small exited $rc"
fi
last=$(tail -n 1 "$OUTF")
log "$last"
re='^headline: makespan federated ([0-9]+\.[0-9]) s, centralised ([0-9]+\.[0-9]) s, speedup ([0-9]+\.[0-9]+) x; WAN bytes federated ([0-9]+), centralised ([0-9]+)$'
[[ $last =~ $re ]] || { tail -n 30 "$OUTF" >&2; fail "the last line is not the headline: '$last'"; }
A=${BASH_REMATCH[4]}
B=${BASH_REMATCH[5]}
[ "$A" -gt 0 ] || fail "the federated run moved no bytes over the WAN: the workflow is cross-site, it must"
[ "$A" -lt "$B" ] || fail "federated WAN bytes $A not below centralised $B"
[ "$(grep -c '^headline:' "$OUTF")" = 1 ] || fail "more than one headline line"
grep -q 'IGNORES THE DATA POLICIES' "$OUTF" || fail "the centralised run does not say that it ignores the policies"
grep -q '^gauge_clim *hydro ' "$OUTF" || fail "gauge_clim (policy none data at hydro) did not run at hydro"
grep -q '^wave_stack *seismo ' "$OUTF" || fail "wave_stack (policy none data at seismo) did not run at seismo"
[ $took -lt 120 ] || fail "the small demo took ${took} s (must be under 2 minutes)"

# Nothing left: the demo's directory is gone, and with it its namespaces, veths, daemons.
demo_dir=$(sed -n 's/^== a local federation of seven sites (\(.*\))$/\1/p' "$OUTF")
[ -n "$demo_dir" ] || fail "cannot find the demo's directory in its output"
[ ! -e "$demo_dir" ] || fail "the demo left its directory $demo_dir"
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null 2>&1; then
    Hd=$(printf '%s' "$demo_dir" | sha1sum | cut -c1-8)
    left=$(ip netns list 2>/dev/null | awk '{print $1}' | grep "^fs-$Hd-" || true)
    [ -z "$left" ] || fail "network namespaces of the demo remain: $left"
    left=$(ip -o link show | grep -o "fs${Hd}r[0-9]*" || true)
    [ -z "$left" ] || fail "root-side veths of the demo remain: $left"
    left=$(ip netns list 2>/dev/null | awk '{print $1}' | grep '^fs-demo-probe-' || true)
    [ -z "$left" ] || fail "probe namespaces remain: $left"
fi
if pgrep -f "worker -c $demo_dir/" >/dev/null || pgrep -f "scheduler -c $demo_dir/" >/dev/null; then
    fail "daemons of the demo are still running"
fi
# Daemons built with sanitizers report into their logs when they exit.
for f in "$FED_DIR"/logs/*.log; do
    [ -f "$f" ] || continue
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"; then
        grep -A25 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f" | head -60 >&2
        fail "sanitizer report in the demo's $(basename "$f")"
    fi
done
[ -f "$FED_DIR/logs/scheduler.log" ] || fail "the demo did not hand over its logs (FEDSCHED_DEMO_LOGS)"
# One-point deployment: the models were published once, as one app, and every other
# site that ran a task fetched that bundle and ran the models from it.
pubs=$(grep -cE '^models@[0-9.]+ sha256:[0-9a-f]{64}$' "$OUTF")
[ "$pubs" = 1 ] || fail "the demo did not publish the models once as an app ($pubs publish lines)"
pubsite=$(sed -n 's/^== the example models, published once as an app at \([A-Za-z0-9_-]*\) .*/\1/p' "$OUTF")
[ -n "$pubsite" ] || fail "cannot find where the demo published the models"
fetched=0
for f in "$FED_DIR"/logs/*.log; do
    site=$(basename "$f" .log)
    [ "$site" = scheduler ] || [ "$site" = "$pubsite" ] && continue
    grep -q 'event=task.running' "$f" || continue
    grep -q 'event=app.fetched app=models@.* from=' "$f" ||
        fail "site $site ran tasks but never fetched the models' bundle"
    fetched=$((fetched + 1))
done
[ "$fetched" -ge 1 ] || fail "no site but $pubsite ran a task"
log "models published once at $pubsite, fetched by the $fetched other sites that ran tasks"
if grep -q '^NOTE: no emulated WAN' "$OUTF"; then
    log "(ran without the emulated WAN: $(grep -m1 '^NOTE' "$OUTF"))"
fi
exit 0
