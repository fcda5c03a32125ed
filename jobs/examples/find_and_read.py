#!/usr/bin/python3
"""Find data by what it is, inspect it, and read it with NumPy (docs/user-guide.md,
"From Python").

    cluster/fedsched-local up --dir /tmp/fed --sites 3 --data demo
    . /tmp/fed/env
    PYTHONPATH=python /usr/bin/python3 jobs/examples/find_and_read.py ["WORDS"]

Searches the federation's catalog (default: "air temperature"), shows what the
catalog knows of the best match, reads its first time steps into a NumPy array
at the site that holds them, a coarsened mean computed at the source, and (with
dask installed) a lazy array of the whole dataset.
"""
import sys

import numpy as np

import fedsched


def main():
    words = " ".join(sys.argv[1:]) or "air temperature"
    fs = fedsched.connect()                      # $FEDSCHED_SCHEDULER, $FEDSCHED_KEYS
    hits = fs.search(words, limit=5)
    if not hits:
        sys.exit("nothing in federation %s matches %r" % (fs.federation, words))
    print("search %r in federation %s:" % (words, fs.federation))
    for h in hits:
        print("  %6.2f  %-40s %-14s %s  (%s)" % (h["score"], h["name"], tuple(h["shape"]), h["dtype"],
                                                ", ".join(h["matched"][:3])))

    ds = fs[hits[0]["name"]]                     # what the catalog knows of it
    print("\n%s: %s %s, policy %s" % (ds.name, ds.shape, ds.dtype, ds.policy))
    for k in ("long_name", "standard_name", "units"):
        if k in ds.attrs:
            print("  %-14s %s" % (k, ds.attrs[k]))
    for d in ds.dim_info:
        span = "%s .. %s" % (d["first"], d["last"]) if "first" in d else ""
        print("  dimension %-8s %5d  %-16s %s" % (d.get("name", "-"), d["size"], d.get("units", ""), span))

    if ds.ndim == 0:
        print("\nvalue:", ds[()])
        return
    first = ds[0:min(3, ds.shape[0])]            # a numpy.ndarray, read at the source
    print("\nfirst %d steps: %s %s, mean %.3f, min %.3f, max %.3f"
          % (first.shape[0], first.shape, first.dtype, first.mean(), first.min(), first.max()))
    if ds.ndim >= 2 and all(n >= 4 for n in ds.shape[1:]):
        blocks = (1,) + (4,) * (ds.ndim - 1)
        coarse = ds.reduce("mean", blocks, key=np.s_[0:1])
        print("4x4 block means of step 0, computed where the data is: %s" % (coarse.shape,))
    try:
        lazy = ds.to_dask()
    except fedsched.Error as e:                  # dask is not installed
        print("(no dask: %s)" % e)
    else:
        print("lazy dask array %s in %d chunks; its mean: %.3f"
              % (lazy.shape, lazy.npartitions, float(lazy.mean().compute())))


if __name__ == "__main__":
    try:
        main()
    except fedsched.Error as e:
        sys.exit("find_and_read: %s" % e)
