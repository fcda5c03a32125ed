#!/usr/bin/env bash
# Apps under CURVE (SPEC sections 8 and 10): a scientist's key (not an operator) publishes
# an app at site1 — its upload goes to site1's data port, authenticated — and a task of
# it runs at site2, which fetched the bundle from site1 over CURVE; a client without keys
# can neither publish nor list.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"
# shellcheck source=tests/integration/lib/apps.sh
. "$(dirname "$0")/lib/apps.sh"

jobs_env
fed_up 2 --security curve
D=$FED_DIR
[ -n "${FEDSCHED_USER_KEYS:-}" ] || fail "fedsched-local --security curve exported no FEDSCHED_USER_KEYS"
make_app "$D/app" cprobe 1
FEDSCHED_KEYS=$FEDSCHED_USER_KEYS app_publish site1 "$D/app"
[ -f "$(held_bundle site1 "$APP_DIGEST")" ] || fail "site1 does not hold the bundle"
cat >"$D/j.yaml" <<EOF
version: 1
tasks:
  - name: t
    app: cprobe@1
    command: [probe, "{out.o}"]
    site: site2
    outputs: {o: {}}
EOF
FEDSCHED_KEYS=$FEDSCHED_USER_KEYS job_submit "$D/j.yaml"
job_wait "$JOB" 0
[ "$(worker_log_count site2 "event=app.fetched app=cprobe@1 .* from=site1")" = 1 ] ||
    fail "site2 did not fetch the bundle from site1"
py - "$(task_dir site2 "$JOB" t)/o.h5" "$APP_REF $APP_DIGEST" <<'PY' || fail "the output does not carry fedsched_app"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    v = f["o"].attrs["fedsched_app"]
    assert (v.decode() if isinstance(v, bytes) else v) == sys.argv[2], v
PY
# Without keys: no answer from a CURVE scheduler (exit 75), nothing published.
make_app "$D/app2" cprobe2 1
expect_code 75 env FEDSCHED_KEYS= FEDSCHED_TIMEOUT=2 fedsched app publish site1 "$D/app2"
expect_code 0 fedsched apps --json
case $OUT in *cprobe2*) fail "a keyless client published an app" ;; esac
log "OK"
