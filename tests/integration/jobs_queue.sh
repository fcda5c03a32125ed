#!/usr/bin/env bash
# Tasks queue for cores (SPEC section 5): one site announcing 2 cores gets seven
# one-rank jobs at once.  Never more than 2 run at a time (each task records its own
# start and end; the intervals are checked), `sites --json` counts what runs there
# (running, cores_free), and that count survives a scheduler restart in the middle of
# the queue (taken from the store, not from the tasks seen since): the jobs still
# waiting start only as the running ones end, and all seven complete.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"

jobs_env
fed_up 1 --data none --cores 2 --launcher local
D=$FED_DIR
N=7

# Each task writes its start and end (wall clock, ns) into its working directory.
cat >"$D/q.yaml" <<'EOF'
version: 1
name: queued
tasks:
  - name: q
    command: [sh, -c, "date +%s%N > t0; sleep 2; date +%s%N > t1"]
    walltime: 1m
EOF
IDS=()
for ((i = 0; i < N; i++)); do
    job_submit "$D/q.yaml"
    IDS+=("$JOB")
done
log "submitted ${IDS[*]} to one site of 2 cores"

# sites --json: RUNNING PLUSFREE (running tasks, and running + cores_free).
usage() {
    expect_code 0 fedsched sites --json
    py -c 'import json,sys; s=json.loads(sys.argv[1])[0]; print(s["running"], s["running"] + s["cores_free"])' "$OUT"
}
seen_two=0
for ((i = 0; i < 40; i++)); do
    read -r run tot <<<"$(usage)"
    [ "$tot" = 2 ] || fail "sites: running + cores_free = $tot, expected the site's 2 cores"
    [ "$run" -le 2 ] || fail "sites: $run tasks running on a site of 2 cores"
    if [ "$run" = 2 ]; then seen_two=1; break; fi
    sleep 0.1
done
[ "$seen_two" = 1 ] || fail "sites never showed 2 running tasks"

log "scheduler killed and restarted while 2 tasks run and the others wait"
scheduler_crash_restart
wait_all_up 20 site1
read -r run tot <<<"$(usage)"
[ "$tot" = 2 ] || fail "after the restart: running + cores_free = $tot, expected 2"
[ "$run" -le 2 ] || fail "after the restart: $run tasks running on a site of 2 cores"

for id in "${IDS[@]}"; do
    job_wait "$id" 0
done
read -r run tot <<<"$(usage)"
if [ "$run" != 0 ] || [ "$tot" != 2 ]; then fail "after the queue drained: running $run, running + free $tot"; fi

py - "$D/sites/site1/state/jobs" "${IDS[@]}" <<'PY' || fail "the tasks overlapped beyond the site's 2 cores (see above)"
import sys
base, ids = sys.argv[1], sys.argv[2:]
ev = []
for i in ids:
    t0 = int(open("%s/%s/q/t0" % (base, i)).read())
    t1 = int(open("%s/%s/q/t1" % (base, i)).read())
    ev += [(t0, 1), (t1, -1)]
run = peak = 0
for _, d in sorted(ev, key=lambda e: (e[0], e[1])):
    run += d
    peak = max(peak, run)
assert peak <= 2, "%d tasks ran at once" % peak
span = (max(e[0] for e in ev) - min(e[0] for e in ev)) / 1e9
assert span >= 2 * (len(ids) // 2 - 1), "seven 2 s tasks on 2 cores ended within %.1f s" % span
print("peak %d tasks at once over %.1f s" % (peak, span))
PY
log "seven jobs queued on 2 cores: at most 2 at once, usage right across a restart"
