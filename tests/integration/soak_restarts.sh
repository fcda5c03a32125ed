#!/usr/bin/env bash
# The short version of the restart soak test (tests/soak/restarts): 400 one-task jobs
# from three concurrent `fedsched submit` loops, a canceller, and twelve SIGKILLs of the
# scheduler and the workers in turn.  Every acknowledged job completes exactly once (or
# is cancelled), no job ends in a wrong state, nothing starts after its job's cancel, and
# no submit makes a job its client did not print.  The long version is run by hand:
#   tests/soak/restarts --jobs 5000 --kills 50
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
need fedsched
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$REPO_ROOT/tests/soak/restarts" --jobs 400 --kills 12 || fail "the soak test found losses or duplicates (above)"
log "OK"
