#!/usr/bin/env bash
# Local reads (docs/protocol.md, "Local reads"): a `get` on the host of the site that
# holds the data copies the plain runs of the file itself (copy_file_range) instead of
# receiving them over the socket — only raw reads, only when the client can open the
# file with its own credentials and it is the very file the site reads; everything
# else is streamed, and the result is the same either way.  Checked here:
#   - whole contiguous datasets and row ranges go local (get --json local_bytes), the
#     audit line says so, and the values equal the source read by h5py;
#   - strided columns, chunked data, reductions and FEDSCHED_LOCAL_READS=0 stream;
#   - in a private mount namespace where the path shows another file (a decoy with
#     other values), the client notices the file is not the site's and streams: the
#     result is the site's data, not the decoy's;
#   - an output on another file system (copy_file_range refuses: EXDEV) is still copied
#     locally, by read and write;
#   - a client that may not open the file (another user, mode 0600) streams;
#   - a site with `local_reads: false` offers nothing; `local_reads: maybe` is refused
#     with its line; malformed 'host'/'local' fields are answered with errors and the
#     worker serves on.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
need h5py
need zmq

fed_up 2
D=$FED_DIR
R1=$(data_root site1)
R2=$(data_root site2)
mkdir -p "$R1/lr" "$R2/lr" "$D/out"

# mk FILE SEED: /a 300 x 200 float64 contiguous, /b the same chunked 32 x 50
mk() {
    py - "$1" "$2" <<'PY' || fail "could not write $1"
import sys, numpy as np, h5py
rng = np.random.default_rng(int(sys.argv[2]))
a = rng.standard_normal((300, 200))
with h5py.File(sys.argv[1], "w") as h:
    h.create_dataset("a", data=a)
    h.create_dataset("b", data=a * 2, chunks=(32, 50))
PY
}
mk "$R1/lr/f.h5" 11
mk "$R2/lr/g.h5" 12
expect_code 0 fedsched publish site1 lr/f.h5
expect_code 0 fedsched publish site2 lr/g.h5

# check SLICE FILE LOCAL [ENV...]: get SLICE --json with ENV; the result equals h5py's
# read of FILE (the source); LOCAL is "all" (every byte copied locally) or "none".
N=0
check() {
    local slice=$1 src=$2 want=$3
    shift 3
    N=$((N + 1))
    expect_code 0 env "$@" fedsched get "$slice" --json -o "$D/out/$N.h5"
    py - "$slice" "$src" "$D/out/$N.h5" "$want" "$OUT" <<'PY' || fail "get $slice ($*): wrong result or path (above)"
import json, sys, numpy as np, h5py
slice_, src, out, want, js = sys.argv[1:6]
j = json.loads(js)
name, _, sel = slice_.partition("[")
dset = name.rsplit("/", 1)[1]
with h5py.File(src, "r") as h:
    a = h[dset][()]
parts = [p.strip() for p in sel.rstrip("]").split(",")] if sel else []
idx = tuple(slice(*[int(x) if x.strip() else None for x in p.split(":")]) if ":" in p else int(p)
            for p in parts)
want_arr = a[idx] if idx else a
with h5py.File(out, "r") as h:
    got = h[dset][()]
assert got.dtype == want_arr.dtype and got.shape == want_arr.shape, (got.dtype, got.shape, want_arr.shape)
assert np.array_equal(got, want_arr), "values differ"
assert j["bytes"] == want_arr.nbytes, j
lb = j["local_bytes"]
if want == "all":
    assert lb == j["bytes"], "expected every byte copied locally: %s" % j
else:
    assert lb == 0, "expected a streamed transfer: %s" % j
PY
}

log "contiguous whole and row ranges: copied locally"
check site1/lr/f/a "$R1/lr/f.h5" all
check 'site1/lr/f/a[10:250]' "$R1/lr/f.h5" all
check 'site1/lr/f/a[7]' "$R1/lr/f.h5" all
check 'site1/lr/f/a[3:299]' "$R1/lr/f.h5" all FEDSCHED_PIECE_BYTES=65536   # 8 pieces
check site2/lr/g/a "$R2/lr/g.h5" all
grep -q 'event=audit op=get reader=client dataset=site1/lr/f/a .* local=offered' \
    "$(site_dir site1)/worker.log" || fail "the audit line of a local read does not say local=offered"

log "strided, chunked, reduced and FEDSCHED_LOCAL_READS=0: streamed"
check 'site1/lr/f/a[:, ::3]' "$R1/lr/f.h5" none
check site1/lr/f/b "$R1/lr/f.h5" none
check site1/lr/f/a "$R1/lr/f.h5" none FEDSCHED_LOCAL_READS=0
expect_code 0 fedsched get site1/lr/f/a --reduce sum:2,2 --json -o "$D/out/red.h5"
py -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["local_bytes"] == 0 and j["bytes"] == 150*100*8, j' "$OUT" ||
    fail "a reduction was not streamed: $OUT"

# In a mount namespace of its own the client sees a decoy at the site's path.
if unshare -m true 2>/dev/null; then
    log "another file at the same path (private mount namespace): streamed, the site's data"
    mkdir -p "$D/decoy"
    mk "$D/decoy/f.h5" 99
    N=$((N + 1))
    unshare -m bash -c 'mount --bind "$1" "$2" && exec fedsched get site1/lr/f/a --json -o "$3"' \
        _ "$D/decoy" "$R1/lr" "$D/out/$N.h5" >"$D/out/$N.json" 2>"$D/out/$N.err" ||
        fail "get in a private mount namespace failed: $(cat "$D/out/$N.err")"
    py - "$R1/lr/f.h5" "$D/decoy/f.h5" "$D/out/$N.h5" "$D/out/$N.json" <<'PY' || fail "the decoy was copied (above)"
import json, sys, numpy as np, h5py
real, decoy, out, js = sys.argv[1:5]
j = json.load(open(js))
got = h5py.File(out, "r")["a"][()]
assert not np.array_equal(got, h5py.File(decoy, "r")["a"][()]), "the result is the decoy's data"
assert np.array_equal(got, h5py.File(real, "r")["a"][()]), "the result is not the site's data"
assert j["local_bytes"] == 0, j
PY
    log "output on another file system (tmpfs): copied locally by read and write"
    mkdir -p "$D/tmpfs"
    # In a mount namespace of its own, so the tmpfs goes away with it whatever happens.
    unshare -m bash -c 'mount -t tmpfs -o size=16m tmpfs "$1" &&
        fedsched get site1/lr/f/a --json -o "$1/o.h5" >"$1/o.json" &&
        "$2" - "$3" "$1/o.h5" "$1/o.json"' _ "$D/tmpfs" "$PY" "$R1/lr/f.h5" <<'PY' ||
import json, sys, numpy as np, h5py
src, out, js = sys.argv[1:4]
j = json.load(open(js))
assert np.array_equal(h5py.File(out, "r")["a"][()], h5py.File(src, "r")["a"][()]), "values differ"
assert j["local_bytes"] == j["bytes"] == 480000, j
PY
        fail "a local read into a file on another file system went wrong (above)"
else
    log "SKIPPED: the mount-namespace cases (unshare -m is not possible here)"
fi

# Another user who may not open the file: the operating system says no, so it streams.
# That user runs a copy of fedsched from the test's own directory (made reachable for
# it): the build directory may lie in a clone only root may enter.
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
    log "SKIPPED: the other-user case (it needs root and setpriv)"
else
    NB="$D/nobody"
    mkdir -p "$NB/bin"
    cp "$(command -v fedsched)" "$NB/bin/fedsched"
    chmod 755 "$NB/bin" "$NB/bin/fedsched"
    chmod 777 "$NB"
    chmod o+x "$D"              # the test directory is private; the file itself stays 0600
    # A sanitizer build reads its suppressions file as that user too.
    nb_lsan=${LSAN_OPTIONS:-}
    if [[ $nb_lsan =~ suppressions=([^:]*) ]] && [ -f "${BASH_REMATCH[1]}" ]; then
        cp "${BASH_REMATCH[1]}" "$NB/lsan.supp"
        chmod 644 "$NB/lsan.supp"
        nb_lsan=${nb_lsan/"${BASH_REMATCH[1]}"/"$NB/lsan.supp"}
    fi
    as_nobody() {
        setpriv --reuid=65534 --regid=65534 --clear-groups \
            env HOME="$NB" PATH="$NB/bin:$PATH" LSAN_OPTIONS="$nb_lsan" "$@"
    }
    cp "$R1/lr/f.h5" "$R1/lr/p.h5"
    chmod 600 "$R1/lr/p.h5"
    if ! as_nobody test -e "$R1/lr/p.h5"; then
        # TMPDIR itself is closed to other users: the file cannot even be looked up.
        log "SKIPPED: the other-user case (user nobody cannot reach $R1: is TMPDIR private?)"
    elif ! nb_err=$(as_nobody fedsched --help 2>&1 >/dev/null); then
        log "SKIPPED: the other-user case (user nobody cannot run $NB/bin/fedsched: $nb_err)"
    else
        log "a client that may not open the file (another user, mode 0600): streamed"
        as_nobody test -r "$R1/lr/p.h5" && fail "user nobody may read a file of mode 0600"
        expect_code 0 fedsched publish site1 lr/p.h5
        expect_code 0 as_nobody fedsched get site1/lr/p/a --json -o "$NB/p.h5"
        py - "$R1/lr/p.h5" "$NB/p.h5" "$OUT" <<'PY' || fail "the get of another user went wrong (above)"
import json, sys, numpy as np, h5py
j = json.loads(sys.argv[3])
assert np.array_equal(h5py.File(sys.argv[1], "r")["a"][()], h5py.File(sys.argv[2], "r")["a"][()])
assert j["local_bytes"] == 0, j
PY
    fi
fi

log "raw requests: malformed 'host' and 'local' are refused, the worker serves on"
DATA_URI=$(config_listen "$(site_dir site1)/site.yaml")
py - "$DATA_URI" <<'PY' || fail "raw data-plane requests about local reads were answered wrongly (above)"
import json, sys, zmq
uri = sys.argv[1]
ctx = zmq.Context()
def ask(req):
    s = ctx.socket(zmq.DEALER); s.setsockopt(zmq.LINGER, 0); s.connect(uri)
    s.send(json.dumps(req).encode())
    r = s.recv_multipart() if s.poll(5000) else None
    s.close()
    assert r is not None, "no reply to %s" % req
    return json.loads(r[0]), r
sel = {"start": [0, 0], "step": [1, 1], "count": [300, 200], "drop": [False, False]}
good = {"name": "site1/lr/f/a", "sel": sel, "reduce": None, "piece_bytes": 1 << 20}
for body, what in ((dict(good, host=5), "host: 5"), (dict(good, host=["x"]), "host: [x]"),
                   (dict(good, index=0, local="yes"), "local: 'yes'"), (dict(good, index=0, local=1), "local: 1")):
    for op in ("data.open", "data.piece"):
        j, _ = ask({"op": op, "id": 9, "body": dict(body, index=0)})
        assert j.get("ok") is False and j["error"]["code"] == 2 and j["error"]["text"], (op, what, j)
        print("ok   %s %s -> %s" % (op, what, j["error"]["text"]))
# Another host, or no host: no path offered, and a piece asking for 'local' gets bytes.
for host in ("another-host/1", None):
    b = dict(good) if host is None else dict(good, host=host)
    j, _ = ask({"op": "data.open", "id": 10, "body": b})
    assert j.get("ok") and "local" not in j["body"], j
    j, r = ask({"op": "data.piece", "id": 11, "body": dict(b, index=0, local=True)})
    assert j.get("ok") and "extent" not in j["body"] and len(r) == 2 and len(r[1]) == j["body"]["bytes"], j
print("ok   no path offered and bytes sent to a requester on another host")
PY
kill -0 "$(worker_pid site1)" || fail "the worker died on malformed local-read requests"
check 'site1/lr/f/a[0:100]' "$R1/lr/f.h5" all

log "site2 with local_reads: false offers nothing; local_reads: maybe is refused"
Y2=$(site_dir site2)/site.yaml
cp "$Y2" "$D/site2-bad.yaml"
echo "local_reads: maybe" >>"$D/site2-bad.yaml"
expect_code 2 fedsched worker -c "$D/site2-bad.yaml"
case $ERR in
    *site2-bad.yaml:*local_reads*) ;;
    *) fail "a bad local_reads was not reported with its file, line and key: $ERR" ;;
esac
fed_kill_worker site2 TERM
echo "local_reads: false" >>"$Y2"
fed_start_worker site2
wait_state site2 up 20
check site2/lr/g/a "$R2/lr/g.h5" none
if grep 'dataset=site2/lr/g/a' "$(site_dir site2)/worker.log" | tail -1 | grep -q 'local=offered'; then
    fail "site2 with local_reads: false still offered its file"
fi
log "local reads: plain runs copied on the site's host, everything else streamed"
