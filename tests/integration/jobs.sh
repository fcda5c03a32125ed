#!/usr/bin/env bash
# Jobs end to end on a real 3-site local federation with the demo data (SPEC sections
# 3-6, 8): every example job file in jobs/examples validates clean; the climate-chain
# example (8 tasks over three sites, MPI tasks with 2 ranks, dependencies through task
# outputs, a reduction at the source, a published output) completes, each task runs
# where its data is, and every output, fetched with `fedsched get`, is bit-identical
# to NumPy computing the same thing from the source files; a task whose only input is
# at site2 runs at site2; `links` shows a measured rate after a cross-site transfer
# of 2 MiB; a dataset published with --policy none at site3 draws its reader (and the
# reader's reader, through the inherited policy) to site3, and its outputs cannot be
# read from outside; `logs` shows a task's stdout; the scheduler killed and restarted
# keeps its jobs, and a job submitted after the restart completes.
# The failure paths are in jobs_fail.sh, bad job files in jobs_bad.sh.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"

jobs_env
fed_up 3 --data demo
D=$FED_DIR
EX=$REPO_ROOT/jobs/examples

# get_out ID TASK OUTPUT: fetch jobs/ID/TASK/OUTPUT into $D/got/ID-TASK-OUTPUT.h5 (/OUTPUT).
get_out() {
    mkdir -p "$D/got"
    expect_code 0 fedsched get "jobs/$1/$2/$3" -o "$D/got/$1-$2-$3.h5"
}

# The NumPy side: each model recomputed in the order the C code adds, so the
# comparison can be exact (np.array_equal, no tolerance).
cat >"$D/ref.py" <<'PY'
import numpy as np, h5py

def rd(path, dset):
    with h5py.File(path, "r") as h:
        d = h[dset]
        return d[...], d.dtype

def f64(path, dset):
    return rd(path, dset)[0].astype(np.float64)

def climatology(x, P):
    # per phase: 0 + x[p] + x[p+P] + ..., then / steps
    c = np.zeros((P,) + x.shape[1:])
    for p in range(P):
        for t in range(p, x.shape[0], P):
            c[p] = c[p] + x[t]
    for p in range(P):
        c[p] = c[p] / len(range(p, x.shape[0], P))
    return c

def anomaly(x, c):
    return x - (c if c.ndim == 2 else c[np.arange(x.shape[0]) % c.shape[0]])

def regrid(a, F):
    # block mean: the F*F values added row by row, then * (1 / F^2)
    oy, ox = a.shape[-2] // F, a.shape[-1] // F
    acc = np.zeros(a.shape[:-2] + (oy, ox))
    for ky in range(F):
        for kx in range(F):
            acc = acc + a[..., ky:oy * F:F, kx:ox * F:F]
    return acc * (1.0 / (F * F))

def ensemble(xs):
    # Welford: mean += (x - mean) / (k + 1)
    mean = np.zeros(xs[0].shape)
    for k, x in enumerate(xs):
        mean = mean + (x - mean) * (1.0 / (k + 1))
    return mean

def block_mean(a, B):
    # the data plane's reduction: sum of each block / its size
    oy, ox = a.shape[0] // B, a.shape[1] // B
    s = np.zeros((oy, ox))
    for ky in range(B):
        for kx in range(B):
            s = s + a[ky:oy * B:B, kx:ox * B:B]
    return s / (B * B)

def risk(h, e, T):
    d = np.maximum(0.0, h - T)
    return e * d / (1.0 + np.abs(h))

def same(what, got, want):
    """Exactly equal, with the shape and dtype (float64); a message otherwise."""
    if got.dtype != np.float64:
        return "%s: dtype %s, expected float64" % (what, got.dtype)
    if got.shape != want.shape:
        return "%s: shape %s, expected %s" % (what, got.shape, want.shape)
    if not np.array_equal(got, want):
        i = np.unravel_index(np.argmax(np.abs(got - want)), got.shape)
        n = int(np.sum(got != want))
        return "%s: %d of %d values differ, e.g. at %s: %r != %r (max |diff| %g)" % (
            what, n, got.size, i, got[i], want[i], np.max(np.abs(got - want)))
    return None
PY

# --- every example validates clean ------------------------------------------------------
log "every jobs/examples/*.yaml validates against the demo federation"
n=0
for f in "$EX"/*.yaml; do
    expect_code 0 fedsched validate "$f"
    case $OUT in *"valid"*) ;; *) fail "validate $f printed: $OUT" ;; esac
    n=$((n + 1))
done
[ "$n" -ge 3 ] || fail "expected at least 3 example job files in jobs/examples, found $n"

# --- the multi-site chain ------------------------------------------------------------------
log "climate-chain: 8 tasks over site1, site2 and site3"
job_submit "$EX/climate-chain.yaml"
CHAIN=$JOB
job_wait "$CHAIN" 0
job_status "$CHAIN"
py - "$STATUS" <<'PY' || fail "climate-chain: wrong states, sites or ranks in status $CHAIN --json (see above)"
import json, sys
j = json.loads(sys.argv[1])
t = {x["name"]: x for x in j["tasks"]}
assert j["state"] == "COMPLETED", "job state %s" % j["state"]
assert sorted(t) == sorted(["clim1", "anom1", "coarse1", "clim2", "anom2", "coarse2", "ens", "risk"]), sorted(t)
for n, x in t.items():
    assert x["state"] == "COMPLETED" and x["exit_code"] == 0, "%s: %s exit %s" % (n, x["state"], x["exit_code"])
    assert x["placement"] and x["placement"]["site"] == x["site"], "%s: placement %s, site %s" % (n, x["placement"], x["site"])
# Tasks run where their data is: site1's chain at site1, site2's at site2, nothing moved.
for n, s in (("clim1", "site1"), ("anom1", "site1"), ("coarse1", "site1"),
             ("clim2", "site2"), ("anom2", "site2"), ("coarse2", "site2")):
    assert t[n]["site"] == s, "task %s ran at %s; its data is at %s" % (n, t[n]["site"], s)
    assert t[n]["bytes_moved"] == 0, "task %s moved %s bytes (its data is local)" % (n, t[n]["bytes_moved"])
for n in ("clim1", "anom1", "clim2", "anom2"):
    assert t[n]["ranks"] == 2, "task %s: ranks %s, the job file says 2" % (n, t[n]["ranks"])
# ens reads one coarse field from the other site: 24 x 9 x 18 float64 = 31104 bytes moved.
assert t["ens"]["site"] in ("site1", "site2"), "ens ran at %s, where neither input is" % t["ens"]["site"]
assert t["ens"]["bytes_moved"] == 31104, "ens: bytes_moved %s, expected 31104" % t["ens"]["bytes_moved"]
assert t["ens"]["bytes_local"] == 31104, "ens: bytes_local %s, expected 31104" % t["ens"]["bytes_local"]
PY
expect_code 0 fedsched logs "$CHAIN" clim1
echo "$OUT" | grep -Eq '^climatology: wrote .* \(shape 12x45x90\) in [0-9.]+ s with 2 ranks$' ||
    fail "logs $CHAIN clim1: climatology did not run with 2 MPI ranks: $OUT"

log "climate-chain: every output, fetched with get, equals NumPy's exactly"
for to in clim1/clim anom1/anom coarse1/coarse clim2/clim anom2/anom coarse2/coarse ens/mean risk/risk; do
    get_out "$CHAIN" "${to%/*}" "${to#*/}"
done
expect_code 0 fedsched get results/demo/heat-risk -o "$D/got/heat-risk.h5" --dataset /risk
py - "$D" "$CHAIN" <<'PY' || fail "climate-chain: outputs differ from NumPy's (see above)"
import sys
sys.path.insert(0, sys.argv[1])
from ref import *
D, J = sys.argv[1], sys.argv[2]
S = lambda s: "%s/sites/%s/data/demo" % (D, s)
got = lambda task, out: rd("%s/got/%s-%s-%s.h5" % (D, J, task, out), "/" + out)[0]
bad = []
def check(what, g, w):
    m = same(what, g, w)
    if m:
        bad.append(m)
land = block_mean(f64(S("site3") + "/mask.h5", "land"), 5)
# step by step, each from the previous step's actual output...
for i in ("1", "2"):
    temp = f64(S("site" + i) + "/climate.h5", "temp")
    check("clim" + i, got("clim" + i, "clim"), climatology(temp, 12))
    check("anom" + i, got("anom" + i, "anom"), anomaly(temp, got("clim" + i, "clim")))
    check("coarse" + i, got("coarse" + i, "coarse"), regrid(got("anom" + i, "anom"), 5))
check("ens", got("ens", "mean"), ensemble([got("coarse1", "coarse"), got("coarse2", "coarse")]))
check("risk", got("risk", "risk"), risk(got("ens", "mean"), land, 0.5))
# ...and end to end from the source files alone.
members = []
for i in ("1", "2"):
    temp = f64(S("site" + i) + "/climate.h5", "temp")
    members.append(regrid(anomaly(temp, climatology(temp, 12)), 5))
want = risk(ensemble(members), land, 0.5)
check("risk from the source files", got("risk", "risk"), want)
check("published results/demo/heat-risk", rd(D + "/got/heat-risk.h5", "/risk")[0], want)
assert want.shape == (24, 9, 18) and (want > 0).any() and (want == 0).any(), "degenerate test data"
for m in bad:
    print(m)
sys.exit(1 if bad else 0)
PY

expect_code 0 fedsched catalog "jobs/$CHAIN/*" --json
py - "$OUT" "$CHAIN" <<'PY' || fail "catalog: the outputs of job $CHAIN are not jobs/<id>/<task>/<output> at the sites that made them"
import json, sys
c = {x["name"]: x for x in json.loads(sys.argv[1])}
j = sys.argv[2]
for n, s in (("clim1/clim", "site1"), ("coarse2/coarse", "site2")):
    x = c["jobs/%s/%s" % (j, n)]
    assert [r["site"] for r in x["replicas"]] == [s] and x["policy"] == "raw", x
assert len(c) == 8, sorted(c)
PY

# --- a task whose only input is at site2 runs at site2 -------------------------------------
log "risk example: the task reading only site2's data runs at site2; results exact"
job_submit "$EX/risk.yaml"
RISK=$JOB
job_wait "$RISK" 0
job_status "$RISK"
py - "$STATUS" <<'PY' || fail "risk: task hazard (only input at site2) did not run at site2 (see above)"
import json, sys
t = {x["name"]: x for x in json.loads(sys.argv[1])["tasks"]}
h = t["hazard"]
assert h["site"] == "site2", "hazard ran at %s; its only input is at site2 (placement: %s)" % (h["site"], h["placement"])
assert h["bytes_moved"] == 0 and h["ranks"] == 2, h
PY
get_out "$RISK" risk risk
py - "$D" "$RISK" <<'PY' || fail "risk: output differs from NumPy's (see above)"
import sys
sys.path.insert(0, sys.argv[1])
from ref import *
D, J = sys.argv[1], sys.argv[2]
precip = f64(D + "/sites/site2/data/demo/climate.h5", "precip")[0:6]
land = block_mean(f64(D + "/sites/site3/data/demo/mask.h5", "land"), 5)
m = same("risk", rd("%s/got/%s-risk-risk.h5" % (D, J), "/risk")[0], risk(regrid(precip, 5), land, 0.2))
if m:
    print(m)
sys.exit(1 if m else 0)
PY

# --- links: measured rates after the transfers ----------------------------------------------
# Only transfers of 1 MiB and more refine the link matrix (smaller ones measure latency,
# not bandwidth): a task pinned to site1 reads a 2 MiB dataset held at site2.
log "links: a measured rate for a pair that carried a task's input (>= 1 MiB)"
mkdir -p "$(data_root site2)/big"
py - "$(data_root site2)/big/wide.h5" <<'PY'
import sys, numpy as np, h5py
with h5py.File(sys.argv[1], "w") as h:
    h.create_dataset("x", data=np.arange(256 * 1024, dtype="float64").reshape(256, 1024))
PY
expect_code 0 fedsched publish site2 big/wide.h5
cat >"$D/move.yaml" <<'Y'
version: 1
name: move
tasks:
  - name: pull
    command: [sh, -c, "test -s {in.x.file}"]
    site: site1
    inputs:
      x: site2/big/wide/x
Y
MOVE=$(fedsched submit "$D/move.yaml") || fail "submit move.yaml failed"
expect_code 0 fedsched wait "$MOVE" --timeout 60
expect_code 0 fedsched links --json
LINKS=$OUT
py - "$LINKS" <<'PY' || fail "links --json shows no measured rate for site2 -> site1 after a 2 MiB transfer (see above)"
import json, sys
links = json.loads(sys.argv[1])
l = [x for x in links["links"] if x["from"] == "site2" and x["to"] == "site1"]
assert l, "no link site2 -> site1 in %s" % links
l = l[0]
assert l["samples"] >= 1 and isinstance(l["measured_bandwidth"], (int, float)) and l["measured_bandwidth"] > 0, \
    "link site2 -> site1 after a 2 MiB transfer: %s" % l
PY
expect_code 0 fedsched links
echo "$OUT" | grep -Eq '^site[0-9] +site[0-9] +.* [0-9.]+ [kMG]?B/s +[1-9][0-9]*$' ||
    fail "links table shows no measured rate with samples: $OUT"

# --- policy none: the reader goes to the data --------------------------------------------------
log "policy none at site3: its readers run at site3, pinned elsewhere is refused"
R3=$(data_root site3)
mkdir -p "$R3/private"
py - "$R3/private/obs.h5" <<'PY'
import sys, numpy as np, h5py
r = np.random.default_rng(7)
with h5py.File(sys.argv[1], "w") as h:
    h.create_dataset("v", data=r.normal(280.0, 5.0, (6, 45, 90)))
PY
expect_code 0 fedsched publish site3 private/obs.h5 --policy none
expect_code 0 fedsched catalog site3/private/obs/v --json
py -c 'import json,sys; c=json.loads(sys.argv[1]); assert len(c)==1 and c[0]["policy"]=="none", c' "$OUT" ||
    fail "site3/private/obs/v is not published with policy none: $OUT"
cat >"$D/none.yaml" <<'EOF'
version: 1
name: private-anomaly
tasks:
  # obs (none, at site3) minus site1's first temperature field (raw, 16 KiB): the raw
  # field must come to site3, never the reverse.
  - name: priv
    command: [anomaly, "{in.obs}", "{in.base}", "{out.anom}"]
    walltime: 1m
    inputs:
      obs: site3/private/obs/v
      base: site1/demo/climate/temp[0]
    outputs:
      anom: {}
  # reads priv's output, which inherits policy none: site3 again
  - name: coarse
    command: [regrid, --factor, "5", "{in.anom}", "{out.coarse}"]
    walltime: 1m
    inputs:
      anom: priv.anom
    outputs:
      coarse: {}
EOF
sed 's/^    walltime: 1m$/    walltime: 1m\n    site: site1/' "$D/none.yaml" >"$D/none-pinned.yaml"
grep -q 'site: site1' "$D/none-pinned.yaml" || fail "test bug: could not write none-pinned.yaml"
expect_error 2 fedsched validate "$D/none-pinned.yaml"
echo "$ERR" | grep -Eq "^fedsched: error: $D/none-pinned.yaml:[0-9]+:[0-9]+: " ||
    fail "a none input pinned to site1: no FILE:LINE:COL message: $ERR"
expect_code 0 fedsched validate "$D/none.yaml"
job_submit "$D/none.yaml"
NONE=$JOB
job_wait "$NONE" 0
job_status "$NONE"
py - "$STATUS" <<'PY' || fail "policy none: the readers did not run at site3 (see above)"
import json, sys
t = {x["name"]: x for x in json.loads(sys.argv[1])["tasks"]}
for n in ("priv", "coarse"):
    x = t[n]
    assert x["state"] == "COMPLETED", "%s: %s" % (n, x["state"])
    assert x["site"] == "site3", "%s ran at %s; its input (policy none) is at site3" % (n, x["site"])
    ex = {c["site"]: c["excluded"] for c in x["placement"]["candidates"]}
    for s in ("site1", "site2"):
        assert ex.get(s), "%s: candidate %s is not excluded: %s" % (n, s, x["placement"])
assert t["priv"]["bytes_moved"] == 45 * 90 * 4, "priv moved %s bytes, expected site1's temp[0] (16200)" % t["priv"]["bytes_moved"]
PY
expect_code 0 fedsched catalog "jobs/$NONE/*" --json
py -c 'import json,sys; c=json.loads(sys.argv[1]); assert len(c)==2 and all(x["policy"]=="none" for x in c), c' "$OUT" ||
    fail "outputs of readers of policy-none data must inherit policy none: $OUT"
expect_error 1 fedsched get "jobs/$NONE/coarse/coarse" -o "$D/nope.h5"
[ -e "$D/nope.h5" ] && fail "get of a policy-none output was refused but wrote $D/nope.h5"
# Its outputs are read where they are, in the task's working directory at site3.
py - "$D" "$(task_dir site3 "$NONE" priv)/anom.h5" "$(task_dir site3 "$NONE" coarse)/coarse.h5" <<'PY' ||
import sys
sys.path.insert(0, sys.argv[1])
from ref import *
D = sys.argv[1]
obs = f64(D + "/sites/site3/data/private/obs.h5", "v")
base = f64(D + "/sites/site1/data/demo/climate.h5", "temp")[0]
bad = [m for m in (same("priv", rd(sys.argv[2], "/anom")[0], anomaly(obs, base)),
                   same("coarse", rd(sys.argv[3], "/coarse")[0], regrid(anomaly(obs, base), 5))) if m]
for m in bad:
    print(m)
sys.exit(1 if bad else 0)
PY
    fail "policy none: outputs at site3 differ from NumPy's (see above)"

# --- logs ------------------------------------------------------------------------------------------
log "logs: a task's stdout and stderr"
cat >"$D/hello.yaml" <<'EOF'
version: 1
tasks:
  - name: hello
    command: [sh, -c, "echo hello-from-task; echo job=$FEDSCHED_JOB task=$FEDSCHED_TASK site=$FEDSCHED_SITE; echo to-stderr >&2"]
    walltime: 30s
EOF
job_submit "$D/hello.yaml"
HELLO=$JOB
job_wait "$HELLO" 0
expect_code 0 fedsched logs "$HELLO" hello
case $OUT in *hello-from-task*) ;; *) fail "logs $HELLO hello does not show the task's stdout: '$OUT'" ;; esac
case $OUT in *"job=$HELLO task=hello site=site"[123]*) ;; *) fail "the task's environment lacks FEDSCHED_JOB/TASK/SITE: '$OUT'" ;; esac
expect_code 0 fedsched logs "$HELLO" hello --stderr
case $OUT in *to-stderr*) ;; *) fail "logs $HELLO hello --stderr does not show the task's stderr: '$OUT'" ;; esac

# --- the scheduler restarted ---------------------------------------------------------------------
log "scheduler killed and restarted: the jobs survive, a new job completes"
expect_code 0 fedsched jobs --all --json
BEFORE=$OUT
expect_code 0 fedsched links --json
LINKS_BEFORE=$OUT
scheduler_crash_restart
wait_all_up 20 site1 site2 site3
expect_code 0 fedsched jobs --all --json
py - "$BEFORE" "$OUT" <<'PY' || fail "jobs --all after the restart differs from before (see above)"
import json, sys
b, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
key = lambda j: j["id"]
assert sorted(b, key=key) == sorted(a, key=key), "before: %s\nafter: %s" % (b, a)
assert len(a) == 5 and all(j["state"] == "COMPLETED" for j in a), a
PY
expect_code 0 fedsched links --json
py - "$LINKS_BEFORE" "$OUT" <<'PY' || fail "the measured link rates did not survive the scheduler's restart (see above)"
import json, sys
b, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
key = lambda l: (l["from"], l["to"])
mb = {key(l): l for l in b["links"] if l["samples"]}
ma = {key(l): l for l in a["links"] if l["samples"]}
assert ("site2", "site1") in mb, b
assert set(mb) == set(ma), "measured before: %s\nafter: %s" % (sorted(mb), sorted(ma))
for k in mb:
    x, y = mb[k], ma[k]
    assert x["samples"] == y["samples"] and abs(x["measured_bandwidth"] - y["measured_bandwidth"]) <= 1e-6 * x["measured_bandwidth"], (x, y)
PY
job_status "$CHAIN"
py - "$STATUS" <<'PY' || fail "status $CHAIN after the restart (see above)"
import json, sys
j = json.loads(sys.argv[1])
assert j["state"] == "COMPLETED", j["state"]
assert len(j["tasks"]) == 8 and all(t["state"] == "COMPLETED" for t in j["tasks"]), j["tasks"]
assert [t["site"] for t in j["tasks"] if t["name"] == "clim2"] == ["site2"], j["tasks"]
PY
log "ensemble example submitted after the restart"
job_submit "$EX/ensemble.yaml"
ENS=$JOB
case $'\n'"$(job_ids)"$'\n' in *$'\n'"$CHAIN"$'\n'*) ;; *) fail "job $CHAIN missing from jobs --all" ;; esac
[ "$ENS" -gt "$HELLO" ] || fail "the job submitted after the restart got id $ENS, not above $HELLO (ids reused?)"
job_wait "$ENS" 0
job_status "$ENS"
py - "$STATUS" <<'PY' || fail "ensemble: the coarsening tasks did not run at their sites (see above)"
import json, sys
t = {x["name"]: x for x in json.loads(sys.argv[1])["tasks"]}
for i in "123":
    assert t["coarse" + i]["site"] == "site" + i, "coarse%s ran at %s" % (i, t["coarse" + i]["site"])
PY
get_out "$ENS" mean mean
py - "$D" "$ENS" <<'PY' || fail "ensemble: output differs from NumPy's (see above)"
import sys
sys.path.insert(0, sys.argv[1])
from ref import *
D, J = sys.argv[1], sys.argv[2]
xs = [regrid(f64(D + "/sites/site%d/data/demo/climate.h5" % i, "precip"), 5) for i in (1, 2, 3)]
m = same("ensemble mean", rd("%s/got/%s-mean-mean.h5" % (D, J), "/mean")[0], ensemble(xs))
if m:
    print(m)
sys.exit(1 if m else 0)
PY

log "jobs end to end: all checks passed"
