#!/usr/bin/env bash
# Slices and block reductions end to end (SPEC sections 2, 3, 6, 7): h5py writes varied
# datasets (every supported type, ranks 0-4, contiguous / chunked / gzip+shuffle, big-endian,
# empty) into site1's data root; they are published; then many NumPy basic slices and
# --reduce cases are fetched with `fedsched get` and compared (dtype, shape, values) with
# NumPy's result on the source read independently by h5py.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
need h5py

fed_up 2
D=$FED_DIR
R1=$(data_root site1)
mkdir -p "$R1/sl" "$D/out"

log "writing the source datasets"
py - "$R1/sl" <<'PY' || fail "could not write the source datasets"
import sys, numpy as np, h5py
d = sys.argv[1]
rng = np.random.default_rng(20240611)
types = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64"]
with h5py.File(d + "/types.h5", "w") as h:
    for i, t in enumerate(types):
        dt = np.dtype(t)
        if dt.kind in "iu":
            info = np.iinfo(dt)
            a = rng.integers(info.min, info.max, size=(13, 7), dtype=dt, endpoint=True)
            a.flat[0], a.flat[-1], a.flat[5] = info.min, info.max, 0
        else:
            a = (rng.normal(0, 1e3, (13, 7))).astype(dt)
            a.flat[0], a.flat[-1], a.flat[5] = np.finfo(dt).max, -np.finfo(dt).max, np.finfo(dt).tiny
        kw = {"chunks": (4, 3)} if i % 2 else {}
        h.create_dataset("t_" + t, data=a, **kw)
with h5py.File(d + "/ranks.h5", "w") as h:
    h.create_dataset("r1", data=rng.normal(size=100))
    h.create_dataset("r2", data=rng.integers(-10**6, 10**6, (17, 23)).astype("int32"))
    h.create_dataset("r3", data=rng.normal(size=(6, 10, 12)).astype("float32"), chunks=(4, 4, 5))
    h.create_dataset("r3g", data=rng.integers(-2**40, 2**40, (6, 10, 12)).astype("int64"),
                     chunks=(3, 5, 4), compression="gzip", compression_opts=6, shuffle=True)
    h.create_dataset("r4", data=rng.integers(0, 65535, (3, 4, 5, 6)).astype("uint16"),
                     chunks=(2, 2, 3, 3), compression="gzip", shuffle=True)
with h5py.File(d + "/big.h5", "w") as h:
    h.create_dataset("big", data=rng.normal(size=(1200, 1100)), chunks=(128, 128),
                     compression="gzip", compression_opts=1, shuffle=True)
    h.create_dataset("bigc", data=rng.normal(size=(1000, 1500)).astype("float32"))
with h5py.File(d + "/edge.h5", "w") as h:
    h.create_dataset("scalar", data=np.float64(3.25))
    h.create_dataset("scalar_i", data=np.int16(-7))
    h.create_dataset("be_i4", data=np.arange(30, dtype=">i4").reshape(5, 6) * 1000003)
    h.create_dataset("be_f8", data=np.linspace(-1, 1, 7).astype(">f8"), chunks=(3,))
    h.create_dataset("empty", shape=(0, 4), dtype="float32")
    h.create_dataset("one", data=np.array([4000000000], dtype="uint32"))
PY

for f in types ranks big edge; do
    expect_code 0 fedsched publish site1 "sl/$f.h5"
done
expect_code 0 fedsched catalog 'site1/sl/*' --json
py - "$OUT" <<'PY' || fail "catalog entries of the source datasets are wrong"
import json, sys
by = {c["name"]: c for c in json.loads(sys.argv[1])}
want = {"site1/sl/edge/scalar": ([], "float64"), "site1/sl/edge/be_i4": ([5, 6], "int32"),
        "site1/sl/edge/be_f8": ([7], "float64"), "site1/sl/edge/empty": ([0, 4], "float32"),
        "site1/sl/ranks/r4": ([3, 4, 5, 6], "uint16"), "site1/sl/big/big": ([1200, 1100], "float64")}
for n, (shape, dtype) in want.items():
    assert n in by, "missing " + n
    assert by[n]["shape"] == shape and by[n]["dtype"] == dtype, by[n]
assert len([n for n in by if n.startswith("site1/sl/types/")]) == 10, sorted(by)
PY

# Cases: SLICE<TAB>REDUCE ("-": none).  The comparator below parses SLICE itself.
CASES="$D/cases.tsv"
{
    for t in int8 int16 int32 int64 uint8 uint16 uint32 uint64 float32 float64; do
        printf 'site1/sl/types/t_%s\t-\n' "$t"
        printf 'site1/sl/types/t_%s[2:11:3, -1]\t-\n' "$t"
    done
    while IFS= read -r s; do
        [ -n "$s" ] && printf '%s\t-\n' "$s"
    done <<'EOF'
site1/sl/ranks/r1[5]
site1/sl/ranks/r1[-1]
site1/sl/ranks/r1[::7]
site1/sl/ranks/r1[10:3]
site1/sl/ranks/r1[-10:]
site1/sl/ranks/r1[:-90]
site1/sl/ranks/r1[3:50:4]
site1/sl/ranks/r1[...]
site1/sl/ranks/r1[200:]
site1/sl/ranks/r1[-200:5]
site1/sl/ranks/r1[99]
site1/sl/ranks/r1[-100]
site1/sl/ranks/r2[3]
site1/sl/ranks/r2[..., 4]
site1/sl/ranks/r2[-3:, ::5]
site1/sl/ranks/r2[1:16:4, 2:21:6]
site1/sl/ranks/r2[0, 0]
site1/sl/ranks/r2[5:5, :]
site1/sl/ranks/r2[:, 22]
site1/sl/ranks/r2[-17, -23]
site1/sl/ranks/r2[::2]
site1/sl/ranks/r2[4:, ...]
site1/sl/ranks/r3[1:5, 2:9:3, ::4]
site1/sl/ranks/r3[..., 0]
site1/sl/ranks/r3[2, ..., 3:7]
site1/sl/ranks/r3[-1]
site1/sl/ranks/r3[:, -1, :]
site1/sl/ranks/r3[::5, ::3, ::11]
site1/sl/ranks/r3[0:6:2, 9, 11]
site1/sl/ranks/r3[3, 4, 5]
site1/sl/ranks/r3[1:3, 3:9]
site1/sl/ranks/r3g
site1/sl/ranks/r3g[..., 1:3, ::2]
site1/sl/ranks/r3g[5, :, -5:]
site1/sl/ranks/r4[1]
site1/sl/ranks/r4[..., 2]
site1/sl/ranks/r4[:, 1:3, ..., -2:]
site1/sl/ranks/r4[2, 3, 4, 5]
site1/sl/ranks/r4[::2, ::3, 1::2, ::4]
site1/sl/ranks/r4[1, :, 2]
site1/sl/ranks/r4[0:0]
site1/sl/ranks/r4[..., 0, 0, 0]
site1/sl/big/big
site1/sl/big/big[::7, 3::11]
site1/sl/big/big[600:, :550]
site1/sl/big/big[-1, :]
site1/sl/big/big[:, 1099]
site1/sl/big/big[100:1150:3, 1000:]
site1/sl/big/bigc
site1/sl/big/bigc[::3, 1::2]
site1/sl/big/bigc[999]
site1/sl/edge/scalar
site1/sl/edge/scalar[...]
site1/sl/edge/scalar_i
site1/sl/edge/be_i4[1:4, ::2]
site1/sl/edge/be_i4
site1/sl/edge/be_f8
site1/sl/edge/be_f8[2]
site1/sl/edge/empty
site1/sl/edge/empty[:, 1]
site1/sl/edge/one[0]
site1/sl/edge/one[...]
EOF
    cat <<'EOF'
site1/sl/ranks/r2	mean:4,5
site1/sl/ranks/r2	sum:3,3
site1/sl/ranks/r2	min:2,7
site1/sl/ranks/r2	max:5,5
site1/sl/ranks/r3[1:, ..., 2]	mean:2,3
site1/sl/ranks/r3[:, 0, :]	max:3,4
site1/sl/big/big[::3, ::5]	mean:16,16
site1/sl/big/big	sum:100,100
site1/sl/types/t_uint8	min:4,2
site1/sl/types/t_int64	max:5,3
site1/sl/types/t_int64	sum:13,7
site1/sl/ranks/r1	mean:7
site1/sl/ranks/r4[1]	sum:2,2,2
site1/sl/big/bigc[::2, :]	min:7,9
site1/sl/ranks/r3g[2]	mean:3,5
site1/sl/edge/be_i4	max:2,3
EOF
} >"$CASES"
NSLICE=$(grep -c $'\t-$' "$CASES")
NRED=$(grep -vc $'\t-$' "$CASES")
log "fetching $NSLICE slices and $NRED reductions with fedsched get"

i=0
: >"$D/rc.tsv"
while IFS=$'\t' read -r slice red; do
    i=$((i + 1))
    if [ "$red" = - ]; then
        # Twice: as a client on the site's host gets it (plain runs of the file
        # copied locally), and streamed (FEDSCHED_LOCAL_READS=0), as from elsewhere.
        fedsched get "$slice" --json -o "$D/out/$i.h5" >"$D/out/$i.json" 2>"$D/out/$i.err" &&
            FEDSCHED_LOCAL_READS=0 fedsched get "$slice" --json -o "$D/out/$i.s.h5" \
                >"$D/out/$i.s.json" 2>>"$D/out/$i.err"
    else
        fedsched get "$slice" --reduce "$red" -o "$D/out/$i.h5" >/dev/null 2>"$D/out/$i.err"
    fi
    printf '%s\t%s\n' "$i" "$?" >>"$D/rc.tsv"
done <"$CASES"

py - "$CASES" "$D/rc.tsv" "$D/out" "$R1" <<'PY' || fail "some slices differ from NumPy (listed above)"
import sys, numpy as np, h5py
cases_file, rc_file, outdir, root = sys.argv[1:5]
cases = [l.rstrip("\n").split("\t") for l in open(cases_file) if l.strip()]
rcs = dict(l.split() for l in open(rc_file))

def parse(text):
    """NAME[sel, ...] -> (name, index tuple or None)"""
    if "[" not in text:
        return text, None
    name, rest = text.split("[", 1)
    assert rest.endswith("]"), text
    idx = []
    for part in rest[:-1].split(","):
        part = part.strip()
        if part == "...":
            idx.append(Ellipsis)
        elif ":" in part:
            bits = [int(b) if b.strip() else None for b in part.split(":")]
            idx.append(slice(*bits))
        else:
            idx.append(int(part))
    return name, tuple(idx)

def source(name):
    site, _, f, path = name.split("/", 3)
    with h5py.File("%s/sl/%s.h5" % (root, f), "r") as h:
        return np.asarray(h[path][()])

def reduce(a, op, blocks):
    assert len(blocks) == a.ndim, "test bug: %d blocks for rank %d" % (len(blocks), a.ndim)
    a = a[tuple(slice(0, (n // b) * b) for n, b in zip(a.shape, blocks))]
    shp = []
    for n, b in zip(a.shape, blocks):
        shp += [n // b, b]
    r = a.reshape(shp)
    if op in ("mean", "sum"):
        r = r.astype(np.float64)
    return np.asarray(getattr(r, op)(axis=tuple(range(1, 2 * len(blocks), 2)))), int(np.prod(blocks))

bad = 0
local_cases = 0
for i, (text, red) in enumerate(cases, 1):
    what = "%s%s" % (text, "" if red == "-" else " --reduce " + red)
    rc = rcs.get(str(i))
    if rc != "0":
        err = open("%s/%d.err" % (outdir, i)).read().strip()
        print("MISMATCH %s: fedsched get exited %s: %s" % (what, rc, err[:300]))
        bad += 1
        continue
    name, idx = parse(text)
    src = source(name)
    want = src if idx is None else np.asarray(src[idx])
    last = name.rsplit("/", 1)[1]
    try:
        with h5py.File("%s/%d.h5" % (outdir, i), "r") as h:
            got = np.asarray(h[last][()])
        if red == "-":
            import json
            with h5py.File("%s/%d.s.h5" % (outdir, i), "r") as h:
                streamed = np.asarray(h[last][()])
            jl = json.load(open("%s/%d.json" % (outdir, i)))
            js = json.load(open("%s/%d.s.json" % (outdir, i)))
            if js["local_bytes"] != 0:
                print("MISMATCH %s: FEDSCHED_LOCAL_READS=0 still copied %d bytes locally" % (what, js["local_bytes"]))
                bad += 1
            local_cases += jl["local_bytes"] > 0
            if streamed.dtype != got.dtype or streamed.shape != got.shape or not np.array_equal(streamed, got):
                print("MISMATCH %s: streamed and locally copied results differ" % what)
                bad += 1
    except Exception as e:
        print("MISMATCH %s: cannot read /%s from the output: %s" % (what, last, e))
        bad += 1
        continue
    if red != "-":
        op, b = red.split(":")
        src_for_tol = want
        want, blk = reduce(want, op, [int(x) for x in b.split(",")])
    if got.shape != want.shape:
        print("MISMATCH %s: shape %s, NumPy %s" % (what, got.shape, want.shape)); bad += 1; continue
    if (got.dtype.kind, got.dtype.itemsize) != (want.dtype.kind, want.dtype.itemsize):
        print("MISMATCH %s: dtype %s, NumPy %s" % (what, got.dtype, want.dtype)); bad += 1; continue
    if red != "-" and red.split(":")[0] in ("mean", "sum"):
        scale = float(np.abs(src_for_tol.astype(np.float64)).max()) if src_for_tol.size else 0.0
        ok = np.allclose(got, want, rtol=1e-9, atol=1e-12 * scale * blk)
    else:
        ok = np.array_equal(got, want)
    if not ok:
        print("MISMATCH %s: values differ\n  got  %s\n  want %s" % (what, got.ravel()[:8], want.ravel()[:8]))
        bad += 1
print("compared %d cases (%d copied locally as well as streamed), %d mismatches" % (len(cases), local_cases, bad))
if local_cases < 10:
    print("MISMATCH: only %d slices were copied locally; expected the plain runs of contiguous sources" % local_cases)
    bad += 1
sys.exit(1 if bad else 0)
PY
if [ "$NSLICE" -lt 60 ] || [ "$NRED" -lt 10 ]; then fail "test bug: too few cases ($NSLICE slices, $NRED reductions)"; fi

log "--dataset /grp/x"
expect_code 0 fedsched get 'site1/sl/ranks/r2[1:3]' -o "$D/ds.h5" --dataset /grp/x
py - "$D/ds.h5" "$R1/sl/ranks.h5" <<'PY' || fail "--dataset /grp/x did not put the result at /grp/x"
import sys, numpy as np, h5py
got = h5py.File(sys.argv[1], "r")["/grp/x"][()]
want = h5py.File(sys.argv[2], "r")["r2"][()][1:3]
assert got.dtype == want.dtype and np.array_equal(got, want), (got, want)
PY
expect_code 0 fedsched get 'site1/sl/ranks/r1[::10]' -o "$D/ds2.h5" --dataset /a/b/c --reduce sum:2
py -c '
import sys, numpy as np, h5py
got = h5py.File(sys.argv[1], "r")["/a/b/c"][()]
want = h5py.File(sys.argv[2], "r")["r1"][()][::10].reshape(5, 2).sum(axis=1)
assert got.dtype == np.float64 and np.allclose(got, want), (got, want)' "$D/ds2.h5" "$R1/sl/ranks.h5" ||
    fail "--dataset /a/b/c with --reduce is wrong"
exit 0
