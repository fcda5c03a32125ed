#!/usr/bin/python3
"""A small corpus of CF-style files (as netCDF-4 writes them: HDF5 with
dimension scales) for the metadata tests: `cf_corpus.py DIR` writes

  sst/monthly.nc    sst(time, lat, lon) float32, "Sea surface temperature", K,
                    time in days since 1850-01-01 (standard), mid-months of
                    2010..2019; a long history, an opaque and a big array attribute
  air/daily.nc      t2m(time, lat, lon) float64, "2 metre air temperature", K,
                    time in hours since 2000-01-01 00:00:00 (noleap), 2001 daily
  precip/yearly.h5  pr(time, lat) int32, precipitation flux, days since 1850-1-1
                    in the 360_day calendar, 2010..2019 yearly
  ocean/salinity.nc so(depth, lat) float32, sea water salinity, psu; depth is a
                    netCDF dimension without a variable
  land/mask.h5      mask(lat, lon) uint8 with no attributes and no scales

and prints a JSON summary of what it wrote (values the tests compare with).
"""
import datetime
import json
import os
import sys

import h5py
import numpy as np

NC_PHONY = "This is a netCDF dimension but not a netCDF variable."


def scale(f, name, values, attrs=None, dtype="float64"):
    d = f.create_dataset(name, data=np.asarray(values, dtype=dtype))
    d.make_scale(name)
    for k, v in (attrs or {}).items():
        d.attrs[k] = v
    return d


def latlon(f, nlat, nlon):
    lat = scale(f, "lat", np.linspace(-85, 85, nlat),
                {"units": "degrees_north", "standard_name": "latitude", "long_name": "latitude"})
    lon = scale(f, "lon", np.arange(nlon) * (360.0 / nlon),
                {"units": "degrees_east", "standard_name": "longitude", "long_name": "longitude"})
    return lat, lon


def main(root):
    out = {}
    rng = np.random.default_rng(12)
    os.makedirs(root + "/sst", exist_ok=True)
    with h5py.File(root + "/sst/monthly.nc", "w") as f:
        f.attrs["title"] = "Monthly sea surface temperature 2010-2019"
        f.attrs["institution"] = "National Ocean Centre"
        f.attrs["source"] = "ocean reanalysis"
        f.attrs["Conventions"] = "CF-1.8"
        f.attrs["history"] = "regridded; " * 500
        ref = datetime.date(1850, 1, 1)
        days = [(datetime.date(y, m, 15) - ref).days for y in range(2010, 2020) for m in range(1, 13)]
        t = scale(f, "time", days, {"units": "days since 1850-01-01", "calendar": "standard",
                                    "standard_name": "time"})
        lat, lon = latlon(f, 18, 36)
        data = (rng.random((120, 18, 36)) * 30 + 271).astype("float32")
        d = f.create_dataset("sst", data=data, chunks=(12, 18, 36), compression="gzip", shuffle=True)
        d.attrs["units"] = "K"
        d.attrs["long_name"] = "Sea surface temperature"
        d.attrs["standard_name"] = "sea_surface_temperature"
        d.attrs["_FillValue"] = np.float32(-999.0)
        d.attrs["cell_methods"] = "time: mean"
        d.attrs["valid_range"] = np.array([271.0, 310.0], dtype="float32")
        d.attrs["calibration"] = np.void(b"\x00\x01\x02\x03binary")
        d.attrs["weights"] = np.linspace(0, 1, 1000)
        for i, s in enumerate((t, lat, lon)):
            d.dims[i].attach_scale(s)
        out["sst"] = {"first": "2010-01-15", "last": "2019-12-15", "first_value": days[0],
                      "last_value": days[-1]}
    os.makedirs(root + "/air", exist_ok=True)
    with h5py.File(root + "/air/daily.nc", "w") as f:
        f.attrs["title"] = "Daily near-surface air temperature, 2001"
        f.attrs["Conventions"] = "CF-1.8"
        hours = [24 * (365 + i) + 12 for i in range(365)]
        t = scale(f, "time", hours, {"units": "hours since 2000-01-01 00:00:00", "calendar": "noleap"})
        lat, lon = latlon(f, 18, 36)
        d = f.create_dataset("t2m", data=rng.random((365, 18, 36)) * 40 + 250)
        d.attrs["units"] = "K"
        d.attrs["long_name"] = "2 metre air temperature"
        d.attrs["standard_name"] = "air_temperature"
        for i, s in enumerate((t, lat, lon)):
            d.dims[i].attach_scale(s)
        out["t2m"] = {"first": "2001-01-01T12:00:00", "last": "2001-12-31T12:00:00"}
    os.makedirs(root + "/precip", exist_ok=True)
    with h5py.File(root + "/precip/yearly.h5", "w") as f:
        f.attrs["title"] = "Yearly precipitation"
        t = scale(f, "time", [360 * (160 + i) for i in range(10)],
                  {"units": "days since 1850-1-1", "calendar": "360_day"}, dtype="int64")
        lat = scale(f, "lat", np.linspace(-85, 85, 18), {"units": "degrees_north"})
        d = f.create_dataset("pr", data=rng.integers(0, 5000, (10, 18), dtype="int32"))
        d.attrs["units"] = "kg m-2 s-1"
        d.attrs["long_name"] = "Precipitation flux"
        d.attrs["standard_name"] = "precipitation_flux"
        d.dims[0].attach_scale(t)
        d.dims[1].attach_scale(lat)
        out["pr"] = {"first": "2010-01-01", "last": "2019-01-01"}
    os.makedirs(root + "/ocean", exist_ok=True)
    with h5py.File(root + "/ocean/salinity.nc", "w") as f:
        f.attrs["title"] = "Ocean salinity climatology"
        depth = f.create_dataset("depth", data=np.zeros(12, dtype="float32"))
        depth.make_scale(NC_PHONY + "        12")
        lat = scale(f, "lat", np.linspace(-85, 85, 18), {"units": "degrees_north"})
        d = f.create_dataset("so", data=(rng.random((12, 18)) * 5 + 33).astype("float32"))
        d.attrs["units"] = "psu"
        d.attrs["long_name"] = "Sea water salinity"
        d.attrs["standard_name"] = "sea_water_salinity"
        d.dims[0].attach_scale(depth)
        d.dims[1].attach_scale(lat)
    os.makedirs(root + "/land", exist_ok=True)
    with h5py.File(root + "/land/mask.h5", "w") as f:
        f.create_dataset("mask", data=(rng.random((18, 36)) > 0.5).astype("uint8"))
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
