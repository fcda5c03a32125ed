#!/usr/bin/env bash
# Apps at a site (SPEC section 10; issue 11 item 8): two tasks at one site needing the same
# bundle fetch and unpack it once; a restarted worker keeps its unpacked bundles (no
# fetch, no unpack, the same directory); unpacked bundles are evicted with the input cache
# (site.yaml cache_max), least recently used first, never one a running task uses.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"
# shellcheck source=tests/integration/lib/apps.sh
. "$(dirname "$0")/lib/apps.sh"

jobs_env
fed_up 2
D=$FED_DIR

# An app with some weight (4 MB that does not compress), so its fetch takes a moment.
make_app "$D/heavy" heavy 1
head -c 4000000 /dev/urandom >"$D/heavy/weights.bin"
app_publish site1 "$D/heavy"
HEAVY=$APP_DIGEST

# --- two tasks at once, one fetch and one unpack ---------------------------------------
cat >"$D/two.yaml" <<EOF
version: 1
tasks:
  - {name: a, app: heavy@1, command: [probe], site: site2}
  - {name: b, app: heavy@1, command: [probe], site: site2}
EOF
job_submit "$D/two.yaml"
job_wait "$JOB" 0
[ -s "$(task_dir site2 "$JOB" a)/probe.0" ] && [ -s "$(task_dir site2 "$JOB" b)/probe.0" ] ||
    fail "the two tasks did not both run the app"
[ "$(worker_log_count site2 "event=app.fetched app=heavy@1 ")" = 1 ] ||
    fail "site2 fetched the bundle $(worker_log_count site2 "event=app.fetched app=heavy@1 ") times for two tasks"
[ "$(worker_log_count site2 "event=app.unpacked app=heavy@1 ")" = 1 ] ||
    fail "site2 unpacked the bundle more than once for two tasks"
log "two tasks at site2: one fetch, one unpack"

# --- a restarted worker keeps its unpacked bundles --------------------------------------
dir=$(unpacked site2 "$HEAVY")
ino=$(stat -c %i "$dir")
fed_kill_worker site2 TERM
lines=$(wc -l <"$D/sites/site2/worker.log")
fed_start_worker site2
wait_state site2 up 30
job_submit "$D/two.yaml"
job_wait "$JOB" 0
after=$(tail -n +"$((lines + 1))" "$D/sites/site2/worker.log")
case $after in *"event=app.fetched app=heavy@1 "*|*"event=app.unpacked app=heavy@1 "*)
    fail "the restarted worker fetched or unpacked the bundle again" ;;
esac
[ "$(stat -c %i "$dir")" = "$ino" ] || fail "the unpacked bundle was replaced across the restart"
log "restarted worker: same unpacked bundle, no fetch"

# --- eviction with the input cache, never in use -----------------------------------------
# site2 with a 1 MiB cache: every unpacked app is over it.
sed -i '/^cache_max:/d' "$D/sites/site2/site.yaml"
echo "cache_max: 1MiB" >>"$D/sites/site2/site.yaml"
fed_kill_worker site2 TERM
fed_start_worker site2
wait_state site2 up 30
# waiter@1's entry point waits until the file it is given exists.
mkdir -p "$D/waiter/bin"
printf 'name: waiter\nversion: "1"\nentry: {wait: bin/wait}\n' >"$D/waiter/app.yaml"
printf '#!/bin/sh\nwhile [ ! -e "$1" ]; do sleep 0.1; done\n' >"$D/waiter/bin/wait"
chmod 0755 "$D/waiter/bin/wait"
head -c 2000000 /dev/urandom >"$D/waiter/weights.bin"
app_publish site1 "$D/waiter"
WAITER=$APP_DIGEST
make_app "$D/other" other 1
head -c 2000000 /dev/urandom >"$D/other/weights.bin"
app_publish site1 "$D/other"
FLAG="$D/release"
printf 'version: 1\ntasks:\n  - {name: w, app: waiter@1, command: [wait, "%s"], site: site2}\n' "$FLAG" >"$D/long.yaml"
printf 'version: 1\ntasks:\n  - {name: t, app: other@1, command: [probe], site: site2}\n' >"$D/other.yaml"
job_submit "$D/long.yaml"
LONG=$JOB
t0=$SECONDS
while ! grep -q "event=task.running job=$LONG " "$D/sites/site2/worker.log"; do
    [ $((SECONDS - t0)) -lt 60 ] || fail "the waiting task did not start"
    sleep 0.2
done
# Other work stages apps meanwhile: each staging trims the cache.
for i in 1 2 3; do
    sleep 1.5
    job_submit "$D/other.yaml"
    job_wait "$JOB" 0
done
t0=$SECONDS
until grep -q "event=cache.evict app=$HEAVY" "$D/sites/site2/worker.log"; do
    [ $((SECONDS - t0)) -lt 20 ] || fail "heavy@1 (unused, least recently used) was never evicted"
    sleep 0.5
done
[ ! -e "$dir" ] || fail "heavy@1's unpacked bundle is still there after its eviction line"
grep -q "event=cache.evict app=$WAITER" "$D/sites/site2/worker.log" && fail "waiter@1 was evicted while its task ran"
[ -d "$(unpacked site2 "$WAITER")" ] || fail "waiter@1's bundle is gone while its task runs"
# The task ends; a later trim may take its bundle (least recently used now).
touch "$FLAG"
job_wait "$LONG" 0
t0=$SECONDS
while [ -d "$(unpacked site2 "$WAITER")" ]; do
    [ $((SECONDS - t0)) -lt 60 ] || fail "waiter@1 was never evicted once its task had ended"
    sleep 1.5
    job_submit "$D/other.yaml"
    job_wait "$JOB" 0
done
grep -q "event=cache.evict app=$WAITER" "$D/sites/site2/worker.log" || fail "no eviction line for waiter@1"
log "evicted with the input cache: least recently used first, never while in use"
log "OK"
