#!/usr/bin/env bash
# A published file changed under its site (docs/operator-guide.md, "Replacing data"):
# the site serves contiguous datasets from the page cache in place and keeps datasets
# open between requests, so it must notice.  A file rewritten in place with new values
# or replaced by rename is served as it is now (never the bytes of the handle opened
# before); a file
# truncated in place is refused with a clear error (never zeros for the missing part);
# the worker keeps serving its other data, and the file put back is served again.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
need h5py

fed_up 2
D=$FED_DIR
R=$(data_root site1)
mkdir -p "$R/chg"
# mk FILE SEED: 512 x 1024 float32, contiguous, values from SEED
mk() {
    py - "$1" "$2" <<'PY'
import sys, numpy as np, h5py
f, seed = sys.argv[1], int(sys.argv[2])
a = np.random.default_rng(seed).standard_normal((512, 1024)).astype(np.float32)
with h5py.File(f, "w") as h:
    h.create_dataset("v", data=a)
PY
}
# same OUT FILE: the dataset /v of OUT equals that of FILE
same() {
    py - "$1" "$2" <<'PY'
import sys, numpy as np, h5py
with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
    x, y = a["v"][...], b["v"][...]
assert x.dtype == y.dtype and np.array_equal(x, y), "differs"
PY
}
mk "$R/chg/a.h5" 1
mk "$R/chg/other.h5" 7
cp "$R/chg/a.h5" "$D/a-orig.h5"
expect_code 0 fedsched publish site1 chg/a.h5
expect_code 0 fedsched publish site1 chg/other.h5
# small pieces: several per transfer, each served from the file in place
export FEDSCHED_PIECE_BYTES=$((256 * 1024))

# round NAME: every change once; with FEDSCHED_LOCAL_READS as the caller set it (the
# client on the site's host copies plain runs of the file itself, or everything is
# streamed).  The file is the original at the start and at the end.
round() {
    log "round $1 (FEDSCHED_LOCAL_READS=${FEDSCHED_LOCAL_READS:-1})"
    expect_code 0 fedsched get site1/chg/a/v -o "$D/$1-g1.h5"
    same "$D/$1-g1.h5" "$R/chg/a.h5" || fail "the first get differs from the file"

    log "rewritten in place with new values: the new values are served"
    mk "$D/a-new.h5" 2
    cat "$D/a-new.h5" >"$R/chg/a.h5"      # same inode, same size, new bytes
    expect_code 0 fedsched get site1/chg/a/v -o "$D/$1-g2.h5"
    same "$D/$1-g2.h5" "$D/a-new.h5" || fail "after an in-place rewrite the site served the old values"

    log "replaced by a new file (rename over it): the new file is served"
    mk "$D/a-next.h5" 3
    mv "$D/a-next.h5" "$R/chg/a.h5"
    expect_code 0 fedsched get site1/chg/a/v -o "$D/$1-g2b.h5"
    same "$D/$1-g2b.h5" "$R/chg/a.h5" || fail "after a replacement by rename the site served the old file"

    log "truncated in place: refused with a clear error, the worker serves on"
    truncate -s $((1024 * 1024)) "$R/chg/a.h5"
    expect_error nonzero fedsched get site1/chg/a/v -o "$D/$1-g3.h5"
    case $ERR in
        *truncated*) ;;
        *) fail "a truncated file was not reported as truncated: $ERR" ;;
    esac
    [ ! -e "$D/$1-g3.h5" ] || fail "a failed get left its output file"
    kill -0 "$(worker_pid site1)" || fail "the worker died on a truncated file"
    expect_code 0 fedsched get site1/chg/other/v -o "$D/$1-g4.h5"
    same "$D/$1-g4.h5" "$R/chg/other.h5" || fail "the other dataset was served wrong after the truncation"

    log "put back: served again"
    cp "$D/a-orig.h5" "$R/chg/a.h5"
    expect_code 0 fedsched get 'site1/chg/a/v' -o "$D/$1-g5.h5"
    same "$D/$1-g5.h5" "$D/a-orig.h5" || fail "the file put back was served wrong"
}
FEDSCHED_LOCAL_READS=0 round stream
FEDSCHED_LOCAL_READS=1 round local
log "changed files are served as they are now, or refused"
