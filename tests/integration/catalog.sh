#!/usr/bin/env bash
# Catalog and site registry on a real 3-site local federation (SPEC sections 2, 3, 9):
# publish once at one site -> visible in `catalog` (table and --json) with its one
# replica, shape, dtype, chunks, bytes, policy; the workers' start-up scan; publish
# --name / --policy; catalog GLOB; `sites` table and JSON; a killed worker goes down
# within the heartbeat timeout and comes back up when restarted; the catalog survives
# a scheduler restart (SQLite).
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
need h5py
need yaml

# --- files present before start-up: --data demo fills every data root ----------------
fed_up 3 --data demo
D=$FED_DIR

log "start-up scan published the demo data of every site"
expect_code 0 fedsched catalog --json
py - "$OUT" <<'PY' || fail "the start-up scan did not publish the files present at start (see above)"
import json, sys
cat = {c["name"]: c for c in json.loads(sys.argv[1])}
for site in ("site1", "site2", "site3"):
    for ds, shape, dtype in (("demo/climate/temp", [24, 45, 90], "float32"),
                             ("demo/climate/precip", [24, 45, 90], "float32"),
                             ("demo/stations/series", [16, 365], "int32"),
                             ("demo/mask/land", [45, 90], "uint8")):
        n = site + "/" + ds
        assert n in cat, "missing %s; catalog has %s" % (n, sorted(cat))
        c = cat[n]
        assert c["shape"] == shape and c["dtype"] == dtype, c
        assert [r["site"] for r in c["replicas"]] == [site], c
p = cat["site1/demo/climate/precip"]
assert p["chunks"] == [6, 45, 90], p
assert cat["site1/demo/climate/temp"]["chunks"] is None, cat["site1/demo/climate/temp"]
PY

# --- publish once at one site ----------------------------------------------------------
R2=$(data_root site2)
mkdir -p "$R2/some" "$R2/more"
py - "$R2" <<'PY'
import sys, numpy as np, h5py
r = sys.argv[1]
with h5py.File(r + "/some/file.h5", "w") as h:
    h.create_dataset("a", data=np.arange(200, dtype="float32").reshape(10, 20), chunks=(5, 10))
    h.create_dataset("g/b", data=np.arange(7, dtype="int16"))
    h.create_dataset("g/h/c", data=np.ones((2, 3, 4), dtype="uint64"), chunks=(1, 3, 4),
                     compression="gzip")
with h5py.File(r + "/more/one.h5", "w") as h:
    h.create_dataset("x", data=np.zeros((4, 4), dtype="float64"))
for p in ("none", "regions", "agg"):
    with h5py.File(r + "/more/pol_%s.h5" % p, "w") as h:
        h.create_dataset("v", data=np.zeros((8, 6), dtype="int32"))
PY

log "publish site2 some/file.h5"
expect_code 0 fedsched publish site2 some/file.h5
for n in site2/some/file/a site2/some/file/g/b site2/some/file/g/h/c; do
    case $OUT in *"$n"*) ;; *) fail "publish did not print the published name $n: $OUT" ;; esac
done

expect_code 0 fedsched catalog --json
py - "$OUT" <<'PY' || fail "catalog --json is wrong for site2/some/file (see above)"
import json, sys
cat = json.loads(sys.argv[1])
assert isinstance(cat, list), "catalog --json must be an array"
by = {c["name"]: c for c in cat}
keys = {"name", "shape", "dtype", "chunks", "bytes", "replicas", "policy"}
for c in cat:
    assert keys <= set(c), "missing keys %s in %s" % (keys - set(c), c)
a = by["site2/some/file/a"]
assert a["shape"] == [10, 20] and a["dtype"] == "float32" and a["chunks"] == [5, 10], a
assert a["bytes"] == 800 and a["policy"] == "raw", a
assert a["replicas"] == [{"site": "site2"}] or [r["site"] for r in a["replicas"]] == ["site2"], a
b = by["site2/some/file/g/b"]
assert b["shape"] == [7] and b["dtype"] == "int16" and b["chunks"] is None and b["bytes"] == 14, b
c = by["site2/some/file/g/h/c"]
assert c["shape"] == [2, 3, 4] and c["dtype"] == "uint64" and c["chunks"] == [1, 3, 4], c
assert c["bytes"] == 2 * 3 * 4 * 8, c
assert [r["site"] for r in c["replicas"]] == ["site2"], c
PY

log "catalog table"
expect_code 0 fedsched catalog
TABLE=$OUT
py - "$TABLE" <<'PY' || fail "catalog table is wrong (see above)"
import sys
lines = [l for l in sys.argv[1].splitlines() if l.strip()]
head = lines[0].lower()
for col in ("name", "shape", "dtype", "chunks", "bytes", "replicas", "policy"):
    assert col in head, "header lacks %r: %r" % (col, lines[0])
rows = [l for l in lines[1:] if l.split()[0] == "site2/some/file/a"]
assert len(rows) == 1, "no single row for site2/some/file/a:\n" + sys.argv[1]
row = rows[0]
for word in ("float32", "site2", "raw"):
    assert word in row, "row lacks %r: %r" % (word, row)
assert "10" in row and "20" in row, row
# Aligned: each column starts (left-aligned) or ends (right-aligned) where its
# header word does.
cols = []
prev = " "
for i, ch in enumerate(lines[0] + " "):
    if ch != " " and prev == " ":
        start = i
    if ch == " " and prev != " ":
        cols.append((start, i))
    prev = ch
for l in lines[1:]:
    for start, end in cols[1:]:
        left = start < len(l) and l[start - 1] == " " and l[start] != " "
        right = end <= len(l) and l[end - 1] != " " and (end == len(l) or l[end] == " ")
        assert left or right, "column %r not aligned in %r" % (lines[0][start:end], l)
PY

log "catalog GLOB"
expect_code 0 fedsched catalog 'site2/some/*' --json
py - "$OUT" <<'PY' || fail "catalog 'site2/some/*' lists the wrong datasets"
import json, sys
names = sorted(c["name"] for c in json.loads(sys.argv[1]))
assert names == ["site2/some/file/a", "site2/some/file/g/b", "site2/some/file/g/h/c"], names
PY
expect_code 0 fedsched catalog '*/demo/mask/land' --json
py -c 'import json,sys; n=sorted(c["name"] for c in json.loads(sys.argv[1])); assert n==["site1/demo/mask/land","site2/demo/mask/land","site3/demo/mask/land"], n' "$OUT" ||
    fail "catalog '*/demo/mask/land' lists the wrong datasets"
expect_code 0 fedsched catalog 'no/such/*' --json
py -c 'import json,sys; assert json.loads(sys.argv[1]) == []' "$OUT" || fail "catalog of an unmatched glob must be []: $OUT"
expect_code 0 fedsched catalog 'site2/some/file/?'
case $OUT in *site2/some/file/a*) ;; *) fail "catalog 'site2/some/file/?' does not list site2/some/file/a: $OUT" ;; esac
case $OUT in *site2/some/file/g/b*) fail "catalog 'site2/some/file/?' lists site2/some/file/g/b" ;; esac

log "publish --name"
expect_code 0 fedsched publish site2 more/one.h5 --name custom/thing
expect_code 0 fedsched catalog 'custom/*' --json
py - "$OUT" <<'PY' || fail "publish --name custom/thing: not in the catalog under custom/thing[/x]"
import json, sys
names = [c["name"] for c in json.loads(sys.argv[1])]
assert names in (["custom/thing"], ["custom/thing/x"]), names
PY
expect_code 0 fedsched catalog 'site2/more/one*' --json
[ "$(py -c 'import json,sys; print(len(json.loads(sys.argv[1])))' "$OUT")" = 0 ] ||
    fail "publish --name also published the default name: $OUT"
expect_error 2 fedsched publish site2 more/one.h5 --name 'bad/../name'
expect_error 2 fedsched publish site2 more/one.h5 --name 'bad name'

log "publish --policy"
expect_code 0 fedsched publish site2 more/pol_none.h5 --policy none
expect_code 0 fedsched publish site2 more/pol_regions.h5 --policy regions=site1,site3
expect_code 0 fedsched publish site2 more/pol_agg.h5 --policy aggregate=2x3
expect_code 0 fedsched catalog 'site2/more/pol_*' --json
py - "$OUT" <<'PY' || fail "policies are not shown as published"
import json, sys
by = {c["name"]: c["policy"] for c in json.loads(sys.argv[1])}
want = {"site2/more/pol_none/v": "none", "site2/more/pol_regions/v": "regions=site1,site3",
        "site2/more/pol_agg/v": "aggregate=2x3"}
assert by == want, by
PY
mkdir -p "$R2/p2" && cp "$R2/more/one.h5" "$R2/p2/bad.h5"
expect_error 2 fedsched publish site2 p2/bad.h5 --policy bogus
expect_error 2 fedsched publish site2 p2/bad.h5 --policy aggregate=2x0
expect_code nonzero fedsched publish site2 p2/bad.h5 --policy aggregate=2x2x2   # rank 2 dataset
expect_code 0 fedsched catalog 'site2/p2/*' --json
[ "$OUT" = "[]" ] || py -c 'import json,sys; assert json.loads(sys.argv[1]) == []' "$OUT" ||
    fail "a refused publish left datasets in the catalog: $OUT"
expect_error 1 fedsched publish nosuchsite some/file.h5

log "every data verb has --help"
for verb in sites catalog publish get; do
    expect_code 0 fedsched "$verb" --help
    [ -n "$OUT$ERR" ] || fail "fedsched $verb --help printed nothing"
done

# --- sites ---------------------------------------------------------------------------
log "sites --json and table"
expect_code 0 fedsched sites --json
py - "$OUT" <<'PY' || fail "sites --json is wrong (see above)"
import json, sys
sites = json.loads(sys.argv[1])
assert isinstance(sites, list), "sites --json must be an array"
by = {s["name"]: s for s in sites}
assert sorted(by) == ["site1", "site2", "site3"], sorted(by)
for n, s in by.items():
    for k in ("name", "region", "state", "cores", "cores_free", "running", "datasets", "last_heartbeat"):
        assert k in s, "sites --json lacks %s: %s" % (k, s)
    assert s["region"] == n, s
    assert s["state"] == "up", s
    assert isinstance(s["cores"], int) and s["cores"] >= 1, s
    assert isinstance(s["cores_free"], int) and 0 <= s["cores_free"] <= s["cores"], s
    assert s["running"] == 0, s
    assert s["last_heartbeat"] not in (None, "", 0), s
assert by["site1"]["datasets"] == 7, by["site1"]          # demo: temp precip lat lon series ids land
assert by["site2"]["datasets"] == 7 + 3 + 1 + 3, by["site2"]
PY
expect_code 0 fedsched sites
py - "$OUT" <<'PY' || fail "sites table is wrong (see above)"
import sys
lines = [l for l in sys.argv[1].splitlines() if l.strip()]
head = lines[0].lower()
for col in ("name", "region", "state", "cores"):
    assert col in head, "header lacks %r: %r" % (col, lines[0])
rows = {l.split()[0]: l for l in lines[1:]}
assert sorted(rows) == ["site1", "site2", "site3"], lines
for n, l in rows.items():
    assert " up" in l, l
PY

# --- a worker dies and comes back --------------------------------------------------------
log "kill -KILL the worker of site3: down within the heartbeat timeout (5 s)"
fed_kill_worker site3 KILL
wait_state site3 down 8     # heartbeat timeout 5 s + detection slack
log "site3 down after ${WAITED}s"
expect_code 0 fedsched sites --json
py -c '
import json, sys
by = {s["name"]: s["state"] for s in json.loads(sys.argv[1])}
assert by == {"site1": "up", "site2": "up", "site3": "down"}, by' "$OUT" || fail "only site3 should be down"
expect_code 0 fedsched catalog 'site3/demo/mask/land' --json
py -c 'import json,sys; assert len(json.loads(sys.argv[1])) == 1' "$OUT" ||
    fail "the datasets of a down site must stay in the catalog: $OUT"

# A file added while the worker is down is published by its next start-up scan.
py - "$(data_root site3)" <<'PY'
import sys, numpy as np, h5py
with h5py.File(sys.argv[1] + "/later.h5", "w") as h:
    h.create_dataset("z", data=np.arange(12, dtype="uint32").reshape(3, 4))
PY
log "restart the worker of site3"
fed_start_worker site3
wait_state site3 up 15
log "site3 up again after ${WAITED}s"
expect_code 0 fedsched catalog 'site3/later/z' --json
py -c 'import json,sys; c=json.loads(sys.argv[1]); assert len(c)==1 and c[0]["shape"]==[3,4] and c[0]["dtype"]=="uint32", c' "$OUT" ||
    fail "the restarted worker's start-up scan did not publish site3/later/z: $OUT"
expect_code 0 fedsched get 'site3/later/z[1]' -o "$D/z.h5"
py -c 'import h5py,sys; v=h5py.File(sys.argv[1],"r")["z"][()]; assert list(v)==[4,5,6,7], v' "$D/z.h5" ||
    fail "get from the restarted worker returned wrong data"

# --- the scheduler restarts: the catalog is kept -----------------------------------------
expect_code 0 fedsched catalog --json
BEFORE=$OUT
log "restart the scheduler"
fed_stop_scheduler
expect_code 75 env FEDSCHED_TIMEOUT=2 fedsched sites
fed_start_scheduler
wait_all_up 20 site1 site2 site3
expect_code 0 fedsched catalog --json
py - "$BEFORE" "$OUT" <<'PY' || fail "the catalog changed across a scheduler restart"
import json, sys
key = lambda c: c["name"]
before = sorted(json.loads(sys.argv[1]), key=key)
after = sorted(json.loads(sys.argv[2]), key=key)
norm = lambda cs: [(c["name"], c["shape"], c["dtype"], c["chunks"], c["bytes"], c["policy"],
                    sorted(r["site"] for r in c["replicas"])) for c in cs]
b, a = norm(before), norm(after)
assert b == a, "lost: %s; new: %s" % ([x for x in b if x not in a], [x for x in a if x not in b])
PY
expect_code 0 fedsched get 'site2/some/file/a[2:4, ::5]' -o "$D/a.h5"
py -c '
import h5py, sys, numpy as np
v = h5py.File(sys.argv[1], "r")["a"][()]
w = np.arange(200, dtype="float32").reshape(10, 20)[2:4, ::5]
assert v.dtype == w.dtype and np.array_equal(v, w), v' "$D/a.h5" || fail "get after the scheduler restart returned wrong data"

for s in site1 site2 site3; do
    kill -0 "$(worker_pid $s)" 2>/dev/null || fail "the worker of $s died"
done
exit 0
