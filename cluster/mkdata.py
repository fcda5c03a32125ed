#!/usr/bin/python3
"""mkdata.py - small deterministic sample HDF5 data for a local federation.

    /usr/bin/python3 cluster/mkdata.py DATA_ROOT SITE [--scale N]

Writes into DATA_ROOT (a site's data root; used by `fedsched-local --data demo`):

    demo/climate.h5   /temp     float32 time x lat x lon (24 x 45 x 90), contiguous
                      /precip   float32 time x lat x lon (24 x 45 x 90), chunked
                                (6 x 45 x 90), gzip 4 + shuffle
                      /lat /lon float64 coordinates, the fields' dimension scales
                      (CF-style attributes: units, long_name, standard_name)
    demo/stations.h5  /series   int32 station x day (16 x 365), chunked (4 x 365)
                      /ids      int64 (16)
    demo/mask.h5      /land     uint8 lat x lon (45 x 90)

so with prefix SITE the logical names are SITE/demo/climate/temp and so on.
The values depend only on SITE (and --scale), so two runs give identical bytes
in the datasets.  --scale N multiplies the time and day extents by N.
"""

import argparse
import os
import sys
import zlib

import numpy as np

try:
    import h5py
except ImportError:
    sys.exit("mkdata.py: needs python3-h5py (apt-get install python3-h5py)")


def rng_for(site, what):
    seed = zlib.crc32(("%s/%s" % (site, what)).encode())
    return np.random.default_rng(seed)


def climate(path, site, scale):
    nt, nlat, nlon = 24 * scale, 45, 90
    lat = np.linspace(-88.0, 88.0, nlat)
    lon = np.linspace(0.0, 356.0, nlon)
    t = np.arange(nt, dtype=np.float64)[:, None, None]
    la = np.deg2rad(lat)[None, :, None]
    lo = np.deg2rad(lon)[None, None, :]
    r = rng_for(site, "temp")
    temp = (288.0 - 30.0 * np.sin(la) ** 2 + 5.0 * np.cos(lo + 2 * np.pi * t / 24.0)
            + r.normal(0.0, 0.5, (nt, nlat, nlon)))
    r = rng_for(site, "precip")
    precip = np.maximum(0.0, r.gamma(0.6, 2.0, (nt, nlat, nlon)) * (1.0 + np.cos(la)) - 0.5)
    with h5py.File(path, "w") as h:
        h.attrs["site"] = site
        h.attrs["title"] = "Demo climate fields of " + site
        h.attrs["Conventions"] = "CF-1.8"
        d = h.create_dataset("temp", data=temp.astype(np.float32))
        d.attrs["units"] = "K"
        d.attrs["long_name"] = "Near-surface air temperature"
        d.attrs["standard_name"] = "air_temperature"
        p = h.create_dataset("precip", data=precip.astype(np.float32),
                             chunks=(6, nlat, nlon), compression="gzip",
                             compression_opts=4, shuffle=True)
        p.attrs["units"] = "mm/h"
        p.attrs["long_name"] = "Precipitation rate"
        p.attrs["standard_name"] = "precipitation_flux"
        # lat and lon are the dimension scales of both fields (as netCDF-4 writes them).
        la = h.create_dataset("lat", data=lat)
        la.attrs["units"] = "degrees_north"
        la.make_scale("lat")
        lo = h.create_dataset("lon", data=lon)
        lo.attrs["units"] = "degrees_east"
        lo.make_scale("lon")
        for v in (d, p):
            v.dims[1].attach_scale(la)
            v.dims[2].attach_scale(lo)


def stations(path, site, scale):
    nst, nday = 16, 365 * scale
    r = rng_for(site, "series")
    base = r.integers(0, 1000, (nst, 1))
    series = (base + np.cumsum(r.integers(-20, 21, (nst, nday)), axis=1)).astype(np.int32)
    with h5py.File(path, "w") as h:
        h.create_dataset("series", data=series, chunks=(4, nday))
        h.create_dataset("ids", data=np.arange(1000, 1000 + nst, dtype=np.int64))


def mask(path, site):
    nlat, nlon = 45, 90
    r = rng_for(site, "land")
    field = r.normal(0.0, 1.0, (nlat, nlon))
    # Smooth a little so the mask has continents rather than noise.
    for _ in range(3):
        field = (field + np.roll(field, 1, 0) + np.roll(field, -1, 0)
                 + np.roll(field, 1, 1) + np.roll(field, -1, 1)) / 5.0
    with h5py.File(path, "w") as h:
        m = h.create_dataset("land", data=(field > 0.0).astype(np.uint8))
        m.attrs["long_name"] = "Land mask (1 land, 0 sea)"


def main():
    ap = argparse.ArgumentParser(description="write small deterministic sample HDF5 files")
    ap.add_argument("root", help="the site's data root")
    ap.add_argument("site", help="the site's name (seeds the values)")
    ap.add_argument("--scale", type=int, default=1, help="multiply time extents (default 1)")
    a = ap.parse_args()
    if a.scale < 1:
        ap.error("--scale must be >= 1")
    out = os.path.join(a.root, "demo")
    os.makedirs(out, exist_ok=True)
    # Write to a temporary name and rename, so a worker scanning the root
    # never sees a half-written file.
    for name, fn in (("climate.h5", lambda p: climate(p, a.site, a.scale)),
                     ("stations.h5", lambda p: stations(p, a.site, a.scale)),
                     ("mask.h5", lambda p: mask(p, a.site))):
        final = os.path.join(out, name)
        tmp = os.path.join(out, "." + name + ".tmp")
        fn(tmp)
        os.replace(tmp, final)


if __name__ == "__main__":
    main()
