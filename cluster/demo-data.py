#!/usr/bin/python3
"""demo-data.py - deterministic synthetic datasets of the seven-site demo.

    /usr/bin/python3 cluster/demo-data.py FEDDIR [--size full|small]
    /usr/bin/python3 cluster/demo-data.py --list [--size full|small]

Writes each site's files into FEDDIR/sites/SITE/data/ (the data root that
`cluster/fedsched-local up` publishes at start-up, prefix SITE), so a dataset
/d of FEDDIR/sites/SITE/data/F.h5 is named SITE/F/d in the catalog.

The seven sites stand for seven kinds of scientific data centre; their datasets
have the shapes such centres hold (time x lat x lon grids, station series,
masks, a higher-resolution satellite product, seismic traces, a population
grid).  Values are synthetic but deterministic: every array comes from a NumPy
generator seeded with the CRC-32 of "SITE/DATASET", so two runs write the same
bytes.  Sizes and policies are documented in docs/benchmarks.md ("The seven-site
demo").

After writing, one line per dataset goes to stdout:

    dataset SITE FILE DSET SHAPE DTYPE BYTES POLICY

(SHAPE as AxBxC, FILE relative to the site's data root).  `cluster/demo` reads
these lines to set the policies (`fedsched publish SITE FILE --policy P`) and
to copy the inputs in the centralised run.  --list prints them without
writing anything.
"""

import argparse
import os
import sys
import zlib

import numpy as np

# Grid sizes: "full" is the demo of docs/benchmarks.md, "small" the quick one
# (./cluster/demo --small, tests/integration/demo_small.sh).
SIZES = {
    #          months, lat, lon, days, stations, gauges, seismic samples
    "full": dict(nt=120, ny=180, nx=360, nday=3650, nstn=400, ngauge=500, nsamp=360000),
    "small": dict(nt=24, ny=90, nx=180, nday=730, nstn=100, ngauge=100, nsamp=40000),
}


def rng(site, what):
    return np.random.default_rng(zlib.crc32(("%s/%s" % (site, what)).encode()))


def smooth2(field, n=3):
    """A few passes of a 5-point average over the last two axes (periodic):
    continents and weather systems rather than white noise."""
    for _ in range(n):
        field = (field + np.roll(field, 1, -2) + np.roll(field, -1, -2)
                 + np.roll(field, 1, -1) + np.roll(field, -1, -1)) / 5.0
    return field


def geo(ny, nx):
    lat = np.deg2rad(np.linspace(-90 + 90.0 / ny, 90 - 90.0 / ny, ny))[:, None]
    lon = np.deg2rad(np.linspace(0, 360, nx, endpoint=False))[None, :]
    return lat, lon


def monthly_field(site, what, nt, ny, nx, mean, amp, noise):
    """time x lat x lon: a latitude profile, a seasonal cycle opposite in the two
    hemispheres, a slow trend and smoothed noise; float32."""
    lat, lon = geo(ny, nx)
    profile = mean + amp * np.cos(lat) ** 2 + 0.05 * amp * np.sin(2 * lon)
    r = rng(site, what)
    out = np.empty((nt, ny, nx), dtype=np.float32)
    for k in range(nt):  # one step at a time: small peak memory
        season = 0.3 * amp * np.cos(2 * np.pi * (k % 12) / 12.0) * np.sin(lat)
        out[k] = profile + season + 0.002 * amp * k \
            + noise * smooth2(r.normal(0.0, 1.0, (ny, nx)), 2)
    return out


def land(site, ny, nx):
    lat, lon = geo(ny, nx)
    f = smooth2(rng("earth", "land").normal(0.0, 1.0, (ny, nx)), 6)
    return f + 0.2 * np.sin(3 * lon) > 0.0


# Each site: (file, dataset, policy, maker(site, s) -> array).  Policies are
# those of SPEC section 6 in their string form.
def catalogue():
    def t2m(site, s):
        return monthly_field(site, "t2m", s["nt"], s["ny"], s["nx"], 250.0, 40.0, 1.5)

    def precip(site, s):
        f = monthly_field(site, "precip", s["nt"], s["ny"], s["nx"], 0.5, 3.0, 1.0)
        return np.maximum(f, 0.0).astype(np.float32)

    def stations(site, s):
        r = rng(site, "stations")
        d = np.arange(s["nday"])[:, None]
        base = r.uniform(-50, 300, (1, s["nstn"]))        # tenths of a degree C
        cyc = 80 * np.cos(2 * np.pi * d / 365.0)
        return (base + cyc + r.normal(0, 25, (s["nday"], s["nstn"]))).astype(np.int32)

    def sst(site, s):
        f = monthly_field(site, "sst", s["nt"], s["ny"], s["nx"], 271.0, 30.0, 0.6)
        return np.where(land(site, s["ny"], s["nx"])[None], np.float32(0), f).astype(np.float32)

    def seamask(site, s):
        return (~land(site, s["ny"], s["nx"])).astype(np.uint8)

    def runoff(site, s):
        f = monthly_field(site, "runoff", s["nt"], s["ny"], s["nx"], 0.2, 1.5, 0.8)
        return np.maximum(f, 0.0).astype(np.float32)

    def soil(site, s):
        f = monthly_field(site, "soil", s["nt"], s["ny"], s["nx"], 0.15, 0.2, 0.05)
        return np.clip(f, 0.0, 0.6).astype(np.float32)

    def gauges(site, s):
        r = rng(site, "gauges")
        d = np.arange(s["nday"])[:, None]
        q = r.lognormal(3, 1, (1, s["ngauge"])) * (1.3 + np.sin(2 * np.pi * d / 365.0))
        return (q * r.lognormal(0, 0.3, (s["nday"], s["ngauge"]))).astype(np.float32)

    def ndvi(site, s):
        # MODIS-style NDVI: int16, scaled by 10000, at twice the grid's resolution.
        ny, nx = 2 * s["ny"], 2 * s["nx"]
        f = monthly_field(site, "ndvi", s["nt"], ny, nx, 0.1, 0.5, 0.08)
        return (np.clip(f, -0.2, 0.95) * 10000).astype(np.int16)

    def pga(site, s):
        # Peak ground acceleration (g) for 4 return periods (100..2475 years).
        f = np.abs(smooth2(rng(site, "pga").normal(0, 1, (s["ny"], s["nx"])), 4))
        return np.stack([f * k for k in (0.1, 0.2, 0.35, 0.5)]).astype(np.float32)

    def waveforms(site, s):
        # 24 broadband channels (8 stations x 3 components), 100 Hz, counts.
        r = rng(site, "bhz")
        t = np.arange(s["nsamp"])[None, :]
        sig = 2000 * np.sin(2 * np.pi * t / 700.0) * np.exp(-((t - s["nsamp"] // 2) / 4000.0) ** 2)
        return (sig + r.normal(0, 300, (24, s["nsamp"]))).astype(np.int32)

    def water(site, s):
        f = monthly_field(site, "water", s["nt"], s["ny"], s["nx"], 5.0, 20.0, 3.0)
        return np.maximum(f, 0.0).astype(np.float32)

    def cropland(site, s):
        f = smooth2(rng(site, "crop").uniform(0, 1, (s["ny"], s["nx"])), 4)
        return np.where(land(site, s["ny"], s["nx"]), f, 0.0).astype(np.float32)

    def population(site, s):
        # People per cell, 10 census years, at twice the grid's resolution.
        ny, nx = 2 * s["ny"], 2 * s["nx"]
        r = rng(site, "pop")
        dens = np.exp(3 * smooth2(r.normal(0, 1, (ny, nx)), 5)) * 400
        growth = 1.0 + 0.012 * np.arange(10)[:, None, None]
        return (dens[None] * growth).astype(np.float32)

    return {
        "meteo": [("reanalysis.h5", "t2m", "raw", t2m),
                  ("reanalysis.h5", "precip", "raw", precip),
                  ("stations.h5", "tmean", "regions=europe", stations)],
        "ocean": [("model.h5", "sst", "raw", sst),
                  ("masks.h5", "sea", "raw", seamask)],
        "hydro": [("routing.h5", "runoff", "regions=asia,europe", runoff),
                  ("landsurface.h5", "soilmoist", "raw", soil),
                  ("gauges.h5", "discharge", "none", gauges)],
        "earthobs": [("modis.h5", "ndvi", "raw", ndvi)],
        "seismo": [("hazard.h5", "pga", "raw", pga),
                   ("waveforms.h5", "bhz", "none", waveforms)],
        "agri": [("irrigation.h5", "water_use", "raw", water),
                 ("crops.h5", "cropland", "raw", cropland)],
        "census": [("grid.h5", "population", "aggregate=1x4x4", population)],
    }


def main():
    ap = argparse.ArgumentParser(description="write the seven-site demo's datasets")
    ap.add_argument("feddir", nargs="?", help="the federation directory (DIR of fedsched-local)")
    ap.add_argument("--size", choices=sorted(SIZES), default="full")
    ap.add_argument("--list", action="store_true", help="print the dataset lines only")
    a = ap.parse_args()
    if not a.list and not a.feddir:
        ap.error("FEDDIR is needed (or --list)")
    try:
        import h5py
    except ImportError:
        sys.exit("demo-data.py: needs python3-h5py (apt-get install python3-h5py)")
    s = SIZES[a.size]
    for site, items in catalogue().items():
        files = {}
        for fname, dset, policy, make in items:
            files.setdefault(fname, []).append((dset, policy, make))
        for fname, dsets in files.items():
            # A policy is set per file (fedsched publish SITE FILE --policy P).
            assert len({p for _, p, _ in dsets}) == 1, (site, fname)
            if not a.list:
                root = os.path.join(a.feddir, "sites", site, "data")
                os.makedirs(root, exist_ok=True)
                final = os.path.join(root, fname)
                # Written under a temporary name, then renamed: a worker
                # scanning the root never sees half a file.
                tmp = os.path.join(root, "." + fname + ".tmp")
                with h5py.File(tmp, "w") as h:
                    h.attrs["site"] = site
                    h.attrs["synthetic"] = "fedsched seven-site demo, cluster/demo-data.py"
                    for dset, policy, make in dsets:
                        arr = make(site, s)
                        h.create_dataset(dset, data=arr)
                os.replace(tmp, final)
            if a.list:
                for dset, policy, make in dsets:
                    arr = make(site, s)
                    print("dataset %s %s %s %s %s %d %s" % (
                        site, fname, dset, "x".join(map(str, arr.shape)), arr.dtype,
                        arr.nbytes, policy))
                continue
            with h5py.File(final, "r") as h:
                for dset, policy, make in dsets:
                    d = h[dset]
                    print("dataset %s %s %s %s %s %d %s" % (
                        site, fname, dset, "x".join(map(str, d.shape)), d.dtype,
                        d.size * d.dtype.itemsize, policy))


if __name__ == "__main__":
    main()
