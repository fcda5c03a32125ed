#!/usr/bin/env bash
# Run the project's fixed conformance scripts (../shared/conformance/*.sh relative to the
# repository root) from the repository root with fedsched on PATH; fail if any fails.
# Skips (exit 77, reported as skipped by ctest) when that directory is not there.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

CONF="$REPO_ROOT/../shared/conformance"
if [ ! -d "$CONF" ]; then
    skip "no conformance suite at $CONF"
fi
need fedsched
cd "$REPO_ROOT" || fail "cannot cd to $REPO_ROOT"
failed=()
n=0
for script in "$CONF"/*.sh; do
    [ -f "$script" ] || continue
    n=$((n + 1))
    log "running $(basename "$script")"
    if bash "$script"; then
        log "$(basename "$script"): ok"
    else
        failed+=("$(basename "$script")")
    fi
done
[ "$n" -gt 0 ] || skip "no *.sh in $CONF"
if [ ${#failed[@]} -gt 0 ]; then
    fail "${#failed[@]} of $n conformance script(s) failed: ${failed[*]}"
fi
log "all $n conformance script(s) passed"
