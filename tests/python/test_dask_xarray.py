"""A dask array and an xarray DataArray equal to h5py's direct reads; chunks
are read when computed, in parallel threads; coordinates come from the
dimension scales and CF times are decoded."""
import os
import pickle
import warnings

import h5py
import numpy as np
import pytest

import fedsched

da = pytest.importorskip("dask.array")
xr = pytest.importorskip("xarray")


def test_to_dask(fs, fed):
    ds = fs["site1/types/chunked"]
    with h5py.File(os.path.join(fed.root("site1"), "types.h5"), "r") as f:
        want = f["chunked"][()]
    arr = ds.to_dask()
    assert isinstance(arr, da.Array) and arr.shape == want.shape and arr.dtype == want.dtype
    assert arr.chunks[0][0] == 7 and arr.chunks[1][0] == 11      # the HDF5 chunks
    np.testing.assert_array_equal(arr.compute(scheduler="threads"), want)
    arr = ds.to_dask(chunks=(16, 30, 5))
    assert arr.numblocks == (3, 1, 4)
    np.testing.assert_array_equal(arr[3:33:2, 5, ::3].compute(), want[3:33:2, 5, ::3])
    np.testing.assert_allclose(arr.mean(axis=0).compute(), want.mean(axis=0), rtol=1e-5, atol=1e-6)
    # The graph pickles: no connection in it.
    pickle.loads(pickle.dumps(dict(arr.__dask_graph__())))
    s = fs["site1/types/scalar"].to_dask()
    assert s.shape == () and s.compute() == 3.25
    e = fs["site1/types/empty"].to_dask()
    assert e.shape == (0, 4) and e.compute().shape == (0, 4)


def test_open_dataarray(fs, fed):
    path = os.path.join(fed.root("site1"), "cf", "sst", "monthly.nc")
    arr = fedsched.open_dataarray("site1/cf/sst/monthly/sst")
    assert isinstance(arr, xr.DataArray) and arr.dims == ("time", "lat", "lon")
    assert isinstance(arr.data, da.Array)       # lazy
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(arr.values, f["sst"][()])
        np.testing.assert_array_equal(arr["lat"].values, f["lat"][()])
        np.testing.assert_array_equal(arr["lon"].values, f["lon"][()])
        assert arr.attrs["units"] == "K" and arr["lat"].attrs["units"] == "degrees_north"
        assert arr.name == "sst"
    t = arr["time"].values
    assert np.issubdtype(t.dtype, np.datetime64)
    assert str(t[0])[:10] == "2010-01-15" and str(t[-1])[:10] == "2019-12-15"
    sel = arr.sel(time="2015").isel(lat=3)
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(sel.values, f["sst"][60:72, 3])
    # A calendar xarray can't decode without cftime stays numbers, with its units.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t2m = fs["site1/cf/air/daily/t2m"].to_xarray()
    with h5py.File(os.path.join(fed.root("site1"), "cf", "air", "daily.nc"), "r") as f:
        np.testing.assert_array_equal(t2m.isel(time=slice(0, 3)).values, f["t2m"][0:3])
        tv = t2m["time"].values
        if not np.issubdtype(tv.dtype, np.datetime64) and tv.dtype != object:
            np.testing.assert_array_equal(tv, f["time"][()])
            assert t2m["time"].attrs["calendar"] == "noleap"

