#!/usr/bin/env bash
# The example MPI models in jobs/models/ (regrid, anomaly, ensemble_mean, risk_index,
# climatology) on parallel HDF5: h5py writes small inputs of every supported type,
# each model runs under `mpirun -np 1`, `-np 3` and `-np 5` (some cases with more
# ranks than rows), and NumPy checks shape, dtype and values of every output.  Then
# the error contract: a missing file or dataset, a bad shape, an existing dataset
# exit 1 with "MODEL: error: ..." on stderr; a malformed command line exits 2.
#
# Binaries: $FEDSCHED_MODELS, else the models/ beside the ctest build's tests/, else
# build/models/; if none has them, they are built from jobs/models into the temp dir.
# Runs from the repository root; needs mpirun, /usr/bin/python3 with h5py and NumPy.
set -euo pipefail

NAME=models
log() { echo "[$NAME] $*"; }
fail() {
    echo "[$NAME] FAIL: $*" >&2
    exit 1
}
PY=/usr/bin/python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

command -v mpirun >/dev/null 2>&1 || fail "mpirun is not installed (openmpi-bin)"
"$PY" -c 'import h5py, numpy' 2>/dev/null || fail "python3-h5py is not installed"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/fedsched-models.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

MODELS_LIST="regrid anomaly ensemble_mean risk_index climatology"
have_models() {
    local m
    for m in $MODELS_LIST; do [ -x "$1/$m" ] || return 1; done
}
BIN=""
for cand in "${FEDSCHED_MODELS:-}" "${FEDSCHED_TOOLS:+$FEDSCHED_TOOLS/../models}" build/models; do
    if [ -n "$cand" ] && have_models "$cand"; then
        BIN=$(cd "$cand" && pwd)
        break
    fi
done
if [ -z "$BIN" ]; then
    log "no built models found; building jobs/models into $TMP/build"
    if ! { cmake -S jobs/models -B "$TMP/build" && cmake --build "$TMP/build" -j"$(nproc)"; } \
        >"$TMP/build.log" 2>&1; then
        cat "$TMP/build.log" >&2
        fail "could not build jobs/models"
    fi
    BIN=$TMP/build/models
fi
log "models from $BIN"

# ---- inputs and the table of cases --------------------------------------------------
# cases.py gen DIR  writes the inputs and prints one case a line: ID NP PROGRAM ARGS...
# cases.py check DIR  recomputes every case with NumPy and compares with the outputs.
cat >"$TMP/cases.py" <<'PY'
import sys, os
import numpy as np, h5py

mode, D = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(20240612)
TYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
         "float32", "float64"]

def rand(shape, t):
    dt = np.dtype(t)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        a = rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)
        a.flat[0], a.flat[-1] = info.min, info.max
    else:
        a = rng.normal(0, 100, shape).astype(dt)
    return a

def inputs():
    with h5py.File(f"{D}/in.h5", "w") as h:
        h["r3"] = rand((7, 10, 13), "float64")
        h["g/r2"] = rand((11, 14), "float64")
        for i, t in enumerate(TYPES):
            h["types/" + t] = rand((2, 9, 8) if t == "int8" else (4, 9, 8), t)
        h["x"] = rand((12, 6, 8), "int32")
        h["xs"] = rand((3, 6, 8), "float32")
        h["clim2"] = rand((6, 8), "float32")
        h["clim3"] = rand((4, 6, 8), "float64")
        h["clim3s"] = rand((3, 6, 8), "int16")
        for k, t in enumerate(["float64", "int16", "float32"]):
            h[f"ens/m{k}"] = rand((5, 4, 6), t)
        h["ens1d/a"] = rand((3,), "float64")
        h["ens1d/b"] = rand((3,), "uint8")
        h["haz"] = rand((6, 5, 7), "float32")
        h["haz"][0, 0, :3] = [0.5, -3.0, 0.25]   # at, below and under the threshold
        h["hazs"] = rand((2, 5, 7), "float64")
        h["expo"] = np.abs(rand((5, 7), "float64"))
        h["expo3"] = rand((6, 5, 7), "uint16")
        h["series"] = rand((10, 4, 5), "int64")
        h["text"] = np.array([b"a", b"b"], dtype="S1")
    with h5py.File(f"{D}/keep.h5", "w") as h:   # an existing output file
        h["keep"] = np.arange(3.0)

def f64(path):
    f, d = path.split(":", 1)
    with h5py.File(f, "r") as h:
        return h[d][...].astype(np.float64)

def coarsen(a, F):
    ny, nx = a.shape[-2] // F, a.shape[-1] // F
    a = a[..., :ny * F, :nx * F]
    return a.reshape(a.shape[:-2] + (ny, F, nx, F)).mean(axis=(-3, -1))

def anomaly(x, c):
    return x - (c if c.ndim == 2 else c[np.arange(x.shape[0]) % c.shape[0]])

def risk(h, e, T=0.0):
    return e * np.maximum(0, h - T) / (1 + np.abs(h))

def clim(x, P):
    c = np.stack([x[p::P].mean(axis=0) for p in range(P)])
    return c[0] if P == 1 else c

I = f"{D}/in.h5"
cases = []   # (id, np, program, args, {output: expected})
def case(cid, n, prog, args, expect):
    cases.append((cid, n, prog, args, expect))

for n in (1, 3, 5):
    case(f"regrid_r3_np{n}", n, "regrid", ["--factor", "3", f"{I}:/r3", f"{D}/regrid_r3_np{n}.h5:/out/r3"],
         {f"{D}/regrid_r3_np{n}.h5:/out/r3": lambda: coarsen(f64(f"{I}:/r3"), 3)})
for n in (1, 5):   # 2-D: 3 output rows, so -np 5 leaves two ranks without rows
    case(f"regrid_r2_np{n}", n, "regrid", [f"{I}:/g/r2", f"{D}/regrid_r2_np{n}.h5:/r2", "--factor=3"],
         {f"{D}/regrid_r2_np{n}.h5:/r2": lambda: coarsen(f64(f"{I}:/g/r2"), 3)})
o = f"{D}/regrid_empty.h5:/e"   # F larger than the field: an empty (7, 0, 0) result
case("regrid_empty_np3", 3, "regrid", ["--factor", "20", f"{I}:/r3", o],
     {o: lambda: coarsen(f64(f"{I}:/r3"), 20)})
for i, t in enumerate(TYPES):
    n = (1, 3, 5)[i % 3]
    o = f"{D}/regrid_{t}.h5:/{t}"
    case(f"regrid_{t}_np{n}", n, "regrid", ["--factor", "2", f"{I}:/types/{t}", o],
         {o: (lambda t=t: coarsen(f64(f"{I}:/types/{t}"), 2))})

for n in (1, 3, 5):
    o = f"{D}/anom2_np{n}.h5:/a"
    case(f"anomaly_clim2_np{n}", n, "anomaly", [f"{I}:/x", f"{I}:/clim2", o],
         {o: lambda: anomaly(f64(f"{I}:/x"), f64(f"{I}:/clim2"))})
    o = f"{D}/anom3_np{n}.h5:/a"
    case(f"anomaly_clim3_np{n}", n, "anomaly", [f"{I}:/x", f"{I}:/clim3", o],
         {o: lambda: anomaly(f64(f"{I}:/x"), f64(f"{I}:/clim3"))})
o = f"{D}/anom_small.h5:/a"
case("anomaly_small_np5", 5, "anomaly", [f"{I}:/xs", f"{I}:/clim3s", o],
     {o: lambda: anomaly(f64(f"{I}:/xs"), f64(f"{I}:/clim3s"))})

members = [f"{I}:/ens/m{k}" for k in range(3)]
for n in (1, 3, 5):
    o = f"{D}/ens_np{n}.h5:/ens/mean"
    case(f"ensemble_np{n}", n, "ensemble_mean", [o] + members,
         {o: lambda: np.mean([f64(m) for m in members], axis=0),
          o + "_std": lambda: np.std([f64(m) for m in members], axis=0)})
o = f"{D}/keep.h5:/grp/m"   # into an existing file, whose /keep stays
m1 = [f"{I}:/ens1d/a", f"{I}:/ens1d/b"]
case("ensemble_1d_existing_np5", 5, "ensemble_mean", [o] + m1,
     {o: lambda: np.mean([f64(m) for m in m1], axis=0),
      o + "_std": lambda: np.std([f64(m) for m in m1], axis=0),
      f"{D}/keep.h5:/keep": lambda: np.arange(3.0)})

for n in (1, 3, 5):
    o = f"{D}/risk_np{n}.h5:/r"
    case(f"risk_bcast_np{n}", n, "risk_index", [f"{I}:/haz", f"{I}:/expo", o, "--threshold", "0.5"],
         {o: lambda: risk(f64(f"{I}:/haz"), f64(f"{I}:/expo"), 0.5)})
o = f"{D}/risk_same.h5:/r"
case("risk_same_np3", 3, "risk_index", ["--threshold", "-0.25", f"{I}:/haz", f"{I}:/expo3", o],
     {o: lambda: risk(f64(f"{I}:/haz"), f64(f"{I}:/expo3"), -0.25)})
o = f"{D}/risk_small.h5:/r"
case("risk_small_np5", 5, "risk_index", [f"{I}:/hazs", f"{I}:/expo", o],
     {o: lambda: risk(f64(f"{I}:/hazs"), f64(f"{I}:/expo"))})

for n in (1, 3, 5):
    o = f"{D}/clim3_np{n}.h5:/c"
    case(f"climatology_p3_np{n}", n, "climatology", ["--period", "3", f"{I}:/series", o],
         {o: lambda: clim(f64(f"{I}:/series"), 3)})
o = f"{D}/clim1.h5:/c"
case("climatology_p1_np3", 3, "climatology", ["--period=1", f"{I}:/series", o],
     {o: lambda: clim(f64(f"{I}:/series"), 1)})
o = f"{D}/clim4.h5:/c"
case("climatology_p4_np5", 5, "climatology", ["--period", "4", f"{I}:/series", o],
     {o: lambda: clim(f64(f"{I}:/series"), 4)})

if mode == "gen":
    inputs()
    for cid, n, prog, args, _ in cases:
        print(cid, n, prog, *args)
else:
    bad = 0
    for cid, n, prog, args, expect in cases:
        for out, fn in expect.items():
            f, d = out.split(":", 1)
            want = fn()
            try:
                with h5py.File(f, "r") as h:
                    got = h[d][...]
                    dt = h[d].dtype
            except (OSError, KeyError) as e:
                print(f"{cid}: {out}: cannot read: {e}"); bad += 1; continue
            if dt != np.float64:
                print(f"{cid}: {out}: dtype {dt}, expected float64"); bad += 1
            elif got.shape != want.shape:
                print(f"{cid}: {out}: shape {got.shape}, expected {want.shape}"); bad += 1
            elif not np.allclose(got, want, rtol=1e-12, atol=1e-12):
                i = np.unravel_index(np.argmax(np.abs(got - want)), got.shape)
                print(f"{cid}: {out}: values differ, e.g. at {i}: {got[i]!r} != {want[i]!r}"); bad += 1
    print(f"checked {sum(len(c[4]) for c in cases)} outputs of {len(cases)} runs, {bad} bad")
    sys.exit(1 if bad else 0)
PY

SECONDS=0
"$PY" "$TMP/cases.py" gen "$TMP" >"$TMP/cases.txt" || fail "could not write the inputs"

# run_mpi NP PROGRAM ARGS...: run under mpirun (NP 0: run directly, as an MPI
# singleton); stdout in $TMP/out, stderr in $TMP/err.
run_mpi() {
    local n=$1 prog=$2
    shift 2
    if [ "$n" = 0 ]; then
        timeout 60 "$BIN/$prog" "$@" </dev/null >"$TMP/out" 2>"$TMP/err"
    else
        timeout 60 mpirun --oversubscribe -np "$n" "$BIN/$prog" "$@" </dev/null >"$TMP/out" 2>"$TMP/err"
    fi
}

nrun=0
while read -r cid n prog args; do
    # shellcheck disable=SC2086  # the arguments are paths without spaces, split on purpose
    run_mpi "$n" "$prog" $args || { cat "$TMP/err" >&2; fail "$cid: $prog exited $?"; }
    out=$(cat "$TMP/out")
    [ "$(grep -c "^$prog: wrote .* in [0-9.]* s with $n rank" "$TMP/out")" = 1 ] ||
        fail "$cid: expected one success line from rank 0, got: $out"
    nrun=$((nrun + 1))
done <"$TMP/cases.txt"
log "$nrun model runs exited 0 ($SECONDS s); checking the outputs with NumPy"
"$PY" "$TMP/cases.py" check "$TMP" || fail "outputs differ from NumPy's"
run_mpi 3 regrid --factor 3 "$TMP/in.h5:/r3" "$TMP/again.h5:/x/r3" || fail "regrid failed"
grep -qx "regrid: wrote $TMP/again.h5:/x/r3 (shape 7x3x4) in [0-9.]* s with 3 ranks" "$TMP/out" ||
    fail "unexpected success line: $(cat "$TMP/out")"

# ---- errors -----------------------------------------------------------------------------
# expect CODE MESSAGE NP PROGRAM ARGS...: exit CODE and MESSAGE (fixed string) on stderr.
# Failures found alike on every rank are checked under mpirun -np 3 (all ranks must
# leave, none may hang); the rest as singletons, since mpirun takes 1-2 s to report
# a non-zero exit.
nerr=0
expect() {
    local want=$1 msg=$2 got=0
    shift 2
    run_mpi "$@" || got=$?
    [ "$got" = 124 ] && fail "$2 $*: hung (killed after 60 s)"
    [ "$got" = "$want" ] || { cat "$TMP/err" >&2; fail "$2 ${*:3}: exit $got, expected $want"; }
    grep -qF -- "$msg" "$TMP/err" || { cat "$TMP/err" >&2; fail "$2: no '$msg' on stderr"; }
    nerr=$((nerr + 1))
}
I=$TMP/in.h5
expect 1 "regrid: error: $I:/nope: dataset not found" 3 regrid --factor 2 "$I:/nope" "$TMP/e1.h5:/d"
expect 1 "anomaly: error: $I:/g/nope: dataset not found" 0 anomaly "$I:/x" "$I:/g/nope" "$TMP/e1.h5:/d"
expect 1 "risk_index: error: $TMP/missing.h5: No such file or directory" 3 \
    risk_index "$TMP/missing.h5:/h" "$I:/expo" "$TMP/e1.h5:/d"
expect 1 "ensemble_mean: error: $I:/ens1d/a: shape 3 differs from $I:/ens/m0's 5x4x6" 3 \
    ensemble_mean "$TMP/e1.h5:/m" "$I:/ens/m0" "$I:/ens1d/a"
expect 1 "regrid: error: $I:/text: unsupported element type string" 0 regrid --factor 2 "$I:/text" "$TMP/e1.h5:/d"
expect 1 "regrid: error: $I:/g: is not a dataset" 0 regrid --factor 2 "$I:/g" "$TMP/e1.h5:/d"
expect 1 "climatology: error: $TMP/keep.h5:/keep: already exists" 3 \
    climatology --period 2 "$I:/series" "$TMP/keep.h5:/keep"
expect 1 "climatology: error: $I:/series: --period 11 is longer than the 10 time steps" 0 \
    climatology --period 11 "$I:/series" "$TMP/e2.h5:/c"
expect 1 "regrid: error: $TMP/nodir/o.h5: cannot create" 3 regrid --factor 2 "$I:/r3" "$TMP/nodir/o.h5:/d"
[ ! -e "$TMP/e1.h5" ] || fail "a failed run left its output file behind"
expect 2 "regrid: error: --factor F is required" 3 regrid "$I:/r3" "$TMP/e3.h5:/d"
expect 2 "usage: anomaly IN.h5:/DSET CLIM.h5:/DSET OUT.h5:/DSET" 0 anomaly "$I:/x" "$TMP/e3.h5:/d"
expect 2 "risk_index: error: --threshold needs a number, got 'high'" 0 \
    risk_index "$I:/haz" "$I:/expo" "$TMP/e3.h5:/r" --threshold high
expect 2 "ensemble_mean: error: IN: '$I' is not FILE.h5:/DATASET" 0 ensemble_mean "$TMP/e3.h5:/m" "$I"
expect 2 "climatology: error: unknown option '--periods'" 0 climatology --periods 2 "$I:/series" "$TMP/e3.h5:/c"
log "$nerr error cases gave the expected exit code and message"
log "$((nrun + 1 + nerr)) passed, 0 failed ($SECONDS s)"
