#!/usr/bin/env bash
# Bad input never crashes a daemon and always gets a clear error (SPEC sections 2, 3, 6, 8):
# malformed slices and names, out-of-range and too many indices, unknown datasets, publish
# path traversal (.., absolute paths, symlinks), corrupt HDF5 files and unsupported types in
# a data root, data policies on `get`, raw malformed / oversized ZeroMQ messages to the
# scheduler and to a worker's data plane, and unreachable scheduler / site (exit 75).
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
need h5py
need zmq
need yaml

# --- files in site1's data root before start: the start-up scan meets them ---------------
fed_dir
D=$FED_DIR
R1="$D/sites/site1/data"
mkdir -p "$R1/bad" "$D/sites/site2/data" "$D/outdir"
py - "$R1/bad" "$D" <<'PY' || fail "could not write the test files"
import os, sys, numpy as np, h5py
d, top = sys.argv[1:3]
with h5py.File(d + "/ok.h5", "w") as h:
    h.create_dataset("x", data=np.arange(100, dtype="float64").reshape(10, 10))
    h.create_dataset("y", data=np.arange(6, dtype="int32"))
with open(d + "/junk.h5", "wb") as f:
    f.write(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
with h5py.File(d + "/trunc.h5", "w") as h:
    h.create_dataset("t", data=np.arange(50000, dtype="float64"))
size = os.path.getsize(d + "/trunc.h5")
with open(d + "/trunc.h5", "r+b") as f:
    f.truncate(size // 2)
def strings(path):
    with h5py.File(path, "w") as h:
        h.create_dataset("s", data=np.array([b"alpha", b"beta"], dtype="S8"))
        h.create_dataset("vs", data=["x", "yy"], dtype=h5py.string_dtype())
        h.create_dataset("c", data=np.zeros(3, dtype=[("a", "i4"), ("b", "f8")]))
        h.create_dataset("n", data=np.arange(3, dtype="int32"))
strings(d + "/strings.h5")
strings(top + "/strings2.h5")
with h5py.File(top + "/outside.h5", "w") as h:
    h.create_dataset("secret", data=np.arange(4, dtype="int32"))
with h5py.File(top + "/outdir/outside.h5", "w") as h:
    h.create_dataset("secret", data=np.arange(4, dtype="int32"))
with h5py.File(top + "/sites/site2/data/other.h5", "w") as h:
    h.create_dataset("o", data=np.arange(4, dtype="int32"))
PY

fed_up 2
X=site1/bad/ok/x

log "start-up scan: corrupt files and unsupported types reported and skipped, the rest published"
expect_code 0 fedsched catalog --json
py - "$OUT" <<'PY' || fail "start-up scan: wrong catalog (see above)"
import json, sys
names = {c["name"] for c in json.loads(sys.argv[1])}
for n in ("site1/bad/ok/x", "site1/bad/ok/y", "site1/bad/strings/n", "site2/other/o"):
    assert n in names, "missing %s (catalog: %s)" % (n, sorted(names))
for n in ("site1/bad/strings/s", "site1/bad/strings/vs", "site1/bad/strings/c", "site1/bad/trunc/t"):
    assert n not in names, "%s must not be published" % n
assert not [n for n in names if "junk" in n], names
PY
WLOG="$D/sites/site1/worker.log"
for f in junk.h5 trunc.h5; do
    grep -q "$f" "$WLOG" || fail "the worker did not report the corrupt file $f in its log"
done
grep -E 'strings' "$WLOG" | grep -qiE 'type|unsupported' ||
    fail "the worker did not report the unsupported types of strings.h5 in its log"
kill -0 "$(worker_pid site1)" || fail "the worker of site1 died on corrupt files"

log "publish of corrupt files and unsupported types"
expect_error 1 fedsched publish site1 bad/junk.h5
expect_error 1 fedsched publish site1 bad/trunc.h5
expect_error 1 fedsched publish site1 bad/nonexistent.h5
cp "$D/strings2.h5" "$R1/bad/strings2.h5"
expect_code 0 fedsched publish site1 bad/strings2.h5
ALL="$OUT $ERR"
case $ALL in *site1/bad/strings2/n*) ;; *) fail "publish strings2.h5 did not report n as published: $ALL" ;; esac
for ds in s vs c; do
    printf '%s\n' "$ALL" | grep -E "(^|[^a-z])/?$ds([^a-z]|\$)" | grep -qiE 'type|unsupported' ||
        fail "publish strings2.h5 did not say that dataset '$ds' has an unsupported type: $ALL"
done

# --- malformed slices and names --------------------------------------------------------
log "malformed slices exit 2"
O="$D/o.h5"
for s in "${X}[::0]" "${X}[1,,2]" "${X}[[1,2]]" "${X}[a]" "${X}[" "$X]" "${X}[1:2:3:4]" "${X}[::-1]" \
    "${X}[1.5]" "${X}[...,...]" "${X}[1]]" "${X}[]" "${X}[--1]" "${X}[1 2]" "${X}[True]" "${X}[:, None]" \
    "${X}[0x1]" "${X}[1:2, ::-2]" "${X}[99999999999999999999999]" "${X}[1;2]" "${X}[1]x"; do
    expect_error 2 fedsched get "$s" -o "$O"
done
log "out-of-range and too many indices exit 2"
for s in "${X}[10]" "${X}[-11]" "${X}[0, 10]" "${X}[:, -11]" "${X}[1, 2, 3]" "${X}[:, :, :]" "${X}[..., 1, 2, 3]" \
    "site1/bad/ok/y[6]" "site1/bad/ok/y[0, 0]"; do
    expect_error 2 fedsched get "$s" -o "$O"
done
log "unknown dataset exits 1"
expect_error 1 fedsched get 'site1/bad/ok/nope' -o "$O"
expect_error 1 fedsched get 'nowhere/x[1:2]' -o "$O"
log "invalid names exit 2"
LONG=$(printf 'a%.0s' $(seq 1 300))
for n in 'site1//x' 'site1/../x' 'site1/./x' '/site1/x' 'site1/x/' 'site1/x y' 'site1/x$' \
    "site1/$LONG" 'site1/é' ''; do
    expect_error 2 fedsched get "$n" -o "$O"
done
expect_error 2 fedsched publish site1 bad/ok.h5 --name 'a/./b'
expect_error 2 fedsched publish site1 bad/ok.h5 --name "$LONG/x"
expect_error nonzero fedsched publish 'si te' bad/ok.h5   # SPEC: a site name is not a dataset name; 1 or 2
log "bad --reduce and usage exit 2"
expect_error 2 fedsched get "$X" --reduce bogus:2,2 -o "$O"
expect_error 2 fedsched get "$X" --reduce mean:0,2 -o "$O"
expect_error 2 fedsched get "$X" --reduce mean:2 -o "$O"
expect_error 2 fedsched get "$X" --reduce mean:2,2,2 -o "$O"
expect_error 2 fedsched get "$X" --reduce mean -o "$O"
expect_error 2 fedsched get "$X"
expect_error 2 fedsched get "$X" -o "$O" --no-such-flag
expect_error 2 fedsched no-such-verb
[ -e "$O" ] && fail "a refused get left an output file behind"
expect_error nonzero fedsched get "${X}[0]" -o "$D/no/such/dir/o.h5"

# --- publish outside the data roots ------------------------------------------------------
log "publish path traversal refused"
ln -s "$D/outside.h5" "$R1/bad/link.h5"
ln -s "$D/outdir" "$R1/lnk"
for p in ../.. ../../../../etc/passwd /etc/passwd "$D/outside.h5" "$D/sites/site2/data/other.h5" \
    bad/../../../outside.h5 bad/link.h5 lnk/outside.h5 "$R1/lnk/outside.h5" "$R1/bad/link.h5"; do
    expect_code nonzero fedsched publish site1 "$p"
    case $ERR in
        *"fedsched: error:"*) ;;
        *) fail "publish site1 $p was refused without 'fedsched: error:' on stderr: $ERR" ;;
    esac
done
expect_code 0 fedsched catalog --json
py -c '
import json, sys
bad = [c["name"] for c in json.loads(sys.argv[1])
       if any(w in c["name"] for w in ("outside", "secret", "link", "lnk", "passwd"))
       or (c["name"].startswith("site1/") and c["name"].endswith("/o"))]
assert not bad, bad' "$OUT" || fail "a refused publish reached the catalog: $OUT"
expect_code 0 fedsched publish site1 "$R1/bad/ok.h5"    # absolute, inside the root: fine

# --- data policies on get ----------------------------------------------------------------
log "policies on get"
mkdir -p "$R1/pol"
py - "$R1/pol" <<'PY'
import sys, numpy as np, h5py
for p in ("none", "regions", "agg"):
    with h5py.File("%s/%s.h5" % (sys.argv[1], p), "w") as h:
        h.create_dataset("v", data=np.arange(64, dtype="float64").reshape(8, 8))
PY
expect_code 0 fedsched publish site1 pol/none.h5 --policy none
expect_code 0 fedsched publish site1 pol/regions.h5 --policy regions=site2
expect_code 0 fedsched publish site1 pol/agg.h5 --policy aggregate=2x2
expect_error 1 fedsched get site1/pol/none/v -o "$O"
expect_error 1 fedsched get 'site1/pol/none/v[0:2]' --reduce mean:2,8 -o "$O"
expect_error 1 fedsched get site1/pol/regions/v -o "$O"
expect_error 1 fedsched get site1/pol/agg/v -o "$O"
expect_error 1 fedsched get 'site1/pol/agg/v[0:4, 0:4]' -o "$O"
expect_error 1 fedsched get site1/pol/agg/v --reduce mean:1,2 -o "$O"
expect_error 1 fedsched get site1/pol/agg/v --reduce sum:2,1 -o "$O"
expect_error 1 fedsched get 'site1/pol/agg/v[0]' --reduce mean:8 -o "$O"
[ -e "$O" ] && fail "a refused get left an output file behind"
expect_code 0 fedsched get site1/pol/agg/v --reduce mean:2,2 -o "$D/agg1.h5"
expect_error 1 fedsched get 'site1/pol/agg/v[2:6, :]' --reduce max:2,4 -o "$O"
expect_code 0 fedsched get 'site1/pol/agg/v[2:6, :]' --reduce sum:2,4 -o "$D/agg2.h5"
py - "$D" <<'PY' || fail "aggregate reductions returned wrong values"
import sys, numpy as np, h5py
a = np.arange(64, dtype="float64").reshape(8, 8)
g1 = h5py.File(sys.argv[1] + "/agg1.h5", "r")["v"][()]
assert np.allclose(g1, a.reshape(4, 2, 4, 2).mean(axis=(1, 3))), g1
g2 = h5py.File(sys.argv[1] + "/agg2.h5", "r")["v"][()]
assert np.array_equal(g2, a[2:6].reshape(2, 2, 2, 4).sum(axis=(1, 3))), g2
PY

# --- raw messages to the scheduler and a worker -------------------------------------------
SCHED_URI=$(config_listen "$D/federation.yaml")
DATA_URI=$(config_listen "$D/sites/site1/site.yaml")
SPID=$(scheduler_pid)
WPID=$(worker_pid site1)
log "raw malformed messages: scheduler $SCHED_URI, site1 data plane $DATA_URI"
py - "$SCHED_URI" "$DATA_URI" <<'PY' || fail "raw malformed messages were not answered as docs/protocol.md says (above)"
import json, sys, zmq

sched, data = sys.argv[1:3]
ctx = zmq.Context()
bad = []

def ask(uri, frames, wait=5.0):
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.SNDHWM, 0)
    s.connect(uri)
    s.send_multipart(frames)
    reply = s.recv_multipart() if s.poll(int(wait * 1000)) else None
    s.close()
    return reply

def head(reply):
    try:
        j = json.loads(reply[0])
        return j if isinstance(j, dict) else None
    except Exception:
        return None

def expect_error(where, uri, frames, what, codes=(1, 2), want_id=None):
    r = ask(uri, frames)
    if r is None:
        bad.append("%s: %s: no reply within 5 s" % (where, what)); return
    j = head(r)
    if j is None:
        bad.append("%s: %s: reply is not a JSON object: %r" % (where, what, r[0][:200])); return
    e = j.get("error")
    if j.get("ok") is not False or not isinstance(e, dict) or e.get("code") not in codes \
            or not isinstance(e.get("text"), str) or not e["text"]:
        bad.append("%s: %s: expected an error reply with code in %s, got %s" % (where, what, codes, j)); return
    if want_id is not None and j.get("id") != want_id:
        bad.append("%s: %s: error reply has id %r, expected %r" % (where, what, j.get("id"), want_id))
    print("ok   %s: %s -> error %s: %s" % (where, what, e["code"], e["text"][:100]))

def expect_ok(where, uri, req, what, nframes=None):
    r = ask(uri, [json.dumps(req).encode()])
    j = head(r) if r else None
    if not j or j.get("ok") is not True:
        bad.append("%s: %s: expected an ok reply, got %r" % (where, what, r)); return None
    if nframes is not None and len(r) != nframes:
        bad.append("%s: %s: expected %d frames, got %d" % (where, what, nframes, len(r)))
    print("ok   %s: %s -> ok" % (where, what))
    return r

def oversized(where, uri):
    # A 64 MiB frame: the peer is disconnected (ZMQ_MAXMSGSIZE) or gets an error.
    r = ask(uri, [b"{" + b" " * (64 << 20)], wait=3.0)
    if r is not None:
        j = head(r)
        if not j or j.get("ok") is not False:
            bad.append("%s: 64 MiB frame: reply that is not an error: %r" % (where, r[0][:200]))
    print("ok   %s: 64 MiB frame -> %s" % (where, "error reply" if r else "disconnected"))

def common(where, uri):
    J = lambda o: json.dumps(o).encode()
    expect_error(where, uri, [b"\xff\xfe this is not JSON {"], "non-JSON bytes", want_id=0)
    expect_error(where, uri, [b"[1, 2, 3]"], "JSON array", want_id=0)
    expect_error(where, uri, [b"\"just a string\""], "JSON string")
    expect_error(where, uri, [b""], "one empty frame")
    expect_error(where, uri, [J({"id": 5, "body": {}})], "JSON without op", want_id=5)
    expect_error(where, uri, [J({"op": 5, "id": 6})], "op not a string")
    expect_error(where, uri, [J({"op": "no.such", "id": 7, "body": {}})], "unknown op", want_id=7)
    expect_error(where, uri, [b'{"op": "no.such", "op": "x", "id": 8}'], "duplicate keys")
    expect_error(where, uri, [b"[" * 100000 + b"]" * 100000], "deeply nested JSON")
    expect_error(where, uri, [b""] * 1000, "1000 empty frames")
    oversized(where, uri)

common("scheduler", sched)
J = lambda o: json.dumps(o).encode()
for req, what in (
        ({"op": "catalog.list", "id": 11, "body": {"glob": 5}}, "catalog.list glob:5"),
        ({"op": "catalog.list", "id": 12, "body": []}, "catalog.list body:[]"),
        ({"op": "catalog.lookup", "id": 13, "body": {"name": ["x"]}}, "catalog.lookup name:[x]"),
        ({"op": "catalog.lookup", "id": 14, "body": {}}, "catalog.lookup without name"),
        ({"op": "catalog.lookup", "id": 15, "body": {"name": "../../etc"}}, "catalog.lookup invalid name"),
        ({"op": "catalog.publish", "id": 16, "body": {"site": 1, "path": None}}, "catalog.publish wrong types"),
        ({"op": "catalog.publish", "id": 17, "body": {"site": "site1", "path": "bad/ok.h5", "policy": 3}}, "catalog.publish policy:3"),
        ({"op": "site.heartbeat", "id": 18, "body": {"name": 42}}, "site.heartbeat name:42"),
        ({"op": "site.hello", "id": 19, "body": {"proto": "one", "name": ["x"]}}, "site.hello wrong types"),
        ({"op": "catalog.register", "id": 20, "body": {"site": "site1", "datasets": "all"}}, "catalog.register datasets:'all'"),
        ):
    expect_error("scheduler", sched, [J(req)], what, want_id=req["id"])
for req, what in (
        ({"op": "catalog.policy", "id": 21, "body": {"site": "site1", "name": "site1/bad/ok/x"}}, "catalog.policy without policy"),
        ({"op": "catalog.policy", "id": 22, "body": {"site": "site1", "name": "site1/bad/ok/x", "policy": "none", "loosen": "yes"}}, "catalog.policy loosen:'yes'"),
        ({"op": "catalog.policy", "id": 23, "body": {"site": "site1", "name": "site1/bad/ok/x", "policy": "aggregate=4x4,min=0"}}, "catalog.policy min=0"),
        ({"op": "catalog.policy", "id": 24, "body": {"site": "site1", "name": "../x", "policy": "none"}}, "catalog.policy invalid name"),
        ({"op": "site.hello", "id": 25, "body": {"proto": 1, "name": "rogue", "region": "r", "data_uri": "tcp://127.0.0.1:9", "cores": 1, "operators": "everyone"}}, "site.hello operators:'everyone'"),
        ({"op": "site.hello", "id": 26, "body": {"proto": 1, "name": "rogue", "region": "r", "data_uri": "tcp://127.0.0.1:9", "cores": 1, "operators": ["short"]}}, "site.hello operators:['short']"),
        ):
    expect_error("scheduler", sched, [J(req)], what, codes=(2,), want_id=req["id"])
for req, what in (
        ({"op": "catalog.policy", "id": 27, "body": {"site": "nosite", "name": "a/b", "policy": "none"}}, "catalog.policy unknown site"),
        ({"op": "catalog.policy", "id": 28, "body": {"site": "site1", "name": "site1/no/such", "policy": "none"}}, "catalog.policy unknown dataset (the site answers)"),
        ({"op": "catalog.policy", "id": 29, "body": {"site": "site1", "name": "site1/pol/none/v", "policy": "raw"}}, "catalog.policy looser without loosen (the site answers)"),
        ):
    expect_error("scheduler", sched, [J(req)], what, codes=(1,), want_id=req["id"])
expect_ok("scheduler", sched, {"op": "sites.list", "id": 30, "body": {}}, "sites.list after all that")

common("site1", data)
sel = lambda start, step, count, drop=None: {"start": start, "step": step, "count": count,
                                              "drop": drop or [False] * len(start)}
X = "site1/bad/ok/x"
good = {"name": X, "sel": sel([0, 0], [1, 1], [10, 10]), "reduce": None, "piece_bytes": 1 << 20}
r = expect_ok("site1", data, {"op": "data.piece", "id": 40, "body": dict(good, index=0)},
              "a valid data.piece (sanity)", nframes=2)
if r:
    h = json.loads(r[0])["body"]
    if h.get("bytes") != 800 or len(r[1]) != 800:
        bad.append("site1: valid data.piece: header %s with %d bytes, expected 800" % (h, len(r[1])))
expect_ok("site1", data, {"op": "data.open", "id": 41, "body": good}, "a valid data.open (sanity)")
for body, what, codes in (
        (dict(good, sel=sel([5, 0], [1, 1], [100, 10]), index=0), "data.piece out-of-bounds count", (2,)),
        (dict(good, sel=sel([10, 0], [1, 1], [1, 10]), index=0), "data.piece start past the end", (2,)),
        (dict(good, sel=sel([0, 0], [1, 3], [10, 5]), index=0), "data.piece step past the end", (2,)),
        (dict(good, sel=sel([0, 0], [0, 1], [10, 10]), index=0), "data.piece step 0", (2,)),
        (dict(good, sel=sel([0, 0], [1, 1], [2**62, 2**62]), index=0), "data.piece huge count", (2,)),
        (dict(good, sel=sel([-1, 0], [1, 1], [1, 1]), index=0), "data.piece negative start", (2,)),
        (dict(good, sel=sel([0], [1], [1]), index=0), "data.piece rank mismatch", (2,)),
        (dict(good, sel={"start": "0"}, index=0), "data.piece sel of wrong types", (2,)),
        (dict(good, index=999), "data.piece index past the last piece", (2,)),
        (dict(good, index=-1), "data.piece negative index", (2,)),
        (dict(good, index="0"), "data.piece index:'0'", (2,)),
        (dict(good, reduce={"op": "median", "block": [2, 2]}, index=0), "data.piece unknown reduce op", (2,)),
        (dict(good, reduce={"op": "mean", "block": [0, 2]}, index=0), "data.piece reduce block 0", (2,)),
        (dict(good, reduce={"op": "mean", "block": [2]}, index=0), "data.piece reduce rank mismatch", (2,)),
        (dict(good, name="site1/bad/ok/nope", index=0), "data.piece unknown dataset", (1,)),
        (dict(good, name="../x", index=0), "data.piece invalid name", (1, 2)),
        (dict(good, name="site1/pol/none/v", sel=sel([0, 0], [1, 1], [8, 8]), index=0), "data.piece of a policy-none dataset", (1,)),
        (dict(good, name="site1/pol/agg/v", sel=sel([0, 0], [1, 1], [8, 8]), index=0), "data.piece raw of an aggregate dataset", (1,)),
        (dict(good, name="site1/pol/agg/v", sel=sel([0, 0], [1, 1], [8, 8]), reduce={"op": "mean", "block": [1, 1]}, index=0), "data.piece too-small blocks of an aggregate dataset", (1,)),
        ):
    expect_error("site1", data, [J({"op": "data.piece", "id": 50, "body": body})], what, codes, want_id=50)
expect_error("site1", data, [J({"op": "data.open", "id": 60, "body": dict(good, name="site1/pol/none/v", sel=sel([0, 0], [1, 1], [8, 8]))})],
             "data.open of a policy-none dataset", (1,), want_id=60)
expect_error("site1", data, [J({"op": "data.open", "id": 61, "body": {"name": 5, "sel": "x", "reduce": 1, "piece_bytes": "a"}})],
             "data.open of wrong types", (2,), want_id=61)
expect_error("site1", data, [J({"op": "data.open", "id": 62, "body": None})], "data.open body:null", (2,), want_id=62)
expect_ok("site1", data, {"op": "data.piece", "id": 70, "body": dict(good, index=0)}, "a valid data.piece after all that", nframes=2)

for b in bad:
    print("FAIL " + b)
sys.exit(1 if bad else 0)
PY
kill -0 "$SPID" 2>/dev/null || fail "the scheduler (pid $SPID) died on malformed messages"
kill -0 "$WPID" 2>/dev/null || fail "the worker of site1 (pid $WPID) died on malformed messages"
expect_code 0 fedsched sites --json
py -c 'import json,sys; assert all(s["state"]=="up" for s in json.loads(sys.argv[1])), sys.argv[1]' "$OUT" ||
    fail "sites not all up after malformed messages: $OUT"
expect_code 0 fedsched get "${X}[2:4]" -o "$D/after.h5"
py -c 'import h5py,sys,numpy as np; v=h5py.File(sys.argv[1],"r")["x"][()]; assert np.array_equal(v, np.arange(20,40.).reshape(2,10)), v' "$D/after.h5" ||
    fail "get after malformed messages returned wrong data"

# --- unreachable scheduler and site --------------------------------------------------------
log "unreachable scheduler: exit 75 within FEDSCHED_TIMEOUT"
FREE=$(py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for verb in "sites" "catalog" "get $X -o $D/u.h5" "publish site1 bad/ok.h5"; do
    T0=$(date +%s.%N)
    # shellcheck disable=SC2086
    expect_code 75 env FEDSCHED_SCHEDULER="tcp://127.0.0.1:$FREE" FEDSCHED_TIMEOUT=2 timeout 30 fedsched $verb
    T=$(py -c "import sys; print('%.1f' % ($(date +%s.%N) - $T0))")
    py -c "import sys; sys.exit(0 if $T < 5 else 1)" || fail "fedsched $verb took ${T}s to give up with FEDSCHED_TIMEOUT=2"
    case $ERR in *"fedsched: error:"*) ;; *) fail "fedsched $verb: exit 75 without 'fedsched: error:' on stderr" ;; esac
done

log "unreachable site (worker stopped with SIGSTOP): get exits 75 within FEDSCHED_TIMEOUT"
kill -STOP "$WPID"
T0=$(date +%s.%N)
expect_code 75 env FEDSCHED_TIMEOUT=2 timeout 30 fedsched get "$X" -o "$D/u.h5"
T=$(py -c "print('%.1f' % ($(date +%s.%N) - $T0))")
kill -CONT "$WPID"
py -c "import sys; sys.exit(0 if $T < 6 else 1)" || fail "get from a stopped site took ${T}s to give up with FEDSCHED_TIMEOUT=2"
wait_state site1 up 20
expect_code 0 fedsched get "${X}[0]" -o "$D/back.h5"
kill -0 "$SPID" 2>/dev/null || fail "the scheduler died"
kill -0 "$WPID" 2>/dev/null || fail "the worker of site1 died"
exit 0
