#!/usr/bin/env bash
# Finding data by what it is (issue 12; SPEC section 3: search, catalog --where,
# info) on a real 2-site federation with a small corpus of CF-style files
# (tests/integration/lib/cf_corpus.py: dimension scales, CF time axes in the
# standard, noleap and 360_day calendars, long and binary attributes):
#   - the start-up scan and publish send each dataset's attributes, its file's and
#     its dimensions; info shows them (table and a stable --json object, checked
#     against h5py's reading of the files), CF times decoded to dates;
#   - search ranks by relevance (sea surface temperature -> sst first, air
#     temperature -> t2m first, years and frequency of time axes count);
#   - catalog --where: equality (numbers as numbers), contains, dim.NAME.FIELD
#     keys, file attributes, several conditions;
#   - metadata is visible whatever the data policy (a `none` dataset);
#   - a scheduler restart keeps it (SQLite), a worker restart sends it again;
#   - bad input: exit 2 with a clear error, unknown names exit 1, an unreachable
#     scheduler 75; malformed requests get error replies and the scheduler lives on.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
need h5py
need zmq

fed_dir
R1="$FED_DIR/sites/site1/data"
R2="$FED_DIR/sites/site2/data"
mkdir -p "$R1/cf" "$R2/closed"
py "$(dirname "$0")/lib/cf_corpus.py" "$R1/cf" >"$FED_DIR/corpus.json" || fail "cf_corpus.py failed"
py - "$R2/closed" <<'PY' || fail "writing the closed file failed"
import sys, numpy as np, h5py
with h5py.File(sys.argv[1] + "/secret.h5", "w") as f:
    f.attrs["title"] = "Confidential glacier thickness survey"
    d = f.create_dataset("thickness", data=np.ones((4, 5), dtype="float32"))
    d.attrs["units"] = "m"
    d.attrs["long_name"] = "glacier ice thickness"
PY
fed_up 2
P=site1/cf

log "start-up scan: info of the sst dataset (table)"
expect_code 0 fedsched info $P/sst/monthly/sst
for want in "Sea surface temperature" "sea_surface_temperature" "CF-1.8" "National Ocean Centre" \
    "days since 1850-01-01" "2010-01-15" "2019-12-15" "monthly" "degrees_north" "opaque attribute" \
    "float64[1000]" "string of 5500 bytes"; do
    case $OUT in *"$want"*) ;; *) fail "info table lacks '$want': $OUT" ;; esac
done

log "info --json: the stable object, compared with h5py's reading of the files"
check_info() {
    py - "$1" "$R1/cf" "$(cat "$FED_DIR/corpus.json")" <<'PY'
import json, sys, h5py, numpy as np
info = json.loads(sys.argv[1]); root = sys.argv[2]; corpus = json.loads(sys.argv[3])
keys = ["name", "shape", "dtype", "chunks", "filters", "bytes", "policy", "version", "replicas",
        "attrs", "file_attrs", "dims", "attrs_omitted", "file_attrs_omitted", "metadata",
        "metadata_error"]
assert list(info) == keys, "info keys %s, expected %s" % (list(info), keys)
assert info["name"] == "site1/cf/sst/monthly/sst" and info["metadata"] == "complete", info
with h5py.File(root + "/sst/monthly.nc", "r") as f:
    d = f["sst"]
    assert info["shape"] == list(d.shape) and info["dtype"] == str(d.dtype), info
    assert info["chunks"] == list(d.chunks), info
    assert sorted(info["filters"]) == ["gzip", "shuffle"], info["filters"]
    assert info["replicas"] == [{"site": "site1", "state": "up"}], info["replicas"]
    a = info["attrs"]
    for k in ("units", "long_name", "standard_name", "cell_methods"):
        v = d.attrs[k]
        assert a[k] == (v.decode() if isinstance(v, bytes) else v), (k, a[k], v)
    assert a["_FillValue"] == float(d.attrs["_FillValue"]) == -999.0, a["_FillValue"]
    assert a["valid_range"] == [float(x) for x in d.attrs["valid_range"]], a["valid_range"]
    assert a["calibration"]["summary"].startswith("opaque attribute"), a["calibration"]
    assert a["weights"]["summary"] == "float64[1000], min 0, max 1", a["weights"]
    for k in ("DIMENSION_LIST", "CLASS", "NAME", "REFERENCE_LIST"):
        assert k not in a, "structural attribute %s listed: %s" % (k, a)
    fa = info["file_attrs"]
    for k in ("title", "institution", "source", "Conventions"):
        assert fa[k] == f.attrs[k], (k, fa[k], f.attrs[k])
    h = f.attrs["history"]
    assert fa["history"]["summary"] == "string of %d bytes; the first 1024 kept" % len(h), fa["history"]
    assert fa["history"]["text"] == h[:1024], fa["history"]["text"][:80]
    dims = info["dims"]
    assert [x["name"] for x in dims] == ["time", "lat", "lon"], dims
    assert [x["size"] for x in dims] == list(d.shape), dims
    t, lat, lon = dims
    c = corpus["sst"]
    assert t["units"] == "days since 1850-01-01" and t["calendar"] == "standard", t
    assert t["first"] == c["first"] and t["last"] == c["last"], t
    assert t["first_value"] == c["first_value"] and t["last_value"] == c["last_value"], t
    assert t["frequency"] == "monthly" and t["dataset"] == "site1/cf/sst/monthly/time", t
    assert t["scale"] == "/time", t
    assert lat["units"] == "degrees_north" and lat["first"] == float(f["lat"][0]), lat
    assert lat["last"] == float(f["lat"][-1]) and lat["dataset"] == "site1/cf/sst/monthly/lat", lat
    assert lon["first"] == float(f["lon"][0]) and lon["last"] == float(f["lon"][-1]), lon
    assert lat["attrs"]["standard_name"] == "latitude", lat
PY
}
expect_code 0 fedsched info $P/sst/monthly/sst --json
check_info "$OUT" || fail "info --json of sst is wrong (above)"

log "info --json: other calendars, a netCDF dimension without values, no metadata at all"
expect_code 0 fedsched info $P/air/daily/t2m --json
T2M=$OUT
expect_code 0 fedsched info $P/precip/yearly/pr --json
PR=$OUT
expect_code 0 fedsched info $P/ocean/salinity/so --json
SO=$OUT
expect_code 0 fedsched info $P/land/mask/mask --json
MASK=$OUT
expect_code 0 fedsched info $P/sst/monthly/time --json
TIME=$OUT
py - "$T2M" "$PR" "$SO" "$MASK" "$TIME" "$(cat "$FED_DIR/corpus.json")" <<'PY' || fail "info of the other corpus files is wrong (above)"
import json, sys
t2m, pr, so, mask, time = (json.loads(a) for a in sys.argv[1:6]); c = json.loads(sys.argv[6])
t = t2m["dims"][0]
assert t["calendar"] == "noleap" and t["first"] == c["t2m"]["first"] and t["last"] == c["t2m"]["last"], t
assert t["frequency"] == "daily", t
t = pr["dims"][0]
assert t["calendar"] == "360_day" and t["first"] == c["pr"]["first"] and t["last"] == c["pr"]["last"], t
assert t["frequency"] == "yearly" and isinstance(t["first_value"], int), t
depth = so["dims"][0]
assert depth["name"] == "depth" and "first" not in depth and depth["size"] == 12, depth
assert so["attrs"]["units"] == "psu", so["attrs"]
assert mask["attrs"] == {} and mask["file_attrs"] == {}, mask
assert [d["size"] for d in mask["dims"]] == [18, 36] and "name" not in mask["dims"][0], mask["dims"]
assert mask["metadata"] == "complete" and mask["filters"] == [], mask
d0 = time["dims"][0]
assert d0["name"] == "time" and d0["dataset"] == "site1/cf/sst/monthly/time" and d0["frequency"] == "monthly", d0
PY

log "search ranks by relevance"
search_names() { fedsched search "$@" --json | py -c 'import json,sys; print(" ".join(d["name"] for d in json.load(sys.stdin)))'; }
got=$(search_names sea surface temperature --limit 3)
case $got in "$P/sst/monthly/sst "*) ;; *) fail "search 'sea surface temperature' ranks: $got" ;; esac
got=$(search_names "air temperature" --limit 3)
case $got in "$P/air/daily/t2m "*) ;; *) fail "search 'air temperature' ranks: $got" ;; esac
got=$(search_names temperatures --limit 2)
case $got in "$P/air/daily/t2m $P/sst/monthly/sst" | "$P/sst/monthly/sst $P/air/daily/t2m") ;;
    *) fail "search 'temperatures' (plural) should find t2m and sst first: $got" ;; esac
got=$(search_names salinity --limit 1)
[ "$got" = "$P/ocean/salinity/so" ] || fail "search salinity: $got"
got=$(search_names 2015 precipitation --limit 1)
[ "$got" = "$P/precip/yearly/pr" ] || fail "search '2015 precipitation' (years of a 360_day axis): $got"
got=$(search_names 2001 daily --limit 2)
case $got in *"$P/air/daily/t2m"*) ;; *) fail "search '2001 daily': $got" ;; esac
expect_code 0 fedsched search sea surface temperature --limit 2 --json
py - "$OUT" <<'PY' || fail "search --json objects are wrong (above)"
import json, sys
r = json.loads(sys.argv[1])
assert len(r) == 2, r
for d in r:
    assert list(d) == ["name", "score", "shape", "dtype", "policy", "matched"], d
assert r[0]["score"] > r[1]["score"] > 0, r
assert r[0]["shape"] == [120, 18, 36] and r[0]["dtype"] == "float32" and r[0]["policy"] == "raw", r[0]
assert "attrs.long_name" in r[0]["matched"] and "attrs.standard_name" in r[0]["matched"], r[0]
PY
expect_code 0 fedsched search glacier
case $OUT in *site2/closed/secret/thickness*) ;; *) fail "search does not find the policy-none dataset: $OUT" ;; esac
expect_code 0 fedsched search zzyzx --json
[ "$(echo "$OUT" | tr -d ' \n')" = "[]" ] || fail "search for an absent word should give []: $OUT"

log "metadata is visible whatever the data policy; its data is not"
expect_code 0 fedsched publish site2 closed --policy none
expect_code 0 fedsched info site2/closed/secret/thickness --json
py - "$OUT" <<'PY' || fail "info of a policy-none dataset (above)"
import json, sys
d = json.loads(sys.argv[1])
assert d["policy"] == "none" and d["attrs"]["long_name"] == "glacier ice thickness", d
assert d["file_attrs"]["title"] == "Confidential glacier thickness survey", d
PY
expect_error 1 fedsched get site2/closed/secret/thickness -o "$FED_DIR/x.h5"

log "catalog --where"
where_names() { fedsched catalog "$@" --json | py -c 'import json,sys; print(" ".join(d["name"] for d in json.load(sys.stdin)))'; }
[ "$(where_names --where units=K)" = "$P/air/daily/t2m $P/sst/monthly/sst" ] || fail "--where units=K: $(where_names --where units=K)"
[ "$(where_names --where _FillValue=-999)" = "$P/sst/monthly/sst" ] || fail "--where _FillValue=-999 (numbers compare as numbers)"
[ "$(where_names --where _FillValue=-999.0)" = "$P/sst/monthly/sst" ] || fail "--where _FillValue=-999.0"
[ "$(where_names --where 'standard_name~TEMPERATURE')" = "$P/air/daily/t2m $P/sst/monthly/sst" ] || fail "--where standard_name~TEMPERATURE"
[ "$(where_names --where dim.time.calendar=noleap)" = "$P/air/daily/t2m $P/air/daily/time" ] || fail "--where dim.time.calendar=noleap: $(where_names --where dim.time.calendar=noleap)"
[ "$(where_names --where dim.time.first=2010-01-15)" = "$P/sst/monthly/sst $P/sst/monthly/time" ] || fail "--where dim.time.first (a date)"
[ "$(where_names --where units=K --where dim.time.frequency=daily)" = "$P/air/daily/t2m" ] || fail "two --where"
[ "$(where_names '*/ocean/*' --where 'title~SALINITY')" = "$P/ocean/salinity/depth $P/ocean/salinity/lat $P/ocean/salinity/so" ] || fail "--where on a file attribute with a GLOB: $(where_names '*/ocean/*' --where 'title~SALINITY')"
[ "$(where_names --where file.Conventions=CF-1.8 --where attrs.units=K)" = "$P/air/daily/t2m $P/sst/monthly/sst" ] || fail "file. and attrs. keys"
[ "$(where_names --where units=kelvin)" = "" ] || fail "--where units=kelvin should match nothing"
[ "$(where_names --where dim.lat.size=18 --where dim.time.size=10)" = "$P/precip/yearly/pr" ] || fail "--where dim.NAME.size"
expect_code 0 fedsched catalog --where units=K
case $OUT in *NAME*"$P/air/daily/t2m"*"$P/sst/monthly/sst"*) ;; *) fail "catalog --where table: $OUT" ;; esac

log "bad input: exit 2, unknown names 1, an unreachable scheduler 75"
expect_error 2 fedsched search
expect_error 2 fedsched search '!!! ???'
case $ERR in *"no words"*) ;; *) fail "search '!!!': $ERR" ;; esac
expect_error 2 fedsched search x --limit 0
expect_error 2 fedsched search x --limit ten
expect_error 2 fedsched catalog --where units
case $ERR in *"KEY=VALUE"*) ;; *) fail "--where units: $ERR" ;; esac
expect_error 2 fedsched catalog --where =K
expect_error 2 fedsched catalog --where 'dim.time=1'
case $ERR in *"dim.NAME.FIELD"*) ;; *) fail "--where dim.time=1: $ERR" ;; esac
expect_error 2 fedsched catalog --where 'long_name~'
expect_error 2 fedsched info
expect_error 2 fedsched info 'bad name!'
expect_error 1 fedsched info site1/no/such
case $ERR in *"unknown dataset 'site1/no/such'"*) ;; *) fail "info unknown: $ERR" ;; esac
for v in search info; do
    expect_code 0 fedsched $v --help
    case $OUT in *"usage: fedsched $v"*) ;; *) fail "$v --help: $OUT" ;; esac
done
expect_code 0 fedsched catalog --help
case $OUT in *--where*) ;; *) fail "catalog --help lacks --where" ;; esac
FEDSCHED_TIMEOUT=1 expect_error 75 fedsched --scheduler tcp://127.0.0.1:9 search sst
FEDSCHED_TIMEOUT=1 expect_error 75 fedsched --scheduler tcp://127.0.0.1:9 info $P/sst/monthly/sst

log "malformed requests get error replies; the scheduler keeps serving"
py - "$FEDSCHED_SCHEDULER" <<'PY' || fail "malformed catalog requests (above)"
import json, sys, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.DEALER); s.setsockopt(zmq.LINGER, 0); s.connect(sys.argv[1])
cases = [("catalog.search", {}), ("catalog.search", {"text": 5}), ("catalog.search", {"text": "x", "limit": 0}),
         ("catalog.search", {"text": "x", "limit": "3"}), ("catalog.list", {"where": "units=K"}),
         ("catalog.list", {"where": [1]}), ("catalog.list", {"where": ["a=b"] * 17}),
         ("catalog.info", {}), ("catalog.info", {"name": "../x"}), ("catalog.info", {"name": "a/b"})]
for i, (op, body) in enumerate(cases, 1):
    s.send(json.dumps({"op": op, "id": i, "body": body}).encode())
    if not s.poll(5000):
        raise SystemExit("no answer to %s %s" % (op, body))
    r = json.loads(s.recv())
    want = 3 if body.get("name") == "a/b" else 2
    assert r["id"] == i and r["ok"] is False and r["error"]["code"] == want, (op, body, r)
    print("ok:", op, body, "->", r["error"]["code"], r["error"]["text"][:70])
PY
expect_code 0 fedsched search sst

log "a scheduler restart keeps the metadata (SQLite); a worker restart sends it again"
fed_stop_scheduler
fed_start_scheduler
wait_all_up 60 site1 site2
expect_code 0 fedsched info $P/sst/monthly/sst --json
check_info "$OUT" || fail "info after a scheduler restart (above)"
fed_kill_worker site1 TERM
py - "$R1/cf/sst/monthly.nc" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "a") as f:
    f["sst"].attrs["long_name"] = "Sea surface skin temperature"
PY
fed_start_worker site1
wait_state site1 up 60
for _ in $(seq 1 60); do
    d=$(fedsched info $P/sst/monthly/sst --json 2>/dev/null) || d=""
    case $d in *"surface skin temperature"*) break ;; esac
    sleep 0.5
done
case $d in *"surface skin temperature"*) ;; *) fail "a restarted worker did not send the new attribute: $d" ;; esac
got=$(search_names skin --limit 1)
[ "$got" = "$P/sst/monthly/sst" ] || fail "search finds the new attribute's words: $got"
got=$(fedsched search sea surface temperature --json | py -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$got" -ge 1 ] || fail "search after the worker restart"
exit 0
