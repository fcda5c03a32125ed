"""Finding data from Python: search ranking on the CF-style corpus, catalog
with where conditions, info and the dataset objects' attributes and
dimensions (CF times decoded), compared with h5py's reading of the files."""
import os

import h5py
import numpy as np
import pytest

import fedsched

P = "site1/cf"


def names(rows):
    return [r["name"] for r in rows]


def test_search_ranking(fs):
    r = fs.search("sea surface temperature", limit=5)
    assert r[0]["name"] == P + "/sst/monthly/sst"
    assert [x["score"] for x in r] == sorted((x["score"] for x in r), reverse=True)
    assert set(r[0]) == {"name", "score", "shape", "dtype", "policy", "matched"}
    assert "attrs.long_name" in r[0]["matched"]
    assert fs.search("air temperature", limit=1)[0]["name"] == P + "/air/daily/t2m"
    assert names(fs.search("salinity", limit=1)) == [P + "/ocean/salinity/so"]
    assert names(fs.search("precipitation 2015", limit=1)) == [P + "/precip/yearly/pr"]
    top2 = set(names(fs.search("temperatures", limit=2)))
    assert top2 == {P + "/sst/monthly/sst", P + "/air/daily/t2m"}
    assert fs.search("zzyzx") == []
    assert len(fs.search("lat", limit=2)) == 2


def test_search_sees_every_policy(fs):
    r = fs.search("glacier thickness", limit=1)
    assert r[0]["name"] == "site2/closed/secret/thickness" and r[0]["policy"] == "none"


def test_catalog_where(fs):
    assert names(fs.catalog(where="units=K")) == [P + "/air/daily/t2m", P + "/sst/monthly/sst"]
    assert names(fs.catalog(where={"units": "K", "dim.time.calendar": "noleap"})) == [P + "/air/daily/t2m"]
    assert names(fs.catalog(where=["_FillValue=-999"])) == [P + "/sst/monthly/sst"]
    assert names(fs.catalog(P + "/ocean/*", where=["title~SALINITY"])) == [
        P + "/ocean/salinity/depth", P + "/ocean/salinity/lat", P + "/ocean/salinity/so"]
    assert names(fs.catalog(where="dim.time.first=2010-01-15")) == [
        P + "/sst/monthly/sst", P + "/sst/monthly/time"]
    assert fs.catalog(where="units=none-such") == []
    all_ = fs.catalog()
    assert {"name", "shape", "dtype", "chunks", "bytes", "replicas", "policy"} <= set(all_[0])
    assert len(fs.catalog("site1/types/*")) == 17


def test_info_and_dataset_objects(fs, fed):
    with h5py.File(os.path.join(fed.root("site1"), "cf", "sst", "monthly.nc"), "r") as f:
        src = f["sst"]
        ds = fs[P + "/sst/monthly/sst"]
        assert ds.shape == src.shape and ds.dtype == src.dtype and ds.chunks == src.chunks
        assert ds.attrs["units"] == "K" and ds.attrs["_FillValue"] == -999.0
        assert ds.attrs["long_name"] == src.attrs["long_name"]
        assert ds.file_attrs["institution"] == f.attrs["institution"]
        assert ds.dims == ("time", "lat", "lon")
        t = ds.dim_info[0]
        c = fed.corpus["sst"]
        assert (t["first"], t["last"], t["calendar"], t["frequency"]) == (c["first"], c["last"], "standard", "monthly")
        assert t["first_value"] == f["time"][0] and t["last_value"] == f["time"][-1]
        lat = ds.dim_info[1]
        assert lat["first"] == f["lat"][0] and lat["last"] == f["lat"][-1] and lat["units"] == "degrees_north"
    info = fs.info(P + "/air/daily/t2m")
    assert info["dims"][0]["calendar"] == "noleap"
    assert info["dims"][0]["first"] == fed.corpus["t2m"]["first"]
    assert info["dims"][0]["last"] == fed.corpus["t2m"]["last"]
    assert fs.info(P + "/precip/yearly/pr")["dims"][0]["first"] == fed.corpus["pr"]["first"]
    mask = fs[P + "/land/mask/mask"]
    assert mask.attrs == {} and mask.dims == ("dim_0", "dim_1")
    assert fs[P + "/ocean/salinity/so"].dims == ("depth", "lat")


def test_metadata_of_a_closed_dataset_but_not_its_data(fs):
    ds = fs["site2/closed/secret/thickness"]
    assert ds.policy == "none" and ds.attrs["long_name"] == "glacier ice thickness"
    assert ds.file_attrs["title"] == "Confidential glacier survey"
    with pytest.raises(fedsched.Refused) as e:
        ds[0:2]
    assert "policy" in str(e.value) or "refused" in str(e.value)
    assert e.value.code == 1
